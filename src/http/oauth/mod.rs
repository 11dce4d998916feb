//! The OAuth 2.0 endpoints, at django-oauth-toolkit's URLs: `/o/authorize/`, `/o/token/`,
//! `/o/revoke_token/`, `/o/introspect/`, `/o/jwks/`, and RFC 8414 metadata. Thin: parse the
//! request, call `crate::oauth`, map `OAuthError` to the RFC's response.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::Engine;
use serde_json::json;
use tower_sessions::Session;

use super::auth_session;
use super::csrf::CsrfToken;
use super::escape_html;
use crate::oauth::clients::{self, Client};
use crate::oauth::grants::authorization_code::{self, AuthorizationRequest, AuthorizeParams};
use crate::oauth::grants::{client_credentials, refresh_token};
use crate::oauth::scope::{Scopes, ALL};
use crate::oauth::OAuthError;
use crate::state::AppState;

/// Pages a logged-in merchant's browser uses: behind sessions and CSRF.
pub fn browser_router() -> Router<AppState> {
    Router::new().route("/o/authorize/", get(authorize).post(decide))
}

/// Endpoints for clients: they authenticate themselves, never with cookies. A browser page on an
/// origin its client registered may call the token and revocation endpoints (CORS).
pub fn client_router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/o/token/", post(token))
        // Riverty's token URL: a client moved from Riverty changes only its base URL
        .route(RIVERTY_TOKEN_PATH, post(token_at_riverty_path))
        .route("/o/revoke_token/", post(revoke))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::cors::preflight,
        ))
        .route("/o/introspect/", post(introspect))
        .route("/o/jwks/", get(jwks))
        .route("/.well-known/oauth-authorization-server", get(metadata))
}

// ---------------------------------------------------------------------------------------------
// errors

fn no_store(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

/// RFC 6749 §5.2: JSON error, 400, or 401 with a challenge for a failed client authentication.
fn error_response(e: OAuthError) -> Response {
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

// ---------------------------------------------------------------------------------------------
// token endpoint and friends

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
    clients::authenticate(&state.db, &state.client_secrets, &id, secret.as_deref()).await
}

/// An answer to a client, readable by a page on an origin that client registered (CORS): only
/// once the client has authenticated, so nothing is said to a page about a client it is not.
fn answer(headers: &HeaderMap, client: Option<&Client>, response: Response) -> Response {
    let mut response = no_store(response);
    if let (Some(origin), Some(client)) = (super::cors::request_origin(headers), client) {
        if client.allows_origin(origin) {
            super::cors::allow(&mut response, origin);
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
    request_body(content = super::openapi::TokenRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "Tokens. `Cache-Control: no-store`.", body = super::openapi::TokenResponseDoc),
        (status = 400, description = "RFC 6749 §5.2 error (`invalid_request`, `invalid_grant`, `invalid_scope`, `unsupported_grant_type`, …).", body = super::openapi::OAuthErrorBody),
        (status = 401, description = "`invalid_client`: client authentication failed.", body = super::openapi::OAuthErrorBody),
        (status = 413, description = "The body is over the limit.", body = super::openapi::ErrorBody),
        (status = 503, description = "Briefly unavailable; retry.", body = super::openapi::ErrorBody),
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
    request_body(content = super::openapi::TokenRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "Tokens, as from `/o/token/`.", body = super::openapi::TokenResponseDoc),
        (status = 400, description = "RFC 6749 §5.2 error.", body = super::openapi::OAuthErrorBody),
        (status = 401, description = "`invalid_client`.", body = super::openapi::OAuthErrorBody),
        (status = 413, description = "The body is over the limit.", body = super::openapi::ErrorBody),
        (status = 503, description = "Briefly unavailable; retry.", body = super::openapi::ErrorBody),
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
    request_body(content = super::openapi::TokenParamRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "Revoked, or the token was unknown (RFC 7009 §2.2)."),
        (status = 400, description = "RFC 6749 §5.2 error.", body = super::openapi::OAuthErrorBody),
        (status = 401, description = "`invalid_client`.", body = super::openapi::OAuthErrorBody),
        (status = 413, description = "The body is over the limit.", body = super::openapi::ErrorBody),
        (status = 503, description = "Briefly unavailable; retry.", body = super::openapi::ErrorBody),
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
    request_body(content = super::openapi::TokenParamRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "The token's state.", body = super::openapi::IntrospectionDoc),
        (status = 400, description = "RFC 6749 §5.2 error.", body = super::openapi::OAuthErrorBody),
        (status = 401, description = "`invalid_client`.", body = super::openapi::OAuthErrorBody),
        (status = 413, description = "The body is over the limit.", body = super::openapi::ErrorBody),
        (status = 503, description = "Briefly unavailable; retry.", body = super::openapi::ErrorBody),
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

/// The public keys that sign access tokens (EdDSA, Ed25519), current and recently rotated.
#[utoipa::path(
    get,
    path = "/o/jwks/",
    tag = "oauth",
    security(()),
    responses(
        (status = 200, description = "A JWK set (RFC 7517).", body = Object),
        (status = 503, description = "Briefly unavailable; retry.", body = super::openapi::ErrorBody),
    ),
)]
pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    match state.tokens.keys.jwks(state.clock.now()).await {
        Ok(keys) => ([(header::CACHE_CONTROL, "public, max-age=300")], Json(keys)).into_response(),
        Err(e) => e.into_response(),
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

// ---------------------------------------------------------------------------------------------
// authorization endpoint

enum Authorize {
    /// Not logged in: log in, then come back.
    Login(String),
    /// Before the redirect URI is trusted: a page, never a redirect.
    Page(StatusCode, String),
    /// Back to the client with `code` or `error` (and `state`).
    Redirect(String),
    Consent(Box<AuthorizationRequest>),
}

/// The client's redirect URI with the response's parameters, its `state`, and `iss` (RFC 9207:
/// a client talking to several authorization servers learns which one answered).
fn redirect_with(uri: &str, params: &[(&str, &str)], state: Option<&str>, issuer: &str) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
                if let Some(s) = state {
                    q.append_pair("state", s);
                }
                q.append_pair("iss", issuer);
            }
            url.to_string()
        }
        Err(_) => uri.to_string(),
    }
}

