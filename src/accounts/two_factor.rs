//! Two-factor authentication: TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, one step of
//! clock drift either way) and ten single-use recovery codes.
//!
//! The secret is sealed (XChaCha20-Poly1305 under a key derived from `SUBGATE_SECRET_KEY`, bound
//! to the merchant's id); each code's time step is used at most once (a code read over a
//! shoulder or from a log cannot sign in again); recovery codes are stored as keyed hashes and
//! shown once. Second-factor guesses count against the same login limits as passwords.

use totp_rs::{Algorithm, TOTP};

use super::{AccountError, Accounts, Merchant, Origin};
use crate::crypto::{constant_time_eq, keyed_hash, Sealer, SecretKey};

/// RFC 6238's time step.
const STEP_SECS: i64 = 30;
/// RFC 4226 recommends at least 128 bits; authenticator apps take 160 (SHA-1's size).
const SECRET_BYTES: usize = 20;
pub const RECOVERY_CODES: usize = 10;

/// What the account keeps for two-factor: the sealing key of the secrets, the hashing key of
/// the recovery codes.
pub struct TwoFactorKeys {
    sealer: Sealer,
    code_key: [u8; 32],
}

impl TwoFactorKeys {
    pub fn new(root: &SecretKey) -> Self {
        Self {
            sealer: Sealer::new(root, "totp"),
            code_key: root.derive("recovery-codes"),
        }
    }
}

/// A secret being set up: shown to the merchant (QR code and text) until a code confirms it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpSetup {
    /// Base32, as authenticator apps take it typed.
    pub secret: String,
    /// `otpauth://totp/…`, the QR code's content.
    pub url: String,
    /// The QR code as an SVG document.
    pub qr_svg: String,
}

fn totp(secret: Vec<u8>) -> Result<TOTP, AccountError> {
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECS as u64, secret).map_err(|e| {
        tracing::error!(error = %e, "TOTP secret rejected");
        AccountError::Hashing
    })
}

/// The time step `code` belongs to, among the one before `now`'s, `now`'s and the one after.
fn matching_step(totp: &TOTP, code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    if code.len() != 6 {
        return None;
    }
    let current = now.div_euclid(STEP_SECS);
    (current - 1..=current + 1).find(|step| {
        let expected = totp.generate((step * STEP_SECS) as u64);
        constant_time_eq(expected.as_bytes(), code.as_bytes())
    })
}

