//! Payments tables: gateway connections, customers, the subscription mirror, webhook events and
//! idempotent responses. Every merchant-facing query is scoped by `merchant_id`; the only
//! cross-merchant lookups are by gateway account id, for webhooks, which carry no merchant.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{affected, is_unique_violation, Db};
use crate::payments::gateway::{Subscription, SubscriptionItem, SubscriptionStatus, WebhookEvent};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRow {
    pub merchant_id: String,
    pub gateway: String,
    pub account_id: String,
    pub livemode: bool,
    pub scope: String,
    pub business_name: Option<String>,
    pub connected_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    pub last_webhook_at: Option<i64>,
}

impl ConnectionRow {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

fn connection_from_row(row: &AnyRow) -> Result<ConnectionRow, sqlx::Error> {
    connection_from_named(row, "")
}

/// A connection read from columns named `{prefix}merchant_id`… (see [`PREFIXED_CONNECTION_COLUMNS`]).
fn connection_from_named(row: &AnyRow, prefix: &str) -> Result<ConnectionRow, sqlx::Error> {
    let column = |name: &str| format!("{prefix}{name}");
    Ok(ConnectionRow {
        merchant_id: row.try_get(column("merchant_id").as_str())?,
        gateway: row.try_get(column("gateway").as_str())?,
        account_id: row.try_get(column("account_id").as_str())?,
        livemode: row.try_get::<i64, _>(column("livemode").as_str())? != 0,
        scope: row.try_get(column("scope").as_str())?,
        business_name: row.try_get(column("business_name").as_str())?,
        connected_at: row.try_get(column("connected_at").as_str())?,
        revoked_at: row.try_get(column("revoked_at").as_str())?,
        revoked_by: row.try_get(column("revoked_by").as_str())?,
        last_webhook_at: row.try_get(column("last_webhook_at").as_str())?,
    })
}

const CONNECTION_COLUMNS: &str = "merchant_id, gateway, account_id, livemode, scope, business_name, connected_at, revoked_at, revoked_by, last_webhook_at";

/// The connection's columns as `g_…`, for joins against `gateway_connections g`.
const PREFIXED_CONNECTION_COLUMNS: &str =
    "g.merchant_id AS g_merchant_id, g.gateway AS g_gateway, g.account_id AS g_account_id, \
     g.livemode AS g_livemode, g.scope AS g_scope, g.business_name AS g_business_name, \
     g.connected_at AS g_connected_at, g.revoked_at AS g_revoked_at, g.revoked_by AS g_revoked_by, \
     g.last_webhook_at AS g_last_webhook_at";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    pub merchant_id: String,
    pub subscriber_id: String,
    pub customer_id: String,
    pub account_id: String,
    pub email: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub synced_at: Option<i64>,
}

fn customer_from_row(row: &AnyRow) -> Result<CustomerRow, sqlx::Error> {
    customer_from_named(row, "")
}

/// A customer from columns named `{prefix}{column}`.
fn customer_from_named(row: &AnyRow, prefix: &str) -> Result<CustomerRow, sqlx::Error> {
    let column = |name: &str| format!("{prefix}{name}");
    Ok(CustomerRow {
        merchant_id: row.try_get(column("merchant_id").as_str())?,
        subscriber_id: row.try_get(column("subscriber_id").as_str())?,
        customer_id: row.try_get(column("customer_id").as_str())?,
        account_id: row.try_get(column("account_id").as_str())?,
        email: row.try_get(column("email").as_str())?,
        created_at: row.try_get(column("created_at").as_str())?,
        updated_at: row.try_get(column("updated_at").as_str())?,
        synced_at: row.try_get(column("synced_at").as_str())?,
    })
}

const CUSTOMER_COLUMNS: &str =
    "merchant_id, subscriber_id, customer_id, account_id, email, created_at, updated_at, synced_at";

/// [`CUSTOMER_COLUMNS`] of `customers c` renamed `c_…`, to sit beside [`SUBSCRIPTION_COLUMNS`].
const PREFIXED_CUSTOMER_COLUMNS: &str =
    "c.merchant_id AS c_merchant_id, c.subscriber_id AS c_subscriber_id, \
     c.customer_id AS c_customer_id, c.account_id AS c_account_id, c.email AS c_email, \
     c.created_at AS c_created_at, c.updated_at AS c_updated_at, c.synced_at AS c_synced_at";

