//! The simulator's HTTP surface: Connect OAuth (`/oauth/…`), the REST API (`/v1/…`, one
//! dispatcher so every call is authenticated, recorded and exposed to faults the same way), the
//! simulated customer portal (`/portal/session/…`) and the control plane (`/_sim/…`).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use super::objects::{self, new_id};
use super::state::{Account, PortalSession};
use super::{lock, Faults, RecordedRequest, Simulator};
use crate::crypto::constant_time_eq;
use crate::http::escape_html;

/// Portal sessions stay usable this long.
const PORTAL_TTL: i64 = 3600;

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route(
            "/oauth/authorize",
            get(authorize_page).post(authorize_decision),
        )
        .route("/oauth/token", post(token))
        .route("/oauth/deauthorize", post(deauthorize))
        .route("/v1/{*path}", any(api))
        .route(
            "/portal/session/{secret}",
            get(portal_page).post(portal_action),
        )
        .route("/_sim", get(index))
        .route("/_sim/", get(index))
        .route("/_sim/accounts", get(sim_accounts).post(sim_create_account))
        .route(
            "/_sim/accounts/{account}/deauthorize",
            post(sim_deauthorize),
        )
        .route(
            "/_sim/accounts/{account}/portal_configuration",
            post(sim_portal_configuration),
        )
        .route(
            "/_sim/accounts/{account}/customers",
            post(sim_create_customer),
        )
        .route(
            "/_sim/accounts/{account}/subscriptions",
            post(sim_create_subscription),
        )
        .route(
            "/_sim/accounts/{account}/subscriptions/{id}",
            post(sim_update_subscription).delete(sim_cancel_subscription),
        )
        .route(
            "/_sim/faults",
            get(sim_faults)
                .post(sim_set_faults)
                .delete(sim_clear_faults),
        )
        .route("/_sim/requests", get(sim_requests))
        .route("/_sim/events", get(sim_events))
        .with_state(sim)
}

// ---------------------------------------------------------------------------------------------
// parameters and answers

