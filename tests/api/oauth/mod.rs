//! The OAuth 2.0 authorization server over real HTTP: every grant, every error path, the bearer
//! guard, revocation, introspection, and the `oauth2` crate as a real client. One file per
//! endpoint or journey.

mod access_tokens;
mod authorization_code;
mod clients;
mod token_endpoint;