/// A customer with what a read of their subscriptions needs (see [`Db::customer_mirror`]).
#[derive(Debug, Clone)]
pub struct CustomerMirror {
    pub customer: CustomerRow,
    /// The merchant's gateway connection, revoked or not; `None` when there never was one.
    pub connection: Option<ConnectionRow>,
    pub subscriptions: Vec<SubscriptionRow>,
}

/// What the dashboard's customer list is narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// Part of the subscriber id, the email or the gateway customer id, in any case.
    pub search: Option<String>,
    /// A subscription status the customer has, or `cancelling` (current, with an end date
    /// set) or `none` (no subscription at all).
    pub status: Option<String>,
}

impl CustomerFilter {
    /// The filter as a form sends it: blank fields filter nothing, the search is trimmed.
    pub fn from_form(search: Option<String>, status: Option<String>) -> Self {
        let given = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Self {
            search: given(search),
            status: given(status),
        }
    }

    /// The `LIKE` pattern of the search: lower case, its own `%`, `_` and `\` escaped.
    fn like_pattern(&self) -> String {
        let search = self.search.as_deref().unwrap_or("").to_lowercase();
        let mut pattern = String::with_capacity(search.len() + 2);
        pattern.push('%');
        for ch in search.chars() {
            if matches!(ch, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(ch);
        }
        pattern.push('%');
        pattern
    }
}

/// The customer filter's condition on `customers c`: `$2` the `LIKE` pattern, `$3` the status
/// (empty for any).
const CUSTOMER_FILTER: &str = "(LOWER(c.subscriber_id) LIKE $2 ESCAPE '\\'
      OR LOWER(c.customer_id) LIKE $2 ESCAPE '\\'
      OR LOWER(COALESCE(c.email, '')) LIKE $2 ESCAPE '\\')
  AND ($3 = ''
      OR ($3 = 'none' AND NOT EXISTS (SELECT 1 FROM subscriptions s
            WHERE s.merchant_id = c.merchant_id AND s.customer_id = c.customer_id))
      OR ($3 = 'cancelling' AND EXISTS (SELECT 1 FROM subscriptions s
            WHERE s.merchant_id = c.merchant_id AND s.customer_id = c.customer_id
              AND s.status IN ('active', 'trialing', 'past_due')
              AND (s.cancel_at_period_end = 1 OR s.cancel_at IS NOT NULL)))
      OR EXISTS (SELECT 1 FROM subscriptions s
            WHERE s.merchant_id = c.merchant_id AND s.customer_id = c.customer_id AND s.status = $3))";

/// Orders a customer's subscriptions by how much they matter to the merchant: what is paid for
/// now first, then what needs attention, then what ended.
const STATUS_RANK: &str = "CASE s.status WHEN 'active' THEN 0 WHEN 'trialing' THEN 1
      WHEN 'past_due' THEN 2 WHEN 'unpaid' THEN 3 WHEN 'paused' THEN 4 WHEN 'incomplete' THEN 5
      ELSE 6 END";

/// A row of the dashboard's customer list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerListRow {
    pub customer: CustomerRow,
    pub subscriptions: i64,
    /// The status of the subscription that matters most (see [`STATUS_RANK`]).
    pub lead_status: Option<SubscriptionStatus>,
}

/// What an upsert of a customer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
}

