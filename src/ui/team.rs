//! The Team tab (members, roles, invitations, the businesses the account belongs to) and the
//! page an invitation link opens. Every form works before the bundle has loaded; the server
//! checks every role again.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::auth::{follow_success, AuthCard};
use super::components::{percent_encode, CsrfField, FormError, TextField, When, BUTTON};
use crate::dto::team::{InvitationPreview, MemberView, Role, TeamView, INVITE_PAGE};
use crate::server_fns::team::{
    invitation, team, AcceptInvitation, ChangeRole, InviteMember, LeaveBusiness, RemoveMember,
    RevokeInvitation, SwitchBusiness,
};

const NOTICE: &str =
    "rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900";
const SELECT: &str = "rounded-md border border-slate-300 px-2 py-1 text-sm";
const SMALL: &str = "rounded-md border border-slate-300 px-2 py-1 text-sm";
const DANGER: &str = "rounded-md border border-red-300 px-2 py-1 text-sm text-red-700";

/// The roles `yours` may give: an owner any, an admin any but owner.
fn assignable(yours: Role) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| yours == Role::Owner || *r < Role::Owner)
        .collect()
}

fn role_options(roles: &[Role], selected: Role) -> impl IntoView {
    roles
        .iter()
        .map(|r| view! { <option value=r.as_str() selected=*r == selected>{r.as_str()}</option> })
        .collect_view()
}

