//! The simulator's data: connected accounts with their customers, products, prices and
//! subscriptions (kept as Stripe JSON), pending OAuth codes and portal sessions. Every change
//! returns the webhook events it causes; the caller sends them.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::objects;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub accounts: BTreeMap<String, Account>,
    /// Authorization codes (`ac_…`) not yet exchanged.
    pub codes: HashMap<String, PendingCode>,
    /// Portal sessions by the secret in their URL.
    pub portal_sessions: HashMap<String, PortalSession>,
    /// The platform's webhook endpoints.
    #[serde(default)]
    pub webhook_endpoints: Vec<WebhookEndpoint>,
    /// Answers of POSTs by `"{account} {Idempotency-Key}"`.
    #[serde(default)]
    pub idempotency: HashMap<String, IdempotentAnswer>,
}

/// The first answer to an idempotent request, replayed to the same request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdempotentAnswer {
    pub fingerprint: String,
    pub status: u16,
    pub body: String,
    pub created: i64,
}

/// A webhook endpoint of the platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    /// Events are rendered in this version for this endpoint.
    pub api_version: String,
    pub enabled_events: Vec<String>,
    /// Receives the connected accounts' events (not shown in Stripe's object).
    pub connect: bool,
    pub enabled: bool,
    /// The signing secret (the first one is what Stripe shows at creation).
    pub secret: String,
    /// Every secret deliveries are signed with (several while rolling).
    pub secrets: Vec<String>,
    pub created: i64,
}

impl WebhookEndpoint {
    pub fn new(
        url: &str,
        api_version: &str,
        enabled_events: Vec<String>,
        connect: bool,
        now: i64,
    ) -> Self {
        let secret = objects::new_id("whsec", 32);
        Self {
            id: objects::new_id("we", 24),
            url: url.into(),
            api_version: api_version.into(),
            enabled_events,
            connect,
            enabled: true,
            secrets: vec![secret.clone()],
            secret,
            created: now,
        }
    }

    /// Stripe's object (without the secret, which only the creation's answer shows).
    pub fn object(&self) -> Value {
        let mut e = objects::template("webhook_endpoint");
        for (k, v) in [
            ("id", json!(self.id)),
            ("url", json!(self.url)),
            ("api_version", json!(self.api_version)),
            ("enabled_events", json!(self.enabled_events)),
            (
                "status",
                json!(if self.enabled { "enabled" } else { "disabled" }),
            ),
            ("created", json!(self.created)),
            ("description", Value::Null),
            ("livemode", json!(false)),
        ] {
            e[k] = v;
        }
        e
    }

