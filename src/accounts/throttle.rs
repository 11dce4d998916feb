//! Login throttling: failed attempts are counted per client IP and per account in fixed
//! windows; past the limit, attempts are refused with the number of seconds to wait.

use crate::db::Db;
use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    pub window_secs: i64,
    pub max_failures_per_account: i64,
    pub max_failures_per_ip: i64,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            window_secs: 15 * 60,
            max_failures_per_account: 10,
            max_failures_per_ip: 50,
        }
    }
}

fn ip_bucket(ip: &str) -> String {
    format!("login:ip:{ip}")
}

fn account_bucket(email_normalized: &str) -> String {
    format!(
        "login:account:{}",
        crate::crypto::sha256_hex(email_normalized.as_bytes())
    )
}

impl LoginThrottle {
    pub async fn check(
        &self,
        db: &Db,
        ip: &str,
        email_normalized: &str,
        now: i64,
    ) -> Result<(), AppError> {
        for (bucket, limit) in [
            (ip_bucket(ip), self.max_failures_per_ip),
            (
                account_bucket(email_normalized),
                self.max_failures_per_account,
            ),
        ] {
            let (hits, start) = db.throttle_hits(&bucket, now, self.window_secs).await?;
            if hits >= limit {
                let wait = (start + self.window_secs - now).max(1);
                return Err(AppError::RateLimited(wait as u64));
            }
        }
        Ok(())
    }

    pub async fn failed(
        &self,
        db: &Db,
        ip: &str,
        email_normalized: &str,
        now: i64,
    ) -> Result<(), AppError> {
        db.throttle_hit(&ip_bucket(ip), now, self.window_secs)
            .await?;
        db.throttle_hit(&account_bucket(email_normalized), now, self.window_secs)
            .await?;
        Ok(())
    }

    pub async fn succeeded(&self, db: &Db, email_normalized: &str) -> Result<(), AppError> {
        db.throttle_clear(&account_bucket(email_normalized)).await?;
        Ok(())
    }
}
