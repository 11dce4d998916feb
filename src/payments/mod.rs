//! Payments: the merchant's connection to their payment gateway, the customers their backend
//! pushes (keyed by the merchant's own subscriber id), and a local mirror of those customers'
//! subscriptions, kept fresh by webhooks, so reads answer from the database. Everything here is
//! gateway-neutral: it talks to a [`PaymentGateway`] and never to Stripe directly. Time is a
//! parameter (`now`, unix seconds).

pub mod commands;
pub mod customers;
pub mod doctor;
mod error;
pub mod gateway;
pub mod gateways;
pub mod reconcile;

use std::sync::Arc;

pub use self::error::PaymentsError;

use self::customers::{CustomerId, ReturnUrl, SubscriberId};
use self::gateway::{
    ConnectRequest, ConnectedAccount, GatewayError, PaymentGateway, PortalSession, Subscription,
    SubscriptionStatus, WebhookAction, WebhookError, WebhookEvent,
};
use crate::db::payments::{
    ConnectionRow, CustomerFilter, CustomerListRow, CustomerRow, SubscriptionRow,
    UpsertCustomerError, Upserted,
};
use crate::db::Db;

/// The statuses the customer list filters on: a subscription status, `cancelling` (current,
/// with an end date set) or `none` (no subscription).
pub const LIST_STATUSES: [&str; 10] = [
    "active",
    "trialing",
    "past_due",
    "cancelling",
    "canceled",
    "unpaid",
    "paused",
    "incomplete",
    "incomplete_expired",
    "none",
];

/// What the overview shows of the merchant's current subscriptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub active: i64,
    pub trialing: i64,
    pub past_due: i64,
    /// Current ones with an end date set (they stop at the end of the period).
    pub cancelling: i64,
    /// Monthly recurring revenue by currency (lower case), in the smallest unit: what the
    /// active and past-due subscriptions bill, each price brought to a month (trials are not
    /// revenue yet; a cancelling subscription counts until it ends).
    pub mrr: std::collections::BTreeMap<String, i64>,
}

/// A page of the dashboard's customer list.
#[derive(Debug, Clone)]
pub struct CustomerList {
    pub rows: Vec<CustomerListRow>,
    /// Whether more customers follow the last row.
    pub more: bool,
    /// How many customers match the filter, on every page.
    pub matching: i64,
}

/// Who revoked a connection.
pub const REVOKED_BY_MERCHANT: &str = "merchant";
pub const REVOKED_BY_GATEWAY: &str = "gateway";
/// A stored webhook event that failed to apply is retried this many times.
const MAX_EVENT_ATTEMPTS: i64 = 10;

/// Cheap to clone: webhook work that needs the gateway runs on a clone after the delivery was
/// acknowledged.
#[derive(Clone)]
pub struct Payments {
    pub gateway: Arc<dyn PaymentGateway>,
    db: Db,
}

/// What the webhook endpoint did with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Stored and applied (or stored, to be applied by the retry loop).
    Stored { id: String, event_type: String },
    /// Seen before: nothing done.
    Duplicate(String),
}

impl Payments {
    pub fn new(gateway: Arc<dyn PaymentGateway>, db: Db) -> Self {
        Self { gateway, db }
    }

    // -----------------------------------------------------------------------------------------
    // connecting

    pub async fn connection(
        &self,
        merchant_id: &str,
    ) -> Result<Option<ConnectionRow>, PaymentsError> {
        Ok(self.db.connection(merchant_id).await?)
    }

    pub fn connect_url(&self, request: &ConnectRequest<'_>) -> String {
        self.gateway.connect_url(request)
    }

