//! CSRF, HTTPS-only production mode, security headers, health checks.

use std::net::IpAddr;

use reqwest::header::ACCEPT;
use subgate::config::Environment;

use crate::support::{
    error_of, set_cookies, spawn_app, spawn_app_with, Merchant, Options, TestApp,
};

#[tokio::test]
async fn a_forged_post_without_the_token_is_refused() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    app.log_out().await;
    // the victim's browser has a session with a real token, which the forger cannot read
    assert!(!app.csrf_token().await.is_empty());

    // no token
    let res = app
        .client
        .post(app.url("/fn/login"))
        .header(ACCEPT, "application/json")
        .form(&[
            ("email", m.email.as_str()),
            ("password", m.password.as_str()),
        ])
        .send()
        .await
        .expect("post");
    let (status, body) = error_of(res).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "csrf");

    // a made-up token
    let res = app
        .client
        .post(app.url("/fn/login"))
        .header(ACCEPT, "application/json")
        .form(&[
            ("email", m.email.as_str()),
            ("password", m.password.as_str()),
            ("csrf_token", "guess"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    assert_eq!(
        app.get_page("/dashboard/oauth").await.status(),
        303,
        "not logged in"
    );
}

#[tokio::test]
async fn a_cross_origin_post_is_refused_even_with_the_token() {
    let app = spawn_app().await;
    app.sign_up(&Merchant::generate()).await;
    let token = app.csrf_token().await;
    let res = app
        .client
        .post(app.url("/fn/logout"))
        .headers(TestApp::foreign_origin())
        .header(ACCEPT, "application/json")
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    assert_eq!(
        app.get_page("/dashboard/oauth").await.status(),
        200,
        "still logged in"
    );
}

#[tokio::test]
async fn the_csrf_token_changes_at_login() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    app.log_out().await;
    let before = app.csrf_token().await;
    app.log_in(&m.email, &m.password).await;
    let html = app
        .get_page("/dashboard/oauth")
        .await
        .text()
        .await
        .expect("html");
    let after = crate::support::meta_csrf_token(&html).expect("token");
    assert_ne!(before, after);
}

fn loopback() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

#[tokio::test]
async fn production_refuses_plain_http() {
    let app = spawn_app_with(Options {
        environment: Environment::Production,
        trusted_proxies: vec![],
        ..Options::default()
    })
    .await;
    let res = app
        .client
        .get(app.url("/login"))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .expect("get");
    let (status, body) = error_of(res).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "https_required");
    assert_eq!(body["message"], "HTTPS is required.");

    // an X-Forwarded-Proto from anyone but a trusted proxy changes nothing
    let res = app
        .client
        .get(app.url("/login"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 403);
    let page = app
        .client
        .get(app.url("/login"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(page.status(), 403);
    assert!(page
        .text()
        .await
        .expect("html")
        .contains("HTTPS is required."));
}

#[tokio::test]
async fn production_behind_a_trusted_proxy_serves_https_with_secure_cookies() {
    let app = spawn_app_with(Options {
        environment: Environment::Production,
        trusted_proxies: vec![loopback()],
        ..Options::default()
    })
    .await;
    let res = app
        .client
        .get(app.url("/login"))
        .header(ACCEPT, "text/html")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    assert!(res.headers()["strict-transport-security"]
        .to_str()
        .expect("hsts")
        .contains("max-age="));
    let cookies = set_cookies(&res);
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with("__Host-subgate_csrf="))
        .expect("__Host- CSRF cookie (the session starts at login)");
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"),
        "{cookie}"
    );

    // the proxy forwarding plain http is still refused
    let res = app
        .client
        .get(app.url("/login"))
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/login", "/healthz", "/no-such-page"] {
        let res = app.get_page(path).await;
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(res.headers()["x-frame-options"], "DENY", "{path}");
        assert_eq!(res.headers()["referrer-policy"], "same-origin", "{path}");
        assert!(
            res.headers().get("strict-transport-security").is_none(),
            "no HSTS over plain http"
        );
    }
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let app = spawn_app().await;
    let res = app.get_page("/no-such-page").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.expect("html").contains("Page not found"));
}

#[tokio::test]
async fn an_unknown_dashboard_page_is_a_404_inside_the_dashboard() {
    let app = spawn_app().await;
    app.signed_up().await;
    for path in ["/dashboard/no-such-tab", "/dashboard/oauth/nothing/here"] {
        let res = app.get_page(path).await;
        assert_eq!(res.status(), 404, "{path}");
        let html = res.text().await.expect("html");
        assert!(html.contains("Page not found"), "{path}");
        assert!(
            html.contains(r#"aria-label="Dashboard""#) && html.contains(r#"id="logout""#),
            "{path}: inside the dashboard's layout, with its tabs and log out"
        );
    }
    // the real pages are unaffected
    assert_eq!(app.get_page("/dashboard/oauth").await.status(), 200);
}

#[tokio::test]
async fn health_checks_report_the_database() {
    let app = spawn_app().await;
    let live: serde_json::Value = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(live["status"], "ok");
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("get");
    assert_eq!(ready.status(), 200);
    let ready: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(ready["database"], "ok");
    // API calls and assets do not create sessions
    let res = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("get");
    assert!(set_cookies(&res).is_empty());
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_with_a_fresh_nonce() {
    let app = spawn_app().await;
    let nonce_of = |csp: &str| {
        csp.split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .map(String::from)
            .expect("nonce in CSP")
    };
    let res = app.get_page("/login").await;
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"),
        "{csp}"
    );
    let first = nonce_of(&csp);
    let html = res.text().await.expect("html");
    assert!(
        html.contains(&format!("nonce=\"{first}\"")),
        "inline scripts carry the nonce"
    );

    let again = app.get_page("/login").await;
    let second = nonce_of(
        again.headers()["content-security-policy"]
            .to_str()
            .expect("csp"),
    );
    assert_ne!(first, second, "a new nonce for every page");
}
