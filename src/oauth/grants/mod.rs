//! One file per grant type (RFC 6749 §4): authorization code with PKCE, refresh token, client
//! credentials.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;
