//! The subscriber portal as one service (`state.portal`): what a signed-in subscriber sees and
//! the way on to the gateway's billing portal, composed from SSO's portal session, the merchant's
//! account and the payments mirror. It knows only the subscriber's portal session (the cookie),
//! never a merchant's session: a subscriber cannot reach the dashboard, and a merchant's session
//! opens no one's portal.

use std::sync::Arc;

use crate::db::payments::SubscriptionRow;
use crate::db::Db;
use crate::payments::customers::{parse_email, ReturnUrl, SubscriberId};
use crate::payments::gateway::PortalSession;
use crate::payments::{Payments, PaymentsError};
use crate::sso::{Sso, SsoError, SubscriberSession};

/// What the portal can fail with; the edge maps it to the wire error once (`crate::error`).
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// No portal session (never opened, expired, signed out, or SSO turned off).
    #[error("the portal session has ended")]
    SessionEnded,
    /// Branding that does not parse; the message names the field and the rule.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Sso(#[from] SsoError),
    #[error(transparent)]
    Payments(#[from] PaymentsError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The portal page of a signed-in subscriber.
#[derive(Debug, Clone)]
pub struct PortalPage {
    pub business_name: String,
    pub subscriber_id: String,
    pub email: Option<String>,
    pub branding: Branding,
    pub subscriptions: Vec<SubscriptionRow>,
    /// The subscriptions cannot be shown now: the merchant's gateway is not connected, or the
    /// customer is gone from it. The subscriber can only ask the merchant.
    pub unavailable: bool,
}

pub use crate::db::sso::PortalBrandingRow as Branding;

/// The branding fields as a merchant typed them (blank clears a field).
#[derive(Debug, Clone, Copy, Default)]
pub struct BrandingInput<'a> {
    pub store_url: Option<&'a str>,
    pub support_email: Option<&'a str>,
    pub accent: Option<&'a str>,
    pub logo_url: Option<&'a str>,
}

/// Whose store a page belongs to, for the pages a subscriber sees without a session (signed
/// out, a dead link): the business name and its branding, nothing of any subscriber.
#[derive(Debug, Clone)]
pub struct StoreFace {
    pub business_name: String,
    pub branding: Branding,
}

/// The text colour on the accent: black or white, whichever contrasts more (WCAG 2 relative
/// luminance). One of the two always reaches 4.5:1, so any accent gives readable buttons.
pub fn on_accent(accent: &str) -> &'static str {
    let channel = |i: usize| {
        let c = accent
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .map_or(0.0, |v| f64::from(v) / 255.0);
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    // contrast with black (l + 0.05) / 0.05 against with white 1.05 / (l + 0.05)
    if (l + 0.05) * (l + 0.05) > 0.05 * 1.05 {
        "#000000"
    } else {
        "#ffffff"
    }
}

/// The origin a logo is fetched from, for the page's `img-src` (the URL was checked on save).
pub fn image_origin(logo_url: &str) -> Option<String> {
    let url = url::Url::parse(logo_url).ok()?;
    matches!(url.scheme(), "https" | "http").then(|| url.origin().ascii_serialization())
}

/// A form field's value, trimmed; `None` when blank.
fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// `#rrggbb` (or `#RRGGBB`), as lowercase.
fn parse_accent(accent: &str) -> Option<String> {
    crate::dto::sso::is_hex_colour(accent).then(|| accent.to_ascii_lowercase())
}

pub struct Portal {
    db: Db,
    sso: Arc<Sso>,
    payments: Arc<Payments>,
    /// Where the gateway's billing portal sends the subscriber back: `<public origin>/portal`.
    return_to: String,
}

impl Portal {
    pub fn new(db: Db, sso: Arc<Sso>, payments: Arc<Payments>, public_origin: &str) -> Self {
        Self {
            db,
            sso,
            payments,
            return_to: format!("{public_origin}/portal"),
        }
    }

    async fn session(
        &self,
        cookie: Option<&str>,
        now: i64,
    ) -> Result<Option<SubscriberSession>, PortalError> {
        match cookie {
            Some(cookie) => Ok(self.sso.portal_session(cookie, now).await?),
            None => Ok(None),
        }
    }

