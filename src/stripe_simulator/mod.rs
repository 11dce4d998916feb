//! A local HTTP simulator of the part of Stripe's API and Stripe Connect OAuth that subgate
//! uses: the authorize page, token and deauthorize; accounts, customers, products, prices and
//! subscriptions (with items, prices and expandable products); billing-portal sessions with a
//! simulated portal page; and signed webhooks whenever its data changes. Tests point
//! async-stripe and the OAuth client at it by base URL; without Stripe keys the server embeds
//! it, so a newcomer can click through everything. Its JSON is built from Stripe's own example
//! objects (`fixtures.json`), so async-stripe reads it like Stripe's.
//!
//! Besides Stripe's API it has a control plane under `/_sim/` (and the same operations as
//! methods here) to change data as a merchant would in the Stripe Dashboard, revoke access from
//! Stripe's side, inject faults, and see the requests it received and the events it sent.

mod api;
mod control;
mod http;
mod objects;
mod portal;
pub mod rules;
mod state;
mod webhooks;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{mpsc, Notify};

use self::rules::Violation;
use self::state::{Change, State, WebhookEndpoint};
use self::webhooks::Delivery;
use crate::clock::Clock;

/// How the simulator is set up.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// The platform secret key every API call must carry.
    pub secret_key: String,
    /// The platform's Connect client id, `ca_…`.
    pub client_id: String,
    /// How browsers reach the simulator (no trailing slash), e.g. `http://127.0.0.1:3000/_stripe`.
    pub public_base: String,
    /// Where signed events are posted (subgate's `/webhooks/stripe`); none: events are only logged.
    pub webhook_url: Option<String>,
    /// Each event is signed with every one of these (one `v1=` each, like Stripe during a roll).
    pub webhook_secrets: Vec<String>,
    /// Keeps the data across restarts (JSON, replaced atomically after each change).
    pub state_file: Option<PathBuf>,
    /// New accounts get demo customers, products and subscriptions.
    pub seed_demo_data: bool,
    pub clock: Clock,
}

/// Faults to inject into the API (`/v1`) and, for latency, Connect OAuth.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Every response waits this long first.
    pub latency_ms: u64,
    /// The next this-many API requests fail with `fail_status` (500 when 0).
    pub fail_next: u32,
    pub fail_status: u16,
    /// The next this-many API requests answer 429 `rate_limit`.
    pub rate_limit_next: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerSummary {
    pub id: String,
    pub email: String,
    pub name: String,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionSummary {
    pub id: String,
    pub customer: String,
    pub status: String,
    pub cancel_at_period_end: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSummary {
    pub id: String,
    pub business_name: String,
    pub email: String,
    pub authorized: bool,
    pub portal_configured: bool,
    pub customers: Vec<CustomerSummary>,
    pub subscriptions: Vec<SubscriptionSummary>,
}

/// One request the API or Connect OAuth received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The `Stripe-Account` header.
    pub stripe_account: Option<String>,
    /// It carried the platform secret key.
    pub authorized: bool,
    pub idempotency_key: Option<String>,
}

/// One event and what became of its delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveredEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub account: String,
    pub delivered: bool,
    pub attempts: u32,
    pub last_status: Option<u16>,
}

const MAX_RECORDED: usize = 1000;

/// A platform webhook endpoint as the control plane shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointSummary {
    pub id: String,
    pub url: String,
    pub api_version: String,
    pub enabled_events: Vec<String>,
    pub connect: bool,
    pub enabled: bool,
}

impl From<&WebhookEndpoint> for EndpointSummary {
    fn from(e: &WebhookEndpoint) -> Self {
        Self {
            id: e.id.clone(),
            url: e.url.clone(),
            api_version: e.api_version.clone(),
            enabled_events: e.enabled_events.clone(),
            connect: e.connect,
            enabled: e.enabled,
        }
    }
}

#[derive(Default)]
struct Log {
    requests: VecDeque<RecordedRequest>,
    events: VecDeque<DeliveredEvent>,
    violations: Vec<Violation>,
    faults: Faults,
    /// Parameter rules are recorded but not enforced (see [`Simulator::set_rules_enforced`]).
    rules_recorded_only: bool,
}

struct Inner {
    config: SimulatorConfig,
    state: Mutex<State>,
    log: Mutex<Log>,
    outbox: mpsc::UnboundedSender<Delivery>,
    pending: AtomicUsize,
    idle: Notify,
}

/// The simulator; cheap to clone (all clones share one state).
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

/// A simulator serving on its own loopback port.
#[derive(Clone)]
pub struct SimulatorHandle {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    pub simulator: Simulator,
}

