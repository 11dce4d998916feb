//! The OAuth 2.0 authorization server over real HTTP: every grant, every error path, the bearer
//! guard, revocation, introspection, and the `oauth2` crate as a real client.

use base64::Engine;
use reqwest::header::{ACCEPT, CACHE_CONTROL, LOCATION, ORIGIN, WWW_AUTHENTICATE};
use serde_json::Value;

use crate::support::oauth::{
    approve, assert_error_page, authorize_query, client_credentials, code_for, exchange,
    fetch_jwks, jwt_header, me, pkce_pair, query_of, setup, token, BILLING_API, REDIRECT,
};
use crate::support::{browser, spawn_app, spawn_app_with, Merchant, Options};

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
async fn the_access_token_is_an_rfc9068_jwt_verifiable_with_the_jwks() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (_, body, _) = client_credentials(&app, &s, &[]).await;
    let jwt = body["access_token"].as_str().expect("token");
    let parts: Vec<&str> = jwt.split('.').collect();
    let decode = |p: &str| -> Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .expect("b64"),
        )
        .expect("json")
    };
    let header = decode(parts[0]);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    let claims = decode(parts[1]);
    for claim in [
        "iss",
        "sub",
        "aud",
        "client_id",
        "scope",
        "iat",
        "exp",
        "jti",
    ] {
        assert!(!claims[claim].is_null(), "claim {claim}");
    }
    assert_eq!(claims["iss"], app.address.as_str());
    assert_eq!(
        claims["sub"],
        s.confidential_id.as_str(),
        "client credentials: the client is the subject"
    );
    assert_eq!(claims["aud"], format!("{}/api", app.address));

    let jwks = fetch_jwks(&app).await;
    let key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("kid published");
    assert_eq!(key["kty"], "OKP");
    let public: [u8; 32] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(key["x"].as_str().expect("x"))
        .expect("b64")
        .try_into()
        .expect("32 bytes");
    let signature: [u8; 64] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[2])
        .expect("b64")
        .try_into()
        .expect("64 bytes");
    ed25519_dalek::VerifyingKey::from_bytes(&public)
        .expect("key")
        .verify_strict(
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &ed25519_dalek::Signature::from_bytes(&signature),
        )
        .expect("signature verifies with the published key");

    let meta: Value = browser()
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("meta")
        .json()
        .await
        .expect("json");
    assert_eq!(meta["issuer"], app.address.as_str());
    assert_eq!(
        meta["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(meta["token_endpoint"], format!("{}/o/token/", app.address));
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
async fn client_credentials_respects_audience_and_scope() {
    let app = spawn_app_with(Options {
        extra_api_audiences: vec![BILLING_API.into()],
        ..Options::default()
    })
    .await;
    let s = setup(&app).await;
    let (status, body, headers) =
        client_credentials(&app, &s, &[("scope", "customers:read")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers[CACHE_CONTROL], "no-store");
    assert_eq!(body["scope"], "customers:read");
    assert!(body.get("refresh_token").is_none());
    let me_body: Value = me(&app, body["access_token"].as_str().expect("access"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me_body["client"]["id"], s.confidential_id.as_str());

    // another audience the operator configured for the API (as Riverty's): the API accepts it
    let (status, other, _) = client_credentials(&app, &s, &[("audience", BILLING_API)]).await;
    assert_eq!(status, 200);
    assert_eq!(
        me(&app, other["access_token"].as_str().expect("access"))
            .await
            .status(),
        200
    );

    let (status, body, _) =
        client_credentials(&app, &s, &[("audience", "https://evil.example")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target"))
    );
    let (status, body, _) =
        client_credentials(&app, &s, &[("scope", "customers:read portal:write")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope")),
        "no scope escalation"
    );

    // client secret in the body works too; a wrong one is 401 with a challenge
    let (status, _, _) = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.confidential_id),
            ("client_secret", &s.secret),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (status, body, headers) = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.confidential_id),
            ("client_secret", "sgs_wrong"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(headers[WWW_AUTHENTICATE]
        .to_str()
        .expect("challenge")
        .starts_with("Basic"));

    // a public client has no credentials to present
    let (status, body, _) = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.public_id),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
}

#[tokio::test]
async fn malformed_token_requests_get_rfc6749_errors() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (status, body, _) = token(
        &app,
        &[("grant_type", "password"), ("client_id", &s.public_id)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body, _) = token(&app, &[("client_id", &s.public_id)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, body, _) = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("grant_type", "client_credentials"),
            ("client_id", &s.public_id),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "repeated parameter"
    );
    let res = browser()
        .post(app.url("/o/token/"))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    let (status, body, _) = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "cli_nope"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
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

#[tokio::test]
async fn a_revoked_token_is_refused_at_once_and_introspection_agrees() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (_, body, _) = client_credentials(&app, &s, &[]).await;
    let access = body["access_token"].as_str().expect("access").to_string();

    let introspect = |t: String| {
        let app = &app;
        let (id, secret) = (s.confidential_id.clone(), s.secret.clone());
        async move {
            let res = browser()
                .post(app.url("/o/introspect/"))
                .basic_auth(id, Some(secret))
                .form(&[("token", t)])
                .send()
                .await
                .expect("introspect");
            res.json::<Value>().await.expect("json")
        }
    };
    let active = introspect(access.clone()).await;
    assert_eq!(active["active"], true);
    assert_eq!(active["client_id"], s.confidential_id.as_str());
    // used first, so this instance remembers it as live: the revocation must void that
    assert_eq!(me(&app, &access).await.status(), 200);

    let res = browser()
        .post(app.url("/o/revoke_token/"))
        .basic_auth(&s.confidential_id, Some(&s.secret))
        .form(&[("token", &access)])
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 200);
    let res = me(&app, &access).await;
    assert_eq!(res.status(), 401);
    assert!(res.headers()[WWW_AUTHENTICATE]
        .to_str()
        .expect("challenge")
        .contains("error=\"invalid_token\""));
    assert_eq!(introspect(access).await["active"], false);

    // unknown tokens revoke quietly (RFC 7009 §2.2); a client never learns about others' tokens
    let res = browser()
        .post(app.url("/o/revoke_token/"))
        .basic_auth(&s.confidential_id, Some(&s.secret))
        .form(&[("token", "nonsense")])
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn tokens_issued_at_the_same_moment_are_each_recorded_under_their_own_grant() {
    // concurrent token requests are written together (one transaction per batch): every token
    // must still be recorded with its own grant, usable, and revocable on its own
    let app = spawn_app().await;
    let s = setup(&app).await;
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (url, id, secret) = (
            app.url("/o/token/"),
            s.confidential_id.clone(),
            s.secret.clone(),
        );
        requests.spawn(async move {
            let res = browser()
                .post(url)
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .expect("token");
            assert_eq!(res.status(), 200);
            let body: Value = res.json().await.expect("json");
            body["access_token"].as_str().expect("access").to_string()
        });
    }
    let tokens: Vec<String> = requests.join_all().await;
    let jtis: std::collections::HashSet<String> = tokens
        .iter()
        .map(|t| {
            let payload = t.split('.').nth(1).expect("jwt");
            let claims: Value = serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(payload)
                    .expect("base64"),
            )
            .expect("claims");
            claims["jti"].as_str().expect("jti").to_string()
        })
        .collect();
    assert_eq!(jtis.len(), 40, "every token has its own jti");
    let recorded: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM oauth_access_tokens a JOIN oauth_grants g ON g.id = a.grant_id
         WHERE g.client_id = $1 AND g.grant_type = 'client_credentials'",
    )
    .bind(&s.confidential_id)
    .fetch_one(&app.db.pool)
    .await
    .expect("count");
    assert_eq!(recorded, 40);
    let grants: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT a.grant_id) FROM oauth_access_tokens a JOIN oauth_grants g ON g.id = a.grant_id
         WHERE g.client_id = $1",
    )
    .bind(&s.confidential_id)
    .fetch_one(&app.db.pool)
    .await
    .expect("count");
    assert_eq!(
        grants, 40,
        "each client-credentials token is a grant of its own"
    );
    for t in &tokens {
        assert_eq!(me(&app, t).await.status(), 200);
    }
    let res = browser()
        .post(app.url("/o/revoke_token/"))
        .basic_auth(&s.confidential_id, Some(&s.secret))
        .form(&[("token", &tokens[0])])
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 200);
    assert_eq!(me(&app, &tokens[0]).await.status(), 401);
    for t in &tokens[1..] {
        assert_eq!(
            me(&app, t).await.status(),
            200,
            "only the revoked token is refused"
        );
    }
}

