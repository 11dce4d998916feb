//! The simulator's HTTP surface: the router, Stripe's way of answering (JSON errors with a
//! `Request-Id`), and Connect OAuth (`/oauth/…`). The REST API is in `api.rs`, the simulated
//! customer portal in `portal.rs`, the control plane in `control.rs`.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};
use tower_http::set_header::SetResponseHeaderLayer;

use super::objects::new_id;
use super::{api, control, lock, portal, Faults, RecordedRequest, Simulator};
use crate::crypto::constant_time_eq;

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route(
            "/oauth/authorize",
            get(authorize_page).post(authorize_decision),
        )
        .route("/oauth/token", post(token))
        .route("/oauth/deauthorize", post(deauthorize))
        .route("/v1/{*path}", any(api::api))
        .route(
            "/portal/session/{secret}",
            get(portal::portal_page).post(portal::portal_action),
        )
        .merge(control::routes())
        // its pages carry secrets in their URLs (a portal session, an OAuth request): never
        // framed, never passed on as a referrer, never sniffed into another type
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .with_state(sim)
}

/// Text for HTML, escaped (the simulator's pages are its own: it shares no code with the
/// product's UI).
pub(super) fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

// ---------------------------------------------------------------------------------------------
// parameters and answers

/// Form or query parameters in order (Stripe's bracket syntax is kept in the keys).
pub(super) struct Params(pub(super) Vec<(String, String)>);

