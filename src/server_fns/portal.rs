//! The subscriber portal. These calls know only the subscriber's own portal session (its
//! cookie), never a merchant's session: a subscriber cannot reach the dashboard, and a merchant's
//! session does not open anyone's portal.

use leptos::prelude::*;

use crate::dto::sso::PortalView;
use crate::error::AppError;

/// The portal page's data; `None` when the subscriber is not signed in.
#[server(prefix = "/fn", endpoint = "portal_view", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_portal() -> Result<Option<PortalView>, AppError> {
    let ctx = super::ssr::ctx().await?;
    let cookie = ctx.portal_cookie();
    let page = ctx.state.portal.page(cookie.as_deref(), ctx.now()).await?;
    Ok(page.map(crate::http::api::views::portal_view))
}

/// The store a signed-out portal page belongs to, by its public slug (`/portal?store=…`, where
/// signing out leads): its name and branding; `None` for an unknown slug.
#[server(prefix = "/fn", endpoint = "portal_store", input = leptos::server_fn::codec::GetUrl)]
pub async fn portal_store(
    store: Option<String>,
) -> Result<Option<crate::dto::sso::StoreView>, AppError> {
    let ctx = super::ssr::ctx().await?;
    let Some(store) = store else {
        return Ok(None);
    };
    let face = ctx.state.portal.face_of_store(&store).await?;
    Ok(face.map(crate::http::api::views::store_view))
}

/// Opens a customer-portal session on the payment gateway; returns its URL (a plain form post
/// is redirected there).
#[server(prefix = "/fn", endpoint = "open_billing")]
pub async fn open_billing(csrf_token: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let cookie = ctx.portal_cookie();
    let billing = ctx
        .state
        .portal
        .billing(cookie.as_deref(), ctx.now())
        .await?;
    Ok(super::ssr::go(&billing.url))
}

/// Ends the portal session and its cookie.
#[server(prefix = "/fn", endpoint = "portal_logout")]
pub async fn portal_logout(csrf_token: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let store = ctx
        .state
        .portal
        .sign_out(ctx.portal_cookie().as_deref(), ctx.now())
        .await?;
    super::ssr::set_cookie(crate::http::sso::portal_cookie_header(&ctx.state, "", 0));
    // the signed-out page still shows whose store this was (the slug is public: it is in the
    // store's login URL)
    Ok(super::ssr::go(&match store {
        Some(store) => format!("/portal?store={}", crate::dto::url::query_component(&store)),
        None => "/portal".to_string(),
    }))
}
