//! Stripe Connect from the Connect tab: the OAuth round trip to the simulator, its refusals,
//! forged states, and revoking from either side.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::webhooks::json_of;
use crate::support::{
    browser, connected, demo_customer, push, query_param, spawn_app, spawn_app_with, Options,
    ALL_SCOPES, STRIPE_CLIENT_ID,
};

#[tokio::test]
async fn connecting_sends_the_merchant_to_stripe_with_a_session_bound_state_and_prefill() {
    let app = spawn_app().await;
    let m = app.signed_up().await;
    let url = app.start_connect().await;
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", app.stripe.base_url)),
        "{url}"
    );
    assert_eq!(query_param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(
        query_param(&url, "client_id").as_deref(),
        Some(STRIPE_CLIENT_ID)
    );
    assert_eq!(query_param(&url, "scope").as_deref(), Some("read_write"));
    assert_eq!(
        query_param(&url, "redirect_uri"),
        Some(app.url("/connect/stripe/callback"))
    );
    assert_eq!(
        query_param(&url, "stripe_user[email]"),
        Some(m.email.clone())
    );
    assert_eq!(
        query_param(&url, "stripe_user[business_name]"),
        Some(m.business_name.clone())
    );
    // the (simulated) Stripe page itself: its URL carries the state, so it is never framed,
    // never passed on as a referrer
    let page = browser().get(&url).send().await.expect("Stripe's page");
    assert_eq!(page.status(), 200);
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
    ] {
        assert_eq!(page.headers()[name], value, "{name}");
    }
    let state = query_param(&url, "state").expect("state");
    assert!(state.len() >= 43, "256-bit state");
    assert_ne!(
        query_param(&app.start_connect().await, "state"),
        Some(state),
        "a fresh state each time"
    );
}

#[tokio::test]
async fn the_connect_flow_records_the_account_and_the_tab_shows_it() {
    let app = spawn_app().await;
    let m = app.signed_up().await;
    assert_eq!(app.connection().await["state"], "not_connected");
    let state = query_param(&app.start_connect().await, "state").expect("state");
    let code = app
        .stripe
        .simulator
        .approve_authorization(&m.business_name, &m.email);
    let res = app
        .connect_callback(&format!("code={code}&scope=read_write&state={state}"))
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/dashboard/connect");
    let c = app.connection().await;
    assert_eq!(c["state"], "connected");
    let account = c["account_id"].as_str().expect("account").to_string();
    assert!(account.starts_with("acct_"));
    assert_eq!(c["business_name"], m.business_name.as_str());
    assert_eq!(c["livemode"], false);
    assert_eq!(
        c["simulated"], false,
        "an external Stripe (fake) is not the built-in simulator"
    );
    assert_eq!(c["api_version"], "2026-09-30.endive");
    assert!(c["connected_at"].as_i64().is_some());
    assert_eq!(c["notice"]["ok"], true);
    assert!(c["notice"]["message"]
        .as_str()
        .expect("notice")
        .contains(&account));
    assert_eq!(
        app.connection().await["notice"],
        Value::Null,
        "a notice shows once"
    );
    // the token call authenticated with the platform key, never anything of the merchant's
    let token_calls: Vec<_> = app
        .stripe
        .simulator
        .requests()
        .into_iter()
        .filter(|r| r.path == "/oauth/token")
        .collect();
    assert_eq!(token_calls.len(), 1);
}

#[tokio::test]
async fn declining_on_stripe_is_explained_and_nothing_is_connected() {
    let app = spawn_app().await;
    app.signed_up().await;
    let state = query_param(&app.start_connect().await, "state").expect("state");
    let res = app
        .connect_callback(&format!(
            "error=access_denied&error_description=The+user+denied+your+request&state={state}"
        ))
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        res.headers()["location"].to_str().expect("location"),
        "/dashboard/connect"
    );
    let c = app.connection().await;
    assert_eq!(c["state"], "not_connected");
    assert_eq!(c["notice"]["ok"], false);
    assert!(c["notice"]["message"]
        .as_str()
        .expect("message")
        .contains("declined"));
}

#[tokio::test]
async fn other_stripe_errors_are_shown_with_stripes_description() {
    let app = spawn_app().await;
    app.signed_up().await;
    let state = query_param(&app.start_connect().await, "state").expect("state");
    app.connect_callback(&format!(
        "error=invalid_scope&error_description=Invalid+scope+requested&state={state}"
    ))
    .await;
    let c = app.connection().await;
    assert_eq!(c["state"], "not_connected");
    assert!(c["notice"]["message"]
        .as_str()
        .expect("message")
        .contains("Invalid scope requested"));
}

#[tokio::test]
async fn a_callback_with_a_forged_used_or_missing_state_never_exchanges_the_code() {
    let app = spawn_app().await;
    let m = app.signed_up().await;
    let state = query_param(&app.start_connect().await, "state").expect("state");
    for query in [
        "code=ac_x&state=forged".to_string(),
        "code=ac_x".to_string(),
    ] {
        app.connect_callback(&query).await;
        let c = app.connection().await;
        assert_eq!(c["state"], "not_connected", "{query}");
        assert!(c["notice"]["message"]
            .as_str()
            .expect("message")
            .contains("invalid or has expired"));
    }
    // the forged attempt consumed the real state too: it cannot be used afterwards
    let code = app
        .stripe
        .simulator
        .approve_authorization(&m.business_name, &m.email);
    app.connect_callback(&format!("code={code}&state={state}"))
        .await;
    assert_eq!(app.connection().await["state"], "not_connected");
    assert!(
        !app.stripe
            .simulator
            .requests()
            .iter()
            .any(|r| r.path == "/oauth/token"),
        "no code was ever sent to Stripe"
    );
}

