//! The Connect tab's OAuth round trip to the payment gateway. `begin` puts a random `state` in
//! the merchant's session and returns the gateway's authorize URL; the gateway sends the
//! browser back to `/connect/stripe/callback`, which checks and consumes that state (single
//! use, ten minutes) before trading the code. Every outcome becomes a one-time notice shown on
//! the Connect tab, then the browser goes back there.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::middleware::auth_session;
use crate::crypto::{constant_time_eq, random_token};
use crate::dto::payments::{ConnectionView, Notice};
use crate::error::AppError;
use crate::payments::gateway::{ConnectRequest, GatewayError};
use crate::state::AppState;

pub const CALLBACK_PATH: &str = "/connect/stripe/callback";
const STATE_KEY: &str = "connect_state";
const NOTICE_KEY: &str = "connect_notice";
/// How long the merchant has to finish on the gateway's pages.
const STATE_TTL: i64 = 600;
const TAB: &str = "/dashboard/connect";

#[derive(Debug, Serialize, Deserialize)]
struct PendingConnect {
    state: String,
    created_at: i64,
    /// The business it was started for: the callback connects that one or none (the dashboard
    /// may have switched business meanwhile).
    #[serde(default)]
    business_id: String,
}

pub fn redirect_uri(state: &AppState) -> String {
    format!("{}{CALLBACK_PATH}", state.config.public_origin())
}

/// Starts connecting: remembers a fresh state in the session; returns the gateway URL.
pub async fn begin(
    state: &AppState,
    session: &Session,
    merchant: &crate::accounts::Merchant,
    now: i64,
) -> Result<String, AppError> {
    let pending = PendingConnect {
        state: random_token(32),
        created_at: now,
        business_id: merchant.id.clone(),
    };
    let redirect = redirect_uri(state);
    let url = state.payments.connect_url(&ConnectRequest {
        state: &pending.state,
        redirect_uri: &redirect,
        email: &merchant.email,
        business_name: &merchant.business_name,
    });
    session.insert(STATE_KEY, &pending).await?;
    Ok(url)
}

/// The notice left by the last callback, removed as it is read.
pub async fn take_notice(session: &Session) -> Result<Option<Notice>, AppError> {
    Ok(session.remove::<Notice>(NOTICE_KEY).await?)
}

