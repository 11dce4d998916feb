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
    /// The message names what was looked for, e.g. "No customer with subscriber id 42.".
    #[error("{0}")]
    NotFound(String),
    /// The merchant has no working connection to their payment gateway.
    #[error("{0}")]
    NotConnected(String),
    #[error("{0}")]
    PaymentRequired(String),
    /// The payment gateway failed; `request_id` is its own id of the request, for its support.
    #[error("{message}")]
    Gateway {
        message: String,
        request_id: Option<String>,
    },
    #[error("{0}")]
    GatewayTimeout(String),
    /// The database (or another dependency) is unreachable for a moment.
    #[error("The service is briefly unavailable. Please try again in a few seconds.")]
    Unavailable,
    #[error("The request body is too large.")]
    PayloadTooLarge,
    #[error("Malformed request: {0}")]
    BadRequest(String),
    /// Authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("The body must be {0}.")]
    UnsupportedMediaType(String),
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

    /// The generic 404, for things whose very existence is not the caller's business.
    pub fn not_found() -> Self {
        Self::NotFound("Not found.".into())
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Validation(_) => 422,
            Self::Conflict(_) => 409,
            Self::InvalidCredentials | Self::Unauthenticated => 401,
            Self::RateLimited(_) => 429,
            Self::Csrf | Self::HttpsRequired => 403,
            Self::NotFound(_) => 404,
            Self::NotConnected(_) => 409,
            Self::PaymentRequired(_) => 402,
            Self::Gateway { .. } => 502,
            Self::GatewayTimeout(_) => 504,
            Self::Unavailable => 503,
            Self::PayloadTooLarge => 413,
            Self::BadRequest(_) => 400,
            Self::Forbidden(_) => 403,
            Self::UnsupportedMediaType(_) => 415,
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
            Self::NotFound(_) => "not_found",
            Self::NotConnected(_) => "not_connected",
            Self::PaymentRequired(_) => "payment_required",
            Self::Gateway { .. } => "gateway_error",
            Self::GatewayTimeout(_) => "gateway_timeout",
            Self::Unavailable => "unavailable",
            Self::PayloadTooLarge => "payload_too_large",
            Self::BadRequest(_) => "bad_request",
            Self::Forbidden(_) => "forbidden",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Internal => "internal",
            Self::Transport(_) => "transport",
        }
    }
}

