//! The account: verification, password reset and change, email change, sessions and the audit
//! log. The mailed links' pages call these with the token from their address.

use leptos::prelude::*;

use crate::dto::account::AccountView;
#[cfg(feature = "ssr")]
use crate::dto::account::{AuditView, SessionView, ACCOUNT_TAB};
use crate::error::AppError;

/// How many audit lines the tab shows (the CSV has the rest).
#[cfg(feature = "ssr")]
const AUDIT_PAGE: i64 = 100;

/// The same sentence whether or not an account has this address.
pub const RESET_REQUESTED: &str = "If an account uses this address, we have sent it a link to choose a new password. It works for 30 minutes.";

#[server(prefix = "/fn", endpoint = "account", input = leptos::server_fn::codec::GetUrl)]
pub async fn account(action: Option<String>) -> Result<AccountView, AppError> {
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.account().await?;
    let now = ctx.now();
    let this = crate::http::middleware::auth_session::handle(&ctx.session).await?;
    let accounts = &ctx.state.accounts;
    let sessions = accounts
        .sessions(&merchant.id, now)
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: this.as_deref() == Some(s.handle.as_str()),
            handle: s.handle,
            ip: s.ip.unwrap_or_default(),
            user_agent: s.user_agent.unwrap_or_default(),
            created_at: s.created_at,
            last_seen: s.last_seen,
        })
        .collect();
    let action_filter = action
        .filter(|a| {
            crate::dto::account::AUDIT_FILTERS
                .iter()
                .any(|(p, _)| p == a)
        })
        .unwrap_or_default();
    // the log of the business the dashboard shows, for its admins and owners
    let member = ctx.member(crate::dto::team::Role::Viewer).await?;
    let audit = if member.role >= crate::dto::team::Role::Admin {
        accounts
            .audit_log(&member.business_id, &action_filter, i64::MAX, AUDIT_PAGE)
            .await?
    } else {
        Vec::new()
    };
    let audit = audit
        .into_iter()
        .map(|r| AuditView {
            at: r.at,
            action: r.action,
            actor: r.actor,
            role: r.role,
            target: r.target,
            ip: r.ip,
            user_agent: r.user_agent,
        })
        .collect();
    let two_factor = two_factor_view(&ctx, &merchant).await?;
    let passkeys = crate::dto::account::PasskeysView {
        origin: accounts.passkey_origin().map_err(String::from),
        list: accounts
            .passkeys(&merchant.id)
            .await?
            .into_iter()
            .map(|p| crate::dto::account::PasskeyView {
                id: p.id,
                name: p.name,
                created_at: p.created_at,
                last_used_at: p.last_used_at,
            })
            .collect(),
    };
    Ok(AccountView {
        merchant: crate::dto::MerchantView {
            role: member.role,
            ..merchant.into()
        },
        sessions,
        audit,
        action_filter,
        two_factor,
        passkeys,
    })
}

#[cfg(feature = "ssr")]
const TOTP_PENDING: &str = "totp_pending";
#[cfg(feature = "ssr")]
const FRESH_CODES: &str = "fresh_recovery_codes";

#[cfg(feature = "ssr")]
async fn two_factor_view(
    ctx: &super::ssr::Ctx,
    merchant: &crate::accounts::Merchant,
) -> Result<crate::dto::account::TwoFactorView, AppError> {
    use base64::Engine;
    let accounts = &ctx.state.accounts;
    let pending = ctx.session.get::<String>(TOTP_PENDING).await?;
    let setup = pending
        .filter(|_| !merchant.two_factor)
        .and_then(|p| accounts.totp_setup(merchant, &p))
        .map(|s| crate::dto::account::TotpSetupView {
            qr: format!(
                "data:image/svg+xml;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(s.qr_svg)
            ),
            secret: s.secret,
            url: s.url,
        });
    // shown once: taken out of the session as this page is made
    let fresh_codes = ctx
        .session
        .remove::<Vec<String>>(FRESH_CODES)
        .await?
        .unwrap_or_default();
    Ok(crate::dto::account::TwoFactorView {
        on: merchant.two_factor,
        recovery_codes_left: accounts.recovery_codes_left(&merchant.id).await?,
        setup,
        fresh_codes,
    })
}

/// Starts the two-factor setup (with the password): the tab then shows the QR code.
#[server(prefix = "/fn", endpoint = "begin_two_factor")]
pub async fn begin_two_factor(
    csrf_token: String,
    current_password: String,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.account().await?;
    let pending = ctx
        .state
        .accounts
        .begin_totp(&merchant, &current_password, &ctx.origin(), ctx.now())
        .await?;
    ctx.session.insert(TOTP_PENDING, pending).await?;
    Ok(super::ssr::go(&format!("{ACCOUNT_TAB}?notice=totp_scan")))
}

/// Confirms the setup with a code from the app; the recovery codes are shown next, once.
#[server(prefix = "/fn", endpoint = "enable_two_factor")]
pub async fn enable_two_factor(csrf_token: String, code: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.account().await?;
    let pending = ctx
        .session
        .get::<String>(TOTP_PENDING)
        .await?
        .ok_or_else(|| AppError::validation("Start the setup again: enter your password first."))?;
    let codes = ctx
        .state
        .accounts
        .enable_totp(&merchant, &pending, &code, &ctx.origin(), ctx.now())
        .await?;
    ctx.session.remove::<String>(TOTP_PENDING).await?;
    ctx.session.insert(FRESH_CODES, codes).await?;
    Ok(super::ssr::go(&format!("{ACCOUNT_TAB}?notice=totp_on")))
}

