//! Clients as published keep working: recursiv's Flask PKCE client (its 40-character verifier,
//! its redirect URI on another origin), Riverty's token request and subscription path, and
//! Recurpay's login call at its own path. Each test names the published client's behaviour it
//! stands for; the end-to-end suite runs the clients themselves (end2end/tests/seeds.spec.ts).

use base64::Engine;
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_SECURITY_POLICY,
    CONTENT_TYPE, HOST, LOCATION, ORIGIN,
};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::oauth::{approve, authorize_query, exchange, query_of, setup, token};
use crate::support::{
    browser, connected, demo_customer, push, spawn_app, spawn_app_with, Merchant, Options, TestApp,
};

const RIVERTY_AUDIENCE: &str = "https://api.horizonafs.io";
/// A page of the merchant's own web app, on another origin than subgate.
const SPA_ORIGIN: &str = "http://127.0.0.1:5173";

/// A client registered on the OAuth tab with these fields (the rest empty).
async fn register(app: &TestApp, fields: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        ("name", "Client"),
        ("client_type", "confidential"),
        ("redirect_uris", ""),
        ("scopes", ""),
        ("audiences", ""),
    ];
    for (k, v) in fields {
        form.retain(|(name, _)| name != k);
        form.push((k, v));
    }
    let res = app.call_fn("create_client", &form).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn claims(access_token: &str) -> Value {
    let payload = access_token.split('.').nth(1).expect("jwt payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("b64"),
    )
    .expect("json")
}

#[tokio::test]
async fn the_consent_form_may_end_on_the_clients_own_origin() {
    // Chromium checks form-action on the 303 a form submission follows: with `'self'` alone the
    // Allow button of every client whose redirect URI is on another origin did nothing
    let app = spawn_app().await;
    app.sign_up(&Merchant::generate()).await;
    let (status, issued) = register(
        &app,
        &[
            ("client_type", "public"),
            ("redirect_uris", "https://shop.example.test/callback/"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    let id = issued["client"]["id"].as_str().expect("id");
    let (_, challenge) = crate::support::oauth::pkce_pair();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", id)
        .append_pair("redirect_uri", "https://shop.example.test/callback/")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let page = app.get_page(&format!("/o/authorize/?{query}")).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii")
        .to_string();
    let form_action = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("form-action"))
        .expect("form-action directive");
    assert_eq!(form_action, "form-action 'self' https://shop.example.test");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'none'"));
}

#[tokio::test]
async fn recursivs_forty_character_verifier_gets_a_token() {
    // the seed's `base64.urlsafe_b64encode(os.urandom(30)).rstrip(b'=')`: 40 characters
    let app = spawn_app().await;
    let s = setup(&app).await;
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0x5au8; 30]);
    assert_eq!(verifier.len(), 40);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let back = approve(&app, &authorize_query(&s.public_id, &challenge, &[])).await;
    let (status, body) = exchange(&app, &s.public_id, &query_of(&back)["code"], &verifier).await;
    assert_eq!(status, 200, "{body}");

    // below the entropy floor: a precise reason, not "does not match"
    let short = "b".repeat(31);
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(short.as_bytes()));
    let back = approve(&app, &authorize_query(&s.public_id, &challenge, &[])).await;
    let (status, body) = exchange(&app, &s.public_id, &query_of(&back)["code"], &short).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("32 to 128")),
        "{body}"
    );
}

