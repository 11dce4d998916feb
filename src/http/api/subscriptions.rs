//! Subscriptions: a customer's (`/api/customers/{id}/subscriptions`), one by id
//! (`/api/subscriptions/{id}`), and the same read at Riverty's path
//! (`/subscription/v1/clients/{client_id}/subscriptions/{id}`). Read from the mirror, or from
//! Stripe first with `?refresh=true`.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::subscription_view;
use super::{ApiCaller, ApiError};
use crate::dto::payments::{SubscriptionList, SubscriptionStatus, SubscriptionView};
use crate::error::AppError;
use crate::http::docs::bodies::{CallerErrors, ErrorBody, GatewayErrors};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::payments::customers::SubscriberId;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(customer_subscriptions))
        .routes(routes!(subscription))
        .routes(routes!(riverty_subscription))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubscriptionsQuery {
    /// Pull from Stripe before answering (slower; webhooks keep the mirror fresh anyway).
    refresh: Option<bool>,
    /// `all` (the default) or one status.
    #[param(
        pattern = "^(all|incomplete|incomplete_expired|trialing|active|past_due|canceled|unpaid|paused)$",
        example = "active"
    )]
    status: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/customers/{subscriber_id}/subscriptions",
    tag = "subscriptions",
    params(("subscriber_id" = String, Path, description = "Your own id for the user, as pushed.", example = "user-42"), SubscriptionsQuery),
    responses(
        (status = 200, description = "The customer's subscriptions, canceled ones included unless filtered.", body = SubscriptionList),
        (status = 400, description = "The path does not decode.", body = ErrorBody),
        (status = 404, description = "No such customer (for this merchant).", body = ErrorBody),
        (status = 422, description = "A field breaks a rule; the message names it.", body = ErrorBody),
        CallerErrors,
        GatewayErrors,
    ),
    security(("oauth2" = ["subscriptions:read"]), ("session" = [])),
)]
pub(crate) async fn customer_subscriptions(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(subscriber_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<SubscriptionsQuery>,
) -> Result<Json<SubscriptionList>, ApiError> {
    caller.require("subscriptions:read")?;
    let subscriber = SubscriberId::parse(&subscriber_id)?;
    let only = match q.status.as_deref() {
        None | Some("all") => None,
        Some(raw) => match SubscriptionStatus::parse(raw) {
            SubscriptionStatus::Unknown => {
                return Err(AppError::validation(
                    "status: all, active, trialing, past_due, canceled, unpaid, paused, incomplete or incomplete_expired.",
                )
                .into())
            }
            known => Some(known),
        },
    };
    let (customer, rows) = state
        .payments
        .subscriptions(
            &caller.merchant_id,
            &subscriber,
            q.refresh.unwrap_or(false),
            state.clock.now(),
        )
        .await?;
    Ok(Json(SubscriptionList {
        subscriber_id: customer.subscriber_id,
        customer_id: customer.customer_id,
        data: rows
            .iter()
            .filter(|r| only.is_none_or(|s| r.subscription.status == s))
            .map(subscription_view)
            .collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshQuery {
    /// Pull from Stripe before answering.
    refresh: Option<bool>,
}

#[utoipa::path(
    get,
    path = "/api/subscriptions/{subscription_id}",
    tag = "subscriptions",
    params(("subscription_id" = String, Path, description = "Stripe's subscription id.", example = "sub_1MowQVLkdIwHu7ixeRlqHVzs"), RefreshQuery),
    responses(
        (status = 200, description = "The subscription.", body = SubscriptionView),
        (status = 400, description = "The path does not decode.", body = ErrorBody),
        (status = 404, description = "No such subscription among your customers' (for this merchant).", body = ErrorBody),
        (status = 422, description = "A field breaks a rule; the message names it.", body = ErrorBody),
        CallerErrors,
        GatewayErrors,
    ),
    security(("oauth2" = ["subscriptions:read"]), ("session" = [])),
)]
pub(crate) async fn subscription(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(subscription_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RefreshQuery>,
) -> Result<Json<SubscriptionView>, ApiError> {
    caller.require("subscriptions:read")?;
    let row = state
        .payments
        .subscription(
            &caller.merchant_id,
            &subscription_id,
            q.refresh.unwrap_or(false),
            state.clock.now(),
        )
        .await?;
    Ok(Json(subscription_view(&row)))
}

/// Riverty's path for the same read; the client in the path must be the token's own.
#[utoipa::path(
    get,
    path = "/subscription/v1/clients/{client_id}/subscriptions/{subscription_id}",
    tag = "subscriptions",
    params(("client_id" = String, Path, description = "The OAuth client the bearer token was issued to."), ("subscription_id" = String, Path, description = "Stripe's subscription id.", example = "sub_1MowQVLkdIwHu7ixeRlqHVzs"), RefreshQuery),
    responses(
        (status = 200, description = "The subscription (Riverty-compatible path).", body = SubscriptionView),
        (status = 400, description = "The path does not decode.", body = ErrorBody),
        (status = 404, description = "No such subscription among your customers'.", body = ErrorBody),
        (status = 422, description = "A field breaks a rule; the message names it.", body = ErrorBody),
        CallerErrors,
        GatewayErrors,
    ),
    security(("oauth2" = ["subscriptions:read"]), ("session" = [])),
)]
pub(crate) async fn riverty_subscription(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((client_id, subscription_id)): ApiPath<(String, String)>,
    query: ApiQuery<RefreshQuery>,
) -> Result<Json<SubscriptionView>, ApiError> {
    if caller.client_id.as_deref() != Some(client_id.as_str()) {
        return Err(AppError::Forbidden(
            "client_id in the path must be the client the access token was issued to.".into(),
        )
        .into());
    }
    subscription(State(state), caller, ApiPath(subscription_id), query).await
}
