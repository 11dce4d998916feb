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

/// What the portal shows of the merchant besides their name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Branding {
    /// "Back to the store" (https).
    pub store_url: Option<String>,
    /// Where subscribers ask for help.
    pub support_email: Option<String>,
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
        let (store_url, support_email) = self.db.portal_branding(merchant_id).await?;
        Ok(Branding {
            store_url,
            support_email,
        })
    }

    /// Saves the portal's branding; blank fields clear.
    pub async fn save_branding(
        &self,
        merchant_id: &str,
        store_url: Option<&str>,
        support_email: Option<&str>,
        now: i64,
    ) -> Result<Branding, PortalError> {
        let store_url = store_url
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| {
                ReturnUrl::parse(u).map_err(|_| {
                    PortalError::Invalid(
                        "Back to store: an absolute https URL (http only for localhost), at most 2000 characters.".into(),
                    )
                })
            })
            .transpose()?
            .map(|u| u.as_str().to_string());
        let support_email = parse_email(support_email)
            .map_err(|_| PortalError::Invalid("Support email: a valid email address.".into()))?;
        self.db
            .save_portal_branding(
                merchant_id,
                store_url.as_deref(),
                support_email.as_deref(),
                now,
            )
            .await?;
        Ok(Branding {
            store_url,
            support_email,
        })
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

    /// Ends the session of `cookie`, if there is one.
    pub async fn sign_out(&self, cookie: Option<&str>) -> Result<(), PortalError> {
        if let Some(cookie) = cookie {
            self.sso.end_portal_session(cookie).await?;
        }
        Ok(())
    }
}
