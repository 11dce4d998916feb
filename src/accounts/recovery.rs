//! What an account does through its mailbox and its own settings: the address verified at
//! sign-up, a forgotten password reset, the password and the address changed, the account's
//! sessions listed and ended, and the audit log that records each of these.
//!
//! Every mailed link carries a 256-bit token of which only the SHA-256 is stored; using it is one
//! conditional UPDATE, so it works once, however many requests race with it, and not after it
//! expires. See `docs/security.md`.

use super::{password, AccountError, Accounts, Email, Merchant, NewPassword, SignUp};
use crate::crypto::sha256_hex;
use crate::db::account::{AuditEntry, AuditRow, NewToken, SessionRow, TokenPurpose};
use crate::db::merchants::NewMerchant;
use crate::dto::PasswordRules;
use crate::mail::Mail;

/// A password-reset link works for 30 minutes.
pub const RESET_LINK_SECS: i64 = 30 * 60;
/// A verification link (and an email-change link) works for a day.
pub const VERIFY_LINK_SECS: i64 = 24 * 3600;
/// The audit log keeps a year.
pub const AUDIT_KEEP_SECS: i64 = 365 * 86_400;
/// Mails of one kind an account is sent per hour at most (more requests are answered the same
/// way but send nothing: an inbox cannot be flooded through subgate).
const MAILS_PER_ACCOUNT_PER_HOUR: i64 = 5;

/// Where a request came from, as the audit log and the session list record it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: String,
    /// At most 300 characters.
    pub user_agent: String,
}

impl From<crate::sso::Caller> for Origin {
    fn from(caller: crate::sso::Caller) -> Self {
        Self {
            ip: caller.ip.to_string(),
            user_agent: caller.user_agent.chars().take(300).collect(),
        }
    }
}

impl Origin {
    /// An audit line for `action` on `merchant_id`, done by `actor` (None: someone not logged in).
    pub fn entry(
        &self,
        merchant_id: &str,
        action: &'static str,
        actor: Option<&str>,
        at: i64,
    ) -> AuditEntry {
        AuditEntry {
            merchant_id: merchant_id.to_string(),
            action,
            actor: actor.map(String::from),
            role: None,
            target: None,
            ip: Some(self.ip.clone()),
            user_agent: Some(self.user_agent.clone()),
            at,
        }
    }
}

/// A fresh token and the hash that is stored for it.
struct Minted {
    token: String,
    hash: String,
}

impl Accounts {
    fn mint(&self) -> Minted {
        let token = self.entropy.token(32);
        let hash = sha256_hex(token.as_bytes());
        Minted { token, hash }
    }

    /// This server's address, ending with `/`.
    fn base(&self) -> String {
        format!("{}/", self.public_url.as_str().trim_end_matches('/'))
    }

    pub(super) fn link(&self, path: &str, token: &str) -> String {
        format!("{}{path}?token={token}", self.base())
    }

    /// A fresh audit line id that sorts by when it was made (microseconds of the system clock,
    /// then randomness): the log lists lines of the same second in the order they happened.
    pub(super) fn audit_id(&self) -> String {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or_default();
        format!("aud_{micros:014x}{}", self.entropy.token(9))
    }

    /// `entry` with a fresh id, for an action elsewhere (an OAuth client, SSO, the Stripe
    /// connection) to write in its own transaction.
    pub fn audited(&self, entry: AuditEntry) -> crate::db::account::Audit {
        crate::db::account::Audit {
            id: self.audit_id(),
            entry,
        }
    }

    /// An audit line on its own: a sign-in, or an action whose only write is its audit line
    /// (revealing the SSO secret).
    pub async fn audit(&self, entry: AuditEntry) -> Result<(), AccountError> {
        Ok(self.db.audit(&self.audit_id(), &entry).await?)
    }