fn redirect_error(request_uri: &str, e: &OAuthError, state: Option<&str>, issuer: &str) -> String {
    redirect_with(
        request_uri,
        &[
            ("error", &e.to_string()),
            ("error_description", e.description()),
        ],
        state,
        issuer,
    )
}

async fn evaluate(
    state: &AppState,
    session: &Session,
    uri: &Uri,
    params: Result<AuthorizeParams, String>,
) -> Authorize {
    let merchant_id = match auth_session::merchant_id(session).await {
        Ok(Some(id)) => id,
        Ok(None) => {
            return Authorize::Login(
                uri.path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "/o/authorize/".into()),
            )
        }
        Err(_) => {
            return Authorize::Page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.".into(),
            )
        }
    };
    let params = match params {
        Ok(p) => p,
        Err(e) => {
            return Authorize::Page(
                StatusCode::BAD_REQUEST,
                format!("The authorization request is malformed: {e}."),
            )
        }
    };
    let client = match params
        .client_id
        .as_deref()
        .filter(|id| !id.is_empty() && id.len() <= 100)
    {
        Some(id) => match clients::get(&state.db, &merchant_id, id).await {
            Ok(c) => Some(c),
            Err(crate::error::AppError::NotFound(_)) => None,
            Err(_) => {
                return Authorize::Page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side.".into(),
                )
            }
        },
        None => None,
    };
    let (client, redirect_uri) = match authorization_code::validate_redirect(&params, client) {
        Ok(ok) => ok,
        Err(e) => return Authorize::Page(StatusCode::BAD_REQUEST, e.0),
    };
    match authorization_code::validate_rest(
        &params,
        client,
        redirect_uri.clone(),
        &state.tokens.api_audiences,
    ) {
        Ok(request) => Authorize::Consent(Box::new(request)),
        Err(e) => Authorize::Redirect(redirect_error(
            &redirect_uri,
            &e,
            params.state.as_deref(),
            &state.tokens.issuer,
        )),
    }
}

