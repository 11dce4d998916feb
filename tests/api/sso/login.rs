//! The Recurpay-compatible login call: errors, the published snippets, signed timestamps,
//! stores kept apart, limits, and calls from a storefront's origin.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::sso::{
    follow, hash, link_for, login, login_as, login_path, portal_view, ready, sso_tab,
};
use crate::support::{browser, error_of, spawn_app, TestApp};

#[tokio::test]
async fn every_bad_call_gets_a_clear_json_error_never_a_500() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let good = hash(&r.secret, "42");

    let (status, body) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": hash(&r.secret, "43") }),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({
            "success": false,
            "error": "invalid_customer_hash",
            "message": "Failed to login subscriber due to an invalid customer hash"
        })
    );
    // a valid hash for a subscriber the merchant never pushed
    let (status, body) = login_as(&app, &r, "nobody").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_subscriber")),
        "{body}"
    );
    // a wrong hash for an unknown subscriber says nothing about whether it exists
    let (status, _) = login(&app, &r.store, "nobody2", json!({ "customer_hash": good })).await;
    assert_eq!(status, 401);
    let (status, body) = login(
        &app,
        "no-such-store",
        "42",
        json!({ "customer_hash": good }),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_store"))
    );
    let (status, _) = login(&app, "Not A Slug", "42", json!({ "customer_hash": good })).await;
    assert_eq!(status, 404);

    for (body, why) in [
        (json!({ "customer_hash": "xyz" }), "non-hex"),
        (json!({ "customer_hash": &good[..62] }), "too short"),
        (json!({ "customer_hash": format!("{good}00") }), "too long"),
        (json!({ "customer_hash": "g".repeat(64) }), "64 non-hex"),
        (json!({}), "missing"),
        (json!({ "customer_hash": 42 }), "not a string"),
    ] {
        let (status, body) = login(&app, &r.store, "42", body).await;
        assert_eq!(status, 422, "{why}: {body}");
        assert_eq!(body["success"], false, "{why}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let long = "x".repeat(192);
    let (status, body) = login_as(&app, &r, &long).await;
    assert_eq!(status, 422, "{body}");

    let raw = |content_type: &'static str, body: &'static str| {
        browser()
            .post(app.url(&login_path(&r.store, "42")))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let (status, body) = error_of(
        raw("application/json", "{\"customer_hash\": ")
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("bad_request")),
        "{body}"
    );
    let (status, body) = error_of(raw("text/plain", "customer_hash=x").await.expect("send")).await;
    assert_eq!(status, 415, "{body}");
    let res = browser()
        .get(app.url(&login_path(&r.store, "42")))
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status().as_u16(), 405);

    // turned off: refused at once
    let off = app.call_fn("disable_sso", &[("confirm", &r.store)]).await;
    assert_eq!(off.status().as_u16(), 200);
    let (status, body) = login(&app, &r.store, "42", json!({ "customer_hash": good })).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("sso_disabled")),
        "{body}"
    );
}

#[tokio::test]
async fn the_node_and_php_snippets_compute_the_hash_that_logs_in() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let id = "42";
    let node = std::process::Command::new("node")
        .args([
            "-e",
            "const crypto = require('crypto'); process.stdout.write(crypto.createHmac('sha256', process.argv[1]).update(process.argv[2]).digest('hex'))",
            &r.secret,
            id,
        ])
        .output()
        .expect("node runs (scripts/setup.sh installs it)");
    assert!(node.status.success(), "{node:?}");
    let php = std::process::Command::new("php")
        .args([
            "-r",
            "echo hash_hmac('sha256', $argv[2], $argv[1]);",
            &r.secret,
            id,
        ])
        .output()
        .expect("php runs (scripts/setup.sh --test installs php-cli)");
    assert!(php.status.success(), "{php:?}");
    let from_node = String::from_utf8(node.stdout).expect("utf8");
    let from_php = String::from_utf8(php.stdout).expect("utf8");
    assert_eq!(from_node, from_php);
    let (status, body) = login(&app, &r.store, id, json!({ "customer_hash": from_node })).await;
    assert_eq!(status, 200, "{body}");
    // and the tab's hash tester agrees
    let res = app.call_fn("test_sso_hash", &[("subscriber_id", id)]).await;
    let tested: Value = res.json().await.expect("json");
    assert_eq!(tested["customer_hash"], from_php.as_str());
    assert!(tested["curl"]
        .as_str()
        .expect("curl")
        .contains(&login_path(&r.store, id)));
}

