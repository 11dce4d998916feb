//! Runtime configuration: one typed struct, read from environment variables (or the matching
//! command-line flags). `subgate --help` prints every variable; README.md explains them.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use url::Url;

use crate::crypto::SecretKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

/// What the operator may set. Parsed into [`Config`] by [`Settings::into_config`].
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database: `sqlite://PATH?mode=rwc` or `postgres://…` (for several instances sharing one
    /// database). Default: the embedded SQLite file `subgate.db` in the data directory, beside
    /// the development secret key it belongs with.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Address and port the HTTP server listens on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub site_addr: SocketAddr,

    /// The URL people and API clients use to reach this server (default: http://SITE_ADDR).
    /// Used in links, OAuth metadata and the CSRF origin check. Must be https in production.
    #[arg(long, env = "SUBGATE_PUBLIC_URL")]
    pub public_url: Option<Url>,

    /// At least 32 bytes of secret from which signing and encryption keys are derived. In
    /// development it is generated into DATA_DIR/secret_key on first start; production requires it.
    #[arg(long, env = "SUBGATE_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// `production` refuses plain-HTTP requests, marks cookies Secure and sends HSTS.
    #[arg(
        long = "env",
        env = "SUBGATE_ENV",
        value_enum,
        default_value = "development"
    )]
    pub environment: Environment,

    /// Comma-separated IP addresses of reverse proxies whose X-Forwarded-For and
    /// X-Forwarded-Proto headers are believed. Nobody else's are.
    #[arg(long, env = "SUBGATE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,

    /// Folder for the SQLite database and the development secret key.
    #[arg(long, env = "SUBGATE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Log filter, e.g. `info` or `subgate=debug,tower_http=info`.
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log: String,

    /// The Stripe platform's secret key (`sk_live_…` or `sk_test_…`). Without it subgate runs
    /// against its built-in Stripe simulator (development only).
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,

    /// The platform's Stripe Connect client id (`ca_…`, Dashboard → Settings → Connect).
    /// Required with STRIPE_SECRET_KEY.
    #[arg(long, env = "STRIPE_CLIENT_ID")]
    pub stripe_client_id: Option<String>,

    /// Webhook signing secrets (`whsec_…`), comma-separated: list the new one next to the old
    /// while rolling a secret. Events signed with none of them are refused.
    #[arg(
        long,
        env = "STRIPE_WEBHOOK_SECRET",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub stripe_webhook_secrets: Vec<String>,

    /// Base URL of Stripe's REST API.
    #[arg(
        long,
        env = "STRIPE_API_BASE",
        default_value = "https://api.stripe.com/"
    )]
    pub stripe_api_base: Url,

    /// Base URL of Stripe Connect OAuth (`/oauth/authorize`, `/oauth/token`, `/oauth/deauthorize`).
    #[arg(
        long,
        env = "STRIPE_CONNECT_BASE",
        default_value = "https://connect.stripe.com/"
    )]
    pub stripe_connect_base: Url,

    /// More resource identifiers (`aud`) the API answers to, comma-separated, besides
    /// `<public URL>/api`: e.g. `https://api.horizonafs.io` so that a client moved from Riverty
    /// keeps its `audience`. Clients may be given only these audiences.
    #[arg(long, env = "SUBGATE_API_AUDIENCES", value_delimiter = ',')]
    pub api_audiences: Vec<String>,

    /// A wildcard domain for the SSO login call at Recurpay's path: with `sso.example.com`, a
    /// request to `https://acme.sso.example.com/admin/api/{version}/subscribers/{id}/login`
    /// logs a subscriber of store `acme` in (DNS and TLS for `*.sso.example.com` point here).
    #[arg(long, env = "SUBGATE_SSO_DOMAIN")]
    pub sso_domain: Option<String>,

    /// Seconds one attempt of a Stripe request may take; failed attempts are retried with
    /// backoff, and a whole call never takes more than about 2.5 times this.
    #[arg(long, env = "STRIPE_TIMEOUT_SECS", default_value_t = 8)]
    pub stripe_timeout_secs: u64,

    /// Accounts one IP address may create per hour (a team behind one NAT may need more).
    #[arg(long, env = "SUBGATE_SIGNUPS_PER_IP_PER_HOUR", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub signups_per_ip_per_hour: u32,

    /// Outgoing mail (verification, password reset, notices): `smtps://user:pass@host:465` or
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS). Production requires it, with TLS.
    /// Without it (development) each mail goes to an outbox shown at `/dev/outbox` and in the log.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of subgate's mail, e.g. `subgate <no-reply@example.com>` (default:
    /// `subgate <no-reply@HOST>` with the public URL's host).
    #[arg(long, env = "MAIL_FROM")]
    pub mail_from: Option<String>,
}

