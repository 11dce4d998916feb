//! The Customers tab: the merchant's customers as their backend pushed them, one customer's
//! mirrored subscriptions, pulling them fresh from the gateway, opening the gateway's customer
//! portal and subgate's own portal as them, and forgetting them.

use leptos::prelude::*;

use crate::dto::payments::{CustomerDetail, CustomerList};
#[cfg(feature = "ssr")]
use crate::dto::team::Role;
use crate::error::AppError;

/// A page of customers: `search` is part of a subscriber id, email or customer id, `status` a
/// subscription status (or `cancelling`, `none`), `after` the cursor of the page before.
#[server(prefix = "/fn", endpoint = "list_customers", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_customers(
    search: Option<String>,
    status: Option<String>,
    after: Option<String>,
) -> Result<CustomerList, AppError> {
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.business_id(Role::Viewer).await?;
    let filter = crate::db::payments::CustomerFilter::from_form(search, status);
    let payments = &ctx.state.payments;
    let list = payments
        .customer_list(&merchant, &filter, after.as_deref(), PAGE)
        .await?;
    Ok(crate::http::api::views::customer_list_view(list))
}

/// One customer and their subscriptions as last mirrored.
#[server(prefix = "/fn", endpoint = "get_customer", input = leptos::server_fn::codec::GetUrl)]
pub async fn get_customer(subscriber_id: String) -> Result<CustomerDetail, AppError> {
    let ctx = super::ssr::ctx().await?;
    let (merchant, subscriber) = (ctx.business_id(Role::Viewer).await?, parse(&subscriber_id)?);
    let payments = &ctx.state.payments;
    let (customer, subscriptions) = payments.customer_detail(&merchant, &subscriber).await?;
    Ok(crate::http::api::views::customer_detail_view(
        &customer,
        &subscriptions,
    ))
}

/// Pulls the customer's subscriptions from the gateway now; back to the customer's page.
#[server(prefix = "/fn", endpoint = "refresh_customer")]
pub async fn refresh_customer(
    csrf_token: String,
    subscriber_id: String,
) -> Result<String, AppError> {
    let (ctx, merchant, subscriber) = acting_on(csrf_token, &subscriber_id).await?;
    let payments = &ctx.state.payments;
    payments
        .subscriptions(&merchant, &subscriber, true, ctx.now())
        .await?;
    let page = crate::dto::payments::customer_page(subscriber.as_str());
    Ok(super::ssr::go(&page))
}

/// Opens the gateway's customer portal for this customer, as the merchant (the portal's
/// "return" link leads back to the customer's page).
#[server(prefix = "/fn", endpoint = "open_customer_portal")]
pub async fn open_customer_portal(
    csrf_token: String,
    subscriber_id: String,
) -> Result<String, AppError> {
    let (ctx, merchant, subscriber) = acting_on(csrf_token, &subscriber_id).await?;
    let back = crate::http::customer_page_url(&ctx.state, &subscriber)?;
    let payments = &ctx.state.payments;
    let session = payments
        .portal_session(&merchant, &subscriber, &back, ctx.now())
        .await?;
    Ok(super::ssr::go(&session.url))
}

/// Opens subgate's own subscriber portal as this subscriber (through a one-time SSO link), so
/// the merchant sees what they see.
#[server(prefix = "/fn", endpoint = "preview_portal")]
pub async fn preview_portal(csrf_token: String, subscriber_id: String) -> Result<String, AppError> {
    let (ctx, merchant, subscriber) = acting_on(csrf_token, &subscriber_id).await?;
    let sso = &ctx.state.sso;
    let link = sso
        .preview(&merchant, &subscriber, &ctx.caller(), ctx.now())
        .await?;
    Ok(super::ssr::go(&crate::http::sso::link_url(
        &ctx.state,
        &link.token,
    )))
}

/// `confirm`: the subscriber id, as the merchant typed it. Back to the list.
#[server(prefix = "/fn", endpoint = "forget_customer")]
pub async fn forget_customer(
    csrf_token: String,
    subscriber_id: String,
    confirm: Option<String>,
) -> Result<String, AppError> {
    let (ctx, merchant, subscriber) = acting_on(csrf_token, &subscriber_id).await?;
    let payments = &ctx.state.payments;
    payments
        .forget_customer(&merchant, &subscriber, confirm.as_deref())
        .await?;
    Ok(super::ssr::go(crate::dto::payments::CUSTOMERS_TAB))
}

/// Customers per page of the list.
#[cfg(feature = "ssr")]
const PAGE: i64 = 25;

#[cfg(feature = "ssr")]
use crate::payments::customers::SubscriberId;

#[cfg(feature = "ssr")]
fn parse(subscriber_id: &str) -> Result<SubscriberId, AppError> {
    Ok(SubscriberId::parse(subscriber_id)?)
}

/// A state-changing call's context, the logged-in merchant and the customer it acts on.
#[cfg(feature = "ssr")]
async fn acting_on(
    csrf_token: String,
    subscriber_id: &str,
) -> Result<(super::ssr::Ctx, String, SubscriberId), AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let merchant = ctx.business_id(Role::Developer).await?;
    Ok((ctx, merchant, parse(subscriber_id)?))
}
