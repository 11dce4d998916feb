//! The Connect tab: the merchant's payment gateway connection, starting it, and revoking it.

use leptos::prelude::*;

use crate::dto::payments::{ConnectionView, DoctorCheck};
#[cfg(feature = "ssr")]
use crate::dto::team::Role;
use crate::error::AppError;

#[server(prefix = "/fn", endpoint = "connection_status", input = leptos::server_fn::codec::GetUrl)]
pub async fn connection_status() -> Result<ConnectionView, AppError> {
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.business_id(Role::Viewer).await?;
    let notice = crate::http::connect::take_notice(&ctx.session).await?;
    crate::http::connect::view(&ctx.state, &merchant, notice).await
}

/// Returns the gateway's authorize URL (a plain form post is redirected there).
#[server(prefix = "/fn", endpoint = "start_connect")]
pub async fn start_connect(csrf_token: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Admin).await?;
    crate::accounts::Accounts::require_verified(&member.account)?;
    let business = ctx.business(&member).await?;
    let url = crate::http::connect::begin(&ctx.state, &ctx.session, &business, ctx.now()).await?;
    Ok(super::ssr::go(&url))
}

/// `confirm`: the connected account's id, as the merchant typed it.
#[server(prefix = "/fn", endpoint = "revoke_connection")]
pub async fn revoke_connection(
    csrf_token: String,
    confirm: Option<String>,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Admin).await?;
    let merchant = member.business_id.clone();
    ctx.require_fresh_login().await?;
    let payments = &ctx.state.payments;
    let audit = ctx.audited(&member, "stripe.revoked", None);
    payments
        .disconnect(&merchant, confirm.as_deref(), ctx.now(), Some(audit))
        .await?;
    Ok(super::ssr::go(TAB))
}

/// `subgate doctor` for the merchant: the platform's webhook endpoint and their own account's
/// customer-portal configuration.
#[server(prefix = "/fn", endpoint = "stripe_doctor", input = leptos::server_fn::codec::GetUrl)]
pub async fn stripe_doctor() -> Result<Vec<DoctorCheck>, AppError> {
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.business_id(Role::Viewer).await?;
    let webhook_url = ctx.state.config.stripe_webhook_url();
    let checks = ctx
        .state
        .payments
        .doctor_for(&merchant, &webhook_url)
        .await?;
    Ok(checks.into_iter().map(doctor_check).collect())
}

/// Creates a customer-portal configuration on the merchant's connected account; answers where
/// to go next (the tab, checked again).
#[server(prefix = "/fn", endpoint = "create_portal_configuration")]
pub async fn create_portal_configuration(csrf_token: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Admin).await?;
    ctx.state
        .payments
        .create_portal_configuration(&member.business_id)
        .await?;
    // the change is on Stripe's side: the line follows it
    ctx.audit(
        &member,
        "stripe.doctor_fixed",
        Some("customer portal configuration".into()),
    )
    .await?;
    Ok(super::ssr::go(TAB))
}

#[cfg(feature = "ssr")]
const TAB: &str = "/dashboard/connect";

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
