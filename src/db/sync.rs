//! The `gateway_sync` table: per connected account, the newest event applied, the last
//! reconciliation with the drift it found and repaired, and the lease that keeps two instances
//! from reconciling one account at once.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{affected, Db};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRow {
    pub last_event_at: Option<i64>,
    pub last_event_id: Option<String>,
    pub reconciled_at: Option<i64>,
    pub drift_found: i64,
    pub drift_repaired: i64,
}

fn sync_from_row(row: &AnyRow) -> Result<SyncRow, sqlx::Error> {
    Ok(SyncRow {
        last_event_at: row.try_get("last_event_at")?,
        last_event_id: row.try_get("last_event_id")?,
        reconciled_at: row.try_get("reconciled_at")?,
        drift_found: row.try_get("drift_found")?,
        drift_repaired: row.try_get("drift_repaired")?,
    })
}

impl Db {
    pub async fn sync_state(
        &self,
        gateway: &str,
        account_id: &str,
    ) -> Result<Option<SyncRow>, sqlx::Error> {
        sqlx::query(
            "SELECT last_event_at, last_event_id, reconciled_at, drift_found, drift_repaired
             FROM gateway_sync WHERE gateway = $1 AND account_id = $2",
        )
        .bind(gateway)
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(sync_from_row)
        .transpose()
    }

    /// Remembers the newest event applied on the account (an older one changes nothing).
    pub async fn note_event_applied(
        &self,
        gateway: &str,
        account_id: &str,
        created: i64,
        event_id: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO gateway_sync (gateway, account_id, last_event_at, last_event_id, drift_found, drift_repaired)
             VALUES ($1, $2, $3, $4, 0, 0)
             ON CONFLICT (gateway, account_id) DO UPDATE SET
               last_event_at = excluded.last_event_at, last_event_id = excluded.last_event_id
             WHERE gateway_sync.last_event_at IS NULL OR gateway_sync.last_event_at <= excluded.last_event_at",
        )
        .bind(gateway)
        .bind(account_id)
        .bind(created)
        .bind(event_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Takes the account's reconciliation lease until `until`, unless another instance holds
    /// an unexpired one; true when taken.
    pub async fn take_sync_lease(
        &self,
        gateway: &str,
        account_id: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "INSERT INTO gateway_sync (gateway, account_id, drift_found, drift_repaired, lease_until)
             VALUES ($1, $2, 0, 0, $3)
             ON CONFLICT (gateway, account_id) DO UPDATE SET lease_until = excluded.lease_until
             WHERE gateway_sync.lease_until IS NULL OR gateway_sync.lease_until < $4",
        )
        .bind(gateway)
        .bind(account_id)
        .bind(until)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(affected(r) == 1)
    }

    /// Records a finished reconciliation and gives the lease back.
    pub async fn finish_sync(
        &self,
        gateway: &str,
        account_id: &str,
        now: i64,
        drift_found: i64,
        drift_repaired: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE gateway_sync SET reconciled_at = $1, drift_found = $2, drift_repaired = $3, lease_until = NULL
             WHERE gateway = $4 AND account_id = $5",
        )
        .bind(now)
        .bind(drift_found)
        .bind(drift_repaired)
        .bind(gateway)
        .bind(account_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Gives the lease back without recording a reconciliation (it failed).
    pub async fn release_sync_lease(
        &self,
        gateway: &str,
        account_id: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE gateway_sync SET lease_until = NULL WHERE gateway = $1 AND account_id = $2",
        )
        .bind(gateway)
        .bind(account_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The connected accounts with an active connection, with the earliest connection time.
    pub async fn active_accounts(&self, gateway: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query(
            "SELECT account_id, MIN(connected_at) AS connected_at FROM gateway_connections
             WHERE gateway = $1 AND revoked_at IS NULL GROUP BY account_id ORDER BY account_id",
        )
        .bind(gateway)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("account_id")?, r.try_get("connected_at")?)))
        .collect()
    }

    /// `(merchant_id, customer_id)` of every customer mirrored from the account by a merchant
    /// still connected to it.
    pub async fn mirrored_customers(
        &self,
        gateway: &str,
        account_id: &str,
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        sqlx::query(
            "SELECT c.merchant_id, c.customer_id FROM customers c
             JOIN gateway_connections g ON g.merchant_id = c.merchant_id
             WHERE g.gateway = $1 AND g.account_id = $2 AND g.revoked_at IS NULL AND c.account_id = $2
             ORDER BY c.merchant_id, c.customer_id",
        )
        .bind(gateway)
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("merchant_id")?, r.try_get("customer_id")?)))
        .collect()
    }

    /// Whether any connection to the gateway ever received a webhook event.
    pub async fn any_connection_webhook(&self, gateway: &str) -> Result<bool, sqlx::Error> {
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM gateway_connections WHERE gateway = $1 AND last_webhook_at IS NOT NULL",
        )
        .bind(gateway)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        Ok(n > 0)
    }
}
