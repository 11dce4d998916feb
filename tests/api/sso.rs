//! Single sign-on: the SSO tab's secret management, the Recurpay-compatible login endpoint,
//! the one-time link and the subscriber portal, over real HTTP.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::sso::{
    enable, follow, hash, link_for, login, login_path, portal_view, ready, secrets, sso_tab,
};
use crate::support::{browser, error_of, spawn_app, TestApp};

#[tokio::test]
async fn sso_is_off_until_turned_on_and_then_has_a_store_and_a_sealed_256_bit_secret() {
    let app = spawn_app().await;
    app.signed_up().await;
    let s = sso_tab(&app).await;
    assert_eq!(s["enabled"], false);
    assert_eq!(s["current"], Value::Null);
    let s = enable(&app).await;
    let store = s["store"].as_str().expect("store");
    assert!(store.starts_with("acme-"), "{store}");
    assert_eq!(s["current"]["generation"], 1);
    assert_eq!(s["link_ttl_secs"], 120);
    assert!(s["endpoint_template"]
        .as_str()
        .expect("endpoint")
        .ends_with(&format!(
            "/api/v1/stores/{store}/subscribers/{{subscriber_id}}/login"
        )));
    assert!(
        !s.to_string().contains("sso_"),
        "the status never carries the secret"
    );
    let (secret, previous) = secrets(&app).await;
    assert!(
        secret.starts_with("sso_") && secret.len() == 4 + 64,
        "{secret}"
    );
    assert_eq!(previous, None);
    // at rest it is sealed, not stored in the clear
    let sealed: String =
        sqlx::query_scalar("SELECT secret_sealed FROM sso_settings WHERE store = $1")
            .bind(store)
            .fetch_one(&app.db.pool)
            .await
            .expect("row");
    assert!(!sealed.contains(&secret[4..]));
    // turning it on again keeps the same secret
    enable(&app).await;
    assert_eq!(secrets(&app).await.0, secret);
}

#[tokio::test]
async fn a_valid_hash_gets_a_one_time_link_that_opens_the_portal_with_the_subscriptions() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let before = app.clock.now();
    let (status, body) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": hash(&r.secret, "42") }),
    )
    .await;
    let after = app.clock.now();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    let url = body["data"]["redirection_url"].as_str().expect("url");
    let token = url
        .strip_prefix(&format!("{}/portal/sso/", app.address))
        .expect("a link to this server's portal");
    assert_eq!(token.len(), 43, "256 random bits, base64url");
    let expires_at = body["data"]["expires_at"].as_i64().expect("expires_at");
    assert!(
        (before + 120..=after + 120).contains(&expires_at),
        "{expires_at} not 120 s after [{before}, {after}]"
    );

    let (status, subscriber) = follow(&app, url).await;
    assert_eq!(status, 303);
    let view = portal_view(&subscriber).await;
    assert_eq!(view["subscriber_id"], "42");
    assert_eq!(view["email"], "ada@example.com");
    let subs = view["subscriptions"].as_array().expect("subscriptions");
    assert_eq!(subs.len(), 1, "{view}");
    assert_eq!(subs[0]["status"], "active");
    assert_eq!(subs[0]["items"][0]["product_name"], "Pro");
    assert_eq!(subs[0]["items"][0]["unit_amount"], 2000);
    assert!(
        subs[0]["current_period_end"].as_i64().is_some()
            || subs[0]["items"][0]["current_period_end"].as_i64().is_some()
    );
    let page = subscriber
        .get_page("/portal")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("Manage billing") && page.contains("Pro"),
        "{page}"
    );

    // the link works once
    let (again, _) = follow(&app, url).await;
    assert_eq!(again, 410);
    let res = browser()
        .get(url)
        .header("accept", "text/html")
        .send()
        .await
        .expect("reuse");
    let html = res.text().await.expect("html");
    assert!(
        html.contains("expired") && html.contains("Go back"),
        "{html}"
    );
}