    /// Whether an event of this type on a connected account is sent here.
    pub fn receives(&self, kind: &str) -> bool {
        self.enabled && self.connect && self.enabled_events.iter().any(|e| e == "*" || e == kind)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub business_name: String,
    pub email: String,
    pub created: i64,
    /// Connected to this platform (authorized and not deauthorized).
    pub authorized: bool,
    pub portal_configured: bool,
    pub customers: BTreeMap<String, Value>,
    pub products: BTreeMap<String, Value>,
    pub prices: BTreeMap<String, Value>,
    pub subscriptions: BTreeMap<String, Value>,
    /// Portal configurations made through the API (never the default).
    #[serde(default)]
    pub api_portal_configurations: Vec<Value>,
    /// Every event of the account, oldest first, for `GET /v1/events`.
    #[serde(default)]
    pub events: Vec<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingCode {
    pub account: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PortalSession {
    pub account: String,
    pub customer: String,
    pub return_url: Option<String>,
    pub expires_at: i64,
}

/// What a change tells the world: `(event type, account, object, previous attributes)`.
pub type Change = (&'static str, String, Value, Option<Value>);

/// OAuth codes live this long.
pub const CODE_TTL: i64 = 300;

impl Account {
    pub fn new(business_name: &str, email: &str, now: i64) -> Self {
        Self {
            id: objects::new_id("acct", 16),
            business_name: business_name.into(),
            email: email.into(),
            created: now,
            authorized: false,
            portal_configured: true,
            customers: BTreeMap::new(),
            products: BTreeMap::new(),
            prices: BTreeMap::new(),
            subscriptions: BTreeMap::new(),
            api_portal_configurations: Vec::new(),
            events: Vec::new(),
        }
    }

    /// The default configuration (saved in the Dashboard) when there is one, then the API's.
    pub fn portal_configurations(&self, now: i64) -> Vec<Value> {
        let mut all = Vec::new();
        if self.portal_configured {
            let mut default = objects::portal_configuration(true, &[], self.created.min(now));
            default["id"] = json!(format!("bpc_default{}", self.id.trim_start_matches("acct")));
            all.push(default);
        }
        all.extend(self.api_portal_configurations.iter().cloned());
        all
    }

    /// Keeps an event for `GET /v1/events` (which reaches back 30 days).
    pub fn record_event(&mut self, event: Value, now: i64) {
        self.events.push(event);
        let horizon = now - super::api::EVENTS_RETENTION;
        self.events
            .retain(|e| e["created"].as_i64().unwrap_or_default() >= horizon);
    }

    /// Flexible billing mode (the default for new subscriptions since 2025-09-30.clover).
    pub fn is_flexible(&self, id: &str) -> bool {
        self.subscriptions
            .get(id)
            .is_some_and(|s| s["billing_mode"]["type"] == "flexible")
    }

    pub fn add_customer(&mut self, email: &str, name: &str, now: i64) -> String {
        let c = objects::customer(email, name, now);
        let id = c["id"].as_str().unwrap_or_default().to_string();
        self.customers.insert(id.clone(), c);
        id
    }

    /// A product with one recurring price; returns the price id.
    pub fn add_price(
        &mut self,
        product_name: &str,
        unit_amount: i64,
        currency: &str,
        interval: &str,
        interval_count: i64,
        now: i64,
    ) -> String {
        let product = objects::product(product_name, now);
        let product_id = product["id"].as_str().unwrap_or_default().to_string();
        self.products.insert(product_id.clone(), product);
        let price = objects::price(
            &product_id,
            unit_amount,
            currency,
            interval,
            interval_count,
            now,
        );
        let id = price["id"].as_str().unwrap_or_default().to_string();
        self.prices.insert(id.clone(), price);
        id
    }

    /// Stripe's answer for a subscription, with the products expanded when asked.
    pub fn render_subscription(&self, id: &str, expand_products: bool) -> Option<Value> {
        let mut s = self.subscriptions.get(id)?.clone();
        if expand_products {
            objects::expand_products(&mut s, &self.products);
        }
        Some(s)
    }

    pub fn create_subscription(
        &mut self,
        customer: &str,
        price_id: &str,
        quantity: u64,
        trial_days: Option<i64>,
        start: i64,
        now: i64,
    ) -> Result<(String, Change), String> {
        if !self.customers.contains_key(customer) || self.is_deleted(customer) {
            return Err(format!("No such customer: '{customer}'"));
        }
        let price = self
            .prices
            .get(price_id)
            .ok_or_else(|| format!("No such price: '{price_id}'"))?;
        let s = objects::subscription(customer, price, quantity, trial_days, start, now);
        let id = s["id"].as_str().unwrap_or_default().to_string();
        self.subscriptions.insert(id.clone(), s);
        let object = self.render_subscription(&id, false).unwrap_or(Value::Null);
        Ok((
            id,
            (
                "customer.subscription.created",
                self.id.clone(),
                object,
                None,
            ),
        ))
    }

    pub fn set_cancel_at_period_end(&mut self, id: &str, cancel: bool) -> Result<Change, String> {
        let s = self
            .subscriptions
            .get_mut(id)
            .ok_or_else(|| format!("No such subscription: '{id}'"))?;
        if s["status"] == "canceled" {
            return Err("A canceled subscription can only update its metadata.".into());
        }
        let before = json!({ "cancel_at_period_end": s["cancel_at_period_end"], "cancel_at": s["cancel_at"] });
        s["cancel_at_period_end"] = json!(cancel);
        s["cancel_at"] = if cancel {
            json!(objects::current_period_end(s))
        } else {
            Value::Null
        };
        let object = self.render_subscription(id, false).unwrap_or(Value::Null);
        Ok((
            "customer.subscription.updated",
            self.id.clone(),
            object,
            Some(before),
        ))
    }

    /// Cancels at a moment (`Some`) or not at all (`None`): flexible billing's way, which
    /// leaves `cancel_at_period_end` false.
    pub fn set_cancel_at(&mut self, id: &str, at: Option<i64>) -> Result<Change, String> {
        let s = self
            .subscriptions
            .get_mut(id)
            .ok_or_else(|| format!("No such subscription: '{id}'"))?;
        if s["status"] == "canceled" {
            return Err("A canceled subscription can only update its metadata.".into());
        }
        let before = json!({ "cancel_at_period_end": s["cancel_at_period_end"], "cancel_at": s["cancel_at"] });
        s["cancel_at"] = json!(at);
        s["cancel_at_period_end"] = json!(false);
        let object = self.render_subscription(id, false).unwrap_or(Value::Null);
        Ok((
            "customer.subscription.updated",
            self.id.clone(),
            object,
            Some(before),
        ))
    }

    /// What the customer portal's "Cancel plan" does: at the end of the period, through
    /// `cancel_at` in flexible billing mode, through `cancel_at_period_end` in classic.
    pub fn portal_cancel(&mut self, id: &str) -> Result<Change, String> {
        if self.is_flexible(id) {
            let end = self
                .subscriptions
                .get(id)
                .and_then(objects::current_period_end);
            self.set_cancel_at(id, end)
        } else {
            self.set_cancel_at_period_end(id, true)
        }
    }

    /// The portal's "Renew plan".
    pub fn portal_renew(&mut self, id: &str) -> Result<Change, String> {
        if self.is_flexible(id) {
            self.set_cancel_at(id, None)
        } else {
            self.set_cancel_at_period_end(id, false)
        }
    }

    pub fn set_metadata(
        &mut self,
        id: &str,
        metadata: &[(String, String)],
    ) -> Result<Change, String> {
        let s = self
            .subscriptions
            .get_mut(id)
            .ok_or_else(|| format!("No such subscription: '{id}'"))?;
        let before = json!({ "metadata": s["metadata"] });
        for (k, v) in metadata {
            s["metadata"][k] = json!(v);
        }
        let object = self.render_subscription(id, false).unwrap_or(Value::Null);
        Ok((
            "customer.subscription.updated",
            self.id.clone(),
            object,
            Some(before),
        ))
    }

    pub fn cancel_subscription(&mut self, id: &str, now: i64) -> Result<Change, String> {
        let s = self
            .subscriptions
            .get_mut(id)
            .ok_or_else(|| format!("No such subscription: '{id}'"))?;
        s["status"] = json!("canceled");
        s["canceled_at"] = json!(now);
        s["ended_at"] = json!(now);
        s["cancel_at_period_end"] = json!(false);
        let object = self.render_subscription(id, false).unwrap_or(Value::Null);
        Ok((
            "customer.subscription.deleted",
            self.id.clone(),
            object,
            None,
        ))
    }

    pub fn is_deleted(&self, customer: &str) -> bool {
        self.customers
            .get(customer)
            .is_some_and(|c| c["deleted"] == json!(true))
    }

    /// Deletes the customer (Stripe keeps a stub) and cancels its subscriptions.
    pub fn delete_customer(&mut self, customer: &str, now: i64) -> Result<Vec<Change>, String> {
        if !self.customers.contains_key(customer) || self.is_deleted(customer) {
            return Err(format!("No such customer: '{customer}'"));
        }
        let live: Vec<String> = self
            .subscriptions
            .iter()
            .filter(|(_, s)| s["customer"] == json!(customer) && s["status"] != "canceled")
            .map(|(id, _)| id.clone())
            .collect();
        let mut changes = Vec::new();
        for id in live {
            changes.push(self.cancel_subscription(&id, now)?);
        }
        self.customers
            .insert(customer.to_string(), objects::deleted_customer(customer));
        Ok(changes)
    }

    /// Demo data: three plans, four customers, a subscription in each interesting state.
    pub fn seed(&mut self, now: i64) {
        let day = 86_400;
        let starter = self.add_price("Starter", 500, "usd", "month", 1, now);
        let pro = self.add_price("Pro", 2000, "usd", "month", 1, now);
        let team = self.add_price("Team", 20000, "usd", "year", 1, now);
        let ada = self.add_customer("ada@example.com", "Ada Lovelace", now);
        let grace = self.add_customer("grace@example.com", "Grace Hopper", now);
        let alan = self.add_customer("alan@example.com", "Alan Turing", now);
        self.add_customer("katherine@example.com", "Katherine Johnson", now);
        let _ = self.create_subscription(&ada, &pro, 1, None, now - 12 * day, now);
        let _ = self.create_subscription(&grace, &team, 1, Some(14), now - day, now);
        if let Ok((old, _)) =
            self.create_subscription(&alan, &starter, 1, None, now - 90 * day, now)
        {
            let _ = self.cancel_subscription(&old, now - 10 * day);
        }
        if let Ok((current, _)) = self.create_subscription(&alan, &pro, 1, None, now - 5 * day, now)
        {
            let _ = self.set_cancel_at_period_end(&current, true);
        }
    }
}

impl State {
    /// The account for this email, created (and seeded) if new.
    pub fn account_for(
        &mut self,
        business_name: &str,
        email: &str,
        seed: bool,
        now: i64,
    ) -> String {
        if let Some(a) = self
            .accounts
            .values()
            .find(|a| !email.is_empty() && a.email.eq_ignore_ascii_case(email))
        {
            return a.id.clone();
        }
        let mut account = Account::new(
            if business_name.trim().is_empty() {
                "Demo business"
            } else {
                business_name.trim()
            },
            email.trim(),
            now,
        );
        if seed {
            account.seed(now);
        }
        let id = account.id.clone();
        self.accounts.insert(id.clone(), account);
        id
    }

    pub fn issue_code(&mut self, account: &str, now: i64) -> String {
        self.codes.retain(|_, c| c.expires_at > now);
        let code = objects::new_id("ac", 32);
        self.codes.insert(
            code.clone(),
            PendingCode {
                account: account.into(),
                expires_at: now + CODE_TTL,
            },
        );
        code
    }
}
