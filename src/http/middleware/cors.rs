//! CORS for browser clients: a page on an origin that an OAuth client registered (exact origins,
//! as django-oauth-toolkit's `allowed_origins`) may call the token and revocation endpoints and
//! the API with that client's tokens. Never with credentials: cookies never travel cross-origin
//! to subgate, so the merchant's session cannot be used from another site.
//!
//! A preflight names no client, so it is answered for any origin some client registered; what
//! decides is the real request, whose response is readable only when *its* client (the one that
//! authenticated, or the bearer token's) allows the origin.

use std::sync::{Arc, OnceLock};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Methods and request headers a browser client may use (answered to a preflight).
const ALLOW_METHODS: &str = "GET, POST, DELETE";
const ALLOW_HEADERS: &str = "authorization, content-type, idempotency-key";
/// Response headers a page may read besides the simple ones.
const EXPOSE_HEADERS: &str = "www-authenticate, retry-after";
const PREFLIGHT_MAX_AGE: &str = "600";

/// The request's `Origin`, when it has a usable one.
pub fn request_origin(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| !o.is_empty() && *o != "null")
}

/// Lets a page on `origin` read `response` (no credentials).
pub fn allow(response: &mut Response, origin: &str) {
    let Ok(origin) = HeaderValue::from_str(origin) else {
        return;
    };
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    vary_on_origin(response);
}

fn vary_on_origin(response: &mut Response) {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("origin"));
}

fn is_preflight(req: &Request) -> bool {
    req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Answers CORS preflights; everything else passes through.
pub async fn preflight(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !is_preflight(&req) {
        return next.run(req).await;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = request_origin(req.headers()) {
        match state.db.origin_allowed_by_any_client(origin).await {
            Ok(true) => {
                allow(&mut response, origin);
                let h = response.headers_mut();
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static(ALLOW_METHODS),
                );
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static(ALLOW_HEADERS),
                );
                h.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static(PREFLIGHT_MAX_AGE),
                );
            }
            Ok(false) => vary_on_origin(&mut response),
            Err(e) => {
                tracing::warn!(error = %e, "CORS preflight: database unavailable");
                return crate::error::AppError::Unavailable.into_response();
            }
        }
    }
    response
}

/// Which client a bearer-authenticated API request came from, filled in by the caller extractor
/// (`crate::http::api::ApiCaller`) for [`api`] to decide on the response.
#[derive(Debug, Clone, Default)]
pub struct BearerClient(Arc<OnceLock<String>>);

impl BearerClient {
    pub fn set(&self, client_id: &str) {
        let _ = self.0.set(client_id.to_string());
    }
}

/// The API's CORS: preflights, then the real request's response is readable from an origin the
/// bearer token's client registered. Session-authenticated calls never get CORS headers.
pub async fn api(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // the SSO login call answers storefronts itself (any origin, no credentials)
    if crate::http::sso::is_login_path(req.uri().path()) {
        return next.run(req).await;
    }
    if is_preflight(&req) {
        return preflight(State(state), req, next).await;
    }
    let Some(origin) = request_origin(req.headers()).map(str::to_string) else {
        return next.run(req).await;
    };
    let slot = BearerClient::default();
    req.extensions_mut().insert(slot.clone());
    let mut response = next.run(req).await;
    vary_on_origin(&mut response);
    if let Some(client_id) = slot.0.get() {
        match state.db.client_origins(client_id).await {
            Ok(origins) if origins.contains(&origin) => allow(&mut response, &origin),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "CORS: could not read the client's origins"),
        }
    }
    response
}
