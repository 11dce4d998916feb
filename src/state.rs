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

#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub leptos_options: LeptosOptions,
    pub login_throttle: Arc<LoginThrottle>,
    pub tokens: Arc<TokenService>,
    pub client_secrets: SecretHasher,
}
