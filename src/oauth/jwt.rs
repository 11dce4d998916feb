//! JWT access tokens (RFC 9068 profile) signed with Ed25519 (`alg: EdDSA`). Signing keys live in
//! the database, private halves sealed under `SUBGATE_SECRET_KEY`; rotation adds a key and
//! retires the old one, which keeps verifying until every token it signed has expired.
//! Verification accepts exactly `EdDSA` with a known `kid`: no `none`, no algorithm confusion.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::Deserialize;
use serde_json::json;

use super::clients::ACCESS_TOKEN_TTL_RANGE;
use super::AccessClaims;
use crate::crypto::{Sealer, SecretKey};
use crate::db::oauth::SigningKeyRow;
use crate::db::Db;
use crate::entropy::Entropy;

const ALG: &str = "EdDSA";

/// Why the key ring could not sign or list its keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No current key, or a key that does not unseal (logged where it was found).
    #[error("no usable signing key")]
    Unusable,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// How long a verifying key read from the database is trusted without reading it again. Keys
/// only ever appear (rotation) or stop verifying a token lifetime after retirement, so a short
/// cache is safe; an unknown `kid` always goes to the database.
const VERIFIER_CACHE_SECS: i64 = 300;

/// How long the unsealed current signing key is kept in memory before the database is asked
/// again which key is current (a rotation on another instance is followed within this).
const SIGNER_CACHE_SECS: i64 = 5;

pub struct KeyRing {
    db: Db,
    sealer: Sealer,
    /// Key seeds and ids.
    entropy: Entropy,
    /// kid → (public key, when it was read): token checks skip the database for known keys.
    verifiers: std::sync::RwLock<std::collections::HashMap<String, (VerifyingKey, i64)>>,
    /// The current key, unsealed: `(kid, key, read_at)`.
    signer: std::sync::RwLock<Option<(String, SigningKey, i64)>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("malformed token")]
    Malformed,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("bad signature")]
    BadSignature,
    /// The keys could not be read (the database is unavailable): not the token's fault.
    #[error("the signing keys could not be read")]
    Unavailable,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: String,
    typ: Option<String>,
}

impl KeyRing {
    pub fn new(db: Db, root: &SecretKey, entropy: Entropy) -> Self {
        Self {
            db,
            entropy,
            sealer: Sealer::new(root, "jwt-signing-key"),
            verifiers: Default::default(),
            signer: Default::default(),
        }
    }

    /// Creates the first key if there is none. Two instances starting together may both create
    /// one: both verify, the newest signs.
    pub async fn ensure_key(&self, now: i64) -> Result<(), KeyError> {
        if self
            .db
            .verifying_keys(now)
            .await?
            .iter()
            .all(|k| k.retired_at.is_some())
        {
            self.add_key(now).await?;
        }
        Ok(())
    }

    /// Adds a new signing key and retires the others (they keep verifying for a token lifetime).
    pub async fn rotate(&self, now: i64) -> Result<String, KeyError> {
        let kid = self.add_key(now).await?;
        self.db.retire_signing_keys_except(&kid, now).await?;
        Ok(kid)
    }

    async fn add_key(&self, now: i64) -> Result<String, KeyError> {
        let seed: [u8; 32] = self.entropy.bytes();
        let signing = SigningKey::from_bytes(&seed);
        let kid = self.entropy.id("key");
        self.db
            .insert_signing_key(&SigningKeyRow {
                kid: kid.clone(),
                algorithm: ALG.into(),
                private_key_sealed: self.sealer.seal(&seed, &kid),
                public_key: B64.encode(signing.verifying_key().as_bytes()),
                created_at: now,
                retired_at: None,
            })
            .await?;
        if let Ok(mut signer) = self.signer.write() {
            *signer = None;
        }
        tracing::info!(kid = %kid, "new JWT signing key");
        Ok(kid)
    }

    async fn keys(&self, now: i64) -> Result<Vec<SigningKeyRow>, KeyError> {
        // a retired key verifies for as long as the longest-lived token it may have signed
        Ok(self
            .db
            .verifying_keys(now - ACCESS_TOKEN_TTL_RANGE.end())
            .await?)
    }

