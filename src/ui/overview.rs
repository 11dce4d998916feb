//! The dashboard's landing page: "Get started" while the merchant is setting up, the state of
//! their Stripe connection, what their subscriptions add up to, and the portal sign-ins and the
//! backend's API calls of the last 30 days as charts drawn on the server (plain SVG: no chart
//! library in the bundle).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::auth::follow_success;
use super::components::{format_amount, format_date, CsrfField, FormError};
use crate::dto::overview::{Daily, OverviewView};
use crate::dto::payments::ConnectionState;
use crate::server_fns::overview::{overview, PushDemoCustomer};

const CARD: &str = "rounded-md border border-slate-200 p-3";

#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| overview());
    let demo = ServerAction::<PushDemoCustomer>::new();
    let demo_error = follow_success(demo.value());
    view! {
        <Title text="Overview · subgate"/>
        <section data-tab="Overview" class="max-w-5xl">
            <h1 class="text-xl font-semibold">"Overview"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => view! { <OverviewBody v=v demo=demo/> }.into_any(),
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <FormError error=demo_error/>
        </section>
    }
}

#[component]
fn OverviewBody(v: OverviewView, demo: ServerAction<PushDemoCustomer>) -> impl IntoView {
    let done = v.steps.iter().filter(|s| s.done).count();
    let all = v.steps.len();
    let steps = v.steps.into_iter().enumerate().map(|(i, s)| {
        let marker = if s.done { "✓".to_string() } else { (i + 1).to_string() };
        let marker_class = if s.done {
            "flex size-6 shrink-0 items-center justify-center rounded-full bg-emerald-600 text-xs font-bold text-white"
        } else {
            "flex size-6 shrink-0 items-center justify-center rounded-full border border-slate-400 text-xs text-slate-700"
        };
        let demo_button = (s.id == "customer" && !s.done && v.demo_push).then(|| view! {
            <ActionForm action=demo attr:id="push-demo-customer" attr:class="mt-1">
                <CsrfField/>
                <button type="submit" class="rounded-md border border-indigo-300 px-2 py-1 text-xs text-indigo-700 hover:bg-indigo-50"
                        disabled=move || demo.pending().get()>"Or link a test customer now, in one click"</button>
            </ActionForm>
        });
        view! {
            <li class="flex gap-3 py-2" data-step=s.id.clone() data-done=s.done.to_string()>
                <span class=marker_class aria-hidden="true">{marker}</span>
                <div class="min-w-0">
                    <A href=s.href.clone() attr:class=if s.done { "text-slate-500 line-through" } else { "font-medium text-indigo-700 underline" }>{s.title.clone()}</A>
                    <span class="sr-only">{if s.done { " (done)" } else { " (to do)" }}</span>
                    {demo_button}
                </div>
            </li>
        }
    }).collect_view();
    let connection = match v.connection {
        ConnectionState::Connected => format!(
            "{} account {} connected{}.",
            v.gateway,
            v.account_id.clone().unwrap_or_default(),
            if v.simulated { " (simulated)" } else { "" }
        ),
        ConnectionState::Revoked => format!("Access to your {} account was revoked.", v.gateway),
        ConnectionState::NotConnected => format!("No {} account is connected yet.", v.gateway),
    };
    let mrr = if v.mrr.is_empty() {
        view! { <dd class="text-lg font-semibold" data-currency="none">"—"</dd> }.into_any()
    } else {
        v.mrr.iter().map(|m| view! {
            <dd class="text-lg font-semibold" data-currency=m.currency.clone()>{format_amount(Some(m.amount), &m.currency)}</dd>
        }).collect_view().into_any()
    };
    let figure = |id: &'static str, label: &'static str, n: i64| {
        view! {
            <div class=CARD><dt class="text-xs text-slate-500">{label}</dt><dd id=id class="text-lg font-semibold">{n}</dd></div>
        }
    };
    view! {
        <section id="get-started" class="mt-6" aria-labelledby="get-started-title" data-done=done.to_string()>
            <h2 id="get-started-title" class="font-semibold">{if done == all { "You're set up".to_string() } else { format!("Get started: {done} of {all} done") }}</h2>
            <ol class="mt-2 divide-y divide-slate-100">{steps}</ol>
        </section>
        <p id="overview-connection" class="mt-6 text-sm text-slate-700" data-state=format!("{:?}", v.connection).to_lowercase()>{connection}</p>
        <h2 class="mt-6 font-semibold">"Subscriptions"</h2>
        <dl id="figures" class="mt-2 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
            {figure("figure-customers", "Customers", v.customers)}
            {figure("figure-active", "Active", v.active)}
            {figure("figure-trialing", "Trialing", v.trialing)}
            {figure("figure-past-due", "Past due", v.past_due)}
            {figure("figure-cancelling", "Cancelling", v.cancelling)}
            <div class=CARD id="figure-mrr"><dt class="text-xs text-slate-500">"Monthly recurring revenue"</dt>{mrr}</div>
        </dl>
        <h2 class="mt-8 font-semibold">"SSO logins, last 30 days"</h2>
        <BarChart id="sso-chart" series=v.sso_logins what=("login", "logins")/>
        <h2 class="mt-8 font-semibold">"API calls from your backend, last 30 days"</h2>
        <BarChart id="api-chart" series=v.api_calls what=("call", "calls")/>
    }
}

/// Bars per day, drawn as SVG on the server; the total and the busiest day are said in words
/// too, for screen readers.
#[component]
/// `what` names one and several of what is counted.
fn BarChart(id: &'static str, series: Daily, what: (&'static str, &'static str)) -> impl IntoView {
    const W: f64 = 600.0;
    const H: f64 = 120.0;
    let n = series.counts.len().max(1) as f64;
    let max = series.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let slot = W / n;
    let total = series.total();
    let last = series.start + (series.counts.len() as i64 - 1).max(0) * 86_400;
    let label = format!(
        "{total} {} from {} to {}",
        if total == 1 { what.0 } else { what.1 },
        format_date(series.start),
        format_date(last)
    );
    let bars = series.counts.iter().enumerate().map(|(i, &c)| {
        let h = (c as f64 / max * (H - 10.0)).max(if c > 0 { 2.0 } else { 0.0 });
        view! {
            <rect x=format!("{:.1}", i as f64 * slot + 1.0) y=format!("{:.1}", H - h)
                  width=format!("{:.1}", slot - 2.0) height=format!("{:.1}", h)
                  class="fill-indigo-500" data-day=format_date(series.start + i as i64 * 86_400) data-count=c.to_string()/>
        }
    }).collect_view();
    view! {
        <figure class="mt-2">
            <svg id=id viewBox=format!("0 0 {W} {H}") class="h-32 w-full" role="img" aria-label=label.clone() preserveAspectRatio="none">
                <line x1="0" y1=H.to_string() x2=W.to_string() y2=H.to_string() class="stroke-slate-300"/>
                {bars}
            </svg>
            <figcaption class="mt-1 flex justify-between text-xs text-slate-500">
                <span>{format_date(series.start)}</span>
                <span id=format!("{id}-total")>{label}</span>
                <span>{format_date(last)}</span>
            </figcaption>
        </figure>
    }
}
