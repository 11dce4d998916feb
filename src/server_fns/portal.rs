//! The subscriber portal. These calls know only the subscriber's own portal session (its
//! cookie), never a merchant's session: a subscriber cannot reach the dashboard, and a merchant's
//! session does not open anyone's portal.

use leptos::prelude::*;

use crate::dto::sso::PortalView;
use crate::error::AppError;

#[cfg(feature = "ssr")]
async fn subscriber(
    ctx: &super::ssr::Ctx,
) -> Result<Option<(String, crate::sso::SubscriberSession)>, AppError> {
    let headers: axum::http::HeaderMap = leptos_axum::extract()
        .await
        .map_err(|_| AppError::Internal)?;
    let Some(cookie) = crate::http::sso::portal_cookie(&ctx.state, &headers) else {
        return Ok(None);
    };
    Ok(ctx
        .state
        .sso
        .portal_session(&cookie, ctx.now())
        .await?
        .map(|s| (cookie, s)))
}

/// The portal page's data; `None` when the subscriber is not signed in.
#[server(prefix = "/fn", endpoint = "portal_view", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_portal() -> Result<Option<PortalView>, AppError> {
    use crate::payments::customers::SubscriberId;
    use crate::payments::PaymentsError;
    let ctx = super::ssr::ctx().await?;
    let Some((_, session)) = subscriber(&ctx).await? else {
        return Ok(None);
    };
    let business_name = crate::accounts::merchant(&ctx.state.db, &session.merchant_id)
        .await?
        .map(|m| m.business_name)
        .unwrap_or_default();
    let subscriber = SubscriberId::parse(&session.subscriber_id)?;
    let (email, subscriptions, unavailable) = match ctx
        .state
        .payments
        .subscriptions(&session.merchant_id, &subscriber, false, ctx.now())
        .await
    {
        Ok((customer, rows)) => (
            customer.email,
            rows.iter()
                .map(crate::http::api::views::subscription_view)
                .collect(),
            None,
        ),
        Err(e @ (PaymentsError::NotConnected { .. } | PaymentsError::NotFound(_))) => {
            tracing::info!(error = %e, "portal without subscriptions");
            (
                None,
                vec![],
                Some(format!(
                    "{business_name} cannot show your subscriptions right now. Please contact them."
                )),
            )
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Some(PortalView {
        business_name,
        subscriber_id: session.subscriber_id,
        email,
        subscriptions,
        unavailable,
    }))
}

/// Opens a customer-portal session on the payment gateway; returns its URL (a plain form post
/// is redirected there).
#[server(prefix = "/fn", endpoint = "open_billing")]
pub async fn open_billing(csrf_token: String) -> Result<String, AppError> {
    use crate::payments::customers::{ReturnUrl, SubscriberId};
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let (_, session) = subscriber(&ctx).await?.ok_or_else(|| {
        AppError::Forbidden(
            "Your session has ended: open the portal again from the store's website.".into(),
        )
    })?;
    let return_url = ReturnUrl::parse(&format!("{}/portal", ctx.state.config.public_origin()))?;
    let portal = ctx
        .state
        .payments
        .portal_session(
            &session.merchant_id,
            &SubscriberId::parse(&session.subscriber_id)?,
            &return_url,
            ctx.now(),
        )
        .await?;
    super::ssr::redirect_plain_form_post(&portal.url);
    Ok(portal.url)
}

#[server(prefix = "/fn", endpoint = "portal_logout")]
pub async fn portal_logout(csrf_token: String) -> Result<String, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    if let Some((cookie, _)) = subscriber(&ctx).await? {
        ctx.state.sso.end_portal_session(&cookie).await?;
    }
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(v) = crate::http::sso::portal_cookie_header(&ctx.state, "", 0).parse() {
            response.append_header(axum::http::header::SET_COOKIE, v);
        }
    }
    let to = "/portal";
    super::ssr::redirect_plain_form_post(to);
    Ok(to.into())
}
