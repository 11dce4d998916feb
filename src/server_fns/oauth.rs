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

#[server(prefix = "/fn", endpoint = "oauth_endpoints", input = leptos::server_fn::codec::GetUrl)]
pub async fn oauth_endpoints() -> Result<OAuthEndpoints, AppError> {
    let ctx = super::ssr::ctx().await?;
    Ok(crate::http::oauth::endpoints(&ctx.state.config))
}

#[server(prefix = "/fn", endpoint = "list_clients", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_clients() -> Result<Vec<ClientView>, AppError> {
    let ctx = super::ssr::ctx().await?;
    let clients = ctx.state.clients.list(&ctx.merchant_id().await?).await?;
    Ok(clients.into_iter().map(view).collect())
}

#[server(prefix = "/fn", endpoint = "get_client", input = leptos::server_fn::codec::GetUrl)]
pub async fn get_client(client_id: String) -> Result<ClientView, AppError> {
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    Ok(view(ctx.state.clients.get(&merchant, &client_id).await?))
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
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.merchant_id().await?;
    let input = ctx
        .state
        .clients
        .parse(&crate::oauth::clients::ClientForm {
            name,
            client_type,
            redirect_uris,
            scopes,
            audiences,
            access_token_ttl,
            allowed_origins,
        })?;
    let (client, secret) = ctx
        .state
        .clients
        .create(&merchant, input, ctx.now())
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
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.merchant_id().await?;
    let input = ctx
        .state
        .clients
        .parse(&crate::oauth::clients::ClientForm {
            name,
            client_type,
            redirect_uris,
            scopes,
            audiences,
            access_token_ttl,
            allowed_origins,
        })?;
    let client = ctx
        .state
        .clients
        .update(&merchant, &client_id, input, ctx.now())
        .await?;
    Ok(view(client))
}

#[server(prefix = "/fn", endpoint = "delete_client")]
pub async fn delete_client(csrf_token: String, client_id: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.merchant_id().await?;
    ctx.state.clients.delete(&merchant, &client_id).await?;
    Ok(super::ssr::go("/dashboard/oauth"))
}

#[server(prefix = "/fn", endpoint = "regenerate_secret")]
pub async fn regenerate_secret(csrf_token: String, client_id: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.merchant_id().await?;
    let secret = ctx
        .state
        .clients
        .regenerate_secret(&merchant, &client_id, ctx.now())
        .await?;
    Ok(secret.0)
}
