//! The sweep: deletes rows that can no longer be used, from every table that grows with
//! traffic, in small batches (each batch a short DELETE by primary key, so no long lock and no
//! long transaction). Deleting is idempotent, so every instance may sweep at the same time.
//! Table sizes stay proportional to live data: sessions, throttle windows, OAuth codes, grants
//! and tokens, SSO links, nonces, portal sessions and log, idempotency keys, webhook events,
//! API calls per day, mailed account links and team invitations, the audit log (a year).

use sqlx::Row;

use super::{affected, Backend, Db};

/// How long after expiry a used authorization code or SSO link is kept, so a replay is still
/// recognised (and a replayed code still revokes its grant) rather than looking unknown.
const REPLAY_MEMORY_SECS: i64 = 86_400;
/// Throttle windows last at most an hour; a day-old window is over.
const THROTTLE_KEEP_SECS: i64 = 86_400;
/// Access tokens are kept a minute past expiry: instances' clocks may differ a little.
const ACCESS_TOKEN_GRACE_SECS: i64 = 60;
/// A grant left with no code and no token is removed this long after it was created (an
/// authorization in progress writes its code right after its grant).
const EMPTY_GRANT_SECS: i64 = 3600;
/// How far the SSO tab's login log goes back.
pub const SSO_LOG_SECS: i64 = 30 * 86_400;
/// Idempotent responses and processed webhook events (Stripe redelivers for up to three days).
pub const PAYMENTS_HISTORY_SECS: i64 = 7 * 86_400;
/// API calls per day: the overview shows 30 days; a year and a month are kept for comparisons.
pub const API_CALLS_KEEP_SECS: i64 = 400 * 86_400;

/// One table's rule: rows with `key` matching `condition` (over alias `t`, cutoff `$1`) go.
struct Rule {
    table: &'static str,
    key: &'static str,
    condition: &'static str,
    cutoff: i64,
}

fn rules(now: i64) -> [Rule; 16] {
    [
        Rule {
            table: "sessions",
            key: "id_hash",
            condition: "t.expires_at <= $1",
            cutoff: now,
        },
        Rule {
            table: "throttle",
            key: "bucket",
            condition: "t.window_start < $1",
            cutoff: now - THROTTLE_KEEP_SECS,
        },
        Rule {
            table: "oauth_codes",
            key: "code_hash",
            condition: "t.expires_at < $1",
            cutoff: now - REPLAY_MEMORY_SECS,
        },
        Rule {
            table: "oauth_access_tokens",
            key: "jti",
            condition: "t.expires_at < $1",
            cutoff: now - ACCESS_TOKEN_GRACE_SECS,
        },
        Rule {
            table: "oauth_refresh_tokens",
            key: "token_hash",
            condition: "t.expires_at < $1",
            cutoff: now,
        },
        Rule {
            table: "oauth_grants",
            key: "id",
            condition: "t.created_at < $1
                AND NOT EXISTS (SELECT 1 FROM oauth_access_tokens a WHERE a.grant_id = t.id)
                AND NOT EXISTS (SELECT 1 FROM oauth_refresh_tokens r WHERE r.grant_id = t.id)
                AND NOT EXISTS (SELECT 1 FROM oauth_codes c WHERE c.grant_id = t.id)",
            cutoff: now - EMPTY_GRANT_SECS,
        },
        Rule {
            table: "sso_links",
            key: "token_hash",
            condition: "t.expires_at < $1",
            cutoff: now - REPLAY_MEMORY_SECS,
        },
        Rule {
            table: "sso_nonces",
            key: "merchant_id, nonce",
            condition: "t.expires_at < $1",
            cutoff: now,
        },
        Rule {
            table: "subscriber_sessions",
            key: "id_hash",
            condition: "t.expires_at < $1",
            cutoff: now,
        },
        Rule {
            table: "sso_logins",
            key: "id",
            condition: "t.at < $1",
            cutoff: now - SSO_LOG_SECS,
        },
        Rule {
            table: "idempotency_keys",
            key: "merchant_id, idem_key",
            condition: "t.created_at < $1",
            cutoff: now - PAYMENTS_HISTORY_SECS,
        },
        Rule {
            table: "webhook_events",
            key: "id",
            condition: "t.processed_at IS NOT NULL AND t.received_at < $1",
            cutoff: now - PAYMENTS_HISTORY_SECS,
        },
        Rule {
            table: "account_tokens",
            key: "token_hash",
            condition: "t.expires_at < $1",
            cutoff: now - REPLAY_MEMORY_SECS,
        },
        Rule {
            table: "invitations",
            key: "token_hash",
            condition: "t.expires_at < $1",
            cutoff: now - REPLAY_MEMORY_SECS,
        },
        Rule {
            table: "audit_log",
            key: "id",
            condition: "t.at < $1",
            cutoff: now - crate::accounts::AUDIT_KEEP_SECS,
        },
        Rule {
            table: "api_calls_daily",
            key: "merchant_id, day",
            condition: "t.day < $1",
            cutoff: now - API_CALLS_KEEP_SECS,
        },
    ]
}

