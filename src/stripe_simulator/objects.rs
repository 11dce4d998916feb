//! Stripe objects, built from Stripe's own published examples (`fixtures.json`) by overriding
//! the fields that matter, so every object has Stripe's real shape down to the fields subgate
//! never reads (async-stripe's strict deserializer checks them all).

use std::sync::OnceLock;

use rand::Rng;
use serde_json::{json, Map, Value};

static FIXTURES: OnceLock<Map<String, Value>> = OnceLock::new();

fn fixtures() -> &'static Map<String, Value> {
    FIXTURES.get_or_init(|| {
        serde_json::from_str(include_str!("fixtures.json"))
            .unwrap_or_else(|e| panic!("fixtures.json is part of the source and parses: {e}"))
    })
}

/// A fresh copy of Stripe's example object of this type.
pub fn template(name: &str) -> Value {
    fixtures().get(name).cloned().unwrap_or(Value::Null)
}

/// A Stripe-looking id: the prefix, `_`, and `len` letters or digits.
pub fn new_id(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}_{tail}")
}

fn set(obj: &mut Value, fields: Value) {
    if let (Some(target), Value::Object(fields)) = (obj.as_object_mut(), fields) {
        for (k, v) in fields {
            target.insert(k, v);
        }
    }
}

pub fn customer(email: &str, name: &str, now: i64) -> Value {
    let mut c = template("customer");
    set(
        &mut c,
        json!({ "id": new_id("cus", 14), "email": email, "name": name, "created": now,
                "invoice_prefix": new_id("INV", 6).replace("INV_", "").to_uppercase(),
                "metadata": {} }),
    );
    c
}

pub fn deleted_customer(id: &str) -> Value {
    let mut c = template("deleted_customer");
    set(&mut c, json!({ "id": id }));
    c
}

pub fn product(name: &str, now: i64) -> Value {
    let mut p = template("product");
    set(
        &mut p,
        json!({ "id": new_id("prod", 14), "name": name, "created": now, "updated": now }),
    );
    p
}

pub fn price(
    product_id: &str,
    unit_amount: i64,
    currency: &str,
    interval: &str,
    interval_count: i64,
    now: i64,
) -> Value {
    let mut p = template("price");
    set(
        &mut p,
        json!({
            "id": new_id("price", 24), "product": product_id, "unit_amount": unit_amount,
            "unit_amount_decimal": unit_amount.to_string(), "currency": currency, "created": now,
            "recurring": { "interval": interval, "interval_count": interval_count, "meter": null,
                           "usage_type": "licensed", "trial_period_days": null },
            "type": "recurring", "billing_scheme": "per_unit", "tax_behavior": "unspecified",
        }),
    );
    p
}

/// The legacy `plan` every subscription item still carries, mirroring its price.
fn plan_of(price: &Value) -> Value {
    let recurring = &price["recurring"];
    json!({
        "active": true, "amount": price["unit_amount"], "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": "per_unit", "created": price["created"], "currency": price["currency"],
        "id": price["id"], "interval": recurring["interval"], "interval_count": recurring["interval_count"],
        "livemode": false, "metadata": {}, "meter": null, "nickname": null, "object": "plan",
        "product": price["product"], "tiers_mode": null, "transform_usage": null,
        "trial_period_days": null, "usage_type": "licensed"
    })
}

/// One billing period after `start` for the price's interval (months and years as 30 and 365
/// days: a simulator needs plausible dates, not a calendar).
pub fn period_end(price: &Value, start: i64) -> i64 {
    let count = price["recurring"]["interval_count"]
        .as_i64()
        .unwrap_or(1)
        .max(1);
    let days = match price["recurring"]["interval"].as_str() {
        Some("day") => 1,
        Some("week") => 7,
        Some("year") => 365,
        _ => 30,
    };
    start + count * days * 86_400
}

pub fn subscription_item(
    subscription_id: &str,
    price: &Value,
    quantity: u64,
    start: i64,
    now: i64,
) -> Value {
    let mut i = template("subscription_item");
    set(
        &mut i,
        json!({
            "id": new_id("si", 14), "subscription": subscription_id, "price": price,
            "plan": plan_of(price), "quantity": quantity, "created": now,
            "current_period_start": start, "current_period_end": period_end(price, start),
            "metadata": {}, "discounts": [], "tax_rates": [], "billing_thresholds": null,
        }),
    );
    i
}

