//! The OAuth 2.0 endpoints, at django-oauth-toolkit's URLs: `/o/authorize/`, `/o/token/`,
//! `/o/revoke_token/`, `/o/introspect/`, `/o/jwks/`, and RFC 8414 metadata. Thin: parse the
//! request, call `crate::oauth`, map `OAuthError` to the RFC's response.

pub mod authorize;
pub mod discovery;
pub mod token;

use crate::oauth::OAuthError;
use crate::state::AppState;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use serde_json::json;

pub use token::RIVERTY_TOKEN_PATH;

/// The server's OAuth URLs as the OAuth tab, its snippets and the PKCE playground show them.
pub fn endpoints(config: &crate::config::Config) -> crate::dto::OAuthEndpoints {
    let base = config.public_origin();
    crate::dto::OAuthEndpoints {
        authorize_url: format!("{base}/o/authorize/"),
        token_url: format!("{base}/o/token/"),
        api_audience: config.api_audience(),
        api_audiences: config.api_audiences(),
        playground_redirect_uri: format!("{base}/dashboard/oauth/playground"),
        issuer: base,
    }
}

/// Pages a logged-in merchant's browser uses: behind sessions and CSRF.
pub fn browser_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(authorize::authorize, authorize::decide))
}

/// Endpoints a browser page on an origin its client registered may call (CORS): the token
/// endpoint (and Riverty's token URL: a client moved from Riverty changes only its base URL)
/// and revocation.
pub fn cross_origin_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token::token))
        .routes(routes!(token::token_at_riverty_path))
        .routes(routes!(token::revoke))
}

/// Endpoints for servers and for reading before a flow starts.
pub fn client_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token::introspect))
        .routes(routes!(discovery::jwks))
        .routes(routes!(discovery::metadata))
}

/// Endpoints for clients: they authenticate themselves, never with cookies.
pub fn client_router(state: &AppState) -> axum::Router<AppState> {
    let (cross_origin, _) = cross_origin_routes().split_for_parts();
    let (others, _) = client_routes().split_for_parts();
    cross_origin
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::middleware::cors::preflight,
        ))
        .merge(others)
}

/// The merchant's browser's routes, as served.
pub fn browser_router() -> axum::Router<AppState> {
    browser_routes().split_for_parts().0
}

// ---------------------------------------------------------------------------------------------
// errors

pub(super) fn no_store(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

/// RFC 6749 §5.2: JSON error, 400, or 401 with a challenge for a failed client authentication.
pub(super) fn error_response(e: OAuthError) -> Response {
    let status = match e {
        OAuthError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
        OAuthError::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut res = (
        status,
        Json(json!({ "error": e.to_string(), "error_description": e.description() })),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"subgate\""),
        );
    }
    no_store(res)
}
