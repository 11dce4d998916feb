//! CSRF protection for everything a browser posts with the session cookie: pages' forms and
//! Leptos server functions. Two independent checks, both required on unsafe methods:
//! 1. the request comes from this site (`Origin`, else `Sec-Fetch-Site`, must not be foreign);
//! 2. it carries the session's synchronizer token, in the `csrf_token` form field or the
//!    `X-CSRF-Token` header, compared in constant time.
//!
//! Routes that authenticate without cookies (bearer tokens, client credentials, webhooks) are
//! not behind this layer. Before login the token lives in its own cookie (a double-submit
//! cookie, `__Host-` prefixed in production so no subdomain can plant one), not in a session:
//! a page view writes no row, so cookieless traffic cannot fill the sessions table. At login the
//! session gets a fresh token, which from then on is the one that counts.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::crypto::{constant_time_eq, random_token};
use crate::error::AppError;
use crate::http::wire::{error_response, wants_html};
use crate::state::AppState;

const SESSION_KEY: &str = "csrf_token";
/// The pre-login token's cookie.
const COOKIE: &str = "subgate_csrf";
const COOKIE_PRODUCTION: &str = "__Host-subgate_csrf";
pub const FORM_FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";
/// Forms that carry a CSRF token are small; anything larger is refused before parsing.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The current session's token, put in the request extensions for the pages to render.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

pub async fn rotate(session: &Session) -> Result<String, AppError> {
    let token = random_token(32);
    session.insert(SESSION_KEY, &token).await?;
    Ok(token)
}

pub async fn middleware(
    State(state): State<AppState>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    let production = state.config.is_production();
    let cookie_name = if production {
        COOKIE_PRODUCTION
    } else {
        COOKIE
    };
    let stored = match session.get::<String>(SESSION_KEY).await {
        Ok(Some(t)) => Some(t),
        Ok(None) => crate::http::wire::cookie_value(req.headers(), cookie_name),
        Err(e) => return error_response(req.headers(), e.into()),
    };
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut req = if safe {
        req
    } else {
        match verify(&state, stored.as_deref(), req).await {
            Ok(req) => req,
            Err((headers, path, e)) => return reject(&headers, &path, e),
        }
    };
    // only a page view hands out a token: API calls and assets need none
    let new_token =
        (stored.is_none() && safe && wants_html(req.headers())).then(|| random_token(32));
    if let Some(token) = stored.clone().or_else(|| new_token.clone()) {
        req.extensions_mut().insert(CsrfToken(token));
    }
    let mut res = next.run(req).await;
    if let Some(token) = new_token {
        let cookie = format!(
            "{cookie_name}={token}; Path=/; HttpOnly; SameSite=Lax{}",
            if production { "; Secure" } else { "" }
        );
        if let Ok(v) = header::HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

type Rejection = (HeaderMap, String, AppError);

async fn verify(
    state: &AppState,
    stored: Option<&str>,
    req: Request,
) -> Result<Request, Rejection> {
    let headers = req.headers().clone();
    let path = req.uri().path().to_string();
    let fail = |e| (headers.clone(), path.clone(), e);
    if !same_origin(&headers, &state.config.public_origin()) {
        tracing::warn!(path = %path, "cross-origin unsafe request refused");
        return Err(fail(AppError::Csrf));
    }
    let Some(stored) = stored else {
        return Err(fail(AppError::Csrf));
    };

    if let Some(sent) = headers.get(HEADER).and_then(|v| v.to_str().ok()) {
        return if constant_time_eq(sent.as_bytes(), stored.as_bytes()) {
            Ok(req)
        } else {
            Err(fail(AppError::Csrf))
        };
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(fail(AppError::Csrf));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| fail(AppError::PayloadTooLarge))?;
    let sent = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == FORM_FIELD)
        .map(|(_, v)| v.into_owned());
    match sent {
        Some(sent) if constant_time_eq(sent.as_bytes(), stored.as_bytes()) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(fail(AppError::Csrf)),
    }
}

/// For JSON requests made with the session (the browsable API): same origin and a valid
/// `X-CSRF-Token` header.
pub async fn header_token_valid(
    session: &Session,
    headers: &HeaderMap,
    state: &AppState,
    _parts: &axum::http::request::Parts,
) -> bool {
    if !same_origin(headers, &state.config.public_origin()) {
        return false;
    }
    let Ok(Some(stored)) = session.get::<String>(SESSION_KEY).await else {
        return false;
    };
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| constant_time_eq(sent.as_bytes(), stored.as_bytes()))
}

