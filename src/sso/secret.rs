//! The shared secret (sealed at rest, the previous one verifying through an overlap after a
//! rotation) and the store's public slug.

use super::{Sso, SECRET_PREFIX};
use crate::crypto::{constant_time_eq, hmac_sha256};
use crate::db::sso::SsoSettingsRow;
use crate::error::AppError;

/// A shared secret in the clear. Never printed; only the merchant's own SSO tab shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SsoSecret(pub(super) String);

impl SsoSecret {
    pub(super) fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        Self(format!("{SECRET_PREFIX}{}", hex::encode(bytes)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The `customer_hash` for `message`, exactly as the snippets compute it: the secret's
    /// UTF-8 bytes as the HMAC key, lowercase hex.
    pub fn customer_hash(&self, message: &str) -> String {
        hex::encode(hmac_sha256(self.0.as_bytes(), message.as_bytes()))
    }

    pub(super) fn verifies(&self, message: &str, hash: &[u8; 32]) -> bool {
        constant_time_eq(&hmac_sha256(self.0.as_bytes(), message.as_bytes()), hash)
    }
}

impl std::fmt::Debug for SsoSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SsoSecret(<redacted>)")
    }
}

/// The store's public name in login URLs: 3 to 40 of `a-z 0-9 -`, not starting or ending with `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSlug(pub(super) String);

impl StoreSlug {
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = (3..=40).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-')
            && !raw.ends_with('-');
        ok.then(|| Self(raw.to_string()))
    }

    /// A slug from the business name ("Acme Coffee Ltd." → "acme-coffee-ltd"), padded to the
    /// minimum length; `suffix` tells apart businesses with the same name.
    pub(super) fn from_business_name(name: &str, suffix: Option<&str>) -> Self {
        let mut slug = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        let mut slug: String = slug.trim_matches('-').chars().take(30).collect();
        slug = slug.trim_end_matches('-').to_string();
        if slug.len() < 3 {
            slug = format!("store{}", if slug.is_empty() { "" } else { "-" }) + &slug;
        }
        if let Some(suffix) = suffix {
            slug = format!("{slug}-{suffix}");
        }
        Self(slug)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The secrets that verify logins right now.
#[derive(Debug, Clone)]
pub struct ActiveSecrets {
    pub current: Option<(i64, SsoSecret)>,
    /// The previous generation, its secret and when it stops verifying.
    pub previous: Option<(i64, SsoSecret, i64)>,
}

impl Sso {
    pub fn secrets(&self, s: &SsoSettingsRow, now: i64) -> Result<ActiveSecrets, AppError> {
        let current = match &s.secret_sealed {
            Some(sealed) => Some((
                s.secret_generation,
                self.open(&s.merchant_id, s.secret_generation, sealed)?,
            )),
            None => None,
        };
        let previous = match (
            &s.previous_sealed,
            s.previous_generation,
            s.previous_expires_at,
        ) {
            (Some(sealed), Some(generation), Some(expires)) if expires > now => Some((
                generation,
                self.open(&s.merchant_id, generation, sealed)?,
                expires,
            )),
            _ => None,
        };
        Ok(ActiveSecrets { current, previous })
    }
}
