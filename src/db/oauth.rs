//! OAuth tables: clients, grants, codes, refresh and access tokens, consents, signing keys.
//! Every client query is scoped by merchant; single-use rows are consumed with one conditional
//! UPDATE, so exactly one of several concurrent requests (on any instance) wins.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::account::{write_audit, Audit};
pub use super::token_ledger::IssuedTokens;
use super::{affected, Db};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRow {
    pub id: String,
    pub merchant_id: String,
    pub name: String,
    pub client_type: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: String,
    pub audiences: Vec<String>,
    /// Seconds an access token issued to this client lives.
    pub access_token_ttl: i64,
    /// Exact browser origins allowed to call the token endpoint and the API (CORS).
    pub allowed_origins: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The secret before the last rotation, while it still works.
    pub previous_secret: Option<PreviousSecret>,
}

/// A replaced client secret that keeps working until `expires_at` (a rotation with overlap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousSecret {
    pub hash: String,
    pub expires_at: i64,
}

/// The columns a client is written with (the previous secret is only ever set by a rotation).
const CLIENT_COLUMNS: &str =
    "id, merchant_id, name, client_type, secret_hash, redirect_uris, scopes, audiences, access_token_ttl, allowed_origins, created_at, updated_at";
/// The columns a client is read with.
const CLIENT_READ_COLUMNS: &str =
    "id, merchant_id, name, client_type, secret_hash, redirect_uris, scopes, audiences, access_token_ttl, allowed_origins, created_at, updated_at, previous_secret_hash, previous_secret_expires_at";

fn json_list(row: &AnyRow, column: &str) -> Result<Vec<String>, sqlx::Error> {
    let raw: String = row.try_get(column)?;
    serde_json::from_str(&raw).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn client_from_row(row: &AnyRow) -> Result<ClientRow, sqlx::Error> {
    Ok(ClientRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        name: row.try_get("name")?,
        client_type: row.try_get("client_type")?,
        secret_hash: row.try_get("secret_hash")?,
        redirect_uris: json_list(row, "redirect_uris")?,
        scopes: row.try_get("scopes")?,
        audiences: json_list(row, "audiences")?,
        access_token_ttl: row.try_get("access_token_ttl")?,
        allowed_origins: json_list(row, "allowed_origins")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        previous_secret: match (
            row.try_get::<Option<String>, _>("previous_secret_hash")?,
            row.try_get::<Option<i64>, _>("previous_secret_expires_at")?,
        ) {
            (Some(hash), Some(expires_at)) => Some(PreviousSecret { hash, expires_at }),
            _ => None,
        },
    })
}

