//! The two actions that stop a merchant's business at once ask for a name typed first, and the
//! server checks it (a plain HTML form, a script or a stray click cannot skip it): revoking
//! Stripe (the account id) and turning single sign-on off (the store's name).

use crate::support::sso::{link_for, login_as, ready, sso_tab};
use crate::support::{connected, error_of, spawn_app};

#[tokio::test]
async fn revoking_stripe_needs_the_account_id_typed() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let refusals: [&[(&str, &str)]; 4] = [
        &[],
        &[("confirm", "")],
        &[("confirm", "acct_somebody_else")],
        &[("confirm", "Revoke")],
    ];
    for fields in refusals {
        let (status, body) = error_of(app.call_fn("revoke_connection", fields).await).await;
        assert_eq!(status, 422, "{fields:?}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains(&s.account)),
            "the message names what to type: {body}"
        );
    }
    assert_eq!(app.connection().await["state"], "connected");
    assert!(
        !app.stripe
            .simulator
            .requests()
            .iter()
            .any(|r| r.path == "/oauth/deauthorize"),
        "nothing reached Stripe"
    );

    // typed (a paste's surrounding spaces forgiven): revoked, at Stripe too
    let typed = format!(" {} ", s.account);
    let res = app
        .call_fn("revoke_connection", &[("confirm", &typed)])
        .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(app.connection().await["state"], "revoked");
    assert!(app
        .stripe
        .simulator
        .requests()
        .iter()
        .any(|r| r.path == "/oauth/deauthorize"));
}

#[tokio::test]
async fn turning_sso_off_needs_the_store_name_typed() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let refusals: [&[(&str, &str)]; 3] =
        [&[], &[("confirm", "another-store")], &[("confirm", "on")]];
    for fields in refusals {
        let (status, body) = error_of(app.call_fn("disable_sso", fields).await).await;
        assert_eq!(status, 422, "{fields:?}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains(&r.store)),
            "the message names what to type: {body}"
        );
    }
    // still on, secret and all: the merchant's server still gets links
    assert_eq!(sso_tab(&app).await["enabled"], true);
    link_for(&app, &r, "42").await;

    let res = app.call_fn("disable_sso", &[("confirm", &r.store)]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(sso_tab(&app).await["enabled"], false);
    let (status, body) = login_as(&app, &r, "42").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("sso_disabled"))
    );
}