#[tokio::test]
async fn another_merchants_session_cannot_use_my_state() {
    let app = spawn_app().await;
    app.signed_up().await;
    let state = query_param(&app.start_connect().await, "state").expect("state");
    let other = app.new_browser();
    let m2 = other.signed_up().await;
    let code = app
        .stripe
        .simulator
        .approve_authorization(&m2.business_name, &m2.email);
    other
        .connect_callback(&format!("code={code}&state={state}"))
        .await;
    assert_eq!(other.connection().await["state"], "not_connected");
}

/// The same server, seen from another browser.
#[tokio::test]
async fn a_bad_authorization_code_reports_stripes_refusal() {
    let app = spawn_app().await;
    app.signed_up().await;
    let state = query_param(&app.start_connect().await, "state").expect("state");
    app.connect_callback(&format!("code=ac_doesnotexist&state={state}"))
        .await;
    let c = app.connection().await;
    assert_eq!(c["state"], "not_connected");
    let message = c["notice"]["message"].as_str().expect("message");
    assert!(message.contains("refused"), "{message}");
}

#[tokio::test]
async fn revoking_from_the_tab_deauthorizes_at_stripe_and_the_api_answers_409() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    assert_eq!(
        push(&app, &s.token, "ada", &ada).await.status().as_u16(),
        201
    );

    let res = app
        .call_fn("revoke_connection", &[("confirm", &s.account)])
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let deauth: Vec<_> = app
        .stripe
        .simulator
        .requests()
        .into_iter()
        .filter(|r| r.path == "/oauth/deauthorize")
        .collect();
    assert_eq!(deauth.len(), 1, "Stripe was told");
    let summary = app
        .stripe
        .simulator
        .accounts()
        .into_iter()
        .find(|a| a.id == s.account)
        .expect("account");
    assert!(!summary.authorized, "the simulator no longer grants access");
    let c = app.connection().await;
    assert_eq!(c["state"], "revoked");
    assert_eq!(c["revoked_by"], "merchant");

    for (method, path) in [
        (Method::GET, "/api/customers/ada/subscriptions"),
        (Method::POST, "/api/customers/ada/portal-session"),
    ] {
        let body =
            (method == Method::POST).then(|| json!({ "return_url": "https://shop.example/" }));
        let (status, body) = json_of(app.api(method, path, &s.token, body).await).await;
        assert_eq!(status, 409, "{path}");
        assert_eq!(body["error"], "not_connected");
        assert!(body["message"]
            .as_str()
            .expect("message")
            .contains("revoked"));
    }
    let (status, body) = json_of(push(&app, &s.token, "bob", &ada).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("not_connected"))
    );
    // subgate's own data stays readable
    assert_eq!(
        app.api(Method::GET, "/api/customers/ada", &s.token, None)
            .await
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn revoking_from_stripes_side_arrives_by_webhook_and_flips_the_tab() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    app.stripe.simulator.deauthorize(&s.account);
    app.stripe.simulator.wait_for_deliveries().await;
    let c = app.connection().await;
    assert_eq!(c["state"], "revoked");
    assert_eq!(c["revoked_by"], "gateway");
    assert!(c["last_webhook_at"].as_i64().is_some());
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    let (status, body) = json_of(push(&app, &s.token, "ada", &ada).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("not_connected"))
    );
    // connecting again restores access
    app.connect_stripe(&s.merchant).await;
    assert_eq!(
        push(&app, &s.token, "ada", &ada).await.status().as_u16(),
        201
    );
}

#[tokio::test]
async fn stripe_refusing_access_marks_the_connection_revoked_even_without_a_webhook() {
    let app = spawn_app_with(Options {
        simulator_webhooks: false,
        ..Options::default()
    })
    .await;
    let s = connected(&app).await;
    app.stripe.simulator.deauthorize(&s.account);
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    let (status, body) = json_of(push(&app, &s.token, "ada", &ada).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("not_connected"))
    );
    let c = app.connection().await;
    assert_eq!(c["state"], "revoked");
    assert_eq!(c["revoked_by"], "gateway");
}

#[tokio::test]
async fn a_merchant_who_never_connected_gets_409_from_everything_that_needs_stripe() {
    let app = spawn_app().await;
    app.signed_up().await;
    let token = app.bearer(ALL_SCOPES).await;
    let (status, body) = json_of(push(&app, &token, "42", "cus_abc").await).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"], "not_connected");
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("Connect tab"));
    let (status, body) = json_of(
        app.api(Method::GET, "/api/subscriptions/sub_123", &token, None)
            .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("not_connected"))
    );
    let (status, _) = json_of(app.call_fn("revoke_connection", &[]).await).await;
    assert_eq!(status, 409);
    // listing subgate's own (empty) data needs no Stripe
    let (status, body) = json_of(app.api(Method::GET, "/api/customers", &token, None).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"], json!([]));
}
