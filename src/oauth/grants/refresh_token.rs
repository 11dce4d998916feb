//! Refresh (RFC 6749 §6) with rotation: every use returns a new refresh token and spends the old
//! one. Presenting a spent one means it was copied: the whole grant is revoked (OAuth 2.0
//! Security BCP §4.14.2). A refresh gets at most what the client is allowed *now* (scopes taken
//! from the client since the authorization are gone from its next token), and the new refresh
//! token expires with the chain's first one (an absolute lifetime, as RFC 9700 §4.14.2 allows).

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
    let (grant, chain_expires_at) = match tokens
        .db
        .consume_refresh_token(&tokens.hash(refresh_token), now)
        .await?
    {
        Consumed::Unknown => return Err(invalid()),
        Consumed::Already((grant, _)) => {
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
    let allowed = granted.intersection(&client.scopes);
    if allowed.is_empty() {
        return Err(OAuthError::InvalidGrant(
            "The client is no longer allowed any of this grant's scopes.".into(),
        ));
    }
    let scopes = Scopes::grant(scope, &allowed)?;
    tokens
        .rotate(client, &grant, &scopes.to_string(), chain_expires_at, now)
        .await
}
