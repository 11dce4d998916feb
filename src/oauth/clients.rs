//! Client registration: parsing the merchant's input into a valid client, issuing and checking
//! client secrets, and the merchant-scoped operations of the OAuth tab and the CLI.

use crate::db::account::Audit;
use serde::{Deserialize, Serialize};
use url::Url;

use super::scope::Scopes;
use super::OAuthError;
use crate::crypto::{constant_time_eq, keyed_hash, SecretKey};
use crate::db::oauth::{ClientRow, PreviousSecret};
use crate::db::Db;
pub use crate::dto::ClientForm;
use crate::entropy::Entropy;

/// What managing OAuth clients can fail with, in the domain's words; the edge maps it to the
/// wire error once (`crate::error`).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Input that does not parse; the message names the field and the rule.
    #[error("{0}")]
    Invalid(String),
    /// No such client for this merchant (another merchant's looks the same).
    #[error("Not found.")]
    NotFound,
    /// A stored client no longer parses (a type or scope this version does not know).
    #[error("a stored client does not parse")]
    Corrupt,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl ClientError {
    fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    /// Cannot keep a secret (browser, mobile, CLI): authorization code + PKCE only.
    Public,
    /// A server: has a secret, may also use client credentials.
    Confidential,
}

impl ClientType {
    pub fn parse(raw: &str) -> Result<Self, ClientError> {
        match raw {
            "public" => Ok(Self::Public),
            "confidential" => Ok(Self::Confidential),
            _ => Err(ClientError::invalid("Type: choose public or confidential.")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Confidential => "confidential",
        }
    }
}

/// What the merchant typed, validated.
#[derive(Debug, Clone)]
pub struct ClientInput {
    pub name: String,
    pub client_type: ClientType,
    pub redirect_uris: Vec<String>,
    pub scopes: Scopes,
    pub audiences: Vec<String>,
    /// Seconds an access token lives, within [`ACCESS_TOKEN_TTL_RANGE`].
    pub access_token_ttl: i64,
    /// Exact origins (`https://app.example.com`) whose pages may call the token endpoint and the
    /// API from the browser (CORS, never with credentials).
    pub allowed_origins: Vec<String>,
}

pub const MAX_REDIRECT_URIS: usize = 10;
pub const MAX_AUDIENCES: usize = 10;
pub const MAX_ALLOWED_ORIGINS: usize = 10;
/// From five minutes to a day (Riverty's tokens live a day); the default is an hour.
pub const ACCESS_TOKEN_TTL_RANGE: std::ops::RangeInclusive<i64> = 300..=86_400;

/// An exact redirect URI: https, or http only on a loopback host (RFC 8252 §7.3); no fragment.
pub fn parse_redirect_uri(raw: &str) -> Result<String, ClientError> {
    let bad = |why: &str| {
        ClientError::invalid(format!("Redirect URI \"{}\": {why}", raw.escape_default()))
    };
    if raw.len() > 2000 {
        return Err(bad("at most 2000 characters."));
    }
    let url = Url::parse(raw).map_err(|_| bad("not an absolute URL."))?;
    if url.fragment().is_some() {
        return Err(bad("must not contain a fragment (#)."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain credentials."));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(bad(
                "http is allowed only for localhost, 127.0.0.1 or [::1]; use https.",
            ))
        }
        _ => return Err(bad("must use https (or http on a loopback address).")),
    }
    // stored exactly as given: matching is by exact string comparison
    Ok(raw.to_string())
}

