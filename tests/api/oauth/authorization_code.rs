//! The authorization-code grant with PKCE: codes, redirect URIs, consent, refresh tokens.

use reqwest::header::{CACHE_CONTROL, LOCATION, ORIGIN, WWW_AUTHENTICATE};
use serde_json::Value;

use crate::support::oauth::{
    approve, assert_error_page, authorize_query, code_for, exchange, me, pkce_pair, query_of,
    setup, token, REDIRECT,
};
use crate::support::{spawn_app, Merchant};

#[tokio::test]
async fn authorization_code_with_pkce_gets_tokens_that_open_the_api() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (verifier, challenge) = pkce_pair();
    let code = code_for(&app, &s.public_id, &challenge).await;
    assert!(code.len() >= 22, "at least 128 bits");

    let (status, body, headers) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &s.public_id),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers[CACHE_CONTROL], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(
        body["scope"],
        "customers:read customers:write portal:write subscriptions:read"
    );
    assert!(body["refresh_token"]
        .as_str()
        .expect("refresh")
        .starts_with("sgr_"));

    let res = me(&app, body["access_token"].as_str().expect("access")).await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.expect("json");
    assert_eq!(me["merchant"]["id"], s.merchant_id.as_str());
    assert_eq!(me["client"]["id"], s.public_id.as_str());
    assert_eq!(me["via"], "bearer");
}

#[tokio::test]
async fn a_wrong_code_verifier_is_invalid_grant() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (_, challenge) = pkce_pair();
    let code = code_for(&app, &s.public_id, &challenge).await;
    let (other_verifier, _) = pkce_pair();
    let (status, body) = exchange(&app, &s.public_id, &code, &other_verifier).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn the_plain_pkce_method_is_refused_back_at_the_client() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let query = authorize_query(&s.public_id, "abc", &[])
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let res = app.get_page(&format!("/o/authorize/?{query}")).await;
    assert_eq!(res.status(), 303);
    let q = query_of(res.headers()[LOCATION].to_str().expect("location"));
    assert_eq!(q["error"], "invalid_request");
    assert!(q["error_description"].contains("plain"));
    assert_eq!(q["state"], "xyz");

    // and a public client without PKCE at all
    let query = authorize_query(&s.public_id, "x", &[])
        .replace("&code_challenge=x&code_challenge_method=S256", "");
    let res = app.get_page(&format!("/o/authorize/?{query}")).await;
    assert_eq!(
        query_of(res.headers()[LOCATION].to_str().expect("location"))["error"],
        "invalid_request"
    );
}

#[tokio::test]
async fn a_redirect_uri_that_is_not_exact_gets_a_page_never_a_redirect() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (_, challenge) = pkce_pair();
    for evil in [
        "http://127.0.0.1:8765/callback/",
        "http://127.0.0.1:8765/callback?x=1",
        "https://evil.example/callback",
    ] {
        let query = authorize_query(&s.public_id, &challenge, &[]).replace(
            &url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>(),
            &url::form_urlencoded::byte_serialize(evil.as_bytes()).collect::<String>(),
        );
        let res = app.get_page(&format!("/o/authorize/?{query}")).await;
        assert_eq!(res.status(), 400, "{evil}");
        assert_error_page(res, "does not exactly match").await;
    }
}

