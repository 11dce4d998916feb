//! The SSO edge: the Recurpay-compatible login call the merchant's server makes, and the
//! one-time link the subscriber's browser follows into the portal. Thin: parse, call
//! `crate::sso`, shape the answer. The login call authenticates by the HMAC alone (no cookies),
//! so browsers may call it from the merchant's storefront (CORS without credentials).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{json_body, ApiPath};
use super::middleware::request_meta::RequestMeta;
use super::wire::{escape_html, path_segment};
use crate::dto::sso::{SsoLoginData, SsoLoginRequest, SsoLoginResponse};
use crate::error::AppError;
use crate::sso::{Caller, LinkRefused, LoginError, LoginRequest};
use crate::state::AppState;

pub const LOGIN_PATH: &str = "/api/v1/stores/{store}/subscribers/{subscriber_id}/login";
/// Recurpay's own path, on the store's host (`{store}.SUBGATE_SSO_DOMAIN`): a Recurpay
/// integration changes only its base URL.
pub const RECURPAY_LOGIN_PATH: &str = "/admin/api/{api_version}/subscribers/{subscriber_id}/login";
/// Names the store on Recurpay's path where no SSO domain is configured (or the host is not one
/// of its subdomains).
pub const STORE_HEADER: &str = "x-subgate-store";
pub const PORTAL_COOKIE: &str = "subgate_portal";
/// `__Host-` cookies must be Secure, host-only and `Path=/`: no subdomain can plant one.
pub const PORTAL_COOKIE_PRODUCTION: &str = "__Host-subgate_portal";

/// The login call (merchant servers and storefronts).
/// The merchant server's login call, at subgate's path and at Recurpay's.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login, preflight))
        .routes(routes!(login_at_recurpay_path, preflight_at_recurpay_path))
}

/// Whether `path` is one of the SSO login call's paths (its errors use Recurpay's envelope).
pub fn is_login_path(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    matches!(
        segments.as_slice(),
        ["api", "v1", "stores", _, "subscribers", _, "login"]
            | ["admin", "api", _, "subscribers", _, "login"]
    )
}

/// The one-time link (subscribers' browsers).
/// The one-time link the subscriber's browser opens.
pub fn browser_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(confirm_link, open_link))
}

/// The link's routes, as served.
pub fn browser_router() -> axum::Router<AppState> {
    browser_routes().split_for_parts().0
}

/// The login endpoint's URL for `store`, with `{subscriber_id}` left as a placeholder.
pub fn endpoint_template(origin: &str, store: &str) -> String {
    format!(
        "{origin}/api/v1/stores/{}/subscribers/{{subscriber_id}}/login",
        path_segment(store)
    )
}

/// Where a one-time link's token opens the portal.
pub fn link_url(state: &AppState, token: &str) -> String {
    format!("{}/portal/sso/{token}", state.config.public_origin())
}

pub(crate) fn caller(meta: &RequestMeta, headers: &HeaderMap) -> Caller {
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

/// CORS preflight of the login call at Recurpay's path.
#[utoipa::path(
    options,
    path = "/admin/api/{api_version}/subscribers/{subscriber_id}/login",
    tag = "sso",
    params(
        ("api_version" = String, Path, description = "Recurpay's API version segment; ignored."),
        ("subscriber_id" = String, Path, description = "Your own id for the user."),
    ),
    security(()),
    responses((status = 204, description = "POST with `Content-Type` is allowed from any origin.")),
)]
pub(crate) async fn preflight_at_recurpay_path() -> Response {
    preflight().await
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
        crate::http::docs::bodies::SsoLoginErrors,
    ),
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    path: Result<ApiPath<(String, String)>, AppError>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = path.map(|ApiPath(p)| p).map_err(LoginFailure::from);
    login_to(&state, &meta, &headers, &body, target).await
}

