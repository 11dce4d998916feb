//! subgate against a Stripe simulator held to Stripe's documented rules (issue 14): each test
//! is a way the product failed against real Stripe while the old, kinder simulator said yes.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use subgate::stripe_simulator::rules;

use crate::support::stripe::{ada_pushed, eventually, get_json};
use crate::support::webhooks::{deliver, sign, stripe_subscription};
use crate::support::{
    browser, connected, demo_customer, error_of, push, query_param, spawn_app, spawn_app_with,
    Merchant, Options, ALL_SCOPES, STRIPE_KEY, WEBHOOK_SECRET,
};

// ---------------------------------------------------------------------------------------------
// the simulator's own strictness

#[tokio::test]
async fn the_simulator_refuses_what_stripe_refuses_with_stripes_error_shape() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let call = |query: &str| {
        browser()
            .get(format!("{}/v1/subscriptions?{query}", app.stripe.base_url))
            .bearer_auth(STRIPE_KEY)
            .header("stripe-account", &s.account)
            .send()
    };
    for (query, rule, param) in [
        (
            "expand[]=data.items.data.price.product",
            rules::EXPAND_DEPTH,
            "expand",
        ),
        ("limit=0", rules::LIMIT_RANGE, "limit"),
        ("limit=101", rules::LIMIT_RANGE, "limit"),
        ("colour=blue", rules::PARAMETER_UNKNOWN, "colour"),
    ] {
        let res = call(query).await.expect("simulator");
        assert_eq!(res.status().as_u16(), 400, "{query}");
        assert!(
            res.headers()["request-id"]
                .to_str()
                .expect("ascii")
                .starts_with("req_"),
            "Request-Id header ({query})"
        );
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"]["type"], "invalid_request_error", "{query}");
        assert_eq!(body["error"]["param"], param, "{query}");
        assert!(body["error"]["message"].is_string(), "{query}");
        let seen = app.stripe.simulator.take_violations();
        assert_eq!(
            seen.iter().map(|v| v.rule).collect::<Vec<_>>(),
            vec![rule.id],
            "recorded as a violation ({query})"
        );
    }
    let res = call("expand[]=data.items.data.price").await.expect("sim");
    assert_eq!(res.status().as_u16(), 200, "four levels are fine");

    // recorded but served, when the control plane says so (to see what an older build does
    // after the request Stripe would refuse), over HTTP as the probe asks for it
    let rules_switch = |enforced: bool| {
        browser()
            .post(format!("{}/_sim/rules", app.stripe.base_url))
            .json(&json!({ "enforced": enforced }))
            .send()
    };
    let res = rules_switch(false).await.expect("sim");
    assert_eq!(res.json::<Value>().await.expect("json")["enforced"], false);
    let res = call("expand[]=data.items.data.price.product")
        .await
        .expect("sim");
    assert_eq!(res.status().as_u16(), 200, "served");
    assert_eq!(
        app.stripe.simulator.take_violations()[0].rule,
        rules::EXPAND_DEPTH.id,
        "and still recorded"
    );
    rules_switch(true).await.expect("sim");
    assert!(app.stripe.simulator.rules_enforced());

    // connected-account data needs Stripe-Account
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    let res = browser()
        .get(format!("{}/v1/customers/{ada}", app.stripe.base_url))
        .bearer_auth(STRIPE_KEY)
        .send()
        .await
        .expect("sim");
    assert_eq!(res.status().as_u16(), 404);
    assert_eq!(
        app.stripe.simulator.take_violations()[0].rule,
        rules::STRIPE_ACCOUNT.id
    );

    // an idempotency key replays its first answer, and is refused with other parameters
    let create = |email: &str| {
        browser()
            .post(format!("{}/v1/customers", app.stripe.base_url))
            .bearer_auth(STRIPE_KEY)
            .header("stripe-account", &s.account)
            .header("idempotency-key", "key-1")
            .form(&[("email", email)])
            .send()
    };
    let first: Value = create("a@example.com")
        .await
        .expect("sim")
        .json()
        .await
        .expect("json");
    let again = create("a@example.com").await.expect("sim");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], first["id"], "the same customer, not a second");
    let other = create("b@example.com").await.expect("sim");
    assert_eq!(other.status().as_u16(), 400);
    let other: Value = other.json().await.expect("json");
    assert_eq!(other["error"]["type"], "idempotency_error");
    assert_eq!(
        app.stripe.simulator.take_violations()[0].rule,
        rules::IDEMPOTENCY_KEY.id
    );

    // a rate limit says whether to retry
    app.stripe
        .simulator
        .set_faults(subgate::stripe_simulator::Faults {
            rate_limit_next: 1,
            ..Default::default()
        });
    let limited = call("limit=1").await.expect("sim");
    assert_eq!(limited.status().as_u16(), 429);
    assert_eq!(limited.headers()["stripe-should-retry"], "true");
}

