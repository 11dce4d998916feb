//! Client credentials (RFC 6749 §4.4) with an audience (RFC 8707-style `audience`, as Auth0 and
//! django-oauth-toolkit users send it): a confidential client acting on its merchant's behalf.

use crate::oauth::clients::Client;
use crate::oauth::scope::Scopes;
use crate::oauth::tokens::{TokenResponse, TokenService};
use crate::oauth::OAuthError;

/// The audience a token is for: the one asked for, which the client must be allowed; else this
/// server's API when allowed, else the client's first audience.
pub fn choose_audience(
    client: &Client,
    requested: Option<&str>,
    api_audience: &str,
) -> Result<String, OAuthError> {
    match requested.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) if client.audiences.iter().any(|allowed| allowed == a) => Ok(a.to_string()),
        Some(_) => Err(OAuthError::InvalidTarget(
            "The client is not allowed that audience.".into(),
        )),
        None if client.audiences.iter().any(|a| a == api_audience) => Ok(api_audience.to_string()),
        None => client
            .audiences
            .first()
            .cloned()
            .ok_or_else(|| OAuthError::InvalidTarget("The client has no audience.".into())),
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
    let audience = choose_audience(client, audience, &tokens.api_audience)?;
    // no refresh token: the client can always ask again (RFC 6749 §4.4.3)
    tokens
        .issue_in_new_grant(client, "client_credentials", &scopes, &audience, now)
        .await
}
