//! Runtime configuration: one typed struct, read from environment variables (or the matching
//! command-line flags). `subgate --help` prints every variable; README.md explains them.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

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
    /// Database: `sqlite://PATH?mode=rwc` (the embedded default) or `postgres://…` (for several
    /// instances sharing one database).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/subgate.db?mode=rwc"
    )]
    pub database_url: String,

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
        Ok(Config {
            database_url: self.database_url,
            site_addr: self.site_addr,
            public_url,
            secret_key,
            environment: self.environment,
            trusted_proxies: self.trusted_proxies,
            data_dir: self.data_dir,
        })
    }
}

impl Config {
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// The `aud` of access tokens for subgate's own API.
    pub fn api_audience(&self) -> String {
        format!("{}/api", self.public_origin())
    }

    /// `scheme://host[:port]` as browsers send it in the `Origin` header.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
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
            write_private_file(&path, encoded.as_bytes()).map_err(err)?;
            tracing::info!(path = %path.display(), "generated a development secret key");
            SecretKey::from_bytes(encoded.as_bytes()).ok_or(ConfigError::SecretKeyTooShort)
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
