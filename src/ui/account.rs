//! The account's pages: the Account tab (address, password, sessions, audit log) and the pages
//! the mailed links open (verify the address, reset the password, confirm a new address), plus
//! "forgot password". Each works as a plain form before the bundle has loaded.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::auth::{follow_success, AuthCard};
use super::components::{
    format_time, CsrfField, FormError, PasskeyButton, TextField, When, BUTTON,
};
use crate::dto::account::TwoFactorView;
use crate::dto::account::{AccountView, AUDIT_FILTERS};
use crate::dto::PasswordRules;
use crate::server_fns::account::{
    account, BeginTwoFactor, ChangeEmail, ChangePassword, ConfirmEmail, ConfirmIdentity,
    DisableTwoFactor, EnableTwoFactor, EndSessions, ForgotPassword, ResendVerification,
    ResetPassword, VerifyEmail, RESET_REQUESTED,
};
use crate::server_fns::auth::LoginTwoFactor;
use crate::server_fns::passkeys::RemovePasskey;

const NOTICE: &str =
    "rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900";
const WARNING: &str =
    "rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900";

/// The `token` of the page's address (a mailed link's).
fn token() -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let query = use_query_map();
    move || query.read().get("token").unwrap_or_default()
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    let error = follow_success(action.value());
    let query = use_query_map();
    let sent = move || query.read().get("sent").is_some();
    view! {
        <AuthCard title="Reset your password">
            <Show when=sent>
                <p id="reset-requested" role="status" class=format!("mb-4 {NOTICE}")>{RESET_REQUESTED}</p>
            </Show>
            <ActionForm action=action attr:class="space-y-4" attr:id="forgot-form">
                <CsrfField/>
                <p class="text-sm text-slate-600">"Enter the address you signed up with; we will mail it a link to choose a new password."</p>
                <TextField label="Email" name="email" kind="email" autocomplete="username"/>
                <FormError error=error/>
                <button type="submit" class=BUTTON disabled=move || action.pending().get()>"Send the link"</button>
            </ActionForm>
            <p class="mt-6 text-sm"><a class="text-indigo-600 underline" href="/login">"Back to log in"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let error = follow_success(action.value());
    let token = token();
    view! {
        <AuthCard title="Choose a new password">
            <ActionForm action=action attr:class="space-y-4" attr:id="reset-form">
                <CsrfField/>
                <input type="hidden" name="token" value=token/>
                <p class="text-sm text-slate-600">"Every session of your account will be logged out."</p>
                <TextField label="New password" name="password" kind="password" autocomplete="new-password" maxlength=PasswordRules::MAX_LEN/>
                <FormError error=error/>
                <button type="submit" class=BUTTON disabled=move || action.pending().get()>"Set the new password"</button>
            </ActionForm>
        </AuthCard>
    }
}

/// Opening a mailed link changes nothing: a mail scanner that follows links cannot use it up.
/// The button does.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let action = ServerAction::<VerifyEmail>::new();
    let error = follow_success(action.value());
    let token = token();
    view! {
        <AuthCard title="Verify your email address">
            <ActionForm action=action attr:class="space-y-4" attr:id="verify-form">
                <CsrfField/>
                <input type="hidden" name="token" value=token/>
                <p class="text-sm text-slate-600">"Confirm that this address is yours. Then you can connect Stripe and turn on SSO."</p>
                <FormError error=error/>
                <button type="submit" id="verify" class=BUTTON disabled=move || action.pending().get()>"Confirm my address"</button>
            </ActionForm>
        </AuthCard>
    }
}

#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let action = ServerAction::<ConfirmEmail>::new();
    let error = follow_success(action.value());
    let token = token();
    view! {
        <AuthCard title="Confirm your new address">
            <ActionForm action=action attr:class="space-y-4" attr:id="confirm-email-form">
                <CsrfField/>
                <input type="hidden" name="token" value=token/>
                <p class="text-sm text-slate-600">"Your subgate account will sign in with this address from now on."</p>
                <FormError error=error/>
                <button type="submit" id="confirm-email" class=BUTTON disabled=move || action.pending().get()>"Use this address"</button>
            </ActionForm>
        </AuthCard>
    }
}

