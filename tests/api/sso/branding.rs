//! The portal's branding, set on the SSO tab: the way back to the store and the support email,
//! shown to that merchant's subscribers only; the subscriber id is never shown, even when
//! Stripe is disconnected.

use serde_json::Value;

use crate::support::sso::{follow, link_for, portal_view, ready};
use crate::support::{error_of, spawn_app, TestApp};

async fn save(app: &TestApp, store_url: &str, support_email: &str) -> reqwest::Response {
    app.call_fn(
        "save_portal_branding",
        &[("store_url", store_url), ("support_email", support_email)],
    )
    .await
}

async fn branding(app: &TestApp) -> Value {
    app.client
        .get(app.url("/fn/portal_branding"))
        .send()
        .await
        .expect("portal_branding")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn the_portal_shows_the_way_back_to_the_store_and_the_support_email() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let res = save(
        &app,
        " https://shop.example.com/account ",
        "help@shop.example.com",
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        branding(&app).await,
        serde_json::json!({
            "store_url": "https://shop.example.com/account",
            "support_email": "help@shop.example.com"
        })
    );

    let (status, subscriber) = follow(&app, &link_for(&app, &r, "42").await).await;
    assert_eq!(status, 303);
    let portal = portal_view(&subscriber).await;
    assert_eq!(
        portal["branding"]["store_url"],
        "https://shop.example.com/account"
    );
    assert_eq!(portal["branding"]["support_email"], "help@shop.example.com");
    // rendered on the server, before any script
    let html = subscriber.page_html("/portal").await;
    assert!(
        html.contains(r#"id="portal-back" href="https://shop.example.com/account""#),
        "{html}"
    );
    assert!(html.contains("mailto:help@shop.example.com"));

    // blank clears
    assert_eq!(save(&app, "", "").await.status().as_u16(), 200);
    let portal = portal_view(&subscriber).await;
    assert_eq!(portal["branding"]["store_url"], Value::Null);
    let html = subscriber.page_html("/portal").await;
    assert!(!html.contains("portal-back"));
}

#[tokio::test]
async fn branding_is_checked_and_stays_with_its_merchant() {
    let app = spawn_app().await;
    ready(&app).await;
    for (url, email, field) in [
        ("javascript:alert(1)", "", "Back to store"),
        ("http://shop.example.com", "", "Back to store"),
        ("https://user:pw@shop.example.com", "", "Back to store"),
        ("https://shop.example.com", "not an email", "Support email"),
    ] {
        let (status, body) = error_of(save(&app, url, email).await).await;
        assert_eq!(status, 422, "{url} {email}: {body}");
        assert!(
            body["message"]
                .as_str()
                .expect("message")
                .starts_with(field),
            "{body}"
        );
    }
    assert_eq!(
        branding(&app).await,
        serde_json::json!({ "store_url": null, "support_email": null }),
        "nothing saved"
    );

    save(&app, "https://one.example.com", "help@one.example.com").await;
    let other = app.new_browser();
    let r = ready(&other).await;
    assert_eq!(branding(&other).await["store_url"], Value::Null);
    let (_, subscriber) = follow(&other, &link_for(&other, &r, "42").await).await;
    let portal = portal_view(&subscriber).await;
    assert_eq!(portal["branding"]["store_url"], Value::Null, "{portal}");
}

#[tokio::test]
async fn the_portal_never_shows_the_subscriber_id_even_with_stripe_disconnected() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let (_, subscriber) = follow(&app, &link_for(&app, &r, "42").await).await;
    let res = app
        .call_fn("revoke_connection", &[("confirm", &r.connected.account)])
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let html = subscriber.page_html("/portal").await;
    assert!(html.contains("id=\"portal-unavailable\""), "{html}");
    assert!(
        html.contains(r#"<span id="portal-subscriber">ada@example.com</span>"#),
        "greeted by the email as last pushed: {html}"
    );
}
