//! What merchant accounts can fail with, in the domain's own words. The edge maps it to the wire
//! error once (`crate::error`): no status codes or browser concerns here.

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Input that does not parse; the message names the field and the rule.
    #[error("{0}")]
    Invalid(String),
    #[error("An account with this email already exists. Log in instead.")]
    EmailTaken,
    /// Deliberately vague: a failed login never says which half was wrong.
    #[error("Invalid email or password.")]
    InvalidCredentials,
    /// Too many attempts from here: the seconds until the window ends.
    #[error("Too many attempts. Try again in {0} s.")]
    Throttled(u64),
    /// Every password-hashing slot is taken (they are bounded, each costs 19 MiB): the attempt
    /// did no work and may be tried again in a moment.
    #[error("password hashing is saturated")]
    Busy,
    /// The blocking password task failed (logged where it happened).
    #[error("the password task failed")]
    Hashing,
    /// A mailed link that is unknown, used or expired: which of these is not said.
    #[error("This link is invalid, has been used or has expired. Ask for a new one.")]
    LinkInvalid,
    /// The current password, asked again before a sensitive change, was wrong.
    #[error("Current password: that is not your password.")]
    WrongPassword,
    /// A second factor that is not the app's current code nor an unused recovery code.
    #[error("Two-factor code: that code is not valid, or it was already used.")]
    WrongCode,
    /// The account's address is not verified yet, and the action needs it.
    #[error("Verify your email address first: follow the link we sent you (Account → resend it).")]
    Unverified,
    /// A team rule or the member's role refuses the action; the message says which.
    #[error("{0}")]
    Forbidden(String),
    /// The action collides with what is already there (a member invited twice).
    #[error("{0}")]
    Conflict(String),
    /// No such member or invitation in this business.
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<crate::db::team::TeamDbError> for AccountError {
    fn from(e: crate::db::team::TeamDbError) -> Self {
        use crate::db::team::{TeamDbError, MAX_OPEN_INVITATIONS};
        match e {
            TeamDbError::AlreadyMember => {
                Self::Conflict("Email: that address is already a member of this business.".into())
            }
            TeamDbError::TooManyInvitations => Self::Conflict(format!(
                "This business has {MAX_OPEN_INVITATIONS} open invitations: revoke some first."
            )),
            TeamDbError::NotFound => Self::NotFound(
                "No such member or invitation here (it may have just changed): reload the page."
                    .into(),
            ),
            TeamDbError::InvitationInvalid => Self::LinkInvalid,
            TeamDbError::WrongAccount => Self::Forbidden(
                "This invitation was sent to another address: log in with the account of that address to accept it."
                    .into(),
            ),
            TeamDbError::Refused(why) => Self::Forbidden(why.into()),
            TeamDbError::Db(e) => Self::Database(e),
        }
    }
}

impl From<crate::db::passkeys::PasskeyDbError> for AccountError {
    fn from(e: crate::db::passkeys::PasskeyDbError) -> Self {
        use crate::accounts::passkeys::MAX_PER_ACCOUNT;
        use crate::db::passkeys::PasskeyDbError;
        match e {
            PasskeyDbError::TooMany => Self::Conflict(format!(
                "This account has {MAX_PER_ACCOUNT} passkeys: remove one first."
            )),
            PasskeyDbError::Duplicate => {
                Self::Conflict("This passkey is registered already.".into())
            }
            PasskeyDbError::Db(e) => Self::Database(e),
        }
    }
}

impl From<crate::db::account::AccountDbError> for AccountError {
    fn from(e: crate::db::account::AccountDbError) -> Self {
        use crate::db::account::AccountDbError;
        match e {
            AccountDbError::EmailTaken => Self::EmailTaken,
            AccountDbError::TokenInvalid => Self::LinkInvalid,
            AccountDbError::Db(e) => Self::Database(e),
        }
    }
}

impl AccountError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
}
