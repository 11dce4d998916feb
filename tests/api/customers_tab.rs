//! The dashboard's Customers tab: the list searches (any part of a subscriber id, email or
//! Stripe customer id, in any case, `%` and `_` taken literally), filters by subscription status
//! and pages by cursor; a customer's page shows their subscriptions, pulls them fresh from Stripe
//! and forgets them only with the subscriber id typed; another merchant sees none of it.

use serde_json::Value;

use crate::support::{connected, demo_customer, error_of, push, spawn_app, TestApp};

/// `GET /fn/list_customers` as the tab calls it.
async fn list(app: &TestApp, query: &[(&str, &str)]) -> (u16, Value) {
    let res = app
        .client
        .get(app.url("/fn/list_customers"))
        .query(query)
        .send()
        .await
        .expect("list_customers");
    let status = res.status().as_u16();
    (status, res.json().await.expect("json"))
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|c| c["subscriber_id"].as_str().expect("id").to_string())
        .collect()
}

async fn detail(app: &TestApp, subscriber: &str) -> (u16, Value) {
    let res = app
        .client
        .get(app.url("/fn/get_customer"))
        .query(&[("subscriber_id", subscriber)])
        .send()
        .await
        .expect("get_customer");
    let status = res.status().as_u16();
    (status, res.json().await.expect("json"))
}

/// The four demo customers pushed as `user-ada`, `user-grace` (trialing), `user-alan`
/// (canceled), `user-katherine` (no subscription), and `extra` more named `bulk-00`…
async fn customers(app: &TestApp, extra: usize) -> crate::support::Connected {
    let s = connected(app).await;
    for name in ["ada", "grace", "alan", "katherine"] {
        let id = demo_customer(app, &s.account, &format!("{name}@example.com"));
        let res = push(app, &s.token, &format!("user-{name}"), &id).await;
        assert_eq!(res.status().as_u16(), 201);
    }
    for n in 0..extra {
        let id = app.stripe.simulator.create_customer(
            &s.account,
            &format!("bulk{n:02}@shop.test"),
            "Bulk",
        );
        let res = push(app, &s.token, &format!("bulk-{n:02}"), &id).await;
        assert_eq!(res.status().as_u16(), 201);
    }
    s
}

#[tokio::test]
async fn the_customer_list_pages_by_cursor_in_subscriber_order() {
    let app = spawn_app().await;
    customers(&app, 30).await;

    let (status, first) = list(&app, &[]).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["matching"], 34);
    let first_ids = ids(&first);
    assert_eq!(first_ids.len(), 25, "a page is 25");
    assert_eq!(first["next_cursor"].as_str(), Some(first_ids[24].as_str()));

    let (_, second) = list(&app, &[("after", &first_ids[24])]).await;
    assert_eq!(second["matching"], 34, "the count is of all pages");
    assert_eq!(second["next_cursor"], Value::Null, "the last page");
    let all: Vec<String> = first_ids.into_iter().chain(ids(&second)).collect();
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(all, sorted, "each customer once, in subscriber id order");
    assert_eq!(all.len(), 34);

    // the row of a customer: the status that matters and how many subscriptions
    let ada = first["data"]
        .as_array()
        .expect("array")
        .iter()
        .find(|c| c["subscriber_id"] == "user-ada")
        .cloned()
        .or_else(|| {
            second["data"]
                .as_array()
                .expect("array")
                .iter()
                .find(|c| c["subscriber_id"] == "user-ada")
                .cloned()
        })
        .expect("user-ada listed");
    assert_eq!(ada["status"], "active");
    assert_eq!(ada["subscriptions"], 1);
    assert_eq!(ada["email"], "ada@example.com");
}

#[tokio::test]
async fn the_customer_list_searches_ids_emails_and_stripe_ids_in_any_case() {
    let app = spawn_app().await;
    let s = customers(&app, 3).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");

    let searches: [(&str, &[&str]); 7] = [
        ("GRACE", &["user-grace"]),
        ("  user-alan ", &["user-alan"]),
        ("katherine@EXAMPLE", &["user-katherine"]),
        (&ada.to_uppercase(), &["user-ada"]),
        ("shop.test", &["bulk-00", "bulk-01", "bulk-02"]),
        // LIKE's wildcards are plain characters here
        ("%", &[]),
        ("user_", &[]),
    ];
    for (search, expected) in searches {
        let (status, page) = list(&app, &[("search", search)]).await;
        assert_eq!(status, 200, "{search}: {page}");
        assert_eq!(ids(&page), expected.to_vec(), "{search:?}");
        assert_eq!(page["matching"], expected.len(), "{search:?}");
    }
    let (status, body) = list(&app, &[("search", &"x".repeat(201))]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("validation")),
        "{body}"
    );
}

