//! The SSO tab: turning it on and off, rotation with overlap, and the login log.

use serde_json::{json, Value};

use crate::support::sso::{
    enable, follow, hash, link_for, login, login_as, ready, secrets, sso_tab,
};
use crate::support::{browser, error_of, spawn_app};

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
    // a day later, revealing the secrets asks for the password again
    app.confirm_identity().await;
    let (status, _) = login_as(&app, &r, "42").await;
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
async fn turning_sso_off_refuses_links_already_issued() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let url = link_for(&app, &r, "42").await;
    app.call_fn("disable_sso", &[("confirm", &r.store)]).await;
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
    let (status, _) = login_as(&app, &r, "42").await;
    assert_eq!(status, 401);
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
