//! The Connect tab: the merchant's payment gateway connection, starting it, and revoking it.

use leptos::prelude::*;

use crate::dto::payments::ConnectionView;
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
        webhook_url: format!("{}/webhooks/stripe", state.config.public_origin()),
        demo_customers,
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
