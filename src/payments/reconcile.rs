//! Catching up with the gateway after missed webhook deliveries (an outage of subgate, a
//! disabled endpoint): for every connected account, the events created since the newest one
//! applied (the gateway keeps 30 days of them) are read and those never received are applied;
//! on demand (`full`), the subscriptions of every mirrored customer are listed again and the
//! mirror corrected where it differs. A lease per account in the database lets every instance
//! run this on a timer: one of them does each account at a time.

use std::collections::{BTreeMap, HashMap};

use super::error::PaymentsError;
use super::gateway::Subscription;
use super::Payments;
use crate::db::payments::{ConnectionRow, SubscriptionRow};
use crate::dto::payments::SyncView;

/// How far back the gateway lists events (Stripe: 30 days).
const EVENTS_HORIZON_SECS: i64 = 30 * 24 * 3600;
/// An instance that died mid-way holds an account no longer than this.
const LEASE_SECS: i64 = 600;

/// What one reconciliation did, over every account it covered.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReconcileReport {
    pub accounts: usize,
    /// Accounts another instance was reconciling.
    pub busy: usize,
    /// Accounts the gateway could not be asked about (retried next time).
    pub failed: usize,
    /// Events never received and subscriptions that differed from the gateway's.
    pub drift_found: i64,
    /// Of those, how many the mirror now has right.
    pub drift_repaired: i64,
}

impl Payments {
    /// The Connect tab's view of how the connection's account keeps up.
    pub async fn sync_view(
        &self,
        connection: Option<&ConnectionRow>,
    ) -> Result<SyncView, PaymentsError> {
        let Some(c) = connection else {
            return Ok(SyncView::default());
        };
        let row = self.db.sync_state(&c.gateway, &c.account_id).await?;
        Ok(row
            .map(|r| SyncView {
                last_event_at: r.last_event_at,
                last_event_id: r.last_event_id,
                reconciled_at: r.reconciled_at,
                drift_found: r.drift_found,
                drift_repaired: r.drift_repaired,
            })
            .unwrap_or_default())
    }

    /// Reconciles every connected account; `full` also re-lists mirrored customers'
    /// subscriptions.
    pub async fn reconcile(&self, now: i64, full: bool) -> Result<ReconcileReport, PaymentsError> {
        let gateway = self.gateway.name();
        let mut report = ReconcileReport::default();
        for (account, connected_at) in self.db.active_accounts(gateway).await? {
            report.accounts += 1;
            if !self
                .db
                .take_sync_lease(gateway, &account, now, now + LEASE_SECS)
                .await?
            {
                report.busy += 1;
                continue;
            }
            match self
                .reconcile_account(&account, connected_at, now, full)
                .await
            {
                Ok((found, repaired)) => {
                    self.db
                        .finish_sync(gateway, &account, now, found, repaired)
                        .await?;
                    if found > 0 {
                        tracing::warn!(account = %account, drift_found = found, drift_repaired = repaired, "the mirror had drifted from the gateway");
                    }
                    report.drift_found += found;
                    report.drift_repaired += repaired;
                }
                Err(e) => {
                    tracing::warn!(account = %account, error = %e, "reconciling the account failed");
                    self.db.release_sync_lease(gateway, &account).await?;
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    async fn reconcile_account(
        &self,
        account: &str,
        connected_at: i64,
        now: i64,
        full: bool,
    ) -> Result<(i64, i64), PaymentsError> {
        let gateway = self.gateway.name();
        let sync = self
            .db
            .sync_state(gateway, account)
            .await?
            .unwrap_or_default();
        // one second of overlap: events created in the second of the newest one applied
        // (event ids de-duplicate)
        let after = sync
            .last_event_at
            .unwrap_or(connected_at)
            .saturating_sub(1)
            .max(now - EVENTS_HORIZON_SECS);
        let bodies = match self.gateway.events_after(account, after).await {
            Ok(b) => b,
            Err(e) => return Err(self.gateway_failed(account, e, now).await),
        };
        let (mut found, mut repaired) = (0, 0);
        for body in bodies {
            let mut event = match self.gateway.parse_event(body.as_bytes()) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(account = %account, error = %e, "an event listed by the gateway does not parse");
                    continue;
                }
            };
            event.account_id.get_or_insert_with(|| account.to_string());
            let missed = self
                .db
                .insert_webhook_event(gateway, &event, &body, now)
                .await?;
            if !missed {
                continue;
            }
            found += 1;
            if self.apply_stored(&event, now).await {
                repaired += 1;
            }
        }
        if full {
            let (f, r) = self.relist(account, now).await?;
            found += f;
            repaired += r;
        }
        Ok((found, repaired))
    }

    /// Lists every mirrored customer's subscriptions again; a mirror that differs is replaced.
    async fn relist(&self, account: &str, now: i64) -> Result<(i64, i64), PaymentsError> {
        let gateway = self.gateway.name();
        let mut merchants_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (merchant, customer) in self.db.mirrored_customers(gateway, account).await? {
            merchants_of.entry(customer).or_default().push(merchant);
        }
        let (mut found, mut repaired) = (0, 0);
        for (customer, merchants) in merchants_of {
            let fresh = match self.gateway.list_subscriptions(account, &customer).await {
                Ok(s) => s,
                Err(e) => return Err(self.gateway_failed(account, e, now).await),
            };
            for merchant in merchants {
                let stored = self.db.customer_subscriptions(&merchant, &customer).await?;
                let drift = drift(&stored, &fresh);
                if drift > 0 {
                    self.db
                        .replace_subscriptions(&merchant, &customer, &fresh, now)
                        .await?;
                    found += drift;
                    repaired += drift;
                }
            }
        }
        Ok((found, repaired))
    }
}

/// How many subscriptions the mirror has wrong: different, missing, or no longer listed.
fn drift(stored: &[SubscriptionRow], fresh: &[Subscription]) -> i64 {
    let mirrored: HashMap<&str, &Subscription> = stored
        .iter()
        .map(|r| (r.subscription.id.as_str(), &r.subscription))
        .collect();
    let differing = fresh
        .iter()
        .filter(|f| mirrored.get(f.id.as_str()).copied() != Some(*f))
        .count();
    let gone = mirrored
        .keys()
        .filter(|id| !fresh.iter().any(|f| f.id == **id))
        .count();
    i64::try_from(differing + gone).unwrap_or(i64::MAX)
}
