//! Hardening found missing by an outside tester, one test per attack: refresh tokens that kept
//! scopes taken from their client and lived forever by rotation, an idempotency key raced by
//! two bodies, portal sessions that outlived single sign-on, cacheable private responses, a
//! hash tester whose curl ran shell code, and a health check a load balancer could not reach.

use reqwest::header::{ACCEPT, CACHE_CONTROL, ORIGIN};
use serde_json::{json, Value};
use subgate::config::Environment;
use subgate::oauth::clients::ClientInput;

use crate::support::oauth::{code_for, exchange, pkce_pair, token, REDIRECT};
use crate::support::sso::{follow, link_for, portal_view, ready};
use crate::support::{
    browser, connected, demo_customer, error_of, spawn_app, spawn_app_with, Options, TestApp,
};

/// A logged-in merchant's public client with every scope, and its first token response
/// (authorization code with PKCE, through the consent page).
async fn authorized_public_client(app: &TestApp) -> (String, Value) {
    app.signed_up().await;
    let merchant_id = app.merchant_id().await;
    let api = app.state.config.api_audiences();
    let input = ClientInput::parse(
        "CLI",
        "public",
        &[REDIRECT.into()],
        crate::support::ALL_SCOPES,
        &[],
        &api,
    )
    .expect("valid");
    let (client, _) = app
        .state
        .clients
        .create(&merchant_id, input, app.clock.now(), None)
        .await
        .expect("create");
    let (verifier, challenge) = pkce_pair();
    let code = code_for(app, &client.id, &challenge).await;
    let (status, body) = exchange(app, &client.id, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    (client.id, body)
}

async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    let (status, body, _) = token(app, form).await;
    (status, body)
}

async fn refresh(app: &TestApp, client_id: &str, tokens: &Value) -> (u16, Value) {
    token_request(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            (
                "refresh_token",
                tokens["refresh_token"].as_str().expect("rt"),
            ),
        ],
    )
    .await
}

#[tokio::test]
async fn a_refresh_after_the_client_lost_scopes_gets_only_what_it_is_allowed_now() {
    let app = spawn_app().await;
    let (client_id, first) = authorized_public_client(&app).await;
    assert!(first["scope"]
        .as_str()
        .expect("scope")
        .contains("portal:write"));
    // the merchant narrows the client to reading customers
    sqlx::query("UPDATE oauth_clients SET scopes = 'customers:read' WHERE id = $1")
        .bind(&client_id)
        .execute(&app.db.pool)
        .await
        .expect("narrow");
    let (status, second) = refresh(&app, &client_id, &first).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["scope"], "customers:read", "{second}");
    // asking for a removed scope back is refused
    let (status, body) = token_request(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            (
                "refresh_token",
                second["refresh_token"].as_str().expect("rt"),
            ),
            ("scope", "portal:write"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
}

#[tokio::test]
async fn rotation_never_keeps_a_refresh_chain_alive_past_its_first_thirty_days() {
    let app = spawn_app().await;
    let (client_id, mut tokens) = authorized_public_client(&app).await;
    // used every 10 days, the chain still ends 30 days after the authorization
    for _ in 0..2 {
        app.clock.advance(10 * 86_400);
        let (status, next) = refresh(&app, &client_id, &tokens).await;
        assert_eq!(status, 200, "{next}");
        tokens = next;
    }
    app.clock.advance(10 * 86_400 + 60);
    let (status, body) = refresh(&app, &client_id, &tokens).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn two_concurrent_pushes_with_one_idempotency_key_do_the_work_once() {
    let app = spawn_app().await;
    let c = connected(&app).await;
    let ada = demo_customer(&app, &c.account, "ada@example.com");
    let push = |subscriber: &'static str| {
        let (app, token, ada) = (&app, c.token.clone(), ada.clone());
        async move {
            browser()
                .post(app.url("/api/customers"))
                .bearer_auth(token)
                .header("idempotency-key", "order-7")
                .json(&json!({ "subscriber_id": subscriber, "customer_id": ada }))
                .send()
                .await
                .expect("push")
                .status()
                .as_u16()
        }
    };
    let (a, b) = tokio::join!(push("alice"), push("bob"));
    let mut statuses = [a, b];
    statuses.sort();
    assert_eq!(statuses[0], 201, "one of them did the work: {statuses:?}");
    assert!(
        [409, 422].contains(&statuses[1]),
        "the other did not (409 while in progress, 422 once done): {statuses:?}"
    );
    use sqlx::Row;
    let customers: i64 = sqlx::query("SELECT COUNT(*) AS n FROM customers")
        .fetch_one(&app.db.pool)
        .await
        .expect("count")
        .get("n");
    assert_eq!(customers, 1, "one key, one customer");
    // the same body again replays the first answer; another body is 422
    let (a, b) = tokio::join!(push("alice"), push("bob"));
    let mut replayed = [a, b];
    replayed.sort();
    assert_eq!(replayed, [201, 422], "a replay and a refusal");
}

#[tokio::test]
async fn turning_sso_off_ends_open_portal_sessions_at_once() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let (_, subscriber) = follow(&app, &link_for(&app, &r, "42").await).await;
    assert_eq!(portal_view(&subscriber).await["subscriber_id"], "42");
    let off = app.call_fn("disable_sso", &[("confirm", &r.store)]).await;
    assert_eq!(off.status().as_u16(), 200);
    assert_eq!(portal_view(&subscriber).await, Value::Null, "signed out");
    let (status, _) = error_of(subscriber.call_fn("open_billing", &[]).await).await;
    assert_eq!(status, 403, "no billing portal either");
}

