//! The API tab: the catalog of operations (from the server's own OpenAPI document, so the tab
//! never drifts from the API) and fresh tokens for "Copy as curl".

use leptos::prelude::*;

use crate::dto::explorer::ApiCatalog;
#[cfg(feature = "ssr")]
use crate::dto::team::Role;
use crate::error::AppError;

#[server(prefix = "/fn", endpoint = "api_catalog", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_api_catalog() -> Result<ApiCatalog, AppError> {
    let ctx = super::ssr::ctx().await?;
    let clients = ctx
        .state
        .clients
        .list(&ctx.business_id(Role::Viewer).await?)
        .await?;
    Ok(crate::http::docs::catalog::catalog(
        &ctx.state.config,
        &clients,
    ))
}

/// A fresh access token (client credentials, this server's API audience) from one of the
/// merchant's own confidential clients, for "Copy as curl". The client's secret is never
/// needed nor shown: the merchant is already authenticated by their session.
#[server(prefix = "/fn", endpoint = "explorer_token")]
pub async fn explorer_token(csrf_token: String, client_id: String) -> Result<String, AppError> {
    use crate::oauth::grants::client_credentials::exchange;
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.business_id(Role::Developer).await?;
    let client = ctx.state.clients.get(&merchant, &client_id).await?;
    // the client's default audience: every one it may have is one the API answers to
    let issued = exchange(&ctx.state.tokens, &client, None, None, ctx.now()).await;
    Ok(issued
        .map_err(|e| AppError::validation(e.description()))?
        .access_token)
}
