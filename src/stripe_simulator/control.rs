//! The control plane under `/_sim/`: change data as a merchant would in the Stripe Dashboard,
//! revoke access from Stripe's side, inject faults, see requests, events and rule violations.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::http::{escape_html, page};
use super::{Faults, Simulator};

/// The `/_sim/…` routes.
pub(super) fn routes() -> Router<Simulator> {
    Router::new()
        .route("/_sim", get(index))
        .route("/_sim/", get(index))
        .route("/_sim/accounts", get(sim_accounts).post(sim_create_account))
        .route(
            "/_sim/accounts/{account}/deauthorize",
            post(sim_deauthorize),
        )
        .route(
            "/_sim/accounts/{account}/portal_configuration",
            post(sim_portal_configuration),
        )
        .route(
            "/_sim/accounts/{account}/customers",
            post(sim_create_customer),
        )
        .route(
            "/_sim/accounts/{account}/subscriptions",
            post(sim_create_subscription),
        )
        .route(
            "/_sim/accounts/{account}/subscriptions/{id}",
            post(sim_update_subscription).delete(sim_cancel_subscription),
        )
        .route(
            "/_sim/faults",
            get(sim_faults)
                .post(sim_set_faults)
                .delete(sim_clear_faults),
        )
        .route("/_sim/webhook_endpoints", get(sim_webhook_endpoints))
        .route(
            "/_sim/webhook_endpoints/{id}",
            post(sim_edit_webhook_endpoint),
        )
        .route("/_sim/deliveries/wait", post(sim_wait_for_deliveries))
        .route("/_sim/requests", get(sim_requests))
        .route("/_sim/events", get(sim_events))
        .route("/_sim/violations", get(sim_violations))
        .route("/_sim/rules", get(sim_rules).post(sim_set_rules))
}

async fn index(State(sim): State<Simulator>) -> Html<String> {
    let mut rows = String::new();
    for a in sim.accounts() {
        rows.push_str(&format!(
            "<li><code>{}</code> {} &lt;{}&gt; · {} · {} customers, {} subscriptions</li>",
            escape_html(&a.id),
            escape_html(&a.business_name),
            escape_html(&a.email),
            if a.authorized {
                "connected"
            } else {
                "not connected"
            },
            a.customers.len(),
            a.subscriptions.len()
        ));
    }
    page(
        "Stripe simulator",
        &format!("<h1>Stripe simulator</h1><p>Accounts:</p><ul>{rows}</ul><p>JSON: <a href=\"accounts\">accounts</a>, <a href=\"events\">events</a>, <a href=\"requests\">requests</a>, <a href=\"faults\">faults</a>.</p>"),
    )
}

async fn sim_accounts(State(sim): State<Simulator>) -> Json<Value> {
    Json(json!(sim.accounts()))
}

#[derive(Deserialize)]
struct NewAccount {
    business_name: String,
    email: String,
}

async fn sim_create_account(
    State(sim): State<Simulator>,
    Json(a): Json<NewAccount>,
) -> Json<Value> {
    Json(json!({ "id": sim.create_account(&a.business_name, &a.email) }))
}

fn known(sim: &Simulator, account: &str) -> bool {
    sim.accounts().iter().any(|a| a.id == account)
}

fn no_such_account() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "no such account" })),
    )
        .into_response()
}

async fn sim_deauthorize(State(sim): State<Simulator>, Path(account): Path<String>) -> Response {
    if !known(&sim, &account) {
        return no_such_account();
    }
    sim.deauthorize(&account);
    Json(json!({ "deauthorized": account })).into_response()
}

#[derive(Deserialize)]
struct PortalConfiguration {
    configured: bool,
}

async fn sim_portal_configuration(
    State(sim): State<Simulator>,
    Path(account): Path<String>,
    Json(c): Json<PortalConfiguration>,
) -> Response {
    if !known(&sim, &account) {
        return no_such_account();
    }
    sim.set_portal_configured(&account, c.configured);
    Json(json!({ "configured": c.configured })).into_response()
}

#[derive(Deserialize)]
struct NewCustomer {
    email: String,
    #[serde(default)]
    name: String,
}

async fn sim_create_customer(
    State(sim): State<Simulator>,
    Path(account): Path<String>,
    Json(c): Json<NewCustomer>,
) -> Response {
    if !known(&sim, &account) {
        return no_such_account();
    }
    Json(json!({ "id": sim.create_customer(&account, &c.email, &c.name) })).into_response()
}

