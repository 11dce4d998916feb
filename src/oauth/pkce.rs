//! PKCE (RFC 7636) with S256 only: `plain` would let anyone who sees the authorization request
//! redeem the code. One deliberate deviation (docs/oauth.md): verifiers of 32 to 42 characters
//! are accepted, as django-oauth-toolkit accepts them and published clients send them.

use base64::Engine;
use sha2::{Digest, Sha256};

use super::OAuthError;
use crate::crypto::constant_time_eq;

/// A validated S256 code challenge from the authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S256Challenge(String);

/// The shortest `code_verifier` accepted. RFC 7636 §4.1 asks for 43 to 128 characters;
/// django-oauth-toolkit (oauthlib) checks no length, and recursiv's published Flask client sends
/// 40 (30 random bytes in base64url, 240 bits). 32 unreserved characters drawn at random from
/// base64url's alphabet still carry 192 bits: an entropy floor, not the RFC's letter.
pub const MIN_VERIFIER_LEN: usize = 32;
pub const MAX_VERIFIER_LEN: usize = 128;

fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

impl S256Challenge {
    pub fn parse(challenge: Option<&str>, method: Option<&str>) -> Result<Self, OAuthError> {
        match method {
            Some("S256") => {}
            Some("plain") => {
                return Err(OAuthError::InvalidRequest(
                    "code_challenge_method \"plain\" is not allowed; use S256.".into(),
                ))
            }
            Some(_) => {
                return Err(OAuthError::InvalidRequest(
                    "Unsupported code_challenge_method; use S256.".into(),
                ))
            }
            None => {
                return Err(OAuthError::InvalidRequest(
                    "code_challenge_method=S256 is required.".into(),
                ))
            }
        }
        let challenge = challenge
            .ok_or_else(|| OAuthError::InvalidRequest("code_challenge is required.".into()))?;
        // BASE64URL(SHA256(...)) without padding is always 43 characters
        if challenge.len() != 43 || !challenge.chars().all(is_unreserved) {
            return Err(OAuthError::InvalidRequest(
                "code_challenge must be the 43-character base64url SHA-256 of the verifier.".into(),
            ));
        }
        Ok(Self(challenge.to_string()))
    }

    pub fn from_stored(challenge: String) -> Self {
        Self(challenge)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge, in constant time.
    pub fn verify(&self, verifier: &str) -> Result<(), OAuthError> {
        let mismatch = || {
            OAuthError::InvalidGrant("The code_verifier does not match the code_challenge.".into())
        };
        if !(MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&verifier.len()) {
            return Err(OAuthError::InvalidRequest(format!(
                "code_verifier must be {MIN_VERIFIER_LEN} to {MAX_VERIFIER_LEN} characters long (it has {}); \
                 make it from at least 24 random bytes, base64url-encoded.",
                verifier.len()
            )));
        }
        if !verifier.chars().all(is_unreserved) {
            return Err(OAuthError::InvalidRequest(
                "code_verifier may only contain A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1).".into(),
            ));
        }
        let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        if constant_time_eq(computed.as_bytes(), self.0.as_bytes()) {
            Ok(())
        } else {
            Err(mismatch())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b_verifies() {
        let c = S256Challenge::parse(Some(CHALLENGE), Some("S256")).expect("valid");
        assert!(c.verify(VERIFIER).is_ok());
        assert!(matches!(
            c.verify(&VERIFIER.replace('d', "e")),
            Err(OAuthError::InvalidGrant(_))
        ));
    }

    #[test]
    fn verifiers_down_to_32_characters_verify_and_shorter_ones_are_explained() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        // recursiv's Flask client: base64url(30 random bytes) without padding, 40 characters
        let verifier = URL_SAFE_NO_PAD.encode([7u8; 30]);
        assert_eq!(verifier.len(), 40);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let c = S256Challenge::parse(Some(&challenge), Some("S256")).expect("valid");
        assert_eq!(c.verify(&verifier), Ok(()));
        let short = "a".repeat(31);
        let c = S256Challenge::parse(
            Some(&URL_SAFE_NO_PAD.encode(Sha256::digest(short.as_bytes()))),
            Some("S256"),
        )
        .expect("valid");
        assert!(
            matches!(c.verify(&short), Err(OAuthError::InvalidRequest(m)) if m.contains("32 to 128"))
        );
        assert!(matches!(
            c.verify(&"a".repeat(129)),
            Err(OAuthError::InvalidRequest(_))
        ));
        assert!(matches!(
            c.verify(&format!("{}+", "a".repeat(40))),
            Err(OAuthError::InvalidRequest(_))
        ));
    }

    #[test]
    fn plain_and_missing_methods_are_refused() {
        assert!(S256Challenge::parse(Some(CHALLENGE), Some("plain")).is_err());
        assert!(S256Challenge::parse(Some(CHALLENGE), None).is_err());
        assert!(S256Challenge::parse(Some("short"), Some("S256")).is_err());
    }
}