/// Where subgate's mail goes.
#[derive(Clone)]
pub struct MailConfig {
    /// `None`: the development outbox.
    pub smtp_url: Option<String>,
    pub from: String,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .finish()
    }
}

impl MailConfig {
    /// The development outbox, sending as `no-reply@` the public URL's host.
    pub fn outbox(public_url: &Url) -> Self {
        Self {
            smtp_url: None,
            from: format!(
                "subgate <no-reply@{}>",
                public_url.host_str().unwrap_or("localhost")
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub site_addr: SocketAddr,
    pub public_url: Url,
    pub secret_key: SecretKey,
    pub environment: Environment,
    pub trusted_proxies: Vec<IpAddr>,
    pub data_dir: PathBuf,
    pub stripe: StripeConfig,
    /// Audiences the API accepts besides `<public URL>/api` (see [`Config::api_audiences`]).
    pub extra_api_audiences: Vec<String>,
    /// The wildcard domain whose subdomains name SSO stores (`acme.sso.example.com`).
    pub sso_domain: Option<String>,
    /// Accounts one IP address may create per hour.
    pub signups_per_ip_per_hour: u32,
    pub mail: MailConfig,
}

/// How subgate reaches Stripe.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    pub mode: StripeMode,
    /// Where the REST API is (ends with `/`).
    pub api_base: Url,
    /// Where Connect OAuth is (ends with `/`).
    pub connect_base: Url,
    pub webhook_secrets: Vec<String>,
    /// Per attempt; see `Settings::stripe_timeout_secs`.
    pub timeout: Duration,
}

#[derive(Clone)]
pub enum StripeMode {
    /// A real Stripe platform (or a fake of it that tests point at by base URL).
    Platform {
        secret_key: String,
        client_id: String,
    },
    /// No keys: the built-in simulator, served by this server under `/_stripe`.
    Simulated,
}

impl std::fmt::Debug for StripeMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Platform { client_id, .. } => f
                .debug_struct("Platform")
                .field("client_id", client_id)
                .field("secret_key", &"<redacted>")
                .finish(),
            Self::Simulated => f.write_str("Simulated"),
        }
    }
}

impl StripeConfig {
    /// The embedded simulator, as `make run` without keys uses it.
    pub fn simulated() -> Self {
        Self {
            mode: StripeMode::Simulated,
            api_base: Url::parse("https://api.stripe.com/").unwrap_or_else(|_| unreachable!()),
            connect_base: Url::parse("https://connect.stripe.com/")
                .unwrap_or_else(|_| unreachable!()),
            webhook_secrets: vec![],
            timeout: Duration::from_secs(8),
        }
    }

    /// A platform at the given base URLs (tests point these at a simulator).
    pub fn platform(
        secret_key: &str,
        client_id: &str,
        base: &Url,
        webhook_secrets: &[&str],
    ) -> Self {
        Self {
            mode: StripeMode::Platform {
                secret_key: secret_key.into(),
                client_id: client_id.into(),
            },
            api_base: with_trailing_slash(base.clone()),
            connect_base: with_trailing_slash(base.clone()),
            webhook_secrets: webhook_secrets.iter().map(|s| s.to_string()).collect(),
            timeout: Duration::from_secs(8),
        }
    }

    pub fn is_simulated(&self) -> bool {
        matches!(self.mode, StripeMode::Simulated)
    }
}

