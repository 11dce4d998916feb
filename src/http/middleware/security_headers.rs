//! Headers every response carries. HSTS only in production, where every request is HTTPS.
//! Responses that may carry secrets or personal data (server functions, the API, the dashboard,
//! the portal, the consent page) are `Cache-Control: no-store`: no browser or proxy keeps them.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// Paths whose responses must never be stored by a cache.
/// The account pages whose address carries a mailed one-time token are among them.
const PRIVATE_PREFIXES: [&str; 9] = [
    "/fn/",
    "/api/",
    "/dashboard",
    "/portal",
    "/o/authorize",
    "/reset-password",
    "/verify-email",
    "/confirm-email",
    "/dev/",
];

fn is_private(path: &str) -> bool {
    PRIVATE_PREFIXES.iter().any(|p| path.starts_with(p))
}

pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let private = is_private(req.uri().path());
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if private {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else if !h.contains_key(header::CACHE_CONTROL)
        && h.get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
    {
        // public pages (login, sign-up) name the bundle's current files: always revalidated
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    let mut set = |name: header::HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    if state.config.is_production() {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    res
}
