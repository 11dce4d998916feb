//! Webhook test helpers: deliveries signed the way Stripe signs them, events, and objects read
//! back from the simulator.

use serde_json::{json, Value};
use subgate::crypto::hmac_sha256;

use crate::support::{browser, error_of, TestApp, STRIPE_KEY};

pub(crate) async fn json_of(res: reqwest::Response) -> (u16, Value) {
    error_of(res).await
}

/// Sends a webhook delivery the way Stripe does.
pub(crate) async fn deliver(app: &TestApp, body: &str, signature: &str) -> reqwest::Response {
    browser()
        .post(app.url("/webhooks/stripe"))
        .header("content-type", "application/json; charset=utf-8")
        .header("stripe-signature", signature)
        .body(body.to_string())
        .send()
        .await
        .expect("deliver")
}

pub(crate) fn sign(secret: &str, t: i64, body: &str) -> String {
    hex::encode(hmac_sha256(
        secret.as_bytes(),
        format!("{t}.{body}").as_bytes(),
    ))
}

/// A subscription as Stripe's API returns it (from the simulator, over HTTP).
pub(crate) async fn stripe_subscription(app: &TestApp, account: &str, id: &str) -> Value {
    browser()
        .get(format!(
            "{}/v1/subscriptions/{id}?expand[]=items.data.price.product",
            app.stripe.base_url
        ))
        .bearer_auth(STRIPE_KEY)
        .header("stripe-account", account)
        .send()
        .await
        .expect("simulator")
        .json()
        .await
        .expect("json")
}

pub(crate) fn event(id: &str, kind: &str, account: &str, created: i64, object: Value) -> String {
    json!({
        "id": id, "object": "event", "account": account, "api_version": "2026-09-30.endive",
        "created": created, "data": { "object": object }, "livemode": false,
        "pending_webhooks": 1, "request": { "id": null, "idempotency_key": null }, "type": kind
    })
    .to_string()
}