#[derive(Debug, thiserror::Error)]
pub enum UpsertCustomerError {
    /// The gateway customer is already linked to another of the merchant's subscribers.
    #[error("customer already linked to subscriber {0}")]
    CustomerTaken(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A mirrored subscription with the subscriber it belongs to and when it was last synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    pub subscription: Subscription,
    pub subscriber_id: Option<String>,
    pub synced_at: i64,
}

fn subscription_from_row(row: &AnyRow) -> Result<SubscriptionRow, sqlx::Error> {
    let items: String = row.try_get("items")?;
    let items: Vec<SubscriptionItem> =
        serde_json::from_str(&items).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let status: String = row.try_get("status")?;
    Ok(SubscriptionRow {
        subscription: Subscription {
            id: row.try_get("id")?,
            customer_id: row.try_get("customer_id")?,
            status: SubscriptionStatus::parse(&status),
            cancel_at_period_end: row.try_get::<i64, _>("cancel_at_period_end")? != 0,
            cancel_at: row.try_get("cancel_at")?,
            canceled_at: row.try_get("canceled_at")?,
            current_period_end: row.try_get("current_period_end")?,
            trial_end: row.try_get("trial_end")?,
            created: row.try_get("created")?,
            items,
        },
        subscriber_id: row.try_get("subscriber_id")?,
        synced_at: row.try_get("synced_at")?,
    })
}

const SUBSCRIPTION_COLUMNS: &str = "s.id, s.customer_id, s.status, s.cancel_at_period_end, s.cancel_at, s.canceled_at, s.current_period_end, s.trial_end, s.created, s.items, s.synced_at, c.subscriber_id";

/// The upsert that keeps the newest state: a row is only overwritten by a state at least as new.
const UPSERT_SUBSCRIPTION: &str = "INSERT INTO subscriptions (merchant_id, id, customer_id, status, cancel_at_period_end, cancel_at, canceled_at, current_period_end, trial_end, created, items, source_time, synced_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (merchant_id, id) DO UPDATE SET
       customer_id = excluded.customer_id, status = excluded.status,
       cancel_at_period_end = excluded.cancel_at_period_end, cancel_at = excluded.cancel_at,
       canceled_at = excluded.canceled_at, current_period_end = excluded.current_period_end,
       trial_end = excluded.trial_end, created = excluded.created, items = excluded.items,
       source_time = excluded.source_time, synced_at = excluded.synced_at
     WHERE subscriptions.source_time <= excluded.source_time";

fn items_json(items: &[SubscriptionItem]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// A stored webhook event that still has to be applied.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    pub id: String,
    pub gateway: String,
    pub payload: String,
    pub attempts: i64,
}

/// A response stored under an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub request_hash: String,
    /// [`IN_PROGRESS`] while the request that reserved the key is still working.
    pub status: u16,
    pub body: String,
}

/// The status of a reserved key whose request has not finished.
pub const IN_PROGRESS: u16 = 0;
/// A reservation this old, still in progress, was abandoned (its server stopped mid-request).
pub const ABANDONED_AFTER_SECS: i64 = 120;

/// What reserving an idempotency key found.
#[derive(Debug)]
pub enum Reservation {
    /// This request holds the key: do the work, then store the response.
    Reserved,
    /// Another request holds it (finished, or [`IN_PROGRESS`]).
    Taken(StoredResponse),
}

impl Db {
    // -----------------------------------------------------------------------------------------
    // connections

