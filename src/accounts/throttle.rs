//! Throttling of the attempts that cost a password hash: logins and sign-ups. An attempt takes
//! its place in fixed windows *before* argon2 runs (one atomic UPSERT per bucket, shared by
//! every instance through the database), so a burst of concurrent attempts cannot all slip in
//! under the limit; a place is given back when the attempt turns out not to count.
//!
//! Logins are limited per client IP and per account *from that IP* (as Auth0's brute-force
//! protection does): a guesser elsewhere cannot lock the owner out by knowing the email alone.
//! See `docs/security.md`.

use super::AccountError;
use crate::db::throttle::{Limit, Places};
use crate::db::Db;

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    pub window_secs: i64,
    /// Failed logins for one account from one IP.
    pub max_failures_per_account_ip: i64,
    /// Failed logins from one IP, whatever the account.
    pub max_failures_per_ip: i64,
    pub signup_window_secs: i64,
    /// Sign-ups from one IP.
    pub max_signups_per_ip: i64,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            window_secs: 15 * 60,
            max_failures_per_account_ip: 10,
            max_failures_per_ip: 50,
            signup_window_secs: 3600,
            max_signups_per_ip: 10,
        }
    }
}

fn ip_bucket(ip: &str) -> String {
    format!("login:ip:{ip}")
}

fn account_ip_bucket(email_normalized: &str, ip: &str) -> String {
    format!(
        "login:account-ip:{}",
        crate::crypto::sha256_hex(format!("{email_normalized}\n{ip}").as_bytes())
    )
}

/// An attempt's places in the buckets that limit it.
#[must_use = "give the places back, or keep them, once the attempt's outcome is known"]
pub struct Attempt(Places);

impl LoginThrottle {
    async fn take(db: &Db, limits: &[Limit], now: i64) -> Result<Attempt, AccountError> {
        match db.throttle_take(limits, now).await? {
            Ok(places) => Ok(Attempt(places)),
            Err(wait) => Err(AccountError::Throttled(wait as u64)),
        }
    }

    /// A login attempt's places: refused with the seconds to wait when a limit is reached.
    pub async fn login_attempt(
        &self,
        db: &Db,
        ip: &str,
        email_normalized: &str,
        now: i64,
    ) -> Result<Attempt, AccountError> {
        let limits = [
            Limit {
                bucket: ip_bucket(ip),
                max: self.max_failures_per_ip,
                window: self.window_secs,
            },
            Limit {
                bucket: account_ip_bucket(email_normalized, ip),
                max: self.max_failures_per_account_ip,
                window: self.window_secs,
            },
        ];
        Self::take(db, &limits, now).await
    }

    /// The login succeeded: it was no failure, and this IP's failures for the account are forgiven.
    pub async fn login_succeeded(
        &self,
        db: &Db,
        attempt: Attempt,
        ip: &str,
        email_normalized: &str,
    ) -> Result<(), AccountError> {
        db.throttle_give_back_all(attempt.0).await?;
        db.throttle_clear(&account_ip_bucket(email_normalized, ip))
            .await?;
        Ok(())
    }

    /// A sign-up attempt's place (per IP); every sign-up that reaches the password hash counts.
    pub async fn signup_attempt(
        &self,
        db: &Db,
        ip: &str,
        now: i64,
    ) -> Result<Attempt, AccountError> {
        let limits = [Limit {
            bucket: format!("signup:ip:{ip}"),
            max: self.max_signups_per_ip,
            window: self.signup_window_secs,
        }];
        Self::take(db, &limits, now).await
    }
}

impl LoginThrottle {
    /// Mail asked for without being logged in (a password reset) from one IP: at most 20 an
    /// hour, so nobody can use subgate to flood an inbox or probe accounts in bulk.
    pub async fn mail_request(&self, db: &Db, ip: &str, now: i64) -> Result<(), AccountError> {
        let limits = [Limit {
            bucket: format!("mail:ip:{ip}"),
            max: MAIL_REQUESTS_PER_IP_PER_HOUR,
            window: 3600,
        }];
        Self::take(db, &limits, now).await?.keep();
        Ok(())
    }
}

impl LoginThrottle {
    /// One more mail of `kind` to the account, at most `max` an hour: taken atomically, so
    /// concurrent requests cannot all pass the count together. `Err(Throttled)` when it is full.
    pub async fn account_mail(
        &self,
        db: &Db,
        merchant_id: &str,
        kind: &str,
        max: i64,
        now: i64,
    ) -> Result<(), AccountError> {
        let limits = [Limit {
            bucket: format!("mail:{kind}:{merchant_id}"),
            max,
            window: 3600,
        }];
        Self::take(db, &limits, now).await?.keep();
        Ok(())
    }
}

impl LoginThrottle {
    /// A password-less login started from one IP (each writes a session to hold its
    /// challenge): at most [`PASSKEY_STARTS_PER_IP`] per login window.
    pub async fn passkey_start(&self, db: &Db, ip: &str, now: i64) -> Result<(), AccountError> {
        let limits = [Limit {
            bucket: format!("passkey:ip:{ip}"),
            max: PASSKEY_STARTS_PER_IP,
            window: self.window_secs,
        }];
        Self::take(db, &limits, now).await?.keep();
        Ok(())
    }
}

/// See [`LoginThrottle::passkey_start`].
pub const PASSKEY_STARTS_PER_IP: i64 = 100;

/// See [`LoginThrottle::mail_request`].
pub const MAIL_REQUESTS_PER_IP_PER_HOUR: i64 = 20;

impl Attempt {
    /// The attempt did not count (e.g. the server was too busy to check it).
    pub async fn give_back(self, db: &Db) -> Result<(), AccountError> {
        Ok(db.throttle_give_back_all(self.0).await?)
    }

    /// The attempt counts: its places stay taken until the window ends.
    pub fn keep(self) {}
}
