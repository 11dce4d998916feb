//! `POST /webhooks/stripe`: the payment gateway's events. No cookies, no CSRF: the signature is
//! the authentication. A bad delivery gets 400 (never 500); a stored one always 2xx, so the
//! gateway does not retry it forever; only a failure to store it answers 503 (retry later).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

use crate::error::AppError;
use crate::payments::gateway::WebhookError;
use crate::payments::{ReceiveError, Received};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/stripe", post(receive))
}

async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let now = state.clock.now();
    // a header that is not visible ASCII counts as missing
    let signature = headers
        .get(state.payments.webhook_signature_header())
        .and_then(|v| v.to_str().ok());
    match state.payments.receive_webhook(signature, &body, now).await {
        Ok(Received::Stored { id, event_type }) => (
            StatusCode::OK,
            Json(json!({ "received": true, "id": id, "type": event_type })),
        )
            .into_response(),
        Ok(Received::Duplicate(id)) => (
            StatusCode::OK,
            Json(json!({ "received": true, "id": id, "duplicate": true })),
        )
            .into_response(),
        Err(ReceiveError::Rejected(e)) => {
            tracing::warn!(error = %e, "webhook refused");
            let (code, message) = match e {
                WebhookError::MissingSignature => (
                    "invalid_signature",
                    "The Stripe-Signature header is missing or malformed.".to_string(),
                ),
                WebhookError::BadSignature => (
                    "invalid_signature",
                    "No signature matches a configured webhook secret.".to_string(),
                ),
                WebhookError::Stale => (
                    "stale_signature",
                    "The signature's timestamp is more than 300 seconds from now.".to_string(),
                ),
                WebhookError::Malformed(m) => ("malformed_event", format!("Malformed event: {m}")),
            };
            (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": code, "message": message })),
            )
                .into_response()
        }
        Err(ReceiveError::Store(e)) => {
            let mut res = AppError::from(e).into_response();
            *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            res
        }
    }
}
