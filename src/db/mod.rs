//! Persistence. One `Db` handle over sqlx's `Any` driver runs the same SQL on SQLite (the
//! embedded default) and PostgreSQL (several instances). The SQL sticks to the common subset:
//! `$n` placeholders, TEXT and BIGINT columns, unix-second timestamps, `ON CONFLICT` upserts.
//! Each aggregate has its own file; nothing outside this folder writes SQL.

pub mod live_tokens;
pub mod merchants;
pub mod oauth;
pub mod payments;
pub mod sessions;
pub mod sso;
pub mod throttle;

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyQueryResult};
use sqlx::{AnyPool, Executor};

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
    /// Access tokens recently found live (shared by every clone of this handle).
    pub live_tokens: Arc<live_tokens::LiveTokens>,
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
                // sqlx pings every connection when it goes back to the pool, and by default
                // again when it is taken out. An SQLite connection is a file in this process
                // and cannot have gone away in between: that second ping only cost one more
                // hand-off to the connection's worker thread per query (hand-offs between
                // threads were what `perf` showed most of on the bearer read). A PostgreSQL
                // connection can die while idle (a server restart), so it keeps the check.
                .test_before_acquire(backend == Backend::Postgres)
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            // WAL lets readers proceed during a write; NORMAL is durable in WAL
                            // mode for everything but power loss of the last transaction.
                            conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
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
                (options(8).connect(url).await?, writer)
            }
            Backend::Postgres => {
                let pool = options(16).connect(url).await?;
                (pool.clone(), pool)
            }
        };
        Ok(Self {
            pool,
            writer,
            backend,
            live_tokens: Arc::default(),
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

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
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
