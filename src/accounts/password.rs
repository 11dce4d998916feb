//! argon2id password hashing (OWASP's 19 MiB, t=2, p=1), off the async runtime and behind a
//! bounded semaphore: at most [`max_concurrent_hashes`] run at once (19 MiB each), a few more
//! wait briefly, and the rest are answered 503 at once, so a burst of logins or sign-ups cannot
//! take the server's memory (48 concurrent sign-ups took it from 59 to 994 MiB).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::AccountError;
use crate::entropy::Entropy;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes that may run at once: about twice the cores.
pub fn max_concurrent_hashes() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

/// How long a hash may wait for its turn before the server answers 503.
const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

fn hashing_slots() -> std::sync::Arc<tokio::sync::Semaphore> {
    static SLOTS: std::sync::OnceLock<std::sync::Arc<tokio::sync::Semaphore>> =
        std::sync::OnceLock::new();
    SLOTS
        .get_or_init(|| std::sync::Arc::new(tokio::sync::Semaphore::new(max_concurrent_hashes())))
        .clone()
}

/// Requests waiting for a slot; beyond `4 × max_concurrent_hashes()` they are refused at once.
static WAITING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One waiter counted in [`WAITING`] (uncounted on drop, also when the request is abandoned).
struct Waiter;

impl Waiter {
    fn enter() -> Option<Self> {
        use std::sync::atomic::Ordering;
        let waiter = Self;
        (WAITING.fetch_add(1, Ordering::AcqRel) < 4 * max_concurrent_hashes()).then_some(waiter)
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

async fn slot() -> Result<tokio::sync::OwnedSemaphorePermit, AccountError> {
    if let Ok(permit) = hashing_slots().try_acquire_owned() {
        return Ok(permit);
    }
    let saturated = || {
        tracing::warn!("password hashing is saturated: refusing");
        AccountError::Busy
    };
    let _waiter = Waiter::enter().ok_or_else(saturated)?;
    match tokio::time::timeout(MAX_WAIT, hashing_slots().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(saturated()),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AccountError> {
    let permit = slot().await?;
    // the permit goes with the work: a request abandoned mid-hash still holds its slot until
    // the hash (and its 19 MiB) is done
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f()
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "password task failed");
        AccountError::Hashing
    })
}

pub async fn hash(password: String, entropy: &Entropy) -> Result<String, AccountError> {
    let salt_bytes = entropy.bytes::<16>();
    blocking(move || {
        let salt = SaltString::encode_b64(&salt_bytes)?;
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        AccountError::Hashing
    })
}

/// Constant-time check of `password` against a PHC string (argon2 compares in constant time).
pub async fn verify(password: String, phc: String) -> Result<bool, AccountError> {
    blocking(move || {
        PasswordHash::new(&phc)
            .map(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
}

/// Spends the same time as [`verify`] for an account that does not exist, so response timing
/// does not reveal which emails are registered.
pub async fn verify_dummy(password: String) -> Result<(), AccountError> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = match DUMMY.get() {
        Some(phc) => phc.clone(),
        None => {
            let phc = hash("subgate-dummy-password".into(), &Entropy::os()).await?;
            DUMMY.get_or_init(|| phc).clone()
        }
    };
    verify(password, phc).await.map(|_| ())
}