/// The tables the sweep keeps bounded, for reports (`subgate table-sizes`, `make bench`).
pub fn swept_tables() -> Vec<&'static str> {
    rules(0).iter().map(|r| r.table).collect()
}

/// PostgreSQL's `deadlock_detected` (40P01): it rolled one of the two transactions back.
fn is_deadlock(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("40P01"))
}

impl Db {
    /// One sweep: per table, batches of `batch` rows until a batch comes back short or
    /// `max_batches` ran (the next sweep continues). Answers the rows deleted per table.
    pub async fn sweep(
        &self,
        now: i64,
        batch: i64,
        max_batches: usize,
    ) -> Result<Vec<(&'static str, u64)>, sqlx::Error> {
        // On PostgreSQL a batch takes only rows no other sweeper holds (SKIP LOCKED), in key
        // order, so sweepers on several instances share the work instead of deadlocking.
        let (order, lock) = match self.backend {
            Backend::Postgres => (" ORDER BY {key}", " FOR UPDATE OF t SKIP LOCKED"),
            Backend::Sqlite => ("", ""),
        };
        let mut report = Vec::new();
        for rule in rules(now) {
            let sql = format!(
                "DELETE FROM {table} WHERE ({key}) IN
                   (SELECT {key} FROM {table} t WHERE {condition}{order} LIMIT $2{lock})",
                table = rule.table,
                key = rule.key,
                condition = rule.condition,
                order = order.replace("{key}", rule.key),
            );
            let mut deleted = 0;
            for _ in 0..max_batches {
                let result = sqlx::query(&sql)
                    .bind(rule.cutoff)
                    .bind(batch)
                    .execute(&self.writer)
                    .await;
                let n = match result {
                    Ok(done) => affected(done),
                    // a cascade still met another transaction's locks: this table waits for
                    // the next sweep, the others go on
                    Err(e) if is_deadlock(&e) => {
                        tracing::warn!(
                            table = rule.table,
                            "sweep: deadlock, table left for the next sweep"
                        );
                        break;
                    }
                    Err(e) => return Err(e),
                };
                deleted += n;
                if n < batch as u64 {
                    break;
                }
                // let the requests waiting for the writer go first
                tokio::task::yield_now().await;
            }
            report.push((rule.table, deleted));
        }
        // a rotated client secret whose overlap is over: its hash goes, the client stays
        let cleared = sqlx::query(
            "UPDATE oauth_clients SET previous_secret_hash = NULL, previous_secret_expires_at = NULL
             WHERE previous_secret_expires_at <= $1",
        )
        .bind(now)
        .execute(&self.writer)
        .await?;
        report.push(("oauth_client_previous_secrets", affected(cleared)));
        Ok(report)
    }

    /// Rows in each swept table.
    pub async fn table_sizes(&self) -> Result<Vec<(&'static str, i64)>, sqlx::Error> {
        let mut sizes = Vec::new();
        for table in swept_tables() {
            let n: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?;
            sizes.push((table, n));
        }
        Ok(sizes)
    }
}
