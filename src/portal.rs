//! The subscriber portal as one service (`state.portal`): what a signed-in subscriber sees and
//! the way on to the gateway's billing portal, composed from SSO's portal session, the merchant's
//! account and the payments mirror. It knows only the subscriber's portal session (the cookie),
//! never a merchant's session: a subscriber cannot reach the dashboard, and a merchant's session
//! opens no one's portal.

use std::sync::Arc;

use crate::db::payments::SubscriptionRow;
use crate::db::Db;
use crate::payments::customers::{ReturnUrl, SubscriberId};
use crate::payments::gateway::PortalSession;
use crate::payments::{Payments, PaymentsError};
use crate::sso::{Sso, SsoError, SubscriberSession};

/// What the portal can fail with; the edge maps it to the wire error once (`crate::error`).
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// No portal session (never opened, expired, signed out, or SSO turned off).
    #[error("the portal session has ended")]
    SessionEnded,
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
    pub subscriptions: Vec<SubscriptionRow>,
    /// The subscriptions cannot be shown now: the merchant's gateway is not connected, or the
    /// customer is gone from it. The subscriber can only ask the merchant.
    pub unavailable: bool,
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
                (None, vec![], true)
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Some(PortalPage {
            business_name,
            subscriber_id: session.subscriber_id,
            email,
            subscriptions,
            unavailable,
        }))
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
