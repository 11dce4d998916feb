//! Issuing, revoking and introspecting tokens. Access tokens are JWTs whose `jti` is recorded
//! with the grant they came from, so revoking a token or its whole grant takes effect at once on
//! the instance that revoked and within a second on every other. Refresh tokens are random strings stored only as keyed hashes.

use std::time::Instant;

use serde::Serialize;

use super::clients::Client;
use super::jwt::KeyRing;
use super::live_tokens::LiveTokens;
use super::scope::Scopes;
use super::{AccessClaims, OAuthError, REFRESH_TOKEN_TTL};
use crate::crypto::{keyed_hash, SecretKey};
use crate::db::oauth::{GrantRow, IssuedTokens};
use crate::db::Db;
use crate::entropy::Entropy;

/// The token endpoint's success body (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Why a bearer token was not accepted.
#[derive(Debug)]
pub enum TokenRejected {
    /// The token's fault: 401 with this sentence.
    Invalid(String),
    /// The check could not be made (the keys or the database are unavailable): 503, never the
    /// token's fault.
    Unavailable,
    /// The database failed otherwise (logged at the edge): 500.
    Database(sqlx::Error),
}

/// Everything needed to mint and check tokens.
pub struct TokenService {
    pub db: Db,
    pub keys: KeyRing,
    /// `iss` of every token: the public URL.
    pub issuer: String,
    /// The audiences subgate's own API answers to; the first is the default.
    pub api_audiences: Vec<String>,
    token_hash_key: [u8; 32],
    /// Tokens found live a moment ago.
    live: LiveTokens,
    /// Grant ids, token ids, refresh tokens and authorization codes.
    pub entropy: Entropy,
}

impl TokenService {
    pub fn new(
        db: Db,
        root: &SecretKey,
        entropy: Entropy,
        issuer: String,
        api_audiences: Vec<String>,
    ) -> Self {
        Self {
            keys: KeyRing::new(db.clone(), root, entropy.clone()),
            entropy,
            db,
            issuer,
            api_audiences,
            token_hash_key: root.derive("oauth-token-hash"),
            live: LiveTokens::default(),
        }
    }

    pub fn hash(&self, token: &str) -> String {
        keyed_hash(&self.token_hash_key, token)
    }

    fn grant_row(
        &self,
        client: &Client,
        grant_type: &str,
        scope: &Scopes,
        audience: &str,
    ) -> GrantRow {
        GrantRow {
            id: self.entropy.id("grt"),
            merchant_id: client.merchant_id.clone(),
            client_id: client.id.clone(),
            grant_type: grant_type.into(),
            scope: scope.to_string(),
            audience: audience.into(),
            revoked_at: None,
        }
    }

    /// Records a new grant (the family every token of one authorization belongs to).
    pub async fn new_grant(
        &self,
        client: &Client,
        grant_type: &str,
        scope: &Scopes,
        audience: &str,
        now: i64,
    ) -> Result<GrantRow, OAuthError> {
        let grant = self.grant_row(client, grant_type, scope, audience);
        self.db.insert_grant(&grant, now).await?;
        Ok(grant)
    }

    /// An access token (and optionally a refresh token) under the existing `grant`, with `scope`
    /// (a subset of the grant's).
    pub async fn issue(
        &self,
        client: &Client,
        grant: &GrantRow,
        scope: &str,
        with_refresh: bool,
        now: i64,
    ) -> Result<TokenResponse, OAuthError> {
        let refresh_expires_at = with_refresh.then_some(now + REFRESH_TOKEN_TTL);
        self.mint(client, grant, false, scope, refresh_expires_at, now)
            .await
    }

    /// A refresh's tokens: the new refresh token ends when the one it replaces would have, so
    /// rotation never makes a chain outlive its first token (30 days from the authorization).
    pub async fn rotate(
        &self,
        client: &Client,
        grant: &GrantRow,
        scope: &str,
        chain_expires_at: i64,
        now: i64,
    ) -> Result<TokenResponse, OAuthError> {
        self.mint(client, grant, false, scope, Some(chain_expires_at), now)
            .await
    }

    /// A new grant and its one access token, written together (client credentials, where every
    /// token request is an authorization of its own).
    pub async fn issue_in_new_grant(
        &self,
        client: &Client,
        grant_type: &str,
        scope: &Scopes,
        audience: &str,
        now: i64,
    ) -> Result<TokenResponse, OAuthError> {
        let grant = self.grant_row(client, grant_type, scope, audience);
        self.mint(client, &grant, true, &grant.scope, None, now)
            .await
    }

