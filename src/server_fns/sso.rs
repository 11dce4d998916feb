//! The SSO tab: turn single sign-on on and off, rotate and reveal the secret, the settings,
//! the hash tester and the login log. Every call is the logged-in merchant's own.

use leptos::prelude::*;

use crate::dto::sso::{HashTest, RevealedSecrets, SsoView};
use crate::error::AppError;

/// How many log entries the tab shows.
pub const LOG_ROWS: i64 = 50;

#[server(prefix = "/fn", endpoint = "sso_status", input = leptos::server_fn::codec::GetUrl)]
pub async fn sso_status() -> Result<SsoView, AppError> {
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let settings = ctx.state.sso.settings(&merchant).await?;
    let logins = ctx.state.sso.log(&merchant, LOG_ROWS).await?;
    let origin = ctx.state.config.public_origin();
    Ok(crate::http::api::views::sso_view(
        settings.as_ref(),
        logins,
        &origin,
        ctx.now(),
    ))
}

#[cfg(feature = "ssr")]
const TAB: &str = "/dashboard/sso";

#[server(prefix = "/fn", endpoint = "enable_sso")]
pub async fn enable_sso(csrf_token: String) -> Result<String, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let business = crate::accounts::merchant(&ctx.state.db, &merchant)
        .await?
        .ok_or(AppError::Unauthenticated)?
        .business_name;
    ctx.state
        .sso
        .enable(&merchant, &business, ctx.now())
        .await?;
    super::ssr::redirect_plain_form_post(TAB);
    Ok(TAB.into())
}

#[server(prefix = "/fn", endpoint = "disable_sso")]
pub async fn disable_sso(csrf_token: String) -> Result<String, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    ctx.state.sso.disable(&merchant, ctx.now()).await?;
    super::ssr::redirect_plain_form_post(TAB);
    Ok(TAB.into())
}

#[server(prefix = "/fn", endpoint = "rotate_sso_secret")]
pub async fn rotate_sso_secret(
    csrf_token: String,
    overlap_hours: String,
) -> Result<String, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let hours = overlap_hours.trim().parse::<i64>().map_err(|_| {
        AppError::validation(format!(
            "Overlap: a whole number of hours, 0 to {}.",
            crate::sso::MAX_OVERLAP_HOURS
        ))
    })?;
    ctx.state.sso.rotate(&merchant, hours, ctx.now()).await?;
    super::ssr::redirect_plain_form_post(TAB);
    Ok(TAB.into())
}

#[server(prefix = "/fn", endpoint = "save_sso_settings")]
pub async fn save_sso_settings(
    csrf_token: String,
    link_ttl_secs: String,
    bind_ip: Option<String>,
    require_signed_timestamps: Option<String>,
) -> Result<String, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let ttl = link_ttl_secs.trim().parse::<i64>().map_err(|_| {
        AppError::validation(format!(
            "Link lifetime: a whole number of seconds, {} to {}.",
            crate::sso::MIN_LINK_TTL_SECS,
            crate::sso::MAX_LINK_TTL_SECS
        ))
    })?;
    // an unchecked checkbox is not sent at all; a checked one sends "on"
    ctx.state
        .sso
        .update_options(
            &merchant,
            ttl,
            bind_ip.is_some(),
            require_signed_timestamps.is_some(),
            ctx.now(),
        )
        .await?;
    super::ssr::redirect_plain_form_post(TAB);
    Ok(TAB.into())
}

/// The secrets in the clear, on request (they are never part of the page itself).
#[server(prefix = "/fn", endpoint = "reveal_sso_secrets")]
pub async fn reveal_sso_secrets(csrf_token: String) -> Result<RevealedSecrets, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let secrets = ctx.state.sso.reveal(&merchant, ctx.now()).await?;
    Ok(RevealedSecrets {
        current: secrets.current.expose().to_string(),
        previous: secrets.previous.map(|p| p.expose().to_string()),
    })
}

/// The `customer_hash` the current secret gives for `subscriber_id`, and the login call as curl.
#[server(prefix = "/fn", endpoint = "test_sso_hash")]
pub async fn test_sso_hash(
    csrf_token: String,
    subscriber_id: String,
) -> Result<HashTest, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let subscriber = crate::payments::customers::SubscriberId::parse(subscriber_id.trim())?;
    let secrets = ctx.state.sso.reveal(&merchant, ctx.now()).await?;
    let hash = secrets.current.customer_hash(subscriber.as_str());
    let url =
        crate::http::sso::endpoint_template(&ctx.state.config.public_origin(), &secrets.store)
            .replace(
                "{subscriber_id}",
                &crate::http::wire::path_segment(subscriber.as_str()),
            );
    // the subscriber id is the merchant's own data: `o'brien';id;'` must stay one word
    let curl = format!(
        "curl -X POST {} \\\n  -H 'Content-Type: application/json' \\\n  -d '{{\"customer_hash\": \"{hash}\"}}'",
        crate::ui::components::shell_quote(&url)
    );
    Ok(HashTest {
        subscriber_id: subscriber.as_str().to_string(),
        customer_hash: hash,
        curl,
    })
}
