//! The API describing itself: the OpenAPI document at `/api/openapi.json` ([`openapi`]), the
//! schemas of its error bodies ([`bodies`]), and `/api/docs`, ReDoc over the document, served
//! entirely by this server. The bundle comes from npm (`redoc`, pinned in package.json) and is
//! copied into `public/vendor/` by `scripts/setup.sh`, so nothing is fetched from a CDN: the
//! page works on closed networks, and its own Content-Security-Policy forbids every other origin.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub mod bodies;
pub mod catalog;
pub mod openapi;

pub const PATH: &str = "/api/docs";
/// The OpenAPI document.
pub const OPENAPI_PATH: &str = "/api/openapi.json";
/// Where `scripts/setup.sh` puts the bundle, under the site root.
pub const BUNDLE: &str = "/vendor/redoc.standalone.js";

/// ReDoc renders with inline styles and builds its search index in a `blob:` worker.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   worker-src 'self' blob:; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

/// The reference page and the document it renders.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(redoc_page))
        .routes(routes!(openapi::document_handler))
}

/// The API reference, rendered by ReDoc.
#[utoipa::path(
    get,
    path = "/api/docs",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The ReDoc page.", content_type = "text/html", body = String)),
)]
pub(crate) async fn redoc_page() -> Response {
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>subgate API reference</title></head><body>\
         <redoc spec-url=\"{spec}\" hide-download-button=\"false\" native-scrollbars></redoc>\
         <noscript>The reference needs JavaScript. The raw document is at <a href=\"{spec}\">{spec}</a>.</noscript>\
         <script src=\"{BUNDLE}\"></script></body></html>",
        spec = OPENAPI_PATH,
    );
    (
        [
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Html(page),
    )
        .into_response()
}