#[tokio::test]
async fn a_verifier_for_a_code_issued_without_a_challenge_is_refused() {
    // RFC 9700 §4.8.2: someone stripped the challenge from the authorization request
    let app = spawn_app().await;
    let s = setup(&app).await;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &s.confidential_id)
        .append_pair("redirect_uri", "http://127.0.0.1:8765/callback")
        .append_pair("state", "xyz")
        .finish();
    let code = query_of(&approve(&app, &query).await)["code"].clone();
    let (status, body, _) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &s.confidential_id),
            ("client_secret", &s.secret),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:8765/callback"),
            ("code_verifier", &"v".repeat(50)),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn authorization_responses_name_their_issuer() {
    // RFC 9207
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (_, challenge) = crate::support::oauth::pkce_pair();
    let granted = query_of(&approve(&app, &authorize_query(&s.public_id, &challenge, &[])).await);
    assert_eq!(granted["iss"], app.address);
    let refused = app
        .get_page(&format!(
            "/o/authorize/?{}",
            authorize_query(&s.public_id, &challenge, &[("scope", "admin")])
        ))
        .await;
    let q = query_of(refused.headers()[LOCATION].to_str().expect("location"));
    assert_eq!(
        (q["error"].as_str(), q["iss"].as_str()),
        ("invalid_scope", app.address.as_str())
    );
    let metadata: Value = browser()
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json");
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
}

/// Riverty's request, as its page shows it: form-encoded client id and secret in the body,
/// `grant_type=client_credentials`, `audience=https://api.horizonafs.io`, at `/oauth/token`.
async fn riverty_token(app: &TestApp, client_id: &str, secret: &str) -> reqwest::Response {
    browser()
        .post(app.url("/oauth/token"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "client_id={client_id}&client_secret={secret}&grant_type=client_credentials&audience={RIVERTY_AUDIENCE}"
        ))
        .send()
        .await
        .expect("token")
}

