//! The dashboard's overview.

use leptos::prelude::*;

use crate::dto::overview::OverviewView;
#[cfg(feature = "ssr")]
use crate::dto::team::Role;
use crate::error::AppError;

#[server(prefix = "/fn", endpoint = "overview", input = leptos::server_fn::codec::GetUrl)]
pub async fn overview() -> Result<OverviewView, AppError> {
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.business_id(Role::Viewer).await?;
    crate::http::overview::view(&ctx.state, &merchant, ctx.now()).await
}

/// On a test-mode account: links a demo customer in one click; goes to their page.
#[server(prefix = "/fn", endpoint = "push_demo_customer")]
pub async fn push_demo_customer(csrf_token: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.business_id(Role::Developer).await?;
    let payments = &ctx.state.payments;
    let subscriber = payments.push_demo_customer(&merchant, ctx.now()).await?;
    let page = crate::dto::payments::customer_page(subscriber.as_str());
    Ok(super::ssr::go(&page))
}