/// The shape of an audience: 1 to 200 characters, no spaces or control characters.
pub fn is_valid_audience(a: &str) -> bool {
    !a.is_empty() && a.len() <= 200 && !a.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An audience the operator configured for this server's API (see `Config::api_audiences`).
fn parse_audience(raw: &str, api_audiences: &[String]) -> Result<String, ClientError> {
    let a = raw.trim();
    if !is_valid_audience(a) {
        return Err(ClientError::invalid(format!(
            "Audience \"{}\": 1 to 200 characters, no spaces.",
            a.escape_default()
        )));
    }
    if !api_audiences.iter().any(|allowed| allowed == a) {
        return Err(ClientError::invalid(format!(
            "Audience \"{}\" is not one this server's API answers to; choose from: {}.",
            a.escape_default(),
            api_audiences.join(", ")
        )));
    }
    Ok(a.to_string())
}

/// A browser origin for CORS: `scheme://host[:port]` exactly, https (or http on a loopback
/// host, as for redirect URIs); no path, wildcard or `null`.
pub fn parse_origin(raw: &str) -> Result<String, ClientError> {
    let raw = raw.trim();
    let bad = |why: &str| {
        ClientError::invalid(format!(
            "Allowed origin \"{}\": {why}",
            raw.escape_default()
        ))
    };
    let url = Url::parse(raw).map_err(|_| bad("not an origin such as https://app.example.com."))?;
    let origin = url.origin().ascii_serialization();
    // `*` is a legal host character to a URL parser: no wildcard may pass as a host name
    let plain_host = url.host_str().is_some_and(|h| {
        h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
    });
    if !plain_host || raw.trim_end_matches('/') != origin {
        return Err(bad(
            "only scheme, host and port (no path, query, wildcard or credentials).",
        ));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => Ok(origin),
        "http" if loopback => Ok(origin),
        _ => Err(bad(
            "must use https (or http on localhost, 127.0.0.1 or [::1]).",
        )),
    }
}

impl ClientInput {
    /// `api_audiences` are the audiences this server's API answers to (the first is the default,
    /// given when none is). The access-token lifetime starts at the default and no origin is
    /// allowed: see [`Self::with_access_token_ttl`] and [`Self::with_allowed_origins`].
    pub fn parse(
        name: &str,
        client_type: &str,
        redirect_uris: &[String],
        scopes: &str,
        audiences: &[String],
        api_audiences: &[String],
    ) -> Result<Self, ClientError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(ClientError::invalid("Name: 1 to 100 characters."));
        }
        let client_type = ClientType::parse(client_type)?;
        let redirect_uris: Vec<String> = redirect_uris
            .iter()
            .map(|u| u.trim())
            .filter(|u| !u.is_empty())
            .map(parse_redirect_uri)
            .collect::<Result<_, _>>()?;
        if redirect_uris.len() > MAX_REDIRECT_URIS {
            return Err(ClientError::invalid(format!(
                "Redirect URIs: at most {MAX_REDIRECT_URIS}."
            )));
        }
        if client_type == ClientType::Public && redirect_uris.is_empty() {
            return Err(ClientError::invalid(
                "Redirect URIs: a public client needs at least one.",
            ));
        }
        let scopes = if scopes.trim().is_empty() {
            Scopes::all()
        } else {
            Scopes::parse(scopes).map_err(|e| ClientError::invalid(format!("Scopes: {e}.")))?
        };
        let mut audiences: Vec<String> = audiences
            .iter()
            .filter(|a| !a.trim().is_empty())
            .map(|a| parse_audience(a, api_audiences))
            .collect::<Result<_, _>>()?;
        if audiences.is_empty() {
            audiences.extend(api_audiences.first().cloned());
        }
        audiences.dedup();
        if audiences.len() > MAX_AUDIENCES {
            return Err(ClientError::invalid(format!(
                "Audiences: at most {MAX_AUDIENCES}."
            )));
        }
        Ok(Self {
            name: name.to_string(),
            client_type,
            redirect_uris,
            scopes,
            audiences,
            access_token_ttl: super::ACCESS_TOKEN_TTL,
            allowed_origins: vec![],
        })
    }

    /// Seconds, as typed; empty keeps the default.
    pub fn with_access_token_ttl(mut self, raw: &str) -> Result<Self, ClientError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(self);
        }
        let (lo, hi) = (ACCESS_TOKEN_TTL_RANGE.start(), ACCESS_TOKEN_TTL_RANGE.end());
        self.access_token_ttl = raw
            .parse::<i64>()
            .ok()
            .filter(|s| ACCESS_TOKEN_TTL_RANGE.contains(s))
            .ok_or_else(|| {
                ClientError::invalid(format!(
                    "Access-token lifetime: whole seconds from {lo} to {hi}."
                ))
            })?;
        Ok(self)
    }

    pub fn with_allowed_origins(mut self, raw: &[String]) -> Result<Self, ClientError> {
        let mut origins: Vec<String> = raw
            .iter()
            .filter(|o| !o.trim().is_empty())
            .map(|o| parse_origin(o))
            .collect::<Result<_, _>>()?;
        origins.dedup();
        if origins.len() > MAX_ALLOWED_ORIGINS {
            return Err(ClientError::invalid(format!(
                "Allowed origins: at most {MAX_ALLOWED_ORIGINS}."
            )));
        }
        self.allowed_origins = origins;
        Ok(self)
    }
}

/// A client as the domain sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub merchant_id: String,
    pub name: String,
    pub client_type: ClientType,
    pub redirect_uris: Vec<String>,
    pub scopes: Scopes,
    pub audiences: Vec<String>,
    pub access_token_ttl: i64,
    pub allowed_origins: Vec<String>,
    pub created_at: i64,
    secret_hash: Option<String>,
    previous_secret: Option<PreviousSecret>,
}

