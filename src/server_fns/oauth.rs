//! The OAuth tab: register, list, edit, delete clients, and re-key confidential ones.

// A server function takes its form's fields as flat arguments (the form posts them by name),
// and the client stub `#[server]` generates for the browser does not keep an item's `allow`.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::dto::{ClientView, IssuedClient, OAuthEndpoints};
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn view(c: crate::oauth::clients::Client) -> ClientView {
    ClientView {
        id: c.id,
        name: c.name,
        client_type: c.client_type.as_str().to_string(),
        redirect_uris: c.redirect_uris,
        scopes: c.scopes.to_string(),
        audiences: c.audiences,
        access_token_ttl: c.access_token_ttl,
        allowed_origins: c.allowed_origins,
        created_at: c.created_at,
    }
}

#[cfg(feature = "ssr")]
fn lines(raw: &str) -> Vec<String> {
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// The register and edit forms' fields, parsed into a valid client: `redirect_uris`,
/// `audiences` and `allowed_origins` one per line, `scopes` space-separated; the last two fields
/// are optional for older forms and scripts.
#[cfg(feature = "ssr")]
fn parse_input(
    ctx: &super::ssr::Ctx,
    [name, client_type, redirect_uris, scopes, audiences]: [&str; 5],
    access_token_ttl: Option<&str>,
    allowed_origins: Option<&str>,
) -> Result<crate::oauth::clients::ClientInput, AppError> {
    crate::oauth::clients::ClientInput::parse(
        name,
        client_type,
        &lines(redirect_uris),
        scopes,
        &lines(audiences),
        &ctx.state.config.api_audiences(),
    )?
    .with_access_token_ttl(access_token_ttl.unwrap_or_default())?
    .with_allowed_origins(&lines(allowed_origins.unwrap_or_default()))
    .map_err(AppError::from)
}

#[server(prefix = "/fn", endpoint = "oauth_endpoints", input = leptos::server_fn::codec::GetUrl)]
pub async fn oauth_endpoints() -> Result<OAuthEndpoints, AppError> {
    let ctx = super::ssr::ctx().await?;
    let base = ctx.state.config.public_origin();
    Ok(OAuthEndpoints {
        authorize_url: format!("{base}/o/authorize/"),
        token_url: format!("{base}/o/token/"),
        api_audience: ctx.state.config.api_audience(),
        api_audiences: ctx.state.config.api_audiences(),
        playground_redirect_uri: format!("{base}/dashboard/oauth/playground"),
        issuer: base,
    })
}

#[server(prefix = "/fn", endpoint = "list_clients", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_clients() -> Result<Vec<ClientView>, AppError> {
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    Ok(crate::oauth::clients::list(&ctx.state.db, &merchant)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

#[server(prefix = "/fn", endpoint = "get_client", input = leptos::server_fn::codec::GetUrl)]
pub async fn get_client(client_id: String) -> Result<ClientView, AppError> {
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    Ok(view(
        crate::oauth::clients::get(&ctx.state.db, &merchant, &client_id).await?,
    ))
}

/// `redirect_uris`, `audiences` and `allowed_origins` are one per line; `scopes` space-separated;
/// `access_token_ttl` in seconds (empty: an hour).
#[server(prefix = "/fn", endpoint = "create_client")]
pub async fn create_client(
    csrf_token: String,
    name: String,
    client_type: String,
    redirect_uris: String,
    scopes: String,
    audiences: String,
    access_token_ttl: Option<String>,
    allowed_origins: Option<String>,
) -> Result<IssuedClient, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let input = parse_input(
        &ctx,
        [&name, &client_type, &redirect_uris, &scopes, &audiences],
        access_token_ttl.as_deref(),
        allowed_origins.as_deref(),
    )?;
    let (client, secret) = crate::oauth::clients::create(
        &ctx.state.db,
        &ctx.state.client_secrets,
        &merchant,
        input,
        ctx.now(),
    )
    .await?;
    Ok(IssuedClient {
        client: view(client),
        secret: secret.map(|s| s.0),
    })
}

#[server(prefix = "/fn", endpoint = "update_client")]
pub async fn update_client(
    csrf_token: String,
    client_id: String,
    name: String,
    client_type: String,
    redirect_uris: String,
    scopes: String,
    audiences: String,
    access_token_ttl: Option<String>,
    allowed_origins: Option<String>,
) -> Result<ClientView, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let input = parse_input(
        &ctx,
        [&name, &client_type, &redirect_uris, &scopes, &audiences],
        access_token_ttl.as_deref(),
        allowed_origins.as_deref(),
    )?;
    Ok(view(
        crate::oauth::clients::update(&ctx.state.db, &merchant, &client_id, input, ctx.now())
            .await?,
    ))
}

#[server(prefix = "/fn", endpoint = "delete_client")]
pub async fn delete_client(csrf_token: String, client_id: String) -> Result<String, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    crate::oauth::clients::delete(&ctx.state.db, &merchant, &client_id).await?;
    let to = "/dashboard/oauth".to_string();
    super::ssr::redirect_plain_form_post(&to);
    Ok(to)
}

#[server(prefix = "/fn", endpoint = "regenerate_secret")]
pub async fn regenerate_secret(csrf_token: String, client_id: String) -> Result<String, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let secret = crate::oauth::clients::regenerate_secret(
        &ctx.state.db,
        &ctx.state.client_secrets,
        &merchant,
        &client_id,
        ctx.now(),
    )
    .await?;
    Ok(secret.0)
}