/// Pages a logged-in merchant's browser uses: behind sessions and CSRF.
/// The Connect tab: the connection, its sync, and (with the simulator) its demo customers.
pub async fn view(
    state: &AppState,
    merchant: &str,
    notice: Option<crate::dto::payments::Notice>,
) -> Result<ConnectionView, AppError> {
    use crate::dto::payments::{ConnectionState, DemoCustomer};
    let gateway = &state.payments.gateway;
    let connection = state.payments.connection(merchant).await?;
    let state_of = |c: &crate::db::payments::ConnectionRow| {
        if c.is_active() {
            ConnectionState::Connected
        } else {
            ConnectionState::Revoked
        }
    };
    let demo_customers = match (&state.simulator, &connection) {
        (Some(sim), Some(c)) if c.is_active() => sim
            .accounts()
            .into_iter()
            .find(|a| a.id == c.account_id)
            .map(|a| {
                a.customers
                    .into_iter()
                    .map(|c| DemoCustomer {
                        id: c.id,
                        email: c.email,
                        name: c.name,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => vec![],
    };
    Ok(ConnectionView {
        gateway: gateway.display_name().into(),
        simulated: gateway.simulated(),
        api_version: gateway.api_version().into(),
        state: connection
            .as_ref()
            .map(state_of)
            .unwrap_or(ConnectionState::NotConnected),
        account_id: connection.as_ref().map(|c| c.account_id.clone()),
        business_name: connection.as_ref().and_then(|c| c.business_name.clone()),
        livemode: connection.as_ref().is_some_and(|c| c.livemode),
        connected_at: connection.as_ref().map(|c| c.connected_at),
        revoked_at: connection.as_ref().and_then(|c| c.revoked_at),
        revoked_by: connection.as_ref().and_then(|c| c.revoked_by.clone()),
        last_webhook_at: connection.as_ref().and_then(|c| c.last_webhook_at),
        notice,
        customers: state.db.customer_count(merchant).await?,
        webhook_url: state.config.stripe_webhook_url(),
        demo_customers,
        sync: state.payments.sync_view(connection.as_ref()).await?,
    })
}

pub fn browser_router() -> Router<AppState> {
    Router::new().route(CALLBACK_PATH, get(callback))
}

async fn callback(
    State(state): State<AppState>,
    session: Session,
    axum::Extension(meta): axum::Extension<super::middleware::request_meta::RequestMeta>,
    headers: axum::http::HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let member = match auth_session::member(&session, &state, crate::dto::team::Role::Admin).await {
        Ok(member) => member,
        Err(crate::error::AppError::Unauthenticated) => {
            return Redirect::to("/login?next=%2Fdashboard%2Fconnect").into_response()
        }
        Err(e) => return super::wire::error_response(&headers, e),
    };
    let origin = crate::accounts::Origin::from(super::sso::caller(&meta, &headers));
    // written with the connection, in its transaction
    let audit =
        state
            .accounts
            .audited(member.entry(&origin, "stripe.connected", state.clock.now()));
    let notice = match finish(&state, &session, &member.business_id, &params, audit).await {
        Ok(message) => Notice { ok: true, message },
        Err(message) => Notice { ok: false, message },
    };
    if let Err(e) = session.insert(NOTICE_KEY, &notice).await {
        return super::wire::error_response(&axum::http::HeaderMap::new(), e.into());
    }
    Redirect::to(TAB).into_response()
}

async fn finish(
    state: &AppState,
    session: &Session,
    merchant_id: &str,
    params: &HashMap<String, String>,
    audit: crate::db::account::Audit,
) -> Result<String, String> {
    let name = state.payments.gateway.display_name();
    let now = state.clock.now();
    // consumed whatever happens next: a state works once
    let pending: Option<PendingConnect> = session.remove(STATE_KEY).await.ok().flatten();
    let sent = params.get("state").map(String::as_str).unwrap_or_default();
    let valid = pending.is_some_and(|p| {
        now - p.created_at <= STATE_TTL
            && constant_time_eq(p.state.as_bytes(), sent.as_bytes())
            && p.business_id == merchant_id
    });
    if !valid {
        tracing::warn!(merchant = %merchant_id, "connect callback with an unknown, used or expired state");
        return Err(format!(
            "This {name} connection attempt is invalid or has expired. Press \"Connect with {name}\" to start again."
        ));
    }
    if let Some(error) = params.get("error") {
        return Err(match error.as_str() {
            "access_denied" => {
                format!("You declined to connect your {name} account. Nothing was changed.")
            }
            _ => format!(
                "{name} could not connect your account: {}",
                params
                    .get("error_description")
                    .filter(|d| !d.is_empty())
                    .unwrap_or(error)
                    .chars()
                    .take(300)
                    .collect::<String>()
            ),
        });
    }
    let Some(code) = params.get("code").filter(|c| !c.is_empty()) else {
        return Err(format!(
            "{name} sent no authorization code. Please try again."
        ));
    };
    match state
        .payments
        .complete_connect(merchant_id, code, &redirect_uri(state), now, Some(audit))
        .await
    {
        Ok((account, forgotten)) => Ok(format!(
            "Connected {} ({}).{}",
            account.business_name.as_deref().unwrap_or("your account"),
            account.account_id,
            match forgotten {
                0 => String::new(),
                n => format!(" The {n} customer(s) pushed from the previous account were forgotten: push them again from this account."),
            }
        )),
        Err(GatewayError::OAuth { description, .. }) => {
            Err(format!("{name} refused the connection: {description}"))
        }
        Err(GatewayError::Timeout) => {
            Err(format!("{name} did not answer in time. Please try again."))
        }
        Err(e) => {
            tracing::warn!(merchant = %merchant_id, error = %e, "connect callback failed");
            Err(format!("Could not finish connecting to {name}: {e}"))
        }
    }
}
