//! Wire types of the Connect tab and of the customers and subscriptions API. Timestamps are
//! unix seconds, amounts are in the currency's smallest unit, as in Stripe's own API.

use serde::{Deserialize, Serialize};

/// A subscription's state, as the payment gateway reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// How the mirror keeps up with the connected account.
    pub sync: SyncView,
}

/// The mirror's catching up with the gateway, for the Connect tab.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncView {
    /// When the newest event applied (delivered or caught up) happened at the gateway.
    pub last_event_at: Option<i64>,
    pub last_event_id: Option<String>,
    /// When the last reconciliation finished.
    pub reconciled_at: Option<i64>,
    /// Missed events and differing subscriptions the last reconciliation found, and repaired.
    pub drift_found: i64,
    pub drift_repaired: i64,
}

/// One check of `subgate doctor`, as the Connect tab shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorCheck {
    /// `webhook_endpoint`, `webhook_api_version`, `webhook_events`, `webhook_connect`,
    /// `portal_configuration`.
    pub id: String,
    /// `ok`, `unconfirmed` or `failed`.
    pub status: String,
    pub message: String,
    /// The merchant may apply the fix from the tab (their own account's portal configuration;
    /// the platform's webhook endpoint is the operator's, through `subgate doctor --fix`).
    pub fixable: bool,
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PushCustomer {
    /// The merchant's own id for the user (1 to 191 printable characters, no `/`).
    #[cfg_attr(
        feature = "ssr",
        schema(
            min_length = 1,
            max_length = 191,
            pattern = r"^[^\s/?#%\\]+$",
            example = "user-42"
        )
    )]
    pub subscriber_id: String,
    /// The Stripe customer id on the connected account, `cus_…`.
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 255,
            pattern = "^cus_[A-Za-z0-9]+$",
            example = "cus_NffrFeUfNV2Hib"
        )
    )]
    pub customer_id: String,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 254, example = "ada@example.com"))]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CustomerView {
    #[cfg_attr(feature = "ssr", schema(example = "user-42"))]
    pub subscriber_id: String,
    #[cfg_attr(feature = "ssr", schema(example = "cus_NffrFeUfNV2Hib"))]
    pub customer_id: String,
    #[cfg_attr(feature = "ssr", schema(example = "ada@example.com"))]
    pub email: Option<String>,
    #[cfg_attr(feature = "ssr", schema(example = 1764400000))]
    pub created_at: i64,
    #[cfg_attr(feature = "ssr", schema(example = 1764400000))]
    pub updated_at: i64,
    /// When its subscriptions were last pulled from the gateway (webhooks keep them fresh after).
    #[cfg_attr(feature = "ssr", schema(example = 1764400000))]
    pub synced_at: Option<i64>,
    /// This customer in the API.
    #[cfg_attr(feature = "ssr", schema(example = "/api/customers/user-42"))]
    pub url: String,
    #[cfg_attr(
        feature = "ssr",
        schema(example = "/api/customers/user-42/subscriptions")
    )]
    pub subscriptions_url: String,
}

/// A row of the dashboard's customer list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSummary {
    pub subscriber_id: String,
    pub customer_id: String,
    pub email: Option<String>,
    pub created_at: i64,
    pub subscriptions: i64,
    /// The status of the subscription that matters most (paid for now first).
    pub status: Option<SubscriptionStatus>,
}

/// A page of the dashboard's customer list, by subscriber id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerList {
    pub data: Vec<CustomerSummary>,
    /// The cursor of the next page, when more customers follow.
    pub next_cursor: Option<String>,
    /// How many customers match the filter in all.
    pub matching: i64,
}

/// The dashboard's page of one customer: as in the API, plus the subscriptions mirrored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDetail {
    pub customer: CustomerView,
    pub subscriptions: Vec<SubscriptionView>,
}