// ---------------------------------------------------------------------------------------------
// 1. expansions of at most four levels

#[tokio::test]
async fn pushing_and_refreshing_expand_at_most_four_levels_and_still_name_products() {
    let app = spawn_app().await;
    let (s, sub) = ada_pushed(&app).await;
    let list = get_json(
        &app,
        &s.token,
        "/api/customers/ada/subscriptions?refresh=true",
    )
    .await;
    assert_eq!(list["data"][0]["items"][0]["product_name"], "Pro", "{list}");
    let one = get_json(
        &app,
        &s.token,
        &format!("/api/subscriptions/{sub}?refresh=true"),
    )
    .await;
    assert_eq!(one["items"][0]["product_name"], "Pro", "{one}");
    for r in app.stripe.simulator.requests() {
        let query = format!("http://x/?{}", r.query.clone().unwrap_or_default());
        let url = url::Url::parse(&query).expect("query");
        for (_, expand) in url.query_pairs().filter(|(k, _)| k.starts_with("expand")) {
            assert!(
                expand.split('.').count() <= 4,
                "{} {} expands {expand}",
                r.method,
                r.path
            );
        }
    }
    assert_eq!(app.stripe.simulator.violations(), vec![]);
}

// ---------------------------------------------------------------------------------------------
// 2. events carry product ids

