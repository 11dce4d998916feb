//! The hosted subscriber portal: the merchant's name, the subscriber's subscriptions, a
//! "Manage billing" button that opens the payment gateway's customer portal, and logout.
//! Plain forms, so it works before (or without) the browser bundle.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::auth::follow_success;
use super::components::{format_amount, format_date, CsrfField, FormError};
use crate::dto::payments::SubscriptionView;
use crate::dto::sso::{is_hex_colour, PortalBranding, PortalView};
use crate::server_fns::portal::{load_portal, portal_store, OpenBilling, PortalLogout};

/// The portal's main button, in the merchant's accent colour (indigo until they choose one).
const ACCENT_BUTTON: &str = "inline-flex justify-center rounded-md px-4 py-2 text-sm font-semibold shadow-sm surface-accent disabled:opacity-50";

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
                        Ok(None) => view! { <SignedOut/> }.into_any(),
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

/// The merchant's accent as CSS variables, in a `<style>` the page's nonce allows (the value
/// is `#rrggbb`, checked when it was saved), and their logo's origin added to the page's
/// `img-src`.
#[component]
fn Theme(branding: PortalBranding) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::app::set_content_security_policy(
        branding
            .logo_url
            .as_deref()
            .and_then(crate::portal::image_origin)
            .as_deref(),
    );
    let css = branding
        .accent
        .zip(branding.on_accent)
        .filter(|(a, o)| is_hex_colour(a) && is_hex_colour(o))
        .map(|(accent, on)| format!(":root{{--accent:{accent};--on-accent:{on}}}"));
    css.map(|css| view! { <style nonce=leptos::nonce::use_nonce()>{css}</style> })
}

/// The merchant's logo (with their name as its text), if they set one.
fn logo(branding: &PortalBranding, business_name: &str) -> Option<impl IntoView> {
    branding.logo_url.clone().map(|src| {
        view! {
            <img id="portal-logo" src=src alt=format!("{business_name} logo") referrerpolicy="no-referrer"
                 class="mb-3 h-10 w-auto max-w-full"/>
        }
    })
}

/// The portal without a session: signed out (or never signed in). After signing out the
/// address names the store (`?store=`), so the page still shows whose it is and the way back.
#[component]
fn SignedOut() -> impl IntoView {
    let store = use_query_map().with_untracked(|q| q.get("store"));
    let face = Resource::new(move || store.clone(), portal_store);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let face = face.await.ok().flatten();
                let heading = match &face {
                    Some(f) => format!("You are signed out of {}", f.business_name),
                    None => "You are signed out".to_string(),
                };
                let (theme, logo, back, support) = match face {
                    Some(f) => (
                        Some(view! { <Theme branding=f.branding.clone()/> }),
                        logo(&f.branding, &f.business_name),
                        back_link(&f.branding, &f.business_name),
                        support_line(&f.branding),
                    ),
                    None => (None, None, None, None),
                };
                view! {
                    {theme}
                    <div id="portal-signed-out" class="rounded-xl border-t-4 border-accent bg-white p-8 shadow">
                        {logo}
                        <h1 class="text-2xl font-bold">{heading}</h1>
                        <p class="mt-4 text-slate-700">"To see your subscriptions again, go back to the store's website and open your subscription page from there."</p>
                        <p class="mt-4">{back}</p>
                        {support}
                    </div>
                }
            })}
        </Suspense>
    }
}

fn back_link(branding: &PortalBranding, business_name: &str) -> Option<impl IntoView> {
    branding.store_url.clone().map(|url| {
        let label = format!("← Back to {business_name}");
        view! { <a id="portal-back" href=url class="text-sm text-indigo-700 underline">{label}</a> }
    })
}

