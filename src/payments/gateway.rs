//! The one interface between subgate and a payment gateway. Everything gateway-specific (URLs,
//! wire formats, signatures, error codes) lives behind [`PaymentGateway`] in
//! `gateways/<name>/`; the rest of subgate sees only the neutral types below.

use std::collections::HashMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use crate::dto::payments::SubscriptionStatus;

/// What the merchant is sent to the gateway with, to connect their account.
#[derive(Debug, Clone)]
pub struct ConnectRequest<'a> {
    /// Random, bound to the merchant's session; the callback must bring it back.
    pub state: &'a str,
    /// Where the gateway sends the merchant back (subgate's callback).
    pub redirect_uri: &'a str,
    /// Prefills the gateway's sign-up form.
    pub email: &'a str,
    pub business_name: &'a str,
}

/// A gateway account the merchant connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedAccount {
    pub account_id: String,
    pub livemode: bool,
    pub scope: String,
    pub business_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// A subscription as subgate mirrors and serves it, whatever the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub customer_id: String,
    pub status: SubscriptionStatus,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<i64>,
    pub canceled_at: Option<i64>,
    /// The renewal date: the earliest end of the items' current periods.
    pub current_period_end: Option<i64>,
    pub trial_end: Option<i64>,
    pub created: i64,
    pub items: Vec<SubscriptionItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionItem {
    pub id: String,
    pub price_id: String,
    pub product_id: String,
    pub product_name: Option<String>,
    /// In the currency's smallest unit (cents).
    pub unit_amount: Option<i64>,
    pub currency: String,
    /// `day`, `week`, `month` or `year`; `None` for one-off prices.
    pub interval: Option<String>,
    pub interval_count: Option<u64>,
    pub quantity: Option<u64>,
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
}

impl SubscriptionItem {
    /// What this item bills a month, in the currency's smallest unit: the price times the
    /// quantity, brought to a month (a year is 12 months, a week 52/12 of one, a day 365/12);
    /// `None` for a one-off or metered price without an amount.
    pub fn monthly_amount(&self) -> Option<i64> {
        let amount = self.unit_amount? as f64 * self.quantity.unwrap_or(1) as f64;
        let months_per_interval = match self.interval.as_deref()? {
            "day" => 12.0 / 365.0,
            "week" => 12.0 / 52.0,
            "month" => 1.0,
            "year" => 12.0,
            _ => return None,
        } * self.interval_count.unwrap_or(1).max(1) as f64;
        Some((amount / months_per_interval).round() as i64)
    }
}

impl Subscription {
    /// The renewal date, from the items (newer Stripe API versions carry periods per item).
    pub fn renewal_from_items(items: &[SubscriptionItem]) -> Option<i64> {
        items.iter().filter_map(|i| i.current_period_end).min()
    }

    /// When the subscription ends (or ended) instead of renewing; `None` while it renews.
    /// Stripe's flexible billing mode (the default since API 2025-09-30.clover) schedules a
    /// cancellation with `cancel_at` alone, leaving `cancel_at_period_end` false; classic
    /// billing sets both. A subscription that ended without a `cancel_at` ended when canceled.
    pub fn ends_at(&self) -> Option<i64> {
        let scheduled = self.cancel_at.or(self
            .cancel_at_period_end
            .then_some(self.current_period_end)
            .flatten());
        match self.status {
            SubscriptionStatus::Canceled | SubscriptionStatus::IncompleteExpired => {
                scheduled.or(self.canceled_at)
            }
            _ => scheduled,
        }
    }

    /// The products whose names the gateway's copy did not carry.
    pub fn unnamed_products(&self) -> impl Iterator<Item = &str> {
        self.items
            .iter()
            .filter(|i| i.product_name.is_none())
            .map(|i| i.product_id.as_str())
    }

    /// The product names it carries, by product id.
    pub fn product_names(&self) -> HashMap<String, String> {
        self.items
            .iter()
            .filter_map(|i| Some((i.product_id.clone(), i.product_name.clone()?)))
            .collect()
    }

