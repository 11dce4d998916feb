//! Persistence. One `Db` handle over sqlx's `Any` driver runs the same SQL on SQLite (the
//! embedded default) and PostgreSQL (several instances). The SQL sticks to the common subset:
//! `$n` placeholders, TEXT and BIGINT columns, unix-second timestamps, `ON CONFLICT` upserts.
//! Each aggregate has its own file; nothing outside this folder writes SQL.

pub mod account;
pub mod merchants;
pub mod oauth;
pub mod passkeys;
pub mod payments;
pub mod sessions;
pub mod sso;
pub mod sweep;
pub mod sync;
pub mod team;
pub mod throttle;
pub mod token_ledger;
pub mod usage;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyQueryResult};
use sqlx::{AnyPool, Connection, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Db {
    /// Reads (on PostgreSQL, everything).
    pub pool: AnyPool,
    /// Every statement that writes, and every transaction: on SQLite one connection, so
    /// writers queue here instead of sleeping in SQLite's busy handler; on PostgreSQL `pool`.
    pub writer: AnyPool,
    pub backend: Backend,
    /// Bumped after every committed revocation of a token, grant or client through this
    /// handle (shared by its clones); memories of "live" answers compare it (see
    /// `crate::oauth::live_tokens`).
    revocations: Arc<AtomicU64>,
    /// Issued tokens, written in batches (see [`token_ledger`]).
    ledger: token_ledger::TokenLedger,
    /// API calls counted since the last flush (see [`usage`]).
    api_calls: usage::ApiCallCounts,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported DATABASE_URL scheme (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("could not create the folder for the SQLite database: {0}")]
    CreateDir(std::io::Error),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A PostgreSQL connection idle this long is pinged before it is used again.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        if backend == Backend::Sqlite {
            ensure_sqlite_parent_dir(url)?;
        }
        let options = |max_connections: u32| {
            AnyPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(5))
                // sqlx pings every connection when it goes back to the pool (so one that
                // failed is dropped there), and by default again when it is taken out: one
                // more round trip per query (on SQLite a hand-off to the connection's worker
                // thread, which was what `perf` showed most of on the bearer read). An SQLite
                // connection is a file in this process and cannot go away in between. A
                // PostgreSQL connection can die while it sits idle (a server restart), so one
                // idle for a second or more is still pinged before use; under load none is.
                .test_before_acquire(false)
                .before_acquire(move |conn, meta| {
                    Box::pin(async move {
                        if backend == Backend::Postgres && meta.idle_for >= IDLE_BEFORE_PING {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                })
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            // WAL lets readers proceed during a write; NORMAL is durable in WAL
                            // mode for everything but power loss of the last transaction.
                            // wal_autocheckpoint = 0: the WAL is copied back by `checkpoint_sqlite`
                            // instead of inside whichever commit crosses 1000 pages
                            conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0;")
                                .await?;
                        }
                        Ok(())
                    })
                })
        };
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                // SQLite lets one connection write at a time; the others wait in its busy
                // handler, which sleeps 1, 2, 5, 10… ms between tries (p99 of token issuance
                // went to 240 ms under 32 concurrent clients). One writing connection makes
                // writers queue in the pool instead, woken the moment it is free; reads keep
                // their own connections and never wait for a write (WAL).
                let writer = options(1).connect(url).await?;
                let readers = options(8).connect(url).await?;
                tokio::spawn(checkpoint_sqlite(readers.clone()));
                (readers, writer)
            }
            Backend::Postgres => {
                let pool = options(16).connect(url).await?;
                (pool.clone(), pool)
            }
        };
        Ok(Self {
            pool,
            backend,
            ledger: token_ledger::TokenLedger::start(writer.clone()),
            writer,
            revocations: Arc::default(),
            api_calls: usage::ApiCallCounts::default(),
        })
    }

    /// Applies pending migrations. On PostgreSQL sqlx takes an advisory lock, so instances that
    /// start at the same moment migrate one after the other.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.writer).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.writer).await?,
        }
        Ok(())
    }

    /// The revocation epoch: read it before asking whether a token is live, and trust the
    /// answer only while it has not moved.
    pub fn revocation_epoch(&self) -> u64 {
        self.revocations.load(Ordering::Acquire)
    }

    /// Called after a revocation has been committed.
    fn revoked(&self) {
        self.revocations.fetch_add(1, Ordering::AcqRel);
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

/// How often the SQLite WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Copies the SQLite WAL back into the database file, off the write path. Left to SQLite, the
/// commit that grows the WAL past 1000 pages does it, and with it the database file's fsync:
/// under a steady write load every so many writes waited for that (token issuance's p99 at half
/// load was 16 ms, its p50 3 ms). A PASSIVE checkpoint on a reading connection takes no write
/// lock, so writers go on meanwhile. Ends when the pool is closed.
async fn checkpoint_sqlite(pool: AnyPool) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if matches!(e, sqlx::Error::PoolClosed) {
                return;
            }
            tracing::warn!(error = %e, "SQLite checkpoint failed; retrying");
        }
    }
}

fn ensure_sqlite_parent_dir(url: &str) -> Result<(), DbError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(DbError::CreateDir)?;
        }
    }
    Ok(())
}

/// True when the error is a unique-constraint violation (SQLite 2067/1555, PostgreSQL 23505).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            matches!(
                db.code().as_deref(),
                Some("23505") | Some("2067") | Some("1555")
            ) || db.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

pub(crate) fn affected(result: AnyQueryResult) -> u64 {
    result.rows_affected()
}

/// True when the error means the database cannot be reached right now (restarting, network,
/// pool exhausted), as opposed to a bad query: callers answer 503 and retry later.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL: admin shutdown, crash shutdown, cannot connect now (class 57P), and
        // connection exceptions (class 08)
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")),
        _ => false,
    }
}
