//! The shared secret (sealed at rest, the previous one verifying through an overlap after a
//! rotation) and the store's public slug.

use super::{Sso, SsoError, SECRET_PREFIX};
use crate::crypto::{constant_time_eq, hmac_sha256};
use crate::db::sso::SsoSettingsRow;
use crate::entropy::Entropy;
use crate::payments::customers::SubscriberId;

/// A shared secret in the clear. Never printed; only the merchant's own SSO tab shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SsoSecret(pub(super) String);

impl SsoSecret {
    pub(super) fn generate(entropy: &Entropy) -> Self {
        Self(format!(
            "{SECRET_PREFIX}{}",
            hex::encode(entropy.bytes::<32>())
        ))
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

/// What the merchant's own SSO tab may show: the store and the secrets that verify now.
#[derive(Debug, Clone)]
pub struct RevealedSecrets {
    pub store: String,
    pub current: SsoSecret,
    pub previous: Option<SsoSecret>,
}

/// A subscriber's `customer_hash` under the store's current secret.
#[derive(Debug, Clone)]
pub struct HashFor {
    pub store: String,
    pub subscriber_id: String,
    pub customer_hash: String,
}

impl Sso {
    /// The store's secrets in the clear, for its merchant; single sign-on must be on.
    pub async fn reveal(&self, merchant_id: &str, now: i64) -> Result<RevealedSecrets, SsoError> {
        let settings = self
            .settings(merchant_id)
            .await?
            .filter(|s| s.enabled)
            .ok_or(SsoError::Off)?;
        let secrets = self.secrets(&settings, now)?;
        Ok(RevealedSecrets {
            current: secrets.current.map(|(_, s)| s).ok_or(SsoError::Off)?,
            previous: secrets.previous.map(|(_, s, _)| s),
            store: settings.store,
        })
    }

    /// The `customer_hash` the store's current secret gives for `subscriber`: the SSO tab's
    /// tester, so a merchant can compare it with what their own server computes.
    pub async fn hash_for(
        &self,
        merchant_id: &str,
        subscriber: &SubscriberId,
        now: i64,
    ) -> Result<HashFor, SsoError> {
        let secrets = self.reveal(merchant_id, now).await?;
        Ok(HashFor {
            customer_hash: secrets.current.customer_hash(subscriber.as_str()),
            subscriber_id: subscriber.as_str().to_string(),
            store: secrets.store,
        })
    }

    pub fn secrets(&self, s: &SsoSettingsRow, now: i64) -> Result<ActiveSecrets, SsoError> {
        let current = match &s.secret_sealed {
            Some(sealed) => Some((
                s.secret_generation,
                self.open(&s.merchant_id, s.secret_generation, sealed)?,
            )),
            None => None,
        };
        let previous = match (&s.previous_sealed, s.previous_until(now)) {
            (Some(sealed), Some((generation, expires))) => Some((
                generation,
                self.open(&s.merchant_id, generation, sealed)?,
                expires,
            )),
            _ => None,
        };
        Ok(ActiveSecrets { current, previous })
    }
}

impl SsoSettingsRow {
    /// The previous secret's generation and when it stops verifying, while it still does: the
    /// one rule for "still active" that logins and the SSO tab share.
    pub fn previous_until(&self, now: i64) -> Option<(i64, i64)> {
        match (
            &self.previous_sealed,
            self.previous_generation,
            self.previous_expires_at,
        ) {
            (Some(_), Some(generation), Some(expires)) if expires > now => {
                Some((generation, expires))
            }
            _ => None,
        }
    }
}