    /// Signs first and records after, in one transaction: a failure leaves nothing behind, and
    /// nothing is handed out that was not recorded.
    async fn mint(
        &self,
        client: &Client,
        grant: &GrantRow,
        grant_is_new: bool,
        scope: &str,
        refresh_expires_at: Option<i64>,
        now: i64,
    ) -> Result<TokenResponse, OAuthError> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            // RFC 9068 §2.2: the resource owner, or the client itself when it acts for itself
            sub: if grant.grant_type == "client_credentials" {
                grant.client_id.clone()
            } else {
                grant.merchant_id.clone()
            },
            aud: grant.audience.clone(),
            client_id: grant.client_id.clone(),
            scope: scope.to_string(),
            iat: now,
            exp: now + client.access_token_ttl,
            jti: self.entropy.token(16),
            merchant_id: grant.merchant_id.clone(),
        };
        let access_token = self.keys.sign(&claims, now).await?;
        let refresh_token = refresh_expires_at.map(|_| format!("sgr_{}", self.entropy.token(32)));
        let refresh_hash = refresh_token.as_deref().map(|t| self.hash(t));
        self.db
            .record_tokens(IssuedTokens {
                new_grant: grant_is_new.then(|| grant.clone()),
                grant_id: grant.id.clone(),
                jti: claims.jti.clone(),
                access_expires_at: claims.exp,
                refresh: refresh_hash.zip(refresh_expires_at),
                now,
            })
            .await?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: client.access_token_ttl,
            scope: scope.to_string(),
            refresh_token,
        })
    }

    /// The claims of a valid, unexpired, unrevoked access token for one of the API's audiences.
    pub async fn check_access_token(
        &self,
        token: &str,
        now: i64,
    ) -> Result<AccessClaims, TokenRejected> {
        let invalid = |why: &str| TokenRejected::Invalid(why.to_string());
        // a token found live a moment ago, with no revocation since: its signature and the
        // database need not be asked again (see `super::live_tokens`)
        let epoch = self.db.revocation_epoch();
        let seen = Instant::now();
        let remembered = self.live.get(token, epoch, seen);
        let claims = match &remembered {
            Some(claims) => claims.clone(),
            None => self.keys.verify(token, now).await.map_err(|e| match e {
                super::jwt::VerifyError::Unavailable => TokenRejected::Unavailable,
                e => TokenRejected::Invalid(format!("The access token is invalid: {e}.")),
            })?,
        };
        if claims.exp <= now {
            return Err(invalid("The access token expired."));
        }
        if claims.iss != self.issuer {
            return Err(invalid("The access token was issued by someone else."));
        }
        if !self.api_audiences.contains(&claims.aud) {
            return Err(invalid(
                "The access token is not meant for this API (audience).",
            ));
        }
        if remembered.is_some() {
            return Ok(claims);
        }
        // revocation: asked of the database, whose "live" answer is trusted for at most a
        // second, so every instance refuses a revoked token within that (and this one at once)
        match self.db.live_access_token_grant(&claims.jti).await {
            Ok(Some(grant))
                if grant.merchant_id == claims.merchant_id
                    && grant.client_id == claims.client_id =>
            {
                self.live.remember(token, claims.clone(), epoch, seen);
                Ok(claims)
            }
            Ok(_) => Err(invalid("The access token was revoked.")),
            Err(e) => Err(TokenRejected::Database(e)),
        }
    }

    /// RFC 7009: revokes the client's own token; unknown or foreign tokens are silently ignored.
    pub async fn revoke(&self, client: &Client, token: &str, now: i64) -> Result<(), OAuthError> {
        if let Some((grant, _, _)) = self.db.refresh_token_grant(&self.hash(token)).await? {
            if grant.client_id == client.id {
                // revoking a refresh token revokes the whole grant and its access tokens (§2.1)
                self.db.revoke_grant(&grant.id, now).await?;
                tracing::info!(client = %client.id, grant = %grant.id, "refresh token revoked");
            }
            return Ok(());
        }
        if let Ok(claims) = self.keys.verify(token, now).await {
            if claims.client_id == client.id {
                self.db.revoke_access_token(&claims.jti, now).await?;
                tracing::info!(client = %client.id, jti = %claims.jti, "access token revoked");
            }
        }
        Ok(())
    }

    /// RFC 7662: what the client may know about its own token.
    pub async fn introspect(
        &self,
        client: &Client,
        token: &str,
        now: i64,
    ) -> Result<serde_json::Value, OAuthError> {
        let inactive = serde_json::json!({ "active": false });
        if let Some((grant, expires_at, used_at)) =
            self.db.refresh_token_grant(&self.hash(token)).await?
        {
            let active = grant.client_id == client.id
                && grant.revoked_at.is_none()
                && used_at.is_none()
                && expires_at > now;
            return Ok(if active {
                serde_json::json!({ "active": true, "token_type": "refresh_token", "client_id": grant.client_id,
                                    "scope": grant.scope, "exp": expires_at, "sub": grant.merchant_id })
            } else {
                inactive
            });
        }
        let Ok(claims) = self.keys.verify(token, now).await else {
            return Ok(inactive);
        };
        if claims.client_id != client.id
            || claims.exp <= now
            || self
                .db
                .live_access_token_grant(&claims.jti)
                .await?
                .is_none()
        {
            return Ok(inactive);
        }
        let mut body = serde_json::to_value(&claims).map_err(|_| OAuthError::ServerError)?;
        body["active"] = true.into();
        body["token_type"] = "Bearer".into();
        Ok(body)
    }
}
