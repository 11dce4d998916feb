//! Stripe Connect, the customers and subscriptions API, and webhooks, over real HTTP against a
//! Stripe simulator on another loopback port (async-stripe and the oauth2 client are pointed
//! at it by base URL).

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::webhooks::{deliver, event, json_of, sign, stripe_subscription};
use crate::support::{
    browser, connected, demo_customer, push, query_param, spawn_app, spawn_app_with, Options,
    ALL_SCOPES, STRIPE_CLIENT_ID, WEBHOOK_SECRET,
};

// ---------------------------------------------------------------------------------------------
// Connect

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

    let res = app.call_fn("revoke_connection", &[]).await;
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

// ---------------------------------------------------------------------------------------------
// customers

#[tokio::test]
async fn pushing_a_customer_creates_then_updates_and_mirrors_its_subscriptions() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    let res = push(&app, &s.token, "user-42", &ada).await;
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(res.headers()["location"], "/api/customers/user-42");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["subscriber_id"], "user-42");
    assert_eq!(body["customer_id"], ada.as_str());
    assert_eq!(body["email"], "ada@example.com", "taken from Stripe");
    assert_eq!(
        body["subscriptions_url"],
        "/api/customers/user-42/subscriptions"
    );
    assert!(body["synced_at"].as_i64().is_some());

    let res = app
        .api(
            Method::POST,
            "/api/customers",
            &s.token,
            Some(json!({ "subscriber_id": "user-42", "customer_id": ada, "email": "ada@lovelace.test" })),
        )
        .await;
    assert_eq!(
        res.status().as_u16(),
        200,
        "the same subscriber again is an update"
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["email"], "ada@lovelace.test");

    // every Stripe call used the platform key and the connected account
    let calls = app.stripe.simulator.requests();
    let api_calls: Vec<_> = calls
        .iter()
        .filter(|r| r.path.starts_with("/v1/"))
        .collect();
    assert!(!api_calls.is_empty());
    assert!(api_calls
        .iter()
        .all(|r| r.authorized && r.stripe_account.as_deref() == Some(s.account.as_str())));
}

#[tokio::test]
async fn pushing_an_unknown_or_deleted_stripe_customer_is_404() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let (status, body) = json_of(push(&app, &s.token, "x", "cus_DoesNotExist").await).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("cus_DoesNotExist"));

    let katherine = demo_customer(&app, &s.account, "katherine@example.com");
    app.stripe.simulator.delete_customer(&s.account, &katherine);
    let (status, _) = json_of(push(&app, &s.token, "k", &katherine).await).await;
    assert_eq!(status, 404);
    assert_eq!(
        app.api(Method::GET, "/api/customers", &s.token, None)
            .await
            .json::<Value>()
            .await
            .expect("json")["data"],
        json!([]),
        "nothing was written"
    );
}

