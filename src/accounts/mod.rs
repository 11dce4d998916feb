//! Merchant accounts: parsing sign-up input into valid types, password hashing, sign-up and
//! authentication with throttling. Plain Rust: no HTTP here; the clock comes in as `now`.

mod error;
pub mod passkeys;
pub mod password;
mod recovery;
pub mod team;
pub mod throttle;
pub mod two_factor;

use crate::db::merchants::{InsertMerchantError, NewMerchant};
use crate::db::Db;
use crate::dto::{MerchantView, PasswordRules};
use crate::entropy::Entropy;

pub use error::AccountError;
pub use recovery::{Origin, AUDIT_KEEP_SECS, RESET_LINK_SECS, VERIFY_LINK_SECS};
pub use team::Member;
pub use throttle::LoginThrottle;

/// An email address as typed (trimmed), with its case-folded form for uniqueness and lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub display: String,
    pub normalized: String,
}

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let display = raw.trim();
        let invalid = || AccountError::invalid("Email: enter an address like name@example.com.");
        if display.is_empty() {
            return Err(AccountError::invalid("Email: this field is required."));
        }
        if display.chars().count() > Self::MAX_LEN {
            return Err(AccountError::invalid(format!(
                "Email: at most {} characters.",
                Self::MAX_LEN
            )));
        }
        let (local, domain) = display.rsplit_once('@').ok_or_else(invalid)?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && display
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control());
        if !ok {
            return Err(invalid());
        }
        Ok(Self {
            display: display.to_string(),
            normalized: display.to_lowercase(),
        })
    }
}

/// The merchant's business name, shown in the dashboard header and to their subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessName(String);

