//! Sign-up and login pages. Both are plain HTML forms that work before the browser bundle has
//! loaded; once hydrated they submit in the background and show errors in place.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::components::{navigate_full, CsrfField, FormError, TextField, BUTTON};
use crate::dto::PasswordRules;
use crate::error::AppError;
use crate::server_fns::auth::{Login, Signup};

/// Follows a successful submission to the page the server chose; yields the error otherwise.
pub(super) fn follow_success<S>(value: S) -> Signal<Option<AppError>>
where
    S: Get<Value = Option<Result<String, AppError>>> + Clone + Send + Sync + 'static,
{
    let watched = value.clone();
    Effect::new(move |_| {
        if let Some(Ok(to)) = watched.get() {
            navigate_full(&to);
        }
    });
    Signal::derive(move || value.get().and_then(Result::err))
}

#[component]
pub(super) fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title/>
        <main class="mx-auto mt-16 max-w-md rounded-xl bg-white p-8 shadow">
            <h1 class="mb-6 text-2xl font-bold text-slate-900">{title}</h1>
            {children()}
        </main>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let error = follow_success(action.value());
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    // what a mailed link just did, said on the page it leads to
    let notice = move || {
        let q = query.read();
        [
            ("reset", "Your password was changed and every session was logged out. Log in with the new one."),
            ("verified", "Your email address is verified. Log in to go on."),
            ("email_changed", "Your account now uses its new address. Log in with it."),
        ]
        .into_iter()
        .find(|(key, _)| q.get(key).is_some())
        .map(|(_, text)| view! { <p id="login-notice" role="status" class="mb-4 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">{text}</p> })
    };
    view! {
        <AuthCard title="Log in to subgate">
            {notice}
            <ActionForm action=action attr:class="space-y-4" attr:id="login-form">
                <CsrfField/>
                <input type="hidden" name="next" value=next/>
                <TextField label="Email" name="email" kind="email" autocomplete="username"/>
                <TextField label="Password" name="password" kind="password" autocomplete="current-password" maxlength=PasswordRules::MAX_LEN/>
                <FormError error=error/>
                <button type="submit" class=BUTTON disabled=move || action.pending().get()>"Log in"</button>
            </ActionForm>
            <div class="mt-4"><super::components::PasskeyButton ceremony="login" id="passkey-login" label="Log in with a passkey"/></div>
            <p class="mt-4 text-sm"><a id="forgot-password" class="text-indigo-600 underline" href="/forgot-password">"Forgot your password?"</a></p>
            // an invitation link's way in keeps going after a sign-up too
            <p class="mt-2 text-sm text-slate-600">"New here? " <a id="to-signup" class="text-indigo-600 underline" href=move || signup_link(&next())>"Create an account"</a></p>
        </AuthCard>
    }
}

/// The sign-up page, carrying the login's `next` along.
fn signup_link(next: &str) -> String {
    if next.is_empty() {
        "/signup".into()
    } else {
        format!("/signup?next={}", super::components::percent_encode(next))
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<Signup>::new();
    let error = follow_success(action.value());
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let (email, set_email) = signal(String::new());
    let (password, set_password) = signal(String::new());
    let rules = Memo::new(move |_| PasswordRules::check(&password.get(), &email.get()));
    view! {
        <AuthCard title="Create your subgate account">
            <ActionForm action=action attr:class="space-y-4" attr:id="signup-form">
                <CsrfField/>
                <input type="hidden" name="next" value=next/>
                <TextField label="Business name" name="business_name" autocomplete="organization" maxlength=100/>
                <label class="block">
                    <span class="block text-sm font-medium text-slate-700">"Email"</span>
                    <input type="email" name="email" id="email" autocomplete="email" maxlength=254 required
                           on:input=move |ev| set_email.set(event_target_value(&ev))
                           class="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 shadow-sm"/>
                </label>
                <label class="block">
                    <span class="block text-sm font-medium text-slate-700">"Password"</span>
                    <input type="password" name="password" id="password" autocomplete="new-password" required
                           on:input=move |ev| set_password.set(event_target_value(&ev))
                           class="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 shadow-sm"/>
                </label>
                <ul id="password-rules" class="space-y-1 text-sm" aria-live="polite">
                    {move || rules.get().items().into_iter().map(|(id, text, ok)| view! {
                        <li data-rule=id data-ok=ok.to_string()
                            class=if ok { "text-emerald-700" } else { "text-slate-500" }>
                            {if ok { "✓ " } else { "○ " }}{text}
                        </li>
                    }).collect_view()}
                </ul>
                <FormError error=error/>
                <button type="submit" class=BUTTON disabled=move || action.pending().get()>"Create account"</button>
            </ActionForm>
            <p class="mt-6 text-sm text-slate-600">"Already have an account? " <a class="text-indigo-600 underline" href="/login">"Log in"</a></p>
        </AuthCard>
    }
}
