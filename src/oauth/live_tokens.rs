//! A short memory of access tokens found valid and live. An API client sends the same token
//! with every call; checking its signature and asking the database each time costs a signature
//! verification and a round trip per request for an answer that almost never changes.
//!
//! An entry is the exact token string (so only the bytes whose signature was checked match it)
//! and its claims, trusted for [`LIVE_TOKEN_MEMORY`] and only while no revocation has been
//! committed through this process since the database was asked: the entry carries the
//! database's revocation epoch ([`crate::db::Db::revocation_epoch`]) read *before* the
//! question, so an answer that predates a revocation is never used after it. That keeps the
//! promises the cluster makes: a token revoked here is refused by the very next request, and
//! one revoked on another instance is refused here within a second (5 s promised).
//!
//! Only "live" is remembered: a revoked, expired or unknown token is checked in full every
//! time, so nothing here can turn a refusal into an acceptance. Expiry, issuer and audience are
//! still checked on every request by the caller.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::AccessClaims;

/// How long a "live" answer is trusted.
pub const LIVE_TOKEN_MEMORY: Duration = Duration::from_secs(1);

/// Beyond this many remembered tokens the memory starts over (a bound, not an eviction policy:
/// at 1 s per entry it is reached only by more than this many distinct tokens per second).
const CAPACITY: usize = 10_000;

#[derive(Debug, Default)]
pub struct LiveTokens {
    live: Mutex<HashMap<String, Remembered>>,
}

#[derive(Debug)]
struct Remembered {
    claims: AccessClaims,
    /// The revocation epoch read before the database said "live".
    epoch: u64,
    seen: Instant,
}

impl LiveTokens {
    /// The claims of `token`, when it was found live less than a moment ago and nothing has
    /// been revoked here since (`epoch` is the current revocation epoch).
    pub fn get(&self, token: &str, epoch: u64, now: Instant) -> Option<AccessClaims> {
        let live = self.live.lock().ok()?;
        live.get(token)
            .filter(|r| {
                r.epoch == epoch && now.saturating_duration_since(r.seen) < LIVE_TOKEN_MEMORY
            })
            .map(|r| r.claims.clone())
    }

    /// Remembers that `token` (with these verified claims) was live when the database was
    /// asked; `epoch` is the revocation epoch read before asking.
    pub fn remember(&self, token: &str, claims: AccessClaims, epoch: u64, seen: Instant) {
        let Ok(mut live) = self.live.lock() else {
            return;
        };
        if live.len() >= CAPACITY {
            live.clear();
        }
        live.insert(
            token.to_string(),
            Remembered {
                claims,
                epoch,
                seen,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> AccessClaims {
        AccessClaims {
            iss: "https://subgate.test".into(),
            sub: "cli_1".into(),
            aud: "api".into(),
            client_id: "cli_1".into(),
            scope: String::new(),
            iat: 0,
            exp: 3600,
            jti: "jti_1".into(),
            merchant_id: "mer_1".into(),
        }
    }

    #[test]
    fn a_live_answer_is_trusted_for_a_moment_only_and_for_the_exact_token() {
        let memory = LiveTokens::default();
        let t0 = Instant::now();
        memory.remember("token-a", claims(), 7, t0);
        assert_eq!(
            memory.get("token-a", 7, t0).map(|c| c.jti),
            Some("jti_1".into())
        );
        assert!(memory.get("token-a", 7, t0 + LIVE_TOKEN_MEMORY).is_none());
        assert!(memory.get("token-a ", 7, t0).is_none());
        assert!(memory.get("token-b", 7, t0).is_none());
    }

    #[test]
    fn a_revocation_since_the_question_voids_the_answer() {
        let memory = LiveTokens::default();
        let t0 = Instant::now();
        // the database said "live" under epoch 3; a revocation has since moved it to 4
        memory.remember("token-a", claims(), 3, t0);
        assert!(memory.get("token-a", 4, t0).is_none());
        // asked again after the revocation: remembered under the new epoch
        memory.remember("token-a", claims(), 4, t0);
        assert!(memory.get("token-a", 4, t0).is_some());
    }
}