#[tokio::test]
async fn subscription_events_keep_the_product_names_of_the_mirror() {
    let app = spawn_app().await;
    let (s, sub) = ada_pushed(&app).await;
    let sim = &app.stripe.simulator;
    sim.set_cancel_at_period_end(&s.account, &sub, true);
    sim.wait_for_deliveries().await;
    let list = get_json(&app, &s.token, "/api/customers/ada/subscriptions").await;
    let changed = &list["data"][0];
    assert_eq!(
        changed["cancel_at_period_end"], true,
        "the event was applied"
    );
    assert_eq!(changed["items"][0]["product_name"], "Pro", "{changed}");

    // a subscription to a product the mirror never saw: its name is asked of Stripe
    let price = sim.create_price(&s.account, "Add-on", 300, "usd", "week", 2);
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    let added = sim.create_subscription(&s.account, &ada, &price, 1, None);
    sim.wait_for_deliveries().await;
    eventually("the new product's name in the mirror", async || {
        let list = get_json(&app, &s.token, "/api/customers/ada/subscriptions").await;
        list["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|s| s["id"] == added.as_str() && s["items"][0]["product_name"] == "Add-on")
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 3. flexible billing mode

#[tokio::test]
async fn a_portal_cancellation_in_flexible_billing_mode_reads_as_ending_not_renewing() {
    let app = spawn_app().await;
    let (s, sub) = ada_pushed(&app).await;
    let before = get_json(&app, &s.token, &format!("/api/subscriptions/{sub}")).await;
    assert_eq!(before["ends_at"], Value::Null, "renews: {before}");

    // what Stripe's customer portal does since 2025-09-30.clover
    app.stripe.simulator.portal_cancel(&s.account, &sub);
    app.stripe.simulator.wait_for_deliveries().await;
    let stripe = stripe_subscription(&app, &s.account, &sub).await;
    assert_eq!(stripe["billing_mode"]["type"], "flexible");
    assert_eq!(stripe["cancel_at_period_end"], false, "{stripe}");
    let cancel_at = stripe["cancel_at"].as_i64().expect("cancel_at");

    let after = get_json(&app, &s.token, &format!("/api/subscriptions/{sub}")).await;
    assert_eq!(after["cancel_at_period_end"], false);
    assert_eq!(after["cancel_at"], cancel_at);
    assert_eq!(after["ends_at"], cancel_at, "{after}");

    // classic billing's flag still reads as ending; a canceled one ended when canceled
    let alan = demo_customer(&app, &s.account, "alan@example.com");
    push(&app, &s.token, "alan", &alan).await;
    let alans = get_json(&app, &s.token, "/api/customers/alan/subscriptions").await;
    for s in alans["data"].as_array().expect("data") {
        match s["status"].as_str() {
            Some("canceled") => assert_eq!(s["ends_at"], s["canceled_at"], "{s}"),
            _ => assert_eq!(s["ends_at"], s["current_period_end"], "{s}"),
        }
    }

    let doc: Value = browser()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    let ends_at = &doc["components"]["schemas"]["SubscriptionView"]["properties"]["ends_at"];
    assert!(
        ends_at["description"]
            .as_str()
            .is_some_and(|d| d.contains("cancel_at")),
        "documented: {ends_at}"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Connect's landing page

#[tokio::test]
async fn connecting_sends_the_merchant_to_stripes_login_not_its_sign_up() {
    let app = spawn_app().await;
    app.signed_up().await;
    let url = app.start_connect().await;
    assert_eq!(
        query_param(&url, "stripe_landing").as_deref(),
        Some("login")
    );
}

// ---------------------------------------------------------------------------------------------
// 5. a missing portal configuration

#[tokio::test]
async fn a_missing_portal_configuration_is_known_by_asking_stripe_not_by_its_wording() {
    let app = spawn_app().await;
    let (s, _) = ada_pushed(&app).await;
    app.stripe
        .simulator
        .set_portal_configured(&s.account, false);
    let open = || {
        app.api(
            Method::POST,
            "/api/customers/ada/portal-session",
            &s.token,
            Some(json!({ "return_url": "https://shop.example/account" })),
        )
    };
    let (status, body) = error_of(open().await).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("customer portal configuration"),
        "{body}"
    );

    // a configuration made through the API (never the default, e.g. by `subgate doctor
    // --fix`) is used by name
    app.stripe.simulator.create_portal_configuration(&s.account);
    let (status, body) = error_of(open().await).await;
    assert_eq!(status, 201, "{body}");
    let page = browser()
        .get(body["url"].as_str().expect("url"))
        .send()
        .await
        .expect("portal");
    assert_eq!(page.status().as_u16(), 200);
}

// ---------------------------------------------------------------------------------------------
// 6. acknowledge first, apply after

#[tokio::test]
async fn an_event_in_another_api_version_is_acknowledged_at_once_and_applied_after() {
    // Stripe delivers nothing by itself here: the one event is the test's
    let app = spawn_app_with(Options {
        simulator_webhooks: false,
        ..Options::default()
    })
    .await;
    let (s, sub) = ada_pushed(&app).await;
    // the subscription as an endpoint on 2024-06-20 receives it: periods on the subscription
    let mut object = stripe_subscription(&app, &s.account, &sub).await;
    object["cancel_at_period_end"] = json!(true);
    let end = object["items"]["data"][0]["current_period_end"].clone();
    object["current_period_end"] = end;
    for item in object["items"]["data"].as_array_mut().expect("items") {
        let item = item.as_object_mut().expect("item");
        item.remove("current_period_start");
        item.remove("current_period_end");
        item["price"]["product"] = item["price"]["product"]["id"].clone();
    }
    let body = json!({
        "id": "evt_old_version_1", "object": "event", "account": s.account,
        "api_version": "2024-06-20", "created": app.clock.now(), "data": { "object": object },
        "livemode": false, "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null }, "type": "customer.subscription.updated"
    })
    .to_string();
    // Stripe then answers slowly: the delivery must not wait for it
    app.stripe
        .simulator
        .set_cancel_at_period_end(&s.account, &sub, true);
    app.stripe
        .simulator
        .set_faults(subgate::stripe_simulator::Faults {
            // under the per-attempt timeout (2 s in tests): slow, not failing
            latency_ms: 1800,
            ..Default::default()
        });
    let t = app.clock.now();
    let started = Instant::now();
    let res = deliver(
        &app,
        &body,
        &format!("t={t},v1={}", sign(WEBHOOK_SECRET, t, &body)),
    )
    .await;
    let took = started.elapsed();
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        took < Duration::from_millis(1000),
        "acknowledged in {took:?}, before asking Stripe"
    );
    eventually("the refetched subscription in the mirror", async || {
        let one = get_json(&app, &s.token, &format!("/api/subscriptions/{sub}")).await;
        one["cancel_at_period_end"] == true && one["items"][0]["product_name"] == "Pro"
    })
    .await;
}

#[tokio::test]
async fn events_reach_the_endpoint_unexpanded_in_its_api_version() {
    let app = spawn_app().await;
    let (s, sub) = ada_pushed(&app).await;
    let sim = &app.stripe.simulator;
    sim.edit_webhook_endpoints(|endpoints| {
        for e in endpoints {
            e.api_version = "2024-06-20".into();
        }
    });
    sim.set_cancel_at_period_end(&s.account, &sub, true);
    sim.wait_for_deliveries().await;
    use sqlx::Row;
    let payload: String = sqlx::query(
        "SELECT payload FROM webhook_events WHERE event_type = 'customer.subscription.updated'",
    )
    .fetch_one(&app.db.pool)
    .await
    .expect("the event was stored")
    .get("payload");
    let event: Value = serde_json::from_str(&payload).expect("json");
    assert_eq!(event["api_version"], "2024-06-20");
    let object = &event["data"]["object"];
    assert!(object["current_period_end"].is_i64(), "{object}");
    assert!(object["items"]["data"][0]["price"]["product"].is_string());
    eventually(
        "the event applied (by fetching the subscription)",
        async || {
            let one = get_json(&app, &s.token, &format!("/api/subscriptions/{sub}")).await;
            one["cancel_at_period_end"] == true
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// issue 15, item 9: reconnecting another Stripe account

#[tokio::test]
async fn reconnecting_another_account_forgets_the_old_customers_and_keeps_the_new_connection() {
    let app = spawn_app().await;
    let m = app.signed_up().await;
    let old = app.connect_stripe(&m).await;
    let token = app.bearer(ALL_SCOPES).await;
    let ada = demo_customer(&app, &old, "ada@example.com");
    assert_eq!(push(&app, &token, "ada", &ada).await.status().as_u16(), 201);

    // the merchant connects another Stripe account
    let other = Merchant::generate();
    let state = query_param(&app.start_connect().await, "state").expect("state");
    let code = app
        .stripe
        .simulator
        .approve_authorization(&other.business_name, &other.email);
    let res = app
        .connect_callback(&format!("code={code}&scope=read_write&state={state}"))
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let connection = app.connection().await;
    let new = connection["account_id"]
        .as_str()
        .expect("account")
        .to_string();
    assert_ne!(new, old);
    assert!(
        connection["notice"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("forgotten")),
        "{connection}"
    );

    // …and removes subgate from the old one
    app.stripe.simulator.deauthorize(&old);
    app.stripe.simulator.wait_for_deliveries().await;
    let (status, _) = error_of(
        app.api(Method::GET, "/api/customers/ada", &token, None)
            .await,
    )
    .await;
    assert_eq!(status, 404, "the old account's customer is gone");
    let (status, body) = error_of(
        app.api(
            Method::POST,
            "/api/customers/ada/portal-session",
            &token,
            Some(json!({ "return_url": "https://shop.example/" })),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let connection = app.connection().await;
    assert_eq!(connection["state"], "connected", "{connection}");
    assert_eq!(connection["account_id"], new.as_str());
    // the new account's customers work
    let grace = demo_customer(&app, &new, "grace@example.com");
    assert_eq!(
        push(&app, &token, "grace", &grace).await.status().as_u16(),
        201
    );
}
