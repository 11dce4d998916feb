//! Small pieces shared by the pages.

use leptos::prelude::*;

use crate::error::AppError;

/// The session's CSRF token. The server renders it from the request (and into a `<meta>` tag of
/// the page head); the browser reads that tag, so both sides render the same value.
pub fn csrf_token() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|p| {
                p.extensions
                    .get::<crate::http::middleware::csrf::CsrfToken>()
                    .map(|t| t.0.clone())
            })
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .query_selector("meta[name='csrf-token']")
            .ok()
            .flatten()
            .and_then(|m| m.get_attribute("content"))
            .unwrap_or_default()
    }
}

/// The hidden field every state-changing form carries.
#[component]
pub fn CsrfField() -> impl IntoView {
    view! { <input type="hidden" name="csrf_token" value=csrf_token()/> }
}

/// A full page load (not a client-side route change), so the next page is rendered by the
/// server with the session as it is now (e.g. the token rotated at login).
pub fn navigate_full(to: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().assign(to);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = to;
}

/// Shows the error of the last submission of a form, if it failed.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <p role="alert" data-testid="form-error"
               class="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
                {move || error.get().map(|e| e.to_string())}
            </p>
        </Show>
    }
}

#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "")] autocomplete: &'static str,
    #[prop(default = 254)] maxlength: usize,
    /// The input's id when `name` is not unique on the page.
    #[prop(optional)]
    id: Option<&'static str>,
) -> impl IntoView {
    view! {
        <label class="block">
            <span class="block text-sm font-medium text-slate-700">{label}</span>
            <input type=kind name=name id=id.unwrap_or(name) autocomplete=autocomplete maxlength=maxlength required
                   class="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500"/>
        </label>
    }
}

/// The field a destructive form asks to be typed first, posted as `confirm`: `expected` (an id
/// or a name), checked by the browser (`required`, `pattern`: it holds before hydration) and
/// again by the server.
#[component]
pub fn TypeToConfirm(id: &'static str, what: &'static str, expected: String) -> impl IntoView {
    view! {
        <label for=id class="mt-2 block text-sm">"Type " {what} " " <code>{expected.clone()}</code> " to confirm"</label>
        <input id=id name="confirm" type="text" autocomplete="off" spellcheck="false"
               required pattern=literal_pattern(&expected) title=format!("{what}: {expected}")
               class="mt-1 block rounded-md border border-slate-300 px-3 py-2 font-mono text-sm"/>
    }
}

/// `s` as an HTML `pattern` that matches exactly `s`: browsers compile it in JavaScript's
/// unicode-sets mode, where `.`, `+` and the like are operators and escaping any other
/// character is an error.
pub fn literal_pattern(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if "^$\\.*+?()[]{}|/".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// A description's Markdown (see [`crate::dto::markdown`]) as paragraphs of nodes; `inline`
/// puts them in one `<span>` (inside a label, where paragraphs may not go).
#[component]
pub fn Markdown(
    text: String,
    #[prop(optional)] id: &'static str,
    #[prop(default = "text-sm text-slate-700")] class: &'static str,
    #[prop(optional)] inline: bool,
) -> impl IntoView {
    use crate::dto::markdown::{paragraphs, Inline};
    let spans = |spans: Vec<Inline>| {
        spans
            .into_iter()
            .map(|span| match span {
                Inline::Text(t) => t.into_any(),
                Inline::Code(c) => {
                    view! { <code class="rounded bg-slate-100 px-1 text-xs">{c}</code> }.into_any()
                }
                Inline::Strong(s) => view! { <strong>{s}</strong> }.into_any(),
                Inline::Link { text, href } => {
                    view! { <a href=href class="text-indigo-700 underline">{text}</a> }.into_any()
                }
            })
            .collect_view()
    };
    let paragraphs = paragraphs(&text);
    if inline {
        let all = paragraphs
            .into_iter()
            .map(|p| view! { {spans(p)} " " })
            .collect_view();
        view! { <span id=(!id.is_empty()).then_some(id) class=class>{all}</span> }.into_any()
    } else {
        let all = paragraphs
            .into_iter()
            .map(|p| view! { <p class="mt-1">{spans(p)}</p> })
            .collect_view();
        view! { <div id=(!id.is_empty()).then_some(id) class=class>{all}</div> }.into_any()
    }
}

/// A date people read (`2026-11-24`), with the exact time on hover and in `datetime`.
#[component]
pub fn When(at: i64) -> impl IntoView {
    let exact = format_time(at);
    let machine = format!("{}Z", exact.trim_end_matches(" UTC").replace(' ', "T"));
    view! { <time datetime=machine title=exact>{format_date(at)}</time> }
}

/// Copies `text()` to the clipboard (once hydrated); says "Copied" for a moment.
#[component]
pub fn CopyButton(
    #[prop(into)] text: Signal<String>,
    #[prop(default = "Copy")] label: &'static str,
    #[prop(optional)] id: &'static str,
) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let _ = window()
                .navigator()
                .clipboard()
                .write_text(&text.get_untracked());
            set_copied.set(true);
            set_timeout(
                move || set_copied.set(false),
                std::time::Duration::from_millis(1500),
            );
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&text, set_copied);
    };
    view! {
        <button type="button" id=id on:click=copy
                class="rounded-md border border-slate-300 px-2 py-1 text-xs text-slate-700 hover:bg-slate-100">
            {move || if copied.get() { "Copied" } else { label }}
        </button>
    }
}