#[component]
pub fn AccountTab() -> impl IntoView {
    let query = use_query_map();
    let filter = move || query.read().get("action");
    let data = Resource::new(filter, account);
    let notice = move || {
        let text = match query.read().get("notice").as_deref() {
            Some("verified") => "Your email address is verified.",
            Some("resent") => "We have sent you a new verification link.",
            Some("password_changed") => "Password changed. Your other sessions were logged out.",
            Some("email_requested") => "Open the link we sent to the new address to finish; until then you sign in with the current one.",
            Some("email_changed") => "Your account now uses its new address.",
            Some("totp_scan") => "Scan the QR code with your authenticator app, then enter the code it shows.",
            Some("totp_on") => "Two-factor authentication is on. Keep your recovery codes somewhere safe.",
            Some("totp_off") => "Two-factor authentication is off.",
            Some("confirmed") => "Thank you. For the next 5 minutes you can reveal and rotate secrets and revoke Stripe.",
            Some("passkey_added") => "Passkey added. You can log in with it instead of your password.",
            Some("passkey_removed") => "Passkey removed.",
            _ => return None,
        };
        Some(
            view! { <p id="account-notice" role="status" class=format!("mt-4 {NOTICE}")>{text}</p> },
        )
    };
    view! {
        <Title text="Account · subgate"/>
        <section data-tab="Account" class="max-w-4xl">
            <h1 class="text-xl font-semibold">"Account"</h1>
            {notice}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(view) => view! { <AccountBody view=view/> }.into_any(),
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AccountBody(view: AccountView) -> impl IntoView {
    let resend = ServerAction::<ResendVerification>::new();
    let resend_error = follow_success(resend.value());
    let unverified = (!view.merchant.email_verified).then(|| view! {
        <div id="unverified" class=format!("mt-4 {WARNING}")>
            <p>"Your address " <strong>{view.merchant.email.clone()}</strong> " is not verified yet: open the link we mailed you. Until then you cannot connect Stripe or turn on SSO."</p>
            <ActionForm action=resend attr:class="mt-2">
                <CsrfField/>
                <button type="submit" id="resend-verification" class="rounded-md border border-amber-400 px-3 py-1 text-sm" disabled=move || resend.pending().get()>"Send the link again"</button>
            </ActionForm>
            <FormError error=resend_error/>
        </div>
    });
    // the business's log, for its admins and owners
    let audit = (view.merchant.role >= crate::dto::team::Role::Admin)
        .then(|| view! { <AuditLog view=view.audit filter=view.action_filter/> });
    view! {
        {unverified}
        <ConfirmIdentityForm/>
        <div class="mt-6 grid gap-6 md:grid-cols-2">
            <PasswordForm/>
            <EmailForm current=view.merchant.email.clone()/>
        </div>
        <TwoFactor view=view.two_factor/>
        <Passkeys view=view.passkeys/>
        <Sessions sessions=view.sessions/>
        {audit}
    }
}

#[component]
fn TwoFactor(view: TwoFactorView) -> impl IntoView {
    let begin = ServerAction::<BeginTwoFactor>::new();
    let enable = ServerAction::<EnableTwoFactor>::new();
    let disable = ServerAction::<DisableTwoFactor>::new();
    let begin_error = follow_success(begin.value());
    let enable_error = follow_success(enable.value());
    let disable_error = follow_success(disable.value());
    let fresh = (!view.fresh_codes.is_empty()).then(|| {
        let codes = view
            .fresh_codes
            .iter()
            .map(|c| view! { <li class="font-mono">{c.clone()}</li> })
            .collect_view();
        view! {
            <div class=format!("mt-3 {WARNING}")>
                <p>"Your recovery codes. Each works once, instead of a code from the app. They are shown only now: save them in a password manager or print them."</p>
                <ul id="recovery-codes" class="mt-2 grid grid-cols-2 gap-1 sm:grid-cols-5">{codes}</ul>
            </div>
        }
    });
    let body = if view.on {
        view! {
            <p id="two-factor-state" data-on="true" class="mt-1 text-sm">"On: logging in asks for a code from your authenticator app. Recovery codes left: " <span id="recovery-codes-left">{view.recovery_codes_left}</span>"."</p>
            {fresh}
            <ActionForm action=disable attr:id="disable-two-factor" attr:class="mt-3 space-y-3">
                <CsrfField/>
                <TextField label="Current password" name="current_password" id="two-factor-password" kind="password" autocomplete="current-password" maxlength=PasswordRules::MAX_LEN/>
                <TextField label="Code from your app (or a recovery code)" name="code" id="two-factor-code" autocomplete="one-time-code" maxlength=16/>
                <FormError error=disable_error/>
                <button type="submit" class="rounded-md border border-red-300 px-3 py-1 text-sm text-red-700" disabled=move || disable.pending().get()>"Turn off two-factor"</button>
            </ActionForm>
        }
        .into_any()
    } else if let Some(setup) = view.setup {
        view! {
            <p id="two-factor-state" data-on="false" class="mt-1 text-sm">"Scan this with an authenticator app (1Password, Google Authenticator, Aegis…), or type the key."</p>
            <img id="totp-qr" src=setup.qr alt="QR code of your two-factor key" width="200" height="200" class="mt-3 rounded bg-white p-2"/>
            <p class="mt-2 text-sm">"Key: " <code id="totp-secret" class="break-all">{setup.secret}</code></p>
            <ActionForm action=enable attr:id="enable-two-factor" attr:class="mt-3 space-y-3">
                <CsrfField/>
                <TextField label="Code from your app" name="code" id="two-factor-code" autocomplete="one-time-code" maxlength=16/>
                <FormError error=enable_error/>
                <button type="submit" class=BUTTON disabled=move || enable.pending().get()>"Turn on two-factor"</button>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <p id="two-factor-state" data-on="false" class="mt-1 text-sm">"Off. With it on, logging in also asks for a code from an app on your phone: a stolen password alone no longer opens this account."</p>
            <ActionForm action=begin attr:id="begin-two-factor" attr:class="mt-3 space-y-3">
                <CsrfField/>
                <TextField label="Current password" name="current_password" id="two-factor-password" kind="password" autocomplete="current-password" maxlength=PasswordRules::MAX_LEN/>
                <FormError error=begin_error/>
                <button type="submit" class=BUTTON disabled=move || begin.pending().get()>"Set up two-factor"</button>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <section id="two-factor" class="mt-6 rounded-md border border-slate-200 p-4">
            <h2 class="font-semibold">"Two-factor authentication"</h2>
            {body}
        </section>
    }
}

/// The account's passkeys: the list, removal, and adding one on this device.
#[component]
fn Passkeys(view: crate::dto::account::PasskeysView) -> impl IntoView {
    let remove = ServerAction::<RemovePasskey>::new();
    let remove_error = follow_success(remove.value());
    let rows = view
        .list
        .into_iter()
        .map(|p| {
            let id = p.id.clone();
            view! {
                <li data-passkey-id=p.id.clone() class="flex flex-wrap items-center justify-between gap-2 border-b py-2 text-sm">
                    <span>
                        <strong class="passkey-name">{p.name}</strong>
                        " · added " {format_time(p.created_at)}
                        " · last used " {p.last_used_at.map(format_time).unwrap_or_else(|| "never".into())}
                    </span>
                    <ActionForm action=remove>
                        <CsrfField/>
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="rounded-md border border-red-300 px-2 py-1 text-sm text-red-700">"Remove"</button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
    let add = match view.origin {
        Ok(_) => view! {
            <div class="mt-3 max-w-md">
                <PasskeyButton ceremony="register" id="add-passkey" label="Add a passkey on this device">
                    <TextField label="Name (which device or password manager)" name="passkey_name" id="passkey-name" maxlength=60/>
                </PasskeyButton>
                <noscript><p class="text-sm text-slate-600">"Adding a passkey needs JavaScript."</p></noscript>
            </div>
        }
        .into_any(),
        Err(why) => view! { <p id="passkeys-off" class="mt-2 text-sm text-slate-600">{why}</p> }.into_any(),
    };
    view! {
        <section id="passkeys" class="mt-6 rounded-md border border-slate-200 p-4">
            <h2 class="font-semibold">"Passkeys"</h2>
            <p class="mt-1 text-sm text-slate-600">"Log in with your device's screen lock or a security key instead of a password, or use one instead of the two-factor code. Adding or removing one needs a login or confirmation from the last 5 minutes."</p>
            <ul id="passkey-list" class="mt-2">{rows}</ul>
            <FormError error=remove_error/>
            {add}
        </section>
    }
}

/// The login's second step.
#[component]
pub fn TwoFactorLoginPage() -> impl IntoView {
    let action = ServerAction::<LoginTwoFactor>::new();
    let error = follow_success(action.value());
    view! {
        <AuthCard title="Two-factor code">
            <ActionForm action=action attr:class="space-y-4" attr:id="two-factor-form">
                <CsrfField/>
                <p class="text-sm text-slate-600">"Enter the code your authenticator app shows, or one of your recovery codes."</p>
                <TextField label="Code" name="code" autocomplete="one-time-code" maxlength=16/>
                <FormError error=error/>
                <button type="submit" class=BUTTON disabled=move || action.pending().get()>"Log in"</button>
            </ActionForm>
            <div class="mt-4"><PasskeyButton ceremony="check" id="passkey-second-factor" label="Use a passkey instead"/></div>
            <p class="mt-6 text-sm"><a class="text-indigo-600 underline" href="/login">"Start again"</a></p>
        </AuthCard>
    }
}

/// Revealing or rotating a secret and revoking Stripe need a login from the last five minutes;
/// this renews it.
#[component]
fn ConfirmIdentityForm() -> impl IntoView {
    let action = ServerAction::<ConfirmIdentity>::new();
    let error = follow_success(action.value());
    view! {
        <ActionForm action=action attr:id="confirm-identity" attr:class="mt-6 flex flex-wrap items-end gap-3 rounded-md border border-slate-200 p-4">
            <div class="min-w-64 flex-1">
                <h2 class="font-semibold">"Confirm it is you"</h2>
                <p class="text-sm text-slate-600">"Revealing or rotating the SSO secret, regenerating a client secret and revoking Stripe need your password from the last 5 minutes."</p>
                <CsrfField/>
                <TextField label="Password" name="password" id="confirm-identity-password" kind="password" autocomplete="current-password" maxlength=PasswordRules::MAX_LEN/>
            </div>
            <button type="submit" class=BUTTON disabled=move || action.pending().get()>"Confirm"</button>
            <FormError error=error/>
        </ActionForm>
        <div class="mt-2 max-w-xs"><PasskeyButton ceremony="check" id="confirm-with-passkey" label="Confirm with a passkey"/></div>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let error = follow_success(action.value());
    view! {
        <ActionForm action=action attr:id="change-password-form" attr:class="space-y-3 rounded-md border border-slate-200 p-4">
            <h2 class="font-semibold">"Change password"</h2>
            <CsrfField/>
            <TextField label="Current password" name="current_password" id="password-current" kind="password" autocomplete="current-password" maxlength=PasswordRules::MAX_LEN/>
            <TextField label="New password" name="new_password" kind="password" autocomplete="new-password" maxlength=PasswordRules::MAX_LEN/>
            <FormError error=error/>
            <button type="submit" class=BUTTON disabled=move || action.pending().get()>"Change password"</button>
        </ActionForm>
    }
}

#[component]
fn EmailForm(current: String) -> impl IntoView {
    let action = ServerAction::<ChangeEmail>::new();
    let error = follow_success(action.value());
    view! {
        <ActionForm action=action attr:id="change-email-form" attr:class="space-y-3 rounded-md border border-slate-200 p-4">
            <h2 class="font-semibold">"Change email"</h2>
            <p class="text-sm text-slate-600">"Now: " <span id="current-email" class="break-all">{current}</span>". The new address gets a link to confirm; the current one is told."</p>
            <CsrfField/>
            <TextField label="New email" name="new_email" kind="email" autocomplete="email"/>
            <TextField label="Current password" name="current_password" id="email-current-password" kind="password" autocomplete="current-password" maxlength=PasswordRules::MAX_LEN/>
            <FormError error=error/>
            <button type="submit" class=BUTTON disabled=move || action.pending().get()>"Change email"</button>
        </ActionForm>
    }
}

#[component]
fn Sessions(sessions: Vec<crate::dto::account::SessionView>) -> impl IntoView {
    let end = ServerAction::<EndSessions>::new();
    let error = follow_success(end.value());
    let others = sessions.iter().filter(|s| !s.current).count();
    let rows = sessions
        .into_iter()
        .map(|s| {
            let handle = s.handle.clone();
            let action = if s.current {
                view! { <span class="text-sm text-emerald-700">"This session"</span> }.into_any()
            } else {
                view! {
                    <ActionForm action=end>
                        <CsrfField/>
                        <input type="hidden" name="handle" value=handle/>
                        <button type="submit" class="rounded-md border border-red-300 px-2 py-1 text-sm text-red-700">"Log out"</button>
                    </ActionForm>
                }
                .into_any()
            };
            view! {
                <tr data-session=s.handle.clone() data-current=s.current.to_string() class="border-b align-top">
                    <td class="py-2 pr-3 break-words">{s.user_agent}</td>
                    <td class="py-2 pr-3">{s.ip}</td>
                    <td class="py-2 pr-3">{s.last_seen.map(format_time).unwrap_or_default()}</td>
                    <td class="py-2">{action}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2 class="mt-10 font-semibold">"Sessions"</h2>
        <p class="text-sm text-slate-600">"Every browser logged in to this account. Log out any you do not recognise, then change your password."</p>
        <div class="overflow-x-auto" tabindex="0" role="region" aria-label="Sessions">
            <table id="sessions" class="mt-2 w-full text-left text-sm">
                <thead><tr class="border-b"><th class="py-2 pr-3">"Device"</th><th class="py-2 pr-3">"IP"</th><th class="py-2 pr-3">"Last seen"</th><th class="py-2"><span class="sr-only">"Action"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <Show when=move || { others > 0 }>
            <ActionForm action=end attr:id="end-other-sessions" attr:class="mt-3">
                <CsrfField/>
                <button type="submit" class="rounded-md border border-red-300 px-3 py-1 text-sm text-red-700">"Log out everywhere else"</button>
            </ActionForm>
        </Show>
        <FormError error=error/>
    }
}

#[component]
fn AuditLog(view: Vec<crate::dto::account::AuditView>, filter: String) -> impl IntoView {
    let csv = format!(
        "/dashboard/account/audit.csv?action={}",
        query_safe(&filter)
    );
    let options = AUDIT_FILTERS
        .iter()
        .map(|(prefix, label)| {
            view! { <option value={*prefix} selected={*prefix == filter.as_str()}>{*label}</option> }
        })
        .collect_view();
    let rows = view
        .into_iter()
        .map(|r| {
            let action = r.action.clone();
            view! {
                <tr data-action=action class="border-b align-top">
                    <td class="py-2 pr-3 whitespace-nowrap"><When at=r.at/></td>
                    <td class="py-2 pr-3"><code>{r.action}</code></td>
                    <td class="py-2 pr-3 break-all">{r.actor.unwrap_or_else(|| "(by mailed link)".into())}{r.role.map(|role| format!(" ({role})"))}</td>
                    <td class="py-2 pr-3 break-all">{r.target.unwrap_or_default()}</td>
                    <td class="py-2 pr-3">{r.ip.unwrap_or_default()}</td>
                    <td class="py-2 break-words text-xs text-slate-600">{r.user_agent.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2 class="mt-10 font-semibold">"Audit log"</h2>
        <p class="text-sm text-slate-600">"Security-relevant actions in this business and on your account, kept for a year. The newest 100 are shown; the CSV has them all."</p>
        <form method="get" action="/dashboard/account" class="mt-2 flex flex-wrap items-end gap-2">
            <label class="text-sm">"Show "
                <select name="action" id="audit-filter" class="ml-1 rounded-md border border-slate-300 px-2 py-1">{options}</select>
            </label>
            <button type="submit" class="rounded-md border border-slate-300 px-3 py-1 text-sm">"Filter"</button>
            <a id="audit-csv" href=csv class="text-sm text-indigo-600 underline" rel="external">"Download CSV"</a>
        </form>
        <div class="overflow-x-auto" tabindex="0" role="region" aria-label="Audit log">
            <table id="audit-log" class="mt-2 w-full text-left text-sm">
                <thead><tr class="border-b"><th class="py-2 pr-3">"When"</th><th class="py-2 pr-3">"Action"</th><th class="py-2 pr-3">"By"</th><th class="py-2 pr-3">"Target"</th><th class="py-2 pr-3">"IP"</th><th class="py-2">"Device"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// A filter prefix in a query string (they are ASCII letters, dots and nothing else).
fn query_safe(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
        .collect()
}