    pub async fn connection(
        &self,
        merchant_id: &str,
    ) -> Result<Option<ConnectionRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM gateway_connections WHERE merchant_id = $1"
        ))
        .bind(merchant_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(connection_from_row)
        .transpose()
    }

    /// Records a (re)connection; a previous revocation is forgotten, and so are the customers
    /// (with their mirror) pushed from any other account: returns how many.
    pub async fn save_connection(
        &self,
        c: &ConnectionRow,
        audit: Option<&super::account::Audit>,
    ) -> Result<u64, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "DELETE FROM subscriptions WHERE merchant_id = $1 AND customer_id IN
               (SELECT customer_id FROM customers WHERE merchant_id = $1 AND account_id <> $2)",
        )
        .bind(&c.merchant_id)
        .bind(&c.account_id)
        .execute(&mut *tx)
        .await?;
        let forgotten =
            sqlx::query("DELETE FROM customers WHERE merchant_id = $1 AND account_id <> $2")
                .bind(&c.merchant_id)
                .bind(&c.account_id)
                .execute(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO gateway_connections (merchant_id, gateway, account_id, livemode, scope, business_name, connected_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (merchant_id) DO UPDATE SET
               gateway = excluded.gateway, account_id = excluded.account_id, livemode = excluded.livemode,
               scope = excluded.scope, business_name = excluded.business_name,
               connected_at = excluded.connected_at, revoked_at = NULL, revoked_by = NULL",
        )
        .bind(&c.merchant_id)
        .bind(&c.gateway)
        .bind(&c.account_id)
        .bind(i64::from(c.livemode))
        .bind(&c.scope)
        .bind(&c.business_name)
        .bind(c.connected_at)
        .execute(&mut *tx)
        .await?;
        super::account::write_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(affected(forgotten))
    }

    /// Marks the merchant's connection revoked; false when there was no active one. A revocation
    /// at or after `now` (the gateway's deauthorization webhook for this very revoke, which can
    /// arrive before the gateway's answer does) is the same act and is recorded as this one.
    pub async fn revoke_connection(
        &self,
        merchant_id: &str,
        by: &str,
        now: i64,
        audit: Option<&super::account::Audit>,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let r = sqlx::query(
            "UPDATE gateway_connections SET revoked_at = $1, revoked_by = $2
             WHERE merchant_id = $3 AND (revoked_at IS NULL OR revoked_at >= $1)",
        )
        .bind(now)
        .bind(by)
        .bind(merchant_id)
        .execute(&mut *tx)
        .await?;
        let revoked = affected(r) == 1;
        if revoked {
            super::account::write_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// Revokes every active connection to a gateway account (revoked on the gateway's side);
    /// returns how many there were.
    pub async fn revoke_account_connections(
        &self,
        gateway: &str,
        account_id: &str,
        by: &str,
        now: i64,
    ) -> Result<u64, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE gateway_connections SET revoked_at = $1, revoked_by = $2
             WHERE gateway = $3 AND account_id = $4 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(gateway)
        .bind(account_id)
        .execute(&self.writer)
        .await?;
        Ok(affected(r))
    }

    pub async fn touch_connection_webhook(
        &self,
        gateway: &str,
        account_id: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE gateway_connections SET last_webhook_at = $1 WHERE gateway = $2 AND account_id = $3",
        )
        .bind(now)
        .bind(gateway)
        .bind(account_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // customers

    /// Creates or updates the merchant's customer keyed by `subscriber_id`, with its
    /// subscriptions as the gateway listed them: one transaction, so a crash never leaves a
    /// customer without its mirror.
    pub async fn upsert_customer(
        &self,
        c: &CustomerRow,
        subscriptions: &[Subscription],
    ) -> Result<Upserted, UpsertCustomerError> {
        let mut tx = self.writer.begin().await?;
        let taken: Option<String> = sqlx::query(
            "SELECT subscriber_id FROM customers WHERE merchant_id = $1 AND customer_id = $2 AND subscriber_id <> $3",
        )
        .bind(&c.merchant_id)
        .bind(&c.customer_id)
        .bind(&c.subscriber_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get("subscriber_id"))
        .transpose()?;
        if let Some(other) = taken {
            return Err(UpsertCustomerError::CustomerTaken(other));
        }
        let updated = sqlx::query(
            "UPDATE customers SET customer_id = $1, account_id = $2, email = $3, updated_at = $4, synced_at = $5
             WHERE merchant_id = $6 AND subscriber_id = $7",
        )
        .bind(&c.customer_id)
        .bind(&c.account_id)
        .bind(&c.email)
        .bind(c.updated_at)
        .bind(c.synced_at)
        .bind(&c.merchant_id)
        .bind(&c.subscriber_id)
        .execute(&mut *tx)
        .await?;
        let outcome = if affected(updated) == 1 {
            Upserted::Updated
        } else {
            sqlx::query(&format!(
                "INSERT INTO customers ({CUSTOMER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ))
            .bind(&c.merchant_id)
            .bind(&c.subscriber_id)
            .bind(&c.customer_id)
            .bind(&c.account_id)
            .bind(&c.email)
            .bind(c.created_at)
            .bind(c.updated_at)
            .bind(c.synced_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    // a concurrent push of the same customer under another subscriber won
                    UpsertCustomerError::CustomerTaken(String::new())
                } else {
                    e.into()
                }
            })?;
            Upserted::Created
        };
        write_subscriptions(
            &mut tx,
            &c.merchant_id,
            &c.customer_id,
            subscriptions,
            c.synced_at.unwrap_or(c.updated_at),
        )
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    pub async fn customer(
        &self,
        merchant_id: &str,
        subscriber_id: &str,
    ) -> Result<Option<CustomerRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE merchant_id = $1 AND subscriber_id = $2"
        ))
        .bind(merchant_id)
        .bind(subscriber_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(customer_from_row)
        .transpose()
    }

    /// Up to `limit` customers after `after` (a subscriber id), ordered by subscriber id.
    pub async fn customers_page(
        &self,
        merchant_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CustomerRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE merchant_id = $1 AND subscriber_id > $2
             ORDER BY subscriber_id LIMIT $3"
        ))
        .bind(merchant_id)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(customer_from_row)
        .collect()
    }

    /// The dashboard's customer list: up to `limit` of the merchant's customers after the
    /// cursor (by subscriber id) that match `filter`, each with its number of subscriptions and
    /// the status of the one that matters most; and how many match in all.
    pub async fn customer_list(
        &self,
        merchant_id: &str,
        filter: &CustomerFilter,
        after: Option<&str>,
        limit: i64,
    ) -> Result<(Vec<CustomerListRow>, i64), sqlx::Error> {
        let pattern = filter.like_pattern();
        let status = filter.status.as_deref().unwrap_or("");
        let rows = sqlx::query(&format!(
            "SELECT {CUSTOMER_COLUMNS},
               (SELECT COUNT(*) FROM subscriptions s
                 WHERE s.merchant_id = c.merchant_id AND s.customer_id = c.customer_id) AS subscriptions,
               (SELECT s.status FROM subscriptions s
                 WHERE s.merchant_id = c.merchant_id AND s.customer_id = c.customer_id
                 ORDER BY {STATUS_RANK}, s.created DESC LIMIT 1) AS lead_status
             FROM customers c WHERE c.merchant_id = $1 AND {CUSTOMER_FILTER} AND c.subscriber_id > $4
             ORDER BY c.subscriber_id LIMIT $5"
        ))
        .bind(merchant_id)
        .bind(&pattern)
        .bind(status)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(CustomerListRow {
                customer: customer_from_row(row)?,
                subscriptions: row.try_get("subscriptions")?,
                lead_status: row
                    .try_get::<Option<String>, _>("lead_status")?
                    .map(|s| SubscriptionStatus::parse(&s)),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let matching: i64 = sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM customers c WHERE c.merchant_id = $1 AND {CUSTOMER_FILTER}"
        ))
        .bind(merchant_id)
        .bind(&pattern)
        .bind(status)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        Ok((rows, matching))
    }

    /// The merchant's subscriptions that are still current (active, trialing, past due), of
    /// customers still linked: what the overview counts and sums.
    pub async fn current_subscriptions(
        &self,
        merchant_id: &str,
    ) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s
             JOIN customers c ON c.merchant_id = s.merchant_id AND c.customer_id = s.customer_id
             WHERE s.merchant_id = $1 AND s.status IN ('active', 'trialing', 'past_due')"
        ))
        .bind(merchant_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(subscription_from_row)
        .collect()
    }

    /// One of the merchant's subscriber ids, the first in order (the overview's "preview as").
    pub async fn first_subscriber(&self, merchant_id: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query(
            "SELECT subscriber_id FROM customers WHERE merchant_id = $1 ORDER BY subscriber_id LIMIT 1",
        )
        .bind(merchant_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| row.try_get("subscriber_id"))
        .transpose()
    }

    pub async fn customer_count(&self, merchant_id: &str) -> Result<i64, sqlx::Error> {
        sqlx::query("SELECT COUNT(*) AS n FROM customers WHERE merchant_id = $1")
            .bind(merchant_id)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")
    }

    /// Deletes the customer and its mirrored subscriptions; false if there was none.
    pub async fn delete_customer(
        &self,
        merchant_id: &str,
        subscriber_id: &str,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "DELETE FROM subscriptions WHERE merchant_id = $1 AND customer_id IN
               (SELECT customer_id FROM customers WHERE merchant_id = $1 AND subscriber_id = $2)",
        )
        .bind(merchant_id)
        .bind(subscriber_id)
        .execute(&mut *tx)
        .await?;
        let r = sqlx::query("DELETE FROM customers WHERE merchant_id = $1 AND subscriber_id = $2")
            .bind(merchant_id)
            .bind(subscriber_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(affected(r) == 1)
    }

    /// The merchants (with an active connection to the account) that linked this gateway customer.
    pub async fn merchants_with_customer(
        &self,
        gateway: &str,
        account_id: &str,
        customer_id: &str,
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query(
            "SELECT c.merchant_id FROM customers c
             JOIN gateway_connections g ON g.merchant_id = c.merchant_id
             WHERE g.gateway = $1 AND g.account_id = $2 AND g.revoked_at IS NULL
               AND c.account_id = $2 AND c.customer_id = $3",
        )
        .bind(gateway)
        .bind(account_id)
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get("merchant_id"))
        .collect()
    }

    // -----------------------------------------------------------------------------------------
    // subscription mirror

    /// Replaces the mirror of one customer's subscriptions with a fresh pull from the gateway.
    pub async fn replace_subscriptions(
        &self,
        merchant_id: &str,
        customer_id: &str,
        subscriptions: &[Subscription],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        write_subscriptions(&mut tx, merchant_id, customer_id, subscriptions, now).await?;
        tx.commit().await
    }

    /// Stores a subscription's state as of `source_time`, unless a newer one is stored already.
    pub async fn upsert_subscription(
        &self,
        merchant_id: &str,
        s: &Subscription,
        source_time: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        bind_subscription(
            sqlx::query(UPSERT_SUBSCRIPTION),
            merchant_id,
            s,
            source_time,
            now,
        )
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn customer_subscriptions(
        &self,
        merchant_id: &str,
        customer_id: &str,
    ) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s
             LEFT JOIN customers c ON c.merchant_id = s.merchant_id AND c.customer_id = s.customer_id
             WHERE s.merchant_id = $1 AND s.customer_id = $2
             ORDER BY s.created DESC, s.id"
        ))
        .bind(merchant_id)
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(subscription_from_row)
        .collect()
    }

    /// A customer, their merchant's gateway connection and their mirrored subscriptions
    /// (newest first), in one query: the read every `GET …/subscriptions` makes.
    pub async fn customer_mirror(
        &self,
        merchant_id: &str,
        subscriber_id: &str,
    ) -> Result<Option<CustomerMirror>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {PREFIXED_CUSTOMER_COLUMNS}, {PREFIXED_CONNECTION_COLUMNS}, {SUBSCRIPTION_COLUMNS}
             FROM customers c
             LEFT JOIN gateway_connections g ON g.merchant_id = c.merchant_id
             LEFT JOIN subscriptions s ON s.merchant_id = c.merchant_id AND s.customer_id = c.customer_id
             WHERE c.merchant_id = $1 AND c.subscriber_id = $2
             ORDER BY s.created DESC, s.id"
        ))
        .bind(merchant_id)
        .bind(subscriber_id)
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let customer = customer_from_named(first, "c_")?;
        // the LEFT JOINs' NULLs: no connection, or no subscription
        let connection = match first.try_get::<Option<String>, _>("g_merchant_id")? {
            Some(_) => Some(connection_from_named(first, "g_")?),
            None => None,
        };
        let mut subscriptions = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.try_get::<Option<String>, _>("id")?.is_some() {
                subscriptions.push(subscription_from_row(row)?);
            }
        }
        Ok(Some(CustomerMirror {
            customer,
            connection,
            subscriptions,
        }))
    }

    pub async fn subscription(
        &self,
        merchant_id: &str,
        subscription_id: &str,
    ) -> Result<Option<SubscriptionRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s
             LEFT JOIN customers c ON c.merchant_id = s.merchant_id AND c.customer_id = s.customer_id
             WHERE s.merchant_id = $1 AND s.id = $2"
        ))
        .bind(merchant_id)
        .bind(subscription_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(subscription_from_row)
        .transpose()
    }

    // -----------------------------------------------------------------------------------------
    // webhook events

    /// Stores an event; false when it was stored before (a redelivery).
    pub async fn insert_webhook_event(
        &self,
        gateway: &str,
        event: &WebhookEvent,
        payload: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "INSERT INTO webhook_events (id, gateway, event_type, account_id, created, payload, received_at, attempts)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&event.id)
        .bind(gateway)
        .bind(&event.event_type)
        .bind(&event.account_id)
        .bind(event.created)
        .bind(payload)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(affected(r) == 1)
    }

    pub async fn webhook_event_processed(&self, id: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE webhook_events SET processed_at = $1, attempts = attempts + 1 WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn webhook_event_failed(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE webhook_events SET attempts = attempts + 1 WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Events stored but not applied (the server failed in between), oldest first.
    pub async fn pending_webhook_events(
        &self,
        received_before: i64,
        max_attempts: i64,
        limit: i64,
    ) -> Result<Vec<PendingEvent>, sqlx::Error> {
        sqlx::query(
            "SELECT id, gateway, payload, attempts FROM webhook_events
             WHERE processed_at IS NULL AND received_at < $1 AND attempts < $2
             ORDER BY received_at LIMIT $3",
        )
        .bind(received_before)
        .bind(max_attempts)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(PendingEvent {
                id: r.try_get("id")?,
                gateway: r.try_get("gateway")?,
                payload: r.try_get("payload")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect()
    }

    // -----------------------------------------------------------------------------------------
    // idempotency keys

    /// Reserves `key` for this request before any work is done (one INSERT, so of two
    /// concurrent requests with one key exactly one proceeds). Answers what the key already
    /// holds otherwise: a finished response, or one still in progress (status 0). A reservation
    /// left in progress for [`ABANDONED_AFTER_SECS`] (its server died) is taken over.
    pub async fn reserve_idempotency_key(
        &self,
        merchant_id: &str,
        key: &str,
        request_hash: &str,
        now: i64,
    ) -> Result<Reservation, sqlx::Error> {
        let inserted = affected(
            sqlx::query(
                "INSERT INTO idempotency_keys (merchant_id, idem_key, request_hash, status, body, created_at)
                 VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (merchant_id, idem_key) DO NOTHING",
            )
            .bind(merchant_id)
            .bind(key)
            .bind(request_hash)
            .bind(now)
            .execute(&self.writer)
            .await?,
        );
        if inserted == 1 {
            return Ok(Reservation::Reserved);
        }
        let taken_over = affected(
            sqlx::query(
                "UPDATE idempotency_keys SET request_hash = $3, created_at = $4
                 WHERE merchant_id = $1 AND idem_key = $2 AND status = 0 AND created_at < $5",
            )
            .bind(merchant_id)
            .bind(key)
            .bind(request_hash)
            .bind(now)
            .bind(now - ABANDONED_AFTER_SECS)
            .execute(&self.writer)
            .await?,
        );
        if taken_over == 1 {
            return Ok(Reservation::Reserved);
        }
        let row = sqlx::query(
            "SELECT request_hash, status, body FROM idempotency_keys WHERE merchant_id = $1 AND idem_key = $2",
        )
        .bind(merchant_id)
        .bind(key)
        .fetch_optional(&self.writer)
        .await?;
        Ok(match row {
            Some(r) => Reservation::Taken(StoredResponse {
                request_hash: r.try_get("request_hash")?,
                status: u16::try_from(r.try_get::<i64, _>("status")?).unwrap_or(200),
                body: r.try_get("body")?,
            }),
            // purged in between: nobody holds it, but this request did not reserve it either
            None => Reservation::Taken(StoredResponse {
                request_hash: request_hash.to_string(),
                status: IN_PROGRESS,
                body: String::new(),
            }),
        })
    }

    /// Records the response of the request that reserved `key`.
    pub async fn store_response(
        &self,
        merchant_id: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $3, body = $4
             WHERE merchant_id = $1 AND idem_key = $2 AND request_hash = $5 AND status = 0",
        )
        .bind(merchant_id)
        .bind(key)
        .bind(i64::from(response.status))
        .bind(&response.body)
        .bind(&response.request_hash)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Frees a reservation whose request failed, so the client may retry with the same key.
    pub async fn release_idempotency_key(
        &self,
        merchant_id: &str,
        key: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE merchant_id = $1 AND idem_key = $2 AND status = 0",
        )
        .bind(merchant_id)
        .bind(key)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}

fn bind_subscription<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    merchant_id: &'q str,
    s: &'q Subscription,
    source_time: i64,
    now: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(merchant_id)
        .bind(&s.id)
        .bind(&s.customer_id)
        .bind(s.status.as_str())
        .bind(i64::from(s.cancel_at_period_end))
        .bind(s.cancel_at)
        .bind(s.canceled_at)
        .bind(s.current_period_end)
        .bind(s.trial_end)
        .bind(s.created)
        .bind(items_json(&s.items))
        .bind(source_time)
        .bind(now)
}

/// The customer's mirrored subscriptions become exactly `subscriptions`, synced at `now`.
async fn write_subscriptions(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    merchant_id: &str,
    customer_id: &str,
    subscriptions: &[Subscription],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM subscriptions WHERE merchant_id = $1 AND customer_id = $2")
        .bind(merchant_id)
        .bind(customer_id)
        .execute(&mut **tx)
        .await?;
    for s in subscriptions {
        bind_subscription(sqlx::query(UPSERT_SUBSCRIPTION), merchant_id, s, now, now)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("UPDATE customers SET synced_at = $1 WHERE merchant_id = $2 AND customer_id = $3")
        .bind(now)
        .bind(merchant_id)
        .bind(customer_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
