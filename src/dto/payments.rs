//! Wire types of the Connect tab and of the customers and subscriptions API. Timestamps are
//! unix seconds, amounts are in the currency's smallest unit, as in Stripe's own API.

use serde::{Deserialize, Serialize};

/// A subscription's state, as the payment gateway reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Incomplete,
    IncompleteExpired,
    Trialing,
    Active,
    PastDue,
    Canceled,
    Unpaid,
    Paused,
    /// A state this version of subgate does not know yet.
    #[serde(other)]
    Unknown,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incomplete => "incomplete",
            Self::IncompleteExpired => "incomplete_expired",
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Canceled => "canceled",
            Self::Unpaid => "unpaid",
            Self::Paused => "paused",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(raw: &str) -> Self {
        match raw {
            "incomplete" => Self::Incomplete,
            "incomplete_expired" => Self::IncompleteExpired,
            "trialing" => Self::Trialing,
            "active" => Self::Active,
            "past_due" => Self::PastDue,
            "canceled" => Self::Canceled,
            "unpaid" => Self::Unpaid,
            "paused" => Self::Paused,
            _ => Self::Unknown,
        }
    }

    /// True while the subscriber still has what they pay for.
    pub fn is_current(self) -> bool {
        matches!(self, Self::Active | Self::Trialing | Self::PastDue)
    }
}

/// The Connect tab's view of the merchant's payment gateway connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionView {
    /// "Stripe".
    pub gateway: String,
    /// True when subgate runs against its built-in Stripe simulator (no Stripe keys configured).
    pub simulated: bool,
    /// The Stripe API version subgate is pinned to.
    pub api_version: String,
    pub state: ConnectionState,
    pub account_id: Option<String>,
    pub business_name: Option<String>,
    pub livemode: bool,
    pub connected_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// `merchant` (revoked here) or `gateway` (revoked from the Stripe Dashboard).
    pub revoked_by: Option<String>,
    pub last_webhook_at: Option<i64>,
    /// The outcome of the last connect attempt, shown once.
    pub notice: Option<Notice>,
    /// How many customers the merchant's backend has pushed.
    pub customers: i64,
    /// The endpoint to register for Connect webhooks in the Stripe Dashboard.
    pub webhook_url: String,
    /// With the simulator: the demo customers of the connected account, to try the API with.
    pub demo_customers: Vec<DemoCustomer>,
}

/// A customer of the simulated Stripe account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoCustomer {
    pub id: String,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    NotConnected,
    Connected,
    Revoked,
}

/// A one-time message for the merchant (e.g. "Stripe said: access denied").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub ok: bool,
    pub message: String,
}

/// `POST /api/customers`: link one of the merchant's users to a customer on their Stripe account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushCustomer {
    /// The merchant's own id for the user (1 to 191 printable characters, no `/`).
    pub subscriber_id: String,
    /// The Stripe customer id on the connected account, `cus_…`.
    pub customer_id: String,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerView {
    pub subscriber_id: String,
    pub customer_id: String,
    pub email: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When its subscriptions were last pulled from the gateway (webhooks keep them fresh after).
    pub synced_at: Option<i64>,
    /// This customer in the API.
    pub url: String,
    pub subscriptions_url: String,
}

/// A page of customers, oldest first; follow `next` (or pass `next_cursor` as `cursor`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerPage {
    pub data: Vec<CustomerView>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionView {
    pub id: String,
    pub subscriber_id: Option<String>,
    pub customer_id: String,
    pub status: SubscriptionStatus,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<i64>,
    pub canceled_at: Option<i64>,
    /// The renewal date: the end of the current billing period.
    pub current_period_end: Option<i64>,
    pub trial_end: Option<i64>,
    pub created: i64,
    pub items: Vec<SubscriptionItemView>,
    /// When subgate last received this state from the gateway.
    pub synced_at: i64,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionItemView {
    pub id: String,
    pub price_id: String,
    pub product_id: String,
    pub product_name: Option<String>,
    /// In the currency's smallest unit (cents).
    pub unit_amount: Option<i64>,
    pub currency: String,
    pub interval: Option<String>,
    pub interval_count: Option<u64>,
    pub quantity: Option<u64>,
    pub current_period_end: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionList {
    pub subscriber_id: String,
    pub customer_id: String,
    pub data: Vec<SubscriptionView>,
}

/// `POST /api/customers/{subscriber_id}/portal-session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalSessionRequest {
    /// Where the customer portal's "return" link goes: an https URL (http only on localhost).
    pub return_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSessionView {
    /// Send the customer's browser here; it works once, for a few minutes.
    pub url: String,
    pub expires_at: i64,
}
