//! Who is calling the API. A caller is either a bearer token (RFC 6750) from an OAuth client,
//! or the logged-in merchant's session (for the browsable API). The two never mix: a request
//! with an `Authorization` header is judged on it alone, and a session request needs the CSRF
//! token on unsafe methods while a bearer request needs none.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tower_sessions::Session;

use crate::dto::team::Role;
use crate::error::AppError;
use crate::http::middleware::{auth_session, csrf};
use crate::oauth::scope::Scopes;
use crate::oauth::tokens::TokenRejected;
use crate::state::AppState;

/// What an API handler can fail with; always a JSON body.
#[derive(Debug)]
pub enum ApiError {
    App(AppError),
    Scope(InsufficientScope),
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

impl From<InsufficientScope> for ApiError {
    fn from(e: InsufficientScope) -> Self {
        Self::Scope(e)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::App(e.into())
    }
}

impl From<crate::payments::PaymentsError> for ApiError {
    fn from(e: crate::payments::PaymentsError) -> Self {
        Self::App(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::App(e) => e.into_response(),
            Self::Scope(e) => e.into_response(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Bearer,
    Session,
}

/// Who is calling the API, on whose merchant account, with which scopes.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub merchant_id: String,
    pub client_id: Option<String>,
    pub scopes: Scopes,
    pub via: Via,
}

impl ApiCaller {
    /// 403 `insufficient_scope` unless the caller holds `scope`.
    pub fn require(&self, scope: &'static str) -> Result<(), InsufficientScope> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(InsufficientScope(scope))
        }
    }
}

/// The caller's token lacks a scope (RFC 6750 §3.1).
#[derive(Debug)]
pub struct InsufficientScope(pub &'static str);

impl IntoResponse for InsufficientScope {
    fn into_response(self) -> Response {
        challenge(
            StatusCode::FORBIDDEN,
            Some((
                "insufficient_scope",
                "The token lacks the scope this needs.",
            )),
            Some(self.0),
        )
    }
}

/// RFC 6750 §3: the `WWW-Authenticate` challenge, with the error in a JSON body too.
fn challenge(status: StatusCode, error: Option<(&str, &str)>, scope: Option<&str>) -> Response {
    let mut value = String::from("Bearer realm=\"subgate\"");
    if let Some((code, description)) = error {
        value.push_str(&format!(
            ", error=\"{code}\", error_description=\"{}\"",
            description.replace('"', "'")
        ));
    }
    if let Some(scope) = scope {
        value.push_str(&format!(", scope=\"{scope}\""));
    }
    let body = match error {
        Some((code, description)) => json!({ "error": code, "message": description }),
        None => json!({ "error": "unauthenticated", "message": "Send a bearer token, or log in." }),
    };
    let mut res = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&value) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let now = state.clock.now();
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    challenge(
                        StatusCode::UNAUTHORIZED,
                        Some(("invalid_request", "Use: Authorization: Bearer <token>.")),
                        None,
                    )
                })?;
            let claims =
                state.tokens.check_access_token(token, now).await.map_err(
                    |rejected| match rejected {
                        TokenRejected::Invalid(why) => challenge(
                            StatusCode::UNAUTHORIZED,
                            Some(("invalid_token", &why)),
                            None,
                        ),
                        TokenRejected::Unavailable => AppError::Unavailable.into_response(),
                        TokenRejected::Database(e) => AppError::from(e).into_response(),
                    },
                )?;
            // the overview's "API calls" chart: counted in memory, written once a minute
            state.db.count_api_call(&claims.merchant_id, now);
            let scopes = Scopes::parse(&claims.scope).unwrap_or_default();
            if let Some(cors) = parts
                .extensions
                .get::<crate::http::middleware::cors::BearerClient>()
            {
                cors.set(&claims.client_id);
            }
            return Ok(Self {
                merchant_id: claims.merchant_id,
                client_id: Some(claims.client_id),
                scopes,
                via: Via::Bearer,
            });
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| challenge(StatusCode::UNAUTHORIZED, None, None))?;
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method && !csrf::header_token_valid(&session, &parts.headers, state, parts).await
        {
            return Err(AppError::Csrf.into_response());
        }
        // the browsable API acts for the business the dashboard shows; a viewer only reads
        let at_least = if unsafe_method {
            Role::Developer
        } else {
            Role::Viewer
        };
        let member = auth_session::member(&session, state, at_least)
            .await
            .map_err(|e| match e {
                AppError::Unauthenticated => challenge(StatusCode::UNAUTHORIZED, None, None),
                e => e.into_response(),
            })?;
        let merchant_id = member.business_id;
        Ok(Self {
            merchant_id,
            client_id: None,
            scopes: Scopes::all(),
            via: Via::Session,
        })
    }
}
