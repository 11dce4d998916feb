//! Fixed-window counters for rate limiting, shared by every instance through the database.
//! An attempt takes its place in the window *before* the work it limits is done (one UPSERT,
//! so concurrent attempts on several instances are all counted), and gives it back when the
//! attempt turns out not to count.

use sqlx::Row;

use super::Db;

/// A place taken in a bucket's window: `hits` counted with this one, in the window starting at
/// `window_start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleHit {
    pub hits: i64,
    pub window_start: i64,
}

impl Db {
    /// Counts one hit, starting a new window when the current one is over, and answers the count
    /// including this hit. One statement, so no two concurrent callers see the same count.
    pub async fn throttle_hit(
        &self,
        bucket: &str,
        now: i64,
        window: i64,
    ) -> Result<ThrottleHit, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO throttle (bucket, hits, window_start) VALUES ($1, 1, $2)
             ON CONFLICT (bucket) DO UPDATE SET
               hits = CASE WHEN $2 - throttle.window_start >= $3 THEN 1 ELSE throttle.hits + 1 END,
               window_start = CASE WHEN $2 - throttle.window_start >= $3 THEN $2 ELSE throttle.window_start END
             RETURNING hits, window_start",
        )
        .bind(bucket)
        .bind(now)
        .bind(window)
        .fetch_one(&self.writer)
        .await?;
        Ok(ThrottleHit {
            hits: row.try_get("hits")?,
            window_start: row.try_get("window_start")?,
        })
    }

    /// Gives back a hit counted by [`Db::throttle_hit`], if its window is still the current one.
    pub async fn throttle_give_back(
        &self,
        bucket: &str,
        hit: &ThrottleHit,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE throttle SET hits = hits - 1 WHERE bucket = $1 AND window_start = $2 AND hits > 0",
        )
        .bind(bucket)
        .bind(hit.window_start)
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

/// One limit: at most `max` hits in `bucket` per window of `window` seconds.
#[derive(Debug, Clone)]
pub struct Limit {
    pub bucket: String,
    pub max: i64,
    pub window: i64,
}

/// Places taken in every bucket of one attempt; give them back if the attempt does not count.
#[derive(Debug, Default)]
pub struct Places(Vec<(String, ThrottleHit)>);

impl Places {
    /// The count, this attempt included, in the `i`-th limit's bucket.
    pub fn hits(&self, i: usize) -> Option<i64> {
        self.0.get(i).map(|(_, hit)| hit.hits)
    }
}

impl Db {
    /// Takes a place in every limit's bucket, or in none: when one is full, the places taken so
    /// far are given back and the answer is the seconds until that bucket's window ends.
    pub async fn throttle_take(
        &self,
        limits: &[Limit],
        now: i64,
    ) -> Result<Result<Places, i64>, sqlx::Error> {
        let mut places = Places::default();
        for limit in limits {
            let hit = self.throttle_hit(&limit.bucket, now, limit.window).await?;
            if hit.hits > limit.max {
                // a refused attempt holds no place: it did no work
                self.throttle_give_back(&limit.bucket, &hit).await?;
                self.throttle_give_back_all(places).await?;
                return Ok(Err((hit.window_start + limit.window - now).max(1)));
            }
            places.0.push((limit.bucket.clone(), hit));
        }
        Ok(Ok(places))
    }

    pub async fn throttle_give_back_all(&self, places: Places) -> Result<(), sqlx::Error> {
        for (bucket, hit) in &places.0 {
            self.throttle_give_back(bucket, hit).await?;
        }
        Ok(())
    }
}