    /// The page for the session of `cookie`; `None` when there is no such session.
    pub async fn page(
        &self,
        cookie: Option<&str>,
        now: i64,
    ) -> Result<Option<PortalPage>, PortalError> {
        let Some(session) = self.session(cookie, now).await? else {
            return Ok(None);
        };
        let business_name = self
            .db
            .merchant_by_id(&session.merchant_id)
            .await?
            .map(|m| m.business_name)
            .unwrap_or_default();
        let subscriber = SubscriberId::parse(&session.subscriber_id)?;
        let mirror = self
            .payments
            .subscriptions(&session.merchant_id, &subscriber, false, now)
            .await;
        let (email, subscriptions, unavailable) = match mirror {
            Ok((customer, rows)) => (customer.email, rows, false),
            Err(e @ (PaymentsError::NotConnected { .. } | PaymentsError::NotFound(_))) => {
                tracing::info!(error = %e, "portal without subscriptions");
                // the email as last pushed, so the page still greets them by it
                let known = self
                    .payments
                    .customer(&session.merchant_id, &subscriber)
                    .await;
                (known.ok().and_then(|c| c.email), vec![], true)
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Some(PortalPage {
            branding: self.branding(&session.merchant_id).await?,
            business_name,
            subscriber_id: session.subscriber_id,
            email,
            subscriptions,
            unavailable,
        }))
    }

    /// What the merchant set for their portal (nothing until they do).
    pub async fn branding(&self, merchant_id: &str) -> Result<Branding, PortalError> {
        Ok(self.db.portal_branding(merchant_id).await?)
    }

    /// Saves the portal's branding; blank fields clear. URLs are https (http only for
    /// localhost), the accent `#rrggbb`.
    pub async fn save_branding(
        &self,
        merchant_id: &str,
        input: BrandingInput<'_>,
        now: i64,
    ) -> Result<Branding, PortalError> {
        let url = |v: Option<&str>, field: &str| {
            given(v)
                .map(|u| {
                    ReturnUrl::parse(u).map(|u| u.as_str().to_string()).map_err(|_| {
                        PortalError::Invalid(format!(
                            "{field}: an absolute https URL (http only for localhost), at most 2000 characters."
                        ))
                    })
                })
                .transpose()
        };
        let branding = Branding {
            store_url: url(input.store_url, "Back to store")?,
            support_email: parse_email(input.support_email).map_err(|_| {
                PortalError::Invalid("Support email: a valid email address.".into())
            })?,
            accent: given(input.accent)
                .map(|a| {
                    parse_accent(a).ok_or_else(|| {
                        PortalError::Invalid(
                            "Accent colour: # and six hexadecimal digits, like #4f46e5.".into(),
                        )
                    })
                })
                .transpose()?,
            logo_url: url(input.logo_url, "Logo")?,
        };
        self.db
            .save_portal_branding(merchant_id, &branding, now)
            .await?;
        Ok(branding)
    }

    /// The store a merchant's pages belong to.
    async fn face(&self, merchant_id: &str) -> Result<Option<StoreFace>, PortalError> {
        let Some(merchant) = self.db.merchant_by_id(merchant_id).await? else {
            return Ok(None);
        };
        Ok(Some(StoreFace {
            business_name: merchant.business_name,
            branding: self.branding(merchant_id).await?,
        }))
    }

    /// The store of the public slug `store` (as in the SSO login URL), for the signed-out page.
    pub async fn face_of_store(&self, store: &str) -> Result<Option<StoreFace>, PortalError> {
        match self.sso.settings_by_store(store).await? {
            Some(settings) => self.face(&settings.merchant_id).await,
            None => Ok(None),
        }
    }

    /// The store that issued a one-time link, used or expired, for the dead link's page.
    pub async fn face_of_link(&self, token: &str) -> Result<Option<StoreFace>, PortalError> {
        match self.sso.link_merchant(token).await? {
            Some(merchant_id) => self.face(&merchant_id).await,
            None => Ok(None),
        }
    }

    /// A customer-portal session on the gateway for the signed-in subscriber.
    pub async fn billing(
        &self,
        cookie: Option<&str>,
        now: i64,
    ) -> Result<PortalSession, PortalError> {
        let session = self
            .session(cookie, now)
            .await?
            .ok_or(PortalError::SessionEnded)?;
        let subscriber = SubscriberId::parse(&session.subscriber_id)?;
        let return_url = ReturnUrl::parse(&self.return_to)?;
        Ok(self
            .payments
            .portal_session(&session.merchant_id, &subscriber, &return_url, now)
            .await?)
    }

    /// Ends the session of `cookie`, if there is one; answers the store's slug it belonged to,
    /// so the signed-out page can still show the store.
    pub async fn sign_out(
        &self,
        cookie: Option<&str>,
        now: i64,
    ) -> Result<Option<String>, PortalError> {
        let Some(cookie) = cookie else {
            return Ok(None);
        };
        let store = match self.sso.portal_session(cookie, now).await? {
            Some(session) => self
                .sso
                .settings(&session.merchant_id)
                .await?
                .map(|s| s.store),
            None => None,
        };
        self.sso.end_portal_session(cookie).await?;
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_on_an_accent_is_whichever_of_black_and_white_contrasts_more() {
        assert_eq!(on_accent("#4f46e5"), "#ffffff"); // indigo
        assert_eq!(on_accent("#000000"), "#ffffff");
        assert_eq!(on_accent("#ffffff"), "#000000");
        assert_eq!(on_accent("#facc15"), "#000000"); // yellow
        assert_eq!(on_accent("#10b981"), "#000000"); // emerald 500: black 7.9, white 2.5
                                                     // either side of the crossing (relative luminance 0.179): #757575 has white 4.6:1
                                                     // against black 4.56:1, #767676 black 4.62:1 against white 4.54:1
        assert_eq!(on_accent("#757575"), "#ffffff");
        assert_eq!(on_accent("#767676"), "#000000");
    }

    #[test]
    fn accents_are_six_hex_digits_and_stored_lowercase() {
        assert_eq!(parse_accent("#4F46E5").as_deref(), Some("#4f46e5"));
        for bad in [
            "4f46e5",
            "#4f46e",
            "#4f46e5ff",
            "#zzzzzz",
            "red",
            "#fff",
            "",
            "#4f46e5;}",
        ] {
            assert_eq!(parse_accent(bad), None, "{bad}");
        }
    }
}
