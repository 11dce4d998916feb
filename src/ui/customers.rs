//! The Customers tab: the customers the merchant's backend pushed, searched, filtered by the
//! status of their subscriptions and paged by cursor; one customer's page with their
//! subscriptions, "refresh from Stripe", the Stripe customer portal as them, and "forget".
//! Search, filters and pages live in the address (a plain GET form), so they work before
//! hydration, survive a reload and can be shared.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::auth::follow_success;
use super::components::{format_amount, CsrfField, FormError, TypeToConfirm, When, BUTTON};
use crate::dto::payments::{
    customer_page, CustomerDetail, CustomerList, CustomerSummary, SubscriptionView, CUSTOMERS_TAB,
};
use crate::dto::url::{percent_decode, query_component};
use crate::server_fns::customers::{
    get_customer, list_customers, ForgetCustomer, OpenCustomerPortal, PreviewPortal,
    RefreshCustomer,
};

const SECONDARY: &str =
    "rounded-md border border-slate-300 px-3 py-1 text-sm text-slate-700 hover:bg-slate-100";
const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm";
const TABLE: &str = "mt-4 w-full text-left text-sm";
const CELL: &str = "border-b border-slate-200 py-2 pr-3 align-top break-words";

/// The status filter's choices: (value, label).
const STATUSES: [(&str, &str); 9] = [
    ("", "Any status"),
    ("active", "Active"),
    ("trialing", "Trialing"),
    ("past_due", "Past due"),
    ("cancelling", "Cancelling (ends soon)"),
    ("canceled", "Canceled"),
    ("unpaid", "Unpaid"),
    ("incomplete", "Incomplete"),
    ("none", "No subscription"),
];