impl Params {
    pub(super) fn parse(raw: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name[]=a&name[]=b` or `name[0]=a&name[1]=b`.
    pub(super) fn list(&self, name: &str) -> Vec<&str> {
        let prefix = format!("{name}[");
        self.0
            .iter()
            .filter(|(k, _)| {
                k.starts_with(&prefix) && k.ends_with(']') && !k[prefix.len()..].contains('[')
            })
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `name[key]=value` pairs (metadata).
    pub(super) fn map(&self, name: &str) -> Vec<(String, String)> {
        let prefix = format!("{name}[");
        self.0
            .iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix(&prefix)?.strip_suffix(']')?;
                (!key.contains('[')).then(|| (key.to_string(), v.clone()))
            })
            .collect()
    }
}

pub(super) fn with_request_id(mut res: Response, request_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        res.headers_mut().insert("request-id", v);
    }
    res
}

pub(super) fn ok(body: Value, request_id: &str) -> Response {
    with_request_id((StatusCode::OK, Json(body)).into_response(), request_id)
}

/// Stripe's error body, with the dashboard log URL that carries the request id.
pub(super) fn stripe_error(
    status: StatusCode,
    kind: &str,
    code: Option<&str>,
    message: &str,
    param: Option<&str>,
    request_id: &str,
) -> Response {
    let mut error = json!({
        "type": kind, "message": message,
        "request_log_url": format!("https://dashboard.stripe.com/test/logs/{request_id}?t=0"),
    });
    if let Some(code) = code {
        error["code"] = json!(code);
        error["doc_url"] = json!(format!(
            "https://stripe.com/docs/error-codes/{}",
            code.replace('_', "-")
        ));
    }
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    with_request_id(
        (status, Json(json!({ "error": error }))).into_response(),
        request_id,
    )
}

pub(super) fn missing(what: &str, id: &str, param: &str, request_id: &str) -> Response {
    stripe_error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        Some("resource_missing"),
        &format!("No such {what}: '{id}'"),
        Some(param),
        request_id,
    )
}

pub(super) fn invalid(message: &str, param: Option<&str>, request_id: &str) -> Response {
    stripe_error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        None,
        message,
        param,
        request_id,
    )
}

/// The secret key of `Authorization: Bearer …` or Basic (key as user name), or a form field.
pub(super) fn presented_key(headers: &HeaderMap, form: Option<&Params>) -> Option<String> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Some((scheme, rest)) = auth.and_then(|a| a.split_once(' ')) {
        if scheme.eq_ignore_ascii_case("bearer") {
            return Some(rest.trim().to_string());
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()?;
            let decoded = String::from_utf8(decoded).ok()?;
            return Some(decoded.split(':').next().unwrap_or_default().to_string());
        }
    }
    form.and_then(|f| f.get("client_secret")).map(String::from)
}

pub(super) fn masked(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let prefix = if key.starts_with("sk_live") {
        "sk_live_"
    } else {
        "sk_test_"
    };
    format!("{prefix}****{tail}")
}

impl Simulator {
    pub(super) fn key_is_valid(&self, key: Option<&str>) -> bool {
        key.is_some_and(|k| constant_time_eq(k.as_bytes(), self.config().secret_key.as_bytes()))
    }

    pub(super) async fn latency(&self) {
        let ms = self.faults().latency_ms;
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    /// A failure the test asked for, counted down.
    pub(super) fn injected_failure(&self, request_id: &str) -> Option<Response> {
        let mut log = lock(&self.inner.log);
        let faults: &mut Faults = &mut log.faults;
        if faults.rate_limit_next > 0 {
            faults.rate_limit_next -= 1;
            let mut res = stripe_error(
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_request_error",
                Some("rate_limit"),
                "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
                None,
                request_id,
            );
            // rules::RATE_LIMIT: clients follow this header rather than guess
            res.headers_mut()
                .insert("stripe-should-retry", HeaderValue::from_static("true"));
            return Some(res);
        }
        if faults.fail_next > 0 {
            faults.fail_next -= 1;
            let status = StatusCode::from_u16(if faults.fail_status == 0 {
                500
            } else {
                faults.fail_status
            })
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Some(stripe_error(
                status,
                "api_error",
                None,
                "An unknown error occurred (simulated failure).",
                None,
                request_id,
            ));
        }
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Connect OAuth

pub(super) fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\
         <body style=\"font-family:system-ui;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1e293b\">\
         <p style=\"background:#fef3c7;border:1px solid #f59e0b;padding:.5rem .75rem;border-radius:.375rem\">\
         <strong>Simulated Stripe.</strong> This is subgate's built-in Stripe simulator; no real Stripe account is involved.</p>\
         {body}</body></html>",
        title = escape_html(title)
    ))
}

pub(super) fn error_page(status: StatusCode, message: &str) -> Response {
    (
        status,
        page(
            "Simulated Stripe: error",
            &format!(
                "<h1>Something is wrong with this request</h1><p id=\"error\">{}</p>",
                escape_html(message)
            ),
        ),
    )
        .into_response()
}

fn valid_redirect(raw: &str) -> Option<url::Url> {
    url::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

fn redirect_with(uri: &url::Url, pairs: &[(&str, &str)]) -> Response {
    let mut url = uri.clone();
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

async fn authorize_page(State(sim): State<Simulator>, uri: Uri) -> Response {
    sim.latency().await;
    let p = Params::parse(uri.query().unwrap_or_default().as_bytes());
    if p.get("client_id") != Some(sim.config().client_id.as_str()) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Unknown client_id: this is not a Connect platform of this simulator.",
        );
    }
    if p.get("response_type") != Some("code") {
        return error_page(StatusCode::BAD_REQUEST, "response_type must be code.");
    }
    let Some(redirect) = p.get("redirect_uri").and_then(valid_redirect) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "redirect_uri must be an absolute http(s) URL.",
        );
    };
    let hidden = |name: &str, value: &str| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape_html(value)
        )
    };
    let field = "display:block;width:100%;margin:.25rem 0 1rem;padding:.4rem";
    let body = format!(
        "<h1>Connect your Stripe account</h1>\
         <p><strong>subgate</strong> asks for <code>{scope}</code> access to your Stripe account.</p>\
         <form method=\"post\" action=\"{action}\">{client}{state}{redirect}{scope_field}\
         <label>Business name<input name=\"business_name\" style=\"{field}\" value=\"{business}\"></label>\
         <label>Email<input name=\"email\" type=\"email\" style=\"{field}\" value=\"{email}\"></label>\
         <button id=\"connect\" name=\"decision\" value=\"approve\" style=\"padding:.5rem 1rem;background:#635bff;color:white;border:0;border-radius:.375rem\">Connect (simulated)</button> \
         <button id=\"deny\" name=\"decision\" value=\"deny\" style=\"padding:.5rem 1rem\">Deny</button></form>",
        scope = escape_html(p.get("scope").unwrap_or("read_write")),
        action = escape_html(&format!("{}/oauth/authorize", sim.config().public_base)),
        client = hidden("client_id", p.get("client_id").unwrap_or_default()),
        state = hidden("state", p.get("state").unwrap_or_default()),
        redirect = hidden("redirect_uri", redirect.as_str()),
        scope_field = hidden("scope", p.get("scope").unwrap_or("read_write")),
        business = escape_html(p.get("stripe_user[business_name]").unwrap_or_default()),
        email = escape_html(p.get("stripe_user[email]").unwrap_or_default()),
    );
    page("Simulated Stripe: connect your account", &body).into_response()
}

async fn authorize_decision(State(sim): State<Simulator>, body: Bytes) -> Response {
    let p = Params::parse(&body);
    if p.get("client_id") != Some(sim.config().client_id.as_str()) {
        return error_page(StatusCode::BAD_REQUEST, "Unknown client_id.");
    }
    let Some(redirect) = p.get("redirect_uri").and_then(valid_redirect) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "redirect_uri must be an absolute http(s) URL.",
        );
    };
    let state = p.get("state").unwrap_or_default();
    if p.get("decision") != Some("approve") {
        return redirect_with(
            &redirect,
            &[
                ("error", "access_denied"),
                ("error_description", "The user denied your request"),
                ("state", state),
            ],
        );
    }
    let code = sim.approve_authorization(
        p.get("business_name").unwrap_or_default(),
        p.get("email").unwrap_or_default(),
    );
    redirect_with(
        &redirect,
        &[
            ("code", &code),
            ("scope", p.get("scope").unwrap_or("read_write")),
            ("state", state),
        ],
    )
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

async fn oauth_preamble(sim: &Simulator, path: &str, headers: &HeaderMap, p: &Params) -> bool {
    let authorized = sim.key_is_valid(presented_key(headers, Some(p)).as_deref());
    sim.record_request(RecordedRequest {
        method: "POST".into(),
        path: path.into(),
        query: None,
        stripe_account: None,
        authorized,
        idempotency_key: None,
    });
    sim.latency().await;
    authorized
}

async fn token(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let p = Params::parse(&body);
    if !oauth_preamble(&sim, "/oauth/token", &headers, &p).await {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "No valid API key provided: send the platform secret key as client_secret.",
        );
    }
    if p.get("grant_type") != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only authorization_code is supported by the simulator.",
        );
    }
    let Some(code) = p.get("code").filter(|c| !c.is_empty()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "No code provided.",
        );
    };
    let granted = sim.change(|s, now| {
        // single use: the code is gone whatever happens next
        let result = match s.codes.remove(code) {
            Some(c) if c.expires_at > now => match s.accounts.get_mut(&c.account) {
                Some(a) => {
                    a.authorized = true;
                    Ok(a.id.clone())
                }
                None => Err(()),
            },
            _ => Err(()),
        };
        (result, vec![])
    });
    match granted {
        Ok(account) => Json(json!({
            "access_token": new_id("sk_test", 24),
            "livemode": false,
            "refresh_token": new_id("rt", 32),
            "token_type": "bearer",
            "stripe_publishable_key": new_id("pk_test", 24),
            "stripe_user_id": account,
            "scope": "read_write",
        }))
        .into_response(),
        Err(()) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            &format!("Authorization code does not exist: {code}"),
        ),
    }
}

async fn deauthorize(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let p = Params::parse(&body);
    if !oauth_preamble(&sim, "/oauth/deauthorize", &headers, &p).await {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "No valid API key provided.",
        );
    }
    if p.get("client_id") != Some(sim.config().client_id.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "Unknown client_id.",
        );
    }
    let account = p.get("stripe_user_id").unwrap_or_default().to_string();
    let connected = {
        let state = lock(&sim.inner.state);
        state.accounts.get(&account).is_some_and(|a| a.authorized)
    };
    if !connected {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            &format!("This application is not connected to stripe account {account}, or that account does not exist."),
        );
    }
    sim.deauthorize(&account);
    Json(json!({ "stripe_user_id": account })).into_response()
}