#[tokio::test]
async fn signed_timestamps_refuse_plain_hashes_stale_times_and_reused_nonces() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let res = app
        .call_fn(
            "save_sso_settings",
            &[
                ("link_ttl_secs", "120"),
                ("require_signed_timestamps", "on"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(sso_tab(&app).await["require_signed_timestamps"], true);

    let (status, body) = login_as(&app, &r, "42").await;
    assert_eq!(status, 422, "a plain hash is refused: {body}");

    let signed = |ts: i64, nonce: &str| {
        json!({
            "customer_hash": hash(&r.secret, &format!("subgate-sso-v2/42/{ts}/{nonce}")),
            "timestamp": ts,
            "nonce": nonce,
        })
    };
    let now = app.clock.now();
    let (status, body) = login(&app, &r.store, "42", signed(now, "nonce-0000000001")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = login(&app, &r.store, "42", signed(now, "nonce-0000000001")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("nonce_reused")),
        "{body}"
    );
    // The server reads its own clock a moment later than `now`; a margin of 10 s on each side
    // keeps a second ticking in between from moving a timestamp across the ±300 s boundary.
    for ts in [now - 310, now + 310] {
        let (status, body) = login(&app, &r.store, "42", signed(ts, "nonce-0000000002")).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("stale_timestamp")),
            "{body}"
        );
    }
    let (status, _) = login(&app, &r.store, "42", signed(now - 290, "nonce-0000000003")).await;
    assert_eq!(status, 200, "within the tolerance");
    // the timestamp is part of what is signed
    let mut tampered = signed(now, "nonce-0000000004");
    tampered["timestamp"] = json!(now + 1);
    let (status, _) = login(&app, &r.store, "42", tampered).await;
    assert_eq!(status, 401);
    let (status, _) = login(&app, &r.store, "42", signed(now, "short")).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn store_as_secret_never_logs_into_store_b() {
    let app = spawn_app().await;
    let a = ready(&app).await;
    let b_app = app.new_browser();
    let b = ready(&b_app).await;
    assert_ne!(a.store, b.store);
    // both stores have a subscriber "42"; A's secret opens only A's
    let (status, _) = login(
        &app,
        &b.store,
        "42",
        json!({ "customer_hash": hash(&a.secret, "42") }),
    )
    .await;
    assert_eq!(status, 401);
    let url = link_for(&app, &b, "42").await;
    let (_, subscriber) = follow(&app, &url).await;
    let view = portal_view(&subscriber).await;
    assert_eq!(view["business_name"], business_name(&b_app).await);
}

async fn business_name(app: &TestApp) -> Value {
    let me: Value = app
        .client
        .get(app.url("/fn/current_merchant"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    me["business_name"].clone()
}

#[tokio::test]
async fn failed_logins_are_limited_per_subscriber_and_per_store() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let wrong = hash("not the secret", "42");
    for _ in 0..10 {
        let (status, _) = login(&app, &r.store, "42", json!({ "customer_hash": wrong })).await;
        assert_eq!(status, 401);
    }
    let res = browser()
        .post(app.url(&login_path(&r.store, "42")))
        .json(&json!({ "customer_hash": wrong }))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 429, "the eleventh wrong hash waits");
    assert!(res.headers().get("retry-after").is_some());
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "rate_limited");
    assert!(body["retry_after"]
        .as_u64()
        .is_some_and(|s| s > 0 && s <= 600));
    // the right hash is never held up by wrong ones (see abuse_limits.rs)
    let (status, _) = login_as(&app, &r, "42").await;
    assert_eq!(status, 200);
    // ...and the window ends
    app.clock.advance(601);
    let (status, _) = login(&app, &r.store, "42", json!({ "customer_hash": wrong })).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn storefronts_may_call_the_login_endpoint_cross_origin_without_cookies() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let res = browser()
        .request(Method::OPTIONS, app.url(&login_path(&r.store, "42")))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("preflight");
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert!(res
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    let res = browser()
        .post(app.url(&login_path(&r.store, "42")))
        .header("origin", "https://shop.example")
        .json(&json!({ "customer_hash": hash(&r.secret, "42") }))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert_eq!(res.headers()["cache-control"], "no-store");
}
