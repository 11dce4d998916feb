//! The Account tab's data: the address, the live sessions and the audit log.

use serde::{Deserialize, Serialize};

use super::MerchantView;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub merchant: MerchantView,
    pub sessions: Vec<SessionView>,
    pub audit: Vec<AuditView>,
    /// The action filter the log was read with ("" for every action).
    pub action_filter: String,
    pub two_factor: TwoFactorView,
    pub passkeys: PasskeysView,
}

/// The account's passkeys, and where they work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeysView {
    /// The origin passkeys are bound to (`https://subgate.example.com`), or why there are none.
    pub origin: Result<String, String>,
    pub list: Vec<PasskeyView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorView {
    pub on: bool,
    pub recovery_codes_left: i64,
    /// A setup in progress: what to scan or type into the app.
    pub setup: Option<TotpSetupView>,
    /// The recovery codes just made: shown this once.
    pub fresh_codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetupView {
    /// Base32, to type into the app.
    pub secret: String,
    /// `otpauth://…`
    pub url: String,
    /// The QR code as a `data:image/svg+xml;base64,…` address.
    pub qr: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Names the session (never its secret id).
    pub handle: String,
    pub ip: String,
    pub user_agent: String,
    pub created_at: Option<i64>,
    pub last_seen: Option<i64>,
    /// The session this page was opened in.
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub at: i64,
    pub action: String,
    pub actor: Option<String>,
    /// The actor's role in the business, for actions done in it.
    #[serde(default)]
    pub role: Option<String>,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The audit log's filters: (prefix of the action, label).
pub const AUDIT_FILTERS: [(&str, &str); 7] = [
    ("", "Everything"),
    ("member.", "Team members"),
    ("account.", "Sign-in, password, email, two-factor"),
    ("session.", "Sessions ended"),
    ("client.", "OAuth clients"),
    ("sso.", "SSO"),
    ("stripe.", "Stripe connection"),
];

/// What a sensitive action says when the login is older than five minutes.
pub const CONFIRM_IDENTITY_FIRST: &str = "For your security, confirm your password first: Account tab → Confirm it is you (it counts for 5 minutes).";

/// The tab's address.
pub const ACCOUNT_TAB: &str = "/dashboard/account";