#[tokio::test]
async fn concurrent_clicks_on_one_link_open_exactly_one_session() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let url = link_for(&app, &r, "42").await;
    let clicks = (0..12).map(|_| {
        let url = url.clone();
        let origin = app.address.clone();
        tokio::spawn(async move {
            browser()
                .post(url)
                .header("origin", origin)
                .send()
                .await
                .expect("click")
                .status()
                .as_u16()
        })
    });
    let mut statuses = vec![];
    for c in clicks {
        statuses.push(c.await.expect("task"));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 410).count(),
        11,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_link_expires_after_its_lifetime_which_the_merchant_chooses() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let url = link_for(&app, &r, "42").await;
    app.clock.advance(121);
    assert_eq!(follow(&app, &url).await.0, 410);

    let res = app
        .call_fn("save_sso_settings", &[("link_ttl_secs", "601")])
        .await;
    let (status, body) = error_of(res).await;
    assert_eq!(status, 422, "{body}");
    let res = app
        .call_fn("save_sso_settings", &[("link_ttl_secs", "600")])
        .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(sso_tab(&app).await["link_ttl_secs"], 600);
    let url = link_for(&app, &r, "42").await;
    // the test clock is the system clock plus an offset: leave a margin for a loaded machine
    app.clock.advance(590);
    assert_eq!(follow(&app, &url).await.0, 303);
}

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
    let (status, body) = login(
        &app,
        &r.store,
        "nobody",
        json!({ "customer_hash": hash(&r.secret, "nobody") }),
    )
    .await;
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
    let (status, body) = login(
        &app,
        &r.store,
        &long,
        json!({ "customer_hash": hash(&r.secret, &long) }),
    )
    .await;
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
    assert_eq!(app.call_fn("disable_sso", &[]).await.status().as_u16(), 200);
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
async fn after_a_rotation_both_secrets_log_in_until_the_overlap_ends() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let before = app.clock.now();
    let res = app
        .call_fn("rotate_sso_secret", &[("overlap_hours", "24")])
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let after = app.clock.now();
    let (new, old) = secrets(&app).await;
    assert_eq!(old.as_deref(), Some(r.secret.as_str()));
    assert_ne!(new, r.secret);
    let s = sso_tab(&app).await;
    assert_eq!(s["current"]["generation"], 2);
    assert_eq!(s["previous"]["generation"], 1);
    // the clock follows the system's, so the rotation happened somewhere in [before, after]
    let expires_at = s["previous"]["expires_at"].as_i64().expect("expires_at");
    assert!(
        (before + 24 * 3600..=after + 24 * 3600).contains(&expires_at),
        "{expires_at} not 24 h after [{before}, {after}]"
    );

    for secret in [&new, &r.secret] {
        let (status, body) = login(
            &app,
            &r.store,
            "42",
            json!({ "customer_hash": hash(secret, "42") }),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    app.clock.advance(24 * 3600 + 1);
    let (status, _) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": hash(&r.secret, "42") }),
    )
    .await;
    assert_eq!(status, 401, "the old secret expired");
    let (status, _) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": hash(&new, "42") }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(sso_tab(&app).await["previous"], Value::Null);

    // an overlap of 0 retires the old secret at once
    app.call_fn("rotate_sso_secret", &[("overlap_hours", "0")])
        .await;
    let (newest, none) = secrets(&app).await;
    assert_eq!(none, None);
    let (status, _) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": hash(&new, "42") }),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": hash(&newest, "42") }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = error_of(
        app.call_fn("rotate_sso_secret", &[("overlap_hours", "169")])
            .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
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

    let (status, body) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": hash(&r.secret, "42") }),
    )
    .await;
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
    let (status, _) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": hash(&r.secret, "42") }),
    )
    .await;
    assert_eq!(status, 200);
    // ...and the window ends
    app.clock.advance(601);
    let (status, _) = login(&app, &r.store, "42", json!({ "customer_hash": wrong })).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn links_can_be_bound_to_the_end_users_ip() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    app.call_fn(
        "save_sso_settings",
        &[("link_ttl_secs", "120"), ("bind_ip", "on")],
    )
    .await;
    let h = hash(&r.secret, "42");
    let (status, body) = login(&app, &r.store, "42", json!({ "customer_hash": h })).await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": h, "ip": "not-an-ip" }),
    )
    .await;
    assert_eq!(status, 422);
    // the test browser is on 127.0.0.1
    let (_, body) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": h, "ip": "203.0.113.9" }),
    )
    .await;
    let elsewhere = body["data"]["redirection_url"]
        .as_str()
        .expect("url")
        .to_string();
    assert_eq!(follow(&app, &elsewhere).await.0, 410);
    let (_, body) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": h, "ip": "127.0.0.1" }),
    )
    .await;
    let here = body["data"]["redirection_url"]
        .as_str()
        .expect("url")
        .to_string();
    assert_eq!(follow(&app, &here).await.0, 303);
    let log = sso_tab(&app).await["logins"].clone();
    assert!(
        log.as_array()
            .expect("log")
            .iter()
            .any(|l| l["outcome"] == "ip_mismatch"),
        "{log}"
    );
}