/// `Url::join` treats the last path segment as a file unless the path ends with `/`.
pub fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("SUBGATE_SECRET_KEY must be at least 32 bytes long")]
    SecretKeyTooShort,
    #[error("SUBGATE_SECRET_KEY is required when SUBGATE_ENV=production")]
    SecretKeyRequired,
    #[error("SUBGATE_PUBLIC_URL must be an https:// URL when SUBGATE_ENV=production")]
    PublicUrlNotHttps,
    #[error("SUBGATE_PUBLIC_URL must be an origin such as https://example.com (no path, query or fragment)")]
    PublicUrlNotOrigin,
    #[error("could not read or write the development secret key at {0}: {1}")]
    SecretKeyFile(PathBuf, std::io::Error),
    #[error("STRIPE_SECRET_KEY is required when SUBGATE_ENV=production (the Stripe simulator is for development)")]
    StripeKeyRequired,
    #[error("STRIPE_CLIENT_ID (ca_…) is required with STRIPE_SECRET_KEY")]
    StripeClientIdRequired,
    #[error("STRIPE_SECRET_KEY must start with sk_ or rk_")]
    StripeKeyMalformed,
    #[error("STRIPE_WEBHOOK_SECRET values must start with whsec_")]
    StripeWebhookSecretMalformed,
    #[error("SUBGATE_API_AUDIENCES: each audience is 1 to 200 characters without spaces")]
    ApiAudienceMalformed,
    #[error("SUBGATE_SSO_DOMAIN must be a host name such as sso.example.com")]
    SsoDomainMalformed,
    #[error(
        "SMTP_URL is required when SUBGATE_ENV=production (the mail outbox is for development)"
    )]
    SmtpRequired,
    #[error("SMTP_URL must be smtps://… or smtp://…?tls=required when SUBGATE_ENV=production: mail carries sign-in links")]
    SmtpNotTls,
    #[error("SMTP_URL must be an smtp:// or smtps:// URL")]
    SmtpMalformed,
    #[error("MAIL_FROM must be an address such as `subgate <no-reply@example.com>`")]
    MailFromMalformed,
}

impl Settings {
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let production = self.environment == Environment::Production;
        let public_url = match self.public_url {
            Some(url) => url,
            None => Url::parse(&format!("http://{}", self.site_addr))
                .map_err(|_| ConfigError::PublicUrlNotOrigin)?,
        };
        if public_url.path() != "/"
            || public_url.query().is_some()
            || public_url.fragment().is_some()
        {
            return Err(ConfigError::PublicUrlNotOrigin);
        }
        if production && public_url.scheme() != "https" {
            return Err(ConfigError::PublicUrlNotHttps);
        }
        let secret_key = match self.secret_key {
            Some(raw) => {
                SecretKey::from_bytes(raw.as_bytes()).ok_or(ConfigError::SecretKeyTooShort)?
            }
            None if production => return Err(ConfigError::SecretKeyRequired),
            None => development_secret_key(&self.data_dir)?,
        };
        let stripe = stripe_config(
            self.stripe_secret_key,
            self.stripe_client_id,
            self.stripe_webhook_secrets,
            self.stripe_api_base,
            self.stripe_connect_base,
            self.stripe_timeout_secs,
            production,
        )?;
        let database_url = self.database_url.unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("subgate.db").display()
            )
        });
        let extra_api_audiences = self
            .api_audiences
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .map(|a| {
                crate::oauth::clients::is_valid_audience(a)
                    .then(|| a.to_string())
                    .ok_or(ConfigError::ApiAudienceMalformed)
            })
            .collect::<Result<_, _>>()?;
        let sso_domain = match self.sso_domain.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(parse_host_name(d).ok_or(ConfigError::SsoDomainMalformed)?),
        };
        let mail = mail_config(self.smtp_url, self.mail_from, &public_url, production)?;
        Ok(Config {
            database_url,
            site_addr: self.site_addr,
            public_url,
            secret_key,
            environment: self.environment,
            trusted_proxies: self.trusted_proxies,
            data_dir: self.data_dir,
            stripe,
            extra_api_audiences,
            sso_domain,
            signups_per_ip_per_hour: self.signups_per_ip_per_hour,
            mail,
        })
    }
}

fn mail_config(
    smtp_url: Option<String>,
    from: Option<String>,
    public_url: &Url,
    production: bool,
) -> Result<MailConfig, ConfigError> {
    let mut mail = MailConfig::outbox(public_url);
    if let Some(from) = from.filter(|f| !f.trim().is_empty()) {
        if !crate::mail::is_valid_mailbox(&from) {
            return Err(ConfigError::MailFromMalformed);
        }
        mail.from = from;
    }
    match smtp_url.filter(|u| !u.trim().is_empty()) {
        None if production => Err(ConfigError::SmtpRequired),
        None => Ok(mail),
        Some(raw) => {
            let url = Url::parse(&raw).map_err(|_| ConfigError::SmtpMalformed)?;
            let tls = match url.scheme() {
                "smtps" => true,
                "smtp" => url
                    .query_pairs()
                    .any(|(k, v)| k == "tls" && v == "required"),
                _ => return Err(ConfigError::SmtpMalformed),
            };
            if production && !tls {
                return Err(ConfigError::SmtpNotTls);
            }
            mail.smtp_url = Some(raw);
            Ok(mail)
        }
    }
}

