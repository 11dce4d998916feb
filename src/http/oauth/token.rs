//! The endpoints a client authenticates itself to: `/o/token/` (and Riverty's `/oauth/token`),
//! `/o/revoke_token/` and `/o/introspect/`, with client authentication (RFC 6749 §2.3.1) and
//! the CORS answer for a browser client on its registered origin.

use super::{error_response, no_store};
use crate::oauth::clients::Client;
use crate::oauth::grants::authorization_code;
use crate::oauth::grants::{client_credentials, refresh_token};
use crate::oauth::OAuthError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use std::collections::HashMap;

pub const RIVERTY_TOKEN_PATH: &str = "/oauth/token";

/// A form body where every parameter appears at most once (RFC 6749 §3.2).
fn parse_form(headers: &HeaderMap, body: &Bytes) -> Result<HashMap<String, String>, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(OAuthError::InvalidRequest(
            "The body must be application/x-www-form-urlencoded.".into(),
        ));
    }
    let mut form = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if form
            .insert(k.clone().into_owned(), v.into_owned())
            .is_some()
        {
            return Err(OAuthError::InvalidRequest(format!(
                "Parameter \"{}\" appears more than once.",
                k.escape_default()
            )));
        }
    }
    Ok(form)
}

/// The client's credentials: HTTP Basic (RFC 6749 §2.3.1, each part form-urlencoded) or the
/// body's `client_id` / `client_secret`; never both.
fn client_credentials_of(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(String, Option<String>), OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("basic")
                .then(|| rest.trim().to_string())
        });
    let invalid = || OAuthError::InvalidClient("Malformed HTTP Basic credentials.".into());
    match (basic, form.get("client_secret")) {
        (Some(_), Some(_)) => Err(OAuthError::InvalidRequest(
            "Use one client authentication method, not two.".into(),
        )),
        (Some(encoded), None) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|_| invalid())?;
            let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
            let (id, secret) = decoded.split_once(':').ok_or_else(invalid)?;
            let unescape = |s: &str| {
                form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            let id = unescape(id).ok_or_else(invalid)?;
            if form.get("client_id").is_some_and(|f| *f != id) {
                return Err(OAuthError::InvalidRequest(
                    "client_id differs from the Basic credentials.".into(),
                ));
            }
            Ok((id, unescape(secret)))
        }
        (None, secret) => {
            let id = form.get("client_id").cloned().ok_or_else(|| {
                OAuthError::InvalidClient("Client authentication is required.".into())
            })?;
            Ok((id, secret.cloned()))
        }
    }
}

async fn authenticated_client(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Client, OAuthError> {
    let (id, secret) = client_credentials_of(headers, form)?;
    let now = state.clock.now();
    state
        .clients
        .authenticate(&id, secret.as_deref(), now)
        .await
}

/// An answer to a client, readable by a page on an origin that client registered (CORS): only
/// once the client has authenticated, so nothing is said to a page about a client it is not.
fn answer(headers: &HeaderMap, client: Option<&Client>, response: Response) -> Response {
    let mut response = no_store(response);
    if let (Some(origin), Some(client)) = (
        crate::http::middleware::cors::request_origin(headers),
        client,
    ) {
        if client.allows_origin(origin) {
            crate::http::middleware::cors::allow(&mut response, origin);
        }
    }
    response
}

/// Issues tokens (RFC 6749 §3.2): `authorization_code` (with the PKCE verifier),
/// `refresh_token` (rotated on every use; a replayed one revokes the grant) and
/// `client_credentials` (confidential clients, with `audience`).
#[utoipa::path(
    post,
    path = "/o/token/",
    tag = "oauth",
    request_body(content = crate::http::docs::bodies::TokenRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "Tokens. `Cache-Control: no-store`.", body = crate::http::docs::bodies::TokenResponseDoc),
        (status = 400, description = "RFC 6749 §5.2 error (`invalid_request`, `invalid_grant`, `invalid_scope`, `unsupported_grant_type`, …).", body = crate::http::docs::bodies::OAuthErrorBody),
        (status = 401, description = "`invalid_client`: client authentication failed.", body = crate::http::docs::bodies::OAuthErrorBody),
        (status = 413, description = "The body is over the limit.", body = crate::http::docs::bodies::ErrorBody),
        (status = 503, description = "Briefly unavailable; retry.", body = crate::http::docs::bodies::ErrorBody),
    ),
)]
pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut client = None;
    let response = match token_inner(&state, &headers, &body, &mut client).await {
        Ok(tokens) => Json(tokens).into_response(),
        Err(e) => error_response(e),
    };
    answer(&headers, client.as_ref(), response)
}

