//! What every handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::accounts::Accounts;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::entropy::Entropy;
use crate::oauth::clients::Clients;
use crate::oauth::tokens::TokenService;
use crate::payments::Payments;
use crate::portal::Portal;
use crate::sso::Sso;
use crate::stripe_simulator::Simulator;

/// A handle on the one [`Shared`] context: axum clones the state for every extractor and
/// middleware of every request, so the clone is one reference count (`perf` showed copying
/// each handle, and dropping the copies, at 5 % of a bearer read).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// leptos_axum's handlers take the options from the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub struct Shared {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Clock,
    /// Where every id, secret and one-time token comes from (the OS; a seed only in tests).
    pub entropy: Entropy,
    pub leptos_options: LeptosOptions,
    /// Merchant accounts: sign-up and log-in within their limits.
    pub accounts: Arc<Accounts>,
    /// Outgoing mail (SMTP, or the development outbox).
    pub mailer: Arc<crate::mail::Mailer>,
    pub tokens: Arc<TokenService>,
    /// The merchants' OAuth clients.
    pub clients: Clients,
    pub payments: Arc<Payments>,
    pub sso: Arc<Sso>,
    /// The subscriber portal: SSO's portal session, the account and the payments mirror.
    pub portal: Portal,
    /// The built-in Stripe simulator, when no Stripe keys are configured.
    pub simulator: Option<Simulator>,
}