#[tokio::test]
async fn bad_customer_input_gets_clear_json_errors_and_writes_nothing() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let url = app.url("/api/customers");
    let send = |body: &'static str, content_type: &'static str| {
        browser()
            .post(&url)
            .bearer_auth(&s.token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: [(&str, &str, u16, &str); 8] = [
        ("{", "application/json", 400, "bad_request"),
        (
            r#"{"subscriber_id":"1","customer_id":"cus_a"}"#,
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        (
            r#"{"subscriber_id":"1"}"#,
            "application/json",
            422,
            "validation",
        ),
        (
            r#"{"subscriber_id":"1","customer_id":"cus_a","extra":1}"#,
            "application/json",
            422,
            "validation",
        ),
        (
            r#"{"subscriber_id":"a/b","customer_id":"cus_a"}"#,
            "application/json",
            422,
            "validation",
        ),
        (
            r#"{"subscriber_id":"","customer_id":"cus_a"}"#,
            "application/json",
            422,
            "validation",
        ),
        (
            r#"{"subscriber_id":"1","customer_id":"sub_123"}"#,
            "application/json",
            422,
            "validation",
        ),
        (
            r#"{"subscriber_id":"1","customer_id":"cus_a","email":"nope"}"#,
            "application/json",
            422,
            "validation",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let (got, json) = json_of(send(body, content_type).await.expect("send")).await;
        assert_eq!(
            (got, json["error"].as_str()),
            (status, Some(code)),
            "{body} as {content_type}: {json}"
        );
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let long = "x".repeat(192);
    let (status, _) = json_of(push(&app, &s.token, &long, "cus_abc").await).await;
    assert_eq!(status, 422);
    let (status, body) =
        json_of(app.api(Method::GET, "/api/customers", &s.token, None).await).await;
    assert_eq!((status, body["data"].clone()), (200, json!([])));
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    let grace = demo_customer(&app, &s.account, "grace@example.com");
    let post = |body: Value, key: &'static str| {
        browser()
            .post(app.url("/api/customers"))
            .bearer_auth(&s.token)
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let body = json!({ "subscriber_id": "7", "customer_id": ada });
    let first = post(body.clone(), "key-1").await.expect("send");
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.expect("json");
    let stripe_calls = app.stripe.simulator.requests().len();

    let replay = post(body.clone(), "key-1").await.expect("send");
    assert_eq!(replay.status().as_u16(), 201, "the first status, not 200");
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.expect("json"), first);
    assert_eq!(
        app.stripe.simulator.requests().len(),
        stripe_calls,
        "Stripe not called again"
    );

    let (status, err) = json_of(
        post(
            json!({ "subscriber_id": "7", "customer_id": grace }),
            "key-1",
        )
        .await
        .expect("send"),
    )
    .await;
    assert_eq!((status, err["error"].as_str()), (422, Some("validation")));
    assert_eq!(
        app.api(Method::GET, "/api/customers/7", &s.token, None)
            .await
            .json::<Value>()
            .await
            .expect("json")["customer_id"],
        ada.as_str(),
        "the refused request changed nothing"
    );
    let too_long: &'static str = Box::leak("k".repeat(256).into_boxed_str());
    for bad in ["key with spaces", too_long] {
        let (status, err) = json_of(post(body.clone(), bad).await.expect("send")).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (400, Some("bad_request")),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_stripe_customer_links_to_one_subscriber_only() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    assert_eq!(
        push(&app, &s.token, "first", &ada).await.status().as_u16(),
        201
    );
    let (status, body) = json_of(push(&app, &s.token, "second", &ada).await).await;
    assert_eq!(status, 409);
    assert!(body["message"].as_str().expect("message").contains("first"));
}

#[tokio::test]
async fn customers_are_listed_a_page_at_a_time_with_a_cursor() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let customers: Vec<String> = ["ada", "grace", "alan", "katherine"]
        .iter()
        .map(|n| demo_customer(&app, &s.account, &format!("{n}@example.com")))
        .collect();
    for (i, c) in customers.iter().enumerate() {
        assert_eq!(
            push(&app, &s.token, &format!("s{i}"), c)
                .await
                .status()
                .as_u16(),
            201
        );
    }
    let mut seen = vec![];
    let mut path = "/api/customers?limit=3".to_string();
    loop {
        let page: Value = app
            .api(Method::GET, &path, &s.token, None)
            .await
            .json()
            .await
            .expect("json");
        seen.extend(
            page["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|c| c["subscriber_id"].as_str().expect("id").to_string()),
        );
        match page["next"].as_str() {
            Some(next) => {
                assert_eq!(page["has_more"], true);
                path = next.to_string();
            }
            None => {
                assert_eq!(page["has_more"], false);
                break;
            }
        }
    }
    assert_eq!(seen, ["s0", "s1", "s2", "s3"]);
    for bad in [
        "/api/customers?limit=0",
        "/api/customers?limit=101",
        "/api/customers?limit=x",
    ] {
        let (status, body) = json_of(app.api(Method::GET, bad, &s.token, None).await).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (422, Some("validation")),
            "{bad}"
        );
    }
    let (status, _) = json_of(
        app.api(Method::GET, "/api/customers?cursor=%%%", &s.token, None)
            .await,
    )
    .await;
    assert!(status == 400 || status == 422, "{status}");
}

#[tokio::test]
async fn a_customer_can_be_read_and_deleted() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    push(&app, &s.token, "ada@example.com", &ada).await;
    let path = "/api/customers/ada@example.com";
    let (status, body) = json_of(app.api(Method::GET, path, &s.token, None).await).await;
    assert_eq!(
        (status, body["customer_id"].as_str()),
        (200, Some(ada.as_str()))
    );
    let res = app.api(Method::DELETE, path, &s.token, None).await;
    assert_eq!(res.status().as_u16(), 204);
    for p in [path.to_string(), format!("{path}/subscriptions")] {
        let (status, body) = json_of(app.api(Method::GET, &p, &s.token, None).await).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("not_found")),
            "{p}"
        );
    }
    let (status, _) = json_of(app.api(Method::DELETE, path, &s.token, None).await).await;
    assert_eq!(status, 404);
}

