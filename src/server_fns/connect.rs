//! The Connect tab: the merchant's payment gateway connection, starting it, and revoking it.

use leptos::prelude::*;

use crate::dto::payments::{ConnectionView, DoctorCheck};
use crate::error::AppError;

#[server(prefix = "/fn", endpoint = "connection_status", input = leptos::server_fn::codec::GetUrl)]
pub async fn connection_status() -> Result<ConnectionView, AppError> {
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let notice = crate::http::connect::take_notice(&ctx.session).await?;
    view(&ctx.state, &merchant, notice).await
}

#[cfg(feature = "ssr")]
async fn view(
    state: &crate::state::AppState,
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
        webhook_url: webhook_url(state),
        demo_customers,
        sync: state.payments.sync_view(connection.as_ref()).await?,
    })
}

/// Returns the gateway's authorize URL (a plain form post is redirected there).
#[server(prefix = "/fn", endpoint = "start_connect")]
pub async fn start_connect(csrf_token: String) -> Result<String, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let url = crate::http::connect::begin(&ctx.state, &ctx.session, &merchant, ctx.now()).await?;
    super::ssr::redirect_plain_form_post(&url);
    Ok(url)
}

#[server(prefix = "/fn", endpoint = "revoke_connection")]
pub async fn revoke_connection(csrf_token: String) -> Result<String, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    ctx.state.payments.disconnect(&merchant, ctx.now()).await?;
    let to = "/dashboard/connect".to_string();
    super::ssr::redirect_plain_form_post(&to);
    Ok(to)
}

/// `subgate doctor` for the merchant: the platform's webhook endpoint and their own account's
/// customer-portal configuration.
#[server(prefix = "/fn", endpoint = "stripe_doctor", input = leptos::server_fn::codec::GetUrl)]
pub async fn stripe_doctor() -> Result<Vec<DoctorCheck>, AppError> {
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let account = ctx
        .state
        .payments
        .active_connection(&merchant)
        .await?
        .account_id;
    let checks = ctx
        .state
        .payments
        .doctor(&webhook_url(&ctx.state), Some(vec![account]))
        .await?;
    Ok(checks.into_iter().map(doctor_check).collect())
}

/// Creates a customer-portal configuration on the merchant's connected account; answers where
/// to go next (the tab, checked again).
#[server(prefix = "/fn", endpoint = "create_portal_configuration")]
pub async fn create_portal_configuration(csrf_token: String) -> Result<String, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let account_id = ctx
        .state
        .payments
        .active_connection(&merchant)
        .await?
        .account_id;
    let fix = crate::payments::doctor::Fix::CreatePortalConfiguration { account_id };
    let done = ctx
        .state
        .payments
        .apply_fix(&fix, &webhook_url(&ctx.state))
        .await?;
    tracing::info!(merchant = %merchant, "{done}");
    let to = "/dashboard/connect".to_string();
    super::ssr::redirect_plain_form_post(&to);
    Ok(to)
}

#[cfg(feature = "ssr")]
fn webhook_url(state: &crate::state::AppState) -> String {
    format!("{}/webhooks/stripe", state.config.public_origin())
}

#[cfg(feature = "ssr")]
fn doctor_check(c: crate::payments::doctor::Check) -> DoctorCheck {
    use crate::payments::doctor::{Fix, Status};
    DoctorCheck {
        id: c.id.into(),
        status: match c.status {
            Status::Ok => "ok",
            Status::Unconfirmed => "unconfirmed",
            Status::Failed => "failed",
        }
        .into(),
        message: c.message,
        fixable: matches!(c.fix, Some(Fix::CreatePortalConfiguration { .. })),
    }
}
