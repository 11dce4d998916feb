//! The OAuth tab: register, list, edit, delete clients, and re-key confidential ones.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::dto::team::Role;
use crate::dto::{ClientForm, ClientView, IssuedClient, OAuthEndpoints};
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn view(c: crate::oauth::clients::Client, now: i64) -> ClientView {
    ClientView {
        previous_secret_until: c.previous_secret_until(now),
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
    let clients = ctx
        .state
        .clients
        .list(&ctx.business_id(Role::Viewer).await?)
        .await?;
    let now = ctx.now();
    Ok(clients.into_iter().map(|c| view(c, now)).collect())
}

#[server(prefix = "/fn", endpoint = "get_client", input = leptos::server_fn::codec::GetUrl)]
pub async fn get_client(client_id: String) -> Result<ClientView, AppError> {
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.business_id(Role::Viewer).await?;
    let client = ctx.state.clients.get(&merchant, &client_id).await?;
    Ok(view(client, ctx.now()))
}

/// The form's fields are posted by name ([`ClientForm`], flattened).
#[server(prefix = "/fn", endpoint = "create_client")]
pub async fn create_client(
    csrf_token: String,
    #[server(flatten)] form: ClientForm,
) -> Result<IssuedClient, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Developer).await?;
    let merchant = member.business_id.clone();
    let input = ctx.state.clients.parse(&form)?;
    let (client, secret) = ctx
        .state
        .clients
        .create(
            &merchant,
            input,
            ctx.now(),
            Some(ctx.audited(&member, "client.created", None)),
        )
        .await?;
    let secret = secret.map(|s| s.0);
    Ok(IssuedClient {
        client: view(client, ctx.now()),
        secret,
    })
}

#[server(prefix = "/fn", endpoint = "update_client")]
pub async fn update_client(
    csrf_token: String,
    client_id: String,
    #[server(flatten)] form: ClientForm,
) -> Result<ClientView, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.business_id(Role::Developer).await?;
    let input = ctx.state.clients.parse(&form)?;
    let client = ctx
        .state
        .clients
        .update(&merchant, &client_id, input, ctx.now());
    Ok(view(client.await?, ctx.now()))
}

#[server(prefix = "/fn", endpoint = "delete_client")]
pub async fn delete_client(csrf_token: String, client_id: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Developer).await?;
    let merchant = member.business_id.clone();
    let audit = ctx.audited(&member, "client.deleted", Some(client_id.clone()));
    ctx.state
        .clients
        .delete(&merchant, &client_id, Some(audit))
        .await?;
    Ok(super::ssr::go("/dashboard/oauth"))
}

/// A new secret, returned this once; `overlap_hours` (0 to 168, blank 0) is how long the
/// replaced one keeps working.
#[server(prefix = "/fn", endpoint = "regenerate_secret")]
pub async fn regenerate_secret(
    csrf_token: String,
    client_id: String,
    overlap_hours: Option<String>,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Developer).await?;
    let merchant = member.business_id.clone();
    ctx.require_fresh_login().await?;
    let overlap = crate::oauth::clients::SecretOverlap::from_hours(overlap_hours.as_deref())?;
    let clients = &ctx.state.clients;
    let audit = ctx.audited(
        &member,
        "client.secret_regenerated",
        Some(client_id.clone()),
    );
    let secret = clients
        .regenerate_secret(&merchant, &client_id, overlap, ctx.now(), Some(audit))
        .await?;
    Ok(secret.0)
}

/// Stops the replaced secret now, before its overlap ends.
#[server(prefix = "/fn", endpoint = "end_secret_overlap")]
pub async fn end_secret_overlap(csrf_token: String, client_id: String) -> Result<(), AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.business_id(Role::Developer).await?;
    let clients = &ctx.state.clients;
    Ok(clients.end_secret_overlap(&merchant, &client_id).await?)
}
