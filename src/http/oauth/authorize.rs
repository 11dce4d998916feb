//! `/o/authorize/`: the authorization endpoint (RFC 6749 §4.1) a logged-in merchant's browser
//! reaches, with the consent page and the merchant's decision.

use super::no_store;
use crate::dto::team::Role;
use crate::error::AppError;
use crate::http::middleware::auth_session;
use crate::http::middleware::csrf::CsrfToken;
use crate::http::wire::escape_html;
use crate::oauth::clients;
use crate::oauth::grants::authorization_code::{self, AuthorizationRequest, AuthorizeParams};
use crate::oauth::scope::Scopes;
use crate::oauth::OAuthError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Extension;
use std::collections::HashMap;
use tower_sessions::Session;

enum Authorize {
    /// Not logged in: log in, then come back.
    Login(String),
    /// Before the redirect URI is trusted: a page, never a redirect.
    Page(StatusCode, String),
    /// Back to the client with `code` or `error` (and `state`).
    Redirect(String),
    /// The request is valid: ask the member (or approve at once), for this business.
    Consent(Box<AuthorizationRequest>, String),
}

/// The client's redirect URI with the response's parameters, its `state`, and `iss` (RFC 9207:
/// a client talking to several authorization servers learns which one answered).
fn redirect_with(uri: &str, params: &[(&str, &str)], state: Option<&str>, issuer: &str) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
                if let Some(s) = state {
                    q.append_pair("state", s);
                }
                q.append_pair("iss", issuer);
            }
            url.to_string()
        }
        Err(_) => uri.to_string(),
    }
}

fn redirect_error(request_uri: &str, e: &OAuthError, state: Option<&str>, issuer: &str) -> String {
    redirect_with(
        request_uri,
        &[
            ("error", &e.to_string()),
            ("error_description", e.description()),
        ],
        state,
        issuer,
    )
}

async fn evaluate(
    state: &AppState,
    session: &Session,
    uri: &Uri,
    params: Result<AuthorizeParams, String>,
) -> Authorize {
    // an app gets a token on the business the dashboard shows; a viewer cannot grant one
    let merchant_id = match auth_session::member(session, state, Role::Developer).await {
        Ok(member) => member.business_id,
        Err(AppError::Unauthenticated) => {
            return Authorize::Login(
                uri.path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "/o/authorize/".into()),
            )
        }
        Err(AppError::Forbidden(why)) => return Authorize::Page(StatusCode::FORBIDDEN, why),
        Err(_) => {
            return Authorize::Page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.".into(),
            )
        }
    };
    let params = match params {
        Ok(p) => p,
        Err(e) => {
            return Authorize::Page(
                StatusCode::BAD_REQUEST,
                format!("The authorization request is malformed: {e}."),
            )
        }
    };
    let client = match params
        .client_id
        .as_deref()
        .filter(|id| !id.is_empty() && id.len() <= 100)
    {
        Some(id) => match state.clients.get(&merchant_id, id).await {
            Ok(c) => Some(c),
            Err(clients::ClientError::NotFound) => None,
            Err(_) => {
                return Authorize::Page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side.".into(),
                )
            }
        },
        None => None,
    };
    let (client, redirect_uri) = match authorization_code::validate_redirect(&params, client) {
        Ok(ok) => ok,
        Err(e) => return Authorize::Page(StatusCode::BAD_REQUEST, e.0),
    };
    match authorization_code::validate_rest(
        &params,
        client,
        redirect_uri.clone(),
        &state.tokens.api_audiences,
    ) {
        Ok(request) => Authorize::Consent(Box::new(request), merchant_id),
        Err(e) => Authorize::Redirect(redirect_error(
            &redirect_uri,
            &e,
            params.state.as_deref(),
            &state.tokens.issuer,
        )),
    }
}

