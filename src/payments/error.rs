//! What payments can fail with, in the domain's own words. The edge maps it to the wire error
//! once (`crate::error`), and words there what a merchant should do about each.

use super::gateway::GatewayError;

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    /// Input that does not parse; the message names the field and the rule.
    #[error("{0}")]
    Invalid(String),
    /// No working connection to the gateway; `revoked`: there was one, its access was revoked.
    #[error("no active {gateway} connection")]
    NotConnected {
        gateway: &'static str,
        revoked: bool,
    },
    /// The message names what was looked for, e.g. `No customer with subscriber id "42".`.
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts what is stored, e.g. a customer linked to another subscriber.
    #[error("{0}")]
    Conflict(String),
    /// The gateway (named by its display name) refused or failed.
    #[error("{gateway}: {error}")]
    Gateway {
        gateway: &'static str,
        error: GatewayError,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl PaymentsError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
}
