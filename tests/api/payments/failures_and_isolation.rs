//! Stripe's failures as clear JSON errors, scopes per endpoint, tenants kept apart, unknown paths.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::webhooks::json_of;
use crate::support::{connected, demo_customer, push, spawn_app};

#[tokio::test]
async fn stripe_failures_map_to_clear_json_errors_never_500() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    push(&app, &s.token, "ada", &ada).await;
    let refresh = "/api/customers/ada/subscriptions?refresh=true";

    // a failing Stripe: 502 with Stripe's request id (retries exhausted)
    app.stripe
        .simulator
        .set_faults(subgate::stripe_simulator::Faults {
            fail_next: 10,
            fail_status: 500,
            ..Default::default()
        });
    let (status, body) = json_of(app.api(Method::GET, refresh, &s.token, None).await).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "gateway_error");
    assert!(body["request_id"]
        .as_str()
        .expect("request id")
        .starts_with("req_"));
    app.stripe.simulator.set_faults(Default::default());

    // rate limits are retried with backoff and then succeed
    app.stripe
        .simulator
        .set_faults(subgate::stripe_simulator::Faults {
            rate_limit_next: 2,
            ..Default::default()
        });
    let (status, _) = json_of(app.api(Method::GET, refresh, &s.token, None).await).await;
    assert_eq!(status, 200);
    let limited = app
        .stripe
        .simulator
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/subscriptions")
        .count();
    assert!(limited >= 3, "the 429s were retried");

    // a slow Stripe: 504 within the deadline (2 s per attempt in tests)
    app.stripe
        .simulator
        .set_faults(subgate::stripe_simulator::Faults {
            latency_ms: 10_000,
            ..Default::default()
        });
    let started = std::time::Instant::now();
    let (status, body) = json_of(app.api(Method::GET, refresh, &s.token, None).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (504, Some("gateway_timeout"))
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(9));
    // the mirror still answers meanwhile
    let (status, _) = json_of(
        app.api(
            Method::GET,
            "/api/customers/ada/subscriptions",
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    app.stripe.simulator.set_faults(Default::default());
}

#[tokio::test]
async fn each_endpoint_needs_its_scope() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let read_only = app.bearer("customers:read").await;
    let (status, body) = json_of(push(&app, &read_only, "x", "cus_abc").await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let (status, _) = json_of(
        app.api(
            Method::GET,
            "/api/customers/x/subscriptions",
            &read_only,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = json_of(
        app.api(Method::GET, "/api/customers", &read_only, None)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let _ = s;
}

#[tokio::test]
async fn merchant_b_can_never_read_merchant_as_customers_or_subscriptions() {
    let app = spawn_app().await;
    let a = connected(&app).await;
    let ada = demo_customer(&app, &a.account, "ada@example.com");
    push(&app, &a.token, "ada", &ada).await;
    let sub = app
        .api(
            Method::GET,
            "/api/customers/ada/subscriptions",
            &a.token,
            None,
        )
        .await
        .json::<Value>()
        .await
        .expect("json")["data"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();

    let b_app = app.new_browser();
    let b = connected(&b_app).await;
    for path in [
        "/api/customers/ada".to_string(),
        "/api/customers/ada/subscriptions".to_string(),
        format!("/api/subscriptions/{sub}"),
        format!("/api/subscriptions/{sub}?refresh=true"),
    ] {
        let (status, _) = json_of(b_app.api(Method::GET, &path, &b.token, None).await).await;
        assert_eq!(status, 404, "B reads {path}");
    }
    let list: Value = b_app
        .api(Method::GET, "/api/customers", &b.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["data"], json!([]));
    let (status, _) = json_of(
        b_app
            .api(Method::DELETE, "/api/customers/ada", &b.token, None)
            .await,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = json_of(
        b_app
            .api(
                Method::POST,
                "/api/customers/ada/portal-session",
                &b.token,
                Some(json!({ "return_url": "https://evil.example/" })),
            )
            .await,
    )
    .await;
    assert_eq!(status, 404);
    // B pushing A's Stripe customer id: it does not exist on B's account
    let (status, _) = json_of(push(&b_app, &b.token, "stolen", &ada).await).await;
    assert_eq!(status, 404);
    // A still has everything
    assert_eq!(
        app.api(Method::GET, "/api/customers/ada", &a.token, None)
            .await
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn unknown_api_paths_and_methods_answer_in_json() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let (status, body) = json_of(
        app.api(Method::GET, "/api/nothing/here", &s.token, None)
            .await,
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let (status, body) =
        json_of(app.api(Method::PUT, "/api/customers", &s.token, None).await).await;
    assert_eq!(status, 405);
    assert!(body["message"].is_string());
}
