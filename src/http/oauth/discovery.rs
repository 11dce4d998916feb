//! What a client reads before it starts: the signing keys (`/o/jwks/`) and RFC 8414 metadata.

use crate::error::AppError;
use crate::oauth::scope::ALL;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// The public keys that sign access tokens (EdDSA, Ed25519), current and recently rotated.
#[utoipa::path(
    get,
    path = "/o/jwks/",
    tag = "oauth",
    security(()),
    responses(
        (status = 200, description = "A JWK set (RFC 7517).", body = Object),
        (status = 503, description = "Briefly unavailable; retry.", body = crate::http::docs::bodies::ErrorBody),
    ),
)]
pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    match state.tokens.keys.jwks(state.clock.now()).await {
        Ok(keys) => ([(header::CACHE_CONTROL, "public, max-age=300")], Json(keys)).into_response(),
        Err(e) => AppError::from(e).into_response(),
    }
}

/// RFC 8414 authorization server metadata.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = "oauth",
    security(()),
    responses((status = 200, description = "Endpoints, grants, PKCE methods and scopes.", body = Object)),
)]
pub(crate) async fn metadata(State(state): State<AppState>) -> Json<serde_json::Value> {
    let base = state.config.public_origin();
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/o/authorize/"),
        "token_endpoint": format!("{base}/o/token/"),
        "jwks_uri": format!("{base}/o/jwks/"),
        "revocation_endpoint": format!("{base}/o/revoke_token/"),
        "introspection_endpoint": format!("{base}/o/introspect/"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": ALL,
        // RFC 9207: authorization responses name their issuer (mix-up defence)
        "authorization_response_iss_parameter_supported": true,
        "access_token_signing_alg_values_supported": ["EdDSA"],
    }))
}
