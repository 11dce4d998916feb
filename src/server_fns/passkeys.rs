//! Passkeys: each ceremony is two calls, made by `public/auth.js` (the browser's WebAuthn API
//! sits between them). `*_start` answers the options for `navigator.credentials.create` or
//! `.get` and keeps the challenge in the session; `*_finish` takes the browser's answer (JSON)
//! and uses the challenge up, whatever the outcome. Both are CSRF-checked like every form.

use leptos::prelude::*;

use crate::error::AppError;

#[cfg(feature = "ssr")]
mod keys {
    pub const REGISTRATION: &str = "passkey_registration";
    pub const LOGIN: &str = "passkey_login";
    pub const CHECK: &str = "passkey_check";
}

#[cfg(feature = "ssr")]
fn options<T: serde::Serialize>(options: &T) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(options).map_err(|e| {
        tracing::error!(error = %e, "passkey options do not serialise");
        AppError::Internal
    })
}

/// The pending ceremony `key` of this session, taken out: an answer is checked once.
#[cfg(feature = "ssr")]
async fn take<T: serde::de::DeserializeOwned + serde::Serialize>(
    ctx: &super::ssr::Ctx,
    key: &str,
) -> Result<crate::accounts::passkeys::Pending<T>, AppError> {
    ctx.session
        .remove(key)
        .await?
        .ok_or_else(|| crate::accounts::passkeys::expired().into())
}

/// Starts adding a passkey to the logged-in account. Needs a login (or a confirmation) from the
/// last five minutes: a passkey is a new way in, so a session left open is not enough to add one.
#[server(prefix = "/fn", endpoint = "passkey_register_start")]
pub async fn passkey_register_start(csrf_token: String) -> Result<serde_json::Value, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let account = ctx.account().await?;
    ctx.require_fresh_login().await?;
    let (challenge, pending) = ctx
        .state
        .accounts
        .begin_passkey_registration(&account, ctx.now())
        .await?;
    ctx.session.insert(keys::REGISTRATION, pending).await?;
    options(&challenge)
}

/// Finishes adding a passkey with the browser's answer; `name` names it in the list.
#[server(prefix = "/fn", endpoint = "passkey_register_finish")]
pub async fn passkey_register_finish(
    csrf_token: String,
    credential: String,
    name: String,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let account = ctx.account().await?;
    let pending = take(&ctx, keys::REGISTRATION).await?;
    ctx.state
        .accounts
        .finish_passkey_registration(
            &account,
            pending,
            &credential,
            &name,
            &ctx.origin(),
            ctx.now(),
        )
        .await?;
    Ok(super::ssr::go(&format!(
        "{}?notice=passkey_added",
        crate::dto::account::ACCOUNT_TAB
    )))
}

/// Starts a password-less login: the browser offers the passkeys it holds for this site.
#[server(prefix = "/fn", endpoint = "passkey_login_start")]
pub async fn passkey_login_start(csrf_token: String) -> Result<serde_json::Value, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let (challenge, pending) = ctx
        .state
        .accounts
        .begin_passkey_login(&ctx.origin(), ctx.now())
        .await?;
    ctx.session.insert(keys::LOGIN, pending).await?;
    options(&challenge)
}

/// Finishes a password-less login: logged in as the passkey's account (no second factor: the
/// passkey's user verification is one); answers where to go next.
#[server(prefix = "/fn", endpoint = "passkey_login_finish")]
pub async fn passkey_login_finish(
    csrf_token: String,
    credential: String,
    next: Option<String>,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let pending = take(&ctx, keys::LOGIN).await?;
    let account = ctx
        .state
        .accounts
        .finish_passkey_login(&ctx.origin(), pending, &credential, ctx.now())
        .await?;
    ctx.log_in(&account.id).await?;
    let next = crate::http::middleware::auth_session::safe_next(next.as_deref());
    Ok(super::ssr::go(&next))
}

/// Who a passkey check is for: the account logged in on this session (to confirm it is you), or
/// the login waiting for its second factor.
#[cfg(feature = "ssr")]
async fn checked_account(ctx: &super::ssr::Ctx) -> Result<(String, Option<String>), AppError> {
    use crate::http::middleware::auth_session;
    if let Some(id) = auth_session::merchant_id(&ctx.session).await? {
        return Ok((id, None));
    }
    let pending = auth_session::pending_sign_in(&ctx.session, ctx.now())
        .await?
        .ok_or_else(|| {
            AppError::validation("This login has expired: log in with your password again.")
        })?;
    Ok((pending.merchant_id, Some(pending.next)))
}

/// Starts a check with the account's own passkeys: at login's second step, or to confirm it is
/// you on the Account tab.
#[server(prefix = "/fn", endpoint = "passkey_check_start")]
pub async fn passkey_check_start(csrf_token: String) -> Result<serde_json::Value, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let (account, _) = checked_account(&ctx).await?;
    let (challenge, pending) = ctx
        .state
        .accounts
        .begin_passkey_check(&account, ctx.now())
        .await?;
    ctx.session.insert(keys::CHECK, pending).await?;
    options(&challenge)
}

/// Finishes the check: the waiting login is done, or the logged-in account is confirmed for
/// five minutes. Answers where to go next.
#[server(prefix = "/fn", endpoint = "passkey_check_finish")]
pub async fn passkey_check_finish(
    csrf_token: String,
    credential: String,
) -> Result<String, AppError> {
    use crate::accounts::passkeys::Check;
    use crate::http::middleware::auth_session;
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let (account, login) = checked_account(&ctx).await?;
    let pending = take(&ctx, keys::CHECK).await?;
    let purpose = if login.is_some() {
        Check::SignIn
    } else {
        Check::Reauthenticate
    };
    ctx.state
        .accounts
        .finish_passkey_check(
            &account,
            pending,
            &credential,
            purpose,
            &ctx.origin(),
            ctx.now(),
        )
        .await?;
    match login {
        Some(next) => {
            ctx.log_in(&account).await?;
            Ok(super::ssr::go(&next))
        }
        None => {
            auth_session::reauthenticated(&ctx.session, ctx.now()).await?;
            Ok(super::ssr::go(&format!(
                "{}?notice=confirmed",
                crate::dto::account::ACCOUNT_TAB
            )))
        }
    }
}

/// Removes one of the account's passkeys (needs a login from the last five minutes).
#[server(prefix = "/fn", endpoint = "remove_passkey")]
pub async fn remove_passkey(csrf_token: String, id: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let account = ctx.account().await?;
    ctx.require_fresh_login().await?;
    ctx.state
        .accounts
        .remove_passkey(&account, &id, &ctx.origin(), ctx.now())
        .await?;
    Ok(super::ssr::go(&format!(
        "{}?notice=passkey_removed",
        crate::dto::account::ACCOUNT_TAB
    )))
}
