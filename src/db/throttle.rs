//! Fixed-window counters for rate limiting, shared by every instance through the database.

use sqlx::Row;

use super::Db;

impl Db {
    /// Hits counted in `bucket`'s current window, and when that window started; windows older
    /// than `window` seconds count as empty.
    pub async fn throttle_hits(
        &self,
        bucket: &str,
        now: i64,
        window: i64,
    ) -> Result<(i64, i64), sqlx::Error> {
        let row = sqlx::query("SELECT hits, window_start FROM throttle WHERE bucket = $1")
            .bind(bucket)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => {
                let hits: i64 = row.try_get("hits")?;
                let start: i64 = row.try_get("window_start")?;
                Ok(if now - start >= window {
                    (0, now)
                } else {
                    (hits, start)
                })
            }
            None => Ok((0, now)),
        }
    }

    /// Counts one hit, starting a new window when the current one is over. One statement, so
    /// concurrent hits on several instances are all counted.
    pub async fn throttle_hit(
        &self,
        bucket: &str,
        now: i64,
        window: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO throttle (bucket, hits, window_start) VALUES ($1, 1, $2)
             ON CONFLICT (bucket) DO UPDATE SET
               hits = CASE WHEN $2 - throttle.window_start >= $3 THEN 1 ELSE throttle.hits + 1 END,
               window_start = CASE WHEN $2 - throttle.window_start >= $3 THEN $2 ELSE throttle.window_start END",
        )
        .bind(bucket)
        .bind(now)
        .bind(window)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn throttle_clear(&self, bucket: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM throttle WHERE bucket = $1")
            .bind(bucket)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
