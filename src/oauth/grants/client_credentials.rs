//! Client credentials (RFC 6749 §4.4) with an audience (RFC 8707-style `audience`, as Auth0 and
//! django-oauth-toolkit users send it): a confidential client acting on its merchant's behalf.

use crate::oauth::clients::Client;
use crate::oauth::scope::Scopes;
use crate::oauth::tokens::{TokenResponse, TokenService};
use crate::oauth::OAuthError;

/// The audience a token is for: the one asked for, which the client must be allowed; else this
/// server's default API audience when allowed, else the client's first audience. Either way it
/// must be one the API answers to now (`api_audiences`, the default first): an audience the
/// operator has since removed is refused even where a client still lists it.
pub fn choose_audience(
    client: &Client,
    requested: Option<&str>,
    api_audiences: &[String],
) -> Result<String, OAuthError> {
    let usable =
        |a: &str| client.audiences.iter().any(|c| c == a) && api_audiences.iter().any(|s| s == a);
    match requested.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) if usable(a) => Ok(a.to_string()),
        Some(_) => Err(OAuthError::InvalidTarget(
            "The client is not allowed that audience.".into(),
        )),
        None => api_audiences
            .first()
            .filter(|a| usable(a))
            .or_else(|| client.audiences.iter().find(|a| usable(a)))
            .cloned()
            .ok_or_else(|| OAuthError::InvalidTarget("The client has no usable audience.".into())),
    }
}

pub async fn exchange(
    tokens: &TokenService,
    client: &Client,
    scope: Option<&str>,
    audience: Option<&str>,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    if !client.is_confidential() {
        return Err(OAuthError::UnauthorizedClient(
            "Public clients cannot use client credentials.".into(),
        ));
    }
    let scopes = Scopes::grant(scope, &client.scopes)?;
    let audience = choose_audience(client, audience, &tokens.api_audiences)?;
    // no refresh token: the client can always ask again (RFC 6749 §4.4.3)
    tokens
        .issue_in_new_grant(client, "client_credentials", &scopes, &audience, now)
        .await
}