async fn replace_origins(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    client_id: &str,
    origins: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM oauth_client_origins WHERE client_id = $1")
        .bind(client_id)
        .execute(&mut **tx)
        .await?;
    for origin in origins {
        sqlx::query("INSERT INTO oauth_client_origins (origin, client_id) VALUES ($1, $2)")
            .bind(origin)
            .bind(client_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

#[derive(Debug, Clone)]
pub struct GrantRow {
    pub id: String,
    pub merchant_id: String,
    pub client_id: String,
    pub grant_type: String,
    pub scope: String,
    pub audience: String,
    pub revoked_at: Option<i64>,
}

fn grant_from_row(row: &AnyRow) -> Result<GrantRow, sqlx::Error> {
    Ok(GrantRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        client_id: row.try_get("client_id")?,
        grant_type: row.try_get("grant_type")?,
        scope: row.try_get("scope")?,
        audience: row.try_get("audience")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

const GRANT_COLUMNS: &str =
    "g.id, g.merchant_id, g.client_id, g.grant_type, g.scope, g.audience, g.revoked_at";

/// Outcome of trying to use a single-use row.
#[derive(Debug)]
pub enum Consumed<T> {
    /// This request used it.
    Now(T),
    /// It exists but was used before (or expired): a replay.
    Already(T),
    Unknown,
}

#[derive(Debug, Clone)]
pub struct CodeRow {
    pub grant: GrantRow,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct SigningKeyRow {
    pub kid: String,
    pub algorithm: String,
    pub private_key_sealed: String,
    pub public_key: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl Db {
    pub async fn insert_client(
        &self,
        c: &ClientRow,
        audit: Option<&Audit>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(&format!("INSERT INTO oauth_clients ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"))
            .bind(&c.id)
            .bind(&c.merchant_id)
            .bind(&c.name)
            .bind(&c.client_type)
            .bind(&c.secret_hash)
            .bind(to_json(&c.redirect_uris))
            .bind(&c.scopes)
            .bind(to_json(&c.audiences))
            .bind(c.access_token_ttl)
            .bind(to_json(&c.allowed_origins))
            .bind(c.created_at)
            .bind(c.updated_at)
            .execute(&mut *tx)
            .await?;
        replace_origins(&mut tx, &c.id, &c.allowed_origins).await?;
        write_audit(&mut tx, audit).await?;
        tx.commit().await
    }

    /// Updates the editable fields of the merchant's own client; false if it is not theirs.
    pub async fn update_client(&self, c: &ClientRow) -> Result<bool, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let r = sqlx::query(
            "UPDATE oauth_clients SET name = $1, redirect_uris = $2, scopes = $3, audiences = $4, updated_at = $5,
                    access_token_ttl = $6, allowed_origins = $7
             WHERE id = $8 AND merchant_id = $9",
        )
        .bind(&c.name)
        .bind(to_json(&c.redirect_uris))
        .bind(&c.scopes)
        .bind(to_json(&c.audiences))
        .bind(c.updated_at)
        .bind(c.access_token_ttl)
        .bind(to_json(&c.allowed_origins))
        .bind(&c.id)
        .bind(&c.merchant_id)
        .execute(&mut *tx)
        .await?;
        if affected(r) != 1 {
            return Ok(false);
        }
        replace_origins(&mut tx, &c.id, &c.allowed_origins).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Whether any client allows `origin`: enough to answer a CORS preflight, which names no
    /// client (the real request's answer then depends on its own client).
    pub async fn origin_allowed_by_any_client(&self, origin: &str) -> Result<bool, sqlx::Error> {
        Ok(
            sqlx::query("SELECT 1 FROM oauth_client_origins WHERE origin = $1 LIMIT 1")
                .bind(origin)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    /// The origins one client allows.
    pub async fn client_origins(&self, client_id: &str) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query("SELECT origin FROM oauth_client_origins WHERE client_id = $1")
            .bind(client_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get("origin"))
            .collect()
    }

    /// Replaces a confidential client's secret. With `keep_previous_until`, the secret being
    /// replaced keeps working until then (any older one stops); without, it stops at once.
    pub async fn set_client_secret(
        &self,
        merchant_id: &str,
        client_id: &str,
        secret_hash: &str,
        keep_previous_until: Option<i64>,
        now: i64,
        audit: Option<&Audit>,
    ) -> Result<bool, sqlx::Error> {
        let previous = match keep_previous_until {
            Some(_) => "previous_secret_hash = secret_hash, previous_secret_expires_at = $5",
            None => "previous_secret_hash = NULL, previous_secret_expires_at = NULL",
        };
        let sql = format!(
            "UPDATE oauth_clients SET {previous}, secret_hash = $1, updated_at = $2
             WHERE id = $3 AND merchant_id = $4 AND client_type = 'confidential'"
        );
        let mut query = sqlx::query(&sql)
            .bind(secret_hash)
            .bind(now)
            .bind(client_id)
            .bind(merchant_id);
        if let Some(until) = keep_previous_until {
            query = query.bind(until);
        }
        let mut tx = self.writer.begin().await?;
        let r = query.execute(&mut *tx).await?;
        if affected(r) != 1 {
            return Ok(false);
        }
        write_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends the overlap of the client's previous secret now; false if it is not theirs.
    pub async fn drop_previous_client_secret(
        &self,
        merchant_id: &str,
        client_id: &str,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE oauth_clients SET previous_secret_hash = NULL, previous_secret_expires_at = NULL
             WHERE id = $1 AND merchant_id = $2",
        )
        .bind(client_id)
        .bind(merchant_id)
        .execute(&self.writer)
        .await?;
        Ok(affected(r) == 1)
    }

    pub async fn delete_client(
        &self,
        merchant_id: &str,
        client_id: &str,
        audit: Option<&Audit>,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        // children first: SQLite enforces the foreign keys only when enabled per connection
        for table in ["oauth_access_tokens", "oauth_refresh_tokens", "oauth_codes"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE grant_id IN (SELECT id FROM oauth_grants WHERE client_id = $1 AND merchant_id = $2)"
            ))
            .bind(client_id)
            .bind(merchant_id)
            .execute(&mut *tx)
            .await?;
        }
        for table in ["oauth_grants", "oauth_consents"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE client_id = $1 AND merchant_id = $2"
            ))
            .bind(client_id)
            .bind(merchant_id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "DELETE FROM oauth_client_origins WHERE client_id IN (SELECT id FROM oauth_clients WHERE id = $1 AND merchant_id = $2)",
        )
        .bind(client_id)
        .bind(merchant_id)
        .execute(&mut *tx)
        .await?;
        let r = sqlx::query("DELETE FROM oauth_clients WHERE id = $1 AND merchant_id = $2")
            .bind(client_id)
            .bind(merchant_id)
            .execute(&mut *tx)
            .await?;
        let deleted = affected(r) == 1;
        if deleted {
            write_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        self.revoked();
        Ok(deleted)
    }

    pub async fn merchant_client(
        &self,
        merchant_id: &str,
        client_id: &str,
    ) -> Result<Option<ClientRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {CLIENT_READ_COLUMNS} FROM oauth_clients WHERE id = $1 AND merchant_id = $2"
        ))
        .bind(client_id)
        .bind(merchant_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(client_from_row)
        .transpose()
    }

    /// Looks a client up by its public id alone: only for authenticating the client itself.
    pub async fn client_by_id(&self, client_id: &str) -> Result<Option<ClientRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {CLIENT_READ_COLUMNS} FROM oauth_clients WHERE id = $1"
        ))
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(client_from_row)
        .transpose()
    }

    pub async fn merchant_clients(&self, merchant_id: &str) -> Result<Vec<ClientRow>, sqlx::Error> {
        sqlx::query(&format!("SELECT {CLIENT_READ_COLUMNS} FROM oauth_clients WHERE merchant_id = $1 ORDER BY created_at, id"))
            .bind(merchant_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(client_from_row)
            .collect()
    }

    pub async fn insert_grant(&self, g: &GrantRow, now: i64) -> Result<(), sqlx::Error> {
        super::token_ledger::insert_grants(&self.writer, &[(g, now)]).await
    }

    /// Revokes the grant and so every token issued under it.
    pub async fn revoke_grant(&self, grant_id: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(grant_id)
            .execute(&self.writer)
            .await?;
        self.revoked();
        Ok(())
    }

    pub async fn insert_code(
        &self,
        code_hash: &str,
        grant_id: &str,
        redirect_uri: &str,
        challenge: &str,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO oauth_codes (code_hash, grant_id, redirect_uri, code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code_hash)
        .bind(grant_id)
        .bind(redirect_uri)
        .bind(challenge)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Marks the code used if it was unused and unexpired; says what it found either way.
    pub async fn consume_code(
        &self,
        code_hash: &str,
        now: i64,
    ) -> Result<Consumed<CodeRow>, sqlx::Error> {
        let won = affected(
            sqlx::query("UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1")
                .bind(now)
                .bind(code_hash)
                .execute(&self.writer)
                .await?,
        ) == 1;
        let row = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS}, c.redirect_uri, c.code_challenge, c.expires_at
             FROM oauth_codes c JOIN oauth_grants g ON g.id = c.grant_id WHERE c.code_hash = $1"
        ))
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Consumed::Unknown);
        };
        let code = CodeRow {
            grant: grant_from_row(&row)?,
            redirect_uri: row.try_get("redirect_uri")?,
            code_challenge: row.try_get("code_challenge")?,
            expires_at: row.try_get("expires_at")?,
        };
        Ok(if won {
            Consumed::Now(code)
        } else {
            Consumed::Already(code)
        })
    }

    /// Rotates a refresh token: marks it used if it was unused and unexpired. Answers its grant
    /// and its expiry (the end of the whole rotation chain).
    pub async fn consume_refresh_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Consumed<(GrantRow, i64)>, sqlx::Error> {
        let won = affected(
            sqlx::query(
                "UPDATE oauth_refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(now)
            .bind(token_hash)
            .execute(&self.writer)
            .await?,
        ) == 1;
        let row = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS}, r.expires_at FROM oauth_refresh_tokens r JOIN oauth_grants g ON g.id = r.grant_id WHERE r.token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Consumed::Unknown);
        };
        let grant = (grant_from_row(&row)?, row.try_get("expires_at")?);
        Ok(if won {
            Consumed::Now(grant)
        } else {
            Consumed::Already(grant)
        })
    }

    /// The grant a refresh token belongs to, without consuming it (revocation, introspection).
    pub async fn refresh_token_grant(
        &self,
        token_hash: &str,
    ) -> Result<Option<(GrantRow, i64, Option<i64>)>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS}, r.expires_at, r.used_at FROM oauth_refresh_tokens r JOIN oauth_grants g ON g.id = r.grant_id
             WHERE r.token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok((
                grant_from_row(&row)?,
                row.try_get("expires_at")?,
                row.try_get("used_at")?,
            ))
        })
        .transpose()
    }

    /// Records what one token response hands out, in one transaction (shared with other
    /// responses issued at the same moment, see [`super::token_ledger`]): the grant when it is
    /// new (client credentials), the access token's `jti`, and the refresh token's hash. Either
    /// all of it is there afterwards or none of it.
    pub async fn record_tokens(&self, issued: IssuedTokens) -> Result<(), sqlx::Error> {
        self.ledger.record(issued).await
    }

    /// The grant of a live (unrevoked) access token; `None` when the token or its grant was revoked.
    pub async fn live_access_token_grant(
        &self,
        jti: &str,
    ) -> Result<Option<GrantRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS} FROM oauth_access_tokens a JOIN oauth_grants g ON g.id = a.grant_id
             WHERE a.jti = $1 AND a.revoked_at IS NULL AND g.revoked_at IS NULL"
        ))
        .bind(jti)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(grant_from_row)
        .transpose()
    }

    pub async fn revoke_access_token(&self, jti: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE oauth_access_tokens SET revoked_at = $1 WHERE jti = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(jti)
        .execute(&self.writer)
        .await?;
        self.revoked();
        Ok(())
    }

    pub async fn consent(
        &self,
        merchant_id: &str,
        client_id: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT scope FROM oauth_consents WHERE merchant_id = $1 AND client_id = $2",
        )
        .bind(merchant_id)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get("scope")).transpose()
    }

    pub async fn save_consent(
        &self,
        merchant_id: &str,
        client_id: &str,
        scope: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO oauth_consents (merchant_id, client_id, scope, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (merchant_id, client_id) DO UPDATE SET scope = excluded.scope, created_at = excluded.created_at",
        )
        .bind(merchant_id)
        .bind(client_id)
        .bind(scope)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn insert_signing_key(&self, k: &SigningKeyRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key_sealed, public_key, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&k.kid)
        .bind(&k.algorithm)
        .bind(&k.private_key_sealed)
        .bind(&k.public_key)
        .bind(k.created_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Keys that still verify: active ones, and retired ones whose tokens may not have expired.
    pub async fn verifying_keys(
        &self,
        retired_after: i64,
    ) -> Result<Vec<SigningKeyRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT kid, algorithm, private_key_sealed, public_key, created_at, retired_at FROM signing_keys
             WHERE retired_at IS NULL OR retired_at > $1 ORDER BY created_at DESC, kid",
        )
        .bind(retired_after)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SigningKeyRow {
                    kid: row.try_get("kid")?,
                    algorithm: row.try_get("algorithm")?,
                    private_key_sealed: row.try_get("private_key_sealed")?,
                    public_key: row.try_get("public_key")?,
                    created_at: row.try_get("created_at")?,
                    retired_at: row.try_get("retired_at")?,
                })
            })
            .collect()
    }

    pub async fn retire_signing_keys_except(&self, kid: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE signing_keys SET retired_at = $1 WHERE kid <> $2 AND retired_at IS NULL",
        )
        .bind(now)
        .bind(kid)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