/// Form or query parameters in order (Stripe's bracket syntax is kept in the keys).
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name[]=a&name[]=b` or `name[0]=a&name[1]=b`.
    fn list(&self, name: &str) -> Vec<&str> {
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
    fn map(&self, name: &str) -> Vec<(String, String)> {
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

fn with_request_id(mut res: Response, request_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        res.headers_mut().insert("request-id", v);
    }
    res
}

fn ok(body: Value, request_id: &str) -> Response {
    with_request_id((StatusCode::OK, Json(body)).into_response(), request_id)
}

/// Stripe's error body, with the dashboard log URL that carries the request id.
fn stripe_error(
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

fn missing(what: &str, id: &str, param: &str, request_id: &str) -> Response {
    stripe_error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        Some("resource_missing"),
        &format!("No such {what}: '{id}'"),
        Some(param),
        request_id,
    )
}

fn invalid(message: &str, param: Option<&str>, request_id: &str) -> Response {
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
fn presented_key(headers: &HeaderMap, form: Option<&Params>) -> Option<String> {
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

fn masked(key: &str) -> String {
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
    fn key_is_valid(&self, key: Option<&str>) -> bool {
        key.is_some_and(|k| constant_time_eq(k.as_bytes(), self.config().secret_key.as_bytes()))
    }

    async fn latency(&self) {
        let ms = self.faults().latency_ms;
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    /// A failure the test asked for, counted down.
    fn injected_failure(&self, request_id: &str) -> Option<Response> {
        let mut log = lock(&self.inner.log);
        let faults: &mut Faults = &mut log.faults;
        if faults.rate_limit_next > 0 {
            faults.rate_limit_next -= 1;
            return Some(stripe_error(
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_request_error",
                Some("rate_limit"),
                "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
                None,
                request_id,
            ));
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

fn page(title: &str, body: &str) -> Html<String> {
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

fn error_page(status: StatusCode, message: &str) -> Response {
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

// ---------------------------------------------------------------------------------------------
// the REST API

async fn api(
    State(sim): State<Simulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = new_id("req", 14);
    let query = uri.query().map(String::from);
    let params = if method == Method::GET || method == Method::DELETE {
        Params::parse(query.as_deref().unwrap_or_default().as_bytes())
    } else {
        Params::parse(&body)
    };
    let key = presented_key(&headers, None);
    let authorized = sim.key_is_valid(key.as_deref());
    let stripe_account = headers
        .get("stripe-account")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    sim.record_request(RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        query,
        stripe_account: stripe_account.clone(),
        authorized,
        idempotency_key: headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(String::from),
    });
    sim.latency().await;
    if !authorized {
        let message = match key {
            Some(k) => format!("Invalid API Key provided: {}", masked(&k)),
            None => "You did not provide an API key.".into(),
        };
        return stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            &message,
            None,
            &request_id,
        );
    }
    if let Some(failure) = sim.injected_failure(&request_id) {
        return failure;
    }
    let segments: Vec<&str> = uri
        .path()
        .trim_start_matches("/v1/")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let platform = Account::new("subgate platform", "", 0);
    let mut state = lock(&sim.inner.state);
    // the connected account the request acts on (the platform itself without the header)
    let acting: &mut Account = match &stripe_account {
        Some(id) => match state.accounts.get_mut(id) {
            Some(a) if a.authorized => a,
            _ => {
                let masked_key = masked(&sim.config().secret_key);
                return stripe_error(
                    StatusCode::FORBIDDEN,
                    "invalid_request_error",
                    Some("account_invalid"),
                    &format!("The provided key '{masked_key}' does not have access to account '{id}' (or that account does not exist). Application access may have been revoked."),
                    None,
                    &request_id,
                );
            }
        },
        None => {
            drop(state);
            return platform_request(&sim, &method, &segments, &platform, &request_id);
        }
    };
    let now = sim.now();
    let rid = request_id.as_str();
    let (response, changes) = match (method.clone(), segments.as_slice()) {
        (Method::GET, ["account"]) => (ok(account_object(acting), rid), vec![]),
        (Method::GET, ["accounts", id]) if *id == acting.id => (ok(account_object(acting), rid), vec![]),
        (Method::POST, ["customers"]) => {
            let id = acting.add_customer(
                params.get("email").unwrap_or_default(),
                params.get("name").unwrap_or_default(),
                now,
            );
            (ok(acting.customers[&id].clone(), rid), vec![])
        }
        (Method::GET, ["customers"]) => {
            let data: Vec<Value> = acting
                .customers
                .values()
                .filter(|c| c["deleted"] != json!(true))
                .cloned()
                .collect();
            (ok(list(data, false, "/v1/customers"), rid), vec![])
        }
        (Method::GET, ["customers", id]) => match acting.customers.get(*id) {
            Some(c) => (ok(c.clone(), rid), vec![]),
            None => (missing("customer", id, "id", rid), vec![]),
        },
        (Method::DELETE, ["customers", id]) => match acting.delete_customer(id, now) {
            Ok(changes) => (ok(objects::deleted_customer(id), rid), changes),
            Err(_) => (missing("customer", id, "id", rid), vec![]),
        },
        (Method::POST, ["products"]) => {
            let p = objects::product(params.get("name").unwrap_or("Product"), now);
            let id = p["id"].as_str().unwrap_or_default().to_string();
            acting.products.insert(id, p.clone());
            (ok(p, rid), vec![])
        }
        (Method::POST, ["prices"]) => match params.get("product").and_then(|p| acting.products.get(p)).cloned() {
            Some(product) => {
                let price = objects::price(
                    product["id"].as_str().unwrap_or_default(),
                    params.get("unit_amount").and_then(|a| a.parse().ok()).unwrap_or(0),
                    params.get("currency").unwrap_or("usd"),
                    params.get("recurring[interval]").unwrap_or("month"),
                    params.get("recurring[interval_count]").and_then(|c| c.parse().ok()).unwrap_or(1),
                    now,
                );
                let id = price["id"].as_str().unwrap_or_default().to_string();
                acting.prices.insert(id, price.clone());
                (ok(price, rid), vec![])
            }
            None => (missing("product", params.get("product").unwrap_or_default(), "product", rid), vec![]),
        },
        (Method::GET, ["subscriptions"]) => (list_subscriptions(acting, &params, rid), vec![]),
        (Method::GET, ["subscriptions", id]) => {
            let expand = params.list("expand").iter().any(|e| e.ends_with("price.product"));
            match acting.render_subscription(id, expand) {
                Some(s) => (ok(s, rid), vec![]),
                None => (missing("subscription", id, "id", rid), vec![]),
            }
        }
        (Method::POST, ["subscriptions"]) => {
            let customer = params.get("customer").unwrap_or_default();
            let price = params.get("items[0][price]").unwrap_or_default();
            let quantity = params.get("items[0][quantity]").and_then(|q| q.parse().ok()).unwrap_or(1);
            let trial = params.get("trial_period_days").and_then(|d| d.parse().ok());
            match acting.create_subscription(customer, price, quantity, trial, now, now) {
                Ok((id, change)) => (
                    ok(acting.render_subscription(&id, false).unwrap_or_default(), rid),
                    vec![change],
                ),
                Err(m) => (invalid(&m, Some("customer"), rid), vec![]),
            }
        }
        (Method::POST, ["subscriptions", id]) => {
            let mut changes = vec![];
            let mut failure = None;
            if let Some(flag) = params.get("cancel_at_period_end") {
                match acting.set_cancel_at_period_end(id, flag == "true") {
                    Ok(c) => changes.push(c),
                    Err(m) => failure = Some(m),
                }
            }
            let metadata = params.map("metadata");
            if failure.is_none() && !metadata.is_empty() {
                match acting.set_metadata(id, &metadata) {
                    Ok(c) => changes.push(c),
                    Err(m) => failure = Some(m),
                }
            }
            match (failure, acting.render_subscription(id, false)) {
                (None, Some(s)) => (ok(s, rid), changes),
                (Some(m), Some(_)) => (invalid(&m, None, rid), vec![]),
                (_, None) => (missing("subscription", id, "id", rid), vec![]),
            }
        }
        (Method::DELETE, ["subscriptions", id]) => match acting.cancel_subscription(id, now) {
            Ok(change) => (ok(acting.render_subscription(id, false).unwrap_or_default(), rid), vec![change]),
            Err(_) => (missing("subscription", id, "id", rid), vec![]),
        },
        (Method::POST, ["billing_portal", "sessions"]) => {
            let customer = params.get("customer").unwrap_or_default().to_string();
            if customer.is_empty() {
                (invalid("Missing required param: customer.", Some("customer"), rid), vec![])
            } else if !acting.customers.contains_key(&customer) || acting.is_deleted(&customer) {
                (missing("customer", &customer, "customer", rid), vec![])
            } else if !acting.portal_configured && params.get("configuration").is_none() {
                (invalid("No configuration provided and your test mode default configuration has not been created. Provide a configuration or create your default by saving your customer portal settings in test mode at https://dashboard.stripe.com/test/settings/billing/portal.", None, rid), vec![])
            } else {
                let secret = new_id("sess", 32);
                let url = format!("{}/portal/session/{secret}", sim.config().public_base);
                let return_url = params.get("return_url").map(String::from);
                let session = objects::portal_session(&customer, return_url.as_deref(), &url, now);
                let account_id = acting.id.clone();
                state.portal_sessions.retain(|_, s| s.expires_at > now);
                state.portal_sessions.insert(
                    secret,
                    PortalSession { account: account_id, customer, return_url, expires_at: now + PORTAL_TTL },
                );
                (ok(session, rid), vec![])
            }
        }
        _ => (
            stripe_error(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                None,
                &format!("Unrecognized request URL ({method}: {}). The simulator implements only what subgate uses.", uri.path()),
                None,
                rid,
            ),
            vec![],
        ),
    };
    sim.save(&state);
    drop(state);
    for (kind, account, object, previous) in changes {
        sim.emit(kind, &account, object, previous);
    }
    response
}

/// Requests without `Stripe-Account`: the platform's own account, which has no customers.
fn platform_request(
    sim: &Simulator,
    method: &Method,
    segments: &[&str],
    platform: &Account,
    request_id: &str,
) -> Response {
    match (method.clone(), segments) {
        (Method::GET, ["account"]) => {
            let mut a = account_object(platform);
            a["id"] = json!(format!("acct_platform_{}", sim.config().client_id));
            ok(a, request_id)
        }
        (Method::GET, ["customers", id]) => missing("customer", id, "id", request_id),
        (Method::GET, ["subscriptions", id]) => missing("subscription", id, "id", request_id),
        (Method::GET, ["subscriptions"]) | (Method::GET, ["customers"]) => {
            ok(list(vec![], false, "/v1/subscriptions"), request_id)
        }
        _ => invalid(
            "The simulator's platform account has no data: send Stripe-Account.",
            None,
            request_id,
        ),
    }
}

fn account_object(a: &Account) -> Value {
    objects::account(&a.id, &a.business_name, &a.email, a.created)
}

fn list(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

fn list_subscriptions(acting: &Account, params: &Params, request_id: &str) -> Response {
    let status = params.get("status");
    let customer = params.get("customer");
    let limit = params
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return invalid(
            "Invalid limit: must be between 1 and 100",
            Some("limit"),
            request_id,
        );
    }
    let expand = params
        .list("expand")
        .iter()
        .any(|e| e.ends_with("price.product"));
    let mut all: Vec<&Value> = acting
        .subscriptions
        .values()
        .filter(|s| customer.is_none_or(|c| s["customer"] == json!(c)))
        .filter(|s| match status {
            None => s["status"] != "canceled",
            Some("all") => true,
            Some("ended") => s["status"] == "canceled" || s["status"] == "incomplete_expired",
            Some(wanted) => s["status"] == json!(wanted),
        })
        .collect();
    // newest first, like Stripe
    all.sort_by(|a, b| {
        b["created"]
            .as_i64()
            .cmp(&a["created"].as_i64())
            .then_with(|| b["id"].as_str().cmp(&a["id"].as_str()))
    });
    let start = match params.get("starting_after") {
        Some(after) => match all.iter().position(|s| s["id"] == json!(after)) {
            Some(i) => i + 1,
            None => return missing("subscription", after, "starting_after", request_id),
        },
        None => 0,
    };
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .filter_map(|s| acting.render_subscription(s["id"].as_str().unwrap_or_default(), expand))
        .collect();
    let has_more = all.len() > start + page.len();
    ok(list(page, has_more, "/v1/subscriptions"), request_id)
}

// ---------------------------------------------------------------------------------------------
// the simulated customer portal

fn money(amount: Option<i64>, currency: &str) -> String {
    match amount {
        Some(a) => format!("{}.{:02} {}", a / 100, a % 100, currency.to_uppercase()),
        None => "—".into(),
    }
}

fn date(secs: Option<i64>) -> String {
    secs.map(crate::ui::components::format_date)
        .unwrap_or_else(|| "—".into())
}

async fn portal_page(State(sim): State<Simulator>, Path(secret): Path<String>) -> Response {
    let now = sim.now();
    let state = lock(&sim.inner.state);
    let Some(session) = state
        .portal_sessions
        .get(&secret)
        .filter(|s| s.expires_at > now)
    else {
        return error_page(
            StatusCode::NOT_FOUND,
            "This customer portal session has expired. Go back and open it again.",
        );
    };
    let Some(account) = state.accounts.get(&session.account) else {
        return error_page(StatusCode::NOT_FOUND, "Unknown account.");
    };
    let email = account
        .customers
        .get(&session.customer)
        .and_then(|c| c["email"].as_str())
        .unwrap_or_default();
    let mut rows = String::new();
    for (id, s) in &account.subscriptions {
        if s["customer"] != json!(session.customer) {
            continue;
        }
        let Some(s) = account.render_subscription(id, true) else {
            continue;
        };
        let item = &s["items"]["data"][0];
        let price = &item["price"];
        let status = s["status"].as_str().unwrap_or_default();
        let cancels = s["cancel_at_period_end"] == json!(true);
        let actions = if status == "canceled" {
            String::new()
        } else {
            let button = |value: &str, label: &str| {
                format!("<button name=\"action\" value=\"{value}\">{label}</button> ")
            };
            format!(
                "<form method=\"post\"><input type=\"hidden\" name=\"subscription\" value=\"{id}\">{}{}</form>",
                if cancels { button("renew", "Renew plan") } else { button("cancel_at_period_end", "Cancel plan") },
                button("cancel_now", "Cancel immediately"),
                id = escape_html(id),
            )
        };
        rows.push_str(&format!(
            "<li data-subscription-id=\"{id}\" data-status=\"{status}\" style=\"margin:1rem 0\"><strong>{product}</strong> · {amount} / {interval} · <span class=\"status\">{status}</span>\
             <br>Renews {renews}{note}{actions}</li>",
            id = escape_html(id),
            product = escape_html(price["product"]["name"].as_str().unwrap_or("Plan")),
            amount = money(price["unit_amount"].as_i64(), price["currency"].as_str().unwrap_or("usd")),
            interval = escape_html(price["recurring"]["interval"].as_str().unwrap_or("once")),
            status = escape_html(status),
            renews = date(objects::current_period_end(&s)),
            note = if cancels { " · <em>Cancels at period end</em>" } else { "" },
        ));
    }
    let back = session
        .return_url
        .as_deref()
        .map(|u| {
            format!(
                "<p><a id=\"return\" href=\"{}\">← Return to {}</a></p>",
                escape_html(u),
                escape_html(&account.business_name)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1 id=\"portal-title\">{business}</h1><p>Signed in as <span id=\"portal-customer\">{email}</span></p>\
         <h2>Your subscriptions</h2><ul id=\"portal-subscriptions\">{rows}</ul>{back}",
        business = escape_html(&account.business_name),
        email = escape_html(email),
    );
    page("Simulated Stripe customer portal", &body).into_response()
}

async fn portal_action(
    State(sim): State<Simulator>,
    Path(secret): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let p = Params::parse(&body);
    let now = sim.now();
    let session = {
        let state = lock(&sim.inner.state);
        state
            .portal_sessions
            .get(&secret)
            .filter(|s| s.expires_at > now)
            .cloned()
    };
    let Some(session) = session else {
        return error_page(
            StatusCode::NOT_FOUND,
            "This customer portal session has expired.",
        );
    };
    let subscription = p.get("subscription").unwrap_or_default().to_string();
    let owned = {
        let state = lock(&sim.inner.state);
        state
            .accounts
            .get(&session.account)
            .and_then(|a| a.subscriptions.get(&subscription))
            .is_some_and(|s| s["customer"] == json!(session.customer))
    };
    if !owned {
        return error_page(
            StatusCode::NOT_FOUND,
            "No such subscription for this customer.",
        );
    }
    match p.get("action") {
        Some("cancel_at_period_end") => {
            sim.set_cancel_at_period_end(&session.account, &subscription, true)
        }
        Some("renew") => sim.set_cancel_at_period_end(&session.account, &subscription, false),
        Some("cancel_now") => sim.cancel_subscription(&session.account, &subscription),
        _ => return error_page(StatusCode::BAD_REQUEST, "Unknown action."),
    }
    // back to the page itself, wherever the simulator is mounted
    let here = format!("{}{}", sim.config().public_base, uri.path());
    (StatusCode::SEE_OTHER, [(header::LOCATION, here)]).into_response()
}

// ---------------------------------------------------------------------------------------------
// the control plane

async fn index(State(sim): State<Simulator>) -> Html<String> {
    let mut rows = String::new();
    for a in sim.accounts() {
        rows.push_str(&format!(
            "<li><code>{}</code> {} &lt;{}&gt; · {} · {} customers, {} subscriptions</li>",
            escape_html(&a.id),
            escape_html(&a.business_name),
            escape_html(&a.email),
            if a.authorized {
                "connected"
            } else {
                "not connected"
            },
            a.customers.len(),
            a.subscriptions.len()
        ));
    }
    page(
        "Stripe simulator",
        &format!("<h1>Stripe simulator</h1><p>Accounts:</p><ul>{rows}</ul><p>JSON: <a href=\"accounts\">accounts</a>, <a href=\"events\">events</a>, <a href=\"requests\">requests</a>, <a href=\"faults\">faults</a>.</p>"),
    )
}

async fn sim_accounts(State(sim): State<Simulator>) -> Json<Value> {
    Json(json!(sim.accounts()))
}

#[derive(Deserialize)]
struct NewAccount {
    business_name: String,
    email: String,
}

async fn sim_create_account(
    State(sim): State<Simulator>,
    Json(a): Json<NewAccount>,
) -> Json<Value> {
    Json(json!({ "id": sim.create_account(&a.business_name, &a.email) }))
}

fn known(sim: &Simulator, account: &str) -> bool {
    sim.accounts().iter().any(|a| a.id == account)
}

fn no_such_account() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "no such account" })),
    )
        .into_response()
}

async fn sim_deauthorize(State(sim): State<Simulator>, Path(account): Path<String>) -> Response {
    if !known(&sim, &account) {
        return no_such_account();
    }
    sim.deauthorize(&account);
    Json(json!({ "deauthorized": account })).into_response()
}

#[derive(Deserialize)]
struct PortalConfiguration {
    configured: bool,
}

async fn sim_portal_configuration(
    State(sim): State<Simulator>,
    Path(account): Path<String>,
    Json(c): Json<PortalConfiguration>,
) -> Response {
    if !known(&sim, &account) {
        return no_such_account();
    }
    sim.set_portal_configured(&account, c.configured);
    Json(json!({ "configured": c.configured })).into_response()
}

#[derive(Deserialize)]
struct NewCustomer {
    email: String,
    #[serde(default)]
    name: String,
}

async fn sim_create_customer(
    State(sim): State<Simulator>,
    Path(account): Path<String>,
    Json(c): Json<NewCustomer>,
) -> Response {
    if !known(&sim, &account) {
        return no_such_account();
    }
    Json(json!({ "id": sim.create_customer(&account, &c.email, &c.name) })).into_response()
}

#[derive(Deserialize)]
struct NewSubscription {
    customer: String,
    price: String,
    #[serde(default)]
    quantity: Option<u64>,
    #[serde(default)]
    trial_days: Option<i64>,
}

async fn sim_create_subscription(
    State(sim): State<Simulator>,
    Path(account): Path<String>,
    Json(s): Json<NewSubscription>,
) -> Response {
    if !known(&sim, &account) {
        return no_such_account();
    }
    let id = sim.create_subscription(
        &account,
        &s.customer,
        &s.price,
        s.quantity.unwrap_or(1),
        s.trial_days,
    );
    if id.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "no such customer or price" })),
        )
            .into_response();
    }
    Json(json!({ "id": id })).into_response()
}

#[derive(Deserialize)]
struct SubscriptionUpdate {
    cancel_at_period_end: bool,
}

async fn sim_update_subscription(
    State(sim): State<Simulator>,
    Path((account, id)): Path<(String, String)>,
    Json(u): Json<SubscriptionUpdate>,
) -> Response {
    if !known(&sim, &account) {
        return no_such_account();
    }
    sim.set_cancel_at_period_end(&account, &id, u.cancel_at_period_end);
    Json(json!({ "id": id, "cancel_at_period_end": u.cancel_at_period_end })).into_response()
}

async fn sim_cancel_subscription(
    State(sim): State<Simulator>,
    Path((account, id)): Path<(String, String)>,
) -> Response {
    if !known(&sim, &account) {
        return no_such_account();
    }
    sim.cancel_subscription(&account, &id);
    Json(json!({ "id": id, "status": "canceled" })).into_response()
}

async fn sim_faults(State(sim): State<Simulator>) -> Json<Faults> {
    Json(sim.faults())
}

async fn sim_set_faults(State(sim): State<Simulator>, Json(f): Json<Faults>) -> Json<Faults> {
    sim.set_faults(f);
    Json(sim.faults())
}

async fn sim_clear_faults(State(sim): State<Simulator>) -> Json<Faults> {
    sim.set_faults(Faults::default());
    Json(sim.faults())
}

async fn sim_requests(State(sim): State<Simulator>) -> Json<Value> {
    Json(json!(sim.requests()))
}

async fn sim_events(State(sim): State<Simulator>) -> Json<Value> {
    Json(json!(sim.events()))
}
