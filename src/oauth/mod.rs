//! The OAuth 2.0 authorization server's domain: clients, PKCE, the three grants, JWT access
//! tokens with rotating signing keys, revocation and introspection. It knows nothing of HTTP;
//! `crate::http::oauth` maps requests to these calls and [`OAuthError`] to RFC 6749 responses.

pub mod clients;
pub mod grants;
pub mod jwt;
pub mod live_tokens;
pub mod pkce;
pub mod scope;
pub mod tokens;

/// Lifetimes, in seconds.
pub const CODE_TTL: i64 = 60;
pub const ACCESS_TOKEN_TTL: i64 = 3600;
pub const REFRESH_TOKEN_TTL: i64 = 30 * 24 * 3600;

/// The error codes of RFC 6749 §4.1.2.1 and §5.2 (and RFC 6750 §3.1, RFC 8707 §2); `Display`
/// prints the wire code, the description travels separately.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request")]
    InvalidRequest(String),
    #[error("invalid_client")]
    InvalidClient(String),
    #[error("invalid_grant")]
    InvalidGrant(String),
    #[error("unauthorized_client")]
    UnauthorizedClient(String),
    #[error("unsupported_grant_type")]
    UnsupportedGrantType(String),
    #[error("unsupported_response_type")]
    UnsupportedResponseType(String),
    #[error("invalid_scope")]
    InvalidScope(String),
    #[error("invalid_target")]
    InvalidTarget(String),
    #[error("access_denied")]
    AccessDenied(String),
    #[error("server_error")]
    ServerError,
}

impl OAuthError {
    pub fn description(&self) -> &str {
        match self {
            Self::InvalidRequest(d)
            | Self::InvalidClient(d)
            | Self::InvalidGrant(d)
            | Self::UnauthorizedClient(d)
            | Self::UnsupportedGrantType(d)
            | Self::UnsupportedResponseType(d)
            | Self::InvalidScope(d)
            | Self::InvalidTarget(d)
            | Self::AccessDenied(d) => d,
            Self::ServerError => "The server could not complete the request.",
        }
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error in OAuth");
        Self::ServerError
    }
}

impl From<clients::ClientError> for OAuthError {
    fn from(e: clients::ClientError) -> Self {
        tracing::error!(error = %e, "error in OAuth");
        Self::ServerError
    }
}

impl From<jwt::KeyError> for OAuthError {
    fn from(e: jwt::KeyError) -> Self {
        tracing::error!(error = %e, "signing key error in OAuth");
        Self::ServerError
    }
}

/// Who a token was issued to, as the bearer guard and introspection see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The merchant whose data the token reaches.
    pub merchant_id: String,
}
