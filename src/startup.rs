//! Builds the application: database, state, and the router with its layers, bound to a port.
//! `Application::build` with port 0 is what the tests use, so they run the real thing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;

use crate::accounts::{Accounts, LoginThrottle};
use crate::app::{shell, App};
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{Db, DbError};
use crate::entropy::Entropy;
use crate::mail::Mailer;
use crate::oauth::clients::{Clients, SecretHasher};
use crate::oauth::tokens::TokenService;
use crate::payments::gateways::{self, SIMULATOR_PATH};
use crate::payments::Payments;
use crate::portal::Portal;
use crate::sso::Sso;
use crate::state::{AppState, Shared};
use crate::stripe_simulator::{Simulator, SimulatorConfig};

pub struct Application {
    listener: TcpListener,
    router: Router,
    pub state: AppState,
}

impl Application {
    pub async fn build(
        config: Config,
        leptos_options: LeptosOptions,
        clock: Clock,
    ) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(config.site_addr)
            .await
            .map_err(StartupError::Bind)?;
        Self::with_listener(config, leptos_options, clock, Entropy::os(), listener).await
    }

    /// Like [`Application::build`] on a listener bound already (tests bind port 0 first, so the
    /// public URL they configure is the real one), with the randomness given (tests may seed it).
    pub async fn with_listener(
        config: Config,
        leptos_options: LeptosOptions,
        clock: Clock,
        entropy: Entropy,
        listener: TcpListener,
    ) -> Result<Self, StartupError> {
        let mut leptos_options = leptos_options;
        crate::http::assets::configure(&mut leptos_options);
        let db = Db::connect(&config.database_url).await?;
        db.migrate().await?;
        let local_origin = loopback_origin(listener.local_addr().map_err(StartupError::Bind)?);
        let payment_gateway = gateways::build(&config, &local_origin)
            .map_err(|e| StartupError::Gateway(e.to_string()))?;
        // the embedded Stripe simulator, when the gateway was built to talk to one
        let simulator = payment_gateway.simulator.map(|s| {
            Simulator::new(SimulatorConfig {
                secret_key: s.secret_key,
                client_id: s.client_id,
                public_base: s.public_base,
                webhook_url: Some(s.webhook_url),
                webhook_secrets: vec![s.webhook_secret],
                state_file: Some(s.state_file),
                seed_demo_data: true,
                clock: clock.clone(),
            })
        });
        let tokens = TokenService::new(
            db.clone(),
            &config.secret_key,
            entropy.clone(),
            config.public_origin(),
            config.api_audiences(),
        );
        tokens
            .keys
            .ensure_key(clock.now())
            .await
            .map_err(StartupError::SigningKey)?;
        let throttle = LoginThrottle {
            max_signups_per_ip: i64::from(config.signups_per_ip_per_hour),
            ..LoginThrottle::default()
        };
        let sso = Arc::new(Sso::new(db.clone(), &config.secret_key, entropy.clone()));
        let payments = Arc::new(Payments::new(payment_gateway.gateway, db.clone()));
        let hasher = SecretHasher::new(&config.secret_key, entropy.clone());
        let mailer = Mailer::new(&config.mail).map_err(|e| StartupError::Mail(e.to_string()))?;
        let state = AppState::new(Shared {
            db: db.clone(),
            accounts: Arc::new(Accounts::new(
                db.clone(),
                entropy.clone(),
                throttle,
                mailer.clone(),
                config.public_url.clone(),
                &config.secret_key,
            )),
            mailer,
            clients: Clients::new(db.clone(), hasher, config.api_audiences()),
            portal: Portal::new(
                db.clone(),
                sso.clone(),
                payments.clone(),
                &config.public_origin(),
            ),
            sso,
            payments,
            tokens: Arc::new(tokens),
            config: Arc::new(config),
            clock,
            entropy,
            leptos_options,
            simulator,
        });
        let router = router(state.clone());
        Ok(Self {
            listener,
            router,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.config.site_addr)
    }

    /// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        spawn_maintenance(self.state.clone());
        tracing::info!(addr = %self.local_addr(), public_url = %self.state.config.public_url, "subgate listening");
        use axum::serve::ListenerExt;
        // TCP_NODELAY: a streamed page goes out in several small writes, and with Nagle's
        // algorithm each one after the first waited for the client's delayed ACK (40 ms): the
        // SSR dashboard's p50 was 44 ms at any load
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        let db = self.state.db.clone();
        let served = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await;
        // the last minute's API call counts, before the process goes
        if let Err(e) = db.flush_api_calls().await {
            tracing::warn!(error = %e, "writing the API call counts at shutdown failed");
        }
        served
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("cannot listen: {0}")]
    Bind(std::io::Error),
    #[error("JWT signing key: {0}")]
    SigningKey(crate::oauth::jwt::KeyError),
    #[error("payment gateway: {0}")]
    Gateway(String),
    #[error("mail: {0}")]
    Mail(String),
}

/// How this server reaches itself: the bound port on the loopback address.
fn loopback_origin(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => {
            std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
        }
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// The Leptos pages (and the site's files) inside `http::router`'s layers; the Stripe simulator,
/// when it stands in for Stripe, beside them under its own path, where none of subgate's layers
/// apply.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let pages = Router::new().leptos_routes_with_context(
        &state,
        routes,
        {
            let state = state.clone();
            move || {
                provide_context(state.clone());
                // a fresh nonce per page for the inline hydration scripts (see the CSP in app.rs)
                leptos::nonce::provide_nonce();
            }
        },
        {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        },
    );
    let files = axum::routing::get(leptos_axum::file_and_error_handler::<AppState, _>(shell));
    let app = crate::http::router(state.clone(), pages, files);
    match &state.simulator {
        Some(simulator) => Router::new()
            .nest_service(SIMULATOR_PATH, simulator.router())
            .fallback_service(app),
        None => app,
    }
}

/// How often the mirror catches up with the gateway's events (missed webhook deliveries).
const RECONCILE_EVERY_MINUTES: u64 = 15;
/// Rows per DELETE of the sweep, and batches per table per sweep (the next sweep continues).
const SWEEP_BATCH: i64 = 500;
const SWEEP_MAX_BATCHES: usize = 20;

/// Background chores, on every instance (each is safe to run concurrently): write the minute's
/// API call counts (`crate::db::usage`); apply webhook
/// events that were stored but not applied, every minute; catch up with the gateway's events
/// every 15 minutes (a lease per account); every ten minutes, sweep expired rows out of every
/// table that grows with traffic (`crate::db::sweep`).
fn spawn_maintenance(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        let mut minutes: u64 = 0;
        loop {
            tick.tick().await;
            let now = state.clock.now();
            if let Err(e) = state.db.flush_api_calls().await {
                tracing::warn!(error = %e, "writing the API call counts failed; kept for the next minute");
            }
            match state.payments.retry_pending_events(now).await {
                Ok(n) if n > 0 => tracing::info!(events = n, "pending webhook events retried"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retrying webhook events failed"),
            }
            if minutes.is_multiple_of(RECONCILE_EVERY_MINUTES) {
                if let Err(e) = state.payments.reconcile(now, false).await {
                    tracing::warn!(error = %e, "reconciling with the payment gateway failed");
                }
            }
            if minutes.is_multiple_of(10) {
                match state.db.sweep(now, SWEEP_BATCH, SWEEP_MAX_BATCHES).await {
                    Ok(report) => {
                        for (table, deleted) in report.into_iter().filter(|(_, n)| *n > 0) {
                            tracing::info!(table, deleted, "expired rows swept");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "sweeping expired rows failed"),
                }
            }
            minutes += 1;
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}
