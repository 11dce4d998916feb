//! Subscriptions from the mirror and from Stripe, one by id (Riverty's path), and portal sessions.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::webhooks::json_of;
use crate::support::{browser, connected, demo_customer, push, spawn_app, spawn_app_with, Options};

#[tokio::test]
async fn subscriptions_come_from_the_mirror_with_prices_products_and_renewal_dates() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let alan = demo_customer(&app, &s.account, "alan@example.com");
    push(&app, &s.token, "alan", &alan).await;
    let stripe_calls = app.stripe.simulator.requests().len();

    let (status, list) = json_of(
        app.api(
            Method::GET,
            "/api/customers/alan/subscriptions",
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(
        app.stripe.simulator.requests().len(),
        stripe_calls,
        "served from the mirror"
    );
    assert_eq!(list["subscriber_id"], "alan");
    let data = list["data"].as_array().expect("data");
    assert_eq!(data.len(), 2, "canceled ones included: {list}");
    let created: Vec<i64> = data
        .iter()
        .map(|s| s["created"].as_i64().expect("created"))
        .collect();
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {created:?}"
    );

    // a customer without any subscription is an empty list, not a missing customer
    let katherine = demo_customer(&app, &s.account, "katherine@example.com");
    push(&app, &s.token, "katherine", &katherine).await;
    let (status, none) = json_of(
        app.api(
            Method::GET,
            "/api/customers/katherine/subscriptions",
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, none["subscriber_id"].clone(), none["data"].clone()),
        (200, json!("katherine"), json!([]))
    );
    let canceled = data
        .iter()
        .find(|s| s["status"] == "canceled")
        .expect("the canceled Starter plan");
    assert!(canceled["canceled_at"].as_i64().is_some());
    let pro = data
        .iter()
        .find(|s| s["status"] == "active")
        .expect("active Pro");
    assert_eq!(pro["cancel_at_period_end"], true);
    let item = &pro["items"][0];
    assert_eq!(item["product_name"], "Pro");
    assert_eq!(item["unit_amount"], 2000);
    assert_eq!(item["currency"], "usd");
    assert_eq!(item["interval"], "month");
    assert_eq!(item["interval_count"], 1);
    assert_eq!(item["quantity"], 1);
    assert!(item["price_id"]
        .as_str()
        .expect("price")
        .starts_with("price_"));
    let renewal = pro["current_period_end"].as_i64().expect("renewal date");
    assert_eq!(
        Some(renewal),
        item["current_period_end"].as_i64(),
        "renewal comes from the items"
    );
    assert!(renewal > app.clock.now());
    assert_eq!(
        pro["url"],
        format!("/api/subscriptions/{}", pro["id"].as_str().expect("id"))
    );

    let (_, only) = json_of(
        app.api(
            Method::GET,
            "/api/customers/alan/subscriptions?status=canceled",
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(only["data"].as_array().expect("data").len(), 1);
    let (status, _) = json_of(
        app.api(
            Method::GET,
            "/api/customers/alan/subscriptions?status=bogus",
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);

    let grace = demo_customer(&app, &s.account, "grace@example.com");
    push(&app, &s.token, "grace", &grace).await;
    let (_, list) = json_of(
        app.api(
            Method::GET,
            "/api/customers/grace/subscriptions",
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(list["data"][0]["status"], "trialing");
    assert!(list["data"][0]["trial_end"].as_i64().expect("trial end") > app.clock.now());
    assert_eq!(list["data"][0]["items"][0]["interval"], "year");
}

#[tokio::test]
async fn webhooks_keep_the_mirror_fresh_without_asking_stripe() {
    let app = spawn_app().await;
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
    assert_eq!(list["data"][0]["cancel_at_period_end"], false);

    app.stripe
        .simulator
        .set_cancel_at_period_end(&s.account, &sub, true);
    app.stripe.simulator.wait_for_deliveries().await;
    let before = app.stripe.simulator.requests().len();
    let list: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["data"][0]["cancel_at_period_end"], true);
    assert_eq!(
        app.stripe.simulator.requests().len(),
        before,
        "no Stripe call on read"
    );

    let price = app
        .stripe
        .simulator
        .create_price(&s.account, "Add-on", 300, "usd", "week", 2);
    let added = app
        .stripe
        .simulator
        .create_subscription(&s.account, &ada, &price, 3, None);
    app.stripe.simulator.cancel_subscription(&s.account, &sub);
    app.stripe.simulator.wait_for_deliveries().await;
    let list: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    let data = list["data"].as_array().expect("data");
    let new = data
        .iter()
        .find(|s| s["id"] == added.as_str())
        .expect("created by webhook");
    assert_eq!(new["items"][0]["quantity"], 3);
    assert_eq!(new["items"][0]["interval_count"], 2);
    let old = data
        .iter()
        .find(|s| s["id"] == sub.as_str())
        .expect("still listed");
    assert_eq!(old["status"], "canceled");
    assert!(app.connection().await["last_webhook_at"].as_i64().is_some());
}

#[tokio::test]
async fn refresh_true_pulls_from_stripe_when_webhooks_were_missed() {
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
    app.stripe
        .simulator
        .set_cancel_at_period_end(&s.account, &sub, true);

    let stale: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        stale["data"][0]["cancel_at_period_end"], false,
        "no webhook, mirror unchanged"
    );
    let fresh: Value = app
        .api(Method::GET, &format!("{path}?refresh=true"), &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(fresh["data"][0]["cancel_at_period_end"], true);
    let after: Value = app
        .api(Method::GET, path, &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        after["data"][0]["cancel_at_period_end"], true,
        "the mirror was updated"
    );

    let one: Value = app
        .api(
            Method::GET,
            &format!("/api/subscriptions/{sub}"),
            &s.token,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(one["subscriber_id"], "ada");
    app.stripe
        .simulator
        .set_cancel_at_period_end(&s.account, &sub, false);
    let one: Value = app
        .api(
            Method::GET,
            &format!("/api/subscriptions/{sub}?refresh=true"),
            &s.token,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(one["cancel_at_period_end"], false);
}

#[tokio::test]
async fn one_subscription_by_id_and_by_the_riverty_path_for_the_tokens_own_client() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    push(&app, &s.token, "ada", &ada).await;
    let list: Value = app
        .api(
            Method::GET,
            "/api/customers/ada/subscriptions",
            &s.token,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let sub = list["data"][0]["id"].as_str().expect("id").to_string();
    let (status, one) = json_of(
        app.api(
            Method::GET,
            &format!("/api/subscriptions/{sub}"),
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one, list["data"][0]);

    let introspect: Value = app
        .api(Method::GET, "/api/me", &s.token, None)
        .await
        .json()
        .await
        .expect("json");
    let client_id = introspect["client"]["id"]
        .as_str()
        .expect("client")
        .to_string();
    let (status, riverty) = json_of(
        app.api(
            Method::GET,
            &format!("/subscription/v1/clients/{client_id}/subscriptions/{sub}"),
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!((status, &riverty), (200, &one));
    let (status, body) = json_of(
        app.api(
            Method::GET,
            &format!("/subscription/v1/clients/cli_someoneelse/subscriptions/{sub}"),
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    let (status, _) = json_of(
        app.api(
            Method::GET,
            "/api/subscriptions/sub_unknown",
            &s.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_portal_session_sends_the_customer_to_stripe_and_explains_a_missing_configuration() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    push(&app, &s.token, "ada", &ada).await;
    let path = "/api/customers/ada/portal-session";
    let res = app
        .api(
            Method::POST,
            path,
            &s.token,
            Some(json!({ "return_url": "https://shop.example/account" })),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let body: Value = res.json().await.expect("json");
    let url = body["url"].as_str().expect("url");
    assert!(url.starts_with(&app.stripe.base_url), "{url}");
    let expires = body["expires_at"].as_i64().expect("expires_at");
    assert!(expires > app.clock.now() && expires <= app.clock.now() + 301);
    let page = browser().get(url).send().await.expect("portal");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.expect("html").contains("ada@example.com"));

    let (status, body) = json_of(
        app.api(
            Method::POST,
            path,
            &s.token,
            Some(json!({ "return_url": "http://shop.example/" })),
        )
        .await,
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (422, Some("validation")));
    let (status, _) = json_of(
        app.api(
            Method::POST,
            "/api/customers/nobody/portal-session",
            &s.token,
            Some(json!({ "return_url": "https://shop.example/" })),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);

    app.stripe
        .simulator
        .set_portal_configured(&s.account, false);
    let (status, body) = json_of(
        app.api(
            Method::POST,
            path,
            &s.token,
            Some(json!({ "return_url": "https://shop.example/" })),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409);
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("customer portal"));
}