async fn approve(state: &AppState, merchant_id: &str, request: &AuthorizationRequest) -> String {
    let now = state.clock.now();
    let saved = state
        .db
        .save_consent(
            merchant_id,
            &request.client.id,
            &request.scopes.to_string(),
            now,
        )
        .await;
    let code = match saved {
        Ok(()) => authorization_code::issue_code(&state.tokens, request, now).await,
        Err(e) => Err(e.into()),
    };
    let issuer = &state.tokens.issuer;
    match code {
        Ok(code) => redirect_with(
            &request.redirect_uri,
            &[("code", &code)],
            request.state.as_deref(),
            issuer,
        ),
        Err(e) => redirect_error(&request.redirect_uri, &e, request.state.as_deref(), issuer),
    }
}

/// The authorization endpoint (a page for the merchant's browser, not an API call):
/// `response_type=code`, `client_id`, the exact registered `redirect_uri`, `scope`, `state`,
/// `code_challenge` with `code_challenge_method=S256`, optionally `approval_prompt=auto`.
#[utoipa::path(
    get,
    path = "/o/authorize/",
    tag = "oauth",
    params(
        ("response_type" = Option<String>, Query, description = "`code`."),
        ("client_id" = Option<String>, Query),
        ("redirect_uri" = Option<String>, Query, description = "Exactly one of the client's registered URIs."),
        ("scope" = Option<String>, Query),
        ("state" = Option<String>, Query),
        ("code_challenge" = Option<String>, Query),
        ("code_challenge_method" = Option<String>, Query, description = "`S256` only."),
        ("approval_prompt" = Option<String>, Query, description = "`auto` skips consent already given; `force` asks again."),
        ("audience" = Option<String>, Query),
    ),
    security((), ("session" = [])),
    responses(
        (status = 200, description = "The consent page.", content_type = "text/html", body = String),
        (status = 303, description = "To the login page, or back to the client with `code` or `error`.", headers(("Location" = String))),
        (status = 400, description = "A request that cannot be redirected (unknown client, redirect URI mismatch).", content_type = "text/html", body = String),
    ),
)]
pub(crate) async fn authorize(
    State(state): State<AppState>,
    session: Session,
    csrf: Option<Extension<CsrfToken>>,
    uri: Uri,
) -> Response {
    let params = Query::<AuthorizeParams>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| e.body_text());
    let auto = params
        .as_ref()
        .is_ok_and(|p| p.approval_prompt.as_deref() == Some("auto"));
    match evaluate(&state, &session, &uri, params).await {
        Authorize::Login(next) => {
            let to = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            Redirect::to(&to).into_response()
        }
        Authorize::Page(status, message) => page(
            status,
            "Authorization failed",
            &format!("<p id=\"error-message\">{}</p>", escape_html(&message)),
        ),
        Authorize::Redirect(to) => Redirect::to(&to).into_response(),
        Authorize::Consent(request) => {
            let merchant_id = auth_session::merchant_id(&session)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            if auto && !request.force_prompt {
                let consented = state
                    .db
                    .consent(&merchant_id, &request.client.id)
                    .await
                    .ok()
                    .flatten();
                let covered = consented
                    .and_then(|s| Scopes::parse(&s).ok())
                    .is_some_and(|s| request.scopes.is_subset(&s));
                if covered {
                    return Redirect::to(&approve(&state, &merchant_id, &request).await)
                        .into_response();
                }
            }
            consent_page(
                &request,
                uri.query().unwrap_or_default(),
                csrf.map(|c| c.0 .0).unwrap_or_default(),
            )
        }
    }
}

