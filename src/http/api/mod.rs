//! The JSON API under `/api/` (and Riverty's `/subscription/` path): who is calling
//! ([`caller`]), `/api/me`, customers and subscriptions, the one mapping of stored rows to the
//! API's views ([`views`]), and what every unknown path or method answers.

pub mod caller;
pub mod customers;
pub mod me;
pub mod subscriptions;
pub mod views;

use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use caller::{ApiCaller, ApiError, InsufficientScope, Via};

use crate::error::AppError;
use crate::state::AppState;

/// `/api/me`, customers and subscriptions, with their OpenAPI operations.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me::me))
        .merge(customers::routes())
        .merge(subscriptions::routes())
}

/// The API's routes, the SSO login call and the API's own description, as served: unknown
/// paths and methods answer in JSON, a browser navigating is shown the API tab, and CORS lets
/// registered browser clients in.
pub fn router(state: &AppState) -> Router<AppState> {
    let (routes, _) = routes()
        .merge(crate::http::sso::api_routes())
        .merge(crate::http::docs::routes())
        .split_for_parts();
    routes
        // unknown API paths and methods answer in JSON, never with the HTML 404 page
        .route("/api/{*rest}", any(unknown_endpoint))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(browse_in_dashboard))
        // browser clients on their registered origins; outermost, so that a preflight is
        // answered before any route's method check
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::middleware::cors::api,
        ))
}

/// A browser navigating to an API URL (it asks for HTML and sends no bearer token) lands on the
/// API tab browsing that URL, as with Django REST Framework's browsable API; `?format=json`
/// gets the raw JSON instead.
async fn browse_in_dashboard(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    let navigating = req.method() == Method::GET
        && crate::http::wire::wants_html(req.headers())
        && !req.headers().contains_key(header::AUTHORIZATION)
        && (path.starts_with("/api/") || path.starts_with("/subscription/"))
        && path != crate::http::docs::PATH
        && path != crate::http::docs::OPENAPI_PATH
        && !req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p == crate::http::extract::RAW_FORMAT));
    if navigating {
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or(path);
        return axum::response::Redirect::to(&crate::dto::explorer::browse_href(target))
            .into_response();
    }
    next.run(req).await
}

async fn unknown_endpoint() -> AppError {
    AppError::NotFound("No such API endpoint.".into())
}

async fn method_not_allowed() -> Response {
    let mut res =
        AppError::BadRequest("This endpoint does not accept that method.".into()).into_response();
    *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    res
}
