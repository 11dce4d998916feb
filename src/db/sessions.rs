//! tower-sessions store on the application database, so every instance behind a load balancer
//! sees the same sessions. Rows are keyed by SHA-256 of the session id: the cookie value itself
//! is never stored.
//!
//! Beside the data, each row names its merchant and device (from the session's own data, as
//! `auth_session::log_in` put them there), so an account can list its sessions and end them: a
//! session deleted that way stays deleted, because saving an existing session only updates it.

use async_trait::async_trait;
use sqlx::Row;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::{affected, Db};
use crate::crypto::sha256_hex;

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn key(id: &Id) -> String {
    sha256_hex(id.to_string().as_bytes())
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

/// The session's owner and device, as columns: (merchant_id, handle, ip, user agent, created).
struct Owner {
    merchant_id: Option<String>,
    handle: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    created_at: Option<i64>,
}

fn owner(record: &Record) -> Owner {
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(String::from);
    let meta = record
        .data
        .get(crate::http::middleware::auth_session::META_KEY);
    let field = |name: &str| meta.and_then(|m| m.get(name));
    Owner {
        merchant_id: text(
            record
                .data
                .get(crate::http::middleware::auth_session::MERCHANT_KEY),
        ),
        handle: text(field("handle")),
        ip: text(field("ip")),
        user_agent: text(field("user_agent")),
        created_at: field("created_at").and_then(|v| v.as_i64()),
    }
}

/// How stale `last_seen` may get before a load refreshes it (one write a minute per session).
const LAST_SEEN_EVERY_SECS: i64 = 60;

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        let o = owner(record);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        // a 128-bit id collides practically never, but a collision must not hijack a session
        loop {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id_hash, data, expires_at, merchant_id, handle, ip, user_agent, created_at, last_seen)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (id_hash) DO NOTHING",
            )
            .bind(key(&record.id))
            .bind(&data)
            .bind(record.expiry_date.unix_timestamp())
            .bind(o.merchant_id.as_deref())
            .bind(o.handle.as_deref())
            .bind(o.ip.as_deref())
            .bind(o.user_agent.as_deref())
            .bind(o.created_at)
            .bind(now)
            .execute(&self.db.writer)
            .await
            .map_err(backend)?;
            if affected(inserted) == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Only updates: a session ended meanwhile (logged out elsewhere, a password reset) is not
    /// brought back by a request that was still holding it.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let o = owner(record);
        sqlx::query(
            "UPDATE sessions SET data = $2, expires_at = $3, merchant_id = $4, handle = $5,
                 ip = $6, user_agent = $7, created_at = $8
             WHERE id_hash = $1",
        )
        .bind(key(&record.id))
        .bind(encode(record)?)
        .bind(record.expiry_date.unix_timestamp())
        .bind(o.merchant_id.as_deref())
        .bind(o.handle.as_deref())
        .bind(o.ip.as_deref())
        .bind(o.user_agent.as_deref())
        .bind(o.created_at)
        .execute(&self.db.writer)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let row = sqlx::query(
            "SELECT data, expires_at, last_seen FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(key(id))
        .bind(now)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data: String = row.try_get("data").map_err(backend)?;
        let expires_at: i64 = row.try_get("expires_at").map_err(backend)?;
        let last_seen: Option<i64> = row.try_get("last_seen").map_err(backend)?;
        if last_seen.is_none_or(|seen| now - seen >= LAST_SEEN_EVERY_SECS) {
            sqlx::query("UPDATE sessions SET last_seen = $2 WHERE id_hash = $1")
                .bind(key(id))
                .bind(now)
                .execute(&self.db.writer)
                .await
                .map_err(backend)?;
        }
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
            expiry_date: time::OffsetDateTime::from_unix_timestamp(expires_at).map_err(backend)?,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(key(id))
            .execute(&self.db.writer)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