    /// Fills in product names from `names` (product id → name).
    pub fn name_products(&mut self, names: &HashMap<String, String>) {
        for item in self.items.iter_mut().filter(|i| i.product_name.is_none()) {
            item.product_name = names.get(&item.product_id).cloned();
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    pub url: String,
    /// After this the gateway no longer lets a first visit in.
    pub expires_at: i64,
}

/// One of the platform's webhook endpoints at the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    /// The API version its events are rendered in (`None`: the account's default).
    pub api_version: Option<String>,
    pub enabled_events: Vec<String>,
    pub enabled: bool,
    /// The signing secret: only in the answer to its creation.
    pub secret: Option<String>,
}

impl WebhookEndpoint {
    /// Whether it sends events of this type (`*` is every type).
    pub fn sends(&self, event_type: &str) -> bool {
        self.enabled_events
            .iter()
            .any(|e| e == "*" || e == event_type)
    }
}

/// A verified webhook event, reduced to what subgate acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    pub id: String,
    pub event_type: String,
    /// The connected account it happened on (`None` for the platform's own events).
    pub account_id: Option<String>,
    pub created: i64,
    pub action: WebhookAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookAction {
    /// The merchant revoked subgate's access from the gateway's side.
    AccountDeauthorized,
    /// A subscription was created, changed or ended: this is its new state.
    SubscriptionChanged(Subscription),
    /// A subscription changed but the event's copy could not be read: fetch it by id.
    SubscriptionRefetch(String),
    /// Nothing for subgate to do (an event type it does not use).
    Ignored,
}

/// Why a webhook delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("missing or malformed signature header")]
    MissingSignature,
    #[error("no signature matches any configured secret")]
    BadSignature,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    #[error("malformed event: {0}")]
    Malformed(String),
}

/// What can go wrong talking to a gateway, in terms the API can answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The object does not exist on the connected account (or was deleted).
    #[error("{0}")]
    NotFound(String),
    /// The platform no longer has access to the connected account.
    #[error("access to the connected account was revoked")]
    AccessRevoked,
    /// The connected account has no customer portal set up.
    #[error("{0}")]
    PortalNotConfigured(String),
    /// The gateway refused the request itself (our input); its message is meant for people.
    #[error("{message}")]
    Rejected {
        message: String,
        request_id: Option<String>,
    },
    /// A payment problem (card declined, …).
    #[error("{message}")]
    PaymentRequired {
        message: String,
        request_id: Option<String>,
    },
    /// The OAuth exchange was refused (bad or used code, …).
    #[error("{error}: {description}")]
    OAuth { error: String, description: String },
    /// The gateway failed, was rate-limiting past our retries, or answered nonsense.
    #[error("{message}")]
    Unavailable {
        message: String,
        request_id: Option<String>,
    },
    #[error("the payment gateway did not answer in time")]
    Timeout,
}