#[tokio::test]
async fn the_api_requires_credentials_and_accepts_the_merchants_session() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let res = browser().get(app.url("/api/me")).send().await.expect("get");
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()[WWW_AUTHENTICATE], "Bearer realm=\"subgate\"");
    let res = browser()
        .get(app.url("/api/me"))
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 401);
    let res = browser()
        .get(app.url("/api/me"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 401);

    let me_body: Value = app
        .client
        .get(app.url("/api/me"))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(me_body["via"], "session");
    assert_eq!(me_body["merchant"]["id"], s.merchant_id.as_str());
}

#[tokio::test]
async fn rotated_signing_keys_keep_verifying_old_tokens() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (_, before, _) = client_credentials(&app, &s, &[]).await;
    app.state
        .tokens
        .keys
        .rotate(app.clock.now())
        .await
        .expect("rotate");
    let (_, after, _) = client_credentials(&app, &s, &[]).await;
    let kid = |t: &Value| jwt_header(t)["kid"].as_str().expect("kid").to_string();
    assert_ne!(kid(&before), kid(&after));
    assert_eq!(
        me(&app, before["access_token"].as_str().expect("jwt"))
            .await
            .status(),
        200
    );
    let jwks = fetch_jwks(&app).await;
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), 2);
    // a client may have day-long tokens: the retired key verifies for the longest lifetime
    app.clock.advance(3601);
    let jwks = fetch_jwks(&app).await;
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), 2);
    app.clock
        .advance(subgate::oauth::clients::ACCESS_TOKEN_TTL_RANGE.end() - 3600);
    let jwks = fetch_jwks(&app).await;
    assert_eq!(
        jwks["keys"].as_array().expect("keys").len(),
        1,
        "retired key gone after the longest token lifetime"
    );
}

