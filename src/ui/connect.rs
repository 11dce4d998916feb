//! The Connect tab: connect the merchant's Stripe account through Stripe Connect OAuth, see
//! the connected account, revoke it. Says plainly when Stripe is simulated.

use leptos::prelude::*;
use leptos_meta::Title;

use super::auth::follow_success;
use super::components::{format_time, CsrfField, FormError, TypeToConfirm, BUTTON};
use crate::dto::payments::{ConnectionState, ConnectionView};
use crate::server_fns::connect::{
    connection_status, stripe_doctor, CreatePortalConfiguration, RevokeConnection, StartConnect,
};

#[component]
pub fn ConnectTab() -> impl IntoView {
    let start = ServerAction::<StartConnect>::new();
    let revoke = ServerAction::<RevokeConnection>::new();
    let start_error = follow_success(start.value());
    let revoke_error = follow_success(revoke.value());
    let status = Resource::new(|| (), |_| connection_status());
    // connecting, revoking and the doctor's fix are for admins and owners (the server refuses
    // the others); the rest of the team reads the connection
    let me = Resource::new(|| (), |_| crate::server_fns::auth::current_merchant());
    view! {
        <Title text="Connect · subgate"/>
        <section data-tab="Connect" class="max-w-3xl">
            <h1 class="text-xl font-semibold">"Connect"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "Authorize subgate on your Stripe account with Stripe Connect. subgate then reads your customers' subscriptions and opens customer-portal sessions on your account, with the platform key and your account id: it never stores a Stripe key of yours."
            </p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let role = me.await.ok().flatten().map(|m| m.role);
                    match status.await {
                        Ok(view) => view! {
                            <Status view=view start=start revoke=revoke role=role/>
                        }.into_any(),
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <FormError error=start_error/>
            <FormError error=revoke_error/>
        </section>
    }
}

#[component]
fn Status(
    view: ConnectionView,
    start: ServerAction<StartConnect>,
    revoke: ServerAction<RevokeConnection>,
    /// The member's role here (`None`: not known, shown as if allowed; the server decides).
    role: Option<crate::dto::team::Role>,
) -> impl IntoView {
    let below_admin = role.filter(|r| *r < crate::dto::team::Role::Admin);
    let simulated = view.simulated.then(|| view! {
        <p id="simulated-banner" class="mt-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
            <strong>"Stripe is simulated. "</strong>
            "No STRIPE_SECRET_KEY is configured, so subgate runs against its built-in Stripe simulator: connecting, customers, subscriptions, the customer portal and webhooks all work, and no real Stripe account is involved."
        </p>
    });
    let notice = view.notice.clone().map(|n| {
        let class = if n.ok {
            "mt-4 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900"
        } else {
            "mt-4 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800"
        };
        view! { <p id="connect-notice" role="status" data-ok=n.ok.to_string() class=class>{n.message}</p> }
    });
    let admins_only = move |what: &'static str| {
        below_admin.map(|role| view! {
            <p id="stripe-admins-only" class="mt-6 text-sm text-slate-600">"Your role in this business is " {role.as_str()} ": " {what} " needs admin or above."</p>
        })
    };
    let connect_button = move |label: &'static str| {
        if below_admin.is_some() {
            return admins_only("connecting Stripe").into_any();
        }
        view! {
            <ActionForm action=start attr:id="connect-form" attr:class="mt-6">
                <CsrfField/>
                <button type="submit" id="connect-stripe" class=BUTTON disabled=move || start.pending().get()>{label}</button>
            </ActionForm>
        }
        .into_any()
    };
    let body = match view.state {
        ConnectionState::NotConnected => view! {
            <p id="connection-state" data-state="not_connected" class="mt-6">"No Stripe account is connected yet."</p>
            {connect_button("Connect with Stripe")}
        }.into_any(),
        ConnectionState::Revoked => {
            let by = match view.revoked_by.as_deref() {
                Some("gateway") => "from your Stripe Dashboard",
                _ => "from this tab",
            };
            view! {
                <p id="connection-state" data-state="revoked" class="mt-6">
                    "Access to " <code>{view.account_id.clone().unwrap_or_default()}</code>
                    " was revoked " {by} " on " {view.revoked_at.map(format_time).unwrap_or_default()}
                    ". API calls that need Stripe answer 409 until you connect again."
                </p>
                {connect_button("Connect with Stripe again")}
            }.into_any()
        }
        ConnectionState::Connected => {
            // asked first: the typed account id
            let account = view.account_id.clone().unwrap_or_default();
            let revoke_form = match below_admin {
                Some(_) => admins_only("revoking access or applying a fix").into_any(),
                None => view! {
                <ActionForm action=revoke attr:id="revoke-form" attr:class="mt-6 rounded-md border border-red-200 p-3">
                    <CsrfField/>
                    <h2 class="font-semibold text-red-800">"Revoke access"</h2>
                    <p class="text-xs text-slate-500">"Every API call that needs Stripe answers 409 at once and subscribers cannot open the billing portal, until you connect again."</p>
                    <TypeToConfirm id="revoke-confirm" what="the account id" expected=account/>
                    <button type="submit" id="revoke" class="mt-2 rounded-md border border-red-400 px-3 py-1 text-sm text-red-700"
                            disabled=move || revoke.pending().get()>"Revoke access"</button>
                </ActionForm>
                }.into_any(),
            };
            view! {
                <ConnectedAccount view=view.clone()/>
                <Doctor fixes=below_admin.is_none()/>
                {revoke_form}
            }.into_any()
        }
    };
    view! { {simulated} {notice} {body} }
}