fn stripe_config(
    secret_key: Option<String>,
    client_id: Option<String>,
    webhook_secrets: Vec<String>,
    api_base: Url,
    connect_base: Url,
    timeout_secs: u64,
    production: bool,
) -> Result<StripeConfig, ConfigError> {
    let webhook_secrets: Vec<String> = webhook_secrets
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if webhook_secrets.iter().any(|s| !s.starts_with("whsec_")) {
        return Err(ConfigError::StripeWebhookSecretMalformed);
    }
    let mode = match secret_key
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
    {
        None if production => return Err(ConfigError::StripeKeyRequired),
        None => StripeMode::Simulated,
        Some(key) if !(key.starts_with("sk_") || key.starts_with("rk_")) => {
            return Err(ConfigError::StripeKeyMalformed)
        }
        Some(secret_key) => StripeMode::Platform {
            secret_key,
            client_id: client_id
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .ok_or(ConfigError::StripeClientIdRequired)?,
        },
    };
    Ok(StripeConfig {
        mode,
        api_base: with_trailing_slash(api_base),
        connect_base: with_trailing_slash(connect_base),
        webhook_secrets,
        timeout: Duration::from_secs(timeout_secs.clamp(1, 120)),
    })
}

impl Config {
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// The `aud` of access tokens for subgate's own API, when a client asks for none.
    pub fn api_audience(&self) -> String {
        format!("{}/api", self.public_origin())
    }

    /// Every resource identifier the API answers to: `<public URL>/api` first, then the ones the
    /// operator added. Clients may be given only these, so no merchant can mint a subgate-signed
    /// token for an audience (another service's URL) this server was not told it speaks for.
    pub fn api_audiences(&self) -> Vec<String> {
        let mut all = vec![self.api_audience()];
        for a in &self.extra_api_audiences {
            if !all.contains(a) {
                all.push(a.clone());
            }
        }
        all
    }

    /// `scheme://host[:port]` as browsers send it in the `Origin` header.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// Where the payment gateway posts its events (the platform's webhook endpoint).
    pub fn stripe_webhook_url(&self) -> String {
        format!("{}/webhooks/stripe", self.public_origin())
    }
}

/// A lower-case DNS host name (letters, digits, hyphens, dots; no port).
fn parse_host_name(raw: &str) -> Option<String> {
    let host = raw.trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    (host.len() <= 253 && host.contains('.') && host.split('.').all(label_ok)).then_some(host)
}

/// Reads DATA_DIR/secret_key, creating it (mode 0600) with 32 random bytes when absent.
fn development_secret_key(data_dir: &std::path::Path) -> Result<SecretKey, ConfigError> {
    let path = data_dir.join("secret_key");
    let err = |e| ConfigError::SecretKeyFile(path.clone(), e);
    match std::fs::read(&path) {
        Ok(bytes) => {
            SecretKey::from_bytes(bytes.trim_ascii()).ok_or(ConfigError::SecretKeyTooShort)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir).map_err(err)?;
            let encoded = crate::crypto::random_token(32);
            // written aside, then linked into place: the key appears whole or not at all, and
            // of several processes starting at once (two `subgate sweep`s, a server and a CLI)
            // the first to link wins and the others read its key
            let aside = data_dir.join(format!(".secret_key.{}", crate::crypto::random_token(9)));
            write_private_file(&aside, encoded.as_bytes()).map_err(err)?;
            let linked = std::fs::hard_link(&aside, &path);
            let _ = std::fs::remove_file(&aside);
            match linked {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "generated a development secret key");
                    SecretKey::from_bytes(encoded.as_bytes()).ok_or(ConfigError::SecretKeyTooShort)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    development_secret_key(data_dir)
                }
                Err(e) => Err(err(e)),
            }
        }
        Err(e) => Err(err(e)),
    }
}

fn write_private_file(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_starting_at_once_on_a_fresh_data_dir_share_one_development_key() {
        let dir =
            std::env::temp_dir().join(format!("subgate-key-{}", crate::crypto::random_token(9)));
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let keys: Vec<[u8; 32]> = (0..8)
            .map(|_| {
                let (dir, barrier) = (dir.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    development_secret_key(&dir).expect("a key").derive("test")
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().expect("thread"))
            .collect();
        assert!(keys.iter().all(|k| *k == keys[0]), "one key for all");
        let files: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(files, ["secret_key"], "nothing left aside");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