    pub async fn sign(&self, claims: &AccessClaims, now: i64) -> Result<String, KeyError> {
        let (kid, key) = self.current_signer(now).await?;
        let header = json!({ "alg": ALG, "typ": "at+jwt", "kid": kid });
        let signing_input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(serde_json::to_vec(claims).unwrap_or_default())
        );
        let signature = key.sign(signing_input.as_bytes());
        Ok(format!(
            "{signing_input}.{}",
            B64.encode(signature.to_bytes())
        ))
    }

    /// The current signing key, unsealed: from memory when read less than
    /// [`SIGNER_CACHE_SECS`] ago, else from the database.
    async fn current_signer(&self, now: i64) -> Result<(String, SigningKey), KeyError> {
        let cached = self
            .signer
            .read()
            .ok()
            .and_then(|c| c.clone())
            .filter(|(_, _, read_at)| (0..SIGNER_CACHE_SECS).contains(&(now - read_at)));
        if let Some((kid, key, _)) = cached {
            return Ok((kid, key));
        }
        let keys = self.keys(now).await?;
        let key = keys
            .iter()
            .find(|k| k.retired_at.is_none())
            .ok_or_else(|| {
                tracing::error!("no active JWT signing key");
                KeyError::Unusable
            })?;
        let seed: [u8; 32] = self
            .sealer
            .open(&key.private_key_sealed, &key.kid)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| {
                tracing::error!(kid = %key.kid, "cannot unseal the signing key: was SUBGATE_SECRET_KEY changed?");
                KeyError::Unusable
            })?;
        let signing = SigningKey::from_bytes(&seed);
        if let Ok(mut signer) = self.signer.write() {
            *signer = Some((key.kid.clone(), signing.clone(), now));
        }
        Ok((key.kid.clone(), signing))
    }

    /// Checks the signature only; the caller checks `exp`, `iss`, `aud` and revocation.
    pub async fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, VerifyError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VerifyError::Malformed);
        };
        let header: Header = B64
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(VerifyError::Malformed)?;
        if header.alg != ALG
            || header
                .typ
                .as_deref()
                .is_some_and(|t| !t.eq_ignore_ascii_case("at+jwt"))
        {
            return Err(VerifyError::Malformed);
        }
        let verifying = self.verifier(&header.kid, now).await?;
        let signature: [u8; 64] = B64
            .decode(s)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(VerifyError::Malformed)?;
        verifying
            .verify_strict(
                format!("{h}.{p}").as_bytes(),
                &Signature::from_bytes(&signature),
            )
            .map_err(|_| VerifyError::BadSignature)?;
        B64.decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(VerifyError::Malformed)
    }

    /// The public key `kid`, from the cache or else the database.
    async fn verifier(&self, kid: &str, now: i64) -> Result<VerifyingKey, VerifyError> {
        let cached = self
            .verifiers
            .read()
            .ok()
            .and_then(|c| c.get(kid).copied())
            .filter(|(_, read_at)| now - read_at < VERIFIER_CACHE_SECS);
        if let Some((key, _)) = cached {
            return Ok(key);
        }
        let rows = self.keys(now).await.map_err(|_| VerifyError::Unavailable)?;
        let fresh: std::collections::HashMap<String, (VerifyingKey, i64)> = rows
            .iter()
            .filter_map(|row| {
                let public: [u8; 32] = B64.decode(&row.public_key).ok()?.try_into().ok()?;
                let key = VerifyingKey::from_bytes(&public).ok()?;
                Some((row.kid.clone(), (key, now)))
            })
            .collect();
        let found = fresh.get(kid).map(|(k, _)| *k);
        if let Ok(mut cache) = self.verifiers.write() {
            *cache = fresh;
        }
        found.ok_or(VerifyError::UnknownKey)
    }

    /// The JSON Web Key Set of every key that still verifies (RFC 7517, RFC 8037 for OKP).
    pub async fn jwks(&self, now: i64) -> Result<serde_json::Value, KeyError> {
        let keys: Vec<_> = self
            .keys(now)
            .await?
            .into_iter()
            .map(|k| json!({ "kty": "OKP", "crv": "Ed25519", "x": k.public_key, "kid": k.kid, "alg": ALG, "use": "sig" }))
            .collect();
        Ok(json!({ "keys": keys }))
    }
}
