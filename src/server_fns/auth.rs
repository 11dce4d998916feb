//! Sign-up, login, logout and "who am I" for merchants.
//!
//! Every state-changing server function takes `csrf_token`: the browser's server-function
//! client sends the function's arguments (not the raw form), so the token must be one of them
//! for the CSRF layer (`crate::http::middleware::csrf`), which checks it before the function runs, to see it.
//! A function that forgets it fails closed: every call is refused.

use leptos::prelude::*;

use crate::dto::MerchantView;
use crate::error::AppError;

/// Creates the account (throttled per IP) and logs it in; returns where to go next.
#[server(prefix = "/fn", endpoint = "signup")]
pub async fn signup(
    csrf_token: String,
    business_name: String,
    email: String,
    password: String,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let input = crate::accounts::SignUp::parse(&business_name, &email, &password)?;
    let ip = ctx.meta.client_ip.to_string();
    let merchant = ctx.state.accounts.sign_up(&ip, input, ctx.now()).await?;
    crate::http::middleware::auth_session::log_in(&ctx.session, &merchant.id).await?;
    Ok(super::ssr::go(crate::dto::overview::DASHBOARD_HOME))
}

/// Checks the credentials (throttled per IP and per account); returns where to go next.
#[server(prefix = "/fn", endpoint = "login")]
pub async fn login(
    csrf_token: String,
    email: String,
    password: String,
    next: Option<String>,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let ip = ctx.meta.client_ip.to_string();
    let merchant = ctx
        .state
        .accounts
        .log_in(&ip, &email, &password, ctx.now())
        .await?;
    crate::http::middleware::auth_session::log_in(&ctx.session, &merchant.id).await?;
    Ok(super::ssr::go(
        &crate::http::middleware::auth_session::safe_next(next.as_deref()),
    ))
}

#[server(prefix = "/fn", endpoint = "logout")]
pub async fn logout(csrf_token: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    crate::http::middleware::auth_session::log_out(&ctx.session).await?;
    Ok(super::ssr::go("/login"))
}

/// The logged-in merchant, or `None`. A GET: it changes nothing, so it needs no CSRF token.
#[server(prefix = "/fn", endpoint = "current_merchant", input = leptos::server_fn::codec::GetUrl)]
pub async fn current_merchant() -> Result<Option<MerchantView>, AppError> {
    let ctx = super::ssr::ctx().await?;
    match crate::http::middleware::auth_session::merchant_id(&ctx.session).await? {
        Some(id) => Ok(ctx.state.accounts.merchant(&id).await?.map(Into::into)),
        None => Ok(None),
    }
}
