//! Single sign-on persistence: settings and sealed secrets, one-time links, nonces, the login
//! log and subscriber portal sessions. Every query names the merchant it is about, except the
//! two lookups by something unguessable (a link's or a portal session's hash) and by the public
//! store slug, which return the merchant for the caller to scope everything after.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{affected, is_unique_violation, Db};

#[derive(Debug, Clone)]
pub struct SsoSettingsRow {
    pub merchant_id: String,
    pub store: String,
    pub enabled: bool,
    pub link_ttl_secs: i64,
    pub bind_ip: bool,
    pub require_signed_timestamps: bool,
    pub secret_sealed: Option<String>,
    pub secret_generation: i64,
    pub secret_created_at: Option<i64>,
    pub previous_sealed: Option<String>,
    pub previous_generation: Option<i64>,
    pub previous_expires_at: Option<i64>,
    pub updated_at: i64,
}

impl SsoSettingsRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            merchant_id: row.try_get("merchant_id")?,
            store: row.try_get("store")?,
            enabled: row.try_get::<i64, _>("enabled")? != 0,
            link_ttl_secs: row.try_get("link_ttl_secs")?,
            bind_ip: row.try_get::<i64, _>("bind_ip")? != 0,
            require_signed_timestamps: row.try_get::<i64, _>("require_signed_timestamps")? != 0,
            secret_sealed: row.try_get("secret_sealed")?,
            secret_generation: row.try_get("secret_generation")?,
            secret_created_at: row.try_get("secret_created_at")?,
            previous_sealed: row.try_get("previous_sealed")?,
            previous_generation: row.try_get("previous_generation")?,
            previous_expires_at: row.try_get("previous_expires_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

const SETTINGS_COLUMNS: &str = "merchant_id, store, enabled, link_ttl_secs, bind_ip, \
    require_signed_timestamps, secret_sealed, secret_generation, secret_created_at, \
    previous_sealed, previous_generation, previous_expires_at, updated_at";

/// A one-time link that was just consumed.
#[derive(Debug, Clone)]
pub struct ConsumedLink {
    pub merchant_id: String,
    pub subscriber_id: String,
    pub bound_ip: Option<String>,
}

/// Why a link could not be consumed (for the log; the subscriber sees one friendly page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadLink {
    Unknown,
    Used {
        merchant_id: String,
        subscriber_id: String,
    },
    Expired {
        merchant_id: String,
        subscriber_id: String,
    },
}

#[derive(Debug, Clone)]
pub struct SsoLoginRow {
    pub subscriber_id: String,
    pub at: i64,
    pub ip: String,
    pub user_agent: String,
    pub outcome: String,
}

