//! `GET /api/me`: whose credentials these are.

use axum::extract::State;
use axum::Json;
use serde_json::json;

use super::{ApiCaller, ApiError, Via};
use crate::error::AppError;
use crate::state::AppState;

/// Who the credentials belong to: the merchant, the OAuth client (for a bearer token) and the
/// scopes.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "meta",
    responses(
        (status = 200, description = "The caller.", body = crate::http::docs::bodies::MeDoc),
        (status = 401, description = "No, or an invalid, bearer token or session.", body = crate::http::docs::bodies::ErrorBody),
    ),
    security(("oauth2" = []), ("session" = [])),
)]
pub(crate) async fn me(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let merchant = state
        .accounts
        .merchant(&caller.merchant_id)
        .await
        .map_err(AppError::from)?
        .ok_or_else(AppError::not_found)?;
    let client = match &caller.client_id {
        Some(id) => state
            .clients
            .get(&caller.merchant_id, id)
            .await
            .ok()
            .map(|c| json!({ "id": c.id, "name": c.name, "type": c.client_type })),
        None => None,
    };
    Ok(Json(json!({
        "merchant": { "id": merchant.id, "business_name": merchant.business_name },
        "client": client,
        "scope": caller.scopes.to_string(),
        "via": match caller.via { Via::Bearer => "bearer", Via::Session => "session" },
    })))
}