/// The login call at Recurpay's path. The store is the host's first label under
/// `SUBGATE_SSO_DOMAIN` (`acme.sso.example.com` → `acme`), else the `X-Subgate-Store` header.
#[utoipa::path(
    post,
    path = "/admin/api/{api_version}/subscribers/{subscriber_id}/login",
    tag = "sso",
    params(
        ("api_version" = String, Path, description = "Recurpay's API version segment (any, e.g. `2024-01`); ignored.", example = "2024-01"),
        ("subscriber_id" = String, Path, description = "Your own id for the user, as pushed to `/api/customers`.", example = "12345"),
        ("x-subgate-store" = Option<String>, Header, description = "The store's slug, when the host does not name it."),
    ),
    request_body(content = SsoLoginRequest, content_type = "application/json"),
    security(()),
    responses(
        (status = 200, description = "The one-time link.", body = SsoLoginResponse),
        crate::http::docs::bodies::SsoLoginErrors,
    ),
)]
pub(crate) async fn login_at_recurpay_path(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    path: Result<ApiPath<(String, String)>, AppError>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = path
        .map_err(LoginFailure::from)
        .and_then(|ApiPath((_version, subscriber_id))| {
            let store = store_named_by(state.config.sso_domain.as_deref(), &headers)?;
            Ok((store, subscriber_id))
        });
    login_to(&state, &meta, &headers, &body, target).await
}

/// The store a request at Recurpay's path is for.
fn store_named_by(sso_domain: Option<&str>, headers: &HeaderMap) -> Result<String, LoginError> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|h| h.rsplit_once(':').map_or(h, |(name, _port)| name))
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        .unwrap_or_default();
    let from_host = sso_domain.and_then(|domain| {
        host.strip_suffix(domain)
            .and_then(|rest| rest.strip_suffix('.'))
            .filter(|label| !label.is_empty() && !label.contains('.'))
            .map(String::from)
    });
    let from_header = || {
        headers
            .get(STORE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    from_host.or_else(from_header).ok_or_else(|| {
        LoginError::UnknownStore(
            "(none: call your store's host, or send the X-Subgate-Store header)".into(),
        )
    })
}

async fn login_to(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    body: &Bytes,
    target: Result<(String, String), LoginFailure>,
) -> Response {
    let result = async {
        let (store, subscriber_id) = target?;
        let input: SsoLoginRequest = json_body(headers, body)?;
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
                &caller(meta, headers),
                state.clock.now(),
            )
            .await?;
        Ok::<_, LoginFailure>(SsoLoginResponse {
            success: true,
            data: SsoLoginData {
                redirection_url: link_url(state, &link.token),
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

/// What the login call answers when it issues no link: the domain's refusal, or the edge's own
/// (a malformed path or body, a body too large, the database away, too many attempts).
pub enum LoginFailure {
    Refused(LoginError),
    Wire(AppError),
}

impl From<LoginError> for LoginFailure {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::Throttled(secs) => Self::Wire(AppError::RateLimited(secs)),
            LoginError::Sso(e) => Self::Wire(e.into()),
            refused => Self::Refused(refused),
        }
    }
}

impl From<AppError> for LoginFailure {
    fn from(e: AppError) -> Self {
        Self::Wire(e)
    }
}

impl LoginFailure {
    fn status(&self) -> StatusCode {
        let status = match self {
            Self::Refused(e) => match e {
                LoginError::InvalidHash | LoginError::StaleTimestamp(_) => 401,
                LoginError::UnknownSubscriber(_) | LoginError::UnknownStore(_) => 404,
                LoginError::Disabled => 403,
                LoginError::NonceReused => 409,
                LoginError::Validation(_) => 422,
                LoginError::Throttled(_) => 429,
                LoginError::Sso(_) => 500,
            },
            Self::Wire(e) => e.status(),
        };
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Refused(e) => match e {
                LoginError::InvalidHash => "invalid_customer_hash",
                LoginError::UnknownSubscriber(_) => "unknown_subscriber",
                LoginError::UnknownStore(_) => "unknown_store",
                LoginError::Disabled => "sso_disabled",
                LoginError::StaleTimestamp(_) => "stale_timestamp",
                LoginError::NonceReused => "nonce_reused",
                LoginError::Validation(_) => "validation",
                LoginError::Throttled(_) => "rate_limited",
                LoginError::Sso(_) => "internal",
            },
            Self::Wire(e) => e.code(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Wire(AppError::RateLimited(secs)) => Some(*secs),
            Self::Wire(AppError::Unavailable) => Some(5),
            _ => None,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Refused(e) => e.to_string(),
            Self::Wire(e) => e.to_string(),
        }
    }
}

/// Recurpay's error shape (`success: false` and a `message`), plus the `error` code every
/// subgate API error carries.
pub fn login_error(e: LoginFailure) -> Response {
    let retry_after = e.retry_after();
    let mut body = json!({ "success": false, "error": e.code(), "message": e.message() });
    if let Some(secs) = retry_after {
        body["retry_after"] = json!(secs);
    }
    let mut response = (e.status(), Json(body)).into_response();
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
        return dead_link(LinkRefused::Dead, None);
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
            None,
        ),
        // a dead link: trying it records why (reused, expired, SSO off) and says so; it can
        // open nothing, and should it, the session gets no cookie here
        _ => {
            let refused = match state.sso.open_link(&token, &caller(&meta, &headers), now).await {
                Err(refused) => refused,
                Ok(_) => LinkRefused::Dead,
            };
            dead_link(refused, store_of_link(&state, &token).await)
        }
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
        return dead_link(LinkRefused::Dead, None);
    };
    if !super::middleware::csrf::same_origin(&headers, &state.config.public_origin()) {
        return page(
            StatusCode::FORBIDDEN,
            "link-foreign",
            "Sign-in must be confirmed here",
            "<p class=\"mt-4 text-slate-700\">This sign-in came from another site. Go back to the store's website and open your subscription page again.</p>",
            None,
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
        Err(refused) => dead_link(refused, store_of_link(&state, &token).await),
    }
}

/// The store that issued a dead link, for its page (none if the link is unknown or swept).
async fn store_of_link(state: &AppState, token: &str) -> Option<crate::portal::StoreFace> {
    state
        .portal
        .face_of_link(token)
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "finding a dead link's store failed"))
        .ok()
        .flatten()
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
    super::wire::cookie_value(headers, portal_cookie_name(state.config.is_production()))
}

