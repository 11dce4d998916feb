//! The SSO edge: the Recurpay-compatible login call the merchant's server makes, and the
//! one-time link the subscriber's browser follows into the portal. Thin: parse, call
//! `crate::sso`, shape the answer. The login call authenticates by the HMAC alone (no cookies),
//! so browsers may call it from the merchant's storefront (CORS without credentials).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::json;

use super::extract::{json_body, ApiPath};
use super::request_meta::RequestMeta;
use super::{escape_html, path_segment};
use crate::dto::sso::{SsoLoginData, SsoLoginRequest, SsoLoginResponse};
use crate::error::AppError;
use crate::sso::{Caller, LinkRefused, LoginError, LoginRequest};
use crate::state::AppState;

pub const LOGIN_PATH: &str = "/api/v1/stores/{store}/subscribers/{subscriber_id}/login";
pub const PORTAL_COOKIE: &str = "subgate_portal";
/// `__Host-` cookies must be Secure, host-only and `Path=/`: no subdomain can plant one.
pub const PORTAL_COOKIE_PRODUCTION: &str = "__Host-subgate_portal";

/// The login call (merchant servers and storefronts).
pub fn api_router() -> Router<AppState> {
    Router::new().route(LOGIN_PATH, post(login).options(preflight))
}

/// The one-time link (subscribers' browsers).
pub fn browser_router() -> Router<AppState> {
    Router::new().route("/portal/sso/{token}", get(confirm_link).post(open_link))
}

/// The login endpoint's URL for `store`, with `{subscriber_id}` left as a placeholder.
pub fn endpoint_template(origin: &str, store: &str) -> String {
    format!(
        "{origin}/api/v1/stores/{}/subscribers/{{subscriber_id}}/login",
        path_segment(store)
    )
}

fn caller(meta: &RequestMeta, headers: &HeaderMap) -> Caller {
    Caller {
        ip: meta.client_ip,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
    }
}

fn cors(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// CORS preflight: storefronts may call the login endpoint from the browser (no credentials).
#[utoipa::path(
    options,
    path = "/api/v1/stores/{store}/subscribers/{subscriber_id}/login",
    tag = "sso",
    params(
        ("store" = String, Path, description = "Your store's slug."),
        ("subscriber_id" = String, Path, description = "Your own id for the user."),
    ),
    security(()),
    responses((status = 204, description = "POST with `Content-Type` is allowed from any origin.")),
)]
pub(crate) async fn preflight() -> Response {
    cors(
        (
            StatusCode::NO_CONTENT,
            [
                (header::ACCESS_CONTROL_ALLOW_METHODS, "POST"),
                (header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"),
                (header::ACCESS_CONTROL_MAX_AGE, "600"),
            ],
        )
            .into_response(),
    )
}

/// Logs a subscriber in: your server proves it knows the store's SSO secret with
/// `customer_hash = hex(HMAC-SHA256(key = secret, msg = subscriber_id))` and gets a one-time link
/// into the hosted portal. With "require signed timestamps" on, the body also carries `timestamp`
/// and `nonce`, and the HMAC is over `"subgate-sso-v2/{subscriber_id}/{timestamp}/{nonce}"`; each nonce works once.
#[utoipa::path(
    post,
    path = "/api/v1/stores/{store}/subscribers/{subscriber_id}/login",
    tag = "sso",
    params(
        ("store" = String, Path, description = "Your store's slug, shown on the SSO tab.", example = "acme"),
        ("subscriber_id" = String, Path, description = "Your own id for the user, as pushed to `/api/customers`.", example = "user-42"),
    ),
    request_body(content = SsoLoginRequest, content_type = "application/json"),
    security(()),
    responses(
        (status = 200, description = "The one-time link.", body = SsoLoginResponse),
        (status = 400, description = "Malformed JSON.", body = super::openapi::SsoErrorBody),
        (status = 401, description = "Invalid customer hash, or (signed mode) a timestamp outside ±300 s.", body = super::openapi::SsoErrorBody),
        (status = 403, description = "SSO is turned off for this store.", body = super::openapi::SsoErrorBody),
        (status = 404, description = "Unknown store, or no such subscriber (with a valid hash).", body = super::openapi::SsoErrorBody),
        (status = 409, description = "Signed mode: the nonce was used before.", body = super::openapi::SsoErrorBody),
        (status = 413, description = "The body is over the limit.", body = super::openapi::SsoErrorBody),
        (status = 415, description = "The body is not application/json.", body = super::openapi::SsoErrorBody),
        (status = 422, description = "A field breaks a rule (hash not 64 hex digits, id too long, missing timestamp or nonce, bad IP).", body = super::openapi::SsoErrorBody),
        (status = 429, description = "Too many failed attempts for this subscriber or store; retry after `retry_after` seconds.", body = super::openapi::SsoErrorBody),
        (status = 503, description = "Briefly unavailable; retry.", body = super::openapi::SsoErrorBody),
    ),
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    path: Result<ApiPath<(String, String)>, AppError>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let ApiPath((store, subscriber_id)) = path?;
        let input: SsoLoginRequest = json_body(&headers, &body)?;
        let request = LoginRequest {
            customer_hash: input.customer_hash,
            timestamp: input.timestamp,
            nonce: input.nonce,
            ip: input.ip,
        };
        let link = state
            .sso
            .login(
                &store,
                &subscriber_id,
                &request,
                &caller(&meta, &headers),
                state.clock.now(),
            )
            .await?;
        Ok::<_, LoginError>(SsoLoginResponse {
            success: true,
            data: SsoLoginData {
                redirection_url: format!(
                    "{}/portal/sso/{}",
                    state.config.public_origin(),
                    link.token
                ),
                expires_at: link.expires_at,
            },
        })
    }
    .await;
    let response = match result {
        Ok(body) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            Json(body),
        )
            .into_response(),
        Err(e) => login_error(e),
    };
    cors(response)
}

