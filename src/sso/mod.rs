//! Single sign-on for subscribers, Recurpay-compatible and safer: the merchant's server proves
//! it knows the shared secret with `customer_hash = hex(HMAC-SHA256(secret, subscriber_id))`
//! (or, in replay-proof mode, over [`signed_message`]), and gets a one-time link that opens a
//! portal session for that subscriber. Secrets are sealed at rest;
//! the previous one keeps verifying for an overlap window after a rotation. Time is a parameter.

mod error;
mod link;
mod login;
mod secret;
mod settings;

pub use error::SsoError;
pub use link::{LinkRefused, SubscriberSession};
pub use login::{signed_message, Caller, IssuedLink, LoginError, LoginRequest};
pub use secret::{ActiveSecrets, HashFor, RevealedSecrets, SsoSecret, StoreSlug};
pub use settings::{LinkTtl, OverlapHours, SsoOptions};

use crate::crypto::{Sealer, SecretKey};
use crate::db::Db;
use crate::entropy::Entropy;

/// How far a signed timestamp may be from the server's clock, either way.
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 300;
pub const DEFAULT_LINK_TTL_SECS: i64 = 120;
pub const MAX_LINK_TTL_SECS: i64 = 600;
pub const MIN_LINK_TTL_SECS: i64 = 10;
pub const DEFAULT_OVERLAP_HOURS: i64 = 24;
/// A rotation keeps the previous secret for at most a week.
pub const MAX_OVERLAP_HOURS: i64 = 168;
/// A subscriber's portal session lasts an hour; then they come back through the merchant's site.
pub const PORTAL_SESSION_SECS: i64 = 3600;
/// Failed logins counted in windows of this length...
const THROTTLE_WINDOW_SECS: i64 = 600;
/// ...at most this many per subscriber (guessing one subscriber's hash)...
const MAX_FAILURES_PER_SUBSCRIBER: i64 = 10;
/// ...and this many per store (guessing across subscribers).
const MAX_FAILURES_PER_STORE: i64 = 100;
/// Failed logins written to the store's log per window: past this, failures are only counted,
/// so a flood of bad hashes cannot push the real entries out of the SSO tab's view.
const MAX_LOGGED_FAILURES_PER_STORE: i64 = 20;
const SECRET_PREFIX: &str = "sso_";

/// What the login log records.
pub mod outcome {
    pub const LINK_ISSUED: &str = "link_issued";
    /// Issued from the dashboard, for the merchant to see the portal as the subscriber.
    pub const PREVIEW_ISSUED: &str = "preview_issued";
    pub const INVALID_HASH: &str = "invalid_hash";
    pub const UNKNOWN_SUBSCRIBER: &str = "unknown_subscriber";
    pub const STALE_TIMESTAMP: &str = "stale_timestamp";
    pub const NONCE_REUSED: &str = "nonce_reused";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const PORTAL_OPENED: &str = "portal_opened";
    pub const LINK_REUSED: &str = "link_reused";
    pub const LINK_EXPIRED: &str = "link_expired";
    pub const IP_MISMATCH: &str = "ip_mismatch";
    pub const SSO_DISABLED: &str = "sso_disabled";
}

pub struct Sso {
    db: Db,
    sealer: Sealer,
    link_key: [u8; 32],
    /// Secrets, one-time links, portal sessions and store-slug suffixes.
    entropy: Entropy,
}

impl Sso {
    pub fn new(db: Db, root: &SecretKey, entropy: Entropy) -> Self {
        Self {
            db,
            entropy,
            sealer: Sealer::new(root, "sso-secret"),
            link_key: root.derive("sso-link"),
        }
    }

    fn seal_context(merchant_id: &str, generation: i64) -> String {
        format!("{merchant_id}:{generation}")
    }

    fn open(
        &self,
        merchant_id: &str,
        generation: i64,
        sealed: &str,
    ) -> Result<SsoSecret, SsoError> {
        self.sealer
            .open(sealed, &Self::seal_context(merchant_id, generation))
            .and_then(|b| String::from_utf8(b).ok())
            .map(SsoSecret)
            .ok_or_else(|| {
                tracing::error!(
                    merchant_id,
                    generation,
                    "an SSO secret does not open: was SUBGATE_SECRET_KEY changed?"
                );
                SsoError::Corrupt
            })
    }
}

#[cfg(test)]
mod tests {
    use super::login::*;
    use super::secret::*;
    use super::*;

    #[test]
    fn store_slugs_come_from_business_names() {
        assert_eq!(
            StoreSlug::from_business_name("Acme Coffee Ltd.", None).as_str(),
            "acme-coffee-ltd"
        );
        assert_eq!(StoreSlug::from_business_name("Ü", None).as_str(), "store");
        assert_eq!(
            StoreSlug::from_business_name("AB", Some("x1y2")).as_str(),
            "store-ab-x1y2"
        );
        for name in [
            "Acme Coffee Ltd.",
            "Ü",
            "  --  ",
            "a very long business name that keeps going on",
        ] {
            let slug = StoreSlug::from_business_name(name, None);
            assert!(StoreSlug::parse(slug.as_str()).is_some(), "{slug:?}");
        }
        assert!(StoreSlug::parse("-bad").is_none());
        assert!(StoreSlug::parse("Bad").is_none());
        assert!(StoreSlug::parse("ok-store").is_some());
    }

    #[test]
    fn customer_hashes_are_hex_hmac_sha256_of_the_message() {
        // RFC 4231 test case 2, with the secret as the key's UTF-8 bytes
        let secret = SsoSecret("Jefe".into());
        let hash = secret.customer_hash("what do ya want for nothing?");
        assert_eq!(
            hash,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let bytes = parse_customer_hash(&hash.to_uppercase()).expect("either case");
        assert!(secret.verifies("what do ya want for nothing?", &bytes));
        assert!(!secret.verifies("what do ya want for nothing!", &bytes));
        assert!(parse_customer_hash("zz").is_err());
        assert!(parse_customer_hash(&"g".repeat(64)).is_err());
    }

    #[test]
    fn secrets_are_256_bit_and_never_printed() {
        let s = SsoSecret::generate(&Entropy::os());
        assert_eq!(s.expose().len(), SECRET_PREFIX.len() + 64);
        assert!(!format!("{s:?}").contains(&s.expose()[4..]));
    }

    #[test]
    fn nonces_are_checked_for_shape() {
        assert!(parse_nonce("0123456789abcdef").is_ok());
        assert!(parse_nonce("short").is_err());
        assert!(parse_nonce("has space in it!!").is_err());
    }
}
