//! The dashboard's overview, composed from every domain: the "Get started" checklist follows
//! the merchant's real data, the figures come from the subscription mirror, the charts from the
//! SSO log and the API call counts.

use crate::dto::overview::{Daily, Money, OverviewView, Step};
use crate::dto::payments::{customer_page, ConnectionState, CUSTOMERS_TAB};
use crate::error::AppError;
use crate::sso::outcome;
use crate::state::AppState;

const DAY: i64 = 86_400;
/// The chart's days: today (UTC) and the 29 before.
const CHART_DAYS: i64 = 30;

pub async fn view(state: &AppState, merchant: &str, now: i64) -> Result<OverviewView, AppError> {
    let payments = &state.payments;
    let connection = payments.connection(merchant).await?;
    let connected = connection.as_ref().is_some_and(|c| c.is_active());
    let connection_is_test = connection
        .as_ref()
        .is_some_and(|c| c.is_active() && !c.livemode);
    let figures = payments.figures(merchant).await?;
    let customers = state.db.customer_count(merchant).await?;
    let clients = state.clients.list(merchant).await?;
    let sso_on = state
        .sso
        .settings(merchant)
        .await?
        .is_some_and(|s| s.enabled);
    let start = (now.div_euclid(DAY) - (CHART_DAYS - 1)) * DAY;
    let logins = state
        .db
        .sso_daily(merchant, outcome::LINK_ISSUED, start)
        .await?;
    let previewed = !state
        .db
        .sso_daily(merchant, outcome::PORTAL_OPENED, start)
        .await?
        .is_empty();
    let api_calls = state.db.api_calls_daily(merchant, start).await?;
    let first = state.db.first_subscriber(merchant).await?;
    let step = |id: &str, title: &str, done: bool, href: String| Step {
        id: id.into(),
        title: title.into(),
        done,
        href,
    };
    let gateway = payments.gateway.display_name();
    Ok(OverviewView {
        steps: vec![
            step(
                "connect",
                &format!("Connect your {gateway} account"),
                connected,
                "/dashboard/connect".into(),
            ),
            step(
                "server-client",
                "Create a confidential client for your backend",
                clients.iter().any(|c| c.is_confidential()),
                "/dashboard/oauth".into(),
            ),
            step(
                "customer",
                "Push a customer from your backend",
                customers > 0,
                CUSTOMERS_TAB.into(),
            ),
            step(
                "sso",
                "Turn on single sign-on",
                sso_on,
                "/dashboard/sso".into(),
            ),
            step(
                "preview",
                "Open the portal as one of your subscribers",
                previewed,
                first
                    .as_deref()
                    .map(customer_page)
                    .unwrap_or_else(|| CUSTOMERS_TAB.into()),
            ),
        ],
        gateway: gateway.into(),
        simulated: payments.gateway.simulated(),
        connection: match &connection {
            None => ConnectionState::NotConnected,
            Some(c) if c.is_active() => ConnectionState::Connected,
            Some(_) => ConnectionState::Revoked,
        },
        account_id: connection.map(|c| c.account_id),
        customers,
        active: figures.active,
        trialing: figures.trialing,
        past_due: figures.past_due,
        cancelling: figures.cancelling,
        mrr: figures
            .mrr
            .into_iter()
            .map(|(currency, amount)| Money { currency, amount })
            .collect(),
        sso_logins: daily(start, logins),
        api_calls: daily(start, api_calls),
        demo_push: connection_is_test,
    })
}

/// The chart's 30 days from `(day, count)` pairs (days without any are 0).
fn daily(start: i64, days: Vec<(i64, i64)>) -> Daily {
    let mut counts = vec![0; CHART_DAYS as usize];
    for (day, n) in days {
        if let Some(slot) = usize::try_from(day).ok().and_then(|d| counts.get_mut(d)) {
            *slot = n;
        }
    }
    Daily { start, counts }
}