/// A page of customers, oldest first; follow `next` (or pass `next_cursor` as `cursor`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CustomerPage {
    pub data: Vec<CustomerView>,
    pub has_more: bool,
    #[cfg_attr(feature = "ssr", schema(example = "dXNlci00Mg"))]
    pub next_cursor: Option<String>,
    #[cfg_attr(
        feature = "ssr",
        schema(example = "/api/customers?limit=20&cursor=dXNlci00Mg")
    )]
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SubscriptionView {
    #[cfg_attr(feature = "ssr", schema(example = "sub_1MowQVLkdIwHu7ixeRlqHVzs"))]
    pub id: String,
    #[cfg_attr(feature = "ssr", schema(example = "user-42"))]
    pub subscriber_id: Option<String>,
    #[cfg_attr(feature = "ssr", schema(example = "cus_NffrFeUfNV2Hib"))]
    pub customer_id: String,
    pub status: SubscriptionStatus,
    /// Stripe's classic-billing flag (deprecated by Stripe since 2025-05-28.basil): in flexible
    /// billing mode a scheduled cancellation leaves it false. Read `ends_at` instead.
    pub cancel_at_period_end: bool,
    /// When Stripe will cancel the subscription, if a cancellation is scheduled.
    pub cancel_at: Option<i64>,
    /// When the cancellation was requested (or the subscription canceled).
    pub canceled_at: Option<i64>,
    /// When the subscription ends (or ended) instead of renewing; `null` while it renews.
    /// Always right, whatever the billing mode: `cancel_at` when a cancellation is scheduled
    /// (flexible billing sets only that), else the period end when `cancel_at_period_end`, else
    /// for an ended subscription when it was canceled.
    #[cfg_attr(feature = "ssr", schema(example = 1767000000))]
    pub ends_at: Option<i64>,
    /// The renewal date: the end of the current billing period.
    #[cfg_attr(feature = "ssr", schema(example = 1767000000))]
    pub current_period_end: Option<i64>,
    pub trial_end: Option<i64>,
    #[cfg_attr(feature = "ssr", schema(example = 1764400000))]
    pub created: i64,
    pub items: Vec<SubscriptionItemView>,
    /// When subgate last received this state from the gateway.
    #[cfg_attr(feature = "ssr", schema(example = 1764400000))]
    pub synced_at: i64,
    #[cfg_attr(
        feature = "ssr",
        schema(example = "/api/subscriptions/sub_1MowQVLkdIwHu7ixeRlqHVzs")
    )]
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SubscriptionItemView {
    #[cfg_attr(feature = "ssr", schema(example = "si_NcLYdDxLHxlFo7"))]
    pub id: String,
    #[cfg_attr(feature = "ssr", schema(example = "price_1Mr6rdLkdIwHu7ixwPmiybbR"))]
    pub price_id: String,
    #[cfg_attr(feature = "ssr", schema(example = "prod_NcLYGKH0eY5b8s"))]
    pub product_id: String,
    #[cfg_attr(feature = "ssr", schema(example = "Pro"))]
    pub product_name: Option<String>,
    /// In the currency's smallest unit (cents).
    #[cfg_attr(feature = "ssr", schema(example = 2000))]
    pub unit_amount: Option<i64>,
    #[cfg_attr(feature = "ssr", schema(example = "usd"))]
    pub currency: String,
    #[cfg_attr(feature = "ssr", schema(example = "month"))]
    pub interval: Option<String>,
    #[cfg_attr(feature = "ssr", schema(example = 1))]
    pub interval_count: Option<u64>,
    #[cfg_attr(feature = "ssr", schema(example = 1))]
    pub quantity: Option<u64>,
    #[cfg_attr(feature = "ssr", schema(example = 1767000000))]
    pub current_period_end: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SubscriptionList {
    #[cfg_attr(feature = "ssr", schema(example = "user-42"))]
    pub subscriber_id: String,
    #[cfg_attr(feature = "ssr", schema(example = "cus_NffrFeUfNV2Hib"))]
    pub customer_id: String,
    pub data: Vec<SubscriptionView>,
}

/// `POST /api/customers/{subscriber_id}/portal-session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PortalSessionRequest {
    /// Where the customer portal's "return" link goes: an https URL (http only on localhost).
    #[cfg_attr(
        feature = "ssr",
        schema(max_length = 2000, example = "https://shop.example/account")
    )]
    pub return_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PortalSessionView {
    /// Send the customer's browser here; it works once, for a few minutes.
    #[cfg_attr(
        feature = "ssr",
        schema(example = "https://billing.stripe.com/p/session/test_YWNjdF8xTTJKVGtMa2RJd0h1N2l4")
    )]
    pub url: String,
    #[cfg_attr(feature = "ssr", schema(example = 1764400300))]
    pub expires_at: i64,
}

/// The dashboard's Customers tab.
pub const CUSTOMERS_TAB: &str = "/dashboard/customers";

/// The dashboard page of the customer with this subscriber id.
pub fn customer_page(subscriber_id: &str) -> String {
    format!(
        "{CUSTOMERS_TAB}/{}",
        super::url::path_segment(subscriber_id)
    )
}

/// A subscription's next date as the merchant and the subscriber read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextDate {
    Renews(i64),
    Ends(i64),
    Ended(i64),
}

impl NextDate {
    pub fn label(self) -> &'static str {
        match self {
            Self::Renews(_) => "Renews on",
            Self::Ends(_) => "Ends on",
            Self::Ended(_) => "Ended on",
        }
    }

    pub fn at(self) -> i64 {
        match self {
            Self::Renews(t) | Self::Ends(t) | Self::Ended(t) => t,
        }
    }
}

impl SubscriptionView {
    /// Renews, ends or ended, and when: `ends_at` is right in both of Stripe's billing modes,
    /// `cancel_at_period_end` is not.
    pub fn next_date(&self) -> Option<NextDate> {
        let renewal = self
            .current_period_end
            .or_else(|| self.items.iter().find_map(|i| i.current_period_end));
        match (self.status.is_current(), self.ends_at, renewal) {
            (true, Some(t), _) => Some(NextDate::Ends(t)),
            (true, None, Some(t)) => Some(NextDate::Renews(t)),
            (false, Some(t), _) => Some(NextDate::Ended(t)),
            _ => None,
        }
    }

    /// The end of the trial, while the subscription is trialing.
    pub fn trial_until(&self) -> Option<i64> {
        self.trial_end
            .filter(|_| self.status == SubscriptionStatus::Trialing)
    }
}

impl SubscriptionItemView {
    /// How often it is billed: ` / month`, ` every 3 months`, or nothing for a one-off price.
    pub fn every(&self) -> String {
        match (self.interval.as_deref(), self.interval_count) {
            (Some(unit), Some(n)) if n > 1 => format!(" every {n} {unit}s"),
            (Some(unit), _) => format!(" / {unit}"),
            _ => String::new(),
        }
    }

    /// The product's name, or its id while the name is unknown.
    pub fn product(&self) -> String {
        self.product_name
            .clone()
            .unwrap_or_else(|| self.product_id.clone())
    }
}

/// Currencies whose amounts have no minor unit (Stripe's list): 2000 JPY is ¥2,000.
pub fn is_zero_decimal(currency: &str) -> bool {
    matches!(
        currency.to_ascii_lowercase().as_str(),
        "bif"
            | "clp"
            | "djf"
            | "gnf"
            | "jpy"
            | "kmf"
            | "krw"
            | "mga"
            | "pyg"
            | "rwf"
            | "ugx"
            | "vnd"
            | "vuv"
            | "xaf"
            | "xof"
            | "xpf"
    )
}
