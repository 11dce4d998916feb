//! Randomness is injected as time is: a server built with a seed repeats a whole flow exactly,
//! which holds only if every id, secret and one-time token the domain makes comes from the
//! injected source (a stray `OsRng` would make the two runs differ).

use serde_json::Value;

use crate::support::sso::{enable, secrets};
use crate::support::{spawn_app, spawn_app_with, Merchant, Options, TestApp};

/// Signs up, registers a confidential client and turns SSO on: the merchant id, the client's
/// id and secret, and the SSO secret it was given.
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
    enable(app).await;
    vec![
        merchant,
        issued["client"]["id"].as_str().expect("id").to_string(),
        issued["secret"].as_str().expect("secret").to_string(),
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
    assert!(first[2].starts_with("sgs_") && first[3].starts_with("sso_"));

    let other = a_merchants_first_minutes(&spawn_app().await).await;
    for (a, b) in first.iter().zip(&other) {
        assert_ne!(a, b);
    }
}