#[tokio::test]
async fn the_customer_list_filters_by_subscription_status() {
    let app = spawn_app().await;
    let s = customers(&app, 2).await;
    // Alan has a canceled Starter and an active Pro that ends at the period's end
    let filters: [(&str, &[&str]); 5] = [
        ("active", &["user-ada", "user-alan"]),
        ("trialing", &["user-grace"]),
        ("canceled", &["user-alan"]),
        ("none", &["bulk-00", "bulk-01", "user-katherine"]),
        ("cancelling", &["user-alan"]),
    ];
    for (status, expected) in filters {
        let (code, page) = list(&app, &[("status", status)]).await;
        assert_eq!(code, 200, "{status}: {page}");
        assert_eq!(ids(&page), expected.to_vec(), "{status}");
    }
    // search and status together
    let (_, page) = list(&app, &[("search", "bulk-01"), ("status", "none")]).await;
    assert_eq!(ids(&page), ["bulk-01"]);

    // Ada cancels at the period's end; the merchant refreshes her from Stripe
    let (_, ada) = detail(&app, "user-ada").await;
    let subscription = ada["subscriptions"][0]["id"]
        .as_str()
        .expect("string")
        .to_string();
    app.stripe
        .simulator
        .set_cancel_at_period_end(&s.account, &subscription, true);
    let res = app
        .call_fn("refresh_customer", &[("subscriber_id", "user-ada")])
        .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.json::<String>().await.expect("where to go"),
        "/dashboard/customers/user-ada"
    );
    let (_, page) = list(&app, &[("status", "cancelling")]).await;
    assert_eq!(ids(&page), ["user-ada", "user-alan"]);
    let (_, ada) = detail(&app, "user-ada").await;
    assert!(
        ada["subscriptions"][0]["ends_at"].as_i64().is_some(),
        "{ada}"
    );

    let (code, body) = list(&app, &[("status", "bogus")]).await;
    assert_eq!(code, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .expect("string")
            .contains("cancelling"),
        "says what is accepted: {body}"
    );
}

#[tokio::test]
async fn a_customer_page_shows_the_mirrored_subscriptions() {
    let app = spawn_app().await;
    customers(&app, 0).await;
    let (status, grace) = detail(&app, "user-grace").await;
    assert_eq!(status, 200, "{grace}");
    assert_eq!(grace["customer"]["email"], "grace@example.com");
    let sub = &grace["subscriptions"][0];
    assert_eq!(sub["status"], "trialing");
    assert_eq!(sub["items"][0]["product_name"], "Team");
    assert_eq!(sub["items"][0]["unit_amount"], 20000);
    assert!(sub["trial_end"].as_i64().is_some());

    let (status, body) = detail(&app, "nobody").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
    let (status, _) = detail(&app, "bad/id").await;
    assert_eq!(status, 422);

    // rendered on the server, before any script: the table, the plan, readable dates
    let html = app.page_html("/dashboard/customers/user-grace").await;
    assert!(html.contains("id=\"customer-subscriptions\""), "{html}");
    assert!(html.contains(">Team<"), "the plan by its product's name");
    assert!(html.contains("200.00 USD / year"));
    assert!(
        html.contains("<time datetime="),
        "dates carry the exact time"
    );

    let html = app.page_html("/dashboard/customers?search=ada").await;
    assert!(html.contains("data-subscriber-id=\"user-ada\""), "{html}");
    assert!(!html.contains("data-subscriber-id=\"user-grace\""));
}

