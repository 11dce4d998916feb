//! Randomness is injected as time is: a server built with a seed repeats a whole flow exactly,
//! which holds only if every id, secret and one-time token the domain makes comes from the
//! injected source (a stray `OsRng` would make the two runs differ).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use crate::support::sso::{enable, secrets};
use crate::support::{browser, spawn_app, spawn_app_with, Merchant, Options, TestApp};

/// Signs up, registers a confidential client, gets it a token and turns SSO on: the merchant
/// id, the client's id and secret, the token's `jti` and signing key id (the key made at
/// startup), and the SSO secret.
async fn a_merchants_first_minutes(app: &TestApp) -> Vec<String> {
    let m = Merchant {
        business_name: "Acme Seeded".into(),
        email: "owner@seeded.test".into(),
        password: "correct horse battery staple".into(),
    };
    assert_eq!(app.sign_up(&m).await.status().as_u16(), 200);
    let merchant = app.merchant_id().await;
    let res = app
        .call_fn(
            "create_client",
            &[
                ("name", "Backend"),
                ("client_type", "confidential"),
                ("redirect_uris", ""),
                ("scopes", "customers:read"),
                ("audiences", ""),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let issued: Value = res.json().await.expect("json");
    let (id, secret) = (
        issued["client"]["id"].as_str().expect("id"),
        issued["secret"].as_str().expect("secret"),
    );
    let res = browser()
        .post(app.url("/o/token/"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status().as_u16(), 200);
    let jwt = res.json::<Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("access token")
        .to_string();
    let part = |i: usize| -> Value {
        let b64 = jwt.split('.').nth(i).expect("jwt part");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(b64).expect("base64")).expect("json")
    };
    enable(app).await;
    vec![
        merchant,
        issued["client"]["id"].as_str().expect("id").to_string(),
        issued["secret"].as_str().expect("secret").to_string(),
        part(1)["jti"].as_str().expect("jti").to_string(),
        part(0)["kid"].as_str().expect("kid").to_string(),
        secrets(app).await.0,
    ]
}

#[tokio::test]
async fn a_seeded_server_repeats_a_flow_and_the_default_one_never_does() {
    let seeded = || {
        spawn_app_with(Options {
            seed: Some(20261202),
            ..Options::default()
        })
    };
    let first = a_merchants_first_minutes(&seeded().await).await;
    let again = a_merchants_first_minutes(&seeded().await).await;
    assert_eq!(first, again);
    assert!(first[0].starts_with("mer_") && first[1].starts_with("cli_"));
    assert!(first[2].starts_with("sgs_") && first[5].starts_with("sso_"));
    assert!(first[4].starts_with("key_"));

    let other = a_merchants_first_minutes(&spawn_app().await).await;
    for (a, b) in first.iter().zip(&other) {
        assert_ne!(a, b);
    }
}
