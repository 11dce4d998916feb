//! The simulated customer portal: what a customer sees after subgate opened a portal session,
//! and the changes they can make there (as Stripe's hosted portal does, in the account's
//! billing mode).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::http::{error_page, escape_html, page, Params};
use super::{lock, objects, Simulator};

fn money(amount: Option<i64>, currency: &str) -> String {
    match amount {
        Some(a) => format!("{}.{:02} {}", a / 100, a % 100, currency.to_uppercase()),
        None => "—".into(),
    }
}

fn date(secs: Option<i64>) -> String {
    secs.and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map(|t| t.date().to_string())
        .unwrap_or_else(|| "—".into())
}

pub(super) async fn portal_page(
    State(sim): State<Simulator>,
    Path(secret): Path<String>,
) -> Response {
    let now = sim.now();
    let state = lock(&sim.inner.state);
    let Some(session) = state
        .portal_sessions
        .get(&secret)
        .filter(|s| s.expires_at > now)
    else {
        return error_page(
            StatusCode::NOT_FOUND,
            "This customer portal session has expired. Go back and open it again.",
        );
    };
    let Some(account) = state.accounts.get(&session.account) else {
        return error_page(StatusCode::NOT_FOUND, "Unknown account.");
    };
    let email = account
        .customers
        .get(&session.customer)
        .and_then(|c| c["email"].as_str())
        .unwrap_or_default();
    let mut rows = String::new();
    for (id, s) in &account.subscriptions {
        if s["customer"] != json!(session.customer) {
            continue;
        }
        let Some(s) = account.render_subscription(id, true) else {
            continue;
        };
        let item = &s["items"]["data"][0];
        let price = &item["price"];
        let status = s["status"].as_str().unwrap_or_default();
        // classic billing sets `cancel_at_period_end`; flexible billing only `cancel_at`
        let ends_at = s["cancel_at"].as_i64();
        let cancels = ends_at.is_some() || s["cancel_at_period_end"] == json!(true);
        let actions = if status == "canceled" {
            String::new()
        } else {
            let button = |value: &str, label: &str| {
                format!("<button name=\"action\" value=\"{value}\">{label}</button> ")
            };
            format!(
                "<form method=\"post\"><input type=\"hidden\" name=\"subscription\" value=\"{id}\">{}{}</form>",
                if cancels { button("renew", "Renew plan") } else { button("cancel_at_period_end", "Cancel plan") },
                button("cancel_now", "Cancel immediately"),
                id = escape_html(id),
            )
        };
        rows.push_str(&format!(
            "<li data-subscription-id=\"{id}\" data-status=\"{status}\" style=\"margin:1rem 0\"><strong>{product}</strong> · {amount} / {interval} · <span class=\"status\">{status}</span>\
             <br>{when}{actions}</li>",
            id = escape_html(id),
            product = escape_html(price["product"]["name"].as_str().unwrap_or("Plan")),
            amount = money(price["unit_amount"].as_i64(), price["currency"].as_str().unwrap_or("usd")),
            interval = escape_html(price["recurring"]["interval"].as_str().unwrap_or("once")),
            status = escape_html(status),
            when = {
                let end = date(ends_at.or_else(|| objects::current_period_end(&s)));
                if cancels {
                    format!("<em class=\"cancels\">Cancels {end}</em>")
                } else {
                    format!("Renews {end}")
                }
            },
        ));
    }
    let back = session
        .return_url
        .as_deref()
        .map(|u| {
            format!(
                "<p><a id=\"return\" href=\"{}\">← Return to {}</a></p>",
                escape_html(u),
                escape_html(&account.business_name)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1 id=\"portal-title\">{business}</h1><p>Signed in as <span id=\"portal-customer\">{email}</span></p>\
         <h2>Your subscriptions</h2><ul id=\"portal-subscriptions\">{rows}</ul>{back}",
        business = escape_html(&account.business_name),
        email = escape_html(email),
    );
    page("Simulated Stripe customer portal", &body).into_response()
}

pub(super) async fn portal_action(
    State(sim): State<Simulator>,
    Path(secret): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let p = Params::parse(&body);
    let now = sim.now();
    let session = {
        let state = lock(&sim.inner.state);
        state
            .portal_sessions
            .get(&secret)
            .filter(|s| s.expires_at > now)
            .cloned()
    };
    let Some(session) = session else {
        return error_page(
            StatusCode::NOT_FOUND,
            "This customer portal session has expired.",
        );
    };
    let subscription = p.get("subscription").unwrap_or_default().to_string();
    let owned = {
        let state = lock(&sim.inner.state);
        state
            .accounts
            .get(&session.account)
            .and_then(|a| a.subscriptions.get(&subscription))
            .is_some_and(|s| s["customer"] == json!(session.customer))
    };
    if !owned {
        return error_page(
            StatusCode::NOT_FOUND,
            "No such subscription for this customer.",
        );
    }
    match p.get("action") {
        Some("cancel_at_period_end") => sim.portal_cancel(&session.account, &subscription),
        Some("renew") => sim.portal_renew(&session.account, &subscription),
        Some("cancel_now") => sim.cancel_subscription(&session.account, &subscription),
        _ => return error_page(StatusCode::BAD_REQUEST, "Unknown action."),
    }
    // back to the page itself, wherever the simulator is mounted
    let here = format!("{}{}", sim.config().public_base, uri.path());
    (StatusCode::SEE_OTHER, [(header::LOCATION, here)]).into_response()
}
