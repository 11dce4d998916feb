//! The one-time link and the subscriber portal it opens.

use serde_json::{json, Value};

use crate::support::sso::{follow, hash, link_for, login, login_as, portal_view, ready, sso_tab};
use crate::support::{browser, error_of, spawn_app};

#[tokio::test]
async fn a_valid_hash_gets_a_one_time_link_that_opens_the_portal_with_the_subscriptions() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let before = app.clock.now();
    let (status, body) = login_as(&app, &r, "42").await;
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