/// A new subscription: trialing for `trial_days`, else active; its period starts at `start`.
pub fn subscription(
    customer_id: &str,
    price: &Value,
    quantity: u64,
    trial_days: Option<i64>,
    start: i64,
    now: i64,
) -> Value {
    let id = new_id("sub", 24);
    let trial_end = trial_days.filter(|d| *d > 0).map(|d| start + d * 86_400);
    let item = subscription_item(&id, price, quantity, start, now);
    let mut s = template("subscription");
    set(
        &mut s,
        json!({
            "id": id, "customer": customer_id, "created": start, "start_date": start,
            "billing_cycle_anchor": trial_end.unwrap_or(start),
            "status": if trial_end.is_some() { "trialing" } else { "active" },
            "trial_start": trial_end.map(|_| start), "trial_end": trial_end,
            "cancel_at_period_end": false, "cancel_at": null, "canceled_at": null, "ended_at": null,
            // new subscriptions default to flexible billing since 2025-09-30.clover
            "billing_mode": { "type": "flexible", "flexible": { "proration_discounts": "included" },
                              "updated_at": start },
            "currency": price["currency"], "livemode": false, "metadata": {}, "latest_invoice": null,
            "next_pending_invoice_item_invoice": null, "schedule": null, "test_clock": null,
            "items": { "object": "list", "data": [item], "has_more": false, "total_count": 1,
                       "url": format!("/v1/subscription_items?subscription={id}") },
        }),
    );
    s
}

/// The end of the subscription's current period (the earliest of its items').
pub fn current_period_end(subscription: &Value) -> Option<i64> {
    subscription["items"]["data"]
        .as_array()?
        .iter()
        .filter_map(|i| i["current_period_end"].as_i64())
        .min()
}

pub fn portal_session(customer_id: &str, return_url: Option<&str>, url: &str, now: i64) -> Value {
    let mut b = template("billing_portal.session");
    set(
        &mut b,
        json!({
            "id": new_id("bps", 24), "customer": customer_id, "created": now, "livemode": false,
            "return_url": return_url, "url": url, "configuration": new_id("bpc", 24),
            "flow": null, "locale": null, "on_behalf_of": null,
        }),
    );
    b
}

/// A customer-portal configuration: the account's default (saved in the Dashboard) or one
/// made through the API (never the default).
pub fn portal_configuration(is_default: bool, metadata: &[(String, String)], now: i64) -> Value {
    let mut c = template("billing_portal.configuration");
    let metadata: Map<String, Value> = metadata
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    set(
        &mut c,
        json!({ "id": new_id("bpc", 24), "is_default": is_default, "active": true,
                "livemode": false, "created": now, "updated": now, "metadata": metadata }),
    );
    c
}

pub fn account(id: &str, business_name: &str, email: &str, created: i64) -> Value {
    let mut a = template("account");
    set(
        &mut a,
        json!({ "id": id, "email": email, "created": created, "type": "standard",
                "charges_enabled": true, "payouts_enabled": true, "details_submitted": true,
                "country": "US", "default_currency": "usd", "metadata": {} }),
    );
    a["business_profile"]["name"] = json!(business_name);
    a["settings"]["dashboard"]["display_name"] = json!(business_name);
    if let Some(url) = a["external_accounts"]["url"].as_str() {
        let fixed = url.replace("acct_1PgafTB7WZ01zgkW", id);
        a["external_accounts"]["url"] = json!(fixed);
    }
    a
}

pub fn application(client_id: &str) -> Value {
    let mut app = template("application");
    set(&mut app, json!({ "id": client_id, "name": "subgate" }));
    app
}

/// An event of `kind` about `object` on the connected `account`.
pub fn event(
    kind: &str,
    account: &str,
    object: Value,
    previous: Option<Value>,
    api_version: &str,
    now: i64,
) -> Value {
    let mut e = template("event");
    let mut data = json!({ "object": object });
    if let Some(previous) = previous {
        data["previous_attributes"] = previous;
    }
    set(
        &mut e,
        json!({
            "id": new_id("evt", 24), "type": kind, "account": account, "created": now,
            "api_version": api_version, "data": data, "livemode": false, "pending_webhooks": 1,
            "request": { "id": new_id("req", 14), "idempotency_key": null },
        }),
    );
    e
}

/// Replaces each item's `price.product` id by the product object (Stripe's `expand`).
pub fn expand_products(
    subscription: &mut Value,
    products: &std::collections::BTreeMap<String, Value>,
) {
    if let Some(items) = subscription["items"]["data"].as_array_mut() {
        for item in items {
            let id = item["price"]["product"].as_str().map(String::from);
            if let Some(product) = id.and_then(|id| products.get(&id)) {
                item["price"]["product"] = product.clone();
            }
        }
    }
}

/// The first API version whose subscriptions carry their periods on the items only.
const ITEM_PERIODS_SINCE: &str = "2025-03-31";

/// The event as an endpoint pinned to `version` receives it: before 2025-03-31.basil a
/// subscription's period was on the subscription itself, not on its items.
pub fn event_in_version(event: &Value, version: &str) -> Value {
    let mut e = event.clone();
    e["api_version"] = json!(version);
    let object = &mut e["data"]["object"];
    if version < ITEM_PERIODS_SINCE && object["object"] == "subscription" {
        let start = object["items"]["data"][0]["current_period_start"].clone();
        let end = current_period_end(object);
        object["current_period_start"] = start;
        object["current_period_end"] = json!(end);
        if let Some(items) = object["items"]["data"].as_array_mut() {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                item.remove("current_period_start");
                item.remove("current_period_end");
            }
        }
        if let Some(o) = object.as_object_mut() {
            o.remove("billing_mode");
        }
    }
    e
}
