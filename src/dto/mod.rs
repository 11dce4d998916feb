//! Wire types shared by the pages, the server functions and (later) the JSON API, plus the rules
//! that both the browser (live feedback) and the server (enforcement) evaluate.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantView {
    pub id: String,
    pub business_name: String,
    pub email: String,
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
