//! The landing page.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="subgate"/>
        <div class="mx-auto mt-16 max-w-2xl px-6">
            <h1 class="text-4xl font-bold text-slate-900">"subgate"</h1>
            <p class="mt-4 text-lg text-slate-700">
                "Give your backend and your customers safe access to your Stripe subscriptions: "
                "OAuth clients for your servers, single sign-on into a hosted subscriber portal, "
                "and a JSON API over your connected Stripe account."
            </p>
            <div class="mt-8 flex gap-4">
                <a href="/signup" class="rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white">"Create an account"</a>
                <a href="/login" class="rounded-md border border-slate-300 px-4 py-2 font-semibold text-slate-800">"Log in"</a>
            </div>
        </div>
    }
}

/// Answers the page being rendered with 404 (on the server; the browser has no status to set).
pub fn not_found_status() {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(axum::http::StatusCode::NOT_FOUND);
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    not_found_status();
    view! {
        <Title text="Not found · subgate"/>
        <div class="mx-auto mt-16 max-w-md text-center">
            <h1 class="text-2xl font-bold">"Page not found"</h1>
            <p class="mt-4"><a class="text-indigo-600 underline" href="/">"Back to subgate"</a></p>
        </div>
    }
}