/// The token endpoint at Riverty's URL (`POST /oauth/token`), for clients moved from Riverty.
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "oauth",
    request_body(content = crate::http::docs::bodies::TokenRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "Tokens, as from `/o/token/`.", body = crate::http::docs::bodies::TokenResponseDoc),
        (status = 400, description = "RFC 6749 §5.2 error.", body = crate::http::docs::bodies::OAuthErrorBody),
        (status = 401, description = "`invalid_client`.", body = crate::http::docs::bodies::OAuthErrorBody),
        (status = 413, description = "The body is over the limit.", body = crate::http::docs::bodies::ErrorBody),
        (status = 503, description = "Briefly unavailable; retry.", body = crate::http::docs::bodies::ErrorBody),
    ),
)]
pub(crate) async fn token_at_riverty_path(
    state: State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token(state, headers, body).await
}

async fn token_inner(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
    authenticated: &mut Option<Client>,
) -> Result<crate::oauth::tokens::TokenResponse, OAuthError> {
    let form = parse_form(headers, body)?;
    let now = state.clock.now();
    let grant_type = form.get("grant_type").map(String::as_str);
    let client = &*authenticated.insert(authenticated_client(state, headers, &form).await?);
    let field = |name: &str| form.get(name).map(String::as_str);
    let required = |name: &str| {
        field(name).ok_or_else(|| OAuthError::InvalidRequest(format!("{name} is required.")))
    };
    match grant_type {
        Some("authorization_code") => {
            authorization_code::exchange(
                &state.tokens,
                client,
                required("code")?,
                field("redirect_uri"),
                field("code_verifier"),
                now,
            )
            .await
        }
        Some("refresh_token") => {
            refresh_token::exchange(
                &state.tokens,
                client,
                required("refresh_token")?,
                field("scope"),
                now,
            )
            .await
        }
        Some("client_credentials") => {
            // `resource` (RFC 8707) is accepted as a synonym of `audience`
            let audience = field("audience").or(field("resource"));
            client_credentials::exchange(&state.tokens, client, field("scope"), audience, now).await
        }
        Some(_) => Err(OAuthError::UnsupportedGrantType(
            "Supported: authorization_code, refresh_token, client_credentials.".into(),
        )),
        None => Err(OAuthError::InvalidRequest("grant_type is required.".into())),
    }
}

/// The authenticated client and the `token` parameter of a revocation or introspection request.
async fn client_and_token(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Client, String), OAuthError> {
    let form = parse_form(headers, body)?;
    let client = authenticated_client(state, headers, &form).await?;
    let token = form
        .get("token")
        .cloned()
        .ok_or_else(|| OAuthError::InvalidRequest("token is required.".into()))?;
    Ok((client, token))
}

/// Revokes an access or refresh token (RFC 7009) and everything issued from the same grant.
#[utoipa::path(
    post,
    path = "/o/revoke_token/",
    tag = "oauth",
    request_body(content = crate::http::docs::bodies::TokenParamRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "Revoked, or the token was unknown (RFC 7009 §2.2)."),
        (status = 400, description = "RFC 6749 §5.2 error.", body = crate::http::docs::bodies::OAuthErrorBody),
        (status = 401, description = "`invalid_client`.", body = crate::http::docs::bodies::OAuthErrorBody),
        (status = 413, description = "The body is over the limit.", body = crate::http::docs::bodies::ErrorBody),
        (status = 503, description = "Briefly unavailable; retry.", body = crate::http::docs::bodies::ErrorBody),
    ),
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (client, result) = match client_and_token(&state, &headers, &body).await {
        Ok((client, token)) => {
            let revoked = state
                .tokens
                .revoke(&client, &token, state.clock.now())
                .await;
            (Some(client), revoked)
        }
        Err(e) => (None, Err(e)),
    };
    let response = match result {
        // RFC 7009 §2.2: 200 whether or not the token was known
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => error_response(e),
    };
    answer(&headers, client.as_ref(), response)
}

/// Token introspection (RFC 7662), for the client the token was issued to.
#[utoipa::path(
    post,
    path = "/o/introspect/",
    tag = "oauth",
    request_body(content = crate::http::docs::bodies::TokenParamRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "The token's state.", body = crate::http::docs::bodies::IntrospectionDoc),
        (status = 400, description = "RFC 6749 §5.2 error.", body = crate::http::docs::bodies::OAuthErrorBody),
        (status = 401, description = "`invalid_client`.", body = crate::http::docs::bodies::OAuthErrorBody),
        (status = 413, description = "The body is over the limit.", body = crate::http::docs::bodies::ErrorBody),
        (status = 503, description = "Briefly unavailable; retry.", body = crate::http::docs::bodies::ErrorBody),
    ),
)]
pub(crate) async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = match client_and_token(&state, &headers, &body).await {
        Ok((client, token)) => {
            state
                .tokens
                .introspect(&client, &token, state.clock.now())
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => error_response(e),
    }
}