// ---------------------------------------------------------------------------------------------
// subscriptions

#[tokio::test]
async fn subscriptions_come_from_the_mirror_with_prices_products_and_renewal_dates() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let alan = demo_customer(&app, &s.account, "alan@example.com");
    push(&app, &s.token, "alan", &alan).await;
    let stripe_calls = app.stripe.simulator.requests().len();

    let (status, list) = json_of(
        app.api(
            Method::GET,
            "/api/customers/alan/subscriptions",
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(
        app.stripe.simulator.requests().len(),
        stripe_calls,
        "served from the mirror"
    );
    assert_eq!(list["subscriber_id"], "alan");
    let data = list["data"].as_array().expect("data");
    assert_eq!(data.len(), 2, "canceled ones included: {list}");
    let created: Vec<i64> = data
        .iter()
        .map(|s| s["created"].as_i64().expect("created"))
        .collect();
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {created:?}"
    );

    // a customer without any subscription is an empty list, not a missing customer
    let katherine = demo_customer(&app, &s.account, "katherine@example.com");
    push(&app, &s.token, "katherine", &katherine).await;
    let (status, none) = json_of(
        app.api(
            Method::GET,
            "/api/customers/katherine/subscriptions",
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, none["subscriber_id"].clone(), none["data"].clone()),
        (200, json!("katherine"), json!([]))
    );
    let canceled = data
        .iter()
        .find(|s| s["status"] == "canceled")
        .expect("the canceled Starter plan");
    assert!(canceled["canceled_at"].as_i64().is_some());
    let pro = data
        .iter()
        .find(|s| s["status"] == "active")
        .expect("active Pro");
    assert_eq!(pro["cancel_at_period_end"], true);
    let item = &pro["items"][0];
    assert_eq!(item["product_name"], "Pro");
    assert_eq!(item["unit_amount"], 2000);
    assert_eq!(item["currency"], "usd");
    assert_eq!(item["interval"], "month");
    assert_eq!(item["interval_count"], 1);
    assert_eq!(item["quantity"], 1);
    assert!(item["price_id"]
        .as_str()
        .expect("price")
        .starts_with("price_"));
    let renewal = pro["current_period_end"].as_i64().expect("renewal date");
    assert_eq!(
        Some(renewal),
        item["current_period_end"].as_i64(),
        "renewal comes from the items"
    );
    assert!(renewal > app.clock.now());
    assert_eq!(
        pro["url"],
        format!("/api/subscriptions/{}", pro["id"].as_str().expect("id"))
    );

    let (_, only) = json_of(
        app.api(
            Method::GET,
            "/api/customers/alan/subscriptions?status=canceled",
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(only["data"].as_array().expect("data").len(), 1);
    let (status, _) = json_of(
        app.api(
            Method::GET,
            "/api/customers/alan/subscriptions?status=bogus",
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);

    let grace = demo_customer(&app, &s.account, "grace@example.com");
    push(&app, &s.token, "grace", &grace).await;
    let (_, list) = json_of(
        app.api(
            Method::GET,
            "/api/customers/grace/subscriptions",
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(list["data"][0]["status"], "trialing");
    assert!(list["data"][0]["trial_end"].as_i64().expect("trial end") > app.clock.now());
    assert_eq!(list["data"][0]["items"][0]["interval"], "year");
}

#[tokio::test]
async fn webhooks_keep_the_mirror_fresh_without_asking_stripe() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    push(&app, &s.token, "ada", &ada).await;
    let path = "/api/customers/ada/subscriptions";
    let list: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    let sub = list["data"][0]["id"].as_str().expect("id").to_string();
    assert_eq!(list["data"][0]["cancel_at_period_end"], false);

    app.stripe
        .simulator
        .set_cancel_at_period_end(&s.account, &sub, true);
    app.stripe.simulator.wait_for_deliveries().await;
    let before = app.stripe.simulator.requests().len();
    let list: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["data"][0]["cancel_at_period_end"], true);
    assert_eq!(
        app.stripe.simulator.requests().len(),
        before,
        "no Stripe call on read"
    );

    let price = app
        .stripe
        .simulator
        .create_price(&s.account, "Add-on", 300, "usd", "week", 2);
    let added = app
        .stripe
        .simulator
        .create_subscription(&s.account, &ada, &price, 3, None);
    app.stripe.simulator.cancel_subscription(&s.account, &sub);
    app.stripe.simulator.wait_for_deliveries().await;
    let list: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    let data = list["data"].as_array().expect("data");
    let new = data
        .iter()
        .find(|s| s["id"] == added.as_str())
        .expect("created by webhook");
    assert_eq!(new["items"][0]["quantity"], 3);
    assert_eq!(new["items"][0]["interval_count"], 2);
    let old = data
        .iter()
        .find(|s| s["id"] == sub.as_str())
        .expect("still listed");
    assert_eq!(old["status"], "canceled");
    assert!(app.connection().await["last_webhook_at"].as_i64().is_some());
}

#[tokio::test]
async fn refresh_true_pulls_from_stripe_when_webhooks_were_missed() {
    let app = spawn_app_with(Options {
        simulator_webhooks: false,
        ..Options::default()
    })
    .await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    push(&app, &s.token, "ada", &ada).await;
    let path = "/api/customers/ada/subscriptions";
    let list: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    let sub = list["data"][0]["id"].as_str().expect("id").to_string();
    app.stripe
        .simulator
        .set_cancel_at_period_end(&s.account, &sub, true);

    let stale: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        stale["data"][0]["cancel_at_period_end"], false,
        "no webhook, mirror unchanged"
    );
    let fresh: Value = app
        .api(Method::GET, &format!("{path}?refresh=true"), &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(fresh["data"][0]["cancel_at_period_end"], true);
    let after: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        after["data"][0]["cancel_at_period_end"], true,
        "the mirror was updated"
    );

    let one: Value = app
        .api(
            Method::GET,
            &format!("/api/subscriptions/{sub}"),
            &s.token,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(one["subscriber_id"], "ada");
    app.stripe
        .simulator
        .set_cancel_at_period_end(&s.account, &sub, false);
    let one: Value = app
        .api(
            Method::GET,
            &format!("/api/subscriptions/{sub}?refresh=true"),
            &s.token,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(one["cancel_at_period_end"], false);
}

#[tokio::test]
async fn one_subscription_by_id_and_by_the_riverty_path_for_the_tokens_own_client() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    push(&app, &s.token, "ada", &ada).await;
    let list: Value = app
        .api(
            Method::GET,
            "/api/customers/ada/subscriptions",
            &s.token,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let sub = list["data"][0]["id"].as_str().expect("id").to_string();
    let (status, one) = json_of(
        app.api(
            Method::GET,
            &format!("/api/subscriptions/{sub}"),
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one, list["data"][0]);

    let introspect: Value = app
        .api(Method::GET, "/api/me", &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    let client_id = introspect["client"]["id"]
        .as_str()
        .expect("client")
        .to_string();
    let (status, riverty) = json_of(
        app.api(
            Method::GET,
            &format!("/subscription/v1/clients/{client_id}/subscriptions/{sub}"),
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!((status, &riverty), (200, &one));
    let (status, body) = json_of(
        app.api(
            Method::GET,
            &format!("/subscription/v1/clients/cli_someoneelse/subscriptions/{sub}"),
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    let (status, _) = json_of(
        app.api(
            Method::GET,
            "/api/subscriptions/sub_unknown",
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_portal_session_sends_the_customer_to_stripe_and_explains_a_missing_configuration() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    push(&app, &s.token, "ada", &ada).await;
    let path = "/api/customers/ada/portal-session";
    let res = app
        .api(
            Method::POST,
            path,
            &s.token,
            Some(json!({ "return_url": "https://shop.example/account" })),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let body: Value = res.json().await.expect("json");
    let url = body["url"].as_str().expect("url");
    assert!(url.starts_with(&app.stripe.base_url), "{url}");
    let expires = body["expires_at"].as_i64().expect("expires_at");
    assert!(expires > app.clock.now() && expires <= app.clock.now() + 301);
    let page = browser().get(url).send().await.expect("portal");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.expect("html").contains("ada@example.com"));

    let (status, body) = json_of(
        app.api(
            Method::POST,
            path,
            &s.token,
            Some(json!({ "return_url": "http://shop.example/" })),
        )
        .await,
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (422, Some("validation")));
    let (status, _) = json_of(
        app.api(
            Method::POST,
            "/api/customers/nobody/portal-session",
            &s.token,
            Some(json!({ "return_url": "https://shop.example/" })),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);

    app.stripe
        .simulator
        .set_portal_configured(&s.account, false);
    let (status, body) = json_of(
        app.api(
            Method::POST,
            path,
            &s.token,
            Some(json!({ "return_url": "https://shop.example/" })),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409);
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("customer portal"));
}

// ---------------------------------------------------------------------------------------------
// Stripe failures

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

// ---------------------------------------------------------------------------------------------
// scopes and isolation

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

// ---------------------------------------------------------------------------------------------
// webhooks

#[tokio::test]
async fn webhook_signatures_are_checked_and_bad_deliveries_get_400() {
    let app = spawn_app().await;
    let now = app.clock.now();
    let body = event(
        "evt_sigtest00000000000001",
        "plan.created",
        "acct_x",
        now,
        json!({}),
    );
    let good = format!("t={now},v1={}", sign(WEBHOOK_SECRET, now, &body));
    let res = deliver(&app, &body, &good).await;
    assert_eq!(res.status().as_u16(), 200, "a valid signature");

    let tampered = body.replace("plan.created", "plan.deleted");
    let (status, err) = json_of(deliver(&app, &tampered, &good).await).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_signature"))
    );

    let old = now - 301;
    let body2 = event(
        "evt_sigtest00000000000002",
        "plan.created",
        "acct_x",
        old,
        json!({}),
    );
    let stale = format!("t={old},v1={}", sign(WEBHOOK_SECRET, old, &body2));
    let (status, err) = json_of(deliver(&app, &body2, &stale).await).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("stale_signature"))
    );

    let body3 = event(
        "evt_sigtest00000000000003",
        "plan.created",
        "acct_x",
        now,
        json!({}),
    );
    let two = format!(
        "t={now},v1={},v1={}",
        sign("whsec_someone_else", now, &body3),
        sign(WEBHOOK_SECRET, now, &body3)
    );
    assert_eq!(
        deliver(&app, &body3, &two).await.status().as_u16(),
        200,
        "any v1 may match"
    );

    for header in ["", "t=abc", &format!("t={now}"), "v1=00"] {
        let (status, _) = json_of(deliver(&app, &body3, header).await).await;
        assert_eq!(status, 400, "{header:?}");
    }
    let garbage = "not json at all";
    let signed = format!("t={now},v1={}", sign(WEBHOOK_SECRET, now, garbage));
    let (status, err) = json_of(deliver(&app, garbage, &signed).await).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("malformed_event"))
    );
}

#[tokio::test]
async fn a_rolled_webhook_secret_verifies_with_old_and_new_listed() {
    let app = spawn_app_with(Options {
        webhook_secrets: vec!["whsec_old_one".into(), "whsec_new_one".into()],
        simulator_signs_with: vec!["whsec_new_one".into()],
        ..Options::default()
    })
    .await;
    let now = app.clock.now();
    for (i, secret) in ["whsec_old_one", "whsec_new_one"].iter().enumerate() {
        let body = event(
            &format!("evt_roll{i:020}"),
            "plan.created",
            "acct_x",
            now,
            json!({}),
        );
        let header = format!("t={now},v1={}", sign(secret, now, &body));
        assert_eq!(
            deliver(&app, &body, &header).await.status().as_u16(),
            200,
            "{secret}"
        );
    }
    let body = event(
        "evt_roll99999999999999999999",
        "plan.created",
        "acct_x",
        now,
        json!({}),
    );
    let header = format!("t={now},v1={}", sign(WEBHOOK_SECRET, now, &body));
    assert_eq!(
        deliver(&app, &body, &header).await.status().as_u16(),
        400,
        "an unlisted secret"
    );

    // the simulator signs with the new secret only, and its events are applied
    let s = connected(&app).await;
    app.stripe.simulator.deauthorize(&s.account);
    app.stripe.simulator.wait_for_deliveries().await;
    assert_eq!(app.connection().await["state"], "revoked");
}

#[tokio::test]
async fn duplicate_and_out_of_order_events_do_not_rewind_the_mirror() {
    let app = spawn_app_with(Options {
        simulator_webhooks: false,
        ..Options::default()
    })
    .await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    push(&app, &s.token, "ada", &ada).await;
    let path = "/api/customers/ada/subscriptions";
    let list: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    let sub = list["data"][0]["id"].as_str().expect("id").to_string();

    let now = app.clock.now() + 10;
    let mut object = stripe_subscription(&app, &s.account, &sub).await;
    object["cancel_at_period_end"] = json!(true);
    let newer = event(
        "evt_order0000000000000002",
        "customer.subscription.updated",
        &s.account,
        now,
        object.clone(),
    );
    let header = |b: &str| format!("t={now},v1={}", sign(WEBHOOK_SECRET, now, b));
    let res: Value = deliver(&app, &newer, &header(&newer))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(res["received"], true);
    let list: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["data"][0]["cancel_at_period_end"], true);

    // the same event again: acknowledged, flagged, not applied twice
    let res: Value = deliver(&app, &newer, &header(&newer))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(res["duplicate"], true);

    // an older state arriving late is stored but does not overwrite the newer one
    object["cancel_at_period_end"] = json!(false);
    let older = event(
        "evt_order0000000000000001",
        "customer.subscription.updated",
        &s.account,
        now - 60,
        object,
    );
    assert_eq!(
        deliver(&app, &older, &header(&older))
            .await
            .status()
            .as_u16(),
        200
    );
    let list: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["data"][0]["cancel_at_period_end"], true);

    use sqlx::Row;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM webhook_events")
        .fetch_one(&app.db.pool)
        .await
        .expect("count")
        .get("n");
    assert_eq!(n, 2, "each event stored once");
}

#[tokio::test]
async fn events_for_customers_nobody_pushed_and_unknown_types_are_acknowledged_and_ignored() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let grace = demo_customer(&app, &s.account, "grace@example.com");
    let price = app
        .stripe
        .simulator
        .create_price(&s.account, "Extra", 100, "usd", "month", 1);
    app.stripe
        .simulator
        .create_subscription(&s.account, &grace, &price, 1, None);
    app.stripe.simulator.wait_for_deliveries().await;
    assert!(
        app.stripe.simulator.events().iter().all(|e| e.delivered),
        "every event acknowledged"
    );
    use sqlx::Row;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM subscriptions")
        .fetch_one(&app.db.pool)
        .await
        .expect("count")
        .get("n");
    assert_eq!(
        n, 0,
        "nothing mirrored for a customer that was never pushed"
    );
}