/// Recurpay's error shape (`success: false` and a `message`), plus the `error` code every
/// subgate API error carries.
fn login_error(e: LoginError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let retry_after = match &e {
        LoginError::App(AppError::RateLimited(secs)) => Some(*secs),
        LoginError::App(AppError::Unavailable) => Some(5),
        _ => None,
    };
    let mut body = json!({ "success": false, "error": e.code(), "message": e.to_string() });
    if let Some(secs) = retry_after {
        body["retry_after"] = json!(secs);
    }
    let mut response = (status, Json(body)).into_response();
    if let Some(v) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// The subscriber's browser follows the one-time link: a page asks them to continue, and its
/// button posts back to the same URL, which signs them in. The GET changes nothing, so a link
/// planted in another site's `<img>` or redirect cannot sign a visitor into someone else's portal.
#[utoipa::path(
    get,
    path = "/portal/sso/{token}",
    tag = "sso",
    params(("token" = String, Path, description = "The one-time token from `redirection_url`.")),
    security(()),
    responses(
        (status = 200, description = "A page whose button (a POST to this URL) opens the portal.", content_type = "text/html", body = String),
        (status = 410, description = "The link was used or has expired.", content_type = "text/html", body = String),
    ),
)]
pub(crate) async fn confirm_link(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    headers: HeaderMap,
    path: Result<ApiPath<String>, AppError>,
) -> Response {
    let Ok(ApiPath(token)) = path else {
        return dead_link(LinkRefused::Dead);
    };
    let now = state.clock.now();
    match state.sso.link_is_open(&token, now).await {
        Ok(true) => page(
            StatusCode::OK,
            "link-confirm",
            "Open your subscriptions",
            "<p class=\"mt-4 text-slate-700\">You are about to see your subscriptions and billing.</p>\
             <form method=\"post\" class=\"mt-6\"><button id=\"confirm-sso\" type=\"submit\" \
             class=\"rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white\">Continue</button></form>",
        ),
        // a dead link: trying it records why (reused, expired, SSO off) and says so; it can
        // open nothing, and should it, the session gets no cookie here
        _ => match state.sso.open_link(&token, &caller(&meta, &headers), now).await {
            Err(refused) => dead_link(refused),
            Ok(_) => dead_link(LinkRefused::Dead),
        },
    }
}

