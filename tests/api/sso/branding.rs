//! The portal's branding, set on the SSO tab: the way back to the store, the support email, an
//! accent colour and a logo, shown to that merchant's subscribers only, also once signed out and
//! on a dead link's page; the subscriber id is never shown, even when Stripe is disconnected.

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

/// A save refused with 422 and a message that starts with the field's name.
async fn refused_for(res: reqwest::Response, field: &str, input: &str) {
    let (status, body) = error_of(res).await;
    assert_eq!(status, 422, "{input}: {body}");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .starts_with(field),
        "{body}"
    );
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
            "support_email": "help@shop.example.com",
            "accent": null,
            "on_accent": null,
            "logo_url": null
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
        refused_for(
            save(&app, url, email).await,
            field,
            &format!("{url} {email}"),
        )
        .await;
    }
    assert_eq!(
        branding(&app).await,
        serde_json::json!({
            "store_url": null, "support_email": null, "accent": null, "on_accent": null, "logo_url": null
        }),
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

async fn save_all(app: &TestApp, accent: &str, logo_url: &str) -> reqwest::Response {
    app.call_fn(
        "save_portal_branding",
        &[
            ("store_url", "https://shop.example.com/account"),
            ("support_email", "help@shop.example.com"),
            ("accent", accent),
            ("logo_url", logo_url),
        ],
    )
    .await
}

fn csp(res: &reqwest::Response) -> String {
    res.headers()
        .get("content-security-policy")
        .expect("a policy")
        .to_str()
        .expect("ascii")
        .to_string()
}

#[tokio::test]
async fn the_accent_and_the_logo_colour_the_portal_under_its_policy() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    for (accent, logo, field) in [
        ("yellow", "", "Accent colour"),
        ("#fc1", "", "Accent colour"),
        ("#facc15;}body{display:none", "", "Accent colour"),
        ("", "http://cdn.example.com/logo.png", "Logo"),
        ("", "data:image/png;base64,AAAA", "Logo"),
    ] {
        refused_for(
            save_all(&app, accent, logo).await,
            field,
            &format!("{accent} {logo}"),
        )
        .await;
    }
    let res = save_all(&app, " #FACC15 ", "https://cdn.shop.example.com/logo.png").await;
    assert_eq!(res.status().as_u16(), 200);
    let b = branding(&app).await;
    assert_eq!(
        (&b["accent"], &b["on_accent"], &b["logo_url"]),
        (
            &Value::from("#facc15"),
            &Value::from("#000000"), // yellow takes black text
            &Value::from("https://cdn.shop.example.com/logo.png")
        )
    );

    let (_, subscriber) = follow(&app, &link_for(&app, &r, "42").await).await;
    let page = subscriber.get_page("/portal").await;
    let policy = csp(&page);
    let html = page.text().await.expect("html");
    assert!(
        html.contains(":root{--accent:#facc15;--on-accent:#000000}"),
        "{html}"
    );
    assert!(
        html.contains(r#"id="portal-logo" src="https://cdn.shop.example.com/logo.png""#),
        "{html}"
    );
    // the logo's origin, and only it, is added to the images the page may load; the accent's
    // <style> runs by the response's nonce, not by 'unsafe-inline'
    assert!(
        policy.contains("img-src 'self' data: https://cdn.shop.example.com;"),
        "{policy}"
    );
    assert!(policy.contains("style-src 'self' 'nonce-"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("nonce");
    assert!(
        html.contains(&format!("<style nonce=\"{nonce}\">")),
        "{html}"
    );

    // another merchant's portal neither loads that logo nor wears that colour
    let other = app.new_browser();
    let r2 = ready(&other).await;
    let (_, theirs) = follow(&other, &link_for(&other, &r2, "42").await).await;
    let page = theirs.get_page("/portal").await;
    assert!(!csp(&page).contains("cdn.shop.example.com"));
    let html = page.text().await.expect("html");
    assert!(
        !html.contains("--accent") && !html.contains(r#"id="portal-logo""#),
        "{html}"
    );
}

#[tokio::test]
async fn signed_out_and_dead_link_pages_still_show_the_store() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let business = r.connected.merchant.business_name.clone();
    save_all(&app, "#4f46e5", "https://cdn.shop.example.com/logo.png").await;

    // signing out leads to a page that names the store (by its public slug) and the way back
    let link = link_for(&app, &r, "42").await;
    let (_, subscriber) = follow(&app, &link).await;
    let res = subscriber.call_fn("portal_logout", &[]).await;
    assert_eq!(res.status().as_u16(), 200);
    let to: String = res.json().await.expect("where to");
    assert_eq!(to, format!("/portal?store={}", r.store));
    assert_eq!(portal_view(&subscriber).await, Value::Null, "signed out");
    let html = subscriber.page_html(&to).await;
    assert!(
        html.contains(&format!("You are signed out of {business}")),
        "{html}"
    );
    assert!(
        html.contains(r#"id="portal-back" href="https://shop.example.com/account""#),
        "{html}"
    );
    assert!(
        html.contains("--accent:#4f46e5;--on-accent:#ffffff"),
        "{html}"
    );
    assert!(html.contains("id=\"portal-logo\""), "{html}");
    // an unknown store, or none: the plain page, nobody's name
    for path in [
        "/portal?store=no-such-store",
        "/portal",
        "/portal?store=%3Cscript%3E",
    ] {
        let html = subscriber.page_html(path).await;
        assert!(html.contains("You are signed out<"), "{path}: {html}");
        assert!(
            !html.contains("portal-back") && !html.contains(&business),
            "{path}"
        );
    }

    // the used link's page: expired, with the store's way back, logo and support address
    let dead = subscriber
        .client
        .get(&link)
        .header("accept", "text/html")
        .send()
        .await
        .expect("dead link");
    assert_eq!(dead.status().as_u16(), 410);
    let policy = csp(&dead);
    assert!(
        policy.contains("img-src 'self' https://cdn.shop.example.com;"),
        "{policy}"
    );
    assert!(policy.contains("default-src 'none'"), "{policy}");
    let html = dead.text().await.expect("html");
    assert!(html.contains("This sign-in link has expired"), "{html}");
    assert!(html.contains(&format!("← Back to {business}")), "{html}");
    assert!(html.contains("mailto:help@shop.example.com"), "{html}");
    assert!(html.contains("id=\"portal-logo\""), "{html}");
    // a link nobody issued: the same page, no store
    let unknown = format!("{}/portal/sso/{}", app.address, "A".repeat(43));
    let dead = subscriber
        .client
        .get(&unknown)
        .header("accept", "text/html")
        .send()
        .await
        .expect("unknown link");
    assert_eq!(dead.status().as_u16(), 410);
    assert!(csp(&dead).contains("img-src 'self';"));
    let html = dead.text().await.expect("html");
    assert!(
        !html.contains("portal-back") && !html.contains(&business),
        "{html}"
    );
}