#[tokio::test]
async fn the_oauth2_crate_completes_pkce_and_client_credentials() {
    use oauth2::basic::BasicClient;
    use oauth2::{
        AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
        RedirectUrl, TokenResponse, TokenUrl,
    };

    let app = spawn_app().await;
    let s = setup(&app).await;
    let http = browser();

    let client = BasicClient::new(ClientId::new(s.public_id.clone()))
        .set_auth_uri(AuthUrl::new(app.url("/o/authorize/")).expect("url"))
        .set_token_uri(TokenUrl::new(app.url("/o/token/")).expect("url"))
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).expect("url"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state) = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let back = approve(&app, auth_url.query().expect("query")).await;
    let q = query_of(&back);
    assert_eq!(&q["state"], state.secret());
    let tokens = client
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    assert_eq!(me(&app, tokens.access_token().secret()).await.status(), 200);
    assert!(tokens.refresh_token().is_some());

    let backend = BasicClient::new(ClientId::new(s.confidential_id.clone()))
        .set_client_secret(ClientSecret::new(s.secret.clone()))
        .set_token_uri(TokenUrl::new(app.url("/o/token/")).expect("url"));
    let tokens = backend
        .exchange_client_credentials()
        .add_extra_param("audience", app.state.config.api_audience())
        .request_async(&http)
        .await
        .expect("client credentials");
    assert_eq!(me(&app, tokens.access_token().secret()).await.status(), 200);
}

