//! Logging. Requests are logged by method and path only: query strings can carry authorization
//! codes and tokens, and bodies carry passwords, so neither is ever logged.

use tracing_subscriber::EnvFilter;

pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
