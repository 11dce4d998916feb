//! Customers: push (with `Idempotency-Key`), list a page at a time, read, forget, and open a
//! Stripe customer-portal session. Thin: parse, check the caller's scope, call
//! `crate::payments`, shape the answer with [`super::views`]. Every call is scoped to the
//! caller's merchant.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::customer_view;
use super::{ApiCaller, ApiError};
use crate::crypto::sha256_hex;
use crate::db::payments::{Reservation, StoredResponse, Upserted, IN_PROGRESS};
use crate::dto::payments::{
    CustomerPage, CustomerView, PortalSessionRequest, PortalSessionView, PushCustomer,
};
use crate::error::AppError;
use crate::http::docs::bodies::{BodyErrors, CallerErrors, ErrorBody, GatewayErrors};
use crate::http::extract::{json_body, ApiJson, ApiPath, ApiQuery};
use crate::payments::customers::{parse_email, CustomerId, ReturnUrl, SubscriberId};
use crate::state::AppState;

pub const DEFAULT_PAGE: i64 = 20;
pub const MAX_PAGE: i64 = 100;
const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The routes with their OpenAPI operations, registered together (paths and methods come from
/// each handler's `#[utoipa::path]`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(push_customer, list_customers))
        .routes(routes!(get_customer, delete_customer))
        .routes(routes!(portal_session))
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// customers

/// `POST /api/customers`: 201 when the subscriber is new, 200 when it was updated. An
/// `Idempotency-Key` replays the first answer for the same body and refuses another body.
#[utoipa::path(
    post,
    path = "/api/customers",
    tag = "customers",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same body (kept 7 days); another body with the same key is refused with 422, and a request while the first with its key is still running with 409.")),
    request_body(content = PushCustomer, content_type = "application/json"),
    responses(
        (status = 201, description = "Linked a new subscriber.", body = CustomerView, headers(("Location" = String, description = "The customer's URL."))),
        (status = 200, description = "Updated the existing subscriber (or replayed an idempotent answer).", body = CustomerView),
        (status = 404, description = "No such customer on the connected Stripe account.", body = ErrorBody),
        CallerErrors,
        BodyErrors,
        GatewayErrors,
    ),
    security(("oauth2" = ["customers:write"]), ("session" = [])),
)]
pub(crate) async fn push_customer(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require("customers:write")?;
    let key = idempotency_key(&headers)?;
    let request_hash = sha256_hex(&body);
    let now = state.clock.now();
    let merchant = caller.merchant_id.as_str();
    // reserved before the work, so a concurrent duplicate cannot do it a second time
    if let Some(key) = &key {
        if let Reservation::Taken(stored) = state
            .db
            .reserve_idempotency_key(merchant, key, &request_hash, now)
            .await?
        {
            return replay(stored, &request_hash);
        }
    }
    let pushed = push_customer_now(&state, merchant, &headers, &body, now).await;
    let (status, view, body) = match (pushed, &key) {
        (Ok(done), _) => done,
        (Err(e), Some(key)) => {
            state.db.release_idempotency_key(merchant, key).await?;
            return Err(e);
        }
        (Err(e), None) => return Err(e),
    };
    if let Some(key) = &key {
        let stored = StoredResponse {
            request_hash,
            status: status.as_u16(),
            body: body.clone(),
        };
        state.db.store_response(merchant, key, &stored).await?;
    }
    let mut res = json_response(status, body);
    if let Ok(location) = HeaderValue::from_str(&view.url) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    Ok(res)
}

async fn push_customer_now(
    state: &AppState,
    merchant: &str,
    headers: &HeaderMap,
    body: &Bytes,
    now: i64,
) -> Result<(StatusCode, CustomerView, String), ApiError> {
    let input: PushCustomer = json_body(headers, body)?;
    let subscriber = SubscriberId::parse(&input.subscriber_id)?;
    let customer = CustomerId::parse(&input.customer_id)?;
    let email = parse_email(input.email.as_deref())?;
    let (row, outcome) = state
        .payments
        .push_customer(merchant, &subscriber, &customer, email, now)
        .await?;
    let status = match outcome {
        Upserted::Created => StatusCode::CREATED,
        Upserted::Updated => StatusCode::OK,
    };
    let view = customer_view(&row);
    let body = serde_json::to_string(&view).map_err(|_| AppError::Internal)?;
    Ok((status, view, body))
}

/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(value) = headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            AppError::BadRequest("Idempotency-Key: 1 to 255 visible ASCII characters.".into())
        })?;
    Ok(Some(key.to_string()))
}

