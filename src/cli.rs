//! The command line: `subgate serve` (default), `subgate migrate`, `subgate create-merchant`.

use std::io::Read;

use clap::{Parser, Subcommand};
use leptos::config::get_configuration;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::entropy::Entropy;
use crate::startup::Application;

const ENVIRONMENT_HELP: &str = "\
Every option can also be set by the environment variable shown in brackets.
Leptos also reads LEPTOS_SITE_ROOT (default target/site) and LEPTOS_SITE_PKG_DIR (default pkg),
the folder the browser bundle and stylesheet are served from.";

#[derive(Debug, Parser)]
#[command(name = "subgate", version, about = "Safe access to a merchant's Stripe subscriptions for their backend and their customers.", after_help = ENVIRONMENT_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations and serve HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a merchant account; prints {"id", "email"} as JSON.
    CreateMerchant {
        #[arg(long)]
        email: String,
        /// Business name shown in the dashboard and to subscribers.
        #[arg(long)]
        name: String,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Start signing access tokens with a new key (running servers switch within 5 s); the old
    /// ones verify until their tokens expire.
    RotateSigningKey,
    /// Delete the expired rows of every table that grows with traffic, to the end (each instance
    /// does this every ten minutes, a bounded amount at a time); prints rows deleted per table.
    Sweep {
        /// Sweep as of this unix time instead of now (e.g. to see what will be gone in two hours).
        #[arg(long)]
        at: Option<i64>,
    },
    /// Print the number of rows of every table the sweep keeps bounded, as JSON.
    TableSizes,
    /// Serve the built-in Stripe simulator on its own (for experiments, end-to-end tests and
    /// benchmarks): Stripe's API and Connect OAuth as subgate uses them, and `/_sim/` controls.
    StripeSimulator {
        #[arg(long, default_value = "127.0.0.1:12111")]
        addr: std::net::SocketAddr,
        /// How browsers reach it (default: http://ADDR).
        #[arg(long)]
        public_url: Option<String>,
        /// Where to post signed webhook events, e.g. http://127.0.0.1:3000/webhooks/stripe.
        #[arg(long)]
        webhook_url: Option<String>,
        /// Signing secret of the events (whsec_…); repeat to sign with several.
        #[arg(long = "webhook-secret")]
        webhook_secrets: Vec<String>,
        /// The platform secret key API calls must carry.
        #[arg(long, default_value = "sk_test_simulator")]
        secret_key: String,
        /// The platform's Connect client id.
        #[arg(long, default_value = "ca_simulator")]
        client_id: String,
        /// Keep the simulated accounts in this JSON file across restarts.
        #[arg(long)]
        state_file: Option<std::path::PathBuf>,
        /// New accounts start empty instead of with demo customers and subscriptions.
        #[arg(long)]
        no_seed: bool,
    },
    /// Check the Stripe setup subgate needs (the Connect webhook endpoint, each connected
    /// account's customer portal); `--fix` applies the fixes offered.
    Doctor {
        #[arg(long)]
        fix: bool,
    },
    /// Stripe operations.
    Stripe {
        #[command(subcommand)]
        command: StripeCommand,
    },
    /// Serve a bare axum "hello" handler on the same runtime and build settings: the ceiling
    /// `make bench` compares every figure to.
    #[command(hide = true)]
    BenchHello {
        #[arg(long, default_value = "127.0.0.1:3999")]
        addr: std::net::SocketAddr,
    },
    /// Register an OAuth client for a merchant; prints {"client_id", "client_secret"?} as JSON.
    CreateClient {
        /// The merchant's login email.
        #[arg(long)]
        merchant: String,
        #[arg(long)]
        name: String,
        /// `public` (authorization code + PKCE) or `confidential` (also client credentials).
        #[arg(long = "type", value_parser = ["public", "confidential"])]
        client_type: String,
        /// Exact redirect URI; repeat for several.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Allowed audience; repeat for several (default: this server's API).
        #[arg(long = "audience")]
        audiences: Vec<String>,
        /// Allowed scopes, space-separated (default: all).
        #[arg(long, default_value = "")]
        scope: String,
        /// Seconds an access token lives, 300 to 86400 (default: 3600).
        #[arg(long, default_value = "")]
        access_token_ttl: String,
        /// Exact browser origin allowed to call the token endpoint and the API (CORS); repeat
        /// for several.
        #[arg(long = "allowed-origin")]
        allowed_origins: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StripeCommand {
    /// Catch the mirror up with Stripe: the events of every connected account since the last
    /// one applied; `--full` also lists every mirrored customer's subscriptions again.
    Reconcile {
        #[arg(long)]
        full: bool,
    },
    /// Every Stripe call subgate makes, once, against Stripe's test mode on a test connected
    /// account (creates and deletes a customer); prints Stripe's answers. `make stripe-smoke`.
    Smoke {
        /// A test-mode account connected to the platform, acct_….
        #[arg(long, env = "STRIPE_SMOKE_ACCOUNT")]
        account: String,
    },
}

pub async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    crate::telemetry::init(&cli.settings.log);
    if let Some(Command::BenchHello { addr }) = &cli.command {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        axum::serve(listener, app).await?;
        return Ok(());
    }
    if let Some(Command::StripeSimulator {
        addr,
        public_url,
        webhook_url,
        webhook_secrets,
        secret_key,
        client_id,
        state_file,
        no_seed,
    }) = cli.command
    {
        use crate::stripe_simulator::{Simulator, SimulatorConfig};
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let simulator = Simulator::new(SimulatorConfig {
            secret_key,
            client_id,
            public_base: public_url
                .unwrap_or_else(|| format!("http://{addr}"))
                .trim_end_matches('/')
                .to_string(),
            webhook_url,
            webhook_secrets,
            state_file,
            seed_demo_data: !no_seed,
            clock: Clock::system(),
        });
        eprintln!("Stripe simulator listening on http://{addr}");
        axum::serve(listener, simulator.router()).await?;
        return Ok(());
    }
    let config = cli.settings.into_config()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::StripeSimulator { .. } | Command::BenchHello { .. } => {
            unreachable!("handled above")
        }
        Command::Serve => {
            let mut leptos_options = get_configuration(None)?.leptos_options;
            leptos_options.site_addr = config.site_addr;
            let app = Application::build(config, leptos_options, Clock::system()).await?;
            app.run_until_stopped().await?;
        }
        Command::Doctor { fix } => crate::payments::commands::doctor(&config, fix).await?,
        Command::Stripe {
            command: StripeCommand::Reconcile { full },
        } => crate::payments::commands::reconcile(&config, full).await?,
        Command::Stripe {
            command: StripeCommand::Smoke { account },
        } => crate::payments::commands::stripe_smoke(&config, &account).await?,
        Command::Migrate => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            eprintln!("migrations applied");
        }
        Command::CreateMerchant {
            email,
            name,
            password_stdin: _,
        } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.strip_suffix('\n').unwrap_or(&password);
            let password = password.strip_suffix('\r').unwrap_or(password);
            let input = crate::accounts::SignUp::parse(&name, &email, password)?;
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let merchant =
                crate::accounts::sign_up(&db, &Entropy::os(), input, Clock::system().now()).await?;
            println!(
                "{}",
                serde_json::json!({ "id": merchant.id, "email": merchant.email })
            );
        }
        Command::RotateSigningKey => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let keys = crate::oauth::jwt::KeyRing::new(db, &config.secret_key, Entropy::os());
            let kid = keys.rotate(Clock::system().now()).await?;
            println!("{}", serde_json::json!({ "kid": kid }));
        }
        Command::Sweep { at } => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let now = at.unwrap_or_else(|| Clock::system().now());
            let report = db.sweep(now, 500, usize::MAX).await?;
            let out: serde_json::Map<_, _> = report
                .into_iter()
                .map(|(table, n)| (table.to_string(), n.into()))
                .collect();
            println!("{}", serde_json::Value::Object(out));
        }
        Command::TableSizes => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let out: serde_json::Map<_, _> = db
                .table_sizes()
                .await?
                .into_iter()
                .map(|(table, n)| (table.to_string(), n.into()))
                .collect();
            println!("{}", serde_json::Value::Object(out));
        }
        Command::CreateClient {
            merchant,
            name,
            client_type,
            redirect_uris,
            audiences,
            scope,
            access_token_ttl,
            allowed_origins,
        } => {
            use crate::oauth::clients;
            let input = clients::ClientInput::parse(
                &name,
                &client_type,
                &redirect_uris,
                &scope,
                &audiences,
                &config.api_audiences(),
            )?
            .with_access_token_ttl(&access_token_ttl)?
            .with_allowed_origins(&allowed_origins)?;
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let owner = db
                .merchant_by_email(&merchant.trim().to_lowercase())
                .await?
                .ok_or_else(|| format!("no merchant with the email {merchant}"))?;
            let hasher = clients::SecretHasher::new(&config.secret_key, Entropy::os());
            let now = Clock::system().now();
            // in the business's audit log like a client created in the dashboard
            let audit = crate::db::account::Audit {
                id: Entropy::os().id("aud"),
                entry: crate::db::account::AuditEntry {
                    merchant_id: owner.id.clone(),
                    action: "client.created",
                    actor: Some("command line (subgate create-client)".into()),
                    at: now,
                    ..Default::default()
                },
            };
            let (client, secret) = clients::Clients::new(db, hasher, config.api_audiences())
                .create(&owner.id, input, now, Some(audit))
                .await?;
            let mut out = serde_json::json!({ "client_id": client.id });
            if let Some(secret) = secret {
                out["client_secret"] = secret.0.into();
            }
            println!("{out}");
        }
    }
    Ok(())
}