#[component]
fn ConnectedAccount(view: ConnectionView) -> impl IntoView {
    let row = "grid grid-cols-3 gap-4 border-b py-2 text-sm break-words *:min-w-0";
    let demo = (!view.demo_customers.is_empty()).then(|| {
        let first = view.demo_customers[0].id.clone();
        view! {
            <h2 class="mt-8 font-semibold">"Demo customers in the simulated account"</h2>
            <p class="text-sm text-slate-600">"Push one with the API (a bearer token from a confidential client of the OAuth tab), e.g. "
                <code class="break-all text-xs">{format!("{{\"subscriber_id\": \"42\", \"customer_id\": \"{first}\"}}")}</code> " to " <code>"POST /api/customers"</code> "."</p>
            <table id="demo-customers" class="mt-2 w-full break-all text-left text-sm">
                <thead><tr><th>"Customer id"</th><th>"Name"</th><th>"Email"</th></tr></thead>
                <tbody>
                    {view.demo_customers.iter().map(|c| view! {
                        <tr data-customer-id=c.id.clone()><td><code>{c.id.clone()}</code></td><td>{c.name.clone()}</td><td>{c.email.clone()}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    });
    view! {
        <dl id="connected-account" data-state="connected" class="mt-6">
            <div class=row><dt class="font-medium">"Account"</dt><dd class="col-span-2"><code id="account-id">{view.account_id.clone().unwrap_or_default()}</code></dd></div>
            <div class=row><dt class="font-medium">"Business name"</dt><dd class="col-span-2" id="account-business-name">{view.business_name.clone().unwrap_or_else(|| "—".into())}</dd></div>
            <div class=row><dt class="font-medium">"Mode"</dt><dd class="col-span-2" id="account-mode">{if view.livemode { "Live" } else { "Test" }}</dd></div>
            <div class=row><dt class="font-medium">"Connected since"</dt><dd class="col-span-2" id="connected-at">{view.connected_at.map(format_time).unwrap_or_default()}</dd></div>
            <div class=row><dt class="font-medium">"Last webhook received"</dt><dd class="col-span-2" id="last-webhook">{view.last_webhook_at.map(format_time).unwrap_or_else(|| "never".into())}</dd></div>
            <div class=row><dt class="font-medium">"Last event applied"</dt><dd class="col-span-2" id="last-event">{view.sync.last_event_at.map(format_time).unwrap_or_else(|| "none yet".into())}</dd></div>
            <div class=row><dt class="font-medium">"Last reconciled"</dt><dd class="col-span-2" id="last-reconcile">{view.sync.reconciled_at.map(format_time).unwrap_or_else(|| "not yet".into())}
                <span class="block text-xs text-slate-500" id="drift">{format!("{} missed change(s) found, {} repaired", view.sync.drift_found, view.sync.drift_repaired)}</span></dd></div>
            <div class=row><dt class="font-medium">"Stripe API version"</dt><dd class="col-span-2"><code id="api-version">{view.api_version.clone()}</code></dd></div>
            <div class=row><dt class="font-medium">"Customers pushed"</dt><dd class="col-span-2" id="customer-count">{view.customers}</dd></div>
            <div class=row><dt class="font-medium">"Webhook endpoint"</dt><dd class="col-span-2"><code id="webhook-url" class="text-xs">{view.webhook_url.clone()}</code>
                <span class="block text-xs text-slate-500">"Register it for Connect events in the Stripe Dashboard: account.application.deauthorized and customer.subscription.created, .updated, .deleted."</span></dd></div>
        </dl>
        {demo}
    }
}

/// `subgate doctor`'s checks for this merchant, with the fix they may apply themselves.
/// `fixes`: whether to offer the fixes (admins and owners apply them).
#[component]
fn Doctor(fixes: bool) -> impl IntoView {
    let fix = ServerAction::<CreatePortalConfiguration>::new();
    let fix_error = follow_success(fix.value());
    let checks = Resource::new(|| (), |_| stripe_doctor());
    view! {
        <h2 class="mt-8 font-semibold">"Setup check"</h2>
        <p class="text-sm text-slate-600">"What subgate needs of Stripe, checked now (the operator runs the same with " <code>"subgate doctor"</code> ")."</p>
        <Suspense fallback=|| view! { <p>"Checking…"</p> }>
            {move || Suspend::new(async move {
                match checks.await {
                    Ok(list) => view! {
                        <ul id="doctor" class="mt-2 space-y-1 text-sm">
                            {list.into_iter().map(|c| {
                                let mark = match c.status.as_str() { "ok" => "✓", "failed" => "✗", _ => "?" };
                                view! {
                                    <li data-check=c.id.clone() data-status=c.status.clone()>
                                        <span class="font-mono">{mark}</span> " " {c.message.clone()}
                                        {(c.fixable && fixes).then(|| view! {
                                            <ActionForm action=fix attr:class="inline">
                                                <CsrfField/>
                                                <button type="submit" id="create-portal-configuration" class="ml-2 rounded-md border px-2 text-xs">"Create a portal configuration"</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p id="doctor-error" role="alert" class="text-sm">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
        <FormError error=fix_error/>
    }
}