    /// The password given again, for actions that need a fresh login.
    pub async fn reauthenticate(
        &self,
        merchant: &Merchant,
        password: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<(), AccountError> {
        self.confirm_password(merchant, origin, password, now)
            .await?;
        self.audit(origin.entry(
            &merchant.id,
            "account.reauthenticated",
            Some(merchant.email.as_str()),
            now,
        ))
        .await
    }

    fn verification_mail(&self, to: &str, business: &str, token: &str) -> Mail {
        Mail {
            to: to.to_string(),
            subject: "Verify your email address for subgate".into(),
            text: format!(
                "Hello {business},\n\nConfirm that this is your address by opening this link \
                 (it works once, for 24 hours):\n\n{}\n\nUntil then you can use the dashboard, \
                 but not connect Stripe or turn on SSO.\n\nIf you did not sign up for subgate, \
                 ignore this mail.\n",
                self.link("verify-email", token)
            ),
        }
    }

    pub(super) async fn sign_up_verified_by_mail(
        &self,
        origin: &Origin,
        input: SignUp,
        now: i64,
    ) -> Result<Merchant, AccountError> {
        let password_hash = password::hash(input.password.0, &self.entropy).await?;
        let id = self.entropy.id("mer");
        let minted = self.mint();
        let email = input.email.display;
        self.db
            .sign_up(
                NewMerchant {
                    id: &id,
                    business_name: input.business_name.as_str(),
                    email: &email,
                    email_normalized: &input.email.normalized,
                    password_hash: &password_hash,
                    created_at: now,
                },
                NewToken {
                    hash: &minted.hash,
                    merchant_id: &id,
                    purpose: TokenPurpose::Verify,
                    email: None,
                    created_at: now,
                    expires_at: now + VERIFY_LINK_SECS,
                },
                &self.audit_id(),
                &origin.entry(&id, "account.signed_up", Some(email.as_str()), now),
            )
            .await?;
        tracing::info!(merchant = %id, "merchant signed up");
        self.mailer.send_later(self.verification_mail(
            &email,
            input.business_name.as_str(),
            &minted.token,
        ));
        Ok(Merchant {
            id,
            business_name: input.business_name.as_str().to_string(),
            email,
            email_verified: false,
            two_factor: false,
        })
    }

    /// Sends a new verification link to a logged-in account whose address is not verified.
    pub async fn resend_verification(
        &self,
        merchant: &Merchant,
        now: i64,
    ) -> Result<(), AccountError> {
        if merchant.email_verified {
            return Err(AccountError::invalid("Your address is already verified."));
        }
        self.throttle
            .account_mail(
                &self.db,
                &merchant.id,
                "verify",
                MAILS_PER_ACCOUNT_PER_HOUR,
                now,
            )
            .await?;
        let minted = self.mint();
        self.db
            .issue_account_token(
                NewToken {
                    hash: &minted.hash,
                    merchant_id: &merchant.id,
                    purpose: TokenPurpose::Verify,
                    email: None,
                    created_at: now,
                    expires_at: now + VERIFY_LINK_SECS,
                },
                None,
            )
            .await?;
        self.mailer.send_later(self.verification_mail(
            &merchant.email,
            &merchant.business_name,
            &minted.token,
        ));
        Ok(())
    }

    /// Uses a verification link: answers the account it verified.
    pub async fn verify_email(
        &self,
        token: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<String, AccountError> {
        let entry = origin.entry("", "account.email_verified", None, now);
        Ok(self
            .db
            .verify_email(&sha256_hex(token.as_bytes()), now, &self.audit_id(), entry)
            .await?)
    }

    /// Asks for a password-reset link. The answer is the same whether or not an account has this
    /// address, and takes the same time: the lookup is the same query either way, and the link
    /// is made and mailed in the background. Limited per IP (answered with a wait) and per
    /// account (silently: saying so would tell that the account exists).
    pub async fn request_password_reset(
        self: &std::sync::Arc<Self>,
        origin: &Origin,
        email: &str,
        now: i64,
    ) -> Result<(), AccountError> {
        let normalized = email.trim().to_lowercase();
        if normalized.is_empty() || normalized.chars().count() > Email::MAX_LEN {
            return Err(AccountError::invalid(
                "Email: enter the address you signed up with.",
            ));
        }
        self.throttle
            .mail_request(&self.db, &origin.ip, now)
            .await?;
        let Some(row) = self.db.merchant_by_email(&normalized).await? else {
            return Ok(());
        };
        let accounts = std::sync::Arc::clone(self);
        tokio::spawn(async move {
            if let Err(e) = accounts.mail_reset_link(row, now).await {
                tracing::error!(error = %e, "password reset link not sent");
            }
        });
        Ok(())
    }

    async fn mail_reset_link(
        &self,
        row: crate::db::merchants::MerchantRow,
        now: i64,
    ) -> Result<(), AccountError> {
        let limited = self
            .throttle
            .account_mail(&self.db, &row.id, "reset", MAILS_PER_ACCOUNT_PER_HOUR, now)
            .await;
        if let Err(AccountError::Throttled(_)) = limited {
            tracing::warn!(merchant = %row.id, "password reset: hourly mail limit reached, none sent");
            return Ok(());
        }
        limited?;
        let minted = self.mint();
        self.db
            .issue_account_token(
                NewToken {
                    hash: &minted.hash,
                    merchant_id: &row.id,
                    purpose: TokenPurpose::Reset,
                    email: None,
                    created_at: now,
                    expires_at: now + RESET_LINK_SECS,
                },
                None,
            )
            .await?;
        self.mailer.send_later(Mail {
            to: row.email,
            subject: "Reset your subgate password".into(),
            text: format!(
                "Someone (we hope you) asked to reset the password of the subgate account of \
                 {}.\n\nChoose a new password here (the link works once, for 30 minutes):\n\n{}\n\n\
                 Resetting logs every session of the account out. If you did not ask, ignore \
                 this mail: your password stays as it is.\n",
                row.business_name,
                self.link("reset-password", &minted.token)
            ),
        });
        Ok(())
    }

    /// Whether a reset link can still be used (the page asks before it shows the form).
    pub async fn reset_link_is_usable(&self, token: &str, now: i64) -> Result<bool, AccountError> {
        Ok(self
            .db
            .peek_account_token(&sha256_hex(token.as_bytes()), TokenPurpose::Reset, now)
            .await?
            .is_some())
    }

    /// Uses a reset link: the new password, every session of the account ended, every other
    /// reset link of the account dead. Answers the account.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<Merchant, AccountError> {
        let hash = sha256_hex(token.as_bytes());
        let merchant_id = self
            .db
            .peek_account_token(&hash, TokenPurpose::Reset, now)
            .await?
            .ok_or(AccountError::LinkInvalid)?;
        let row = self
            .db
            .merchant_by_id(&merchant_id)
            .await?
            .ok_or(AccountError::LinkInvalid)?;
        let email = Email::parse(&row.email)?;
        let password = NewPassword::parse(new_password, &email)?;
        // one use gets the link, before the hash: concurrent uses are refused without hashing
        let claimed = self
            .db
            .claim_account_token(&hash, TokenPurpose::Reset, now)
            .await?;
        if claimed != row.id {
            return Err(AccountError::LinkInvalid);
        }
        let password_hash = match password::hash(password.0, &self.entropy).await {
            Ok(h) => h,
            Err(e) => {
                self.db.release_account_token(&hash, now).await?;
                return Err(e);
            }
        };
        let entry = origin.entry(&row.id, "account.password_reset", None, now);
        self.db
            .reset_password(&row.id, now, &password_hash, &self.audit_id(), &entry)
            .await?;
        tracing::info!(merchant = %row.id, "password reset by mailed link");
        self.mailer.send_later(Mail {
            to: row.email.clone(),
            subject: "Your subgate password was changed".into(),
            text: format!(
                "The password of the subgate account of {} was reset, and every session of \
                 the account was logged out.\n\nIf this was not you, reset it again at once \
                 ({}forgot-password) and look at the audit log (Account tab).\n",
                row.business_name,
                self.base()
            ),
        });
        Ok(row.into())
    }

    /// The current password checked again before a sensitive change, within the login limits.
    pub(super) async fn confirm_password(
        &self,
        merchant: &Merchant,
        origin: &Origin,
        current: &str,
        now: i64,
    ) -> Result<crate::db::merchants::MerchantRow, AccountError> {
        if current.chars().count() > PasswordRules::MAX_LEN {
            return Err(AccountError::WrongPassword);
        }
        let normalized = merchant.email.to_lowercase();
        let attempt = self
            .throttle
            .login_attempt(&self.db, &origin.ip, &normalized, now)
            .await?;
        let row = self
            .db
            .merchant_by_id(&merchant.id)
            .await?
            .ok_or(AccountError::InvalidCredentials)?;
        match password::verify(current.to_string(), row.password_hash.clone()).await {
            Ok(true) => {
                self.throttle
                    .login_succeeded(&self.db, attempt, &origin.ip, &normalized)
                    .await?;
                Ok(row)
            }
            Ok(false) => {
                attempt.keep();
                Err(AccountError::WrongPassword)
            }
            Err(e) => {
                attempt.give_back(&self.db).await?;
                Err(e)
            }
        }
    }

    /// A new password, with the current one: every other session of the account ends.
    pub async fn change_password(
        &self,
        merchant: &Merchant,
        this_session: Option<&str>,
        current: &str,
        new_password: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<(), AccountError> {
        let row = self
            .confirm_password(merchant, origin, current, now)
            .await?;
        let email = Email::parse(&row.email)?;
        let password = NewPassword::parse(new_password, &email)?;
        let password_hash = password::hash(password.0, &self.entropy).await?;
        self.db
            .change_password(
                &merchant.id,
                &password_hash,
                this_session,
                &self.audit_id(),
                &origin.entry(
                    &merchant.id,
                    "account.password_changed",
                    Some(merchant.email.as_str()),
                    now,
                ),
            )
            .await?;
        self.mailer.send_later(Mail {
            to: row.email,
            subject: "Your subgate password was changed".into(),
            text: format!(
                "The password of the subgate account of {} was changed from the dashboard, \
                 and the account's other sessions were logged out.\n\nIf this was not you, \
                 reset it at once: {}forgot-password\n",
                row.business_name,
                self.base()
            ),
        });
        Ok(())
    }

    /// Starts moving the account to `new_email`: a link to the new address confirms it, and the
    /// old address is told. Nothing changes until the link is used.
    pub async fn request_email_change(
        &self,
        merchant: &Merchant,
        current_password: &str,
        new_email: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<(), AccountError> {
        let new = Email::parse(new_email)?;
        if new.normalized == merchant.email.to_lowercase() {
            return Err(AccountError::invalid(
                "Email: that is already your address.",
            ));
        }
        self.confirm_password(merchant, origin, current_password, now)
            .await?;
        self.throttle
            .account_mail(
                &self.db,
                &merchant.id,
                "email",
                MAILS_PER_ACCOUNT_PER_HOUR,
                now,
            )
            .await?;
        let minted = self.mint();
        let mut entry = origin.entry(
            &merchant.id,
            "account.email_change_requested",
            Some(merchant.email.as_str()),
            now,
        );
        entry.target = Some(new.display.clone());
        self.db
            .issue_account_token(
                NewToken {
                    hash: &minted.hash,
                    merchant_id: &merchant.id,
                    purpose: TokenPurpose::ChangeEmail,
                    email: Some(new.display.as_str()),
                    created_at: now,
                    expires_at: now + VERIFY_LINK_SECS,
                },
                Some((&self.audit_id(), &entry)),
            )
            .await?;
        self.mailer.send_later(Mail {
            to: new.display.clone(),
            subject: "Confirm your new address for subgate".into(),
            text: format!(
                "The subgate account of {} asked to use this address from now on.\n\nConfirm \
                 it here (the link works once, for 24 hours):\n\n{}\n",
                merchant.business_name,
                self.link("confirm-email", &minted.token)
            ),
        });
        self.mailer.send_later(Mail {
            to: merchant.email.clone(),
            subject: "Your subgate address is about to change".into(),
            text: format!(
                "Someone logged in to the subgate account of {} asked to move it to {}. It \
                 moves only when the link sent there is opened.\n\nIf this was not you, change \
                 your password now and look at the account's sessions and audit log.\n",
                merchant.business_name, new.display
            ),
        });
        Ok(())
    }

    /// Uses an email-change link: the account now signs in with the new address.
    pub async fn confirm_email_change(
        &self,
        token: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<String, AccountError> {
        let entry = origin.entry("", "account.email_changed", None, now);
        let (id, old, new) = self
            .db
            .change_email(&sha256_hex(token.as_bytes()), now, &self.audit_id(), entry)
            .await?;
        self.mailer.send_later(Mail {
            to: old,
            subject: "Your subgate address was changed".into(),
            text: format!(
                "The subgate account that used this address now uses {new}.\n\nIf this was \
                 not you, write to your subgate operator at once.\n"
            ),
        });
        Ok(id)
    }

    /// The account's live sessions, most recently used first.
    pub async fn sessions(
        &self,
        merchant_id: &str,
        now: i64,
    ) -> Result<Vec<SessionRow>, AccountError> {
        Ok(self.db.account_sessions(merchant_id, now).await?)
    }

    /// Ends one of the account's sessions (by its handle), or all but `keep` (`handle` None).
    pub async fn end_sessions(
        &self,
        merchant: &Merchant,
        handle: Option<&str>,
        keep: Option<&str>,
        origin: &Origin,
        now: i64,
    ) -> Result<u64, AccountError> {
        let action = if handle.is_some() {
            "session.ended"
        } else {
            "session.others_ended"
        };
        let mut entry = origin.entry(&merchant.id, action, Some(merchant.email.as_str()), now);
        entry.target = handle.map(String::from);
        Ok(self
            .db
            .end_sessions(&merchant.id, handle, keep, &self.audit_id(), &entry)
            .await?)
    }

    /// The account's audit log, newest first.
    pub async fn audit_log(
        &self,
        merchant_id: &str,
        action_prefix: &str,
        before: i64,
        limit: i64,
    ) -> Result<Vec<AuditRow>, AccountError> {
        Ok(self
            .db
            .audit_log(merchant_id, action_prefix, before, limit)
            .await?)
    }

    /// Refused with [`AccountError::Unverified`] until the account's address is verified.
    pub fn require_verified(merchant: &Merchant) -> Result<(), AccountError> {
        if merchant.email_verified {
            Ok(())
        } else {
            Err(AccountError::Unverified)
        }
    }
}
