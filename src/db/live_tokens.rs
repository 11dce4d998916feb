//! A short memory of access tokens the database found live. An API client sends the same token
//! with every call; asking the database each time costs a round trip per request for an answer
//! that almost never changes. Remembering a live answer for [`LIVE_TOKEN_MEMORY`] keeps the
//! promise the cluster makes (a token revoked on one instance is refused by every other within
//! 5 s), and revocations made through this process forget everything at once, so on the
//! instance that revoked, a revoked token is refused by the very next request.
//!
//! Only "live" is remembered: a revoked or unknown token is asked about every time, so nothing
//! here can turn a refusal into an acceptance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::oauth::GrantRow;

/// How long a "live" answer is trusted.
pub const LIVE_TOKEN_MEMORY: Duration = Duration::from_secs(1);

/// Beyond this many remembered tokens the memory starts over (a bound, not an eviction policy:
/// at 1 s per entry it is reached only by more than this many distinct tokens per second).
const CAPACITY: usize = 10_000;

#[derive(Debug, Default)]
pub struct LiveTokens {
    inner: Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    /// Bumped by every revocation; an answer read before a revocation is not remembered after it.
    generation: u64,
    live: HashMap<String, (GrantRow, Instant)>,
}

impl LiveTokens {
    /// The grant remembered for `jti`, when it was found live less than a moment ago.
    pub fn get(&self, jti: &str, now: Instant) -> Option<GrantRow> {
        let memory = self.inner.lock().ok()?;
        memory
            .live
            .get(jti)
            .filter(|(_, seen)| now.saturating_duration_since(*seen) < LIVE_TOKEN_MEMORY)
            .map(|(grant, _)| grant.clone())
    }

    /// The generation to hand back to [`Self::remember`] after asking the database.
    pub fn generation(&self) -> u64 {
        self.inner.lock().map(|m| m.generation).unwrap_or(u64::MAX)
    }

    /// Remembers that `jti` was live when the database was asked, unless something was revoked
    /// since `generation` was read (the answer may predate it).
    pub fn remember(&self, jti: &str, grant: GrantRow, generation: u64, seen: Instant) {
        let Ok(mut memory) = self.inner.lock() else {
            return;
        };
        if memory.generation != generation {
            return;
        }
        if memory.live.len() >= CAPACITY {
            memory.live.clear();
        }
        memory.live.insert(jti.to_string(), (grant, seen));
    }

    /// Forgets everything: called after every revocation has been committed.
    pub fn forget_all(&self) {
        if let Ok(mut memory) = self.inner.lock() {
            memory.generation = memory.generation.wrapping_add(1);
            memory.live.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> GrantRow {
        GrantRow {
            id: "grt_1".into(),
            merchant_id: "mer_1".into(),
            client_id: "cli_1".into(),
            grant_type: "client_credentials".into(),
            scope: String::new(),
            audience: "api".into(),
            revoked_at: None,
        }
    }

    #[test]
    fn a_live_answer_is_trusted_for_a_moment_only() {
        let memory = LiveTokens::default();
        let t0 = Instant::now();
        memory.remember("jti", grant(), memory.generation(), t0);
        assert_eq!(memory.get("jti", t0).map(|g| g.id), Some("grt_1".into()));
        assert!(memory.get("jti", t0 + LIVE_TOKEN_MEMORY).is_none());
        assert!(memory.get("other", t0).is_none());
    }

    #[test]
    fn a_revocation_forgets_everything_and_refuses_answers_read_before_it() {
        let memory = LiveTokens::default();
        let t0 = Instant::now();
        memory.remember("a", grant(), memory.generation(), t0);
        let before = memory.generation();
        memory.forget_all();
        assert!(memory.get("a", t0).is_none());
        // an answer the database gave before the revocation committed arrives late
        memory.remember("b", grant(), before, t0);
        assert!(memory.get("b", t0).is_none());
        memory.remember("b", grant(), memory.generation(), t0);
        assert!(memory.get("b", t0).is_some());
    }
}