/// A recovery code as people type it: letters and digits only, lower case.
fn normalized_code(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn percent(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl Accounts {
    fn seal_context(merchant_id: &str) -> String {
        format!("totp:{merchant_id}")
    }

    /// A secret being set up is sealed for the session under another context than the
    /// account's: one cannot be moved into the place of the other.
    fn pending_context(merchant_id: &str) -> String {
        format!("pending:{merchant_id}")
    }

    /// Starts a setup, with the current password: a new secret, sealed for the session (it is
    /// not the account's until a code from the app confirms it).
    pub async fn begin_totp(
        &self,
        merchant: &Merchant,
        current_password: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<String, AccountError> {
        if merchant.two_factor {
            return Err(AccountError::invalid(
                "Two-factor authentication is already on.",
            ));
        }
        self.confirm_password(merchant, origin, current_password, now)
            .await?;
        let secret = self.entropy.bytes::<SECRET_BYTES>();
        Ok(self
            .two_factor
            .sealer
            .seal(&secret, &Self::pending_context(&merchant.id)))
    }

    /// What the merchant scans or types for a pending secret (`None`: not sealed for them).
    pub fn totp_setup(&self, merchant: &Merchant, pending: &str) -> Option<TotpSetup> {
        let secret = self
            .two_factor
            .sealer
            .open(pending, &Self::pending_context(&merchant.id))?;
        let totp = totp(secret).ok()?;
        let base32 = totp.get_secret_base32();
        let url = format!(
            "otpauth://totp/subgate:{}?secret={base32}&issuer=subgate&algorithm=SHA1&digits=6&period=30",
            percent(&merchant.email)
        );
        let qr_svg = qrcode::QrCode::new(url.as_bytes())
            .ok()?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build();
        Some(TotpSetup {
            secret: base32,
            url,
            qr_svg,
        })
    }

    /// Confirms a pending secret with a code from the app: two-factor is on, and the ten
    /// recovery codes are answered (to be shown once).
    pub async fn enable_totp(
        &self,
        merchant: &Merchant,
        pending: &str,
        code: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<Vec<String>, AccountError> {
        if merchant.two_factor {
            return Err(AccountError::invalid(
                "Two-factor authentication is already on.",
            ));
        }
        let secret = self
            .two_factor
            .sealer
            .open(pending, &Self::pending_context(&merchant.id))
            .ok_or_else(|| AccountError::invalid("Start the setup again."))?;
        let step = matching_step(&totp(secret.clone())?, code, now).ok_or_else(|| {
            AccountError::invalid(
                "Code: that is not the code your app shows now. Check the time on your phone.",
            )
        })?;
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| {
                let raw = hex::encode(self.entropy.bytes::<5>());
                format!("{}-{}", &raw[..5], &raw[5..])
            })
            .collect();
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| keyed_hash(&self.two_factor.code_key, &normalized_code(c)))
            .collect();
        let sealed = self
            .two_factor
            .sealer
            .seal(&secret, &Self::seal_context(&merchant.id));
        let entry = origin.entry(
            &merchant.id,
            "account.two_factor_enabled",
            Some(merchant.email.as_str()),
            now,
        );
        let done = self
            .db
            .enable_totp(
                &merchant.id,
                &sealed,
                step,
                &hashes,
                &self.audit_id(),
                &entry,
            )
            .await?;
        if !done {
            return Err(AccountError::invalid(
                "Two-factor authentication is already on.",
            ));
        }
        Ok(codes)
    }

    /// Checks a second factor: a TOTP code of a step not used before, or an unused recovery
    /// code. Answers which it was.
    async fn check_second_factor(
        &self,
        row: &crate::db::merchants::MerchantRow,
        code: &str,
        now: i64,
    ) -> Result<Option<&'static str>, AccountError> {
        let Some(sealed) = &row.totp_secret else {
            return Ok(None);
        };
        let secret = self
            .two_factor
            .sealer
            .open(sealed, &Self::seal_context(&row.id))
            .ok_or_else(|| {
                tracing::error!(merchant = %row.id, "TOTP secret does not open");
                AccountError::Hashing
            })?;
        if let Some(step) = matching_step(&totp(secret)?, code, now) {
            return Ok(self
                .db
                .use_totp_step(&row.id, step)
                .await?
                .then_some("authenticator app"));
        }
        let normalized = normalized_code(code);
        if normalized.len() == 10 {
            let hash = keyed_hash(&self.two_factor.code_key, &normalized);
            if self.db.use_recovery_code(&row.id, &hash, now).await? {
                return Ok(Some("recovery code"));
            }
        }
        Ok(None)
    }

    /// The second step of a login whose password was right: the code, within the same limits
    /// as passwords (per IP, and per account from that IP).
    pub async fn second_factor(
        &self,
        origin: &Origin,
        merchant_id: &str,
        code: &str,
        now: i64,
    ) -> Result<Merchant, AccountError> {
        let row = self
            .db
            .merchant_by_id(merchant_id)
            .await?
            .ok_or(AccountError::InvalidCredentials)?;
        let normalized_email = row.email.to_lowercase();
        let attempt = self
            .throttle
            .login_attempt(&self.db, &origin.ip, &normalized_email, now)
            .await?;
        match self.check_second_factor(&row, code, now).await {
            Ok(Some(how)) => {
                self.throttle
                    .login_succeeded(&self.db, attempt, &origin.ip, &normalized_email)
                    .await?;
                let mut entry =
                    origin.entry(&row.id, "account.signed_in", Some(row.email.as_str()), now);
                entry.target = Some(format!("with {how}"));
                self.audit(entry).await?;
                Ok(row.into())
            }
            Ok(None) => {
                attempt.keep();
                let mut entry = origin.entry(&row.id, "account.second_factor_failed", None, now);
                entry.target = Some(row.email);
                self.audit(entry).await?;
                Err(AccountError::WrongCode)
            }
            Err(e) => {
                attempt.give_back(&self.db).await?;
                Err(e)
            }
        }
    }

    /// Turns two-factor off, with the password and a current code (or a recovery code).
    pub async fn disable_totp(
        &self,
        merchant: &Merchant,
        current_password: &str,
        code: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<(), AccountError> {
        let row = self
            .confirm_password(merchant, origin, current_password, now)
            .await?;
        if row.totp_secret.is_none() {
            return Err(AccountError::invalid("Two-factor authentication is off."));
        }
        if self.check_second_factor(&row, code, now).await?.is_none() {
            return Err(AccountError::WrongCode);
        }
        let entry = origin.entry(
            &merchant.id,
            "account.two_factor_disabled",
            Some(merchant.email.as_str()),
            now,
        );
        self.db
            .disable_totp(&merchant.id, &self.audit_id(), &entry)
            .await?;
        Ok(())
    }

    /// Recovery codes the account has not used.
    pub async fn recovery_codes_left(&self, merchant_id: &str) -> Result<i64, AccountError> {
        Ok(self.db.recovery_codes_left(merchant_id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_rfc_6238s_sha1_vectors_within_one_step() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits);
        // the last six digits are the 6-digit code
        let totp = totp(b"12345678901234567890".to_vec()).expect("secret");
        assert_eq!(totp.generate(59), "287082");
        assert_eq!(matching_step(&totp, "287082", 59), Some(1));
        assert_eq!(
            matching_step(&totp, "287 082", 59 + 30),
            Some(1),
            "one step late"
        );
        assert_eq!(
            matching_step(&totp, "287082", 59 + 60),
            None,
            "two steps late"
        );
        assert_eq!(matching_step(&totp, "28708", 59), None);
        // 1111111109 s → 07081804
        assert_eq!(totp.generate(1_111_111_109), "081804");
    }

    #[test]
    fn recovery_codes_are_compared_without_dashes_or_case() {
        assert_eq!(normalized_code(" AB12c-d34EF "), "ab12cd34ef");
    }
}
