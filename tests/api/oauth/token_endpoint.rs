//! `/o/token/` beyond the code grant: client credentials with audience and scope, malformed
//! requests, and the `oauth2` crate as a published client.

use reqwest::header::{CACHE_CONTROL, WWW_AUTHENTICATE};
use serde_json::Value;

use crate::support::oauth::{
    approve, client_credentials, me, query_of, setup, token, BILLING_API, REDIRECT,
};
use crate::support::{browser, spawn_app, spawn_app_with, Options};

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
