//! PKCE (RFC 7636) with S256 only: `plain` would let anyone who sees the authorization request
//! redeem the code.

use base64::Engine;
use sha2::{Digest, Sha256};

use super::OAuthError;
use crate::crypto::constant_time_eq;

/// A validated S256 code challenge from the authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S256Challenge(String);

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
        if !(43..=128).contains(&verifier.len()) || !verifier.chars().all(is_unreserved) {
            return Err(mismatch());
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
    fn plain_and_missing_methods_are_refused() {
        assert!(S256Challenge::parse(Some(CHALLENGE), Some("plain")).is_err());
        assert!(S256Challenge::parse(Some(CHALLENGE), None).is_err());
        assert!(S256Challenge::parse(Some("short"), Some("S256")).is_err());
    }
}
