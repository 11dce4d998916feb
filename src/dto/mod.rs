//! Wire types shared by the pages, the server functions and (later) the JSON API, plus the rules
//! that both the browser (live feedback) and the server (enforcement) evaluate.

use serde::{Deserialize, Serialize};

pub mod account;
pub mod explorer;
pub mod markdown;
pub mod overview;
pub mod payments;
pub mod sso;
pub mod team;
pub mod url;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantView {
    pub id: String,
    pub business_name: String,
    pub email: String,
    /// Whether the address was proven by the mailed link (Stripe and SSO wait for it).
    #[serde(default)]
    pub email_verified: bool,
    /// The logged-in account's role in the business the dashboard shows.
    #[serde(default = "owner")]
    pub role: team::Role,
}

fn owner() -> team::Role {
    team::Role::Owner
}

/// The password rules, evaluated the same way in the sign-up form (as the person types, once
/// the page has hydrated) and on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordRules {
    pub long_enough: bool,
    pub short_enough: bool,
    pub not_the_email: bool,
}

impl PasswordRules {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 128;

    pub fn check(password: &str, email: &str) -> Self {
        let len = password.chars().count();
        let email = email.trim().to_lowercase();
        Self {
            long_enough: len >= Self::MIN_LEN,
            short_enough: len <= Self::MAX_LEN,
            not_the_email: email.is_empty() || !password.to_lowercase().contains(&email),
        }
    }

    /// Each rule with its sentence and whether it holds, in display order.
    pub fn items(&self) -> [(&'static str, &'static str, bool); 3] {
        [
            ("length-min", "At least 12 characters", self.long_enough),
            ("length-max", "At most 128 characters", self.short_enough),
            (
                "not-email",
                "Does not contain your email address",
                self.not_the_email,
            ),
        ]
    }

    pub fn first_failure(&self) -> Option<&'static str> {
        self.items()
            .into_iter()
            .find(|(_, _, ok)| !ok)
            .map(|(_, text, _)| text)
    }
}

/// An OAuth client as the OAuth tab shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientView {
    pub id: String,
    pub name: String,
    pub client_type: String,
    pub redirect_uris: Vec<String>,
    pub scopes: String,
    pub audiences: Vec<String>,
    /// Seconds an access token lives.
    pub access_token_ttl: i64,
    /// Origins whose pages may call the token endpoint and the API (CORS).
    pub allowed_origins: Vec<String>,
    pub created_at: i64,
    /// Until when the secret replaced last still works (a rotation with overlap).
    pub previous_secret_until: Option<i64>,
}

/// The OAuth tab's register and edit forms as the merchant typed them: `redirect_uris`,
/// `audiences` and `allowed_origins` one per line, `scopes` space-separated, `access_token_ttl`
/// in seconds (empty or absent: the default); the last two are absent from older forms and
/// scripts. The server functions take it flattened, so the form posts each field by its name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientForm {
    pub name: String,
    pub client_type: String,
    pub redirect_uris: String,
    pub scopes: String,
    pub audiences: String,
    pub access_token_ttl: Option<String>,
    pub allowed_origins: Option<String>,
}

/// A client just registered (or re-keyed): the secret appears here once and never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedClient {
    pub client: ClientView,
    pub secret: Option<String>,
}

/// The server's real URLs, for the snippets and the PKCE playground.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthEndpoints {
    pub issuer: String,
    pub authorize_url: String,
    pub token_url: String,
    pub api_audience: String,
    /// Every audience the API answers to (clients may be given only these).
    pub api_audiences: Vec<String>,
    pub playground_redirect_uri: String,
}
