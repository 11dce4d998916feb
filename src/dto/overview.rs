//! The dashboard's overview: where the merchant stands (the "Get started" checklist), what their
//! subscriptions add up to, and the last 30 days of portal sign-ins.

use serde::{Deserialize, Serialize};

use super::payments::ConnectionState;

/// The dashboard's landing page.
pub const DASHBOARD_HOME: &str = "/dashboard";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewView {
    /// "Get started", in order; each done as soon as the merchant's data says so.
    pub steps: Vec<Step>,
    pub gateway: String,
    pub simulated: bool,
    pub connection: ConnectionState,
    pub account_id: Option<String>,
    pub customers: i64,
    pub active: i64,
    pub trialing: i64,
    pub past_due: i64,
    pub cancelling: i64,
    /// Monthly recurring revenue per currency.
    pub mrr: Vec<Money>,
    /// Subscribers signed in through SSO (links issued), per day, oldest first.
    pub sso_logins: Daily,
    /// Calls to the API with a bearer token (the merchant's backend), per day, oldest first.
    pub api_calls: Daily,
    /// With a test-mode account connected (the simulator's is one): one of its customers can
    /// be linked with one click.
    pub demo_push: bool,
}

/// One step of "Get started".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub done: bool,
    /// Where it is done.
    pub href: String,
}

/// An amount in a currency's smallest unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub currency: String,
    pub amount: i64,
}

/// A count per day: `counts[i]` is the day starting at `start + i × 86400`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Daily {
    pub start: i64,
    pub counts: Vec<i64>,
}

impl Daily {
    pub fn total(&self) -> i64 {
        self.counts.iter().sum()
    }
}