async fn approve(state: &AppState, merchant_id: &str, request: &AuthorizationRequest) -> String {
    let now = state.clock.now();
    let saved = state
        .db
        .save_consent(
            merchant_id,
            &request.client.id,
            &request.scopes.to_string(),
            now,
        )
        .await;
    let code = match saved {
        Ok(()) => authorization_code::issue_code(&state.tokens, request, now).await,
        Err(e) => Err(e.into()),
    };
    let issuer = &state.tokens.issuer;
    match code {
        Ok(code) => redirect_with(
            &request.redirect_uri,
            &[("code", &code)],
            request.state.as_deref(),
            issuer,
        ),
        Err(e) => redirect_error(&request.redirect_uri, &e, request.state.as_deref(), issuer),
    }
}

/// The authorization endpoint (a page for the merchant's browser, not an API call):
/// `response_type=code`, `client_id`, the exact registered `redirect_uri`, `scope`, `state`,
/// `code_challenge` with `code_challenge_method=S256`, optionally `approval_prompt=auto`.
#[utoipa::path(
    get,
    path = "/o/authorize/",
    tag = "oauth",
    params(
        ("response_type" = Option<String>, Query, description = "`code`."),
        ("client_id" = Option<String>, Query),
        ("redirect_uri" = Option<String>, Query, description = "Exactly one of the client's registered URIs."),
        ("scope" = Option<String>, Query),
        ("state" = Option<String>, Query),
        ("code_challenge" = Option<String>, Query),
        ("code_challenge_method" = Option<String>, Query, description = "`S256` only."),
        ("approval_prompt" = Option<String>, Query, description = "`auto` skips consent already given; `force` asks again."),
        ("audience" = Option<String>, Query),
    ),
    security((), ("session" = [])),
    responses(
        (status = 200, description = "The consent page.", content_type = "text/html", body = String),
        (status = 303, description = "To the login page, or back to the client with `code` or `error`.", headers(("Location" = String))),
        (status = 400, description = "A request that cannot be redirected (unknown client, redirect URI mismatch).", content_type = "text/html", body = String),
    ),
)]
pub(crate) async fn authorize(
    State(state): State<AppState>,
    session: Session,
    csrf: Option<Extension<CsrfToken>>,
    uri: Uri,
) -> Response {
    let params = Query::<AuthorizeParams>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| e.body_text());
    let auto = params
        .as_ref()
        .is_ok_and(|p| p.approval_prompt.as_deref() == Some("auto"));
    match evaluate(&state, &session, &uri, params).await {
        Authorize::Login(next) => {
            let to = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            Redirect::to(&to).into_response()
        }
        Authorize::Page(status, message) => page(
            status,
            "Authorization failed",
            &format!("<p id=\"error-message\">{}</p>", escape_html(&message)),
        ),
        Authorize::Redirect(to) => Redirect::to(&to).into_response(),
        Authorize::Consent(request, merchant_id) => {
            if auto && !request.force_prompt {
                let consented = state
                    .db
                    .consent(&merchant_id, &request.client.id)
                    .await
                    .ok()
                    .flatten();
                let covered = consented
                    .and_then(|s| Scopes::parse(&s).ok())
                    .is_some_and(|s| request.scopes.is_subset(&s));
                if covered {
                    return Redirect::to(&approve(&state, &merchant_id, &request).await)
                        .into_response();
                }
            }
            consent_page(
                &request,
                uri.query().unwrap_or_default(),
                csrf.map(|c| c.0 .0).unwrap_or_default(),
            )
        }
    }
}

