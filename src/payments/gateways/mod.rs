//! Payment gateways, one folder each. A gateway turns the neutral calls of
//! [`PaymentGateway`](super::gateway::PaymentGateway) into its own REST API and converts its wire
//! types back; nothing outside its folder knows its wire format. Adding a gateway is adding a
//! folder and one arm in [`build`].

pub mod stripe;

use std::path::PathBuf;
use std::sync::Arc;

use url::Url;

use self::stripe::{StripeGateway, StripeSettings};
use super::gateway::{GatewayError, PaymentGateway};
use crate::config::{Config, StripeMode};

/// Where the embedded Stripe simulator is mounted on this server.
pub const SIMULATOR_PATH: &str = "/_stripe";
const SIMULATOR_SECRET_KEY: &str = "sk_test_subgate_simulator";
const SIMULATOR_CLIENT_ID: &str = "ca_subgate_simulator";

pub struct Built {
    pub gateway: Arc<dyn PaymentGateway>,
    /// When no Stripe keys are configured: the embedded simulator the gateway was built to talk
    /// to, which the caller starts and mounts at [`SIMULATOR_PATH`] (payments never starts it).
    pub simulator: Option<EmbeddedSimulator>,
}

/// The embedded Stripe simulator a simulated gateway expects: its keys, its public address, and
/// where it delivers webhooks.
#[derive(Debug, Clone)]
pub struct EmbeddedSimulator {
    pub secret_key: String,
    pub client_id: String,
    /// `{public origin}/_stripe`: where browsers reach its Connect and portal pages.
    pub public_base: String,
    pub webhook_url: String,
    pub webhook_secret: String,
    /// Its data survives restarts here.
    pub state_file: PathBuf,
}

/// The gateway the configuration asks for. `local_origin` is how this server reaches itself
/// (`http://127.0.0.1:PORT`), used only by the embedded simulator.
pub fn build(config: &Config, local_origin: &str) -> Result<Built, GatewayError> {
    let stripe = &config.stripe;
    match &stripe.mode {
        StripeMode::Platform { .. } => {
            let settings = stripe_settings(config).ok_or_else(|| GatewayError::Unavailable {
                message: "no Stripe keys".into(),
                request_id: None,
            })?;
            Ok(Built {
                gateway: Arc::new(StripeGateway::new(settings)?),
                simulator: None,
            })
        }
        StripeMode::Simulated => {
            let url = |origin: &str| {
                Url::parse(&format!("{origin}{SIMULATOR_PATH}/")).map_err(|e| {
                    GatewayError::Unavailable {
                        message: format!("bad simulator URL: {e}"),
                        request_id: None,
                    }
                })
            };
            let public = config.public_origin();
            let webhook_secret = simulator_webhook_secret(config);
            let simulator = EmbeddedSimulator {
                secret_key: SIMULATOR_SECRET_KEY.into(),
                client_id: SIMULATOR_CLIENT_ID.into(),
                public_base: format!("{public}{SIMULATOR_PATH}"),
                webhook_url: format!("{local_origin}/webhooks/stripe"),
                webhook_secret: webhook_secret.clone(),
                state_file: config.data_dir.join("stripe-simulator.json"),
            };
            let gateway = StripeGateway::new(StripeSettings {
                secret_key: SIMULATOR_SECRET_KEY.into(),
                client_id: SIMULATOR_CLIENT_ID.into(),
                api_base: url(local_origin)?,
                connect_base: url(local_origin)?,
                authorize_base: url(&public)?,
                webhook_secrets: vec![webhook_secret],
                timeout: stripe.timeout,
                simulated: true,
            })?;
            tracing::warn!("no STRIPE_SECRET_KEY: Stripe is SIMULATED by the built-in simulator at {public}{SIMULATOR_PATH}/");
            Ok(Built {
                gateway: Arc::new(gateway),
                simulator: Some(simulator),
            })
        }
    }
}

/// The settings of the real Stripe platform the configuration names (`None`: simulated).
pub fn stripe_settings(config: &Config) -> Option<StripeSettings> {
    let stripe = &config.stripe;
    let StripeMode::Platform {
        secret_key,
        client_id,
    } = &stripe.mode
    else {
        return None;
    };
    Some(StripeSettings {
        secret_key: secret_key.clone(),
        client_id: client_id.clone(),
        api_base: stripe.api_base.clone(),
        connect_base: stripe.connect_base.clone(),
        authorize_base: stripe.connect_base.clone(),
        webhook_secrets: stripe.webhook_secrets.clone(),
        timeout: stripe.timeout,
        simulated: false,
    })
}

/// The embedded simulator's webhook secret, stable across restarts of this server.
fn simulator_webhook_secret(config: &Config) -> String {
    let key = config.secret_key.derive("stripe-simulator-webhook");
    format!("whsec_{}", &hex::encode(key)[..32])
}
