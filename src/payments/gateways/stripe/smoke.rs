//! `subgate stripe smoke` (`make stripe-smoke`): every call subgate makes, once, against
//! Stripe's test mode on a test connected account, printing what Stripe answered. It creates a
//! customer with a trialing subscription (no card needed), reads them the ways a push, a read
//! and a refresh do, opens a portal session, lists events and the platform's webhook endpoints,
//! and deletes what it created. It registers no webhook endpoint and touches nothing live.

use serde_json::{json, Value};

use super::{StripeGateway, StripeSettings};
use crate::payments::gateway::{GatewayError, PaymentGateway};

/// Runs the smoke test, printing one line per call; refuses anything but a test-mode key.
pub async fn run(settings: StripeSettings, account: &str) -> Result<(), GatewayError> {
    if !settings.secret_key.starts_with("sk_test_") {
        return Err(GatewayError::Rejected {
            message: "stripe smoke runs with a test-mode key (sk_test_…) only".into(),
            request_id: None,
        });
    }
    let stripe = StripeGateway::new(settings)?;
    let a = Some(account);
    let say = |call: &str, answer: Value| println!("{call}\n  {answer}");
    let customer = stripe
        .post_json(
            a,
            "/customers",
            &[
                ("email", "smoke@subgate.invalid".into()),
                ("metadata[created_by]", "subgate stripe smoke".into()),
            ],
        )
        .await?;
    let customer_id = customer["id"].as_str().unwrap_or_default().to_string();
    say("POST /v1/customers", json!({ "id": customer_id }));
    let outcome = exercise(&stripe, account, &customer_id, &say).await;
    // clean up whatever happened
    match stripe
        .delete_json(a, &format!("/customers/{customer_id}"))
        .await
    {
        Ok(answer) => say(
            "DELETE /v1/customers/{id} (its subscriptions are canceled with it)",
            json!({ "deleted": answer["deleted"] }),
        ),
        Err(e) => println!("DELETE /v1/customers/{customer_id} failed: {e}"),
    }
    outcome
}

async fn exercise(
    stripe: &StripeGateway,
    account: &str,
    customer_id: &str,
    say: &impl Fn(&str, Value),
) -> Result<(), GatewayError> {
    let a = Some(account);
    let product = stripe
        .post_json(a, "/products", &[("name", "subgate smoke".into())])
        .await?;
    let product_id = product["id"].as_str().unwrap_or_default().to_string();
    let price = stripe
        .post_json(
            a,
            "/prices",
            &[
                ("product", product_id.clone()),
                ("unit_amount", "500".into()),
                ("currency", "usd".into()),
                ("recurring[interval]", "month".into()),
            ],
        )
        .await?;
    let price_id = price["id"].as_str().unwrap_or_default().to_string();
    let subscription = stripe
        .post_json(
            a,
            "/subscriptions",
            &[
                ("customer", customer_id.to_string()),
                ("items[0][price]", price_id.clone()),
                ("trial_period_days", "7".into()),
            ],
        )
        .await?;
    let sub_id = subscription["id"].as_str().unwrap_or_default().to_string();
    say(
        "POST /v1/products, /v1/prices, /v1/subscriptions",
        json!({ "product": product_id, "price": price_id, "subscription": sub_id,
                "billing_mode": subscription["billing_mode"]["type"] }),
    );
    let c = stripe.fetch_customer(account, customer_id).await?;
    say(
        "push: GET /v1/customers/{id}",
        json!({ "id": c.id, "email": c.email }),
    );
    let list = stripe.list_subscriptions(account, customer_id).await?;
    say(
        "push, refresh: GET /v1/subscriptions?expand[]=data.items.data.price, then /v1/products/{id}",
        json!(list
            .iter()
            .map(|s| json!({ "id": s.id, "status": s.status.as_str(), "ends_at": s.ends_at(),
                             "products": s.product_names() }))
            .collect::<Vec<_>>()),
    );
    let one = stripe.fetch_subscription(account, &sub_id).await?;
    say(
        "refresh one: GET /v1/subscriptions/{id}?expand[]=items.data.price",
        json!({ "id": one.id, "renews": one.current_period_end, "products": one.product_names() }),
    );
    match stripe
        .create_portal_session(account, customer_id, "https://example.com/account")
        .await
    {
        Ok(p) => say(
            "POST /v1/billing_portal/sessions",
            json!({ "url": p.url, "expires_at": p.expires_at }),
        ),
        Err(e) => say(
            "POST /v1/billing_portal/sessions",
            json!({ "error": e.to_string(), "hint": "subgate doctor --fix creates a portal configuration" }),
        ),
    }
    let events = stripe.events_after(account, one.created - 60).await?;
    say(
        "reconcile: GET /v1/events?types[]=…&created[gt]=…",
        json!({ "events": events.len() }),
    );
    let endpoints = stripe.webhook_endpoints().await?;
    say(
        "doctor: GET /v1/webhook_endpoints",
        json!(endpoints
            .iter()
            .map(|e| json!({ "url": e.url, "api_version": e.api_version, "enabled": e.enabled }))
            .collect::<Vec<_>>()),
    );
    let archived = stripe
        .post_json(
            a,
            &format!("/products/{product_id}"),
            &[("active", "false".into())],
        )
        .await?;
    say(
        "POST /v1/products/{id} active=false (a product with prices cannot be deleted)",
        json!({ "active": archived["active"] }),
    );
    Ok(())
}
