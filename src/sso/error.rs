//! What the SSO settings and links can fail with, in the domain's own words; the edge maps it
//! to the wire error once (`crate::error`). The login call has its own [`super::LoginError`].

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// Input that does not parse; the message names the field and the rule.
    #[error("{0}")]
    Invalid(String),
    /// Rotating the secret or changing options needs single sign-on turned on.
    #[error("Turn single sign-on on first.")]
    Off,
    /// Another request changed the settings between our read and our write.
    #[error(
        "The SSO settings were changed at the same time elsewhere. Reload the page and try again."
    )]
    ChangedElsewhere,
    /// A sealed secret does not open (logged where it was found: the root key changed?).
    #[error("an SSO secret does not open")]
    Corrupt,
    /// No free store slug after several tries (logged where it happened).
    #[error("no free store slug")]
    NoStoreSlug,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
