//! The one-time link: opened once, by the subscriber's own click, into a portal session that
//! ends when it expires, when the subscriber signs out, or when the merchant turns SSO off.

use super::*;
use crate::crypto::keyed_hash;
use crate::db::sso::{ConsumedLink, DeadLink};

/// Why a link did not open a session; the subscriber sees one friendly page for all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRefused {
    /// Used, expired, unknown, or bound to another IP.
    Dead,
    /// The merchant turned single sign-on off after issuing it.
    Disabled,
}

/// A subscriber's portal session, as the portal pages see it.
#[derive(Debug, Clone)]
pub struct SubscriberSession {
    pub merchant_id: String,
    pub subscriber_id: String,
}

impl Sso {
    /// Whether a link would still open the portal; it is not used up by asking. The link's GET
    /// only shows a confirmation page: a GET that logged in would let any site sign a visitor
    /// into someone else's portal (login CSRF) with an `<img>` or a redirect.
    pub async fn link_is_open(&self, token: &str, now: i64) -> Result<bool, SsoError> {
        if !Self::token_shape_ok(token) {
            return Ok(false);
        }
        Ok(self
            .db
            .sso_link_is_open(&keyed_hash(&self.link_key, token), now)
            .await?)
    }

    /// The merchant who issued a link, whether or not it still opens (while the sweep keeps
    /// it): a dead link's page can then show whose store to go back to.
    pub async fn link_merchant(&self, token: &str) -> Result<Option<String>, SsoError> {
        if !Self::token_shape_ok(token) {
            return Ok(None);
        }
        Ok(self
            .db
            .sso_link_merchant(&keyed_hash(&self.link_key, token))
            .await?)
    }

    pub(super) fn token_shape_ok(token: &str) -> bool {
        token.len() == 43
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    /// Consumes a one-time link and starts a portal session; returns the session's cookie value.
    pub async fn open_link(
        &self,
        token: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<(String, SubscriberSession), LinkRefused> {
        let ip = caller.ip.to_string();
        let ua = caller.user_agent();
        let log = |merchant: String, subscriber: String, outcome: &'static str| {
            let (ip, ua) = (ip.clone(), ua.clone());
            async move {
                if let Err(e) = self
                    .db
                    .log_sso_login(&merchant, &subscriber, now, &ip, &ua, outcome)
                    .await
                {
                    tracing::warn!(error = %e, "could not write the SSO login log");
                }
            }
        };
        if !Self::token_shape_ok(token) {
            return Err(LinkRefused::Dead);
        }
        let consumed = self
            .db
            .consume_sso_link(&keyed_hash(&self.link_key, token), now)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "consuming an SSO link failed");
                LinkRefused::Dead
            })?;
        let ConsumedLink {
            merchant_id,
            subscriber_id,
            bound_ip,
        } = match consumed {
            Ok(link) => link,
            Err(DeadLink::Unknown) => return Err(LinkRefused::Dead),
            Err(DeadLink::Used {
                merchant_id,
                subscriber_id,
            }) => {
                log(merchant_id, subscriber_id, outcome::LINK_REUSED).await;
                return Err(LinkRefused::Dead);
            }
            Err(DeadLink::Expired {
                merchant_id,
                subscriber_id,
            }) => {
                log(merchant_id, subscriber_id, outcome::LINK_EXPIRED).await;
                return Err(LinkRefused::Dead);
            }
        };
        let enabled = self
            .db
            .sso_settings(&merchant_id)
            .await
            .ok()
            .flatten()
            .is_some_and(|s| s.enabled);
        if !enabled {
            log(merchant_id, subscriber_id, outcome::SSO_DISABLED).await;
            return Err(LinkRefused::Disabled);
        }
        if bound_ip.is_some_and(|bound| bound != ip) {
            log(merchant_id, subscriber_id, outcome::IP_MISMATCH).await;
            return Err(LinkRefused::Dead);
        }
        let cookie = self.entropy.token(32);
        self.db
            .insert_subscriber_session(
                &crate::crypto::sha256_hex(cookie.as_bytes()),
                &merchant_id,
                &subscriber_id,
                now,
                now + PORTAL_SESSION_SECS,
            )
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "starting a portal session failed");
                LinkRefused::Dead
            })?;
        log(
            merchant_id.clone(),
            subscriber_id.clone(),
            outcome::PORTAL_OPENED,
        )
        .await;
        Ok((
            cookie,
            SubscriberSession {
                merchant_id,
                subscriber_id,
            },
        ))
    }

    pub async fn portal_session(
        &self,
        cookie: &str,
        now: i64,
    ) -> Result<Option<SubscriberSession>, SsoError> {
        Ok(self
            .db
            .subscriber_session(&crate::crypto::sha256_hex(cookie.as_bytes()), now)
            .await?
            .map(|(merchant_id, subscriber_id)| SubscriberSession {
                merchant_id,
                subscriber_id,
            }))
    }

    pub async fn end_portal_session(&self, cookie: &str) -> Result<(), SsoError> {
        Ok(self
            .db
            .delete_subscriber_session(&crate::crypto::sha256_hex(cookie.as_bytes()))
            .await?)
    }
}