#[component]
pub fn TeamTab() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(|| (), |_| team());
    let notice = move || {
        let text = match query.read().get("notice").as_deref() {
            Some("invited") => "Invitation sent. It works once, for 7 days.",
            Some("revoked") => "Invitation withdrawn: its link no longer works.",
            Some("role_changed") => "Role changed. It applies from the member's next click.",
            Some("removed") => "Member removed. They lost access at once.",
            Some("left") => "You left that business. This is your own.",
            Some("joined") => "Welcome to the team.",
            _ => return None,
        };
        Some(view! { <p id="team-notice" role="status" class=format!("mt-4 {NOTICE}")>{text}</p> })
    };
    view! {
        <Title text="Team · subgate"/>
        <section data-tab="Team" class="max-w-4xl">
            <h1 class="text-xl font-semibold">"Team"</h1>
            {notice}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(view) => view! { <TeamBody view=view/> }.into_any(),
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TeamBody(view: TeamView) -> impl IntoView {
    let yours = view.your_role;
    let manages = yours >= Role::Admin;
    let founder_here = view.members.iter().any(|m| m.you && m.founder);
    let invite = manages.then(|| view! { <InviteForm yours=yours/> });
    let invitations = (manages && !view.invitations.is_empty())
        .then(|| view! { <Invitations view=view.invitations.clone()/> });
    let leave = (!founder_here).then(|| view! { <LeaveForm business=view.business_name.clone()/> });
    view! {
        <p class="mt-2 text-sm text-slate-600">
            "Members of " <strong>{view.business_name.clone()}</strong> ". Your role: "
            <strong id="your-role">{yours.as_str()}</strong> " (" {yours.describe()} ")."
        </p>
        <Members members=view.members yours=yours/>
        {invite}
        {invitations}
        <Businesses view=view.businesses/>
        {leave}
    }
}

#[component]
fn Members(members: Vec<MemberView>, yours: Role) -> impl IntoView {
    let change = ServerAction::<ChangeRole>::new();
    let change_error = follow_success(change.value());
    let remove = ServerAction::<RemoveMember>::new();
    let remove_error = follow_success(remove.value());
    let rows = members
        .into_iter()
        .map(|m| {
            // an admin manages everyone below owner; an owner everyone; nobody the founder
            let manageable =
                yours >= Role::Admin && !m.founder && !m.you && (yours == Role::Owner || m.role < Role::Owner);
            let actions = if manageable {
                let roles = assignable(yours);
                let (id, id2) = (m.account_id.clone(), m.account_id.clone());
                let label = format!("Role of {}", m.email);
                view! {
                    <div class="flex flex-wrap gap-2">
                        <ActionForm action=change attr:class="flex gap-1">
                            <CsrfField/>
                            <input type="hidden" name="account_id" value=id/>
                            <select name="role" aria-label=label class=SELECT>{role_options(&roles, m.role)}</select>
                            <button type="submit" class=SMALL>"Change"</button>
                        </ActionForm>
                        <ActionForm action=remove>
                            <CsrfField/>
                            <input type="hidden" name="account_id" value=id2/>
                            <button type="submit" class=DANGER>"Remove"</button>
                        </ActionForm>
                    </div>
                }
                .into_any()
            } else if m.founder {
                view! { <span class="text-xs text-slate-600">"Opened the business"</span> }.into_any()
            } else {
                ().into_any()
            };
            let email = m.email.clone();
            view! {
                <tr data-member=email data-role=m.role.as_str() class="border-b align-top">
                    <td class="py-2 pr-3 break-all">{m.email}{m.you.then_some(" (you)")}</td>
                    <td class="py-2 pr-3">{m.role.as_str()}</td>
                    <td class="py-2 pr-3"><When at=m.joined_at/></td>
                    <td class="py-2">{actions}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="mt-4 overflow-x-auto" tabindex="0" role="region" aria-label="Members">
            <table id="members" class="w-full text-left text-sm">
                <thead><tr class="border-b"><th class="py-2 pr-3">"Member"</th><th class="py-2 pr-3">"Role"</th><th class="py-2 pr-3">"Joined"</th><th class="py-2"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <FormError error=change_error/>
        <FormError error=remove_error/>
    }
}

#[component]
fn InviteForm(yours: Role) -> impl IntoView {
    let action = ServerAction::<InviteMember>::new();
    let error = follow_success(action.value());
    let roles = assignable(yours);
    view! {
        <h2 class="mt-10 font-semibold">"Invite a member"</h2>
        <ActionForm action=action attr:id="invite-form" attr:class="mt-2 grid gap-3 sm:grid-cols-[1fr_auto_auto] sm:items-end">
            <CsrfField/>
            <TextField label="Email" name="email" kind="email" autocomplete="off" id="invite-email"/>
            <label class="block text-sm font-medium text-slate-700">"Role"
                <select name="role" id="invite-role" class=format!("mt-1 block {SELECT}")>{role_options(&roles, Role::Developer)}</select>
            </label>
            <button type="submit" class=BUTTON disabled=move || action.pending().get()>"Send invitation"</button>
        </ActionForm>
        <ul class="mt-2 text-xs text-slate-600">
            {Role::ALL.into_iter().map(|r| view! { <li><strong>{r.as_str()}</strong> ": " {r.describe()}</li> }).collect_view()}
        </ul>
        <FormError error=error/>
    }
}

#[component]
fn Invitations(view: Vec<crate::dto::team::InvitationView>) -> impl IntoView {
    let revoke = ServerAction::<RevokeInvitation>::new();
    let error = follow_success(revoke.value());
    let rows = view
        .into_iter()
        .map(|i| {
            let email = i.email.clone();
            view! {
                <tr data-invitation=email class="border-b align-top">
                    <td class="py-2 pr-3 break-all">{i.email}</td>
                    <td class="py-2 pr-3">{i.role.as_str()}</td>
                    <td class="py-2 pr-3 break-all">{i.invited_by.unwrap_or_default()}</td>
                    <td class="py-2 pr-3"><When at=i.expires_at/></td>
                    <td class="py-2">
                        <ActionForm action=revoke>
                            <CsrfField/>
                            <input type="hidden" name="id" value=i.id/>
                            <button type="submit" class=DANGER>"Withdraw"</button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2 class="mt-8 font-semibold">"Open invitations"</h2>
        <div class="overflow-x-auto" tabindex="0" role="region" aria-label="Open invitations">
            <table id="invitations" class="mt-2 w-full text-left text-sm">
                <thead><tr class="border-b"><th class="py-2 pr-3">"Address"</th><th class="py-2 pr-3">"Role"</th><th class="py-2 pr-3">"Invited by"</th><th class="py-2 pr-3">"Expires"</th><th class="py-2"><span class="sr-only">"Action"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <FormError error=error/>
    }
}

#[component]
fn Businesses(view: Vec<crate::dto::team::BusinessView>) -> impl IntoView {
    let switch = ServerAction::<SwitchBusiness>::new();
    let error = follow_success(switch.value());
    let several = view.len() > 1;
    let items = view
        .into_iter()
        .map(|b| {
            let action = if b.current {
                view! { <span class="text-sm text-emerald-700">"Shown now"</span> }.into_any()
            } else {
                view! {
                    <ActionForm action=switch>
                        <CsrfField/>
                        <input type="hidden" name="business_id" value=b.id.clone()/>
                        <button type="submit" class=SMALL>"Switch to it"</button>
                    </ActionForm>
                }
                .into_any()
            };
            let name = b.name.clone();
            view! {
                <li data-business=name class="flex flex-wrap items-center gap-3 py-1">
                    <span><strong>{b.name}</strong> " · " {b.role.as_str()}</span>
                    {action}
                </li>
            }
        })
        .collect_view();
    several.then(|| {
        view! {
            <h2 class="mt-10 font-semibold">"Your businesses"</h2>
            <ul id="businesses" class="mt-2">{items}</ul>
            <FormError error=error/>
        }
    })
}

#[component]
fn LeaveForm(business: String) -> impl IntoView {
    let leave = ServerAction::<LeaveBusiness>::new();
    let error = follow_success(leave.value());
    view! {
        <h2 class="mt-10 font-semibold">"Leave"</h2>
        <ActionForm action=leave attr:id="leave-form" attr:class="mt-2">
            <CsrfField/>
            <button type="submit" class=DANGER>"Leave " {business}</button>
        </ActionForm>
        <FormError error=error/>
    }
}

/// What an invitation link opens. Opening it changes nothing (a mail scanner cannot use it up);
/// the button does, for the account logged in with the invited address.
#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let data = Resource::new(token, invitation);
    view! {
        <AuthCard title="Join a team">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(preview) => view! { <Offer preview=preview token=token()/> }.into_any(),
                        Err(e) => view! { <p role="alert" id="invitation-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </AuthCard>
    }
}

#[component]
fn Offer(preview: InvitationPreview, token: String) -> impl IntoView {
    let accept = ServerAction::<AcceptInvitation>::new();
    let error = follow_success(accept.value());
    let here = format!("{INVITE_PAGE}?token={token}");
    let next = percent_encode(&here);
    let intro = view! {
        <p id="invitation" class="text-sm text-slate-700">
            <strong>{preview.business_name.clone()}</strong> " invites " <strong>{preview.email.clone()}</strong>
            " to its subgate dashboard as " <strong>{preview.role.as_str()}</strong> " (" {preview.role.describe()} ")."
        </p>
    };
    let next_step = match preview.logged_in_as {
        Some(ref you) if you.eq_ignore_ascii_case(&preview.email) => view! {
            <ActionForm action=accept attr:id="accept-form" attr:class="mt-4 space-y-4">
                <CsrfField/>
                <input type="hidden" name="token" value=token/>
                <FormError error=error/>
                <button type="submit" id="accept" class=BUTTON disabled=move || accept.pending().get()>"Join " {preview.business_name}</button>
            </ActionForm>
        }
        .into_any(),
        Some(you) => view! {
            <p role="alert" class="mt-4 text-sm text-red-700">"You are logged in as " {you} ". Log out, then open the link again and log in (or sign up) with " {preview.email} "."</p>
        }
        .into_any(),
        None => view! {
            <p class="mt-4 text-sm">"Log in or sign up with " <strong>{preview.email}</strong> ", then accept."</p>
            <div class="mt-4 flex gap-3">
                <a id="invite-login" class=BUTTON href=format!("/login?next={next}")>"Log in"</a>
                <a id="invite-signup" class="inline-flex rounded-md border border-slate-300 px-4 py-2 text-sm" href=format!("/signup?next={next}")>"Sign up"</a>
            </div>
        }
        .into_any(),
    };
    view! { {intro} {next_step} }
}
