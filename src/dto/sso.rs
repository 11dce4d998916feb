//! Wire types of the SSO tab, the subscriber portal, and the SSO login endpoint.

use serde::{Deserialize, Serialize};

use super::payments::SubscriptionView;

/// The SSO tab: the switch, the store's login endpoint, the secrets' metadata (never the secrets
/// themselves: those come from `reveal_sso_secrets` on request), the settings and the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoView {
    pub enabled: bool,
    pub store: Option<String>,
    /// `https://…/api/v1/stores/{store}/subscribers/{subscriber_id}/login`, with the store filled in.
    pub endpoint_template: Option<String>,
    pub current: Option<SecretMeta>,
    pub previous: Option<SecretMeta>,
    pub link_ttl_secs: i64,
    pub max_link_ttl_secs: i64,
    pub bind_ip: bool,
    pub require_signed_timestamps: bool,
    pub logins: Vec<SsoLoginView>,
    /// The viewer's role in the business: the secret's controls (turn on, reveal, rotate, turn
    /// off) are for admins and owners, and only shown to them.
    #[serde(default = "owner")]
    pub your_role: crate::dto::team::Role,
}

fn owner() -> crate::dto::team::Role {
    crate::dto::team::Role::Owner
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretMeta {
    pub generation: i64,
    pub created_at: Option<i64>,
    /// For the previous secret: when it stops verifying.
    pub expires_at: Option<i64>,
}

/// The secrets in the clear, for the logged-in merchant's own tab only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealedSecrets {
    pub current: String,
    pub previous: Option<String>,
}

/// The hash tester's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashTest {
    pub subscriber_id: String,
    pub customer_hash: String,
    pub curl: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoLoginView {
    pub subscriber_id: String,
    pub at: i64,
    pub ip: String,
    pub user_agent: String,
    pub outcome: String,
}

/// The subscriber's portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalView {
    pub business_name: String,
    pub subscriber_id: String,
    pub email: Option<String>,
    pub branding: PortalBranding,
    pub subscriptions: Vec<SubscriptionView>,
    /// Why subscriptions cannot be shown right now (e.g. the merchant's Stripe is disconnected).
    pub unavailable: Option<String>,
}

/// `POST /api/v1/stores/{store}/subscribers/{subscriber_id}/login`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SsoLoginRequest {
    /// Lowercase or uppercase hex of HMAC-SHA256 with the store's SSO secret as the key, over
    /// the subscriber id, or over `"subgate-sso-v2/{subscriber_id}/{timestamp}/{nonce}"` with signed timestamps.
    #[cfg_attr(
        feature = "ssr",
        schema(
            min_length = 64,
            max_length = 64,
            pattern = "^[0-9A-Fa-f]{64}$",
            example = "6b1c0f3e5a2d4c8b9e7f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5"
        )
    )]
    pub customer_hash: String,
    /// Unix seconds, within 300 s of the server's clock (signed-timestamp mode).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(example = 1764400000))]
    pub timestamp: Option<i64>,
    /// 16 to 128 characters of `A-Z a-z 0-9 - _`, accepted once (signed-timestamp mode).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            min_length = 16,
            max_length = 128,
            pattern = "^[A-Za-z0-9_-]+$",
            example = "b1946ac92492d2347c6235b4d2611184"
        )
    )]
    pub nonce: Option<String>,
    /// The end user's IP address; required when the store binds links to it.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(example = "203.0.113.7"))]
    pub ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SsoLoginResponse {
    pub success: bool,
    pub data: SsoLoginData,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SsoLoginData {
    /// Send the subscriber's browser here; it works once, until `expires_at`.
    #[cfg_attr(
        feature = "ssr",
        schema(example = "https://subgate.example/portal/sso/3q2-7wAAAAC7u7u7u7u7uw")
    )]
    pub redirection_url: String,
    #[cfg_attr(feature = "ssr", schema(example = 1764400120))]
    pub expires_at: i64,
}

/// What the portal shows of the merchant besides their name (set on the SSO tab).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalBranding {
    /// "Back to the store".
    pub store_url: Option<String>,
    pub support_email: Option<String>,
    /// `#rrggbb`: the portal's buttons and top edge.
    pub accent: Option<String>,
    /// The text colour on the accent (black or white, whichever contrasts more).
    pub on_accent: Option<String>,
    /// An https image shown above the business name.
    pub logo_url: Option<String>,
}

/// `#rrggbb` (either case): the only shape a colour may have to reach a page's CSS.
pub fn is_hex_colour(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c.bytes().skip(1).all(|b| b.is_ascii_hexdigit())
}

/// Whose store a portal page without a session belongs to (the signed-out page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreView {
    pub business_name: String,
    pub branding: PortalBranding,
}
