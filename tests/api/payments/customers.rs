//! `/api/customers`: pushing, validating, idempotency, listing, reading and deleting.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::webhooks::json_of;
use crate::support::{browser, connected, demo_customer, push, spawn_app};

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
