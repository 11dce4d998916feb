//! Randomness is a parameter, as time is (`crate::clock`): the domain draws ids, secrets and
//! one-time tokens from the [`Entropy`] it was built with, never from the system directly. A
//! server always draws from the operating system; only a test can build one from a seed, so a
//! whole flow repeats exactly (there is no setting for it: a seed in production would make every
//! token guessable).

use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use rand::rngs::{OsRng, StdRng};
use rand::{RngCore, SeedableRng};

#[derive(Clone, Default)]
pub struct Entropy {
    /// `None`: the operating system's generator.
    seeded: Option<Arc<Mutex<StdRng>>>,
}

impl std::fmt::Debug for Entropy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.seeded.is_some() {
            "Entropy(seeded)"
        } else {
            "Entropy(os)"
        })
    }
}

impl Entropy {
    /// The operating system's generator: what every server uses.
    pub fn os() -> Self {
        Self::default()
    }

    /// A repeatable sequence, for tests only.
    #[doc(hidden)]
    pub fn seeded(seed: u64) -> Self {
        Self {
            seeded: Some(Arc::new(Mutex::new(StdRng::seed_from_u64(seed)))),
        }
    }

    pub fn fill(&self, buf: &mut [u8]) {
        match &self.seeded {
            None => OsRng.fill_bytes(buf),
            Some(rng) => match rng.lock() {
                Ok(mut rng) => rng.fill_bytes(buf),
                Err(poisoned) => poisoned.into_inner().fill_bytes(buf),
            },
        }
    }

    pub fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        self.fill(&mut out);
        out
    }

    /// `bytes` random bytes as unpadded base64url (32 bytes: 43 characters).
    pub fn token(&self, bytes: usize) -> String {
        let mut buf = vec![0u8; bytes];
        self.fill(&mut buf);
        B64.encode(buf)
    }

    /// `{prefix}_` and 128 random bits.
    pub fn id(&self, prefix: &str) -> String {
        format!("{prefix}_{}", self.token(16))
    }
}

#[cfg(test)]
mod tests {
    use super::Entropy;

    #[test]
    fn a_seed_repeats_and_the_system_does_not() {
        let (a, b) = (Entropy::seeded(7), Entropy::seeded(7));
        assert_eq!(a.token(32), b.token(32));
        assert_eq!(a.id("mer"), b.id("mer"));
        assert_ne!(Entropy::seeded(8).token(32), Entropy::seeded(7).token(32));
        let os = Entropy::os();
        assert_ne!(os.token(32), os.token(32));
        assert_eq!(os.token(32).len(), 43);
        assert!(os.id("cli").starts_with("cli_"));
    }
}
