//! Sign-up, login, logout and "who am I" for merchants.
//!
//! Every state-changing server function takes `csrf_token`: the browser's server-function
//! client sends the function's arguments (not the raw form), so the token must be one of them
//! for the CSRF layer (`crate::http::middleware::csrf`), which checks it before the function runs, to see it.
//! A function that forgets it fails closed: every call is refused.

use leptos::prelude::*;

use crate::dto::MerchantView;
use crate::error::AppError;

/// Creates the account (throttled per IP) and logs it in; returns where to go next (`next`, on
/// this site: an invitation link, say; the dashboard otherwise).
#[server(prefix = "/fn", endpoint = "signup")]
pub async fn signup(
    csrf_token: String,
    business_name: String,
    email: String,
    password: String,
    next: Option<String>,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let input = crate::accounts::SignUp::parse(&business_name, &email, &password)?;
    let merchant = ctx
        .state
        .accounts
        .sign_up(&ctx.origin(), input, ctx.now())
        .await?;
    ctx.log_in(&merchant.id).await?;
    let next = crate::http::middleware::auth_session::safe_next(next.as_deref());
    Ok(super::ssr::go(&next))
}

/// Checks the credentials (throttled per IP and per account); returns where to go next.
#[server(prefix = "/fn", endpoint = "login")]
pub async fn login(
    csrf_token: String,
    email: String,
    password: String,
    next: Option<String>,
) -> Result<String, AppError> {
    use crate::accounts::SignIn;
    use crate::http::middleware::auth_session::{self, PendingSignIn};
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let next = auth_session::safe_next(next.as_deref());
    match ctx
        .state
        .accounts
        .log_in(&ctx.origin(), &email, &password, ctx.now())
        .await?
    {
        SignIn::Done(merchant) => {
            ctx.log_in(&merchant.id).await?;
            Ok(super::ssr::go(&next))
        }
        SignIn::SecondFactor(merchant) => {
            let pending = PendingSignIn {
                merchant_id: merchant.id,
                at: ctx.now(),
                next,
            };
            auth_session::await_second_factor(&ctx.session, pending).await?;
            Ok(super::ssr::go(TWO_FACTOR_PAGE))
        }
    }
}

/// Where a login whose password was right asks for the code.
pub const TWO_FACTOR_PAGE: &str = "/login/two-factor";

/// The login's second step: the authenticator app's code, or a recovery code.
#[server(prefix = "/fn", endpoint = "login_two_factor")]
pub async fn login_two_factor(csrf_token: String, code: String) -> Result<String, AppError> {
    use crate::http::middleware::auth_session;
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let pending = auth_session::pending_sign_in(&ctx.session, ctx.now())
        .await?
        .ok_or_else(|| {
            AppError::validation("This login has expired: log in with your password again.")
        })?;
    let merchant = ctx
        .state
        .accounts
        .second_factor(&ctx.origin(), &pending.merchant_id, &code, ctx.now())
        .await?;
    ctx.log_in(&merchant.id).await?;
    Ok(super::ssr::go(&pending.next))
}

#[server(prefix = "/fn", endpoint = "logout")]
pub async fn logout(csrf_token: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    crate::http::middleware::auth_session::log_out(&ctx.session).await?;
    Ok(super::ssr::go("/login"))
}

/// The business the dashboard shows (`id`, `business_name`) and the logged-in account's
/// address and role there, or `None` when nobody is logged in. A GET: it changes nothing, so it
/// needs no CSRF token.
#[server(prefix = "/fn", endpoint = "current_merchant", input = leptos::server_fn::codec::GetUrl)]
pub async fn current_merchant() -> Result<Option<MerchantView>, AppError> {
    let ctx = super::ssr::ctx().await?;
    if crate::http::middleware::auth_session::merchant_id(&ctx.session)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    let member = match ctx.member(crate::dto::team::Role::Viewer).await {
        Ok(member) => member,
        Err(AppError::Unauthenticated) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(MerchantView {
        id: member.business_id,
        business_name: member.business_name,
        email: member.account.email,
        email_verified: member.account.email_verified,
        role: member.role,
    }))
}
