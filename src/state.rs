//! What every handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::accounts::LoginThrottle;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::oauth::clients::SecretHasher;
use crate::oauth::tokens::TokenService;
use crate::payments::gateways::stripe::simulator::Simulator;
use crate::payments::Payments;
use crate::sso::Sso;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub leptos_options: LeptosOptions,
    pub login_throttle: Arc<LoginThrottle>,
    pub tokens: Arc<TokenService>,
    pub client_secrets: SecretHasher,
    pub payments: Arc<Payments>,
    pub sso: Arc<Sso>,
    /// The built-in Stripe simulator, when no Stripe keys are configured.
    pub simulator: Option<Simulator>,
}