#[tokio::test]
async fn the_oauth_tab_manages_only_the_merchants_own_clients() {
    let app = spawn_app().await;
    app.sign_up(&Merchant::generate()).await;
    let fields = [
        ("name", "Backend"),
        ("client_type", "confidential"),
        ("redirect_uris", ""),
        ("scopes", "customers:read"),
        ("audiences", ""),
    ];
    let res = app.call_fn("create_client", &fields).await;
    assert_eq!(res.status(), 200);
    let issued: Value = res.json().await.expect("json");
    let id = issued["client"]["id"].as_str().expect("id").to_string();
    let secret = issued["secret"]
        .as_str()
        .expect("secret shown once")
        .to_string();
    assert_eq!(
        issued["client"]["audiences"],
        serde_json::json!([format!("{}/api", app.address)])
    );
    let listed: Value = app
        .client
        .get(app.url("/fn/list_clients"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listed.as_array().expect("list").len(), 1);
    assert!(
        !listed.to_string().contains(&secret),
        "the list never carries a secret"
    );

    // invalid input is explained and writes nothing
    let res = app
        .call_fn(
            "create_client",
            &[
                ("name", ""),
                ("client_type", "public"),
                ("redirect_uris", ""),
                ("scopes", ""),
                ("audiences", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .call_fn(
            "create_client",
            &[
                ("name", "x"),
                ("client_type", "public"),
                ("redirect_uris", "https://a.test/cb"),
                ("scopes", "admin"),
                ("audiences", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);

    // another merchant sees nothing and can touch nothing
    app.log_out().await;
    app.sign_up(&Merchant::generate()).await;
    let listed: Value = app
        .client
        .get(app.url("/fn/list_clients"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listed, serde_json::json!([]));
    let res = app
        .client
        .get(app.url(&format!("/fn/get_client?client_id={id}")))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 404);
    let res = app.call_fn("delete_client", &[("client_id", &id)]).await;
    assert_eq!(res.status(), 404);
    let res = app
        .call_fn("regenerate_secret", &[("client_id", &id)])
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .call_fn(
            "update_client",
            &[
                ("client_id", &id),
                ("name", "Mine now"),
                ("client_type", "confidential"),
                ("redirect_uris", ""),
                ("scopes", ""),
                ("audiences", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 404);

    // the owner's secret still works: nothing was changed
    let (status, _, _) = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn create_client_on_the_command_line_prints_its_credentials() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_subgate"))
        .args([
            "create-client",
            "--merchant",
            &m.email,
            "--name",
            "Ops",
            "--type",
            "confidential",
            "--scope",
            "customers:read",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("SUBGATE_DATA_DIR", &app.data_dir)
        .env("SUBGATE_SECRET_KEY", "test-secret-key-test-secret-key-0123")
        .env("SUBGATE_PUBLIC_URL", &app.address)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).expect("json");
    let (id, secret) = (
        printed["client_id"].as_str().expect("id"),
        printed["client_secret"].as_str().expect("secret"),
    );
    let (status, body, _) = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "customers:read");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_subgate"))
        .args([
            "create-client",
            "--merchant",
            &m.email,
            "--name",
            "Web",
            "--type",
            "public",
            "--redirect-uri",
            "http://evil.example/cb",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("SUBGATE_DATA_DIR", &app.data_dir)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("http is allowed only for localhost"));
}

#[tokio::test]
async fn rotate_signing_key_on_the_command_line_switches_the_signing_key() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (_, before, _) = client_credentials(&app, &s, &[]).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_subgate"))
        .arg("rotate-signing-key")
        .env("DATABASE_URL", &app.database_url)
        .env("SUBGATE_SECRET_KEY", "test-secret-key-test-secret-key-0123")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kid = serde_json::from_slice::<Value>(&out.stdout).expect("json")["kid"]
        .as_str()
        .expect("kid")
        .to_string();
    // a running server keeps its unsealed signing key for 5 s, then asks which key is current
    app.clock.advance(5);
    let (_, after, _) = client_credentials(&app, &s, &[]).await;
    let header = jwt_header;
    assert_eq!(header(&after)["kid"], kid.as_str());
    assert_ne!(header(&before)["kid"], kid.as_str());
    assert_eq!(
        me(&app, before["access_token"].as_str().expect("jwt"))
            .await
            .status(),
        200,
        "old tokens still verify"
    );
}
