//! API calls per merchant per day, for the overview's chart. A bearer call is counted in memory
//! (a mutex and a map entry, no write on the read path) and the counts are added to
//! `api_calls_daily` once a minute by the maintenance task and at shutdown, one upsert per
//! merchant and day. A crash loses at most the last minute's counts, never a row of anything
//! else. The chart adds what is still in memory, so it is current.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sqlx::Row;

use super::{affected, Db};

const DAY: i64 = 86_400;

/// Counts not yet written: `(merchant_id, day start)` → calls. At most one entry per merchant
/// with calls since the last flush (two around midnight).
#[derive(Debug, Clone, Default)]
pub struct ApiCallCounts(Arc<Mutex<HashMap<(String, i64), i64>>>);

impl ApiCallCounts {
    fn add(&self, merchant_id: &str, day: i64, calls: i64) {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match counts.get_mut(&(merchant_id.to_string(), day)) {
            Some(n) => *n += calls,
            None => {
                counts.insert((merchant_id.to_string(), day), calls);
            }
        }
    }

    fn take(&self) -> HashMap<(String, i64), i64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn of(&self, merchant_id: &str) -> Vec<(i64, i64)> {
        let counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        counts
            .iter()
            .filter(|((m, _), _)| m == merchant_id)
            .map(|((_, day), n)| (*day, *n))
            .collect()
    }
}

impl Db {
    /// One API call by `merchant_id`'s backend at `now`; in memory until the next flush.
    pub fn count_api_call(&self, merchant_id: &str, now: i64) {
        self.api_calls
            .add(merchant_id, now.div_euclid(DAY) * DAY, 1);
    }

    /// Adds the counts in memory to the table; answers the rows written. Counts that could not
    /// be written go back to memory for the next flush. A merchant deleted meanwhile is
    /// skipped (the `WHERE EXISTS`), not an error.
    pub async fn flush_api_calls(&self) -> Result<u64, sqlx::Error> {
        let counts = self.api_calls.take();
        let mut written = 0;
        let mut failed = None;
        for ((merchant_id, day), calls) in counts {
            if failed.is_some() {
                self.api_calls.add(&merchant_id, day, calls);
                continue;
            }
            let result = sqlx::query(
                "INSERT INTO api_calls_daily (merchant_id, day, calls)
                 SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM merchants WHERE id = $1)
                 ON CONFLICT (merchant_id, day) DO UPDATE SET calls = api_calls_daily.calls + excluded.calls",
            )
            .bind(&merchant_id)
            .bind(day)
            .bind(calls)
            .execute(&self.writer)
            .await;
            match result {
                Ok(done) => written += affected(done),
                Err(e) => {
                    self.api_calls.add(&merchant_id, day, calls);
                    failed = Some(e);
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(written),
        }
    }

    /// Calls per day since `since` (a day start; day 0 starts there), written and in memory:
    /// `(day, calls)` for the days that have any.
    pub async fn api_calls_daily(
        &self,
        merchant_id: &str,
        since: i64,
    ) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        let mut days: HashMap<i64, i64> = HashMap::new();
        let rows = sqlx::query(
            "SELECT day, calls FROM api_calls_daily WHERE merchant_id = $1 AND day >= $2",
        )
        .bind(merchant_id)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let day: i64 = row.try_get("day")?;
            *days.entry(day).or_default() += row.try_get::<i64, _>("calls")?;
        }
        for (day, calls) in self.api_calls.of(merchant_id) {
            if day >= since {
                *days.entry(day).or_default() += calls;
            }
        }
        let mut days: Vec<(i64, i64)> = days
            .into_iter()
            .map(|(day, calls)| ((day - since) / DAY, calls))
            .collect();
        days.sort_unstable();
        Ok(days)
    }
}