/// The confirmation page's button: consumes the link, starts a portal session (a cookie separate
/// from merchants' sessions) and goes to `/portal`. Only a page of this site may post it. Used,
/// expired or unknown links get a page telling the subscriber to go back to the store's site.
#[utoipa::path(
    post,
    path = "/portal/sso/{token}",
    tag = "sso",
    params(("token" = String, Path, description = "The one-time token from `redirection_url`.")),
    security(()),
    responses(
        (status = 303, description = "Signed in: on to `/portal`.", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 403, description = "Posted from another site.", content_type = "text/html", body = String),
        (status = 410, description = "The link was used, has expired, or SSO is off.", content_type = "text/html", body = String),
    ),
)]
pub(crate) async fn open_link(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    headers: HeaderMap,
    path: Result<ApiPath<String>, AppError>,
) -> Response {
    let Ok(ApiPath(token)) = path else {
        return dead_link(LinkRefused::Dead);
    };
    if !super::csrf::same_origin(&headers, &state.config.public_origin()) {
        return page(
            StatusCode::FORBIDDEN,
            "link-foreign",
            "Sign-in must be confirmed here",
            "<p class=\"mt-4 text-slate-700\">This sign-in came from another site. Go back to the store's website and open your subscription page again.</p>",
        );
    }
    let opened = state
        .sso
        .open_link(&token, &caller(&meta, &headers), state.clock.now())
        .await;
    match opened {
        Ok((cookie, _)) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, "/portal".to_string()),
                (header::CACHE_CONTROL, "no-store".to_string()),
                (
                    header::SET_COOKIE,
                    portal_cookie_header(&state, &cookie, crate::sso::PORTAL_SESSION_SECS),
                ),
            ],
        )
            .into_response(),
        Err(refused) => dead_link(refused),
    }
}

/// `Set-Cookie` for the subscriber's portal session (`max_age` 0 ends it).
pub fn portal_cookie_header(state: &AppState, value: &str, max_age: i64) -> String {
    let production = state.config.is_production();
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        portal_cookie_name(production),
        if production { "; Secure" } else { "" }
    )
}

pub fn portal_cookie_name(production: bool) -> &'static str {
    if production {
        PORTAL_COOKIE_PRODUCTION
    } else {
        PORTAL_COOKIE
    }
}

/// The portal session cookie's value, if the browser sent one.
pub fn portal_cookie(state: &AppState, headers: &HeaderMap) -> Option<String> {
    super::cookie_value(headers, portal_cookie_name(state.config.is_production()))
}

/// One friendly page for every link that does not open the portal: the subscriber can do
/// nothing about the reason, only go back to the merchant's site for a fresh link.
fn dead_link(refused: LinkRefused) -> Response {
    let (title, text) = match refused {
        LinkRefused::Dead => (
            "This sign-in link has expired",
            "Sign-in links work once, for a few minutes. Go back to the website where you clicked it and open your subscription page again: you will get a fresh link.",
        ),
        LinkRefused::Disabled => (
            "Sign-in is not available",
            "This store has turned off sign-in to the subscription portal. Please contact the store.",
        ),
    };
    page(
        StatusCode::GONE,
        "link-expired",
        title,
        &format!("<p class=\"mt-4 text-slate-700\">{}</p>", escape_html(text)),
    )
}

/// A small stand-alone page of the link flow (`body` is trusted HTML); never cached.
fn page(status: StatusCode, id: &str, title: &str, body: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/pkg/subgate.css\"></head>\
         <body class=\"bg-slate-100 text-slate-900 antialiased\">\
         <main id=\"{id}\" class=\"mx-auto mt-16 max-w-md rounded-xl bg-white p-8 shadow\">\
         <h1 class=\"text-2xl font-bold\">{title}</h1>{body}</main></body></html>",
        title = escape_html(title),
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
}