/// The Stripe API version the simulated objects and events are in (async-stripe's pinned one).
pub fn api_version() -> &'static str {
    static PINNED: stripe_shared::ApiVersion = stripe_shared::version::VERSION;
    PINNED.as_str()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // a panic while holding the lock cannot leave the data half-written in a way that matters
    // to a simulator: keep serving
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Simulator {
    /// Loads `state_file` if present and starts the webhook sender (needs a tokio runtime).
    /// With a `webhook_url`, the platform has a Connect webhook endpoint there, in the pinned
    /// API version, for every event, signed with `webhook_secrets`.
    pub fn new(config: SimulatorConfig) -> Self {
        let mut state = config
            .state_file
            .as_ref()
            .and_then(|path| std::fs::read(path).ok())
            .and_then(|bytes| serde_json::from_slice::<State>(&bytes).ok())
            .unwrap_or_default();
        if let Some(url) = &config.webhook_url {
            let now = config.clock.now();
            if !state.webhook_endpoints.iter().any(|e| &e.url == url) {
                let endpoint =
                    WebhookEndpoint::new(url, api_version(), vec!["*".into()], true, now);
                state.webhook_endpoints.push(endpoint);
            }
            for e in state.webhook_endpoints.iter_mut().filter(|e| &e.url == url) {
                e.secrets = config.webhook_secrets.clone();
            }
        }
        let (outbox, inbox) = mpsc::unbounded_channel();
        let sim = Self {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(state),
                log: Mutex::new(Log::default()),
                outbox,
                pending: AtomicUsize::new(0),
                idle: Notify::new(),
            }),
        };
        tokio::spawn(webhooks::deliver(sim.clone(), inbox));
        sim
    }

    /// Every route, relative: serve it at a root or nest it under a prefix.
    pub fn router(&self) -> axum::Router {
        http::router(self.clone())
    }

    /// Serves a new simulator on `127.0.0.1:0`. An empty `public_base` becomes the bound URL.
    pub async fn spawn(mut config: SimulatorConfig) -> std::io::Result<SimulatorHandle> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        if config.public_base.is_empty() {
            config.public_base = base_url.clone();
        }
        let simulator = Self::new(config);
        let app = simulator.router();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "Stripe simulator stopped");
            }
        });
        Ok(SimulatorHandle {
            base_url,
            simulator,
        })
    }

    fn config(&self) -> &SimulatorConfig {
        &self.inner.config
    }

    fn now(&self) -> i64 {
        self.inner.config.clock.now()
    }

    /// Runs `change` on the state, saves it, and sends the events it caused.
    fn change<T>(&self, change: impl FnOnce(&mut State, i64) -> (T, Vec<Change>)) -> T {
        let now = self.now();
        let (out, changes) = {
            let mut state = lock(&self.inner.state);
            let result = change(&mut state, now);
            self.save(&state);
            result
        };
        for (kind, account, object, previous) in changes {
            self.emit(kind, &account, object, previous);
        }
        out
    }

    fn save(&self, state: &State) {
        let Some(path) = &self.config().state_file else {
            return;
        };
        let tmp = path.with_extension("json.tmp");
        let written = serde_json::to_vec(state)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "could not save the Stripe simulator's state");
        }
    }

    /// Records an event on the account (for `GET /v1/events`) and sends it to every endpoint
    /// that takes it, rendered in that endpoint's API version (rules::EVENT_SHAPE).
    fn emit(&self, kind: &str, account: &str, object: Value, previous: Option<Value>) {
        let now = self.now();
        let event = objects::event(kind, account, object, previous, api_version(), now);
        let deliveries: Vec<Delivery> = {
            let mut state = lock(&self.inner.state);
            if let Some(a) = state.accounts.get_mut(account) {
                a.record_event(event.clone(), now);
            }
            let deliveries = state
                .webhook_endpoints
                .iter()
                .filter(|e| e.receives(kind))
                .map(|e| Delivery {
                    url: e.url.clone(),
                    secrets: e.secrets.clone(),
                    event: objects::event_in_version(&event, &e.api_version),
                })
                .collect();
            self.save(&state);
            deliveries
        };
        let record = DeliveredEvent {
            id: event["id"].as_str().unwrap_or_default().into(),
            event_type: kind.into(),
            account: account.into(),
            delivered: false,
            attempts: 0,
            last_status: None,
        };
        {
            let mut log = lock(&self.inner.log);
            log.events.push_back(record);
            while log.events.len() > MAX_RECORDED {
                log.events.pop_front();
            }
        }
        for delivery in deliveries {
            self.inner.pending.fetch_add(1, Ordering::SeqCst);
            if self.inner.outbox.send(delivery).is_err() {
                self.delivery_done();
            }
        }
    }

    fn record_violation(&self, violation: Violation) {
        tracing::error!(rule = violation.rule, method = %violation.method, path = %violation.path, message = %violation.message, "Stripe would refuse this request");
        lock(&self.inner.log).violations.push(violation);
    }

    fn delivery_done(&self) {
        self.inner.pending.fetch_sub(1, Ordering::SeqCst);
        self.inner.idle.notify_waiters();
    }

    fn record_delivery(&self, id: &str, delivered: bool, attempts: u32, status: Option<u16>) {
        let mut log = lock(&self.inner.log);
        if let Some(e) = log.events.iter_mut().rev().find(|e| e.id == id) {
            e.delivered = delivered;
            e.attempts = attempts;
            e.last_status = status;
        }
    }

    fn record_request(&self, request: RecordedRequest) {
        let mut log = lock(&self.inner.log);
        log.requests.push_back(request);
        while log.requests.len() > MAX_RECORDED {
            log.requests.pop_front();
        }
    }

    // -----------------------------------------------------------------------------------------
    // the control plane

    pub fn accounts(&self) -> Vec<AccountSummary> {
        let state = lock(&self.inner.state);
        state
            .accounts
            .values()
            .map(|a| AccountSummary {
                id: a.id.clone(),
                business_name: a.business_name.clone(),
                email: a.email.clone(),
                authorized: a.authorized,
                portal_configured: a.portal_configured,
                customers: a
                    .customers
                    .values()
                    .map(|c| CustomerSummary {
                        id: c["id"].as_str().unwrap_or_default().into(),
                        email: c["email"].as_str().unwrap_or_default().into(),
                        name: c["name"].as_str().unwrap_or_default().into(),
                        deleted: c["deleted"] == Value::Bool(true),
                    })
                    .collect(),
                subscriptions: a
                    .subscriptions
                    .values()
                    .map(|s| SubscriptionSummary {
                        id: s["id"].as_str().unwrap_or_default().into(),
                        customer: s["customer"].as_str().unwrap_or_default().into(),
                        status: s["status"].as_str().unwrap_or_default().into(),
                        cancel_at_period_end: s["cancel_at_period_end"] == Value::Bool(true),
                    })
                    .collect(),
            })
            .collect()
    }

    /// A new account (seeded when configured), not yet connected to the platform.
    pub fn create_account(&self, business_name: &str, email: &str) -> String {
        let seed = self.config().seed_demo_data;
        self.change(|s, now| (s.account_for(business_name, email, seed, now), vec![]))
    }

    /// What the authorize page's "Connect" does: a fresh code for the account with this email
    /// (created if new).
    pub fn approve_authorization(&self, business_name: &str, email: &str) -> String {
        let seed = self.config().seed_demo_data;
        self.change(|s, now| {
            let account = s.account_for(business_name, email, seed, now);
            (s.issue_code(&account, now), vec![])
        })
    }

    fn on_account<T: Default>(
        &self,
        account: &str,
        f: impl FnOnce(&mut state::Account, i64) -> Result<(T, Vec<Change>), String>,
    ) -> Result<T, String> {
        self.change(|s, now| match s.accounts.get_mut(account) {
            Some(a) => match f(a, now) {
                Ok((out, changes)) => (Ok(out), changes),
                Err(e) => (Err(e), vec![]),
            },
            None => (Err(format!("No such account: '{account}'")), vec![]),
        })
    }

    fn logged<T: Default>(result: Result<T, String>) -> T {
        result.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "Stripe simulator control call failed");
            T::default()
        })
    }

    pub fn create_customer(&self, account: &str, email: &str, name: &str) -> String {
        Self::logged(self.on_account(account, |a, now| {
            Ok((a.add_customer(email, name, now), vec![]))
        }))
    }

    pub fn create_price(
        &self,
        account: &str,
        product_name: &str,
        unit_amount: i64,
        currency: &str,
        interval: &str,
        interval_count: i64,
    ) -> String {
        Self::logged(self.on_account(account, |a, now| {
            Ok((
                a.add_price(
                    product_name,
                    unit_amount,
                    currency,
                    interval,
                    interval_count,
                    now,
                ),
                vec![],
            ))
        }))
    }

    pub fn create_subscription(
        &self,
        account: &str,
        customer: &str,
        price: &str,
        quantity: u64,
        trial_days: Option<i64>,
    ) -> String {
        Self::logged(self.on_account(account, |a, now| {
            let (id, change) =
                a.create_subscription(customer, price, quantity, trial_days, now, now)?;
            Ok((id, vec![change]))
        }))
    }

    pub fn set_cancel_at_period_end(&self, account: &str, subscription: &str, cancel: bool) {
        Self::logged(self.on_account(account, |a, _| {
            Ok(((), vec![a.set_cancel_at_period_end(subscription, cancel)?]))
        }))
    }

    pub fn cancel_subscription(&self, account: &str, subscription: &str) {
        Self::logged(self.on_account(account, |a, now| {
            Ok(((), vec![a.cancel_subscription(subscription, now)?]))
        }))
    }

    pub fn delete_customer(&self, account: &str, customer: &str) {
        Self::logged(self.on_account(account, |a, now| {
            Ok(((), a.delete_customer(customer, now)?))
        }))
    }

    /// Revocation from Stripe's side: the account disconnects the platform.
    pub fn deauthorize(&self, account: &str) {
        let client_id = self.config().client_id.clone();
        Self::logged(self.on_account(account, |a, _| {
            a.authorized = false;
            Ok((
                (),
                vec![(
                    "account.application.deauthorized",
                    a.id.clone(),
                    objects::application(&client_id),
                    None,
                )],
            ))
        }))
    }

    /// "Cancel plan" in the customer portal: in flexible billing mode (the default) it sets
    /// `cancel_at`, leaving `cancel_at_period_end` false.
    pub fn portal_cancel(&self, account: &str, subscription: &str) {
        Self::logged(self.on_account(account, |a, _| {
            Ok(((), vec![a.portal_cancel(subscription)?]))
        }))
    }

    /// "Renew plan" in the customer portal.
    pub fn portal_renew(&self, account: &str, subscription: &str) {
        Self::logged(self.on_account(account, |a, _| {
            Ok(((), vec![a.portal_renew(subscription)?]))
        }))
    }

    /// The account's events as `GET /v1/events` would list them (oldest first here).
    pub fn account_events(&self, account: &str) -> Vec<Value> {
        let state = lock(&self.inner.state);
        state
            .accounts
            .get(account)
            .map(|a| a.events.clone())
            .unwrap_or_default()
    }

    pub fn webhook_endpoints(&self) -> Vec<EndpointSummary> {
        let state = lock(&self.inner.state);
        state
            .webhook_endpoints
            .iter()
            .map(EndpointSummary::from)
            .collect()
    }

    /// Changes the platform's endpoints as an operator would in the Dashboard.
    pub fn edit_webhook_endpoints(&self, edit: impl FnOnce(&mut Vec<EndpointSummary>)) {
        let mut state = lock(&self.inner.state);
        let mut summaries: Vec<EndpointSummary> = state
            .webhook_endpoints
            .iter()
            .map(EndpointSummary::from)
            .collect();
        edit(&mut summaries);
        let old = std::mem::take(&mut state.webhook_endpoints);
        state.webhook_endpoints = summaries
            .into_iter()
            .filter_map(|s| {
                let mut e = old.iter().find(|e| e.id == s.id)?.clone();
                e.url = s.url;
                e.api_version = s.api_version;
                e.enabled_events = s.enabled_events;
                e.connect = s.connect;
                e.enabled = s.enabled;
                Some(e)
            })
            .collect();
        self.save(&state);
    }

    /// Requests that broke one of Stripe's rules (see [`rules::RULES`]).
    pub fn violations(&self) -> Vec<Violation> {
        lock(&self.inner.log).violations.clone()
    }

    /// With `false`, a request that breaks a parameter rule is still recorded as a violation
    /// but then served: to see, in one run, every rule an older client breaks and what it does
    /// after. Enforced by default, and always in the test suite.
    pub fn set_rules_enforced(&self, enforced: bool) {
        lock(&self.inner.log).rules_recorded_only = !enforced;
    }

    pub fn rules_enforced(&self) -> bool {
        !lock(&self.inner.log).rules_recorded_only
    }

    /// The violations so far, forgotten (for tests that break rules on purpose).
    pub fn take_violations(&self) -> Vec<Violation> {
        std::mem::take(&mut lock(&self.inner.log).violations)
    }

    /// A customer-portal configuration made through the API (so not the default); its id.
    pub fn create_portal_configuration(&self, account: &str) -> String {
        Self::logged(self.on_account(account, |a, now| {
            let c = objects::portal_configuration(false, &[], now);
            let id = c["id"].as_str().unwrap_or_default().to_string();
            a.api_portal_configurations.push(c);
            Ok((id, vec![]))
        }))
    }

    pub fn set_portal_configured(&self, account: &str, configured: bool) {
        Self::logged(self.on_account(account, |a, _| {
            a.portal_configured = configured;
            Ok(((), vec![]))
        }))
    }

    pub fn set_faults(&self, faults: Faults) {
        lock(&self.inner.log).faults = faults;
    }

    pub fn faults(&self) -> Faults {
        lock(&self.inner.log).faults.clone()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.log).requests.iter().cloned().collect()
    }

    pub fn events(&self) -> Vec<DeliveredEvent> {
        lock(&self.inner.log).events.iter().cloned().collect()
    }

    /// Returns when every queued webhook has been attempted (at most 30 s).
    pub async fn wait_for_deliveries(&self) {
        let wait = async {
            loop {
                let idle = self.inner.idle.notified();
                if self.inner.pending.load(Ordering::SeqCst) == 0 {
                    return;
                }
                idle.await;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(30), wait).await;
    }
}