/// The consent form's answer. Everything is validated again from the original query: hidden
/// fields are never trusted.
/// The consent form's answer (same query as the GET, plus the CSRF token).
#[utoipa::path(
    post,
    path = "/o/authorize/",
    tag = "oauth",
    security(("session" = [])),
    responses(
        (status = 303, description = "Back to the client with `code` or `error=access_denied`.", headers(("Location" = String))),
        (status = 400, description = "The request is no longer valid.", content_type = "text/html", body = String),
        (status = 403, description = "Missing or wrong CSRF token.", body = crate::http::docs::bodies::ErrorBody),
    ),
)]
pub(crate) async fn decide(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let query = form.get("request").cloned().unwrap_or_default();
    let uri: Uri = match format!("/o/authorize/?{query}").parse() {
        Ok(u) => u,
        Err(_) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Authorization failed",
                "<p id=\"error-message\">The authorization request is malformed.</p>",
            )
        }
    };
    let params = Query::<AuthorizeParams>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| e.body_text());
    let _ = headers;
    match evaluate(&state, &session, &uri, params).await {
        Authorize::Login(next) => Redirect::to(&format!(
            "/login?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ))
        .into_response(),
        Authorize::Page(status, message) => page(
            status,
            "Authorization failed",
            &format!("<p id=\"error-message\">{}</p>", escape_html(&message)),
        ),
        Authorize::Redirect(to) => Redirect::to(&to).into_response(),
        Authorize::Consent(request, merchant_id) => {
            if form.get("decision").map(String::as_str) != Some("allow") {
                let denied = OAuthError::AccessDenied("The merchant denied the request.".into());
                return Redirect::to(&redirect_error(
                    &request.redirect_uri,
                    &denied,
                    request.state.as_deref(),
                    &state.tokens.issuer,
                ))
                .into_response();
            }
            Redirect::to(&approve(&state, &merchant_id, &request).await).into_response()
        }
    }
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    page_posting_to(status, title, body, None)
}

/// A page whose form may also end at `redirect_origin`: Chromium applies `form-action` to every
/// redirect a form submission follows, so the consent form's answer (a 303 to the client's
/// redirect URI) would be blocked on any client not on this origin, which is every real one.
fn page_posting_to(
    status: StatusCode,
    title: &str,
    body: &str,
    redirect_origin: Option<&str>,
) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · subgate</title><link rel=\"stylesheet\" href=\"{css}\"></head>\
         <body class=\"bg-slate-100 text-slate-900\"><main class=\"mx-auto mt-16 max-w-lg rounded-xl bg-white p-8 shadow\">\
         <h1 class=\"mb-4 text-2xl font-bold\">{title}</h1>{body}</main></body></html>",
        title = escape_html(title),
        css = crate::http::assets::stylesheet_href(),
    );
    let mut res = (status, Html(html)).into_response();
    let form_action = match redirect_origin {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".into(),
    };
    let csp = format!("default-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action {form_action}; base-uri 'none'");
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    no_store(res)
}

fn consent_page(request: &AuthorizationRequest, query: &str, csrf: String) -> Response {
    let redirect = url::Url::parse(&request.redirect_uri).ok();
    let host = redirect
        .as_ref()
        .and_then(|u| u.host_str().map(String::from))
        .unwrap_or_default();
    // registered redirect URIs are https or loopback http, so the origin is a plain CSP source
    let origin = redirect
        .map(|u| u.origin())
        .filter(url::Origin::is_tuple)
        .map(|o| o.ascii_serialization());
    let scopes: String = request
        .scopes
        .iter()
        .map(|s| format!("<li class=\"font-mono text-sm\">{}</li>", escape_html(s)))
        .collect();
    let body = format!(
        "<p><strong id=\"client-name\">{name}</strong> wants access to your subgate account.</p>\
         <p class=\"mt-4 text-sm text-slate-600\">It asks for:</p><ul id=\"scopes\" class=\"ml-6 list-disc\">{scopes}</ul>\
         <p class=\"mt-4 text-sm text-slate-600\">You will be sent back to <strong id=\"redirect-host\">{host}</strong>.</p>\
         <form method=\"post\" action=\"/o/authorize/\" class=\"mt-6 flex gap-3\">\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\"><input type=\"hidden\" name=\"request\" value=\"{query}\">\
         <button name=\"decision\" value=\"allow\" id=\"allow\" class=\"rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white\">Allow</button>\
         <button name=\"decision\" value=\"deny\" id=\"deny\" class=\"rounded-md border border-slate-300 px-4 py-2\">Deny</button></form>",
        name = escape_html(&request.client.name),
        host = escape_html(&host),
        csrf = escape_html(&csrf),
        query = escape_html(query),
    );
    page_posting_to(
        StatusCode::OK,
        "Authorize application",
        &body,
        origin.as_deref(),
    )
}