/// A payment gateway. Stripe is the first; each implementation lives in `gateways/<name>/`.
#[async_trait]
pub trait PaymentGateway: Send + Sync + 'static {
    /// Short machine name, stored with connections and events: `stripe`.
    fn name(&self) -> &'static str;
    /// For people: "Stripe".
    fn display_name(&self) -> &'static str;
    /// The gateway API version subgate is pinned to.
    fn api_version(&self) -> &'static str;
    /// True when this is subgate's built-in simulator, not the real gateway.
    fn simulated(&self) -> bool;
    /// The webhook event types the mirror is made of.
    fn webhook_events(&self) -> &'static [&'static str];

    /// Where to send the merchant's browser to connect their account.
    fn connect_url(&self, request: &ConnectRequest<'_>) -> String;
    /// Trades the callback's code for the connected account.
    async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<ConnectedAccount, GatewayError>;
    /// Revokes subgate's access to the account. Already revoked counts as done.
    async fn revoke(&self, account_id: &str) -> Result<(), GatewayError>;

    async fn fetch_customer(
        &self,
        account_id: &str,
        customer_id: &str,
    ) -> Result<Customer, GatewayError>;
    /// The account's newest customers, at most `limit` (1 to 100).
    async fn list_customers(
        &self,
        account_id: &str,
        limit: u8,
    ) -> Result<Vec<Customer>, GatewayError>;
    /// Every subscription of the customer, canceled ones included.
    async fn list_subscriptions(
        &self,
        account_id: &str,
        customer_id: &str,
    ) -> Result<Vec<Subscription>, GatewayError>;
    async fn fetch_subscription(
        &self,
        account_id: &str,
        subscription_id: &str,
    ) -> Result<Subscription, GatewayError>;
    async fn create_portal_session(
        &self,
        account_id: &str,
        customer_id: &str,
        return_url: &str,
    ) -> Result<PortalSession, GatewayError>;

    /// The names of these products (ids the gateway sent without expanding them).
    async fn product_names(
        &self,
        account_id: &str,
        product_ids: &[&str],
    ) -> Result<HashMap<String, String>, GatewayError>;
    /// The account's subscription and deauthorization events created after `after` (unix
    /// seconds), oldest first, as the bodies [`Self::parse_event`] reads: what webhooks would
    /// have delivered. The gateway keeps them for a limited time (Stripe: 30 days).
    async fn events_after(&self, account_id: &str, after: i64)
        -> Result<Vec<String>, GatewayError>;

    /// Whether customer-portal sessions can be opened on the account (it has a default
    /// configuration, or one subgate can name).
    async fn portal_configured(&self, account_id: &str) -> Result<bool, GatewayError>;
    /// Creates a customer-portal configuration on the account (cancel at period end, invoice
    /// history, payment methods); returns its id.
    async fn create_portal_configuration(&self, account_id: &str) -> Result<String, GatewayError>;
    /// The platform's webhook endpoints.
    async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, GatewayError>;
    /// Creates a webhook endpoint for the connected accounts' events subgate needs, in the
    /// pinned API version. The answer carries the signing secret (shown this once).
    async fn create_webhook_endpoint(&self, url: &str) -> Result<WebhookEndpoint, GatewayError>;

    /// The request header that carries a webhook delivery's signature (Stripe's:
    /// `Stripe-Signature`); the edge reads it and hands over its value.
    fn webhook_signature_header(&self) -> &'static str;
    /// Checks that a webhook delivery really comes from the gateway: `signature` is the value of
    /// [`Self::webhook_signature_header`], if the delivery had one. `now` is unix seconds.
    fn verify_webhook(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), WebhookError>;
    /// Reads a verified (or stored) event body.
    fn parse_event(&self, body: &[u8]) -> Result<WebhookEvent, WebhookError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(
        amount: Option<i64>,
        interval: Option<&str>,
        count: u64,
        quantity: u64,
    ) -> SubscriptionItem {
        SubscriptionItem {
            id: "si_1".into(),
            price_id: "price_1".into(),
            product_id: "prod_1".into(),
            product_name: None,
            unit_amount: amount,
            currency: "usd".into(),
            interval: interval.map(String::from),
            interval_count: Some(count),
            quantity: Some(quantity),
            current_period_start: None,
            current_period_end: None,
        }
    }

    #[test]
    fn every_price_is_brought_to_a_month() {
        assert_eq!(
            item(Some(2000), Some("month"), 1, 1).monthly_amount(),
            Some(2000)
        );
        assert_eq!(
            item(Some(2000), Some("month"), 1, 3).monthly_amount(),
            Some(6000)
        );
        assert_eq!(
            item(Some(6000), Some("month"), 3, 1).monthly_amount(),
            Some(2000)
        );
        assert_eq!(
            item(Some(12000), Some("year"), 1, 1).monthly_amount(),
            Some(1000)
        );
        assert_eq!(
            item(Some(20000), Some("year"), 1, 1).monthly_amount(),
            Some(1667)
        );
        assert_eq!(
            item(Some(1200), Some("week"), 1, 1).monthly_amount(),
            Some(5200)
        );
        assert_eq!(
            item(Some(100), Some("day"), 1, 1).monthly_amount(),
            Some(3042)
        );
        assert_eq!(
            item(Some(100), None, 1, 1).monthly_amount(),
            None,
            "one-off"
        );
        assert_eq!(
            item(None, Some("month"), 1, 1).monthly_amount(),
            None,
            "metered"
        );
    }
}