impl TryFrom<ClientRow> for Client {
    type Error = ClientError;
    fn try_from(row: ClientRow) -> Result<Self, ClientError> {
        Ok(Self {
            client_type: ClientType::parse(&row.client_type).map_err(|_| ClientError::Corrupt)?,
            scopes: Scopes::parse(&row.scopes).map_err(|_| ClientError::Corrupt)?,
            id: row.id,
            merchant_id: row.merchant_id,
            name: row.name,
            redirect_uris: row.redirect_uris,
            audiences: row.audiences,
            access_token_ttl: row.access_token_ttl,
            allowed_origins: row.allowed_origins,
            created_at: row.created_at,
            secret_hash: row.secret_hash,
            previous_secret: row.previous_secret,
        })
    }
}

/// How long a replaced client secret keeps working: whole hours, 0 to 7 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretOverlap(i64);

impl SecretOverlap {
    pub const MAX_HOURS: i64 = 7 * 24;

    /// From the form's `overlap_hours` (blank: none).
    pub fn from_hours(raw: Option<&str>) -> Result<Self, ClientError> {
        let raw = raw.map(str::trim).unwrap_or("");
        if raw.is_empty() {
            return Ok(Self(0));
        }
        match raw.parse::<i64>() {
            Ok(h) if (0..=Self::MAX_HOURS).contains(&h) => Ok(Self(h * 3600)),
            _ => Err(ClientError::invalid(format!(
                "Keep the old secret working: 0 to {} hours.",
                Self::MAX_HOURS
            ))),
        }
    }
}

/// The secret of a confidential client, shown once and then only its hash exists.
pub struct ClientSecret(pub String);

/// Makes client ids and secrets, and hashes and checks the secrets with a key derived from the
/// server secret.
#[derive(Clone)]
pub struct SecretHasher {
    key: [u8; 32],
    entropy: Entropy,
}

impl SecretHasher {
    pub fn new(root: &SecretKey, entropy: Entropy) -> Self {
        Self {
            key: root.derive("oauth-client-secret"),
            entropy,
        }
    }

    pub fn hash(&self, secret: &str) -> String {
        keyed_hash(&self.key, secret)
    }

    fn generate(&self) -> (ClientSecret, String) {
        let secret = format!("sgs_{}", self.entropy.token(32));
        let hash = self.hash(&secret);
        (ClientSecret(secret), hash)
    }
}

impl Client {
    pub fn is_confidential(&self) -> bool {
        self.client_type == ClientType::Confidential
    }

    /// Constant-time check of a presented secret: the current one, or the one it replaced
    /// while that still overlaps. Both are compared every time.
    pub fn secret_matches(&self, hasher: &SecretHasher, presented: &str, now: i64) -> bool {
        let presented = hasher.hash(presented);
        let matches = |stored: &str| constant_time_eq(presented.as_bytes(), stored.as_bytes());
        let current = self.secret_hash.as_deref().is_some_and(matches);
        let previous = self
            .previous_secret
            .as_ref()
            .is_some_and(|p| matches(&p.hash) & (now < p.expires_at));
        current | previous
    }

    /// Until when the secret replaced last still works, if it does.
    pub fn previous_secret_until(&self, now: i64) -> Option<i64> {
        self.previous_secret
            .as_ref()
            .map(|p| p.expires_at)
            .filter(|&until| now < until)
    }

    /// Whether a page on `origin` may read this client's token and API responses (CORS).
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == origin)
    }

    /// Exact string match against a registered redirect URI (RFC 6749 §3.1.2, OAuth 2.1).
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }
}

