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
        }
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
