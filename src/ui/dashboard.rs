//! The merchant dashboard: header with the business name and logout, and one tab per area.

use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

use super::components::{CsrfField, FormError};
use crate::server_fns::auth::{current_merchant, Logout};

#[component]
pub fn DashboardLayout() -> impl IntoView {
    let merchant = Resource::new(|| (), |_| current_merchant());
    let logout = ServerAction::<Logout>::new();
    let logout_error = super::auth::follow_success(logout.value());
    let tab = "shrink-0 rounded-t-md px-3 py-2 text-sm font-medium text-slate-600 hover:text-slate-900 aria-[current=page]:bg-white aria-[current=page]:text-indigo-700";
    view! {
        <div class="min-h-screen">
            <header class="flex flex-wrap items-center justify-between gap-2 px-4 py-3 surface-ink sm:px-6">
                <div class="flex min-w-0 flex-wrap items-center gap-x-3">
                    <a href="/dashboard" class="font-bold">"subgate"</a>
                    <Suspense fallback=|| view! { <span class="opacity-75">"…"</span> }>
                        {move || Suspend::new(async move {
                            match merchant.await {
                                Ok(Some(m)) => view! {
                                    <span id="business-name">{m.business_name}</span>
                                    <span class="break-all text-sm opacity-75">{m.email}</span>
                                    <span id="header-role" class="text-sm opacity-75">{m.role.as_str()}</span>
                                }.into_any(),
                                _ => view! { <a href="/login" class="underline">"Log in"</a> }.into_any(),
                            }
                        })}
                    </Suspense>
                </div>
                <ActionForm action=logout attr:id="logout-form">
                    <CsrfField/>
                    <button type="submit" id="logout" class="rounded-md border border-current/40 px-3 py-1 text-sm hover:underline">"Log out"</button>
                </ActionForm>
            </header>
            <FormError error=logout_error/>
            <nav class="flex gap-1 overflow-x-auto bg-slate-100 px-4 pt-3 sm:px-6" aria-label="Dashboard">
                <A href="/dashboard" exact=true attr:class=tab>"Overview"</A>
                <A href="/dashboard/oauth" attr:class=tab>"OAuth"</A>
                <A href="/dashboard/connect" attr:class=tab>"Connect"</A>
                <A href="/dashboard/customers" attr:class=tab>"Customers"</A>
                <A href="/dashboard/sso" attr:class=tab>"SSO"</A>
                <A href="/dashboard/api" attr:class=tab>"API"</A>
                <A href="/dashboard/team" attr:class=tab>"Team"</A>
                <A href="/dashboard/account" attr:class=tab>"Account"</A>
            </nav>
            <main class="bg-white px-4 py-8 sm:px-6">
                <Outlet/>
            </main>
        </div>
    }
}

/// A dashboard address that names no page: the layout stays (tabs, log out) and the answer is
/// a real 404.
#[component]
pub fn DashboardNotFound() -> impl IntoView {
    super::home::not_found_status();
    view! {
        <leptos_meta::Title text="Not found · subgate"/>
        <section id="dashboard-not-found">
            <h1 class="text-xl font-semibold">"Page not found"</h1>
            <p class="mt-2 text-sm text-slate-600">
                "There is no such page in your dashboard. "
                <A href="/dashboard" attr:class="text-indigo-600 underline">"Go to your overview"</A>
            </p>
        </section>
    }
}