    /// Finishes the OAuth round trip: trades the code and records the connected account.
    /// Customers pushed from another (previously connected) account are forgotten with their
    /// mirror: their ids mean nothing on this one. Returns how many were.
    pub async fn complete_connect(
        &self,
        merchant_id: &str,
        code: &str,
        redirect_uri: &str,
        now: i64,
        audit: Option<crate::db::account::Audit>,
    ) -> Result<(ConnectedAccount, u64), GatewayError> {
        let account = self.gateway.exchange_code(code, redirect_uri).await?;
        let forgotten = self
            .db
            .save_connection(
                &ConnectionRow {
                    merchant_id: merchant_id.into(),
                    gateway: self.gateway.name().into(),
                    account_id: account.account_id.clone(),
                    livemode: account.livemode,
                    scope: account.scope.clone(),
                    business_name: account.business_name.clone(),
                    connected_at: now,
                    revoked_at: None,
                    revoked_by: None,
                    last_webhook_at: None,
                },
                audit.as_ref(),
            )
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not store the connection");
                GatewayError::Unavailable {
                    message: "The connection could not be saved; please try again.".into(),
                    request_id: None,
                }
            })?;
        tracing::info!(merchant = %merchant_id, account = %account.account_id, livemode = account.livemode, forgotten_customers = forgotten, "payment gateway connected");
        Ok((account, forgotten))
    }

    /// Revokes subgate's access at the gateway, then marks the connection revoked, once the
    /// merchant has typed the account id (`typed`): every call that needs the gateway stops at
    /// once, so a stray click must not do it.
    pub async fn disconnect(
        &self,
        merchant_id: &str,
        typed: Option<&str>,
        now: i64,
        audit: Option<crate::db::account::Audit>,
    ) -> Result<(), PaymentsError> {
        let connection = self.active_connection(merchant_id).await?;
        if typed.map(str::trim) != Some(connection.account_id.as_str()) {
            return Err(PaymentsError::invalid(format!(
                "To revoke access, type the account id {} exactly.",
                connection.account_id
            )));
        }
        self.gateway
            .revoke(&connection.account_id)
            .await
            .map_err(|e| self.gateway_error(e))?;
        self.db
            .revoke_connection(merchant_id, REVOKED_BY_MERCHANT, now, audit.as_ref())
            .await?;
        tracing::info!(merchant = %merchant_id, account = %connection.account_id, "payment gateway disconnected");
        Ok(())
    }

    /// The merchant's working connection, or the 409 every Stripe-backed call answers with.
    pub async fn active_connection(
        &self,
        merchant_id: &str,
    ) -> Result<ConnectionRow, PaymentsError> {
        let connection = self.db.connection(merchant_id).await?;
        self.require_active(connection)
    }

    /// The connection when it is active, else the error that says why not.
    fn require_active(
        &self,
        connection: Option<ConnectionRow>,
    ) -> Result<ConnectionRow, PaymentsError> {
        match connection {
            Some(c) if c.is_active() => Ok(c),
            other => Err(PaymentsError::NotConnected {
                gateway: self.gateway.display_name(),
                revoked: other.is_some(),
            }),
        }
    }

    /// Maps a gateway failure to the domain's error. A revoked access also marks revoked the
    /// connections to the account the call was made on (`account_id`), and only those: a call
    /// on an account the merchant no longer uses says nothing about their current one.
    async fn gateway_failed(&self, account_id: &str, e: GatewayError, now: i64) -> PaymentsError {
        if e == GatewayError::AccessRevoked {
            tracing::warn!(account = %account_id, "gateway says access was revoked");
            if let Err(db) = self
                .db
                .revoke_account_connections(
                    self.gateway.name(),
                    account_id,
                    REVOKED_BY_GATEWAY,
                    now,
                )
                .await
            {
                tracing::error!(error = %db, "could not mark the connection revoked");
            }
        }
        self.gateway_error(e)
    }

    fn gateway_error(&self, error: GatewayError) -> PaymentsError {
        PaymentsError::Gateway {
            gateway: self.gateway.display_name(),
            error,
        }
    }

    // -----------------------------------------------------------------------------------------
    // customers

    /// Links the merchant's subscriber to a customer on their connected account (which must
    /// exist there) and mirrors its subscriptions. Idempotent on the subscriber id.
    pub async fn push_customer(
        &self,
        merchant_id: &str,
        subscriber_id: &SubscriberId,
        customer_id: &CustomerId,
        email: Option<String>,
        now: i64,
    ) -> Result<(CustomerRow, Upserted), PaymentsError> {
        let connection = self.active_connection(merchant_id).await?;
        let account = &connection.account_id;
        let found = match self
            .gateway
            .fetch_customer(account, customer_id.as_str())
            .await
        {
            Ok(c) => c,
            Err(GatewayError::NotFound(_)) => {
                return Err(PaymentsError::NotFound(format!(
                    "There is no customer {customer_id} on your connected {} account.",
                    self.gateway.display_name()
                )))
            }
            Err(e) => return Err(self.gateway_failed(account, e, now).await),
        };
        let subscriptions = match self
            .gateway
            .list_subscriptions(account, customer_id.as_str())
            .await
        {
            Ok(s) => s,
            Err(e) => return Err(self.gateway_failed(account, e, now).await),
        };
        let row = CustomerRow {
            merchant_id: merchant_id.into(),
            subscriber_id: subscriber_id.as_str().into(),
            customer_id: customer_id.as_str().into(),
            account_id: account.clone(),
            email: email.or(found.email),
            created_at: now,
            updated_at: now,
            synced_at: Some(now),
        };
        let outcome = self
            .db
            .upsert_customer(&row, &subscriptions)
            .await
            .map_err(|e| match e {
                UpsertCustomerError::CustomerTaken(other) if other.is_empty() => {
                    PaymentsError::Conflict(format!(
                        "Customer {customer_id} is already linked to another subscriber."
                    ))
                }
                UpsertCustomerError::CustomerTaken(other) => PaymentsError::Conflict(format!(
                    "Customer {customer_id} is already linked to subscriber \"{other}\"."
                )),
                UpsertCustomerError::Db(e) => e.into(),
            })?;
        let stored = self.customer(merchant_id, subscriber_id).await?;
        Ok((stored, outcome))
    }

    pub async fn customer(
        &self,
        merchant_id: &str,
        subscriber_id: &SubscriberId,
    ) -> Result<CustomerRow, PaymentsError> {
        self.db
            .customer(merchant_id, subscriber_id.as_str())
            .await?
            .ok_or_else(|| no_customer(subscriber_id))
    }

    /// Up to `limit` customers after the cursor; the bool says whether more follow.
    pub async fn customers_page(
        &self,
        merchant_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<(Vec<CustomerRow>, bool), PaymentsError> {
        let mut rows = self
            .db
            .customers_page(merchant_id, after, limit + 1)
            .await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        Ok((rows, more))
    }

    pub async fn delete_customer(
        &self,
        merchant_id: &str,
        subscriber_id: &SubscriberId,
    ) -> Result<(), PaymentsError> {
        if self
            .db
            .delete_customer(merchant_id, subscriber_id.as_str())
            .await?
        {
            Ok(())
        } else {
            Err(no_customer(subscriber_id))
        }
    }

    /// A page of the dashboard's customer list: the rows, whether more follow, and how many
    /// customers match the filter in all.
    pub async fn customer_list(
        &self,
        merchant_id: &str,
        filter: &CustomerFilter,
        after: Option<&str>,
        limit: i64,
    ) -> Result<CustomerList, PaymentsError> {
        if let Some(status) = filter.status.as_deref() {
            if !LIST_STATUSES.contains(&status) {
                return Err(PaymentsError::invalid(format!(
                    "status: one of {}.",
                    LIST_STATUSES.join(", ")
                )));
            }
        }
        if filter
            .search
            .as_deref()
            .is_some_and(|q| q.chars().count() > 200)
        {
            return Err(PaymentsError::invalid("search: at most 200 characters."));
        }
        let (mut rows, matching) = self
            .db
            .customer_list(merchant_id, filter, after, limit + 1)
            .await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        Ok(CustomerList {
            rows,
            more,
            matching,
        })
    }

    /// A customer and their mirrored subscriptions (newest first), as last synced, whatever
    /// the state of the connection.
    pub async fn customer_detail(
        &self,
        merchant_id: &str,
        subscriber_id: &SubscriberId,
    ) -> Result<(CustomerRow, Vec<SubscriptionRow>), PaymentsError> {
        let customer = self.customer(merchant_id, subscriber_id).await?;
        let subscriptions = self
            .db
            .customer_subscriptions(merchant_id, &customer.customer_id)
            .await?;
        Ok((customer, subscriptions))
    }

    /// The overview's one click: links one of the connected account's customers (the first by
    /// email not linked yet) as subscriber `demo-<name>`. Only on a test-mode account (the
    /// simulator's is one): live customers are pushed by the merchant's backend.
    pub async fn push_demo_customer(
        &self,
        merchant_id: &str,
        now: i64,
    ) -> Result<SubscriberId, PaymentsError> {
        let connection = self.active_connection(merchant_id).await?;
        let account = &connection.account_id;
        if connection.livemode {
            return Err(PaymentsError::Conflict(
                "Demo customers are for a test-mode account; on a live account your backend pushes real ones.".into(),
            ));
        }
        let mut found = match self.gateway.list_customers(account, 100).await {
            Ok(found) => found,
            Err(e) => return Err(self.gateway_failed(account, e, now).await),
        };
        found.sort_by(|a, b| a.email.cmp(&b.email));
        for c in found {
            let name = c
                .email
                .as_deref()
                .and_then(|e| e.split('@').next())
                .filter(|n| !n.is_empty())
                .unwrap_or(&c.id);
            let Ok(subscriber) = SubscriberId::parse(&format!("demo-{name}")) else {
                continue;
            };
            let Ok(customer) = CustomerId::parse(&c.id) else {
                continue;
            };
            if self
                .db
                .customer(merchant_id, subscriber.as_str())
                .await?
                .is_some()
            {
                continue;
            }
            match self
                .push_customer(merchant_id, &subscriber, &customer, None, now)
                .await
            {
                Ok(_) => return Ok(subscriber),
                // linked already, under another subscriber id
                Err(PaymentsError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(PaymentsError::Conflict(format!(
            "Every customer of your {} test account is linked already.",
            self.gateway.display_name()
        )))
    }

    /// Forgets a customer from the dashboard, where the merchant typed the subscriber id to
    /// confirm.
    pub async fn forget_customer(
        &self,
        merchant_id: &str,
        subscriber_id: &SubscriberId,
        typed: Option<&str>,
    ) -> Result<(), PaymentsError> {
        if typed.map(str::trim) != Some(subscriber_id.as_str()) {
            return Err(PaymentsError::invalid(format!(
                "To forget this customer, type the subscriber id {subscriber_id} exactly."
            )));
        }
        self.delete_customer(merchant_id, subscriber_id).await
    }

    /// The overview's figures: current subscriptions by state, and monthly recurring revenue.
    pub async fn figures(&self, merchant_id: &str) -> Result<Figures, PaymentsError> {
        let mut f = Figures::default();
        for row in self.db.current_subscriptions(merchant_id).await? {
            let s = &row.subscription;
            match s.status {
                SubscriptionStatus::Active => f.active += 1,
                SubscriptionStatus::Trialing => f.trialing += 1,
                _ => f.past_due += 1,
            }
            if s.ends_at().is_some() {
                f.cancelling += 1;
            }
            if s.status == SubscriptionStatus::Trialing {
                continue;
            }
            for item in &s.items {
                if let Some(amount) = item.monthly_amount() {
                    *f.mrr.entry(item.currency.to_lowercase()).or_default() += amount;
                }
            }
        }
        Ok(f)
    }

    // -----------------------------------------------------------------------------------------
    // subscriptions

    /// The subscriber's subscriptions from the mirror; `refresh` pulls them from the gateway first.
    pub async fn subscriptions(
        &self,
        merchant_id: &str,
        subscriber_id: &SubscriberId,
        refresh: bool,
        now: i64,
    ) -> Result<(CustomerRow, Vec<SubscriptionRow>), PaymentsError> {
        if !refresh {
            // the common read: one query for the customer, the connection and the mirror
            let found = self
                .db
                .customer_mirror(merchant_id, subscriber_id.as_str())
                .await?
                .ok_or_else(|| no_customer(subscriber_id))?;
            self.require_active(found.connection)?;
            return Ok((found.customer, found.subscriptions));
        }
        let (customer, connection) = self
            .customer_on_connection(merchant_id, subscriber_id)
            .await?;
        let account = &connection.account_id;
        let fresh = match self
            .gateway
            .list_subscriptions(account, &customer.customer_id)
            .await
        {
            Ok(s) => s,
            Err(e) => return Err(self.gateway_failed(account, e, now).await),
        };
        self.db
            .replace_subscriptions(merchant_id, &customer.customer_id, &fresh, now)
            .await?;
        let rows = self
            .db
            .customer_subscriptions(merchant_id, &customer.customer_id)
            .await?;
        Ok((customer, rows))
    }

    /// The customer and the merchant's active connection, which must be the account the
    /// customer was pushed from (reconnecting another account forgets the old one's customers;
    /// this guards the moment in between).
    async fn customer_on_connection(
        &self,
        merchant_id: &str,
        subscriber_id: &SubscriberId,
    ) -> Result<(CustomerRow, ConnectionRow), PaymentsError> {
        let customer = self.customer(merchant_id, subscriber_id).await?;
        let connection = self.active_connection(merchant_id).await?;
        if customer.account_id != connection.account_id {
            return Err(no_customer(subscriber_id));
        }
        Ok((customer, connection))
    }

    /// One subscription of one of the merchant's customers.
    pub async fn subscription(
        &self,
        merchant_id: &str,
        subscription_id: &str,
        refresh: bool,
        now: i64,
    ) -> Result<SubscriptionRow, PaymentsError> {
        let missing = || {
            PaymentsError::NotFound(format!(
                "No subscription \"{}\".",
                subscription_id.escape_default()
            ))
        };
        let connection = self.active_connection(merchant_id).await?;
        let stored = self.db.subscription(merchant_id, subscription_id).await?;
        if !refresh {
            return stored.ok_or_else(missing);
        }
        let fresh = match self
            .gateway
            .fetch_subscription(&connection.account_id, subscription_id)
            .await
        {
            Ok(s) => s,
            Err(GatewayError::NotFound(_)) => return Err(missing()),
            Err(e) => return Err(self.gateway_failed(&connection.account_id, e, now).await),
        };
        // only subscriptions of customers this merchant pushed are theirs to read here
        let owners = self
            .db
            .merchants_with_customer(
                &connection.gateway,
                &connection.account_id,
                &fresh.customer_id,
            )
            .await?;
        if !owners.iter().any(|m| m == merchant_id) {
            return Err(missing());
        }
        self.db
            .upsert_subscription(merchant_id, &fresh, now, now)
            .await?;
        self.db
            .subscription(merchant_id, subscription_id)
            .await?
            .ok_or_else(missing)
    }

    /// A customer-portal session on the gateway for the subscriber.
    pub async fn portal_session(
        &self,
        merchant_id: &str,
        subscriber_id: &SubscriberId,
        return_url: &ReturnUrl,
        now: i64,
    ) -> Result<PortalSession, PaymentsError> {
        let (customer, connection) = self
            .customer_on_connection(merchant_id, subscriber_id)
            .await?;
        let account = &connection.account_id;
        match self
            .gateway
            .create_portal_session(account, &customer.customer_id, return_url.as_str())
            .await
        {
            Ok(s) => Ok(s),
            Err(GatewayError::NotFound(_)) => Err(PaymentsError::NotFound(format!(
                "The customer {} no longer exists on your connected {} account.",
                customer.customer_id,
                self.gateway.display_name()
            ))),
            Err(e) => Err(self.gateway_failed(account, e, now).await),
        }
    }

    // -----------------------------------------------------------------------------------------
    // webhooks

    /// The request header a webhook delivery's signature is read from.
    pub fn webhook_signature_header(&self) -> &'static str {
        self.gateway.webhook_signature_header()
    }

    /// Verifies, de-duplicates, stores and applies one delivery. Once stored, the event is
    /// acknowledged even if applying it fails (a retry loop applies it later), so the gateway
    /// does not redeliver forever.
    pub async fn receive_webhook(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<Received, ReceiveError> {
        self.gateway.verify_webhook(signature, body, now)?;
        let event = self.gateway.parse_event(body)?;
        let payload = String::from_utf8_lossy(body);
        let fresh = self
            .db
            .insert_webhook_event(self.gateway.name(), &event, &payload, now)
            .await
            .map_err(ReceiveError::Store)?;
        if !fresh {
            tracing::info!(event = %event.id, "duplicate webhook delivery ignored");
            return Ok(Received::Duplicate(event.id));
        }
        if matches!(event.action, WebhookAction::SubscriptionRefetch(_)) {
            // the gateway must be asked: acknowledge now (the event is stored), apply after,
            // so a slow gateway never holds the delivery past its deadline
            let payments = self.clone();
            let deferred = event.clone();
            tokio::spawn(async move { payments.apply_stored(&deferred, now).await });
        } else {
            self.apply_stored(&event, now).await;
        }
        Ok(Received::Stored {
            id: event.id,
            event_type: event.event_type,
        })
    }

    /// Applies one stored event and records the outcome; true when it was applied.
    async fn apply_stored(&self, event: &WebhookEvent, now: i64) -> bool {
        match self.apply(event, now).await {
            Ok(()) => {
                if let Err(e) = self.db.webhook_event_processed(&event.id, now).await {
                    tracing::error!(event = %event.id, error = %e, "could not mark the event processed");
                }
                if let Some(account) = &event.account_id {
                    if let Err(e) = self
                        .db
                        .note_event_applied(self.gateway.name(), account, event.created, &event.id)
                        .await
                    {
                        tracing::warn!(event = %event.id, error = %e, "could not note the event applied");
                    }
                }
                true
            }
            Err(e) => {
                tracing::warn!(event = %event.id, error = %e, "applying the event failed; it will be retried");
                let _ = self.db.webhook_event_failed(&event.id).await;
                false
            }
        }
    }

    async fn apply(&self, event: &WebhookEvent, now: i64) -> Result<(), PaymentsError> {
        let gateway = self.gateway.name();
        let Some(account) = event.account_id.as_deref() else {
            // the platform's own events: nothing of a merchant's
            return Ok(());
        };
        self.db
            .touch_connection_webhook(gateway, account, now)
            .await?;
        let (subscription, source_time) = match &event.action {
            WebhookAction::Ignored => return Ok(()),
            WebhookAction::AccountDeauthorized => {
                let n = self
                    .db
                    .revoke_account_connections(gateway, account, REVOKED_BY_GATEWAY, now)
                    .await?;
                tracing::info!(account = %account, connections = n, "access revoked from the gateway's side");
                return Ok(());
            }
            WebhookAction::SubscriptionChanged(s) => (s.clone(), event.created),
            WebhookAction::SubscriptionRefetch(id) => {
                match self.gateway.fetch_subscription(account, id).await {
                    Ok(s) => (s, now),
                    Err(GatewayError::NotFound(_)) | Err(GatewayError::AccessRevoked) => {
                        return Ok(())
                    }
                    Err(e) => return Err(self.gateway_error(e)),
                }
            }
        };
        let merchants = self
            .db
            .merchants_with_customer(gateway, account, &subscription.customer_id)
            .await?;
        for merchant in &merchants {
            // events carry `price.product` as an id: keep the names the mirror has
            let mut named = subscription.clone();
            if let Some(stored) = self.db.subscription(merchant, &named.id).await? {
                named.name_products(&stored.subscription.product_names());
            }
            self.db
                .upsert_subscription(merchant, &named, source_time, now)
                .await?;
            if named.unnamed_products().next().is_some() {
                let payments = self.clone();
                let (merchant, account) = (merchant.clone(), account.to_string());
                tokio::spawn(async move {
                    payments
                        .name_later(&merchant, &account, named, source_time, now)
                        .await
                });
            }
        }
        Ok(())
    }

    /// Asks the gateway for the product names an event did not carry and the mirror did not
    /// know (a new product), then stores the same state with them.
    async fn name_later(
        &self,
        merchant_id: &str,
        account_id: &str,
        mut subscription: Subscription,
        source_time: i64,
        now: i64,
    ) {
        let ids: Vec<&str> = subscription.unnamed_products().collect();
        match self.gateway.product_names(account_id, &ids).await {
            Ok(names) => {
                subscription.name_products(&names);
                if let Err(e) = self
                    .db
                    .upsert_subscription(merchant_id, &subscription, source_time, now)
                    .await
                {
                    tracing::warn!(subscription = %subscription.id, error = %e, "could not store product names");
                }
            }
            Err(e) => {
                tracing::warn!(subscription = %subscription.id, error = %e, "product names unavailable; the next reconcile fills them in")
            }
        }
    }

    /// Applies events that were stored but not applied (the server failed in between).
    pub async fn retry_pending_events(&self, now: i64) -> Result<usize, PaymentsError> {
        let pending = self
            .db
            .pending_webhook_events(now - 30, MAX_EVENT_ATTEMPTS, 100)
            .await?;
        let n = pending.len();
        for stored in pending {
            if stored.gateway != self.gateway.name() {
                continue;
            }
            match self.gateway.parse_event(stored.payload.as_bytes()) {
                Ok(event) => {
                    self.apply_stored(&event, now).await;
                }
                Err(e) => {
                    tracing::error!(event = %stored.id, attempts = stored.attempts, error = %e, "stored event no longer parses");
                    let _ = self.db.webhook_event_failed(&stored.id).await;
                }
            }
        }
        Ok(n)
    }
}

/// Why a webhook delivery was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// The delivery itself is bad: 400, the gateway should not retry it as is.
    #[error(transparent)]
    Rejected(#[from] WebhookError),
    /// It could not be stored: 5xx, the gateway retries later.
    #[error("could not store the event: {0}")]
    Store(sqlx::Error),
}

fn no_customer(subscriber_id: &SubscriberId) -> PaymentsError {
    PaymentsError::NotFound(format!(
        "No customer with subscriber id \"{subscriber_id}\"."
    ))
}