/// One friendly page for every link that does not open the portal: the subscriber can do
/// nothing about the reason, only go back to the merchant's site for a fresh link (with the
/// store's name, logo, way back and support address when the link is known).
fn dead_link(refused: LinkRefused, store: Option<crate::portal::StoreFace>) -> Response {
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
        store.as_ref(),
    )
}

/// A small stand-alone page of the link flow (`body` is trusted HTML), in the store's colours
/// when `store` is known; never cached, and under a policy that runs no script at all.
fn page(
    status: StatusCode,
    id: &str,
    title: &str,
    body: &str,
    store: Option<&crate::portal::StoreFace>,
) -> Response {
    let b = store.map(|s| &s.branding);
    let name = store
        .map(|s| escape_html(&s.business_name))
        .unwrap_or_default();
    let logo = b.and_then(|b| b.logo_url.as_deref()).map(|src| {
        format!(
            "<img id=\"portal-logo\" src=\"{}\" alt=\"{name} logo\" referrerpolicy=\"no-referrer\" class=\"mb-3 h-10 w-auto max-w-full\">",
            escape_html(src)
        )
    });
    let back = b.and_then(|b| b.store_url.as_deref()).map(|url| {
        format!(
            "<p class=\"mt-6\"><a id=\"portal-back\" href=\"{}\" class=\"text-sm text-indigo-700 underline\">← Back to {name}</a></p>",
            escape_html(url)
        )
    });
    let support = b.and_then(|b| b.support_email.as_deref()).map(|email| {
        let email = escape_html(email);
        format!(
            "<p id=\"portal-support\" class=\"mt-4 text-sm text-slate-600\">Questions? Write to <a href=\"mailto:{email}\" class=\"text-indigo-700 underline\">{email}</a>.</p>"
        )
    });
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"{css}\"></head>\
         <body class=\"bg-slate-100 text-slate-900 antialiased\">\
         <main id=\"{id}\" class=\"mx-auto mt-16 max-w-md rounded-xl bg-white p-8 shadow\" data-store=\"{name}\">\
         {logo}<h1 class=\"text-2xl font-bold\">{title}</h1>{body}{back}{support}</main></body></html>",
        title = escape_html(title),
        css = crate::http::assets::stylesheet_href(),
        logo = logo.unwrap_or_default(),
        back = back.unwrap_or_default(),
        support = support.unwrap_or_default(),
    );
    let images = b
        .and_then(|b| b.logo_url.as_deref())
        .and_then(crate::portal::image_origin)
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'{images}; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = (status, [(header::CACHE_CONTROL, "no-store")], Html(page)).into_response();
    if let Ok(value) = header::HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}
