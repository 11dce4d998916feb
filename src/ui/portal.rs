//! The hosted subscriber portal: the merchant's name, the subscriber's subscriptions, a
//! "Manage billing" button that opens the payment gateway's customer portal, and logout.
//! Plain forms, so it works before (or without) the browser bundle.

use leptos::prelude::*;
use leptos_meta::Title;

use super::auth::follow_success;
use super::components::{format_amount, format_date, CsrfField, FormError, BUTTON};
use crate::dto::payments::SubscriptionView;
use crate::dto::sso::PortalView;
use crate::server_fns::portal::{load_portal, OpenBilling, PortalLogout};

#[component]
pub fn PortalPage() -> impl IntoView {
    let view = Resource::new(|| (), |_| load_portal());
    view! {
        <Title text="Your subscriptions"/>
        <main class="mx-auto mt-10 max-w-3xl px-4">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(Some(v)) => view! { <Portal view=v/> }.into_any(),
                        Ok(None) => view! {
                            <div id="portal-signed-out" class="rounded-xl bg-white p-8 shadow">
                                <h1 class="text-2xl font-bold">"You are signed out"</h1>
                                <p class="mt-4 text-slate-700">"To see your subscriptions, go back to the store's website and open your subscription page from there."</p>
                            </div>
                        }.into_any(),
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn Portal(view: PortalView) -> impl IntoView {
    let billing = ServerAction::<OpenBilling>::new();
    let logout = ServerAction::<PortalLogout>::new();
    let billing_error = follow_success(billing.value());
    let logout_error = follow_success(logout.value());
    // the merchant's own subscriber id is theirs, never shown: the email, or nothing
    let who = view.email.clone().map(|email| {
        view! { <p class="text-sm text-slate-600">"Signed in as " <span id="portal-subscriber">{email}</span></p> }
    });
    let back = view.branding.store_url.clone().map(|url| {
        let label = format!("← Back to {}", view.business_name);
        view! { <a id="portal-back" href=url class="text-sm text-indigo-700 underline">{label}</a> }
    });
    let support = view.branding.support_email.clone().map(|email| {
        view! {
            <p id="portal-support" class="mt-6 text-sm text-slate-600">
                "Questions? Write to " <a href=format!("mailto:{email}") class="text-indigo-700 underline">{email.clone()}</a> "."
            </p>
        }
    });
    let has_subscriptions = !view.subscriptions.is_empty();
    view! {
        <div id="portal" class="rounded-xl bg-white p-8 shadow">
            <header class="flex items-start justify-between gap-4">
                <div>
                    {back}
                    <h1 id="portal-business" class="text-2xl font-bold">{view.business_name.clone()}</h1>
                    {who}
                </div>
                <ActionForm action=logout attr:id="portal-logout-form">
                    <CsrfField/>
                    <button type="submit" id="portal-logout" class="rounded-md border border-slate-300 px-3 py-1 text-sm">"Sign out"</button>
                </ActionForm>
            </header>
            <FormError error=logout_error/>
            <h2 class="mt-8 text-lg font-semibold">"Your subscriptions"</h2>
            {view.unavailable.clone().map(|m| view! { <p id="portal-unavailable" class="mt-2 text-slate-700">{m}</p> })}
            {(view.unavailable.is_none() && !has_subscriptions).then(|| view! {
                <p id="portal-empty" class="mt-2 text-slate-700">"You have no subscriptions."</p>
            })}
            <ul id="portal-subscriptions" class="mt-4 space-y-3">
                {view.subscriptions.into_iter().map(|s| view! { <SubscriptionCard s=s/> }).collect_view()}
            </ul>
            {view.unavailable.is_none().then(|| view! {
                <ActionForm action=billing attr:id="manage-billing-form" attr:class="mt-8">
                    <CsrfField/>
                    <button type="submit" id="manage-billing" class=BUTTON disabled=move || billing.pending().get()>
                        {move || if billing.pending().get() { "Opening…" } else { "Manage billing" }}
                    </button>
                    <p class="mt-2 text-xs text-slate-500">"Change your plan, payment method or cancel, on the store's secure billing page."</p>
                </ActionForm>
            })}
            <FormError error=billing_error/>
            {support}
        </div>
    }
}

#[component]
fn SubscriptionCard(s: SubscriptionView) -> impl IntoView {
    let when = s
        .next_date()
        .map(|d| format!("{} {}", d.label(), format_date(d.at())))
        .unwrap_or_default();
    let trial = s
        .trial_until()
        .map(|t| format!("Trial until {}", format_date(t)));
    view! {
        <li class="rounded-md border border-slate-200 p-4" data-subscription-id=s.id.clone() data-status=s.status.as_str()>
            {s.items.iter().map(|i| {
                let every = i.every();
                view! {
                    <div class="flex items-baseline justify-between gap-4">
                        <span class="font-medium" data-role="product">{i.product()}</span>
                        <span data-role="price">{format!("{}{every}", format_amount(i.unit_amount, &i.currency))}</span>
                    </div>
                }
            }).collect_view()}
            <div class="mt-1 flex gap-4 text-sm text-slate-600">
                <span data-role="status" class="capitalize">{s.status.as_str().replace('_', " ")}</span>
                <span data-role="renewal">{when}</span>
                {trial.map(|t| view! { <span data-role="trial">{t}</span> })}
            </div>
        </li>
    }
}
