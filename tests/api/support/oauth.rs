//! OAuth test helpers: a merchant with clients, PKCE pairs, the consent round trip, token
//! requests.

use base64::Engine;
use reqwest::header::{LOCATION, ORIGIN};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subgate::oauth::clients::ClientInput;

use crate::support::{browser, Merchant, TestApp};

pub(crate) const REDIRECT: &str = "http://127.0.0.1:8765/callback";
/// An audience the operator configures for the API in some tests (`SUBGATE_API_AUDIENCES`).
pub(crate) const BILLING_API: &str = "https://billing.acme.test";

pub(crate) struct Setup {
    pub merchant_id: String,
    pub public_id: String,
    pub confidential_id: String,
    pub secret: String,
}

pub(crate) async fn merchant_id(app: &TestApp) -> String {
    let me: Value = app
        .client
        .get(app.url("/fn/current_merchant"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    me["id"].as_str().expect("logged in").to_string()
}

/// A logged-in merchant with one public and one confidential client.
pub(crate) async fn setup(app: &TestApp) -> Setup {
    app.sign_up(&Merchant::generate()).await;
    let merchant_id = merchant_id(app).await;
    let api = app.state.config.api_audiences();
    let now = app.clock.now();
    let public =
        ClientInput::parse("CLI", "public", &[REDIRECT.into()], "", &[], &api).expect("valid");
    let (public, _) = app
        .state
        .clients
        .create(&merchant_id, public, now, None)
        .await
        .expect("create");
    let confidential = ClientInput::parse(
        "Backend",
        "confidential",
        &[REDIRECT.into()],
        "customers:read subscriptions:read",
        // every audience the operator configured (see `BILLING_API`)
        &api,
        &api,
    )
    .expect("valid");
    let (confidential, secret) = app
        .state
        .clients
        .create(&merchant_id, confidential, now, None)
        .await
        .expect("create");
    Setup {
        merchant_id,
        public_id: public.id,
        confidential_id: confidential.id,
        secret: secret.expect("secret").0,
    }
}

pub(crate) async fn fetch_jwks(app: &TestApp) -> Value {
    browser()
        .get(app.url("/o/jwks/"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json")
}

/// The decoded JOSE header of the access token in a token response.
pub(crate) fn jwt_header(token_response: &Value) -> Value {
    let header = token_response["access_token"]
        .as_str()
        .expect("jwt")
        .split('.')
        .next()
        .expect("header");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .expect("b64"),
    )
    .expect("json")
}

/// An authorization error shown on a page: never a redirect (no open redirector).
pub(crate) async fn assert_error_page(res: reqwest::Response, message: &str) {
    assert!(res.headers().get(LOCATION).is_none());
    assert!(res.text().await.expect("html").contains(message));
}

pub(crate) fn pkce_pair() -> (String, String) {
    let verifier = subgate::crypto::random_token(48);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub(crate) fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(location)
        .expect("absolute redirect")
        .query_pairs()
        .into_owned()
        .collect()
}

pub(crate) fn authorize_query(client_id: &str, challenge: &str, extra: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT);
    q.append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "xyz");
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    q.finish()
}

/// GET the authorize page, press Allow, return the redirect back to the client.
pub(crate) async fn approve(app: &TestApp, query: &str) -> String {
    let page = app.get_page(&format!("/o/authorize/?{query}")).await;
    assert_eq!(page.status(), 200, "consent page");
    let html = page.text().await.expect("html");
    assert!(html.contains("id=\"client-name\""));
    let token =
        crate::support::meta_csrf_token(&app.get_page("/").await.text().await.expect("html"))
            .expect("token");
    let res = app
        .client
        .post(app.url("/o/authorize/"))
        .header(ORIGIN, &app.address)
        .form(&[
            ("csrf_token", token.as_str()),
            ("request", query),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("post consent");
    assert_eq!(res.status(), 303);
    res.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_string()
}

pub(crate) async fn code_for(app: &TestApp, client_id: &str, challenge: &str) -> String {
    let back = approve(app, &authorize_query(client_id, challenge, &[])).await;
    let q = query_of(&back);
    assert_eq!(q["state"], "xyz");
    q["code"].clone()
}

pub(crate) async fn token(
    app: &TestApp,
    form: &[(&str, &str)],
) -> (u16, Value, reqwest::header::HeaderMap) {
    let res = browser()
        .post(app.url("/o/token/"))
        .form(form)
        .send()
        .await
        .expect("token");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.json().await.unwrap_or(Value::Null), headers)
}

pub(crate) async fn exchange(
    app: &TestApp,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> (u16, Value) {
    let (s, b, _) = token(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await;
    (s, b)
}

pub(crate) async fn me(app: &TestApp, access_token: &str) -> reqwest::Response {
    browser()
        .get(app.url("/api/me"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("me")
}

pub(crate) async fn client_credentials(
    app: &TestApp,
    s: &Setup,
    extra: &[(&str, &str)],
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    let res = browser()
        .post(app.url("/o/token/"))
        .basic_auth(&s.confidential_id, Some(&s.secret))
        .form(&form)
        .send()
        .await
        .expect("token");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.json().await.unwrap_or(Value::Null), headers)
}