fn replay(stored: StoredResponse, request_hash: &str) -> Result<Response, ApiError> {
    if !crate::crypto::constant_time_eq(stored.request_hash.as_bytes(), request_hash.as_bytes()) {
        return Err(AppError::validation(
            "This Idempotency-Key was already used with a different request body.",
        )
        .into());
    }
    if stored.status == IN_PROGRESS {
        return Err(AppError::Conflict(
            "A request with this Idempotency-Key is still in progress: retry in a moment.".into(),
        )
        .into());
    }
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut res = json_response(status, stored.body);
    res.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(res)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, example = 20)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /api/customers`: a page at a time, ordered by subscriber id.
#[utoipa::path(
    get,
    path = "/api/customers",
    tag = "customers",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of customers, ordered by subscriber id.", body = CustomerPage),
        (status = 400, description = "The cursor is not one this API issued.", body = ErrorBody),
        (status = 422, description = "A field breaks a rule; the message names it.", body = ErrorBody),
        CallerErrors,
    ),
    security(("oauth2" = ["customers:read"]), ("session" = [])),
)]
pub(crate) async fn list_customers(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<CustomerPage>, ApiError> {
    caller.require("customers:read")?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::validation(format!("limit: 1 to {MAX_PAGE}.")).into());
    }
    let after = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(decode_cursor(c)?),
    };
    let (rows, has_more) = state
        .payments
        .customers_page(&caller.merchant_id, after.as_deref(), limit)
        .await?;
    let next_cursor = has_more
        .then(|| rows.last().map(|c| B64.encode(&c.subscriber_id)))
        .flatten();
    Ok(Json(CustomerPage {
        next: next_cursor
            .as_ref()
            .map(|c| format!("/api/customers?limit={limit}&cursor={c}")),
        next_cursor,
        has_more,
        data: rows.iter().map(customer_view).collect(),
    }))
}

fn decode_cursor(cursor: &str) -> Result<String, AppError> {
    B64.decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            AppError::BadRequest("cursor: use the next_cursor of a previous page.".into())
        })
}

#[utoipa::path(
    get,
    path = "/api/customers/{subscriber_id}",
    tag = "customers",
    params(("subscriber_id" = String, Path, description = "Your own id for the user, as pushed.", example = "user-42")),
    responses(
        (status = 200, description = "The customer.", body = CustomerView),
        (status = 400, description = "The path does not decode.", body = ErrorBody),
        (status = 404, description = "No such customer (for this merchant).", body = ErrorBody),
        (status = 422, description = "A field breaks a rule; the message names it.", body = ErrorBody),
        CallerErrors,
    ),
    security(("oauth2" = ["customers:read"]), ("session" = [])),
)]
pub(crate) async fn get_customer(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(subscriber_id): ApiPath<String>,
) -> Result<Json<CustomerView>, ApiError> {
    caller.require("customers:read")?;
    let subscriber = SubscriberId::parse(&subscriber_id)?;
    let row = state
        .payments
        .customer(&caller.merchant_id, &subscriber)
        .await?;
    Ok(Json(customer_view(&row)))
}

#[utoipa::path(
    delete,
    path = "/api/customers/{subscriber_id}",
    tag = "customers",
    params(("subscriber_id" = String, Path, description = "Your own id for the user, as pushed.", example = "user-42")),
    responses(
        (status = 204, description = "Unlinked; its mirrored subscriptions are gone too. Nothing changes on Stripe."),
        (status = 400, description = "The path does not decode.", body = ErrorBody),
        (status = 404, description = "No such customer (for this merchant).", body = ErrorBody),
        (status = 422, description = "A field breaks a rule; the message names it.", body = ErrorBody),
        CallerErrors,
    ),
    security(("oauth2" = ["customers:write"]), ("session" = [])),
)]
pub(crate) async fn delete_customer(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(subscriber_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require("customers:write")?;
    let subscriber = SubscriberId::parse(&subscriber_id)?;
    state
        .payments
        .delete_customer(&caller.merchant_id, &subscriber)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/customers/{subscriber_id}/portal-session",
    tag = "customers",
    params(("subscriber_id" = String, Path, description = "Your own id for the user, as pushed.", example = "user-42")),
    request_body(content = PortalSessionRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "A Stripe customer-portal session: send the customer's browser to `url`.", body = PortalSessionView),
        (status = 404, description = "No such customer (for this merchant).", body = ErrorBody),
        CallerErrors,
        BodyErrors,
        GatewayErrors,
    ),
    security(("oauth2" = ["portal:write"]), ("session" = [])),
)]
pub(crate) async fn portal_session(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(subscriber_id): ApiPath<String>,
    ApiJson(input): ApiJson<PortalSessionRequest>,
) -> Result<(StatusCode, Json<PortalSessionView>), ApiError> {
    caller.require("portal:write")?;
    let subscriber = SubscriberId::parse(&subscriber_id)?;
    let return_url = ReturnUrl::parse(&input.return_url)?;
    let session = state
        .payments
        .portal_session(
            &caller.merchant_id,
            &subscriber,
            &return_url,
            state.clock.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(PortalSessionView {
            url: session.url,
            expires_at: session.expires_at,
        }),
    ))
}