pub const BUTTON: &str = "inline-flex justify-center rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 disabled:opacity-50";

/// Unix seconds as `2026-11-24 22:10 UTC` (the same on server and browser, so hydration agrees).
pub fn format_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Unix seconds as `2026-11-24`.
pub fn format_date(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// An amount in the currency's smallest unit, e.g. `20.00 USD`.
pub fn format_amount(amount: Option<i64>, currency: &str) -> String {
    match amount {
        Some(a) => {
            let zero_decimal = crate::dto::payments::is_zero_decimal(currency);
            if zero_decimal {
                format!("{a} {}", currency.to_uppercase())
            } else {
                format!(
                    "{}{}.{:02} {}",
                    if a < 0 { "-" } else { "" },
                    a.abs() / 100,
                    a.abs() % 100,
                    currency.to_uppercase()
                )
            }
        }
        None => "—".into(),
    }
}

/// `s` as one POSIX shell word, whatever it holds (for "copy as curl"): single quotes, each `'`
/// inside written as `'\''`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Every byte but ASCII letters and digits as `%XX`, for a path carried in a query parameter.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A passkey ceremony's button, run by `public/auth.js`; hidden until that script finds the
/// browser and the address able to use passkeys. `ceremony`: `login`, `register` or `check`.
#[component]
pub fn PasskeyButton(
    ceremony: &'static str,
    id: &'static str,
    label: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div data-passkey-box="" hidden=true class="space-y-2">
            {children.map(|c| c())}
            <button type="button" id=id data-passkey=ceremony class="w-full rounded-md border border-indigo-300 px-3 py-2 text-sm font-medium text-indigo-700 hover:bg-indigo-50 disabled:opacity-50">{label}</button>
            <p data-passkey-error="" role="alert" class="text-sm text-red-700"></p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_amounts_read_like_people_write_them() {
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_time(1_795_560_600), "2026-11-24 22:50 UTC");
        assert_eq!(format_date(951_782_400), "2000-02-29");
        assert_eq!(format_amount(Some(2000), "usd"), "20.00 USD");
        assert_eq!(format_amount(Some(500), "jpy"), "500 JPY");
        assert_eq!(format_amount(None, "usd"), "—");
    }

    #[test]
    fn shell_quoting_keeps_any_text_one_inert_word() {
        assert_eq!(shell_quote("plain"), "'plain'");
        assert_eq!(shell_quote("it's $(id)"), "'it'\\''s $(id)'");
    }

    #[test]
    fn percent_encode_leaves_only_letters_and_digits() {
        assert_eq!(
            super::percent_encode("/invite?token=a-b_C9"),
            "%2Finvite%3Ftoken%3Da%2Db%5FC9"
        );
    }
}