impl Db {
    pub async fn sso_settings(
        &self,
        merchant_id: &str,
    ) -> Result<Option<SsoSettingsRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {SETTINGS_COLUMNS} FROM sso_settings WHERE merchant_id = $1"
        ))
        .bind(merchant_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(SsoSettingsRow::from_row)
        .transpose()
    }

    pub async fn sso_settings_by_store(
        &self,
        store: &str,
    ) -> Result<Option<SsoSettingsRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {SETTINGS_COLUMNS} FROM sso_settings WHERE store = $1"
        ))
        .bind(store)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(SsoSettingsRow::from_row)
        .transpose()
    }

    /// Inserts the merchant's first settings; `Ok(false)` when the store slug is taken (or the
    /// merchant has settings already: the caller reads them again).
    pub async fn insert_sso_settings(&self, s: &SsoSettingsRow) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(&format!(
            "INSERT INTO sso_settings ({SETTINGS_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&s.merchant_id)
        .bind(&s.store)
        .bind(i64::from(s.enabled))
        .bind(s.link_ttl_secs)
        .bind(i64::from(s.bind_ip))
        .bind(i64::from(s.require_signed_timestamps))
        .bind(&s.secret_sealed)
        .bind(s.secret_generation)
        .bind(s.secret_created_at)
        .bind(&s.previous_sealed)
        .bind(s.previous_generation)
        .bind(s.previous_expires_at)
        .bind(s.updated_at)
        .execute(&self.writer)
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes the secrets and the switch, only if nobody changed the secrets since the caller
    /// read generation `expected` (two rotations at once must not lose one of them).
    pub async fn save_sso_secrets(
        &self,
        s: &SsoSettingsRow,
        expected_generation: i64,
        audit: Option<&super::account::Audit>,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let result = sqlx::query(
            "UPDATE sso_settings SET enabled = $1, secret_sealed = $2, secret_generation = $3,
               secret_created_at = $4, previous_sealed = $5, previous_generation = $6,
               previous_expires_at = $7, updated_at = $8
             WHERE merchant_id = $9 AND secret_generation = $10",
        )
        .bind(i64::from(s.enabled))
        .bind(&s.secret_sealed)
        .bind(s.secret_generation)
        .bind(s.secret_created_at)
        .bind(&s.previous_sealed)
        .bind(s.previous_generation)
        .bind(s.previous_expires_at)
        .bind(s.updated_at)
        .bind(&s.merchant_id)
        .bind(expected_generation)
        .execute(&mut *tx)
        .await?;
        if affected(result) != 1 {
            return Ok(false);
        }
        super::account::write_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn save_sso_options(
        &self,
        merchant_id: &str,
        link_ttl_secs: i64,
        bind_ip: bool,
        require_signed_timestamps: bool,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE sso_settings SET link_ttl_secs = $1, bind_ip = $2,
               require_signed_timestamps = $3, updated_at = $4
             WHERE merchant_id = $5",
        )
        .bind(link_ttl_secs)
        .bind(i64::from(bind_ip))
        .bind(i64::from(require_signed_timestamps))
        .bind(now)
        .bind(merchant_id)
        .execute(&self.writer)
        .await?;
        Ok(affected(result) == 1)
    }

    // -----------------------------------------------------------------------------------------
    // one-time links

    pub async fn insert_sso_link(
        &self,
        token_hash: &str,
        merchant_id: &str,
        subscriber_id: &str,
        bound_ip: Option<&str>,
        now: i64,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO sso_links (token_hash, merchant_id, subscriber_id, bound_ip, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(merchant_id)
        .bind(subscriber_id)
        .bind(bound_ip)
        .bind(now)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Marks the link used and returns it, in one conditional statement: of any number of
    /// concurrent requests with the same link (on any number of instances), exactly one gets it.
    pub async fn consume_sso_link(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Result<ConsumedLink, DeadLink>, sqlx::Error> {
        let row = sqlx::query(
            "UPDATE sso_links SET used_at = $1
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
             RETURNING merchant_id, subscriber_id, bound_ip",
        )
        .bind(now)
        .bind(token_hash)
        .fetch_optional(&self.writer)
        .await?;
        if let Some(row) = row {
            return Ok(Ok(ConsumedLink {
                merchant_id: row.try_get("merchant_id")?,
                subscriber_id: row.try_get("subscriber_id")?,
                bound_ip: row.try_get("bound_ip")?,
            }));
        }
        let dead = sqlx::query(
            "SELECT merchant_id, subscriber_id, used_at FROM sso_links WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(Err(match dead {
            None => DeadLink::Unknown,
            Some(row) => {
                let merchant_id = row.try_get("merchant_id")?;
                let subscriber_id = row.try_get("subscriber_id")?;
                if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
                    DeadLink::Used {
                        merchant_id,
                        subscriber_id,
                    }
                } else {
                    DeadLink::Expired {
                        merchant_id,
                        subscriber_id,
                    }
                }
            }
        }))
    }

    /// Whether a link would open a session now (unused, unexpired, SSO on), without using it.
    pub async fn sso_link_is_open(&self, token_hash: &str, now: i64) -> Result<bool, sqlx::Error> {
        Ok(sqlx::query(
            "SELECT 1 AS open FROM sso_links l JOIN sso_settings s ON s.merchant_id = l.merchant_id
             WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2 AND s.enabled = 1",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    /// Records a signed-timestamp nonce; `Ok(false)` when it was seen before.
    pub async fn insert_sso_nonce(
        &self,
        merchant_id: &str,
        nonce: &str,
        expires_at: i64,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "INSERT INTO sso_nonces (merchant_id, nonce, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(merchant_id)
        .bind(nonce)
        .bind(expires_at)
        .execute(&self.writer)
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    // -----------------------------------------------------------------------------------------
    // the login log

    pub async fn log_sso_login(
        &self,
        merchant_id: &str,
        subscriber_id: &str,
        at: i64,
        ip: &str,
        user_agent: &str,
        outcome: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO sso_logins (merchant_id, subscriber_id, at, ip, user_agent, outcome)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(merchant_id)
        .bind(subscriber_id)
        .bind(at)
        .bind(ip)
        .bind(user_agent)
        .bind(outcome)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The merchant's portal branding (all empty until they set it).
    pub async fn portal_branding(
        &self,
        merchant_id: &str,
    ) -> Result<PortalBrandingRow, sqlx::Error> {
        let row = sqlx::query(
            "SELECT store_url, support_email, accent, logo_url FROM portal_branding
             WHERE merchant_id = $1",
        )
        .bind(merchant_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => PortalBrandingRow {
                store_url: row.try_get("store_url")?,
                support_email: row.try_get("support_email")?,
                accent: row.try_get("accent")?,
                logo_url: row.try_get("logo_url")?,
            },
            None => PortalBrandingRow::default(),
        })
    }

    pub async fn save_portal_branding(
        &self,
        merchant_id: &str,
        b: &PortalBrandingRow,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO portal_branding
               (merchant_id, store_url, support_email, accent, logo_url, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (merchant_id) DO UPDATE SET store_url = excluded.store_url,
               support_email = excluded.support_email, accent = excluded.accent,
               logo_url = excluded.logo_url, updated_at = excluded.updated_at",
        )
        .bind(merchant_id)
        .bind(&b.store_url)
        .bind(&b.support_email)
        .bind(&b.accent)
        .bind(&b.logo_url)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The merchant a link was issued by, used or not, while the sweep keeps it (so the page
    /// of a dead link can still show whose store to go back to).
    pub async fn sso_link_merchant(&self, token_hash: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query("SELECT merchant_id FROM sso_links WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| row.try_get("merchant_id"))
            .transpose()
    }

    /// How many log entries with `outcome` each day since `since` (day 0 starts at `since`):
    /// `(day, count)` for the days that have any.
    pub async fn sso_daily(
        &self,
        merchant_id: &str,
        outcome: &str,
        since: i64,
    ) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        sqlx::query(
            "SELECT (at - $2) / 86400 AS day, COUNT(*) AS n FROM sso_logins
             WHERE merchant_id = $1 AND at >= $2 AND outcome = $3
             GROUP BY 1",
        )
        .bind(merchant_id)
        .bind(since)
        .bind(outcome)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("day")?, row.try_get("n")?)))
        .collect()
    }

    /// The most recent entries first.
    pub async fn sso_logins(
        &self,
        merchant_id: &str,
        limit: i64,
    ) -> Result<Vec<SsoLoginRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT subscriber_id, at, ip, user_agent, outcome FROM sso_logins
             WHERE merchant_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(merchant_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SsoLoginRow {
                    subscriber_id: row.try_get("subscriber_id")?,
                    at: row.try_get("at")?,
                    ip: row.try_get("ip")?,
                    user_agent: row.try_get("user_agent")?,
                    outcome: row.try_get("outcome")?,
                })
            })
            .collect()
    }

    // -----------------------------------------------------------------------------------------
    // subscriber portal sessions

    pub async fn insert_subscriber_session(
        &self,
        id_hash: &str,
        merchant_id: &str,
        subscriber_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO subscriber_sessions (id_hash, merchant_id, subscriber_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(merchant_id)
        .bind(subscriber_id)
        .bind(now)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The live session's (merchant, subscriber), while the merchant's single sign-on is on.
    pub async fn subscriber_session(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<(String, String)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT s.merchant_id, s.subscriber_id FROM subscriber_sessions s
             JOIN sso_settings t ON t.merchant_id = s.merchant_id
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND t.enabled = 1",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("merchant_id")?, r.try_get("subscriber_id")?)))
            .transpose()
    }

    /// Ends every portal session of the merchant's subscribers (single sign-on was turned off).
    pub async fn delete_subscriber_sessions_of(
        &self,
        merchant_id: &str,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("DELETE FROM subscriber_sessions WHERE merchant_id = $1")
            .bind(merchant_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn delete_subscriber_session(&self, id_hash: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM subscriber_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

/// What the subscriber portal shows of the merchant besides their business name, as stored
/// (checked by `crate::portal` before it is saved).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortalBrandingRow {
    /// "Back to the store" (https).
    pub store_url: Option<String>,
    /// Where subscribers ask for help.
    pub support_email: Option<String>,
    /// `#rrggbb`, lowercase: the portal's buttons and top edge.
    pub accent: Option<String>,
    /// The merchant's logo (https), shown above their name.
    pub logo_url: Option<String>,
}