#[component]
pub fn CustomersTab() -> impl IntoView {
    let query = use_query_map();
    let field = move |name: &str| query.read().get(name).filter(|v| !v.is_empty());
    let list = Resource::new(
        move || (field("search"), field("status"), field("after")),
        |(search, status, after)| list_customers(search, status, after),
    );
    view! {
        <Title text="Customers · subgate"/>
        <section data-tab="Customers" class="max-w-5xl">
            <h1 class="text-xl font-semibold">"Customers"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "The subscribers your backend linked to their Stripe customers (" <code>"POST /api/customers"</code>
                "), with their subscriptions as Stripe last told subgate."
            </p>
            <Form method="GET" action=CUSTOMERS_TAB attr:id="customer-filter" attr:class="mt-4 flex flex-wrap items-end gap-3" attr:role="search">
                <label class="min-w-0 grow basis-60">
                    <span class="block text-sm font-medium text-slate-700">"Search"</span>
                    <input type="search" name="search" id="customer-search" maxlength="200" class=INPUT
                           placeholder="Subscriber id, email or Stripe customer id"
                           prop:value=move || field("search").unwrap_or_default()/>
                </label>
                <label class="min-w-0">
                    <span class="block text-sm font-medium text-slate-700">"Subscription"</span>
                    <select name="status" id="customer-status" class=INPUT>
                        {STATUSES.iter().map(|(value, label)| view! {
                            <option value=*value selected=move || field("status").as_deref().unwrap_or("") == *value>{*label}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" id="customer-search-submit" class=BUTTON>"Search"</button>
            </Form>
            <Transition fallback=|| view! { <p class="mt-4">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(page) => view! { <CustomerTable page=page filtered=field("search").is_some() || field("status").is_some() paged=field("after").is_some()/> }.into_any(),
                        Err(e) => view! { <p role="alert" id="customers-error" class="mt-4 text-red-700">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn CustomerTable(page: CustomerList, filtered: bool, paged: bool) -> impl IntoView {
    let query = use_query_map();
    let with = move |after: Option<&str>| {
        let q = query.read();
        let mut parts = Vec::new();
        for name in ["search", "status"] {
            if let Some(v) = q.get(name).filter(|v| !v.is_empty()) {
                parts.push(format!("{name}={}", query_component(&v)));
            }
        }
        if let Some(after) = after {
            parts.push(format!("after={}", query_component(after)));
        }
        if parts.is_empty() {
            CUSTOMERS_TAB.to_string()
        } else {
            format!("{CUSTOMERS_TAB}?{}", parts.join("&"))
        }
    };
    if page.matching == 0 {
        let empty = if filtered {
            "No customer matches. Try another search or status."
        } else {
            "No customers yet. Your backend links a subscriber to their Stripe customer with POST /api/customers (a bearer token from a confidential client of the OAuth tab); in simulation, the Connect tab lists demo customers to try."
        };
        return view! { <p id="customers-empty" class="mt-6 text-sm text-slate-600">{empty}</p> }
            .into_any();
    }
    let count = match page.matching {
        1 => "1 customer".to_string(),
        n => format!("{n} customers"),
    };
    let next = page.next_cursor.clone().map(|cursor| {
        let href = with(Some(&cursor));
        view! { <A href=href attr:id="customers-next" attr:class=SECONDARY attr:rel="next">"Next page →"</A> }
    });
    let first = paged.then(|| {
        let href = with(None);
        view! { <A href=href attr:id="customers-first" attr:class=SECONDARY>"← First page"</A> }
    });
    view! {
        <p id="customers-count" class="mt-6 text-sm text-slate-600" data-count=page.matching.to_string()>{count}</p>
        // scrolls sideways on a phone: focusable, so a keyboard can scroll it too
        <div class="overflow-x-auto" tabindex="0" role="region" aria-label="Customers">
            <table id="customers" class=TABLE>
                <Head columns=["Subscriber", "Email", "Stripe customer", "Subscription", "Linked"]/>
                <tbody>
                    {page.data.into_iter().map(|c| view! { <CustomerRow c=c/> }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="mt-4 flex gap-3" aria-label="Pages">{first}{next}</nav>
    }
    .into_any()
}

/// A table's header row.
#[component]
fn Head(columns: [&'static str; 5]) -> impl IntoView {
    view! {
        <thead>
            <tr class="text-slate-500">
                {columns.map(|c| view! { <th class=CELL scope="col">{c}</th> }).into_iter().collect_view()}
            </tr>
        </thead>
    }
}

#[component]
fn CustomerRow(c: CustomerSummary) -> impl IntoView {
    let status = match (c.status, c.subscriptions) {
        (Some(s), 1) => s.as_str().replace('_', " "),
        (Some(s), n) => format!("{} (+{} more)", s.as_str().replace('_', " "), n - 1),
        (None, _) => "none".into(),
    };
    let href = customer_page(&c.subscriber_id);
    let (id, label) = (c.subscriber_id.clone(), c.subscriber_id);
    view! {
        <tr data-subscriber-id=id>
            <td class=CELL><A href=href attr:class="font-medium text-indigo-700 underline">{label}</A></td>
            <td class=CELL>{c.email.unwrap_or_else(|| "—".into())}</td>
            <td class=CELL><code class="text-xs">{c.customer_id}</code></td>
            <td class=CELL data-role="status" data-status=c.status.map(|s| s.as_str()).unwrap_or("none")>{status}</td>
            <td class=CELL><When at=c.created_at/></td>
        </tr>
    }
}

#[component]
pub fn CustomerPage() -> impl IntoView {
    let params = use_params_map();
    // the router may hand the segment over still encoded; subscriber ids never hold `%`
    let subscriber = move || percent_decode(&params.read().get("subscriber").unwrap_or_default());
    let refresh = ServerAction::<RefreshCustomer>::new();
    let portal = ServerAction::<OpenCustomerPortal>::new();
    let forget = ServerAction::<ForgetCustomer>::new();
    let preview = ServerAction::<PreviewPortal>::new();
    let detail = Resource::new(subscriber, get_customer);
    let errors = [
        follow_success(refresh.value()),
        follow_success(portal.value()),
        follow_success(preview.value()),
        follow_success(forget.value()),
    ];
    let actions = Actions {
        refresh,
        portal,
        preview,
        forget,
    };
    view! {
        <Title text="Customer · subgate"/>
        <section data-tab="Customers" class="max-w-5xl">
            <A href=CUSTOMERS_TAB attr:class="text-sm text-indigo-600 underline">"← All customers"</A>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => view! { <CustomerBody d=d actions=actions/> }.into_any(),
                        Err(e) => view! {
                            <h1 class="mt-2 text-xl font-semibold">"Customer"</h1>
                            <p role="alert" id="customer-error" class="mt-2 text-red-700">{e.to_string()}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            {errors.into_iter().map(|error| view! { <FormError error=error/> }).collect_view()}
        </section>
    }
}

/// What the customer page can do.
#[derive(Clone, Copy)]
struct Actions {
    refresh: ServerAction<RefreshCustomer>,
    portal: ServerAction<OpenCustomerPortal>,
    preview: ServerAction<PreviewPortal>,
    forget: ServerAction<ForgetCustomer>,
}

#[component]
fn CustomerBody(d: CustomerDetail, actions: Actions) -> impl IntoView {
    let Actions {
        refresh,
        portal,
        preview,
        forget,
    } = actions;
    let c = d.customer;
    let row = "grid grid-cols-3 gap-4 border-b py-2 text-sm break-words *:min-w-0";
    let id = c.subscriber_id.clone();
    let (id_refresh, id_portal, id_preview, id_forget) =
        (id.clone(), id.clone(), id.clone(), id.clone());
    let subscriptions = if d.subscriptions.is_empty() {
        view! { <p id="no-subscriptions" class="mt-2 text-sm text-slate-600">"No subscriptions on this customer."</p> }.into_any()
    } else {
        view! { <SubscriptionTable subscriptions=d.subscriptions/> }.into_any()
    };
    view! {
        <h1 class="mt-2 break-all text-xl font-semibold" id="customer-title">{c.subscriber_id.clone()}</h1>
        <dl id="customer" class="mt-4">
            <div class=row><dt class="font-medium">"Email"</dt><dd class="col-span-2" id="customer-email">{c.email.clone().unwrap_or_else(|| "—".into())}</dd></div>
            <div class=row><dt class="font-medium">"Stripe customer"</dt><dd class="col-span-2"><code id="customer-stripe-id">{c.customer_id.clone()}</code></dd></div>
            <div class=row><dt class="font-medium">"Linked"</dt><dd class="col-span-2"><When at=c.created_at/></dd></div>
            <div class=row><dt class="font-medium">"Last pulled from Stripe"</dt><dd class="col-span-2" id="customer-synced">{c.synced_at.map(|t| view! { <When at=t/> }.into_any()).unwrap_or_else(|| "never".into_any())}</dd></div>
            <div class=row><dt class="font-medium">"In the API"</dt><dd class="col-span-2"><code class="text-xs">{c.url.clone()}</code></dd></div>
        </dl>
        <h2 class="mt-8 font-semibold">"Subscriptions"</h2>
        {subscriptions}
        <div class="mt-6 flex flex-wrap gap-3">
            <ActionForm action=refresh attr:id="refresh-customer">
                <CsrfField/>
                <input type="hidden" name="subscriber_id" value=id_refresh/>
                <button type="submit" class=SECONDARY disabled=move || refresh.pending().get()>"Refresh from Stripe"</button>
            </ActionForm>
            <ActionForm action=portal attr:id="open-customer-portal">
                <CsrfField/>
                <input type="hidden" name="subscriber_id" value=id_portal/>
                <button type="submit" class=SECONDARY disabled=move || portal.pending().get()>"Open Stripe's billing portal as this customer"</button>
            </ActionForm>
            <ActionForm action=preview attr:id="preview-portal">
                <CsrfField/>
                <input type="hidden" name="subscriber_id" value=id_preview/>
                <button type="submit" class=SECONDARY disabled=move || preview.pending().get()>"Preview your portal as this subscriber"</button>
            </ActionForm>
        </div>
        <details id="forget-customer" class="mt-8">
            <summary class="cursor-pointer text-sm font-medium text-red-700">"Forget this customer…"</summary>
            <ActionForm action=forget attr:class="mt-2 rounded-md border border-red-200 p-3">
                <p class="text-xs text-slate-600">"subgate forgets the link and its mirrored subscriptions; nothing changes in Stripe. Your backend can push the customer again."</p>
                <CsrfField/>
                <input type="hidden" name="subscriber_id" value=id_forget/>
                <TypeToConfirm id="forget-confirm" what="the subscriber id" expected=id/>
                <button type="submit" id="forget" class="mt-2 rounded-md border border-red-400 px-3 py-1 text-sm text-red-700">"Forget"</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn SubscriptionTable(subscriptions: Vec<SubscriptionView>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto" tabindex="0" role="region" aria-label="Subscriptions">
            <table id="customer-subscriptions" class=TABLE>
                <Head columns=["Plan", "Amount", "Status", "Next", "Trial"]/>
                <tbody>
                    {subscriptions.into_iter().map(|s| {
                        let next = s.next_date().map(|d| view! { {d.label()} " " <When at=d.at()/> });
                        let trial = s.trial_until().map(|t| view! { "until " <When at=t/> });
                        let plan = s.items.iter().map(|i| match i.quantity {
                            Some(q) if q > 1 => format!("{} × {q}", i.product()),
                            _ => i.product(),
                        }).collect::<Vec<_>>().join(", ");
                        let amount = s.items.iter()
                            .map(|i| format!("{}{}", format_amount(i.unit_amount, &i.currency), i.every()))
                            .collect::<Vec<_>>().join(", ");
                        view! {
                            <tr data-subscription-id=s.id.clone() data-status=s.status.as_str()>
                                <td class=CELL data-role="plan">{plan}<code class="block text-xs text-slate-500">{s.id.clone()}</code></td>
                                <td class=CELL data-role="amount">{amount}</td>
                                <td class=CELL data-role="status">{s.status.as_str().replace('_', " ")}</td>
                                <td class=CELL data-role="next">{next}</td>
                                <td class=CELL data-role="trial">{trial}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
