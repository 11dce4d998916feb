//! The schemas the OpenAPI document names that no handler returns as a Rust type: the error
//! bodies (and the groups of error responses every endpoint of a kind shares), the OAuth
//! endpoints' form bodies, which are parsed by hand (RFC 6749 §3.2), and `/api/me`'s answer.

use serde::Serialize;
use utoipa::ToSchema;

/// Every API error: a stable machine-readable `error` code and a sentence for people.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"error": "not_found", "message": "No customer with subscriber id user-42."}))]
pub struct ErrorBody {
    /// `validation`, `not_found`, `not_connected`, `gateway_error`, `rate_limited`, …
    pub error: String,
    pub message: String,
    /// Seconds to wait before trying again (429 and 503).
    #[schema(nullable = false)]
    pub retry_after: Option<u64>,
    /// Stripe's id of the failed request (502), for Stripe's support.
    #[schema(nullable = false)]
    pub request_id: Option<String>,
}

/// What every call with a bearer token or the session may answer, besides its own statuses.
#[derive(utoipa::IntoResponses)]
pub enum CallerErrors {
    #[response(
        status = 401,
        description = "No, or an invalid, bearer token or session."
    )]
    Unauthenticated(ErrorBody),
    #[response(
        status = 403,
        description = "The token lacks the scope, or (session) the CSRF header is missing."
    )]
    Forbidden(ErrorBody),
    #[response(
        status = 503,
        description = "The database is briefly unavailable; retry after `retry_after` seconds."
    )]
    Unavailable(ErrorBody),
}

/// What a call with a JSON body may answer about the body.
#[derive(utoipa::IntoResponses)]
pub enum BodyErrors {
    #[response(status = 400, description = "Malformed JSON, path or header.")]
    Malformed(ErrorBody),
    #[response(status = 413, description = "The body is over the limit (1 MiB).")]
    TooLarge(ErrorBody),
    #[response(status = 415, description = "The body is not application/json.")]
    NotJson(ErrorBody),
    #[response(
        status = 422,
        description = "A field breaks a rule; the message names the field."
    )]
    Invalid(ErrorBody),
}

/// What a call that reaches the merchant's Stripe account may answer about Stripe.
#[derive(utoipa::IntoResponses)]
pub enum GatewayErrors {
    #[response(
        status = 409,
        description = "Stripe is not connected, or the connection was revoked (`not_connected`)."
    )]
    NotConnected(ErrorBody),
    #[response(
        status = 402,
        description = "Stripe refused for a state of the account or customer."
    )]
    Refused(ErrorBody),
    #[response(
        status = 502,
        description = "Stripe failed; `request_id` is Stripe's id of the request."
    )]
    Failed(ErrorBody),
    #[response(status = 504, description = "Stripe did not answer in time.")]
    TimedOut(ErrorBody),
}

/// Every error of the SSO login call (at either path), in Recurpay's shape.
#[derive(utoipa::IntoResponses)]
pub enum SsoLoginErrors {
    #[response(status = 400, description = "Malformed JSON or path.")]
    Malformed(SsoErrorBody),
    #[response(
        status = 401,
        description = "Invalid customer hash, or (signed mode) a timestamp outside ±300 s."
    )]
    InvalidHash(SsoErrorBody),
    #[response(status = 403, description = "SSO is turned off for this store.")]
    Disabled(SsoErrorBody),
    #[response(
        status = 404,
        description = "Unknown store, or no such subscriber (with a valid hash)."
    )]
    Unknown(SsoErrorBody),
    #[response(status = 409, description = "Signed mode: the nonce was used before.")]
    NonceReused(SsoErrorBody),
    #[response(status = 413, description = "The body is over the limit.")]
    TooLarge(SsoErrorBody),
    #[response(status = 415, description = "The body is not application/json.")]
    NotJson(SsoErrorBody),
    #[response(
        status = 422,
        description = "A field breaks a rule (hash not 64 hex digits, id too long, missing timestamp or nonce, bad IP)."
    )]
    Invalid(SsoErrorBody),
    #[response(
        status = 429,
        description = "Too many failed attempts for this subscriber or store; retry after `retry_after` seconds."
    )]
    RateLimited(SsoErrorBody),
    #[response(status = 503, description = "Briefly unavailable; retry.")]
    Unavailable(SsoErrorBody),
}

