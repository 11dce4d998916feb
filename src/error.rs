//! The one error type that crosses the wire: server functions return it to the browser, the
//! JSON API renders it as `{"error": code, "message": text}`. Each variant knows its HTTP status,
//! and its `Display` is the sentence a person sees, so nothing internal ever leaks into it.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(into = "WireError", from = "WireError")]
pub enum AppError {
    /// Input that does not parse; the message names the field and the rule.
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Conflict(String),
    /// Deliberately vague: a failed login never says which half was wrong.
    #[error("Invalid email or password.")]
    InvalidCredentials,
    #[error("Too many attempts. Try again in {0} s.")]
    RateLimited(u64),
    #[error("You need to log in first.")]
    Unauthenticated,
    #[error(
        "This form has expired or did not come from this site. Reload the page and try again."
    )]
    Csrf,
    #[error("HTTPS is required.")]
    HttpsRequired,
    #[error("Not found.")]
    NotFound,
    #[error("The request body is too large.")]
    PayloadTooLarge,
    #[error("Malformed request: {0}")]
    BadRequest(String),
    /// The cause is logged on the server, never sent.
    #[error("Something went wrong on our side. It has been logged; please try again.")]
    Internal,
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl AppError {
    pub fn validation(message: impl Into<String>) -> Self {
        Self::Validation(message.into())
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Validation(_) => 422,
            Self::Conflict(_) => 409,
            Self::InvalidCredentials | Self::Unauthenticated => 401,
            Self::RateLimited(_) => 429,
            Self::Csrf | Self::HttpsRequired => 403,
            Self::NotFound => 404,
            Self::PayloadTooLarge => 413,
            Self::BadRequest(_) => 400,
            Self::Internal => 500,
            Self::Transport(_) => 502,
        }
    }

    /// The machine-readable code, as serialized in the `error` field.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation",
            Self::Conflict(_) => "conflict",
            Self::InvalidCredentials => "invalid_credentials",
            Self::RateLimited(_) => "rate_limited",
            Self::Unauthenticated => "unauthenticated",
            Self::Csrf => "csrf",
            Self::HttpsRequired => "https_required",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::BadRequest(_) => "bad_request",
            Self::Internal => "internal",
            Self::Transport(_) => "transport",
        }
    }
}

/// The JSON form of every error, for server functions and the API alike:
/// `{"error": "<code>", "message": "<sentence>"[, "retry_after": <seconds>]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WireError {
    error: String,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

impl From<AppError> for WireError {
    fn from(e: AppError) -> Self {
        let retry_after = match e {
            AppError::RateLimited(secs) => Some(secs),
            _ => None,
        };
        Self {
            error: e.code().to_string(),
            message: e.to_string(),
            retry_after,
        }
    }
}

impl From<WireError> for AppError {
    fn from(w: WireError) -> Self {
        let strip = |prefix: &str| {
            w.message
                .strip_prefix(prefix)
                .unwrap_or(&w.message)
                .to_string()
        };
        match w.error.as_str() {
            "validation" => Self::Validation(w.message),
            "conflict" => Self::Conflict(w.message),
            "invalid_credentials" => Self::InvalidCredentials,
            "rate_limited" => Self::RateLimited(w.retry_after.unwrap_or(1)),
            "unauthenticated" => Self::Unauthenticated,
            "csrf" => Self::Csrf,
            "https_required" => Self::HttpsRequired,
            "not_found" => Self::NotFound,
            "payload_too_large" => Self::PayloadTooLarge,
            "bad_request" => Self::BadRequest(strip("Malformed request: ")),
            "transport" => Self::Transport(strip("Could not reach the server: ")),
            _ => Self::Internal,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // the arguments did not deserialize: the client sent a malformed form
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => Self::BadRequest(m),
            ServerFnErrorErr::Request(m) | ServerFnErrorErr::Response(m) => Self::Transport(m),
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failed");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                Self::Internal
            }
        }
    }
}

#[cfg(feature = "ssr")]
mod server {
    use super::AppError;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};

    impl From<sqlx::Error> for AppError {
        fn from(e: sqlx::Error) -> Self {
            tracing::error!(error = %e, "database error");
            AppError::Internal
        }
    }

    impl From<tower_sessions::session::Error> for AppError {
        fn from(e: tower_sessions::session::Error) -> Self {
            tracing::error!(error = %e, "session store error");
            AppError::Internal
        }
    }

    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let status =
                StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = (status, axum::Json(&self)).into_response();
            if let AppError::RateLimited(secs) = self {
                if let Ok(v) = secs.to_string().parse() {
                    response
                        .headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, v);
                }
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn every_error_survives_the_wire() {
        for e in [
            AppError::validation("Email: x"),
            AppError::Conflict("taken".into()),
            AppError::InvalidCredentials,
            AppError::RateLimited(42),
            AppError::Csrf,
            AppError::BadRequest("missing field".into()),
            AppError::Transport("offline".into()),
            AppError::Internal,
        ] {
            let json = serde_json::to_value(&e).expect("serialize");
            assert_eq!(json["error"], e.code());
            assert_eq!(json["message"], e.to_string());
            assert_eq!(
                serde_json::from_value::<AppError>(json).expect("deserialize"),
                e
            );
        }
    }
}
