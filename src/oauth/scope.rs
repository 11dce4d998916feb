//! Scopes: the fixed vocabulary, and parsing of space-separated scope strings (RFC 6749 §3.3).

use std::collections::BTreeSet;

use super::OAuthError;

pub const ALL: [&str; 4] = [
    "customers:read",
    "customers:write",
    "subscriptions:read",
    "portal:write",
];

/// A set of known scopes, printed space-separated in a stable order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(BTreeSet<&'static str>);

impl Scopes {
    pub fn all() -> Self {
        Self(ALL.into_iter().collect())
    }

    /// Parses a space-separated list; unknown scopes are an error.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut set = BTreeSet::new();
        for s in raw.split(' ').filter(|s| !s.is_empty()) {
            let known = ALL
                .iter()
                .find(|k| **k == s)
                .ok_or_else(|| format!("unknown scope \"{}\"", s.escape_default()))?;
            set.insert(*known);
        }
        Ok(Self(set))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes in both sets.
    pub fn intersection(&self, other: &Scopes) -> Scopes {
        Self(self.0.intersection(&other.0).copied().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }

    /// What a token gets: the requested scopes, which must all be allowed; none requested means
    /// everything the client is allowed.
    pub fn grant(requested: Option<&str>, allowed: &Scopes) -> Result<Scopes, OAuthError> {
        let requested = match requested.map(str::trim).filter(|s| !s.is_empty()) {
            None => return Ok(allowed.clone()),
            Some(raw) => Scopes::parse(raw).map_err(OAuthError::InvalidScope)?,
        };
        if !requested.is_subset(allowed) {
            return Err(OAuthError::InvalidScope(
                "The client is not allowed one of the requested scopes.".into(),
            ));
        }
        Ok(requested)
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v: Vec<&str> = self.0.iter().copied().collect();
        f.write_str(&v.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_requested_means_all_allowed() {
        let allowed = Scopes::parse("customers:read portal:write").expect("valid");
        assert_eq!(Scopes::grant(None, &allowed).expect("ok"), allowed);
        assert_eq!(Scopes::grant(Some("  "), &allowed).expect("ok"), allowed);
    }

    #[test]
    fn escalation_and_unknown_scopes_are_invalid_scope() {
        let allowed = Scopes::parse("customers:read").expect("valid");
        assert!(matches!(
            Scopes::grant(Some("customers:write"), &allowed),
            Err(OAuthError::InvalidScope(_))
        ));
        assert!(matches!(
            Scopes::grant(Some("admin"), &allowed),
            Err(OAuthError::InvalidScope(_))
        ));
        assert_eq!(
            Scopes::grant(Some("customers:read"), &allowed)
                .expect("ok")
                .to_string(),
            "customers:read"
        );
    }
}
