//! Refresh (RFC 6749 §6) with rotation: every use returns a new refresh token and spends the old
//! one. Presenting a spent one means it was copied: the whole grant is revoked (OAuth 2.0
//! Security BCP §4.14.2).

use crate::db::oauth::Consumed;
use crate::oauth::clients::Client;
use crate::oauth::scope::Scopes;
use crate::oauth::tokens::{TokenResponse, TokenService};
use crate::oauth::OAuthError;

pub async fn exchange(
    tokens: &TokenService,
    client: &Client,
    refresh_token: &str,
    scope: Option<&str>,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let invalid =
        || OAuthError::InvalidGrant("The refresh token is invalid, expired or revoked.".into());
    let grant = match tokens
        .db
        .consume_refresh_token(&tokens.hash(refresh_token), now)
        .await?
    {
        Consumed::Unknown => return Err(invalid()),
        Consumed::Already(grant) => {
            if grant.client_id == client.id {
                tracing::warn!(client = %client.id, grant = %grant.id, "refresh token reused: revoking the grant");
                tokens.db.revoke_grant(&grant.id, now).await?;
            }
            return Err(invalid());
        }
        Consumed::Now(grant) => grant,
    };
    if grant.client_id != client.id || grant.revoked_at.is_some() {
        return Err(invalid());
    }
    let granted = Scopes::parse(&grant.scope).map_err(|_| OAuthError::ServerError)?;
    let scopes = Scopes::grant(scope, &granted)?;
    tokens
        .issue(client, &grant, &scopes.to_string(), true, now)
        .await
}