/// The consent form's answer. Everything is validated again from the original query: hidden
/// fields are never trusted.
/// The consent form's answer (same query as the GET, plus the CSRF token).
#[utoipa::path(
    post,
    path = "/o/authorize/",
    tag = "oauth",
    security(("session" = [])),
    responses(
        (status = 303, description = "Back to the client with `code` or `error=access_denied`.", headers(("Location" = String))),
        (status = 400, description = "The request is no longer valid.", content_type = "text/html", body = String),
        (status = 403, description = "Missing or wrong CSRF token.", body = super::openapi::ErrorBody),
    ),
)]
pub(crate) async fn decide(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let query = form.get("request").cloned().unwrap_or_default();
    let uri: Uri = match format!("/o/authorize/?{query}").parse() {
        Ok(u) => u,
        Err(_) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Authorization failed",
                "<p id=\"error-message\">The authorization request is malformed.</p>",
            )
        }
    };
    let params = Query::<AuthorizeParams>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| e.body_text());
    let _ = headers;
    match evaluate(&state, &session, &uri, params).await {
        Authorize::Login(next) => Redirect::to(&format!(
            "/login?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ))
        .into_response(),
        Authorize::Page(status, message) => page(
            status,
            "Authorization failed",
            &format!("<p id=\"error-message\">{}</p>", escape_html(&message)),
        ),
        Authorize::Redirect(to) => Redirect::to(&to).into_response(),
        Authorize::Consent(request) => {
            if form.get("decision").map(String::as_str) != Some("allow") {
                let denied = OAuthError::AccessDenied("The merchant denied the request.".into());
                return Redirect::to(&redirect_error(
                    &request.redirect_uri,
                    &denied,
                    request.state.as_deref(),
                    &state.tokens.issuer,
                ))
                .into_response();
            }
            let merchant_id = auth_session::merchant_id(&session)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            Redirect::to(&approve(&state, &merchant_id, &request).await).into_response()
        }
    }
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    page_posting_to(status, title, body, None)
}

/// A page whose form may also end at `redirect_origin`: Chromium applies `form-action` to every
/// redirect a form submission follows, so the consent form's answer (a 303 to the client's
/// redirect URI) would be blocked on any client not on this origin, which is every real one.
fn page_posting_to(
    status: StatusCode,
    title: &str,
    body: &str,
    redirect_origin: Option<&str>,
) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · subgate</title><link rel=\"stylesheet\" href=\"/pkg/subgate.css\"></head>\
         <body class=\"bg-slate-100 text-slate-900\"><main class=\"mx-auto mt-16 max-w-lg rounded-xl bg-white p-8 shadow\">\
         <h1 class=\"mb-4 text-2xl font-bold\">{title}</h1>{body}</main></body></html>",
        title = escape_html(title)
    );
    let mut res = (status, Html(html)).into_response();
    let form_action = match redirect_origin {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".into(),
    };
    let csp = format!("default-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action {form_action}; base-uri 'none'");
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    no_store(res)
}

fn consent_page(request: &AuthorizationRequest, query: &str, csrf: String) -> Response {
    let redirect = url::Url::parse(&request.redirect_uri).ok();
    let host = redirect
        .as_ref()
        .and_then(|u| u.host_str().map(String::from))
        .unwrap_or_default();
    // registered redirect URIs are https or loopback http, so the origin is a plain CSP source
    let origin = redirect
        .map(|u| u.origin())
        .filter(url::Origin::is_tuple)
        .map(|o| o.ascii_serialization());
    let scopes: String = request
        .scopes
        .iter()
        .map(|s| format!("<li class=\"font-mono text-sm\">{}</li>", escape_html(s)))
        .collect();
    let body = format!(
        "<p><strong id=\"client-name\">{name}</strong> wants access to your subgate account.</p>\
         <p class=\"mt-4 text-sm text-slate-600\">It asks for:</p><ul id=\"scopes\" class=\"ml-6 list-disc\">{scopes}</ul>\
         <p class=\"mt-4 text-sm text-slate-600\">You will be sent back to <strong id=\"redirect-host\">{host}</strong>.</p>\
         <form method=\"post\" action=\"/o/authorize/\" class=\"mt-6 flex gap-3\">\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\"><input type=\"hidden\" name=\"request\" value=\"{query}\">\
         <button name=\"decision\" value=\"allow\" id=\"allow\" class=\"rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white\">Allow</button>\
         <button name=\"decision\" value=\"deny\" id=\"deny\" class=\"rounded-md border border-slate-300 px-4 py-2\">Deny</button></form>",
        name = escape_html(&request.client.name),
        host = escape_html(&host),
        csrf = escape_html(&csrf),
        query = escape_html(query),
    );
    page_posting_to(
        StatusCode::OK,
        "Authorize application",
        &body,
        origin.as_deref(),
    )
}
