//! The SSO tab: turn single sign-on on and off, rotate and reveal the secret, the settings,
//! the hash tester and the login log. Every call is the logged-in merchant's own.

use leptos::prelude::*;

use crate::dto::sso::{HashTest, RevealedSecrets, SsoView};
#[cfg(feature = "ssr")]
use crate::dto::team::Role;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::http::api::views;

/// How many log entries the tab shows.
pub const LOG_ROWS: i64 = 50;

#[server(prefix = "/fn", endpoint = "sso_status", input = leptos::server_fn::codec::GetUrl)]
pub async fn sso_status() -> Result<SsoView, AppError> {
    let ctx = super::ssr::ctx().await?;
    let member = ctx.member(Role::Viewer).await?;
    let (settings, logins) = ctx
        .state
        .sso
        .overview(&member.business_id, LOG_ROWS)
        .await?;
    let origin = ctx.state.config.public_origin();
    Ok(SsoView {
        your_role: member.role,
        ..views::sso_view(settings.as_ref(), logins, &origin, ctx.now())
    })
}

#[cfg(feature = "ssr")]
const TAB: &str = "/dashboard/sso";

#[server(prefix = "/fn", endpoint = "enable_sso")]
pub async fn enable_sso(csrf_token: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Admin).await?;
    crate::accounts::Accounts::require_verified(&member.account)?;
    let sso = &ctx.state.sso;
    let audit = ctx.audited(&member, "sso.enabled", None);
    sso.enable(
        &member.business_id,
        &member.business_name,
        ctx.now(),
        Some(audit),
    )
    .await?;
    Ok(super::ssr::go(TAB))
}

/// `confirm`: the store's name, as the merchant typed it.
#[server(prefix = "/fn", endpoint = "disable_sso")]
pub async fn disable_sso(csrf_token: String, confirm: Option<String>) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Admin).await?;
    let merchant = member.business_id.clone();
    let sso = &ctx.state.sso;
    let audit = ctx.audited(&member, "sso.disabled", None);
    sso.disable(&merchant, confirm.as_deref(), ctx.now(), Some(audit))
        .await?;
    Ok(super::ssr::go(TAB))
}

#[server(prefix = "/fn", endpoint = "rotate_sso_secret")]
pub async fn rotate_sso_secret(
    csrf_token: String,
    overlap_hours: String,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Admin).await?;
    let merchant = member.business_id.clone();
    ctx.require_fresh_login().await?;
    let overlap = crate::sso::OverlapHours::parse(&overlap_hours)?;
    let audit = ctx.audited(&member, "sso.secret_rotated", None);
    ctx.state
        .sso
        .rotate(&merchant, overlap, ctx.now(), Some(audit))
        .await?;
    Ok(super::ssr::go(TAB))
}

/// An unchecked checkbox is not sent at all; a checked one sends "on".
#[server(prefix = "/fn", endpoint = "save_sso_settings")]
pub async fn save_sso_settings(
    csrf_token: String,
    link_ttl_secs: String,
    bind_ip: Option<String>,
    require_signed_timestamps: Option<String>,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.business_id(Role::Developer).await?;
    let options = crate::sso::SsoOptions {
        link_ttl: crate::sso::LinkTtl::parse(&link_ttl_secs)?,
        bind_ip: bind_ip.is_some(),
        require_signed_timestamps: require_signed_timestamps.is_some(),
    };
    ctx.state
        .sso
        .update_options(&merchant, options, ctx.now())
        .await?;
    Ok(super::ssr::go(TAB))
}

/// The secrets in the clear, on request (they are never part of the page itself).
#[server(prefix = "/fn", endpoint = "reveal_sso_secrets")]
pub async fn reveal_sso_secrets(csrf_token: String) -> Result<RevealedSecrets, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Admin).await?;
    let merchant = member.business_id.clone();
    ctx.require_fresh_login().await?;
    let secrets = ctx.state.sso.reveal(&merchant, ctx.now()).await?;
    ctx.audit(&member, "sso.secret_revealed", None).await?;
    Ok(views::revealed_view(secrets))
}

/// The `customer_hash` the current secret gives for `subscriber_id`, and the login call as curl.
#[server(prefix = "/fn", endpoint = "test_sso_hash")]
pub async fn test_sso_hash(
    csrf_token: String,
    subscriber_id: String,
) -> Result<HashTest, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.business_id(Role::Developer).await?;
    let subscriber = crate::payments::customers::SubscriberId::parse(subscriber_id.trim())?;
    let tried = ctx
        .state
        .sso
        .hash_for(&merchant, &subscriber, ctx.now())
        .await?;
    Ok(hash_test(&ctx.state.config.public_origin(), tried))
}

/// The tester's answer, with the store's login call as curl. The subscriber id is the
/// merchant's own data: `o'brien';id;'` must stay one shell word.
#[cfg(feature = "ssr")]
fn hash_test(origin: &str, tried: crate::sso::HashFor) -> HashTest {
    let url = crate::http::sso::endpoint_template(origin, &tried.store).replace(
        "{subscriber_id}",
        &crate::http::wire::path_segment(&tried.subscriber_id),
    );
    let curl = format!(
        "curl -X POST {} \\\n  -H 'Content-Type: application/json' \\\n  -d '{{\"customer_hash\": \"{}\"}}'",
        crate::ui::components::shell_quote(&url),
        tried.customer_hash
    );
    HashTest {
        subscriber_id: tried.subscriber_id,
        customer_hash: tried.customer_hash,
        curl,
    }
}

/// The portal's branding as the merchant set it.
#[server(prefix = "/fn", endpoint = "portal_branding", input = leptos::server_fn::codec::GetUrl)]
pub async fn portal_branding() -> Result<crate::dto::sso::PortalBranding, AppError> {
    let ctx = super::ssr::ctx().await?;
    let branding = ctx
        .state
        .portal
        .branding(&ctx.business_id(Role::Viewer).await?)
        .await?;
    Ok(crate::http::api::views::branding_view(branding))
}

/// Saves the portal's "back to store" URL, support email, accent colour and logo (blank
/// clears).
#[server(prefix = "/fn", endpoint = "save_portal_branding")]
pub async fn save_portal_branding(
    csrf_token: String,
    store_url: Option<String>,
    support_email: Option<String>,
    accent: Option<String>,
    logo_url: Option<String>,
) -> Result<crate::dto::sso::PortalBranding, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.business_id(Role::Developer).await?;
    let input = crate::portal::BrandingInput {
        store_url: store_url.as_deref(),
        support_email: support_email.as_deref(),
        accent: accent.as_deref(),
        logo_url: logo_url.as_deref(),
    };
    let saved = ctx
        .state
        .portal
        .save_branding(&merchant, input, ctx.now())
        .await?;
    Ok(crate::http::api::views::branding_view(saved))
}
