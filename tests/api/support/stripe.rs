//! Stripe test helpers: a customer pushed and its subscription, waiting for work that runs after
//! a webhook is acknowledged.

use std::ops::AsyncFnMut;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use crate::support::{connected, demo_customer, error_of, push, TestApp};

pub(crate) async fn get_json(app: &TestApp, token: &str, path: &str) -> Value {
    let (status, body) = error_of(app.api(Method::GET, path, token, None).await).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// Polls `check` until it holds (webhook work that runs after the acknowledgement).
pub(crate) async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 20 s");
}

pub(crate) async fn ada_pushed(app: &TestApp) -> (crate::support::Connected, String) {
    let s = connected(app).await;
    let ada = demo_customer(app, &s.account, "ada@example.com");
    let (status, body) = error_of(push(app, &s.token, "ada", &ada).await).await;
    assert_eq!(status, 201, "{body}");
    let list = get_json(app, &s.token, "/api/customers/ada/subscriptions").await;
    let sub = list["data"][0]["id"].as_str().expect("id").to_string();
    (s, sub)
}
