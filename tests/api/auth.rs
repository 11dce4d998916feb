//! Merchant sign-up, login, logout, sessions and throttling, as a browser drives them.

use reqwest::header::{ACCEPT, LOCATION, ORIGIN};
use serde_json::Value;

use crate::support::{browser, error_of, session_cookie, set_cookies, spawn_app, Merchant};

#[tokio::test]
async fn signing_up_logs_the_merchant_in_and_shows_the_dashboard() {
    let app = spawn_app().await;
    let m = Merchant::generate();

    let res = app.sign_up(&m).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<String>().await.expect("json"), "/dashboard");

    let page = app.get_page("/dashboard/oauth").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains(&m.business_name),
        "dashboard shows the business name"
    );
    for tab in ["OAuth", "Connect", "SSO", "API"] {
        assert!(html.contains(&format!(">{tab}<")), "tab {tab} is there");
    }

    let me: Value = app
        .client
        .get(app.url("/fn/current_merchant"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(me["business_name"], m.business_name.as_str());
    assert_eq!(me["email"], m.email.as_str());
    assert_eq!(app.merchant_count().await, 1);
}

#[tokio::test]
async fn the_dashboard_sends_anonymous_visitors_to_login_and_back() {
    let app = spawn_app().await;
    let res = app.get_page("/dashboard/sso").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "/login?next=%2Fdashboard%2Fsso");

    let m = Merchant::generate();
    app.sign_up(&m).await;
    app.log_out().await;
    let res = app
        .call_fn(
            "login",
            &[
                ("email", &m.email),
                ("password", &m.password),
                ("next", "/dashboard/sso"),
            ],
        )
        .await;
    assert_eq!(res.json::<String>().await.expect("json"), "/dashboard/sso");
}

#[tokio::test]
async fn login_never_redirects_off_site() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    for evil in ["https://evil.example/", "//evil.example", "/\\evil.example"] {
        let res = app
            .call_fn(
                "login",
                &[
                    ("email", &m.email),
                    ("password", &m.password),
                    ("next", evil),
                ],
            )
            .await;
        assert_eq!(
            res.json::<String>().await.expect("json"),
            "/dashboard",
            "{evil}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    app.log_out().await;

    let (status_a, body_a) = error_of(app.log_in(&m.email, "wrong password entirely").await).await;
    let (status_b, body_b) = error_of(
        app.log_in("nobody@acme.test", "wrong password entirely")
            .await,
    )
    .await;
    assert_eq!(status_a, 401);
    assert_eq!((status_a, &body_a), (status_b, &body_b));
    assert_eq!(body_a["error"], "invalid_credentials");

    assert_eq!(
        app.get_page("/dashboard/oauth").await.status(),
        303,
        "still logged out"
    );
}

#[tokio::test]
async fn login_is_case_insensitive_on_email() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    app.log_out().await;
    let res = app.log_in(&m.email.to_uppercase(), &m.password).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_duplicate_email_is_refused_whatever_its_case() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    assert_eq!(app.sign_up(&m).await.status(), 200);
    app.log_out().await;

    let again = Merchant {
        email: m.email.to_uppercase(),
        ..Merchant::generate()
    };
    let (status, body) = error_of(app.sign_up(&again).await).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"], "conflict");
    assert_eq!(app.merchant_count().await, 1);
}

#[tokio::test]
async fn invalid_sign_up_input_is_explained_and_nothing_is_written() {
    let app = spawn_app().await;
    let cases: [(&str, &str, &str, &str); 6] = [
        (
            "",
            "a@acme.test",
            "correct horse battery",
            "Business name: this field is required.",
        ),
        (
            &"x".repeat(101),
            "a@acme.test",
            "correct horse battery",
            "Business name: at most 100 characters.",
        ),
        (
            "Acme",
            "not-an-email",
            "correct horse battery",
            "Email: enter an address like name@example.com.",
        ),
        (
            "Acme",
            &format!("{}@acme.test", "a".repeat(260)),
            "correct horse battery",
            "Email: at most 254 characters.",
        ),
        (
            "Acme",
            "a@acme.test",
            "short",
            "Password: At least 12 characters",
        ),
        (
            "Acme",
            "a@acme.test",
            &"p".repeat(129),
            "Password: At most 128 characters",
        ),
    ];
    for (name, email, password, message) in cases {
        let res = app
            .call_fn(
                "signup",
                &[
                    ("business_name", name),
                    ("email", email),
                    ("password", password),
                ],
            )
            .await;
        let (status, body) = error_of(res).await;
        assert_eq!(status, 422, "{message}");
        assert_eq!(body["error"], "validation");
        assert_eq!(body["message"], message);
    }
    assert_eq!(app.merchant_count().await, 0);
}