#[tokio::test]
async fn private_responses_are_never_stored_by_caches() {
    let app = spawn_app().await;
    let c = connected(&app).await;
    let no_store = |res: &reqwest::Response| {
        res.headers()
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store"))
    };
    for path in [
        "/fn/current_merchant",
        "/dashboard/oauth",
        "/portal",
        "/o/authorize/",
    ] {
        let res = app.get_page(path).await;
        assert!(no_store(&res), "{path}: {:?}", res.headers());
    }
    let res = app
        .api(reqwest::Method::GET, "/api/customers", &c.token, None)
        .await;
    assert_eq!(res.status(), 200);
    assert!(no_store(&res), "/api/customers: {:?}", res.headers());
}

#[tokio::test]
async fn the_hash_testers_curl_keeps_a_quoted_subscriber_id_one_shell_word() {
    let app = spawn_app().await;
    ready(&app).await;
    let evil = "o'brien';id;'";
    let res = app
        .call_fn("test_sso_hash", &[("subscriber_id", evil)])
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let test: Value = res.json().await.expect("json");
    let curl = test["curl"].as_str().expect("curl");
    // run the command with `curl` replaced by printf: each argument on its own line
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(curl.replacen("curl", "printf '%s\\n'", 1))
        .output()
        .expect("sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("uid="), "`id` ran: {stdout}");
    let url = stdout.lines().nth(2).expect("the URL argument");
    assert!(
        url.ends_with("/subscribers/o'brien';id;'/login"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_load_balancers_plain_http_health_probe_gets_an_answer_in_production() {
    let app = spawn_app_with(Options {
        environment: Environment::Production,
        ..Options::default()
    })
    .await;
    for path in ["/healthz", "/readyz"] {
        let res = browser()
            .get(app.url(path))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .expect("probe");
        assert_eq!(res.status(), 200, "{path}");
    }
    let res = app.get_page("/login").await;
    assert_eq!(res.status(), 403, "everything else still needs HTTPS");
}

#[tokio::test]
async fn a_link_loaded_or_posted_by_another_site_signs_no_one_in() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let url = link_for(&app, &r, "42").await;
    // an <img src=link> or a redirect from the attacker's site: a GET only shows a page
    let victim = app.new_browser();
    let res = victim
        .client
        .get(&url)
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    assert!(
        crate::support::set_cookies(&res).is_empty(),
        "no portal cookie from a GET"
    );
    assert_eq!(portal_view(&victim).await, Value::Null);
    // an auto-submitted form on the attacker's site is refused, and does not use the link up
    let res = victim
        .client
        .post(&url)
        .header(ORIGIN, "https://evil.example")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    assert_eq!(portal_view(&victim).await, Value::Null);
    let (status, subscriber) = follow(&app, &url).await;
    assert_eq!(status, 303, "the subscriber's own click still works");
    assert_eq!(portal_view(&subscriber).await["subscriber_id"], "42");
}