/// The SSO login endpoint's errors, in Recurpay's shape plus subgate's `error` code.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"success": false, "error": "invalid_hash", "message": "Failed to login subscriber due to an invalid customer hash"}))]
pub struct SsoErrorBody {
    /// Always false.
    pub success: bool,
    pub error: String,
    pub message: String,
    #[schema(nullable = false)]
    pub retry_after: Option<u64>,
}

/// RFC 6749 §5.2.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_grant", "error_description": "The authorization code is invalid, expired or used."}))]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, `invalid_target`, `server_error`.
    pub error: String,
    pub error_description: String,
}

// ---------------------------------------------------------------------------------------------
// OAuth bodies (the handlers read these forms by hand)

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

/// `POST /o/token/`. Each parameter at most once. Clients authenticate with HTTP Basic, or
/// with `client_id` (public clients) and `client_secret` in the form.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"grant_type": "client_credentials", "audience": "https://subgate.example/api", "scope": "customers:read subscriptions:read"}))]
pub struct TokenRequest {
    pub grant_type: GrantType,
    /// `authorization_code`: the code from the redirect.
    pub code: Option<String>,
    /// `authorization_code`: exactly the `redirect_uri` of the authorization request.
    pub redirect_uri: Option<String>,
    /// `authorization_code`: the PKCE verifier (43 to 128 characters).
    pub code_verifier: Option<String>,
    /// `refresh_token`: the refresh token (single use; it is rotated).
    pub refresh_token: Option<String>,
    /// Space-separated scopes; defaults to the client's.
    pub scope: Option<String>,
    /// `client_credentials`: the API the token is for (`resource` is a synonym, RFC 8707).
    pub audience: Option<String>,
    pub resource: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// RFC 6749 §5.1.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9.eyJ…", "token_type": "Bearer", "expires_in": 3600, "scope": "customers:read subscriptions:read"}))]
pub struct TokenResponseDoc {
    /// A signed JWT (EdDSA); check it against `/o/jwks/` or `/o/introspect/`.
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub scope: String,
    /// Authorization code and refresh grants only.
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
}

/// `POST /o/revoke_token/` (RFC 7009) and `POST /o/introspect/` (RFC 7662).
#[derive(Serialize, ToSchema)]
pub struct TokenParamRequest {
    /// An access or refresh token issued to the authenticating client.
    pub token: String,
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// RFC 7662 §2.2: `{"active": false}` alone for a token that is unknown, expired, revoked or
/// another client's.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"active": true, "token_type": "Bearer", "client_id": "sg_abc", "scope": "customers:read", "exp": 1764403600}))]
pub struct IntrospectionDoc {
    pub active: bool,
    #[schema(nullable = false)]
    pub token_type: Option<String>,
    #[schema(nullable = false)]
    pub client_id: Option<String>,
    #[schema(nullable = false)]
    pub scope: Option<String>,
    #[schema(nullable = false)]
    pub exp: Option<i64>,
    #[schema(nullable = false)]
    pub iat: Option<i64>,
    #[schema(nullable = false)]
    pub sub: Option<String>,
    #[schema(nullable = false)]
    pub aud: Option<String>,
    #[schema(nullable = false)]
    pub iss: Option<String>,
    #[schema(nullable = false)]
    pub jti: Option<String>,
}

/// `GET /api/me`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"merchant": {"id": "m_1", "business_name": "Acme"}, "client": {"id": "sg_abc", "name": "Backend", "type": "confidential"}, "scope": "customers:read", "via": "bearer"}))]
pub struct MeDoc {
    pub merchant: MeMerchant,
    /// The OAuth client, for a bearer token; null for the session.
    pub client: Option<MeClient>,
    pub scope: String,
    /// `bearer` or `session`.
    pub via: String,
}

#[derive(Serialize, ToSchema)]
pub struct MeMerchant {
    pub id: String,
    pub business_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct MeClient {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub client_type: String,
}