#[derive(Deserialize)]
struct NewSubscription {
    customer: String,
    price: String,
    #[serde(default)]
    quantity: Option<u64>,
    #[serde(default)]
    trial_days: Option<i64>,
}

async fn sim_create_subscription(
    State(sim): State<Simulator>,
    Path(account): Path<String>,
    Json(s): Json<NewSubscription>,
) -> Response {
    if !known(&sim, &account) {
        return no_such_account();
    }
    let id = sim.create_subscription(
        &account,
        &s.customer,
        &s.price,
        s.quantity.unwrap_or(1),
        s.trial_days,
    );
    if id.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "no such customer or price" })),
        )
            .into_response();
    }
    Json(json!({ "id": id })).into_response()
}

#[derive(Deserialize)]
struct SubscriptionUpdate {
    cancel_at_period_end: bool,
}

async fn sim_update_subscription(
    State(sim): State<Simulator>,
    Path((account, id)): Path<(String, String)>,
    Json(u): Json<SubscriptionUpdate>,
) -> Response {
    if !known(&sim, &account) {
        return no_such_account();
    }
    sim.set_cancel_at_period_end(&account, &id, u.cancel_at_period_end);
    Json(json!({ "id": id, "cancel_at_period_end": u.cancel_at_period_end })).into_response()
}

async fn sim_cancel_subscription(
    State(sim): State<Simulator>,
    Path((account, id)): Path<(String, String)>,
) -> Response {
    if !known(&sim, &account) {
        return no_such_account();
    }
    sim.cancel_subscription(&account, &id);
    Json(json!({ "id": id, "status": "canceled" })).into_response()
}

async fn sim_faults(State(sim): State<Simulator>) -> Json<Faults> {
    Json(sim.faults())
}

async fn sim_set_faults(State(sim): State<Simulator>, Json(f): Json<Faults>) -> Json<Faults> {
    sim.set_faults(f);
    Json(sim.faults())
}

async fn sim_clear_faults(State(sim): State<Simulator>) -> Json<Faults> {
    sim.set_faults(Faults::default());
    Json(sim.faults())
}

async fn sim_webhook_endpoints(State(sim): State<Simulator>) -> Json<Value> {
    Json(json!(sim.webhook_endpoints()))
}

/// What an operator changes on an endpoint in the Dashboard: disable it (as Stripe does after
/// three days of failed deliveries: events are no longer sent to it, and stay listed at
/// `/v1/events`) or move it to another API version.
#[derive(Deserialize)]
struct EndpointEdit {
    enabled: Option<bool>,
    api_version: Option<String>,
}

async fn sim_edit_webhook_endpoint(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    Json(edit): Json<EndpointEdit>,
) -> Response {
    if !sim.webhook_endpoints().iter().any(|e| e.id == id) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no such webhook endpoint" })),
        )
            .into_response();
    }
    sim.edit_webhook_endpoints(|endpoints| {
        for e in endpoints.iter_mut().filter(|e| e.id == id) {
            if let Some(enabled) = edit.enabled {
                e.enabled = enabled;
            }
            if let Some(version) = &edit.api_version {
                e.api_version = version.clone();
            }
        }
    });
    Json(json!(sim.webhook_endpoints())).into_response()
}

/// Answers when every queued delivery has been attempted (at most 30 s): a test's way to know
/// that what happened at Stripe reached the endpoint.
async fn sim_wait_for_deliveries(State(sim): State<Simulator>) -> Json<Value> {
    sim.wait_for_deliveries().await;
    Json(json!({ "idle": true }))
}

async fn sim_requests(State(sim): State<Simulator>) -> Json<Value> {
    Json(json!(sim.requests()))
}

async fn sim_events(State(sim): State<Simulator>) -> Json<Value> {
    Json(json!(sim.events()))
}

async fn sim_violations(State(sim): State<Simulator>) -> Json<Value> {
    Json(json!(sim.violations()))
}

#[derive(Deserialize, serde::Serialize)]
struct Rules {
    enforced: bool,
}

async fn sim_rules(State(sim): State<Simulator>) -> Json<Rules> {
    Json(Rules {
        enforced: sim.rules_enforced(),
    })
}

async fn sim_set_rules(State(sim): State<Simulator>, Json(r): Json<Rules>) -> Json<Rules> {
    sim.set_rules_enforced(r.enforced);
    sim_rules(State(sim)).await
}
