//! Small cryptographic building blocks with their security meaning in their types: random
//! tokens, keyed hashes, constant-time comparison, and the server's root secret.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The root secret (`SUBGATE_SECRET_KEY`). Purpose-specific keys are derived from it so that a
/// key used for one thing is never used for another. Never printed.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    pub const MIN_LEN: usize = 32;

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        (bytes.len() >= Self::MIN_LEN).then(|| Self(bytes.to_vec()))
    }

    /// A 256-bit key for one purpose: HMAC-SHA256(root, "subgate:" + purpose).
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        hmac_sha256(&self.0, format!("subgate:{purpose}").as_bytes())
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Authenticated encryption for secrets that must be recovered (signing keys, SSO secrets):
/// XChaCha20-Poly1305 under a key derived for one purpose, with a random 192-bit nonce, bound
/// to a context string (e.g. the row's id) so a sealed value cannot be moved to another row.
#[derive(Clone)]
pub struct Sealer {
    key: [u8; 32],
}

impl Sealer {
    pub fn new(root: &SecretKey, purpose: &str) -> Self {
        Self {
            key: root.derive(&format!("seal:{purpose}")),
        }
    }

    /// base64url(nonce ‖ ciphertext ‖ tag)
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        use base64::Engine;
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let cipher = chacha20poly1305::XChaCha20Poly1305::new((&self.key).into());
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        // encryption with a valid key and nonce size cannot fail
        let ciphertext = cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
    }

    /// `None` when the value was tampered with, sealed under another key or for another context.
    pub fn open(&self, sealed: &str, context: &str) -> Option<Vec<u8>> {
        use base64::Engine;
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sealed)
            .ok()?;
        if raw.len() < 24 + 16 {
            return None;
        }
        let (nonce, ciphertext) = raw.split_at(24);
        let cipher = chacha20poly1305::XChaCha20Poly1305::new((&self.key).into());
        cipher
            .decrypt(
                nonce.into(),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }
}

/// `bytes` random bytes from the OS generator, base64url without padding: for the edge and
/// configuration (CSRF and Connect `state` tokens, key files); the domain draws from its
/// injected [`crate::entropy::Entropy`].
pub fn random_token(bytes: usize) -> String {
    crate::entropy::Entropy::os().token(bytes)
}

/// Keyed hash for high-entropy secrets (client secrets, one-time tokens): a database leak
/// gives nothing to replay, and unlike argon2 it costs microseconds (the secrets are 256-bit
/// random, so there is nothing to brute-force).
pub fn keyed_hash(key: &[u8; 32], secret: &str) -> String {
    hex::encode(hmac_sha256(key, secret.as_bytes()))
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Constant-time equality for secrets, tokens and hashes.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_differ_by_purpose_and_are_stable() {
        let key = SecretKey::from_bytes(&[7u8; 32]).expect("32 bytes is enough");
        assert_eq!(key.derive("a"), key.derive("a"));
        assert_ne!(key.derive("a"), key.derive("b"));
    }

    #[test]
    fn short_secret_keys_are_refused() {
        assert!(SecretKey::from_bytes(&[1u8; 31]).is_none());
    }

    #[test]
    fn secret_key_debug_never_prints_the_key() {
        let key = SecretKey::from_bytes(b"0123456789abcdef0123456789abcdef").expect("long enough");
        assert!(!format!("{key:?}").contains("0123"));
    }

    #[test]
    fn hmac_matches_rfc4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let root = SecretKey::from_bytes(&[9u8; 32]).expect("key");
        let sealer = Sealer::new(&root, "test");
        let sealed = sealer.seal(b"attack at dawn", "row-1");
        assert_eq!(
            sealer.open(&sealed, "row-1").as_deref(),
            Some(&b"attack at dawn"[..])
        );
        assert!(
            sealer.open(&sealed, "row-2").is_none(),
            "bound to its context"
        );
        assert!(
            Sealer::new(&root, "other").open(&sealed, "row-1").is_none(),
            "bound to its purpose"
        );
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(sealer
            .open(&String::from_utf8(tampered).expect("ascii"), "row-1")
            .is_none());
    }

    #[test]
    fn random_tokens_are_unique_and_sized() {
        let a = random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(32));
    }
}