#[tokio::test]
async fn riverty_s_token_request_opens_riverty_s_subscription_path() {
    let app = spawn_app_with(Options {
        extra_api_audiences: vec![RIVERTY_AUDIENCE.into()],
        ..Options::default()
    })
    .await;
    let c = connected(&app).await;
    let ada = demo_customer(&app, &c.account, "ada@example.com");
    assert_eq!(push(&app, &c.token, "42", &ada).await.status(), 201);
    let subs: Value = app
        .api(
            Method::GET,
            "/api/customers/42/subscriptions",
            &c.token,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let subscription = subs["data"][0]["id"]
        .as_str()
        .expect("a subscription")
        .to_string();

    // Riverty's tokens live a day: a per-client setting
    let (status, issued) = register(
        &app,
        &[
            ("audiences", RIVERTY_AUDIENCE),
            ("access_token_ttl", "86400"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    let id = issued["client"]["id"].as_str().expect("id");
    let secret = issued["secret"].as_str().expect("secret");
    let res = riverty_token(&app, id, secret).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["expires_in"], 86_400);
    assert_eq!(body["token_type"], "Bearer");
    let access = body["access_token"].as_str().expect("token");
    let jwt = claims(access);
    assert_eq!(jwt["aud"], RIVERTY_AUDIENCE);
    assert_eq!(
        jwt["exp"].as_i64().expect("exp") - jwt["iat"].as_i64().expect("iat"),
        86_400
    );

    let path = format!("/subscription/v1/clients/{id}/subscriptions/{subscription}");
    let res = app.api(Method::GET, &path, access, None).await;
    assert_eq!(res.status(), 200);
    let view: Value = res.json().await.expect("json");
    assert_eq!(view["id"], subscription.as_str());
}

#[tokio::test]
async fn clients_may_be_given_only_audiences_the_api_answers_to() {
    // otherwise any merchant could mint subgate-signed tokens for another service's audience
    let app = spawn_app().await;
    app.sign_up(&Merchant::generate()).await;
    let (status, body) =
        register(&app, &[("audiences", "https://other-merchant.example/api")]).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("not one this server"), "{body}");

    // an audience the operator has since removed is refused at the token endpoint too
    let (status, issued) = register(&app, &[]).await;
    assert_eq!(status, 200);
    let id = issued["client"]["id"].as_str().expect("id");
    sqlx::query("UPDATE oauth_clients SET audiences = $1 WHERE id = $2")
        .bind(r#"["https://removed.example/api"]"#)
        .bind(id)
        .execute(&app.db.pool)
        .await
        .expect("stale audience");
    let res = browser()
        .post(app.url("/o/token/"))
        .basic_auth(id, issued["secret"].as_str())
        .form(&[
            ("grant_type", "client_credentials"),
            ("audience", "https://removed.example/api"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.expect("json")["error"],
        "invalid_target"
    );
}

#[tokio::test]
async fn access_token_lifetimes_are_bounded() {
    let app = spawn_app().await;
    app.sign_up(&Merchant::generate()).await;
    for bad in ["86401", "299", "1h"] {
        let (status, body) = register(&app, &[("access_token_ttl", bad)]).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
    let (_, issued) = register(&app, &[]).await;
    assert_eq!(issued["client"]["access_token_ttl"], 3600);
}

#[tokio::test]
async fn an_unknown_post_is_a_json_404_not_a_csrf_error() {
    let app = spawn_app().await;
    for path in ["/oauth/authorize", "/nope", "/o/nope/"] {
        let res = browser()
            .post(app.url(path))
            .form(&[("a", "b")])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 404, "{path}");
        assert!(res.headers()[CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("application/json"));
        assert_eq!(
            res.json::<Value>().await.expect("json")["error"],
            "not_found"
        );
    }
}

#[tokio::test]
async fn an_oversize_body_gets_a_json_error_everywhere() {
    let app = spawn_app().await;
    let big = "x".repeat(2 * 1024 * 1024);
    for (path, content_type) in [
        ("/o/token/", "application/x-www-form-urlencoded"),
        ("/api/customers", "application/json"),
        (
            "/api/v1/stores/acme/subscribers/42/login",
            "application/json",
        ),
        (
            "/admin/api/2024-01/subscribers/42/login",
            "application/json",
        ),
    ] {
        let res = browser()
            .post(app.url(path))
            .header(CONTENT_TYPE, content_type)
            .body(big.clone())
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 413, "{path}");
        assert!(
            res.headers()[CONTENT_TYPE]
                .to_str()
                .expect("ascii")
                .starts_with("application/json"),
            "{path}"
        );
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"], "payload_too_large", "{path}");
        if path.ends_with("/login") {
            assert_eq!(body["success"], false, "Recurpay's envelope on {path}");
        }
    }
}

#[tokio::test]
async fn recurpay_s_login_path_works_on_the_store_s_own_host() {
    let app = spawn_app_with(Options {
        sso_domain: Some("sso.example.test".into()),
        ..Options::default()
    })
    .await;
    let ready = crate::support::sso::ready(&app).await;
    let body = json!({ "customer_hash": crate::support::sso::hash(&ready.secret, "42") });
    let login = |host: Option<String>, store_header: Option<&str>| {
        let mut req = browser()
            .post(app.url("/admin/api/2024-01/subscribers/42/login"))
            .json(&body);
        if let Some(host) = host {
            req = req.header(HOST, host);
        }
        if let Some(store) = store_header {
            req = req.header("x-subgate-store", store);
        }
        req.send()
    };
    // the store's own host, as a Recurpay integration calls `{subdomain}.recurpay.com`
    let res = login(Some(format!("{}.sso.example.test", ready.store)), None)
        .await
        .expect("login");
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.expect("json");
    assert_eq!(answer["success"], true);
    let link = answer["data"]["redirection_url"].as_str().expect("link");
    assert!(
        link.starts_with(&format!("{}/portal/sso/", app.address)),
        "{link}"
    );

    // without the SSO domain's host, a header names the store
    let res = login(None, Some(&ready.store)).await.expect("login");
    assert_eq!(res.status(), 200);
    // neither: Recurpay's error envelope
    let res = login(None, None).await.expect("login");
    assert_eq!(res.status(), 404);
    let answer: Value = res.json().await.expect("json");
    assert_eq!(
        (answer["success"].as_bool(), answer["error"].as_str()),
        (Some(false), Some("unknown_store"))
    );
    // a wrong hash on the new path is refused as on the old one
    let res = browser()
        .post(app.url("/admin/api/2024-01/subscribers/42/login"))
        .header(HOST, format!("{}.sso.example.test", ready.store))
        .json(&json!({ "customer_hash": "0".repeat(64) }))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 401);
}

/// A public client whose pages live on [`SPA_ORIGIN`] (registered there, as a merchant would).
async fn spa_client(app: &TestApp) -> String {
    let (status, issued) = register(
        app,
        &[
            ("client_type", "public"),
            ("redirect_uris", &format!("{SPA_ORIGIN}/callback")),
            ("allowed_origins", SPA_ORIGIN),
        ],
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!(issued["client"]["allowed_origins"], json!([SPA_ORIGIN]));
    issued["client"]["id"].as_str().expect("id").to_string()
}

fn allowed_origin(res: &reqwest::Response) -> Option<String> {
    assert!(
        res.headers()
            .get(ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none(),
        "credentials are never allowed cross-origin"
    );
    res.headers()
        .get(ACCESS_CONTROL_ALLOW_ORIGIN)
        .map(|v| v.to_str().expect("ascii").to_string())
}

#[tokio::test]
async fn a_browser_client_on_its_registered_origin_may_call_token_and_api() {
    let app = spawn_app().await;
    app.sign_up(&Merchant::generate()).await;
    let id = spa_client(&app).await;
    let preflight = |path: &str, origin: &str| {
        browser()
            .request(Method::OPTIONS, app.url(path))
            .header(ORIGIN, origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let res = preflight("/api/me", SPA_ORIGIN).await.expect("preflight");
    assert!(res.status().is_success());
    assert_eq!(allowed_origin(&res).as_deref(), Some(SPA_ORIGIN));
    assert!(res.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .contains("authorization"));
    let res = preflight("/api/me", "https://evil.example")
        .await
        .expect("preflight");
    assert_eq!(allowed_origin(&res), None);
    let res = preflight("/o/token/", SPA_ORIGIN).await.expect("preflight");
    assert!(res.status().is_success());
    assert_eq!(allowed_origin(&res).as_deref(), Some(SPA_ORIGIN));

    // the code exchange, as `fetch` sends it from the page: a form body and the Origin header
    let (verifier, challenge) = crate::support::oauth::pkce_pair();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &id)
        .append_pair("redirect_uri", &format!("{SPA_ORIGIN}/callback"))
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let code = query_of(&approve(&app, &query).await)["code"].clone();
    let res = browser()
        .post(app.url("/o/token/"))
        .header(ORIGIN, SPA_ORIGIN)
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", id.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", &format!("{SPA_ORIGIN}/callback")),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 200);
    assert_eq!(allowed_origin(&res).as_deref(), Some(SPA_ORIGIN));
    let tokens: Value = res.json().await.expect("json");
    let access = tokens["access_token"].as_str().expect("access");

    let me = |origin: &'static str, token: String| {
        browser()
            .get(app.url("/api/me"))
            .header(ORIGIN, origin)
            .bearer_auth(token)
            .send()
    };
    let res = me(SPA_ORIGIN, access.to_string()).await.expect("me");
    assert_eq!(res.status(), 200);
    assert_eq!(allowed_origin(&res).as_deref(), Some(SPA_ORIGIN));
    // another origin cannot read the same call
    let res = me("https://evil.example", access.to_string())
        .await
        .expect("me");
    assert_eq!(allowed_origin(&res), None);
    // nor can the registered origin read a call made with another client's token
    let other = app.bearer("customers:read").await;
    let res = me(SPA_ORIGIN, other).await.expect("me");
    assert_eq!(res.status(), 200);
    assert_eq!(allowed_origin(&res), None);
    // the token endpoint answers a foreign origin without CORS
    let res = browser()
        .post(app.url("/o/token/"))
        .header(ORIGIN, "https://evil.example")
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", id.as_str()),
            ("code", "x"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 400);
    assert_eq!(allowed_origin(&res), None);
}

#[tokio::test]
async fn allowed_origins_are_exact_origins() {
    let app = spawn_app().await;
    app.sign_up(&Merchant::generate()).await;
    for bad in [
        "*",
        "https://*.example.com",
        "http://shop.example.com",
        "https://shop.example.com/app",
        "null",
    ] {
        let (status, body) = register(&app, &[("allowed_origins", bad)]).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
}
