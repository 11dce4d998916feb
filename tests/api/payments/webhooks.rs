//! Stripe's webhook endpoint: signatures, rolled secrets, duplicates and order, events for nobody.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::webhooks::{deliver, event, json_of, sign, stripe_subscription};
use crate::support::{
    connected, demo_customer, push, spawn_app, spawn_app_with, Options, WEBHOOK_SECRET,
};

#[tokio::test]
async fn webhook_signatures_are_checked_and_bad_deliveries_get_400() {
    let app = spawn_app().await;
    let now = app.clock.now();
    let body = event(
        "evt_sigtest00000000000001",
        "plan.created",
        "acct_x",
        now,
        json!({}),
    );
    let good = format!("t={now},v1={}", sign(WEBHOOK_SECRET, now, &body));
    let res = deliver(&app, &body, &good).await;
    assert_eq!(res.status().as_u16(), 200, "a valid signature");

    let tampered = body.replace("plan.created", "plan.deleted");
    let (status, err) = json_of(deliver(&app, &tampered, &good).await).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_signature"))
    );

    let old = now - 301;
    let body2 = event(
        "evt_sigtest00000000000002",
        "plan.created",
        "acct_x",
        old,
        json!({}),
    );
    let stale = format!("t={old},v1={}", sign(WEBHOOK_SECRET, old, &body2));
    let (status, err) = json_of(deliver(&app, &body2, &stale).await).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("stale_signature"))
    );

    let body3 = event(
        "evt_sigtest00000000000003",
        "plan.created",
        "acct_x",
        now,
        json!({}),
    );
    let two = format!(
        "t={now},v1={},v1={}",
        sign("whsec_someone_else", now, &body3),
        sign(WEBHOOK_SECRET, now, &body3)
    );
    assert_eq!(
        deliver(&app, &body3, &two).await.status().as_u16(),
        200,
        "any v1 may match"
    );

    for header in ["", "t=abc", &format!("t={now}"), "v1=00"] {
        let (status, _) = json_of(deliver(&app, &body3, header).await).await;
        assert_eq!(status, 400, "{header:?}");
    }
    let garbage = "not json at all";
    let signed = format!("t={now},v1={}", sign(WEBHOOK_SECRET, now, garbage));
    let (status, err) = json_of(deliver(&app, garbage, &signed).await).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("malformed_event"))
    );
}

#[tokio::test]
async fn a_rolled_webhook_secret_verifies_with_old_and_new_listed() {
    let app = spawn_app_with(Options {
        webhook_secrets: vec!["whsec_old_one".into(), "whsec_new_one".into()],
        simulator_signs_with: vec!["whsec_new_one".into()],
        ..Options::default()
    })
    .await;
    let now = app.clock.now();
    for (i, secret) in ["whsec_old_one", "whsec_new_one"].iter().enumerate() {
        let body = event(
            &format!("evt_roll{i:020}"),
            "plan.created",
            "acct_x",
            now,
            json!({}),
        );
        let header = format!("t={now},v1={}", sign(secret, now, &body));
        assert_eq!(
            deliver(&app, &body, &header).await.status().as_u16(),
            200,
            "{secret}"
        );
    }
    let body = event(
        "evt_roll99999999999999999999",
        "plan.created",
        "acct_x",
        now,
        json!({}),
    );
    let header = format!("t={now},v1={}", sign(WEBHOOK_SECRET, now, &body));
    assert_eq!(
        deliver(&app, &body, &header).await.status().as_u16(),
        400,
        "an unlisted secret"
    );

    // the simulator signs with the new secret only, and its events are applied
    let s = connected(&app).await;
    app.stripe.simulator.deauthorize(&s.account);
    app.stripe.simulator.wait_for_deliveries().await;
    assert_eq!(app.connection().await["state"], "revoked");
}

#[tokio::test]
async fn duplicate_and_out_of_order_events_do_not_rewind_the_mirror() {
    let app = spawn_app_with(Options {
        simulator_webhooks: false,
        ..Options::default()
    })
    .await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    push(&app, &s.token, "ada", &ada).await;
    let path = "/api/customers/ada/subscriptions";
    let list: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    let sub = list["data"][0]["id"].as_str().expect("id").to_string();

    let now = app.clock.now() + 10;
    let mut object = stripe_subscription(&app, &s.account, &sub).await;
    object["cancel_at_period_end"] = json!(true);
    let newer = event(
        "evt_order0000000000000002",
        "customer.subscription.updated",
        &s.account,
        now,
        object.clone(),
    );
    let header = |b: &str| format!("t={now},v1={}", sign(WEBHOOK_SECRET, now, b));
    let res: Value = deliver(&app, &newer, &header(&newer))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(res["received"], true);
    let list: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["data"][0]["cancel_at_period_end"], true);

    // the same event again: acknowledged, flagged, not applied twice
    let res: Value = deliver(&app, &newer, &header(&newer))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(res["duplicate"], true);

    // an older state arriving late is stored but does not overwrite the newer one
    object["cancel_at_period_end"] = json!(false);
    let older = event(
        "evt_order0000000000000001",
        "customer.subscription.updated",
        &s.account,
        now - 60,
        object,
    );
    assert_eq!(
        deliver(&app, &older, &header(&older))
            .await
            .status()
            .as_u16(),
        200
    );
    let list: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["data"][0]["cancel_at_period_end"], true);

    use sqlx::Row;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM webhook_events")
        .fetch_one(&app.db.pool)
        .await
        .expect("count")
        .get("n");
    assert_eq!(n, 2, "each event stored once");
}

#[tokio::test]
async fn events_for_customers_nobody_pushed_and_unknown_types_are_acknowledged_and_ignored() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let grace = demo_customer(&app, &s.account, "grace@example.com");
    let price = app
        .stripe
        .simulator
        .create_price(&s.account, "Extra", 100, "usd", "month", 1);
    app.stripe
        .simulator
        .create_subscription(&s.account, &grace, &price, 1, None);
    app.stripe.simulator.wait_for_deliveries().await;
    assert!(
        app.stripe.simulator.events().iter().all(|e| e.delivered),
        "every event acknowledged"
    );
    use sqlx::Row;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM subscriptions")
        .fetch_one(&app.db.pool)
        .await
        .expect("count")
        .get("n");
    assert_eq!(
        n, 0,
        "nothing mirrored for a customer that was never pushed"
    );
}
