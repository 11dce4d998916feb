//! `subgate doctor` and `subgate stripe reconcile`: the same checks and catch-up the server
//! runs, from the command line, against the configured gateway (with the built-in simulator,
//! the one a running server embeds, reached at its public URL).

use super::doctor::Status;
use super::Payments;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;

async fn payments(config: &Config) -> Result<Payments, Box<dyn std::error::Error>> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let built = super::gateways::build(config, &config.public_origin())?;
    Ok(Payments::new(built.gateway, db))
}

/// Prints each check; with `fix`, applies the fixes offered and checks again. Fails when a
/// check is still failing.
pub async fn doctor(config: &Config, fix: bool) -> Result<(), Box<dyn std::error::Error>> {
    let payments = payments(config).await?;
    let webhook_url = config.stripe_webhook_url();
    let mut checks = payments.doctor(&webhook_url, None).await?;
    if fix {
        for f in checks.iter().filter_map(|c| c.fix.as_ref()) {
            println!("fix: {}", payments.apply_fix(f, &webhook_url).await?);
        }
        checks = payments.doctor(&webhook_url, None).await?;
    }
    let mut failed = 0;
    for c in &checks {
        let mark = match c.status {
            Status::Ok => "ok  ",
            Status::Unconfirmed => "?   ",
            Status::Failed => {
                failed += 1;
                "FAIL"
            }
        };
        let offer = match (&c.fix, fix) {
            (Some(_), false) => " (subgate doctor --fix repairs this)",
            _ => "",
        };
        println!("{mark} {}: {}{offer}", c.id, c.message);
    }
    if failed > 0 {
        return Err(format!("{failed} check(s) failed").into());
    }
    Ok(())
}

/// One reconciliation of every connected account; prints the report as JSON.
pub async fn reconcile(config: &Config, full: bool) -> Result<(), Box<dyn std::error::Error>> {
    let payments = payments(config).await?;
    let report = payments.reconcile(Clock::system().now(), full).await?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// `make stripe-smoke`: the real calls once against Stripe's test mode (see
/// [`super::gateways::stripe::smoke`]).
pub async fn stripe_smoke(
    config: &Config,
    account: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let settings = super::gateways::stripe_settings(config).ok_or(
        "stripe smoke needs STRIPE_SECRET_KEY (sk_test_…) and STRIPE_CLIENT_ID: it never runs against the simulator",
    )?;
    super::gateways::stripe::smoke::run(settings, account).await?;
    Ok(())
}
