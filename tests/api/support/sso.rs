//! Single sign-on test helpers: a merchant ready for SSO, hashes, the login call, following a
//! link as the subscriber.

use serde_json::{json, Value};

use crate::support::{browser, connected, demo_customer, error_of, push, TestApp};

/// A merchant with Stripe connected, subscriber "42" pushed (the demo customer Ada, who has an
/// active Pro subscription) and single sign-on turned on.
pub(crate) struct Ready {
    pub(crate) store: String,
    pub(crate) secret: String,
    /// The merchant, their Stripe account and a bearer token with every scope.
    pub(crate) connected: crate::support::Connected,
}

pub(crate) async fn ready(app: &TestApp) -> Ready {
    let c = connected(app).await;
    let ada = demo_customer(app, &c.account, "ada@example.com");
    assert_eq!(push(app, &c.token, "42", &ada).await.status().as_u16(), 201);
    let status = enable(app).await;
    Ready {
        store: status["store"].as_str().expect("store").to_string(),
        secret: secrets(app).await.0,
        connected: c,
    }
}

pub(crate) async fn sso_tab(app: &TestApp) -> Value {
    app.client
        .get(app.url("/fn/sso_status"))
        .send()
        .await
        .expect("sso status")
        .json()
        .await
        .expect("json")
}

pub(crate) async fn enable(app: &TestApp) -> Value {
    assert_eq!(app.call_fn("enable_sso", &[]).await.status().as_u16(), 200);
    let s = sso_tab(app).await;
    assert_eq!(s["enabled"], true, "{s}");
    s
}

/// (current, previous) in the clear, as the tab's Reveal button gets them.
pub(crate) async fn secrets(app: &TestApp) -> (String, Option<String>) {
    let res = app.call_fn("reveal_sso_secrets", &[]).await;
    assert_eq!(res.status().as_u16(), 200);
    let v: Value = res.json().await.expect("json");
    (
        v["current"].as_str().expect("current").to_string(),
        v["previous"].as_str().map(String::from),
    )
}

pub(crate) fn hash(secret: &str, message: &str) -> String {
    hex::encode(subgate::crypto::hmac_sha256(
        secret.as_bytes(),
        message.as_bytes(),
    ))
}

pub(crate) fn login_path(store: &str, subscriber: &str) -> String {
    format!("/api/v1/stores/{store}/subscribers/{subscriber}/login")
}

/// The merchant's server calling the login endpoint.
pub(crate) async fn login(
    app: &TestApp,
    store: &str,
    subscriber: &str,
    body: Value,
) -> (u16, Value) {
    error_of(
        browser()
            .post(app.url(&login_path(store, subscriber)))
            .header("user-agent", "merchant-backend/1.0")
            .json(&body)
            .send()
            .await
            .expect("login call"),
    )
    .await
}

/// The merchant's server calling the login endpoint with the subscriber's classic hash.
pub(crate) async fn login_as(app: &TestApp, r: &Ready, subscriber: &str) -> (u16, Value) {
    login(
        app,
        &r.store,
        subscriber,
        json!({ "customer_hash": hash(&r.secret, subscriber) }),
    )
    .await
}

pub(crate) async fn link_for(app: &TestApp, r: &Ready, subscriber: &str) -> String {
    let (status, body) = login_as(app, r, subscriber).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["redirection_url"]
        .as_str()
        .expect("redirection_url")
        .to_string()
}

/// A subscriber's browser following the link and pressing "Continue" on the page it shows:
/// the final status (303 into the portal, or the refusal page's), and the browser.
pub(crate) async fn follow(app: &TestApp, url: &str) -> (u16, TestApp) {
    let subscriber = app.new_browser();
    let page = subscriber
        .client
        .get(url)
        .header("accept", "text/html")
        .send()
        .await
        .expect("follow link");
    if page.status().as_u16() != 200 {
        return (page.status().as_u16(), subscriber);
    }
    assert!(page
        .text()
        .await
        .expect("html")
        .contains("id=\"confirm-sso\""));
    let res = subscriber
        .client
        .post(url)
        .header("accept", "text/html")
        .header("origin", &app.address)
        .send()
        .await
        .expect("continue");
    (res.status().as_u16(), subscriber)
}

pub(crate) async fn portal_view(browser: &TestApp) -> Value {
    browser
        .client
        .get(browser.url("/fn/portal_view"))
        .send()
        .await
        .expect("portal view")
        .json()
        .await
        .expect("json")
}