fn lines(raw: &str) -> Vec<String> {
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// A merchant's OAuth clients: the OAuth tab, the CLI and the token endpoint reach them here
/// (`state.clients`), and every operation but [`Clients::authenticate`] is scoped by merchant.
#[derive(Clone)]
pub struct Clients {
    db: Db,
    hasher: SecretHasher,
    /// The audiences this server's API answers to (the first is the default).
    api_audiences: Vec<String>,
}

impl Clients {
    pub fn new(db: Db, hasher: SecretHasher, api_audiences: Vec<String>) -> Self {
        Self {
            db,
            hasher,
            api_audiences,
        }
    }

    /// The form's fields parsed into a valid client.
    pub fn parse(&self, form: &ClientForm) -> Result<ClientInput, ClientError> {
        ClientInput::parse(
            &form.name,
            &form.client_type,
            &lines(&form.redirect_uris),
            &form.scopes,
            &lines(&form.audiences),
            &self.api_audiences,
        )?
        .with_access_token_ttl(form.access_token_ttl.as_deref().unwrap_or_default())?
        .with_allowed_origins(&lines(form.allowed_origins.as_deref().unwrap_or_default()))
    }

    /// Registers a client; a confidential one's secret is returned this once. `audit` (its
    /// target becomes the new client's id) lands with the client or not at all.
    pub async fn create(
        &self,
        merchant_id: &str,
        input: ClientInput,
        now: i64,
        audit: Option<Audit>,
    ) -> Result<(Client, Option<ClientSecret>), ClientError> {
        let (secret, secret_hash) = match input.client_type {
            ClientType::Confidential => {
                let (s, h) = self.hasher.generate();
                (Some(s), Some(h))
            }
            ClientType::Public => (None, None),
        };
        let row = ClientRow {
            id: self.hasher.entropy.id("cli"),
            merchant_id: merchant_id.to_string(),
            name: input.name,
            client_type: input.client_type.as_str().to_string(),
            secret_hash,
            redirect_uris: input.redirect_uris,
            scopes: input.scopes.to_string(),
            audiences: input.audiences,
            access_token_ttl: input.access_token_ttl,
            allowed_origins: input.allowed_origins,
            created_at: now,
            updated_at: now,
            previous_secret: None,
        };
        let audit = audit.map(|mut a| {
            a.entry.target = Some(row.id.clone());
            a
        });
        self.db.insert_client(&row, audit.as_ref()).await?;
        tracing::info!(merchant = %merchant_id, client = %row.id, "OAuth client registered");
        Ok((row.try_into()?, secret))
    }

    /// Edits name, redirect URIs, scopes and audiences; the type cannot change.
    pub async fn update(
        &self,
        merchant_id: &str,
        client_id: &str,
        input: ClientInput,
        now: i64,
    ) -> Result<Client, ClientError> {
        let existing = self.get(merchant_id, client_id).await?;
        if existing.client_type != input.client_type {
            return Err(ClientError::invalid(
                "Type: a client's type cannot change; register a new client instead.",
            ));
        }
        let row = ClientRow {
            id: existing.id.clone(),
            merchant_id: merchant_id.to_string(),
            name: input.name,
            client_type: input.client_type.as_str().to_string(),
            secret_hash: None,
            redirect_uris: input.redirect_uris,
            scopes: input.scopes.to_string(),
            audiences: input.audiences,
            access_token_ttl: input.access_token_ttl,
            allowed_origins: input.allowed_origins,
            created_at: existing.created_at,
            updated_at: now,
            previous_secret: None,
        };
        if !self.db.update_client(&row).await? {
            return Err(ClientError::NotFound);
        }
        self.get(merchant_id, client_id).await
    }

    /// A new secret for a confidential client, returned this once. The replaced secret keeps
    /// working for `overlap` (so the merchant's servers can move one at a time), or stops at
    /// once when it is zero.
    pub async fn regenerate_secret(
        &self,
        merchant_id: &str,
        client_id: &str,
        overlap: SecretOverlap,
        now: i64,
        audit: Option<Audit>,
    ) -> Result<ClientSecret, ClientError> {
        let (secret, hash) = self.hasher.generate();
        let keep_until = (overlap.0 > 0).then(|| now + overlap.0);
        if !self
            .db
            .set_client_secret(
                merchant_id,
                client_id,
                &hash,
                keep_until,
                now,
                audit.as_ref(),
            )
            .await?
        {
            return Err(ClientError::NotFound);
        }
        tracing::info!(merchant = %merchant_id, client = %client_id, overlap_secs = overlap.0, "client secret regenerated");
        Ok(secret)
    }

    /// Stops the previous secret now, ending an overlap early.
    pub async fn end_secret_overlap(
        &self,
        merchant_id: &str,
        client_id: &str,
    ) -> Result<(), ClientError> {
        if self
            .db
            .drop_previous_client_secret(merchant_id, client_id)
            .await?
        {
            tracing::info!(merchant = %merchant_id, client = %client_id, "previous client secret ended");
            Ok(())
        } else {
            Err(ClientError::NotFound)
        }
    }

    pub async fn delete(
        &self,
        merchant_id: &str,
        client_id: &str,
        audit: Option<Audit>,
    ) -> Result<(), ClientError> {
        if self
            .db
            .delete_client(merchant_id, client_id, audit.as_ref())
            .await?
        {
            Ok(())
        } else {
            Err(ClientError::NotFound)
        }
    }

    pub async fn get(&self, merchant_id: &str, client_id: &str) -> Result<Client, ClientError> {
        self.db
            .merchant_client(merchant_id, client_id)
            .await?
            .ok_or(ClientError::NotFound)?
            .try_into()
    }

    pub async fn list(&self, merchant_id: &str) -> Result<Vec<Client>, ClientError> {
        self.db
            .merchant_clients(merchant_id)
            .await?
            .into_iter()
            .map(Client::try_from)
            .collect()
    }

    /// Authenticates a client at the token, revocation and introspection endpoints
    /// (RFC 6749 §2.3). Public clients identify themselves by id alone.
    pub async fn authenticate(
        &self,
        client_id: &str,
        secret: Option<&str>,
        now: i64,
    ) -> Result<Client, OAuthError> {
        let unknown = || OAuthError::InvalidClient("Client authentication failed.".into());
        if client_id.is_empty() || client_id.len() > 100 {
            return Err(unknown());
        }
        let client: Client = self
            .db
            .client_by_id(client_id)
            .await?
            .ok_or_else(unknown)?
            .try_into()?;
        match (client.client_type, secret) {
            (ClientType::Confidential, Some(s)) if client.secret_matches(&self.hasher, s, now) => {
                Ok(client)
            }
            (ClientType::Public, None) => Ok(client),
            _ => Err(unknown()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_must_be_https_or_loopback() {
        assert!(parse_redirect_uri("https://app.example.com/cb").is_ok());
        assert!(parse_redirect_uri("http://localhost:8000/cb").is_ok());
        assert!(parse_redirect_uri("http://127.0.0.1/cb").is_ok());
        assert!(parse_redirect_uri("http://[::1]:9/cb").is_ok());
        assert!(parse_redirect_uri("http://app.example.com/cb").is_err());
        assert!(parse_redirect_uri("https://app.example.com/cb#x").is_err());
        assert!(parse_redirect_uri("javascript:alert(1)").is_err());
        assert!(parse_redirect_uri("/relative").is_err());
        assert!(parse_redirect_uri("https://user:pw@app.example.com/").is_err());
    }

    #[test]
    fn public_clients_need_a_redirect_uri_and_default_audience_is_the_api() {
        let api = ["https://s/api".to_string()];
        assert!(ClientInput::parse("CLI", "public", &[], "", &[], &api).is_err());
        let c = ClientInput::parse("Backend", "confidential", &[], "", &[], &api).expect("valid");
        assert_eq!(c.audiences, vec!["https://s/api".to_string()]);
        assert_eq!(c.scopes, Scopes::all());
    }

    #[test]
    fn audiences_come_from_the_servers_list_only() {
        let api = [
            "https://s/api".to_string(),
            "https://api.horizonafs.io".into(),
        ];
        let riverty = ClientInput::parse(
            "Riverty",
            "confidential",
            &[],
            "",
            &["https://api.horizonafs.io".into()],
            &api,
        )
        .expect("configured audience");
        assert_eq!(
            riverty.audiences,
            vec!["https://api.horizonafs.io".to_string()]
        );
        let foreign = ClientInput::parse(
            "Minting",
            "confidential",
            &[],
            "",
            &["https://other-merchant.example/api".into()],
            &api,
        );
        assert!(
            matches!(foreign, Err(ClientError::Invalid(m)) if m.contains("not one this server"))
        );
    }

    #[test]
    fn origins_are_exact_https_or_loopback_origins() {
        assert_eq!(
            parse_origin("https://app.example.com/").ok().as_deref(),
            Some("https://app.example.com")
        );
        assert!(parse_origin("http://127.0.0.1:5001").is_ok());
        assert!(parse_origin("https://app.example.com/path").is_err());
        assert!(parse_origin("http://app.example.com").is_err());
        assert!(parse_origin("*").is_err());
        assert!(parse_origin("null").is_err());
        assert!(parse_origin("https://*.example.com").is_err());
    }

    #[test]
    fn access_token_lifetime_is_bounded() {
        let api = ["https://s/api".to_string()];
        let base = || ClientInput::parse("B", "confidential", &[], "", &[], &api).expect("valid");
        assert_eq!(base().access_token_ttl, 3600);
        assert_eq!(
            base()
                .with_access_token_ttl("86400")
                .expect("a day")
                .access_token_ttl,
            86_400
        );
        assert!(base().with_access_token_ttl("86401").is_err());
        assert!(base().with_access_token_ttl("299").is_err());
        assert!(base().with_access_token_ttl("1h").is_err());
    }
}