#[tokio::test]
async fn a_replayed_code_fails_and_revokes_what_it_issued() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (verifier, challenge) = pkce_pair();
    let code = code_for(&app, &s.public_id, &challenge).await;
    let (status, first) = exchange(&app, &s.public_id, &code, &verifier).await;
    assert_eq!(status, 200);
    let access = first["access_token"].as_str().expect("access");
    assert_eq!(me(&app, access).await.status(), 200);

    let (status, body) = exchange(&app, &s.public_id, &code, &verifier).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");

    let res = me(&app, access).await;
    assert_eq!(res.status(), 401, "tokens from a replayed code are revoked");
    assert!(res.headers()[WWW_AUTHENTICATE]
        .to_str()
        .expect("challenge")
        .contains("invalid_token"));
    let (status, body, _) = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &s.public_id),
            (
                "refresh_token",
                first["refresh_token"].as_str().expect("refresh"),
            ),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn a_code_expires_after_sixty_seconds() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (verifier, challenge) = pkce_pair();
    let code = code_for(&app, &s.public_id, &challenge).await;
    app.clock.advance(61);
    let (status, body) = exchange(&app, &s.public_id, &code, &verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_grant() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (verifier, challenge) = pkce_pair();
    let code = code_for(&app, &s.public_id, &challenge).await;
    let (_, first) = exchange(&app, &s.public_id, &code, &verifier).await;
    let old = first["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();

    let refresh = |rt: String| {
        let app = &app;
        let id = s.public_id.clone();
        async move {
            token(
                app,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", &id),
                    ("refresh_token", &rt),
                ],
            )
            .await
        }
    };
    let (status, second, _) = refresh(old.clone()).await;
    assert_eq!(status, 200);
    let new = second["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_string();
    assert_ne!(new, old);
    assert_eq!(
        me(&app, second["access_token"].as_str().expect("access"))
            .await
            .status(),
        200
    );

    // the old one again: reuse detected, the whole grant goes
    let (status, body, _) = refresh(old).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, _) = refresh(new).await;
    assert_eq!(status, 400, "the rotated token died with the grant");
    assert_eq!(
        me(&app, second["access_token"].as_str().expect("access"))
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn a_merchant_cannot_authorize_another_merchants_client() {
    let app = spawn_app().await;
    let a = setup(&app).await;
    app.log_out().await;
    app.sign_up(&Merchant::generate()).await;
    let (_, challenge) = pkce_pair();
    let res = app
        .get_page(&format!(
            "/o/authorize/?{}",
            authorize_query(&a.public_id, &challenge, &[])
        ))
        .await;
    assert_eq!(res.status(), 400);
    assert_error_page(res, "Unknown client_id").await;
}

#[tokio::test]
async fn authorizing_while_logged_out_goes_through_login_and_back() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    app.log_out().await;
    let (_, challenge) = pkce_pair();
    let query = authorize_query(&s.public_id, &challenge, &[]);
    let res = app.get_page(&format!("/o/authorize/?{query}")).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    assert!(
        location.starts_with("/login?next=%2Fo%2Fauthorize%2F%3F"),
        "{location}"
    );
}

#[tokio::test]
async fn approval_prompt_auto_skips_consent_once_given_and_deny_is_access_denied() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (_, challenge) = pkce_pair();
    // first time: a consent page even with auto
    let auto = authorize_query(&s.public_id, &challenge, &[("approval_prompt", "auto")]);
    approve(&app, &auto).await;
    // now auto goes straight back with a code
    let res = app.get_page(&format!("/o/authorize/?{auto}")).await;
    assert_eq!(res.status(), 303);
    assert!(query_of(res.headers()[LOCATION].to_str().expect("location")).contains_key("code"));
    // force always asks
    let force = authorize_query(&s.public_id, &challenge, &[("approval_prompt", "force")]);
    assert_eq!(
        app.get_page(&format!("/o/authorize/?{force}"))
            .await
            .status(),
        200
    );

    let token =
        crate::support::meta_csrf_token(&app.get_page("/").await.text().await.expect("html"))
            .expect("token");
    let res = app
        .client
        .post(app.url("/o/authorize/"))
        .header(ORIGIN, &app.address)
        .form(&[
            ("csrf_token", token.as_str()),
            ("request", force.as_str()),
            ("decision", "deny"),
        ])
        .send()
        .await
        .expect("deny");
    let q = query_of(res.headers()[LOCATION].to_str().expect("location"));
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "xyz");

    // the consent form is CSRF-protected like every form
    let res = app
        .client
        .post(app.url("/o/authorize/"))
        .form(&[("request", force.as_str()), ("decision", "allow")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
}