fn support_line(branding: &PortalBranding) -> Option<impl IntoView> {
    branding.support_email.clone().map(|email| {
        view! {
            <p id="portal-support" class="mt-6 text-sm text-slate-600">
                "Questions? Write to " <a href=format!("mailto:{email}") class="text-indigo-700 underline">{email.clone()}</a> "."
            </p>
        }
    })
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
    let back = back_link(&view.branding, &view.business_name);
    let support = support_line(&view.branding);
    let logo = logo(&view.branding, &view.business_name);
    let has_subscriptions = !view.subscriptions.is_empty();
    // in the browser, once the page is live: amounts and days in the subscriber's language
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        localize();
    });
    view! {
        <Theme branding=view.branding.clone()/>
        <div id="portal" class="rounded-xl border-t-4 border-accent bg-white p-8 shadow">
            <header class="flex items-start justify-between gap-4">
                <div>
                    {logo}
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
                    <button type="submit" id="manage-billing" class=ACCENT_BUTTON disabled=move || billing.pending().get()>
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
    let when = s.next_date().map(|d| {
        view! { {d.label()} " " <Day secs=d.at()/> }
    });
    let trial = s
        .trial_until()
        .map(|t| view! { <span data-role="trial">"Trial until " <Day secs=t/></span> });
    view! {
        <li class="rounded-md border border-slate-200 p-4" data-subscription-id=s.id.clone() data-status=s.status.as_str()>
            {s.items.iter().map(|i| {
                let every = i.every();
                let amount = i.unit_amount.map(|a| a.to_string());
                view! {
                    <div class="flex items-baseline justify-between gap-4">
                        <span class="font-medium" data-role="product">{i.product()}</span>
                        <span data-role="price"><span data-money=amount data-currency=i.currency.clone()>{format_amount(i.unit_amount, &i.currency)}</span>{every}</span>
                    </div>
                }
            }).collect_view()}
            <div class="mt-1 flex flex-wrap gap-x-4 text-sm text-slate-600">
                <span data-role="status" class="capitalize">{s.status.as_str().replace('_', " ")}</span>
                <span data-role="renewal">{when}</span>
                {trial}
            </div>
        </li>
    }
}

/// A day (UTC), as an ISO date from the server; the browser rewrites it in its own language.
#[component]
fn Day(secs: i64) -> impl IntoView {
    let day = format_date(secs);
    view! { <time datetime=day.clone() data-date=secs.to_string()>{day.clone()}</time> }
}

/// Once hydrated, amounts and days in the subscriber's own language, by the browser's `Intl`
/// (CLDR's rules: "20,00 $" in German, "$20.00" in American English, "3. Dezember 2026"); the
/// server's "20.00 USD" and ISO dates stay for a browser without the bundle. Marks the portal
/// `data-localized` when done.
#[cfg(feature = "hydrate")]
fn localize() {
    use wasm_bindgen::{JsCast, JsValue};
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let get = |target: &JsValue, key: &str| js_sys::Reflect::get(target, &JsValue::from_str(key));
    // `new Intl.<ctor>(undefined, options).format`, bound to its formatter
    let formatter = |ctor: &str, options: &[(&str, &str)]| -> Option<js_sys::Function> {
        let ctor: js_sys::Function = get(&get(&js_sys::global(), "Intl").ok()?, ctor)
            .ok()?
            .dyn_into()
            .ok()?;
        let opts = js_sys::Object::new();
        for (k, v) in options {
            js_sys::Reflect::set(&opts, &JsValue::from_str(k), &JsValue::from_str(v)).ok()?;
        }
        let args = js_sys::Array::of2(&JsValue::UNDEFINED, &opts);
        let instance = js_sys::Reflect::construct(&ctor, &args).ok()?;
        get(&instance, "format").ok()?.dyn_into().ok()
    };
    let each = |selector: &str, f: &dyn Fn(&web_sys::Element) -> Option<String>| {
        let Ok(nodes) = doc.query_selector_all(selector) else {
            return;
        };
        for i in 0..nodes.length() {
            if let Some(el) = nodes
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                if let Some(text) = f(&el) {
                    el.set_text_content(Some(&text));
                }
            }
        }
    };
    each("#portal [data-money]", &|el| {
        let minor: f64 = el.get_attribute("data-money")?.parse().ok()?;
        let currency = el.get_attribute("data-currency")?.to_uppercase();
        let format = formatter(
            "NumberFormat",
            &[("style", "currency"), ("currency", &currency)],
        )?;
        let major = if crate::dto::payments::is_zero_decimal(&currency) {
            minor
        } else {
            minor / 100.0
        };
        format
            .call1(&JsValue::NULL, &JsValue::from_f64(major))
            .ok()?
            .as_string()
    });
    let days = formatter(
        "DateTimeFormat",
        &[("dateStyle", "long"), ("timeZone", "UTC")],
    );
    each("#portal [data-date]", &|el| {
        let secs: f64 = el.get_attribute("data-date")?.parse().ok()?;
        let date = js_sys::Date::new(&JsValue::from_f64(secs * 1000.0));
        days.as_ref()?
            .call1(&JsValue::NULL, &date)
            .ok()?
            .as_string()
    });
    if let Some(portal) = doc.get_element_by_id("portal") {
        let _ = portal.set_attribute("data-localized", "true");
    }
}