#[tokio::test]
async fn turning_sso_off_refuses_links_already_issued() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let url = link_for(&app, &r, "42").await;
    app.call_fn("disable_sso", &[]).await;
    let res = browser()
        .get(&url)
        .header("accept", "text/html")
        .send()
        .await
        .expect("follow");
    assert_eq!(res.status().as_u16(), 410);
    assert!(res.text().await.expect("html").contains("not available"));
    // on again: a new secret, the old one is gone for good
    enable(&app).await;
    let (secret, _) = secrets(&app).await;
    assert_ne!(secret, r.secret);
    let (status, _) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": hash(&r.secret, "42") }),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn subscriber_and_merchant_sessions_never_open_each_others_pages() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let url = link_for(&app, &r, "42").await;
    let (_, subscriber) = follow(&app, &url).await;
    // the subscriber's session is not a merchant's
    let res = subscriber.get_page("/dashboard/oauth").await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(res.headers()["location"]
        .to_str()
        .expect("location")
        .starts_with("/login"));
    let (status, _) = error_of(
        subscriber
            .client
            .get(subscriber.url("/fn/sso_status"))
            .send()
            .await
            .expect("fn"),
    )
    .await;
    assert_eq!(status, 401);
    // the merchant's session opens nobody's portal
    assert_eq!(portal_view(&app).await, Value::Null);
    let page = app.get_page("/portal").await.text().await.expect("html");
    assert!(page.contains("You are signed out"));
}

#[tokio::test]
async fn manage_billing_opens_a_stripe_portal_session_and_sign_out_ends_the_session() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let url = link_for(&app, &r, "42").await;
    let (_, subscriber) = follow(&app, &url).await;
    let res = subscriber.call_fn("open_billing", &[]).await;
    assert_eq!(res.status().as_u16(), 200);
    let portal: String = res.json().await.expect("url");
    assert!(portal.starts_with(&app.stripe.base_url), "{portal}");
    let html = browser()
        .get(&portal)
        .send()
        .await
        .expect("stripe portal")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("ada@example.com") || html.contains("Ada"),
        "{html}"
    );

    let res = subscriber.call_fn("portal_logout", &[]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(portal_view(&subscriber).await, Value::Null);
    let (status, _) = error_of(subscriber.call_fn("open_billing", &[]).await).await;
    assert_eq!(status, 403);
    // billing needs the same CSRF protection as every form
    let (_, fresh) = follow(&app, &link_for(&app, &r, "42").await).await;
    let res = fresh
        .client
        .post(fresh.url("/fn/open_billing"))
        .header("origin", "https://evil.test")
        .form(&[("csrf_token", "x")])
        .send()
        .await
        .expect("forged");
    assert_eq!(res.status().as_u16(), 403);
}

#[tokio::test]
async fn the_tab_logs_logins_with_ip_user_agent_and_outcome() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": hash("wrong", "42") }),
    )
    .await;
    let url = link_for(&app, &r, "42").await;
    follow(&app, &url).await;
    follow(&app, &url).await;
    let log = sso_tab(&app).await["logins"].clone();
    let outcomes: Vec<&str> = log
        .as_array()
        .expect("log")
        .iter()
        .map(|l| l["outcome"].as_str().expect("outcome"))
        .collect();
    assert_eq!(
        outcomes,
        [
            "link_reused",
            "portal_opened",
            "link_issued",
            "invalid_hash"
        ],
        "most recent first"
    );
    assert_eq!(log[2]["user_agent"], "merchant-backend/1.0");
    assert_eq!(log[2]["ip"], "127.0.0.1");
    assert_eq!(log[2]["subscriber_id"], "42");
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
