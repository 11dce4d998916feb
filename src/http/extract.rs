//! axum's extractors, with their rejections turned into the API's JSON errors: a client never
//! gets a plain-text "Failed to deserialize" where it expects `{"error", "message"}`.

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// `?format=json`: the raw body, for a browser that would otherwise be shown the API tab.
pub const RAW_FORMAT: &str = "format=json";

/// A JSON body; 415 without `Content-Type: application/json`, 400 for broken JSON, 422 for JSON
/// of the wrong shape, 413 past the body limit.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::PayloadTooLarge)?;
        json_body(&headers, &body).map(Self)
    }
}

/// Parses a JSON request body (for handlers that also need the raw bytes).
pub fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, AppError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        });
    if !json {
        return Err(AppError::UnsupportedMediaType("application/json".into()));
    }
    serde_json::from_slice(body).map_err(|e| {
        let message: String = e.to_string().chars().take(300).collect();
        match e.classify() {
            serde_json::error::Category::Data => AppError::Validation(message),
            _ => AppError::BadRequest(message),
        }
    })
}

/// serde's message without axum's preamble: "missing field `customer_id` at line 1 column 2".
fn clean(text: &str) -> String {
    let text = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .or_else(|| text.strip_prefix("Failed to parse the request body as JSON: "))
        .or_else(|| text.strip_prefix("Failed to deserialize query string: "))
        .unwrap_or(text);
    text.chars().take(300).collect()
}

/// Path parameters; 400 when they do not decode.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e: PathRejection| AppError::BadRequest(clean(&e.body_text())))
    }
}

/// The query string; 422 when a parameter has the wrong type.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let _ = state;
        // `format=json` only chooses the raw body over the API tab (see [`RAW_FORMAT`])
        let query = parts.uri.query().unwrap_or_default();
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty() && *p != RAW_FORMAT)
            .collect();
        let uri: axum::http::Uri = format!("/?{}", kept.join("&"))
            .parse()
            .map_err(|_| AppError::BadRequest("The query string does not parse.".into()))?;
        axum::extract::Query::<T>::try_from_uri(&uri)
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| AppError::Validation(clean(&e.body_text())))
    }
}