impl BusinessName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(AccountError::invalid(
                "Business name: this field is required.",
            ));
        }
        if name.chars().count() > Self::MAX_LEN {
            return Err(AccountError::invalid(format!(
                "Business name: at most {} characters.",
                Self::MAX_LEN
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(AccountError::invalid(
                "Business name: control characters are not allowed.",
            ));
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that passed [`PasswordRules`]. Never printed.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str, email: &Email) -> Result<Self, AccountError> {
        let report = PasswordRules::check(raw, &email.display);
        match report.first_failure() {
            Some(message) => Err(AccountError::invalid(format!("Password: {message}"))),
            None => Ok(Self(raw.to_string())),
        }
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

pub struct SignUp {
    pub business_name: BusinessName,
    pub email: Email,
    pub password: NewPassword,
}

impl SignUp {
    pub fn parse(business_name: &str, email: &str, password: &str) -> Result<Self, AccountError> {
        let business_name = BusinessName::parse(business_name)?;
        let email = Email::parse(email)?;
        let password = NewPassword::parse(password, &email)?;
        Ok(Self {
            business_name,
            email,
            password,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    pub id: String,
    pub business_name: String,
    pub email: String,
    pub email_verified: bool,
    /// Whether a second factor (TOTP) is asked at login.
    pub two_factor: bool,
}

impl From<crate::db::merchants::MerchantRow> for Merchant {
    fn from(row: crate::db::merchants::MerchantRow) -> Self {
        Self {
            id: row.id,
            business_name: row.business_name,
            email: row.email,
            email_verified: row.email_verified_at.is_some(),
            two_factor: row.totp_secret.is_some(),
        }
    }
}

impl From<Merchant> for MerchantView {
    fn from(m: Merchant) -> Self {
        Self {
            id: m.id,
            business_name: m.business_name,
            email: m.email,
            email_verified: m.email_verified,
            role: crate::dto::team::Role::Owner,
        }
    }
}

/// Creates the merchant account. The single INSERT either lands whole or not at all.
pub async fn sign_up(
    db: &Db,
    entropy: &Entropy,
    input: SignUp,
    now: i64,
) -> Result<Merchant, AccountError> {
    let password_hash = password::hash(input.password.0, entropy).await?;
    let id = entropy.id("mer");
    let new = NewMerchant {
        id: &id,
        business_name: input.business_name.as_str(),
        email: &input.email.display,
        email_normalized: &input.email.normalized,
        password_hash: &password_hash,
        created_at: now,
    };
    match db.insert_merchant(new).await {
        Ok(()) => {
            tracing::info!(merchant = %id, "merchant signed up");
            Ok(Merchant {
                id,
                business_name: input.business_name.0,
                email: input.email.display,
                email_verified: false,
                two_factor: false,
            })
        }
        Err(InsertMerchantError::EmailTaken) => Err(AccountError::EmailTaken),
        Err(InsertMerchantError::Db(e)) => Err(e.into()),
    }
}

/// What a right password leads to.
#[derive(Debug)]
pub enum SignIn {
    /// Logged in.
    Done(Merchant),
    /// Two-factor is on: the code comes next (`Accounts::second_factor`).
    SecondFactor(Merchant),
}

/// Merchant accounts as the edge reaches them (`state.accounts`): sign-up and log-in within
/// their limits, an account by id, and (`recovery`) what the account does by mail: verification,
/// password reset, email change, its sessions and its audit log.
pub struct Accounts {
    db: Db,
    entropy: Entropy,
    throttle: LoginThrottle,
    mailer: std::sync::Arc<crate::mail::Mailer>,
    /// Where the mailed links point (`https://subgate.example.com/`).
    public_url: url::Url,
    two_factor: two_factor::TwoFactorKeys,
    /// This site as the relying party of passkeys (from `public_url`), or why there is none.
    passkeys: passkeys::RelyingParty,
}

impl Accounts {
    pub fn new(
        db: Db,
        entropy: Entropy,
        throttle: LoginThrottle,
        mailer: std::sync::Arc<crate::mail::Mailer>,
        public_url: url::Url,
        secret_key: &crate::crypto::SecretKey,
    ) -> Self {
        Self {
            db,
            entropy,
            throttle,
            mailer,
            passkeys: passkeys::RelyingParty::new(&public_url),
            public_url,
            two_factor: two_factor::TwoFactorKeys::new(secret_key),
        }
    }

    /// Signs up from `origin`, within the per-IP sign-up limit: the place is taken before the
    /// password is hashed, so concurrent sign-ups cannot pass the limit together. The account,
    /// its verification link and the audit line are one transaction; the link is mailed after.
    pub async fn sign_up(
        &self,
        origin: &Origin,
        input: SignUp,
        now: i64,
    ) -> Result<Merchant, AccountError> {
        let db = &self.db;
        let attempt = self.throttle.signup_attempt(db, &origin.ip, now).await?;
        let result = self.sign_up_verified_by_mail(origin, input, now).await;
        match result {
            Err(AccountError::Busy) => attempt.give_back(db).await?,
            _ => attempt.keep(),
        }
        result
    }

    /// Checks an email and password. Unknown email and wrong password take the same time and
    /// give the same answer, and both count against the throttle, whose places are taken before
    /// argon2 runs: N concurrent guesses get at most the limit's worth of answers.
    pub async fn log_in(
        &self,
        origin: &Origin,
        email: &str,
        password: &str,
        now: i64,
    ) -> Result<SignIn, AccountError> {
        let (db, throttle) = (&self.db, &self.throttle);
        let client_ip = origin.ip.as_str();
        let normalized = email.trim().to_lowercase();
        if normalized.chars().count() > Email::MAX_LEN
            || password.chars().count() > PasswordRules::MAX_LEN
        {
            return Err(AccountError::InvalidCredentials);
        }
        let attempt = throttle
            .login_attempt(db, client_ip, &normalized, now)
            .await?;
        let (row, verified) = match check_password(db, &normalized, password).await {
            Ok(checked) => checked,
            Err(e) => {
                // not a guess that was checked: it does not count
                attempt.give_back(db).await?;
                return Err(e);
            }
        };
        match (row, verified) {
            (Some(row), true) if row.totp_secret.is_some() => {
                // the password alone is not a login: its place stays taken until the code
                // comes, so someone with the password cannot clear the limit between guesses
                attempt.keep();
                Ok(SignIn::SecondFactor(row.into()))
            }
            (Some(row), true) => {
                throttle
                    .login_succeeded(db, attempt, client_ip, &normalized)
                    .await?;
                self.audit(origin.entry(
                    &row.id,
                    "account.signed_in",
                    Some(row.email.as_str()),
                    now,
                ))
                .await?;
                tracing::info!(merchant = %row.id, "merchant logged in");
                Ok(SignIn::Done(row.into()))
            }
            (row, _) => {
                attempt.keep();
                if let Some(row) = row {
                    let mut entry = origin.entry(&row.id, "account.sign_in_failed", None, now);
                    entry.target = Some(row.email);
                    self.audit(entry).await?;
                }
                Err(AccountError::InvalidCredentials)
            }
        }
    }

    pub async fn merchant(&self, id: &str) -> Result<Option<Merchant>, AccountError> {
        Ok(self.db.merchant_by_id(id).await?.map(Merchant::from))
    }
}

/// The account with this email, if any, and whether `password` is its password (after the
/// same work for an unknown email).
async fn check_password(
    db: &Db,
    email_normalized: &str,
    password: &str,
) -> Result<(Option<crate::db::merchants::MerchantRow>, bool), AccountError> {
    let row = db.merchant_by_email(email_normalized).await?;
    let verified = match &row {
        Some(row) => password::verify(password.to_string(), row.password_hash.clone()).await?,
        None => {
            password::verify_dummy(password.to_string()).await?;
            false
        }
    };
    Ok((row, verified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_case_folded_for_uniqueness() {
        let e = Email::parse("  Alice@Example.COM ").expect("valid");
        assert_eq!(e.display, "Alice@Example.COM");
        assert_eq!(e.normalized, "alice@example.com");
    }

    #[test]
    fn malformed_emails_are_refused_with_a_message() {
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@.com",
            "a@example..com",
        ] {
            let err = Email::parse(bad).expect_err(bad);
            assert!(err.to_string().starts_with("Email:"), "{bad}: {err}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn business_names_are_bounded() {
        assert!(BusinessName::parse("  ").is_err());
        assert!(BusinessName::parse(&"x".repeat(101)).is_err());
        assert!(BusinessName::parse("Acme\u{0}").is_err());
        assert_eq!(
            BusinessName::parse(" Acme ").expect("valid").as_str(),
            "Acme"
        );
    }

    #[test]
    fn passwords_follow_the_rules() {
        let email = Email::parse("owner@acme.test").expect("valid");
        assert!(NewPassword::parse("short", &email).is_err());
        assert!(NewPassword::parse(&"x".repeat(129), &email).is_err());
        assert!(NewPassword::parse("owner@acme.test!!", &email).is_err());
        assert!(NewPassword::parse("correct horse battery", &email).is_ok());
    }
}
