//! The API's inputs about customers, parsed at the edge: past `parse`, an id is valid.

use std::fmt;

use super::error::PaymentsError;

/// The merchant's own id for one of their users: 1 to 191 characters, no whitespace or
/// control characters, and none of `/ ? # % \` (it travels in URL paths).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubscriberId(String);

impl SubscriberId {
    pub const MAX_LEN: usize = 191;

    pub fn parse(raw: &str) -> Result<Self, PaymentsError> {
        let count = raw.chars().count();
        if count == 0 || count > Self::MAX_LEN {
            return Err(PaymentsError::invalid(format!(
                "subscriber_id: 1 to {} characters.",
                Self::MAX_LEN
            )));
        }
        if raw
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "/?#%\\".contains(c))
        {
            return Err(PaymentsError::invalid(
                "subscriber_id: no spaces, control characters or any of / ? # % \\.",
            ));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SubscriberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A customer id on the payment gateway: `cus_` and letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomerId(String);

impl CustomerId {
    pub fn parse(raw: &str) -> Result<Self, PaymentsError> {
        let rest = raw.strip_prefix("cus_").unwrap_or_default();
        if rest.is_empty() || raw.len() > 255 || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(PaymentsError::invalid(
                "customer_id: a Stripe customer id such as cus_NffrFeUfNV2Hib.",
            ));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An optional contact email: trimmed, at most 254 characters, one `@` with text on both sides.
pub fn parse_email(raw: Option<&str>) -> Result<Option<String>, PaymentsError> {
    let Some(raw) = raw.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let valid = raw.len() <= 254
        && raw.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        })
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(Some(raw.to_string()))
    } else {
        Err(PaymentsError::invalid("email: a valid email address."))
    }
}

/// Where the gateway's customer portal sends the customer back: an absolute https URL (http
/// only on a loopback host, for development), at most 2000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnUrl(String);

impl ReturnUrl {
    pub fn parse(raw: &str) -> Result<Self, PaymentsError> {
        let bad = || {
            PaymentsError::invalid(
                "return_url: an absolute https URL (http only for localhost), at most 2000 characters.",
            )
        };
        if raw.len() > 2000 {
            return Err(bad());
        }
        let url = url::Url::parse(raw).map_err(|_| bad())?;
        let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        let ok = match url.scheme() {
            "https" => url.host_str().is_some(),
            "http" => loopback,
            _ => false,
        };
        if !ok || !url.username().is_empty() || url.password().is_some() {
            return Err(bad());
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriber_ids_travel_safely_in_paths() {
        for ok in ["42", "user@example.com", "a.b-c_d+e", "Zoë"] {
            assert!(SubscriberId::parse(ok).is_ok(), "{ok}");
        }
        let long = "x".repeat(192);
        for bad in [
            "",
            "a b",
            "a/b",
            "a?b",
            "a#b",
            "50%",
            "a\\b",
            "tab\t",
            long.as_str(),
        ] {
            assert!(SubscriberId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn customer_ids_are_stripe_shaped() {
        assert!(CustomerId::parse("cus_NffrFeUfNV2Hib").is_ok());
        for bad in ["", "cus_", "cus_a-b", "sub_123", "cus_../x"] {
            assert!(CustomerId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn return_urls_are_https_or_loopback() {
        assert!(ReturnUrl::parse("https://shop.example/account").is_ok());
        assert!(ReturnUrl::parse("http://localhost:8080/back").is_ok());
        for bad in [
            "http://shop.example/",
            "javascript:alert(1)",
            "/relative",
            "https://u:p@x.example/",
        ] {
            assert!(ReturnUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_optional_but_sane() {
        assert_eq!(parse_email(None).expect("ok"), None);
        assert_eq!(parse_email(Some("  ")).expect("ok"), None);
        assert_eq!(
            parse_email(Some(" ada@example.com "))
                .expect("ok")
                .as_deref(),
            Some("ada@example.com")
        );
        assert!(parse_email(Some("not-an-email")).is_err());
    }
}
