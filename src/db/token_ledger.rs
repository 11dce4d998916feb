//! Group commit for issued tokens. Every token response must be recorded before it is handed
//! out (revocation and introspection look tokens up), and on SQLite every commit rewrites the
//! touched pages of the grants and tokens tables and their indexes into the WAL (about 28 KB
//! per token): one commit per token made commits the bottleneck of token issuance, and with
//! one writing connection every other token waited its turn.
//!
//! Requests hand their rows to one task that writes whatever has queued up while the previous
//! transaction was committing (up to [`MAX_BATCH`] at a time) as multi-row INSERTs in a single
//! transaction, then answers each request. Nothing waits on a timer: a lone request is written
//! at once, and under load the batches grow by themselves. A request is answered only after
//! its rows are committed, so no token is handed out that was not recorded; if a batch fails,
//! each of its requests is retried in a transaction of its own, so one bad row cannot fail the
//! others, and each request gets its own answer.

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use super::oauth::GrantRow;

/// The most token responses written in one transaction (the grants INSERT then binds 448
/// values, well under SQLite's and PostgreSQL's limits).
const MAX_BATCH: usize = 64;

/// Requests that may wait for the writer before senders wait too (backpressure, not a limit
/// anyone should reach).
const QUEUE: usize = 4096;

/// The rows one token response writes.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    /// A grant created with its first token (client credentials); `None` when it exists.
    pub new_grant: Option<GrantRow>,
    pub grant_id: String,
    pub jti: String,
    pub access_expires_at: i64,
    /// The refresh token's keyed hash and expiry.
    pub refresh: Option<(String, i64)>,
    pub now: i64,
}

type Pending = (IssuedTokens, oneshot::Sender<Result<(), sqlx::Error>>);

/// The handle requests record through; clones share the one writing task.
#[derive(Debug, Clone)]
pub struct TokenLedger {
    queue: mpsc::Sender<Pending>,
}

impl TokenLedger {
    /// Starts the writing task on the current runtime; it ends when the last handle is dropped.
    pub fn start(writer: AnyPool) -> Self {
        let (queue, pending) = mpsc::channel(QUEUE);
        tokio::spawn(write_as_they_come(writer, pending));
        Self { queue }
    }

    /// Returns once `issued` is committed (or could not be).
    pub async fn record(&self, issued: IssuedTokens) -> Result<(), sqlx::Error> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send((issued, done))
            .await
            .map_err(|_| sqlx::Error::WorkerCrashed)?;
        answer.await.map_err(|_| sqlx::Error::WorkerCrashed)?
    }
}

async fn write_as_they_come(writer: AnyPool, mut pending: mpsc::Receiver<Pending>) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let rows: Vec<&IssuedTokens> = batch.iter().map(|(issued, _)| issued).collect();
        let written = write(&writer, &rows).await;
        match written {
            Ok(()) => {
                for (_, done) in batch.drain(..) {
                    let _ = done.send(Ok(()));
                }
            }
            Err(e) if batch.len() == 1 => {
                if let Some((_, done)) = batch.pop() {
                    let _ = done.send(Err(e));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, size = batch.len(), "a batch of issued tokens failed; writing each alone");
                for (issued, done) in batch.drain(..) {
                    let _ = done.send(write(&writer, &[&issued]).await);
                }
            }
        }
    }
}

/// `head VALUES ($1, …, $n), (…)`: `rows` tuples of `columns` placeholders.
fn values(head: &str, columns: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(head.len() + rows * columns * 5);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(row * columns + column + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

/// New grants with their creation times, in one INSERT.
pub(super) async fn insert_grants<'e, E>(
    executor: E,
    grants: &[(&GrantRow, i64)],
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = values(
        "INSERT INTO oauth_grants (id, merchant_id, client_id, grant_type, scope, audience, created_at)",
        7,
        grants.len(),
    );
    let mut query = sqlx::query(&sql);
    for (g, now) in grants {
        query = query
            .bind(&g.id)
            .bind(&g.merchant_id)
            .bind(&g.client_id)
            .bind(&g.grant_type)
            .bind(&g.scope)
            .bind(&g.audience)
            .bind(*now);
    }
    query.execute(executor).await?;
    Ok(())
}

/// Every row of `issued` in one transaction: new grants first (the tokens refer to them).
async fn write(writer: &AnyPool, issued: &[&IssuedTokens]) -> Result<(), sqlx::Error> {
    let mut tx = writer.begin().await?;
    let grants: Vec<(&GrantRow, i64)> = issued
        .iter()
        .filter_map(|i| i.new_grant.as_ref().map(|g| (g, i.now)))
        .collect();
    if !grants.is_empty() {
        insert_grants(&mut *tx, &grants).await?;
    }
    let sql = values(
        "INSERT INTO oauth_access_tokens (jti, grant_id, expires_at)",
        3,
        issued.len(),
    );
    let mut query = sqlx::query(&sql);
    for i in issued {
        query = query
            .bind(&i.jti)
            .bind(&i.grant_id)
            .bind(i.access_expires_at);
    }
    query.execute(&mut *tx).await?;
    let refresh: Vec<(&String, &String, i64)> = issued
        .iter()
        .filter_map(|i| i.refresh.as_ref().map(|(h, exp)| (h, &i.grant_id, *exp)))
        .collect();
    if !refresh.is_empty() {
        let sql = values(
            "INSERT INTO oauth_refresh_tokens (token_hash, grant_id, expires_at)",
            3,
            refresh.len(),
        );
        let mut query = sqlx::query(&sql);
        for (hash, grant_id, expires_at) in refresh {
            query = query.bind(hash).bind(grant_id).bind(expires_at);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::values;

    #[test]
    fn placeholders_number_on_across_rows() {
        assert_eq!(
            values("INSERT INTO t (a, b)", 2, 1),
            "INSERT INTO t (a, b) VALUES ($1, $2)"
        );
        assert_eq!(
            values("INSERT INTO t (a, b)", 2, 3),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6)"
        );
    }
}