#[server(prefix = "/fn", endpoint = "disable_two_factor")]
pub async fn disable_two_factor(
    csrf_token: String,
    current_password: String,
    code: String,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.account().await?;
    ctx.state
        .accounts
        .disable_totp(
            &merchant,
            &current_password,
            &code,
            &ctx.origin(),
            ctx.now(),
        )
        .await?;
    Ok(super::ssr::go(&format!("{ACCOUNT_TAB}?notice=totp_off")))
}

#[server(prefix = "/fn", endpoint = "resend_verification")]
pub async fn resend_verification(csrf_token: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.account().await?;
    ctx.state
        .accounts
        .resend_verification(&merchant, ctx.now())
        .await?;
    Ok(super::ssr::go(&format!("{ACCOUNT_TAB}?notice=resent")))
}

/// Uses the verification link's token; answers where to go next.
#[server(prefix = "/fn", endpoint = "verify_email")]
pub async fn verify_email(csrf_token: String, token: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let verified = ctx
        .state
        .accounts
        .verify_email(&token, &ctx.origin(), ctx.now())
        .await?;
    let logged_in = crate::http::middleware::auth_session::merchant_id(&ctx.session).await?;
    Ok(super::ssr::go(
        if logged_in.as_deref() == Some(verified.as_str()) {
            "/dashboard/account?notice=verified"
        } else {
            "/login?verified=1"
        },
    ))
}

/// Always the same answer (the page then says `RESET_REQUESTED`), whether or not the address has
/// an account.
#[server(prefix = "/fn", endpoint = "forgot_password")]
pub async fn forgot_password(csrf_token: String, email: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    ctx.state
        .accounts
        .request_password_reset(&ctx.origin(), &email, ctx.now())
        .await?;
    Ok(super::ssr::go("/forgot-password?sent=1"))
}

/// Uses the reset link's token: the new password; every session of the account ends.
#[server(prefix = "/fn", endpoint = "reset_password")]
pub async fn reset_password(
    csrf_token: String,
    token: String,
    password: String,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    ctx.state
        .accounts
        .reset_password(&token, &password, &ctx.origin(), ctx.now())
        .await?;
    // this browser too starts over: it logs in with the new password
    crate::http::middleware::auth_session::log_out(&ctx.session).await?;
    Ok(super::ssr::go("/login?reset=1"))
}

#[server(prefix = "/fn", endpoint = "change_password")]
pub async fn change_password(
    csrf_token: String,
    current_password: String,
    new_password: String,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.account().await?;
    let this = crate::http::middleware::auth_session::handle(&ctx.session).await?;
    ctx.state
        .accounts
        .change_password(
            &merchant,
            this.as_deref(),
            &current_password,
            &new_password,
            &ctx.origin(),
            ctx.now(),
        )
        .await?;
    Ok(super::ssr::go(&format!(
        "{ACCOUNT_TAB}?notice=password_changed"
    )))
}

#[server(prefix = "/fn", endpoint = "change_email")]
pub async fn change_email(
    csrf_token: String,
    current_password: String,
    new_email: String,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.account().await?;
    ctx.state
        .accounts
        .request_email_change(
            &merchant,
            &current_password,
            &new_email,
            &ctx.origin(),
            ctx.now(),
        )
        .await?;
    Ok(super::ssr::go(&format!(
        "{ACCOUNT_TAB}?notice=email_requested"
    )))
}

/// Uses the email-change link's token.
#[server(prefix = "/fn", endpoint = "confirm_email")]
pub async fn confirm_email(csrf_token: String, token: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    ctx.state
        .accounts
        .confirm_email_change(&token, &ctx.origin(), ctx.now())
        .await?;
    let logged_in = crate::http::middleware::auth_session::merchant_id(&ctx.session).await?;
    Ok(super::ssr::go(if logged_in.is_some() {
        "/dashboard/account?notice=email_changed"
    } else {
        "/login?email_changed=1"
    }))
}

/// "Confirm it is you": the password again, so that sensitive actions work for five minutes.
#[server(prefix = "/fn", endpoint = "confirm_identity")]
pub async fn confirm_identity(csrf_token: String, password: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.account().await?;
    ctx.state
        .accounts
        .reauthenticate(&merchant, &password, &ctx.origin(), ctx.now())
        .await?;
    crate::http::middleware::auth_session::reauthenticated(&ctx.session, ctx.now()).await?;
    Ok(super::ssr::go(&format!("{ACCOUNT_TAB}?notice=confirmed")))
}

/// Ends one session of the account (`handle`), or, without one, every session but this.
#[server(prefix = "/fn", endpoint = "end_sessions")]
pub async fn end_sessions(csrf_token: String, handle: Option<String>) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.account().await?;
    let this = crate::http::middleware::auth_session::handle(&ctx.session).await?;
    let handle = handle.filter(|h| !h.is_empty());
    if handle.is_some() && handle == this {
        return Err(AppError::validation(
            "This is the session you are using: log out instead.",
        ));
    }
    let ended = ctx
        .state
        .accounts
        .end_sessions(
            &merchant,
            handle.as_deref(),
            this.as_deref(),
            &ctx.origin(),
            ctx.now(),
        )
        .await?;
    if handle.is_some() && ended == 0 {
        return Err(AppError::NotFound(
            "No such session: it has already ended.".into(),
        ));
    }
    Ok(super::ssr::go(ACCOUNT_TAB))
}