/// The JSON form of every error, for server functions and the API alike:
/// `{"error": "<code>", "message": "<sentence>"[, "retry_after": <seconds>][, "request_id": "req_…"]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WireError {
    error: String,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    /// The payment gateway's id of the failed request, for its support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl From<AppError> for WireError {
    fn from(e: AppError) -> Self {
        let retry_after = match e {
            AppError::RateLimited(secs) => Some(secs),
            AppError::Unavailable => Some(5),
            _ => None,
        };
        let request_id = match &e {
            AppError::Gateway { request_id, .. } => request_id.clone(),
            _ => None,
        };
        Self {
            error: e.code().to_string(),
            message: e.to_string(),
            retry_after,
            request_id,
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
            "not_found" => Self::NotFound(w.message),
            "not_connected" => Self::NotConnected(w.message),
            "payment_required" => Self::PaymentRequired(w.message),
            "gateway_error" => Self::Gateway {
                message: w.message,
                request_id: w.request_id,
            },
            "gateway_timeout" => Self::GatewayTimeout(w.message),
            "unavailable" => Self::Unavailable,
            "payload_too_large" => Self::PayloadTooLarge,
            "bad_request" => Self::BadRequest(strip("Malformed request: ")),
            "forbidden" => Self::Forbidden(w.message),
            "unsupported_media_type" => Self::UnsupportedMediaType("application/json".into()),
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

    impl From<crate::accounts::AccountError> for AppError {
        fn from(e: crate::accounts::AccountError) -> Self {
            use crate::accounts::AccountError;
            match e {
                AccountError::Invalid(message) => AppError::Validation(message),
                AccountError::EmailTaken => AppError::Conflict(e.to_string()),
                AccountError::InvalidCredentials => AppError::InvalidCredentials,
                AccountError::Throttled(secs) => AppError::RateLimited(secs),
                AccountError::Busy => AppError::Unavailable,
                AccountError::Hashing => AppError::Internal,
                AccountError::LinkInvalid => AppError::NotFound(e.to_string()),
                AccountError::WrongPassword => AppError::Forbidden(e.to_string()),
                AccountError::Unverified => AppError::Forbidden(e.to_string()),
                AccountError::WrongCode => AppError::Forbidden(e.to_string()),
                AccountError::Forbidden(m) => AppError::Forbidden(m),
                AccountError::Conflict(m) => AppError::Conflict(m),
                AccountError::NotFound(m) => AppError::NotFound(m),
                AccountError::Database(e) => e.into(),
            }
        }
    }

    impl From<crate::oauth::clients::ClientError> for AppError {
        fn from(e: crate::oauth::clients::ClientError) -> Self {
            use crate::oauth::clients::ClientError;
            match e {
                ClientError::Invalid(message) => AppError::Validation(message),
                ClientError::NotFound => AppError::not_found(),
                ClientError::Corrupt => AppError::Internal,
                ClientError::Database(e) => e.into(),
            }
        }
    }

    impl From<crate::sso::SsoError> for AppError {
        fn from(e: crate::sso::SsoError) -> Self {
            use crate::sso::SsoError;
            match e {
                SsoError::Invalid(message) => AppError::Validation(message),
                SsoError::Off | SsoError::ChangedElsewhere => AppError::Conflict(e.to_string()),
                SsoError::Corrupt | SsoError::NoStoreSlug => AppError::Internal,
                SsoError::Database(e) => e.into(),
            }
        }
    }

    impl From<crate::payments::PaymentsError> for AppError {
        fn from(e: crate::payments::PaymentsError) -> Self {
            use crate::payments::PaymentsError;
            match e {
                PaymentsError::Invalid(message) => AppError::Validation(message),
                PaymentsError::NotConnected {
                    gateway,
                    revoked: true,
                } => access_revoked(gateway),
                PaymentsError::NotConnected {
                    gateway,
                    revoked: false,
                } => AppError::NotConnected(format!(
                    "No {gateway} account is connected. Connect one on the Connect tab first."
                )),
                PaymentsError::NotFound(message) => AppError::NotFound(message),
                PaymentsError::Conflict(message) => AppError::Conflict(message),
                PaymentsError::Gateway { gateway, error } => gateway_error(gateway, error),
                PaymentsError::Database(e) => e.into(),
            }
        }
    }

    impl From<crate::portal::PortalError> for AppError {
        fn from(e: crate::portal::PortalError) -> Self {
            use crate::portal::PortalError;
            match e {
                PortalError::SessionEnded => AppError::Forbidden(
                    "Your session has ended: open the portal again from the store's website."
                        .into(),
                ),
                PortalError::Invalid(message) => AppError::Validation(message),
                PortalError::Sso(e) => e.into(),
                PortalError::Payments(e) => e.into(),
                PortalError::Database(e) => e.into(),
            }
        }
    }

    /// The connection's access was revoked (seen in our records or answered by the gateway).
    fn access_revoked(name: &str) -> AppError {
        AppError::NotConnected(format!(
            "subgate's access to your {name} account was revoked. Connect it again on the Connect tab."
        ))
    }

    /// A gateway's refusal or failure, worded for the merchant with what to do about it.
    fn gateway_error(name: &str, e: crate::payments::gateway::GatewayError) -> AppError {
        use crate::payments::gateway::GatewayError;
        match e {
            GatewayError::NotFound(m) => AppError::NotFound(m),
            GatewayError::AccessRevoked => access_revoked(name),
            GatewayError::PortalNotConfigured(_) => AppError::Conflict(format!(
                "Your {name} account has no customer portal configuration. Save the customer portal settings in the {name} Dashboard (Settings → Billing → Customer portal), then try again."
            )),
            GatewayError::Rejected { message, .. } => {
                AppError::validation(format!("{name} refused the request: {message}"))
            }
            GatewayError::PaymentRequired { message, .. } => AppError::PaymentRequired(message),
            GatewayError::OAuth { description, .. } => AppError::Gateway {
                message: format!("{name} refused: {description}"),
                request_id: None,
            },
            GatewayError::Unavailable {
                message,
                request_id,
            } => AppError::Gateway {
                message,
                request_id,
            },
            GatewayError::Timeout => {
                AppError::GatewayTimeout(format!("{name} did not answer in time. Try again."))
            }
        }
    }

    impl From<crate::oauth::jwt::KeyError> for AppError {
        fn from(e: crate::oauth::jwt::KeyError) -> Self {
            use crate::oauth::jwt::KeyError;
            match e {
                KeyError::Unusable => AppError::Internal,
                KeyError::Database(e) => e.into(),
            }
        }
    }

    impl From<sqlx::Error> for AppError {
        fn from(e: sqlx::Error) -> Self {
            if crate::db::is_unavailable(&e) {
                tracing::warn!(error = %e, "database unavailable");
                return AppError::Unavailable;
            }
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
            let retry_after = match self {
                AppError::RateLimited(secs) => Some(secs),
                AppError::Unavailable => Some(5),
                _ => None,
            };
            if let Some(secs) = retry_after {
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
            AppError::NotFound("No such customer.".into()),
            AppError::NotConnected("Connect Stripe first.".into()),
            AppError::PaymentRequired("Card declined.".into()),
            AppError::Gateway {
                message: "Stripe failed.".into(),
                request_id: Some("req_123".into()),
            },
            AppError::GatewayTimeout("Stripe did not answer in time.".into()),
            AppError::Unavailable,
            AppError::Forbidden("Not your client.".into()),
            AppError::UnsupportedMediaType("application/json".into()),
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
