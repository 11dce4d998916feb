//! Access tokens: the RFC 9068 JWT and its keys, the bearer guard, revocation, introspection.

use base64::Engine;
use reqwest::header::{ACCEPT, WWW_AUTHENTICATE};
use serde_json::Value;

use crate::support::oauth::{client_credentials, fetch_jwks, jwt_header, me, setup};
use crate::support::{browser, spawn_app};

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