/// `Origin` (or, without it, `Sec-Fetch-Site`) says the request was made by a page of this site:
/// the configured public origin, never one made up from the request's own `Host` header (which
/// whoever sends the request chooses, e.g. through DNS rebinding). A loopback public origin also
/// accepts its loopback aliases (`localhost`, `127.0.0.1`, `[::1]` on the same port).
pub(crate) fn same_origin(headers: &HeaderMap, public_origin: &str) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        return origin == public_origin || loopback_alias(origin, public_origin);
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        // neither header (old browsers, scripts): the token alone decides
        None => true,
    }
}

fn loopback_alias(origin: &str, public_origin: &str) -> bool {
    let loopback = |raw: &str| {
        let url = url::Url::parse(raw).ok()?;
        let is_loopback = match url.host()? {
            url::Host::Domain(d) => d == "localhost",
            url::Host::Ipv4(ip) => ip.is_loopback(),
            url::Host::Ipv6(ip) => ip.is_loopback(),
        };
        is_loopback.then(|| (url.scheme().to_string(), url.port_or_known_default()))
    };
    matches!((loopback(origin), loopback(public_origin)), (Some(a), Some(b)) if a == b)
}

fn reject(headers: &HeaderMap, path: &str, error: AppError) -> Response {
    if path.starts_with("/fn/") && !wants_html(headers) {
        // server functions decode their errors with the error type's own encoding
        let body = serde_json::to_string(&error).unwrap_or_default();
        let status = axum::http::StatusCode::from_u16(error.status())
            .unwrap_or(axum::http::StatusCode::FORBIDDEN);
        return (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    error_response(headers, error)
}

#[cfg(test)]
mod tests {
    use super::same_origin;
    use axum::http::HeaderMap;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| ((*k).parse().expect("name"), v.parse().expect("value")))
            .collect()
    }

    #[test]
    fn foreign_origins_are_refused() {
        assert!(!same_origin(
            &h(&[("origin", "https://evil.test"), ("host", "app.test")]),
            "https://app.test"
        ));
        assert!(!same_origin(
            &h(&[("origin", "null"), ("host", "app.test")]),
            "https://app.test"
        ));
        assert!(!same_origin(
            &h(&[("sec-fetch-site", "cross-site")]),
            "https://app.test"
        ));
        assert!(!same_origin(
            &h(&[("origin", "http://app.test"), ("host", "app.test")]),
            "https://app.test"
        ));
    }

    #[test]
    fn an_origin_matching_only_the_attackers_host_header_is_refused() {
        // DNS rebinding: evil.test resolves to this server, the browser sends Host: evil.test
        assert!(!same_origin(
            &h(&[("origin", "https://evil.test"), ("host", "evil.test")]),
            "https://app.test"
        ));
        assert!(!same_origin(
            &h(&[
                ("origin", "http://localhost:3000"),
                ("host", "localhost:3000")
            ]),
            "https://app.test"
        ));
        assert!(!same_origin(
            &h(&[
                ("origin", "http://localhost:4000"),
                ("host", "localhost:4000")
            ]),
            "http://127.0.0.1:3000"
        ));
    }

    #[test]
    fn own_origin_is_accepted() {
        assert!(same_origin(
            &h(&[("origin", "https://app.test"), ("host", "app.test")]),
            "https://app.test"
        ));
        assert!(same_origin(
            &h(&[
                ("origin", "http://localhost:3000"),
                ("host", "localhost:3000")
            ]),
            "http://127.0.0.1:3000"
        ));
        assert!(same_origin(
            &h(&[("sec-fetch-site", "same-origin")]),
            "https://app.test"
        ));
    }
}
