//! The HTTP edge, one folder or file per protocol: the JSON API ([`api`]), OAuth 2.0
//! ([`oauth`]), single sign-on ([`sso`]), Stripe Connect's browser round trip ([`connect`]),
//! Stripe's webhooks ([`webhooks`]), health checks ([`health`]) and the API describing itself
//! ([`docs`]), with what runs around every request in [`middleware`]. [`router`] assembles them
//! around the Leptos pages it is handed; nothing here knows the pages themselves.

pub mod account;
pub mod api;
pub mod assets;
pub mod connect;
pub mod docs;
pub mod extract;
pub mod health;
pub mod middleware;
pub mod oauth;
pub mod overview;
pub mod sso;
pub mod webhooks;
pub mod wire;

use axum::http::Request;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use axum::routing::MethodRouter;
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use self::middleware::{auth_session, csrf, request_meta, security_headers, server_fn_status};
use crate::db::sessions::DbSessionStore;
use crate::error::AppError;
use crate::state::AppState;

/// Every route the OpenAPI document describes, registered with its operation (`routes!` takes
/// the path and methods from the handler's `#[utoipa::path]`). [`router`] serves these same
/// routers; the document is built from this one (`docs::openapi::document`).
pub fn documented_routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    api::routes()
        .merge(sso::api_routes())
        .merge(sso::browser_routes())
        .merge(oauth::cross_origin_routes())
        .merge(oauth::client_routes())
        .merge(oauth::browser_routes())
        .merge(docs::routes())
}

/// Idle merchant sessions end after this long.
const SESSION_IDLE: time::Duration = time::Duration::hours(12);
/// No request body may exceed this (forms and JSON are far smaller).
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Every route of subgate's edge around `pages` (the Leptos pages, which get the merchant's
/// session, CSRF and server-function status codes), with `files` (the site's files and the
/// page-level 404) as the fallback, and the layers every request passes through.
pub fn router(state: AppState, pages: Router<AppState>, files: MethodRouter<AppState>) -> Router {
    let production = state.config.is_production();
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        // __Host- cookies must be Secure, host-only and Path=/: no subdomain can plant one
        .with_name(if production {
            "__Host-subgate_session"
        } else {
            "subgate_session"
        })
        .with_secure(production)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE));

    let pages = pages
        .merge(oauth::browser_router())
        .merge(connect::browser_router())
        .merge(account::browser_router())
        // CSRF guards the routes that exist; a POST to a path that does not is a JSON 404, not
        // a CSRF error that sends a client looking for the wrong problem
        .route_layer(from_fn_with_state(state.clone(), csrf::middleware))
        .fallback(files.fallback(unknown_endpoint))
        .layer(from_fn(server_fn_status::middleware))
        .layer(from_fn(auth_session::guard));

    Router::new()
        .merge(health::router())
        .merge(assets::router(&state.leptos_options))
        // clients authenticate themselves (bearer tokens, client secrets, webhook signatures):
        // no cookies, no CSRF
        .merge(oauth::client_router(&state))
        .merge(api::router(&state))
        .merge(webhooks::router())
        // the one-time SSO link: it starts the subscriber's own session, not a merchant's
        .merge(sso::browser_router())
        .merge(pages)
        .layer(sessions)
        .layer(from_fn_with_state(state.clone(), security_headers::middleware))
        .layer(middleware::compression::layer())
        .layer(from_fn_with_state(state.clone(), request_meta::middleware))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(from_fn(payload_too_large_as_json))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
        }))
        .with_state(state)
}

async fn unknown_endpoint() -> AppError {
    AppError::NotFound("No such endpoint.".into())
}

/// The body limit's 413 (from the limit layer or a body extractor) is plain text; every endpoint
/// promises JSON: the API's error body, or Recurpay's envelope on the SSO login call.
async fn payload_too_large_as_json(
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let sso_login = sso::is_login_path(req.uri().path());
    let response = next.run(req).await;
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if response.status() != axum::http::StatusCode::PAYLOAD_TOO_LARGE || is_json {
        return response;
    }
    let error = AppError::PayloadTooLarge;
    if sso_login {
        sso::login_error(error.into())
    } else {
        error.into_response()
    }
}

/// The absolute address of a customer's page in the dashboard: where the gateway's customer
/// portal, opened by the merchant, sends them back.
pub fn customer_page_url(
    state: &AppState,
    subscriber: &crate::payments::customers::SubscriberId,
) -> Result<crate::payments::customers::ReturnUrl, AppError> {
    let page = crate::dto::payments::customer_page(subscriber.as_str());
    let url = format!("{}{page}", state.config.public_origin());
    Ok(crate::payments::customers::ReturnUrl::parse(&url)?)
}
