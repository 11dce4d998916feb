//! The dashboard's overview: the landing page after sign-up and login; its "Get started"
//! checklist follows the merchant's real progress; its figures add up the subscription mirror
//! (monthly recurring revenue per currency, trials not counted); its chart counts the SSO
//! logins and the backend's API calls of the last 30 days; all of it the merchant's own.

use serde_json::Value;

use crate::support::sso::{enable, follow, login_as, ready};
use crate::support::{connected, demo_customer, push, spawn_app, Merchant, TestApp};

async fn overview(app: &TestApp) -> Value {
    let res = app
        .client
        .get(app.url("/fn/overview"))
        .send()
        .await
        .expect("overview");
    assert_eq!(res.status().as_u16(), 200);
    res.json().await.expect("json")
}

fn done(o: &Value) -> Vec<String> {
    o["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["done"] == true)
        .map(|s| s["id"].as_str().expect("string").to_string())
        .collect()
}

#[tokio::test]
async fn a_new_merchant_lands_on_the_overview_with_nothing_done() {
    let app = spawn_app().await;
    let res = app.sign_up(&Merchant::generate()).await;
    assert_eq!(
        res.json::<String>().await.expect("where to go"),
        "/dashboard"
    );
    let o = overview(&app).await;
    let ids: Vec<&str> = o["steps"]
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["id"].as_str().expect("string"))
        .collect();
    assert_eq!(
        ids,
        ["connect", "server-client", "customer", "sso", "preview"]
    );
    assert!(done(&o).is_empty(), "{o}");
    assert_eq!(o["connection"], "not_connected");
    assert_eq!(
        (o["customers"].as_i64(), o["active"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(o["mrr"], serde_json::json!([]));
    assert_eq!(
        o["sso_logins"]["counts"].as_array().expect("array").len(),
        30
    );
    assert_eq!(
        o["demo_push"], false,
        "nothing to push into before Stripe is connected"
    );

    // rendered on the server: the checklist is there before any script runs
    let html = app.page_html("/dashboard").await;
    assert!(html.contains("id=\"get-started\""), "{html}");
    assert!(html.contains("Get started: 0 of 5 done"));
    assert!(html.contains("id=\"sso-chart\""));
    // and the old landing address still works
    assert_eq!(
        app.get_page("/dashboard/oauth").await.status().as_u16(),
        200
    );
}

#[tokio::test]
async fn the_checklist_follows_the_merchants_progress_to_the_end() {
    let app = spawn_app().await;
    let m = app.signed_up().await;
    app.connect_stripe(&m).await;
    let o = overview(&app).await;
    assert_eq!(done(&o), ["connect"]);
    assert_eq!(o["demo_push"], true, "in simulation, with Stripe connected");

    // one click: a demo customer, and the browser goes to their page
    let res = app.call_fn("push_demo_customer", &[]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.json::<String>().await.expect("where to go"),
        "/dashboard/customers/demo-ada"
    );
    let o = overview(&app).await;
    assert_eq!(done(&o), ["connect", "customer"]);
    assert_eq!(o["customers"], 1);
    assert_eq!(o["active"], 1);
    assert_eq!(
        o["mrr"],
        serde_json::json!([{ "currency": "usd", "amount": 2000 }])
    );
    let preview = o["steps"][4]["href"].as_str().expect("string").to_string();
    assert_eq!(
        preview, "/dashboard/customers/demo-ada",
        "where to preview from"
    );

    // the next click links the next customer by email: Alan
    let res = app.call_fn("push_demo_customer", &[]).await;
    assert_eq!(
        res.json::<String>().await.expect("where to go"),
        "/dashboard/customers/demo-alan"
    );
    let o = overview(&app).await;
    // his canceled Starter is no revenue; his Pro is, until it ends
    assert_eq!(
        (o["customers"].as_i64(), o["active"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(o["cancelling"], 1);
    assert_eq!(o["mrr"][0]["amount"], 4000);

    app.bearer("customers:read").await;
    assert_eq!(
        done(&overview(&app).await),
        ["connect", "server-client", "customer"]
    );
    enable(&app).await;
    assert_eq!(
        done(&overview(&app).await),
        ["connect", "server-client", "customer", "sso"]
    );

    // the merchant opens the portal as Ada, and is set up
    let res = app
        .call_fn("preview_portal", &[("subscriber_id", "demo-ada")])
        .await;
    let (status, _) = follow(&app, &res.json::<String>().await.expect("where to go")).await;
    assert_eq!(status, 303);
    let o = overview(&app).await;
    assert_eq!(done(&o).len(), 5, "{o}");
    let html = app.page_html("/dashboard").await;
    assert!(
        html.contains("You&#x27;re set up") || html.contains("You're set up"),
        "{html}"
    );
    assert_eq!(
        o["sso_logins"]["counts"][29], 0,
        "a preview is not a subscriber's login"
    );
}

#[tokio::test]
async fn the_figures_add_up_the_mirror_per_currency_and_the_chart_counts_logins_by_day() {
    let app = spawn_app().await;
    let r = ready(&app).await; // subscriber "42" is Ada: Pro, 20.00 USD a month
    let s = &r.connected;
    // a yearly plan in euros, twice: 2 × 120.00 EUR a year is 20.00 EUR a month
    let sim = &app.stripe.simulator;
    let price = sim.create_price(&s.account, "Yearly", 12000, "eur", "year", 1);
    let customer = sim.create_customer(&s.account, "eve@shop.test", "Eve");
    sim.create_subscription(&s.account, &customer, &price, 2, None);
    assert_eq!(
        push(&app, &s.token, "eve", &customer)
            .await
            .status()
            .as_u16(),
        201
    );
    // Grace is trialing a 200.00 USD yearly plan: counted, but not revenue yet
    let grace = demo_customer(&app, &s.account, "grace@example.com");
    assert_eq!(
        push(&app, &s.token, "grace", &grace)
            .await
            .status()
            .as_u16(),
        201
    );
    let o = overview(&app).await;
    assert_eq!(o["trialing"], 1);
    assert_eq!(
        o["mrr"],
        serde_json::json!([
            { "currency": "eur", "amount": 2000 },
            { "currency": "usd", "amount": 2000 },
        ])
    );
    assert_eq!(
        (o["active"].as_i64(), o["cancelling"].as_i64()),
        (Some(2), Some(0))
    );

    // Eve cancels at the end of the period: still revenue, now also "cancelling"
    let eve = crate::support::webhooks::json_of(
        app.api(
            reqwest::Method::GET,
            "/api/customers/eve/subscriptions",
            &s.token,
            None,
        )
        .await,
    )
    .await
    .1;
    let subscription = eve["data"][0]["id"].as_str().expect("string").to_string();
    sim.set_cancel_at_period_end(&s.account, &subscription, true);
    app.call_fn("refresh_customer", &[("subscriber_id", "eve")])
        .await;
    let o = overview(&app).await;
    assert_eq!(o["cancelling"], 1);
    assert_eq!(o["mrr"][0]["amount"], 2000);

    // two logins today, one three days ago; one 40 days ago is off the chart
    for _ in 0..2 {
        assert_eq!(login_as(&app, &r, "42").await.0, 200);
    }
    let today = app.clock.now();
    app.clock.advance(-3 * 86_400);
    assert_eq!(login_as(&app, &r, "42").await.0, 200);
    app.clock.advance(-37 * 86_400);
    assert_eq!(login_as(&app, &r, "42").await.0, 200);
    app.clock.advance(40 * 86_400);
    let o = overview(&app).await;
    let counts: Vec<i64> = o["sso_logins"]["counts"]
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c.as_i64().expect("number"))
        .collect();
    assert_eq!(counts.len(), 30);
    assert_eq!(counts[29], 2, "today is the last bar");
    assert_eq!(counts[26], 1);
    assert_eq!(counts.iter().sum::<i64>(), 3);
    assert_eq!(o["sso_logins"]["start"], (today / 86_400 - 29) * 86_400);

    // another merchant's overview counts none of it
    let other = app.new_browser();
    connected(&other).await;
    let theirs = overview(&other).await;
    assert_eq!(theirs["customers"], 0);
    assert_eq!(theirs["mrr"], serde_json::json!([]));
    assert_eq!(
        theirs["sso_logins"]["counts"]
            .as_array()
            .expect("array")
            .iter()
            .map(|c| c.as_i64().expect("number"))
            .sum::<i64>(),
        0
    );
}

#[tokio::test]
async fn the_one_click_customer_needs_a_connected_test_account_with_customers_left() {
    let app = spawn_app().await;
    let m = app.signed_up().await;
    let (status, body) =
        crate::support::error_of(app.call_fn("push_demo_customer", &[]).await).await;
    assert_eq!(status, 409, "not connected: {body}");
    app.connect_stripe(&m).await;
    let mut linked = Vec::new();
    for _ in 0..4 {
        let res = app.call_fn("push_demo_customer", &[]).await;
        assert_eq!(res.status().as_u16(), 200);
        linked.push(res.json::<String>().await.expect("where to go"));
    }
    assert_eq!(
        linked,
        [
            "/dashboard/customers/demo-ada",
            "/dashboard/customers/demo-alan",
            "/dashboard/customers/demo-grace",
            "/dashboard/customers/demo-katherine"
        ]
    );
    let (status, body) =
        crate::support::error_of(app.call_fn("push_demo_customer", &[]).await).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .expect("string")
            .contains("linked already"),
        "{body}"
    );
    assert_eq!(overview(&app).await["customers"], 4);
}

fn total(o: &Value, chart: &str) -> i64 {
    o[chart]["counts"]
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c.as_i64().expect("number"))
        .sum()
}

#[tokio::test]
async fn the_api_chart_counts_each_bearer_call_once_under_concurrency_and_across_the_flush() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    assert_eq!(total(&overview(&app).await, "api_calls"), 0);

    // 50 calls of the merchant's backend at once: 50 on today's bar
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (url, token) = (app.url("/api/customers"), s.token.clone());
        calls.spawn(async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("call")
                .status()
                .as_u16()
        });
    }
    assert!(calls.join_all().await.iter().all(|s| *s == 200));
    // neither a refused token nor the merchant's own session in the browser is a backend call
    let refused = app
        .api(reqwest::Method::GET, "/api/customers", "not-a-token", None)
        .await;
    assert_eq!(refused.status().as_u16(), 401);
    let own = app
        .client
        .get(app.url("/api/customers"))
        .send()
        .await
        .expect("session call");
    assert_eq!(own.status().as_u16(), 200);
    let o = overview(&app).await;
    assert_eq!(o["api_calls"]["counts"][29], 50, "{}", o["api_calls"]);
    assert_eq!(total(&o, "api_calls"), 50);

    // written to the table once (a second flush has nothing left), and counted once after it
    assert!(app.state.db.flush_api_calls().await.expect("flush") >= 1);
    assert_eq!(app.state.db.flush_api_calls().await.expect("flush"), 0);
    assert_eq!(total(&overview(&app).await, "api_calls"), 50);
    // on disk: a new handle on the same database, with nothing in memory, reads the 50
    let fresh = subgate::db::Db::connect(&app.database_url)
        .await
        .expect("connect");
    let start = (app.clock.now() / 86_400 - 29) * 86_400;
    let merchant_id = app
        .db
        .merchant_by_email(&s.merchant.email.to_lowercase())
        .await
        .expect("lookup")
        .expect("merchant")
        .id;
    assert_eq!(
        fresh
            .api_calls_daily(&merchant_id, start)
            .await
            .expect("read"),
        vec![(29, 50)]
    );

    // another merchant's chart has none of them
    let other = app.new_browser();
    connected(&other).await;
    assert_eq!(total(&overview(&other).await, "api_calls"), 0);
    assert_eq!(o["api_calls"]["start"], o["sso_logins"]["start"]);
    let html = app.page_html("/dashboard").await;
    assert!(html.contains("id=\"api-chart\""), "{html}");
    assert!(html.contains("50 calls from"), "{html}");
}
