//! The OpenAPI 3.1 document at `/api/openapi.json`, generated from the handlers' `#[utoipa::path]`
//! attributes and the DTOs' schemas: nothing here is hand-written JSON. This module adds what no
//! handler knows: the error bodies, the security schemes with this server's real URLs, and the
//! form bodies of the OAuth endpoints (which parse their forms by hand, RFC 6749 §3.2).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, Http, HttpAuthScheme, OAuth2, Scopes,
    SecurityScheme,
};
use utoipa::openapi::server::Server;
use utoipa::OpenApi;

use crate::state::AppState;

/// The API's description of itself.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "This document.", content_type = "application/json", body = Object)),
)]
pub(crate) async fn document_handler(State(state): State<AppState>) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=60")],
        Json(document(&state.config.public_origin())),
    )
        .into_response()
}

/// The document for a server reachable at `origin`.
pub fn document(origin: &str) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    // the paths, from the routes themselves: what is served is what is documented
    doc.merge(crate::http::documented_routes().into_openapi());
    doc.servers = Some(vec![Server::new(origin)]);
    let components = doc.components.get_or_insert_with(Default::default);
    let scopes = || {
        Scopes::from_iter([
            ("customers:read", "List and read the customers you pushed."),
            ("customers:write", "Push and delete customers."),
            (
                "subscriptions:read",
                "Read subscriptions, their prices and renewal dates.",
            ),
            (
                "portal:write",
                "Open Stripe customer-portal sessions for a customer.",
            ),
        ])
    };
    components.add_security_scheme(
        "oauth2",
        SecurityScheme::OAuth2(OAuth2::with_description(
            [
                Flow::AuthorizationCode(AuthorizationCode::new(
                    format!("{origin}/o/authorize/"),
                    format!("{origin}/o/token/"),
                    scopes(),
                )),
                Flow::ClientCredentials(ClientCredentials::new(
                    format!("{origin}/o/token/"),
                    scopes(),
                )),
            ],
            "Bearer tokens from `/o/token/`. Public clients use the authorization code flow with \
             PKCE (`code_challenge_method=S256` only); confidential clients use client \
             credentials with `audience` set to this server's API audience.",
        )),
    );
    components.add_security_scheme(
        "client_secret_basic",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Basic)
                .description(Some(
                    "A confidential client's id and secret (RFC 6749 §2.3.1); \
                     `client_secret_post` in the form works too.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
            utoipa::openapi::security::ApiKeyValue::with_description(
                "subgate_session",
                "The logged-in merchant's dashboard session (`__Host-subgate_session` in \
                 production), as the browsable API uses it. Unsafe methods also need the \
                 `X-CSRF-Token` header.",
            ),
        )),
    );
    doc
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "subgate API",
        description = "Your backend pushes its users' Stripe customer ids, reads their \
                       subscriptions (answered from subgate's webhook-fed mirror) and opens \
                       Stripe customer-portal sessions, all on your connected Stripe account. \
                       Errors are JSON: `{\"error\": code, \"message\": sentence}`.",
        license(name = "MIT"),
    ),
    components(schemas(super::bodies::ErrorBody, super::bodies::SsoErrorBody)),
    tags(
        (name = "customers", description = "Link your users to customers on your Stripe account."),
        (name = "subscriptions", description = "Subscriptions from the mirror (`?refresh=true` pulls from Stripe)."),
        (name = "sso", description = "Single sign-on into the hosted subscriber portal."),
        (name = "oauth", description = "OAuth 2.0, at django-oauth-toolkit's URLs."),
        (name = "meta", description = "Who you are, and this document."),
    ),
)]
pub struct ApiDoc;