#[tokio::test]
async fn a_subscriber_id_with_url_characters_has_a_working_page() {
    let app = spawn_app().await;
    let s = connected(&app).await;
    let ada = demo_customer(&app, &s.account, "ada@example.com");
    let odd = "a.b+c@x&y=z;(1)";
    assert_eq!(push(&app, &s.token, odd, &ada).await.status().as_u16(), 201);

    let html = app.page_html("/dashboard/customers").await;
    let href = subgate::dto::payments::customer_page(odd);
    assert!(
        html.contains(&href.replace('&', "&amp;")),
        "{href} in {html}"
    );
    let res = app.get_page(&href).await;
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().await.expect("html");
    assert!(html.contains("id=\"customer-subscriptions\""), "{html}");
    // the confirmation's pattern matches the id itself, not a regular expression of it
    assert!(
        html.contains(r#"pattern="a\.b\+c@x&amp;y=z;\(1\)""#),
        "{html}"
    );

    let res = app
        .call_fn(
            "forget_customer",
            &[("subscriber_id", odd), ("confirm", odd)],
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn forgetting_a_customer_needs_the_subscriber_id_typed() {
    let app = spawn_app().await;
    customers(&app, 0).await;
    for confirm in [None, Some(""), Some("user-ada"), Some("Forget")] {
        let mut fields = vec![("subscriber_id", "user-grace")];
        if let Some(c) = confirm {
            fields.push(("confirm", c));
        }
        let (status, body) = error_of(app.call_fn("forget_customer", &fields).await).await;
        assert_eq!(status, 422, "{confirm:?}: {body}");
        assert!(body["message"]
            .as_str()
            .expect("string")
            .contains("user-grace"));
    }
    assert_eq!(detail(&app, "user-grace").await.0, 200, "still there");

    let res = app
        .call_fn(
            "forget_customer",
            &[("subscriber_id", "user-grace"), ("confirm", "user-grace ")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.json::<String>().await.expect("where to go"),
        "/dashboard/customers"
    );
    assert_eq!(detail(&app, "user-grace").await.0, 404);
    let (_, page) = list(&app, &[]).await;
    assert_eq!(ids(&page), ["user-ada", "user-alan", "user-katherine"]);
}

#[tokio::test]
async fn the_stripe_portal_opens_for_a_customer_and_returns_to_their_page() {
    let app = spawn_app().await;
    customers(&app, 0).await;
    let res = app
        .call_fn("open_customer_portal", &[("subscriber_id", "user-ada")])
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let url = res.json::<String>().await.expect("where to go");
    assert!(url.contains("/portal/session/"), "{url}");
    // Stripe's portal links back to the customer's page in the dashboard
    let page = crate::support::browser()
        .get(&url)
        .send()
        .await
        .expect("portal page")
        .text()
        .await
        .expect("html");
    let back = app.url("/dashboard/customers/user-ada");
    assert!(
        page.contains(&format!("id=\"return\" href=\"{back}\"")),
        "{page}"
    );
}

#[tokio::test]
async fn another_merchant_sees_none_of_the_customers() {
    let app = spawn_app().await;
    customers(&app, 0).await;
    let other = app.new_browser();
    connected(&other).await;
    let (status, page) = list(&other, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(page["matching"], 0);
    assert_eq!(detail(&other, "user-ada").await.0, 404);
    for name in ["refresh_customer", "open_customer_portal"] {
        let (status, _) =
            error_of(other.call_fn(name, &[("subscriber_id", "user-ada")]).await).await;
        assert_eq!(status, 404, "{name}");
    }
    let (status, _) = error_of(
        other
            .call_fn(
                "forget_customer",
                &[("subscriber_id", "user-ada"), ("confirm", "user-ada")],
            )
            .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        detail(&app, "user-ada").await.0,
        200,
        "the owner's customer is untouched"
    );

    // and nobody logged out sees anything
    let stranger = app.new_browser();
    assert_eq!(list(&stranger, &[]).await.0, 401);
}

#[tokio::test]
async fn the_merchant_previews_the_portal_as_a_subscriber() {
    use crate::support::sso::{follow, portal_view, ready, sso_tab};
    let app = spawn_app().await;
    ready(&app).await;
    let res = app
        .call_fn("preview_portal", &[("subscriber_id", "42")])
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let url = res.json::<String>().await.expect("where to go");
    assert!(url.starts_with(&app.url("/portal/sso/")), "{url}");
    // the link is a normal one-time link: it opens the portal as subscriber 42, once
    let (status, browser) = follow(&app, &url).await;
    assert_eq!(status, 303, "{url}");
    let portal = portal_view(&browser).await;
    assert_eq!(portal["subscriptions"][0]["status"], "active", "{portal}");
    let mine = portal["business_name"].clone();
    assert_eq!(follow(&app, &url).await.0, 410, "single use");
    // and the SSO log says it was a preview
    let log = sso_tab(&app).await["logins"].to_string();
    assert!(log.contains("preview_issued"), "{log}");

    // an unknown subscriber, and another merchant's, are refused
    let (status, body) = error_of(
        app.call_fn("preview_portal", &[("subscriber_id", "nobody")])
            .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let other = app.new_browser();
    ready(&other).await;
    let res = other
        .call_fn("preview_portal", &[("subscriber_id", "42")])
        .await;
    assert_eq!(res.status().as_u16(), 200, "their own subscriber 42");
    let (status, theirs) = follow(&other, &res.json::<String>().await.expect("where to go")).await;
    assert_eq!(status, 303);
    let portal = portal_view(&theirs).await;
    assert!(portal["business_name"].is_string(), "{portal}");
    assert_ne!(portal["business_name"], mine, "their store, not ours");
}

#[tokio::test]
async fn no_preview_while_single_sign_on_is_off() {
    let app = spawn_app().await;
    customers(&app, 0).await;
    let (status, body) = error_of(
        app.call_fn("preview_portal", &[("subscriber_id", "user-ada")])
            .await,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["message"]
        .as_str()
        .expect("string")
        .contains("Turn single sign-on on first"));
}