#[tokio::test]
async fn malformed_form_bodies_get_400_not_500() {
    let app = spawn_app().await;
    let token = app.csrf_token().await;
    // a required field missing
    let res = app.call_fn("signup", &[("business_name", "Acme")]).await;
    assert_eq!(res.status(), 400);
    // garbage that is not a form at all, with a valid token in the header
    let res = app
        .client
        .post(app.url("/fn/login"))
        .header(ACCEPT, "application/json")
        .header(ORIGIN, &app.address)
        .header("x-csrf-token", &token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("%%%&&&==")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    // a body over the limit
    let huge = "a".repeat(2 * 1024 * 1024);
    let res = app
        .call_fn("login", &[("email", &huge), ("password", "x")])
        .await;
    assert_eq!(res.status(), 413);
    assert_eq!(app.merchant_count().await, 0);
}

#[tokio::test]
async fn the_session_id_changes_at_login_and_the_old_one_is_worthless_after_logout() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    let before = session_cookie(&set_cookies(&app.sign_up(&m).await)).expect("session at sign-up");
    app.log_out().await;
    assert_eq!(
        session_cookie(&set_cookies(&app.get_page("/login").await)),
        None,
        "an anonymous page view starts no session"
    );
    let login = app.log_in(&m.email, &m.password).await;
    assert_eq!(login.status(), 200);
    let after = session_cookie(&set_cookies(&login)).expect("new session cookie at login");
    assert_ne!(before, after, "session id cycled at login");

    // the earlier id no longer opens anything
    let stale = browser();
    let res = stale
        .get(app.url("/dashboard/oauth"))
        .header(ACCEPT, "text/html")
        .header("cookie", format!("subgate_session={before}"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 303);

    // after logout the logged-in id is dead too
    assert_eq!(app.log_out().await.status(), 200);
    let res = stale
        .get(app.url("/dashboard/oauth"))
        .header(ACCEPT, "text/html")
        .header("cookie", format!("subgate_session={after}"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn session_cookies_are_http_only_and_same_site() {
    let app = spawn_app().await;
    let before_login = set_cookies(&app.get_page("/login").await);
    let at_sign_up = set_cookies(&app.sign_up(&Merchant::generate()).await);
    for (name, cookies) in [
        ("subgate_csrf=", &before_login),
        ("subgate_session=", &at_sign_up),
    ] {
        let cookie = cookies
            .iter()
            .find(|c| c.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {cookies:?}"));
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(cookie.contains("Path=/"), "{cookie}");
        assert!(
            !cookie.contains("Secure"),
            "development serves plain http: {cookie}"
        );
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_while() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    app.log_out().await;
    for _ in 0..10 {
        assert_eq!(
            app.log_in(&m.email, "not the right password")
                .await
                .status(),
            401
        );
    }
    let res = app.log_in(&m.email, &m.password).await;
    assert_eq!(res.status(), 429);
    let (_, body) = error_of(res).await;
    let message = body["message"].as_str().expect("message").to_string();
    assert!(
        message.starts_with("Too many attempts. Try again in "),
        "{message}"
    );
    let secs: u64 = message
        .trim_start_matches("Too many attempts. Try again in ")
        .trim_end_matches(" s.")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&secs), "{secs}");

    app.clock.advance(901);
    assert_eq!(
        app.log_in(&m.email, &m.password).await.status(),
        200,
        "the window has passed"
    );
}

#[tokio::test]
async fn logging_out_ends_the_dashboard() {
    let app = spawn_app().await;
    app.sign_up(&Merchant::generate()).await;
    assert_eq!(app.get_page("/dashboard/oauth").await.status(), 200);
    let res = app.log_out().await;
    assert_eq!(res.json::<String>().await.expect("json"), "/login");
    assert_eq!(app.get_page("/dashboard/oauth").await.status(), 303);
    let me: Value = app
        .client
        .get(app.url("/fn/current_merchant"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(me.is_null());
}

/// The login form posted by a browser without JavaScript, from the page `referer`.
async fn html_form_login(
    app: &crate::support::TestApp,
    email: &str,
    password: &str,
    next: Option<&str>,
    referer: &str,
) -> reqwest::Response {
    let token = app.csrf_token().await;
    let mut form = vec![
        ("email", email),
        ("password", password),
        ("csrf_token", token.as_str()),
    ];
    form.extend(next.map(|n| ("next", n)));
    app.client
        .post(app.url("/fn/login"))
        .header(ACCEPT, "text/html")
        .header(ORIGIN, &app.address)
        .header(reqwest::header::REFERER, app.url(referer))
        .form(&form)
        .send()
        .await
        .expect("post")
}

#[tokio::test]
async fn a_plain_html_form_post_without_javascript_is_redirected() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    app.log_out().await;
    let res = html_form_login(&app, &m.email, &m.password, None, "/login").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()[LOCATION], "/dashboard");
    assert_eq!(app.get_page("/dashboard/oauth").await.status(), 200);
}

#[tokio::test]
async fn the_login_page_comes_without_the_wasm_bundle_and_works_as_a_plain_form() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    app.log_out().await;
    let selector = |s: &str| scraper::Selector::parse(s).expect("selector");
    let html = app.page_html("/login?next=%2Fdashboard%2Foauth").await;
    let doc = scraper::Html::parse_document(&html);
    assert_eq!(
        doc.select(&selector("body[data-hydrated='static']"))
            .count(),
        1
    );
    // one script file, the small sign-in one; no wasm, no loader, no preloads of the bundle
    // (leptos's inline resource data may stay: it loads nothing)
    let scripts: Vec<String> = doc
        .select(&selector("script[src]"))
        .filter_map(|s| s.value().attr("src").map(String::from))
        .collect();
    assert_eq!(scripts.len(), 1, "{scripts:?}");
    assert!(scripts[0].starts_with("/assets/auth/"), "{scripts:?}");
    assert!(!html.contains(".wasm"));
    assert!(!html.contains("/pkg/subgate.js") && !html.contains("import("));
    assert_eq!(
        doc.select(&selector("link[rel='modulepreload'], link[rel='preload']"))
            .count(),
        0
    );
    // the sign-up page, whose checklist reacts to typing, still hydrates
    let signup = app.page_html("/signup").await;
    assert!(
        signup.contains(".wasm"),
        "the sign-up page loads the bundle"
    );

    // without JavaScript: a wrong password comes back to the page, with the error in the
    // address (server_fn's form redirect), rendered by the server
    let login_page = "/login?next=%2Fdashboard%2Foauth";
    let res = html_form_login(&app, &m.email, "not the password", None, login_page).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let back = res.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    assert!(back.contains("/login?next=%2Fdashboard%2Foauth"), "{back}");
    assert!(back.contains("__err="), "{back}");
    let back = if back.starts_with("http") {
        back
    } else {
        app.url(&back)
    };
    let page = app
        .client
        .get(back)
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let doc = scraper::Html::parse_document(&page);
    let error: Vec<String> = doc
        .select(&selector("[data-testid='form-error']"))
        .map(|e| e.text().collect())
        .collect();
    assert_eq!(error, vec!["Invalid email or password.".to_string()]);
    // and the right one logs in, to where `next` said
    let next = Some("/dashboard/oauth");
    let res = html_form_login(&app, &m.email, &m.password, next, login_page).await;
    assert_eq!(res.headers()[LOCATION], "/dashboard/oauth");
}
