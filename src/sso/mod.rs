//! Single sign-on for subscribers, Recurpay-compatible and safer: the merchant's server proves
//! it knows the shared secret with `customer_hash = hex(HMAC-SHA256(secret, subscriber_id))`
//! (or, in replay-proof mode, over [`signed_message`]), and gets a one-time link that opens a
//! portal session for that subscriber. Secrets are sealed at rest;
//! the previous one keeps verifying for an overlap window after a rotation. Time is a parameter.

use std::net::IpAddr;

use crate::crypto::{constant_time_eq, hmac_sha256, keyed_hash, random_token, Sealer, SecretKey};
use crate::db::sso::{ConsumedLink, DeadLink, SsoLoginRow, SsoSettingsRow};
use crate::db::throttle::Limit;
use crate::db::Db;
use crate::error::AppError;
use crate::payments::customers::SubscriberId;

/// How far a signed timestamp may be from the server's clock, either way.
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 300;
pub const DEFAULT_LINK_TTL_SECS: i64 = 120;
pub const MAX_LINK_TTL_SECS: i64 = 600;
pub const MIN_LINK_TTL_SECS: i64 = 10;
pub const DEFAULT_OVERLAP_HOURS: i64 = 24;
/// A rotation keeps the previous secret for at most a week.
pub const MAX_OVERLAP_HOURS: i64 = 168;
/// A subscriber's portal session lasts an hour; then they come back through the merchant's site.
pub const PORTAL_SESSION_SECS: i64 = 3600;
/// Failed logins counted in windows of this length...
const THROTTLE_WINDOW_SECS: i64 = 600;
/// ...at most this many per subscriber (guessing one subscriber's hash)...
const MAX_FAILURES_PER_SUBSCRIBER: i64 = 10;
/// ...and this many per store (guessing across subscribers).
const MAX_FAILURES_PER_STORE: i64 = 100;
/// Failed logins written to the store's log per window: past this, failures are only counted,
/// so a flood of bad hashes cannot push the real entries out of the SSO tab's view.
const MAX_LOGGED_FAILURES_PER_STORE: i64 = 20;
const SECRET_PREFIX: &str = "sso_";

/// What the login log records.
pub mod outcome {
    pub const LINK_ISSUED: &str = "link_issued";
    pub const INVALID_HASH: &str = "invalid_hash";
    pub const UNKNOWN_SUBSCRIBER: &str = "unknown_subscriber";
    pub const STALE_TIMESTAMP: &str = "stale_timestamp";
    pub const NONCE_REUSED: &str = "nonce_reused";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const PORTAL_OPENED: &str = "portal_opened";
    pub const LINK_REUSED: &str = "link_reused";
    pub const LINK_EXPIRED: &str = "link_expired";
    pub const IP_MISMATCH: &str = "ip_mismatch";
    pub const SSO_DISABLED: &str = "sso_disabled";
}

/// A shared secret in the clear. Never printed; only the merchant's own SSO tab shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SsoSecret(String);

impl SsoSecret {
    fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        Self(format!("{SECRET_PREFIX}{}", hex::encode(bytes)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The `customer_hash` for `message`, exactly as the snippets compute it: the secret's
    /// UTF-8 bytes as the HMAC key, lowercase hex.
    pub fn customer_hash(&self, message: &str) -> String {
        hex::encode(hmac_sha256(self.0.as_bytes(), message.as_bytes()))
    }

    fn verifies(&self, message: &str, hash: &[u8; 32]) -> bool {
        constant_time_eq(&hmac_sha256(self.0.as_bytes(), message.as_bytes()), hash)
    }
}

impl std::fmt::Debug for SsoSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SsoSecret(<redacted>)")
    }
}

/// The store's public name in login URLs: 3 to 40 of `a-z 0-9 -`, not starting or ending with `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSlug(String);

impl StoreSlug {
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = (3..=40).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-')
            && !raw.ends_with('-');
        ok.then(|| Self(raw.to_string()))
    }

    /// A slug from the business name ("Acme Coffee Ltd." → "acme-coffee-ltd"), padded to the
    /// minimum length; `suffix` tells apart businesses with the same name.
    fn from_business_name(name: &str, suffix: Option<&str>) -> Self {
        let mut slug = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        let mut slug: String = slug.trim_matches('-').chars().take(30).collect();
        slug = slug.trim_end_matches('-').to_string();
        if slug.len() < 3 {
            slug = format!("store{}", if slug.is_empty() { "" } else { "-" }) + &slug;
        }
        if let Some(suffix) = suffix {
            slug = format!("{slug}-{suffix}");
        }
        Self(slug)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A `customer_hash` as sent: 64 hex digits (either case), i.e. 32 bytes.
fn parse_customer_hash(raw: &str) -> Result<[u8; 32], LoginError> {
    let mut out = [0u8; 32];
    if raw.len() != 64 || hex::decode_to_slice(raw, &mut out).is_err() {
        return Err(LoginError::Validation(
            "customer_hash: 64 hexadecimal characters (hex of HMAC-SHA256(secret, subscriber_id))."
                .into(),
        ));
    }
    Ok(out)
}

/// A nonce for signed-timestamp logins: 16 to 128 of `A-Z a-z 0-9 - _`.
fn parse_nonce(raw: &str) -> Result<&str, LoginError> {
    let ok = (16..=128).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(raw)
    } else {
        Err(LoginError::Validation(
            "nonce: 16 to 128 characters of A-Z, a-z, 0-9, - and _ (e.g. 16 random bytes in hex)."
                .into(),
        ))
    }
}

/// The message a signed-timestamp login's hash is over:
/// `"subgate-sso-v2/{subscriber_id}/{timestamp}/{nonce}"`. A subscriber id never contains `/`,
/// so no classic message (a bare subscriber id) is ever a signed one, and no two signed ones are
/// alike: an end user whose id is `victim.<ts>.<nonce>` cannot pass their own classic hash off as
/// a signed login of `victim` (which the old `"{id}.{ts}.{nonce}"` allowed).
pub fn signed_message(subscriber_id: &str, timestamp: i64, nonce: &str) -> String {
    format!("subgate-sso-v2/{subscriber_id}/{timestamp}/{nonce}")
}

/// The login call's body after JSON parsing.
#[derive(Debug, Clone, Default)]
pub struct LoginRequest {
    pub customer_hash: String,
    pub timestamp: Option<i64>,
    pub nonce: Option<String>,
    /// The end user's IP as the merchant's server saw it (for links bound to it).
    pub ip: Option<String>,
}

/// Who called or clicked, for the log.
#[derive(Debug, Clone)]
pub struct Caller {
    pub ip: IpAddr,
    pub user_agent: String,
}

impl Caller {
    fn user_agent(&self) -> String {
        self.user_agent.chars().take(300).collect()
    }
}

/// Why a login call failed; each has its status and a sentence the merchant's developer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("Failed to login subscriber due to an invalid customer hash")]
    InvalidHash,
    #[error("No subscriber \"{0}\" in this store: push it first with POST /api/customers.")]
    UnknownSubscriber(String),
    #[error("No store \"{0}\".")]
    UnknownStore(String),
    #[error("Single sign-on is turned off for this store.")]
    Disabled,
    #[error("timestamp is {0} s away from the server's clock; at most 300 s are allowed (send the current unix time).")]
    StaleTimestamp(i64),
    #[error("This nonce was used before: every login needs a fresh one.")]
    NonceReused,
    #[error("{0}")]
    Validation(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl LoginError {
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidHash | Self::StaleTimestamp(_) => 401,
            Self::UnknownSubscriber(_) | Self::UnknownStore(_) => 404,
            Self::Disabled => 403,
            Self::NonceReused => 409,
            Self::Validation(_) => 422,
            Self::App(e) => e.status(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidHash => "invalid_customer_hash",
            Self::UnknownSubscriber(_) => "unknown_subscriber",
            Self::UnknownStore(_) => "unknown_store",
            Self::Disabled => "sso_disabled",
            Self::StaleTimestamp(_) => "stale_timestamp",
            Self::NonceReused => "nonce_reused",
            Self::Validation(_) => "validation",
            Self::App(e) => e.code(),
        }
    }
}

impl From<sqlx::Error> for LoginError {
    fn from(e: sqlx::Error) -> Self {
        Self::App(e.into())
    }
}

/// A link issued to the merchant's server.
#[derive(Debug, Clone)]
pub struct IssuedLink {
    pub token: String,
    pub expires_at: i64,
}

/// Why a link did not open a session; the subscriber sees one friendly page for all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRefused {
    /// Used, expired, unknown, or bound to another IP.
    Dead,
    /// The merchant turned single sign-on off after issuing it.
    Disabled,
}

/// A subscriber's portal session, as the portal pages see it.
#[derive(Debug, Clone)]
pub struct SubscriberSession {
    pub merchant_id: String,
    pub subscriber_id: String,
}

/// The secrets that verify logins right now.
#[derive(Debug, Clone)]
pub struct ActiveSecrets {
    pub current: Option<(i64, SsoSecret)>,
    /// The previous generation, its secret and when it stops verifying.
    pub previous: Option<(i64, SsoSecret, i64)>,
}

pub struct Sso {
    db: Db,
    sealer: Sealer,
    link_key: [u8; 32],
}

impl Sso {
    pub fn new(db: Db, root: &SecretKey) -> Self {
        Self {
            db,
            sealer: Sealer::new(root, "sso-secret"),
            link_key: root.derive("sso-link"),
        }
    }

    fn seal_context(merchant_id: &str, generation: i64) -> String {
        format!("{merchant_id}:{generation}")
    }

    fn open(
        &self,
        merchant_id: &str,
        generation: i64,
        sealed: &str,
    ) -> Result<SsoSecret, AppError> {
        self.sealer
            .open(sealed, &Self::seal_context(merchant_id, generation))
            .and_then(|b| String::from_utf8(b).ok())
            .map(SsoSecret)
            .ok_or_else(|| {
                tracing::error!(
                    merchant_id,
                    generation,
                    "an SSO secret does not open: was SUBGATE_SECRET_KEY changed?"
                );
                AppError::Internal
            })
    }

    pub async fn settings(&self, merchant_id: &str) -> Result<Option<SsoSettingsRow>, AppError> {
        Ok(self.db.sso_settings(merchant_id).await?)
    }

    /// The current secret and, during an overlap window, the previous one.
    pub fn secrets(&self, s: &SsoSettingsRow, now: i64) -> Result<ActiveSecrets, AppError> {
        let current = match &s.secret_sealed {
            Some(sealed) => Some((
                s.secret_generation,
                self.open(&s.merchant_id, s.secret_generation, sealed)?,
            )),
            None => None,
        };
        let previous = match (
            &s.previous_sealed,
            s.previous_generation,
            s.previous_expires_at,
        ) {
            (Some(sealed), Some(generation), Some(expires)) if expires > now => Some((
                generation,
                self.open(&s.merchant_id, generation, sealed)?,
                expires,
            )),
            _ => None,
        };
        Ok(ActiveSecrets { current, previous })
    }

    /// Turns single sign-on on, creating the store slug on first use and a secret when there is none.
    pub async fn enable(
        &self,
        merchant_id: &str,
        business_name: &str,
        now: i64,
    ) -> Result<SsoSettingsRow, AppError> {
        let settings = self
            .settings_or_create(merchant_id, business_name, now)
            .await?;
        if settings.enabled && settings.secret_sealed.is_some() {
            return Ok(settings);
        }
        let mut next = settings.clone();
        next.enabled = true;
        if next.secret_sealed.is_none() {
            next.secret_generation = settings.secret_generation + 1;
            next.secret_sealed = Some(self.sealer.seal(
                SsoSecret::generate().expose().as_bytes(),
                &Self::seal_context(merchant_id, next.secret_generation),
            ));
            next.secret_created_at = Some(now);
        }
        next.updated_at = now;
        self.save(next, settings.secret_generation).await
    }

    /// Turns single sign-on off at once and forgets the secrets: links already issued stop
    /// working, open portal sessions end, and turning it on again starts with a new secret.
    pub async fn disable(&self, merchant_id: &str, now: i64) -> Result<(), AppError> {
        let Some(settings) = self.settings(merchant_id).await? else {
            return Ok(());
        };
        let mut next = settings.clone();
        next.enabled = false;
        next.secret_sealed = None;
        next.secret_created_at = None;
        next.previous_sealed = None;
        next.previous_generation = None;
        next.previous_expires_at = None;
        next.updated_at = now;
        self.save(next, settings.secret_generation).await?;
        // the portal also refuses sessions of a store whose sign-on is off; this frees the rows
        self.db.delete_subscriber_sessions_of(merchant_id).await?;
        Ok(())
    }

    /// A new current secret; the old one keeps verifying for `overlap_hours` (0: not at all).
    pub async fn rotate(
        &self,
        merchant_id: &str,
        overlap_hours: i64,
        now: i64,
    ) -> Result<SsoSettingsRow, AppError> {
        if !(0..=MAX_OVERLAP_HOURS).contains(&overlap_hours) {
            return Err(AppError::validation(format!(
                "Overlap: 0 to {MAX_OVERLAP_HOURS} hours."
            )));
        }
        let settings = self
            .settings(merchant_id)
            .await?
            .filter(|s| s.enabled && s.secret_sealed.is_some())
            .ok_or_else(|| AppError::Conflict("Turn single sign-on on first.".into()))?;
        let mut next = settings.clone();
        next.secret_generation = settings.secret_generation + 1;
        next.secret_sealed = Some(self.sealer.seal(
            SsoSecret::generate().expose().as_bytes(),
            &Self::seal_context(merchant_id, next.secret_generation),
        ));
        next.secret_created_at = Some(now);
        if overlap_hours > 0 {
            // the old secret stays sealed under its own generation's context
            next.previous_sealed = settings.secret_sealed.clone();
            next.previous_generation = Some(settings.secret_generation);
            next.previous_expires_at = Some(now + overlap_hours * 3600);
        } else {
            next.previous_sealed = None;
            next.previous_generation = None;
            next.previous_expires_at = None;
        }
        next.updated_at = now;
        self.save(next, settings.secret_generation).await
    }

    pub async fn update_options(
        &self,
        merchant_id: &str,
        link_ttl_secs: i64,
        bind_ip: bool,
        require_signed_timestamps: bool,
        now: i64,
    ) -> Result<(), AppError> {
        if !(MIN_LINK_TTL_SECS..=MAX_LINK_TTL_SECS).contains(&link_ttl_secs) {
            return Err(AppError::validation(format!(
                "Link lifetime: {MIN_LINK_TTL_SECS} to {MAX_LINK_TTL_SECS} seconds."
            )));
        }
        if self
            .db
            .save_sso_options(
                merchant_id,
                link_ttl_secs,
                bind_ip,
                require_signed_timestamps,
                now,
            )
            .await?
        {
            Ok(())
        } else {
            Err(AppError::Conflict("Turn single sign-on on first.".into()))
        }
    }

    async fn save(
        &self,
        next: SsoSettingsRow,
        expected_generation: i64,
    ) -> Result<SsoSettingsRow, AppError> {
        if self.db.save_sso_secrets(&next, expected_generation).await? {
            Ok(next)
        } else {
            Err(AppError::Conflict(
                "The SSO settings were changed at the same time elsewhere. Reload the page and try again."
                    .into(),
            ))
        }
    }

    async fn settings_or_create(
        &self,
        merchant_id: &str,
        business_name: &str,
        now: i64,
    ) -> Result<SsoSettingsRow, AppError> {
        for attempt in 0..5 {
            if let Some(s) = self.settings(merchant_id).await? {
                return Ok(s);
            }
            let suffix = (attempt > 0).then(|| {
                let mut bytes = [0u8; 3];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
                hex::encode(bytes)
            });
            let store = StoreSlug::from_business_name(business_name, suffix.as_deref());
            let row = SsoSettingsRow {
                merchant_id: merchant_id.to_string(),
                store: store.as_str().to_string(),
                enabled: false,
                link_ttl_secs: DEFAULT_LINK_TTL_SECS,
                bind_ip: false,
                require_signed_timestamps: false,
                secret_sealed: None,
                secret_generation: 0,
                secret_created_at: None,
                previous_sealed: None,
                previous_generation: None,
                previous_expires_at: None,
                updated_at: now,
            };
            if self.db.insert_sso_settings(&row).await? {
                return Ok(row);
            }
        }
        tracing::error!(merchant_id, "no free store slug after five attempts");
        Err(AppError::Internal)
    }

    pub async fn log(&self, merchant_id: &str, limit: i64) -> Result<Vec<SsoLoginRow>, AppError> {
        Ok(self.db.sso_logins(merchant_id, limit).await?)
    }

    // -----------------------------------------------------------------------------------------
    // the login call

    /// Verifies a login call and issues a one-time link. The hash is checked before anything
    /// about the subscriber is looked up, so the answers tell nothing to someone without the
    /// secret; failures count against per-subscriber and per-store limits.
    pub async fn login(
        &self,
        store: &str,
        subscriber_id: &str,
        request: &LoginRequest,
        caller: &Caller,
        now: i64,
    ) -> Result<IssuedLink, LoginError> {
        let settings = match StoreSlug::parse(store) {
            Some(slug) => self.db.sso_settings_by_store(slug.as_str()).await?,
            None => None,
        }
        .ok_or_else(|| LoginError::UnknownStore(store.chars().take(60).collect()))?;
        let merchant = settings.merchant_id.as_str();
        if !settings.enabled {
            return Err(LoginError::Disabled);
        }
        let subscriber = SubscriberId::parse(subscriber_id)
            .map_err(|e| LoginError::Validation(e.to_string()))?;
        let hash = parse_customer_hash(&request.customer_hash)?;
        let bound_ip = match (&request.ip, settings.bind_ip) {
            (Some(raw), _) => Some(
                raw.trim()
                    .parse::<IpAddr>()
                    .map(|ip| ip.to_canonical())
                    .map_err(|_| {
                        LoginError::Validation("ip: the end user's IPv4 or IPv6 address.".into())
                    })?,
            ),
            (None, true) => {
                return Err(LoginError::Validation(
                    "ip: required, this store binds login links to the end user's IP address."
                        .into(),
                ))
            }
            (None, false) => None,
        };
        let signed = match (request.timestamp, request.nonce.as_deref()) {
            (Some(ts), Some(nonce)) => Some((ts, parse_nonce(nonce)?)),
            (None, None) if !settings.require_signed_timestamps => None,
            _ => {
                return Err(LoginError::Validation(
                    "timestamp and nonce: both required, this store requires signed timestamps (hash over \"subgate-sso-v2/{subscriber_id}/{timestamp}/{nonce}\")."
                        .into(),
                ))
            }
        };
        let log = |outcome: &'static str| {
            let ip = bound_ip.unwrap_or(caller.ip).to_string();
            let ua = caller.user_agent();
            let subscriber = subscriber.as_str();
            async move {
                if let Err(e) = self
                    .db
                    .log_sso_login(merchant, subscriber, now, &ip, &ua, outcome)
                    .await
                {
                    tracing::warn!(error = %e, "could not write the SSO login log");
                }
            }
        };

        // the HMAC first: it is cheap and constant-time, and a correct hash is never refused
        // because others sent wrong ones for the same subscriber or store
        let message = match signed {
            Some((ts, nonce)) => signed_message(subscriber.as_str(), ts, nonce),
            None => subscriber.as_str().to_string(),
        };
        let secrets = self.secrets(&settings, now)?;
        let valid = secrets
            .current
            .iter()
            .map(|(_, s)| s)
            .chain(secrets.previous.iter().map(|(_, s, _)| s))
            // both are checked whatever the first says, so timing does not tell which matched
            .fold(false, |ok, secret| secret.verifies(&message, &hash) | ok);
        if !valid {
            return Err(self.failed(merchant, &subscriber, now, log).await);
        }
        if let Some((ts, nonce)) = signed {
            let skew = (now - ts).abs();
            if skew > TIMESTAMP_TOLERANCE_SECS {
                log(outcome::STALE_TIMESTAMP).await;
                return Err(LoginError::StaleTimestamp(skew));
            }
            // kept past the tolerance window, after which the timestamp alone refuses a replay
            let keep_until = ts + TIMESTAMP_TOLERANCE_SECS + 60;
            if !self
                .db
                .insert_sso_nonce(merchant, nonce, keep_until)
                .await?
            {
                log(outcome::NONCE_REUSED).await;
                return Err(LoginError::NonceReused);
            }
        }
        if self
            .db
            .customer(merchant, subscriber.as_str())
            .await?
            .is_none()
        {
            log(outcome::UNKNOWN_SUBSCRIBER).await;
            return Err(LoginError::UnknownSubscriber(
                subscriber.as_str().to_string(),
            ));
        }
        let token = random_token(32);
        let expires_at = now + settings.link_ttl_secs;
        self.db
            .insert_sso_link(
                &keyed_hash(&self.link_key, &token),
                merchant,
                subscriber.as_str(),
                bound_ip.map(|ip| ip.to_string()).as_deref(),
                now,
                expires_at,
            )
            .await?;
        log(outcome::LINK_ISSUED).await;
        Ok(IssuedLink { token, expires_at })
    }

    /// Counts a wrong hash against the subscriber's and the store's limits (atomically, so a
    /// burst is counted whole) and says how to answer it: 401 within the limits, 429 past them.
    /// Only the first few failures of a window are logged.
    async fn failed<F, Fut>(
        &self,
        merchant: &str,
        subscriber: &SubscriberId,
        now: i64,
        log: F,
    ) -> LoginError
    where
        F: Fn(&'static str) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let limits = [
            Limit {
                bucket: format!(
                    "sso:subscriber:{merchant}:{}",
                    crate::crypto::sha256_hex(subscriber.as_str().as_bytes())
                ),
                max: MAX_FAILURES_PER_SUBSCRIBER,
                window: THROTTLE_WINDOW_SECS,
            },
            Limit {
                bucket: format!("sso:store:{merchant}"),
                max: MAX_FAILURES_PER_STORE,
                window: THROTTLE_WINDOW_SECS,
            },
        ];
        match self.db.throttle_take(&limits, now).await {
            Ok(Ok(places)) => {
                if places
                    .hits(1)
                    .is_some_and(|n| n <= MAX_LOGGED_FAILURES_PER_STORE)
                {
                    log(outcome::INVALID_HASH).await;
                }
                LoginError::InvalidHash
            }
            Ok(Err(wait)) => AppError::RateLimited(wait as u64).into(),
            Err(e) => e.into(),
        }
    }

    // -----------------------------------------------------------------------------------------
    // the link and the portal session

    /// Whether a link would still open the portal; it is not used up by asking. The link's GET
    /// only shows a confirmation page: a GET that logged in would let any site sign a visitor
    /// into someone else's portal (login CSRF) with an `<img>` or a redirect.
    pub async fn link_is_open(&self, token: &str, now: i64) -> Result<bool, AppError> {
        if !Self::token_shape_ok(token) {
            return Ok(false);
        }
        Ok(self
            .db
            .sso_link_is_open(&keyed_hash(&self.link_key, token), now)
            .await?)
    }

    fn token_shape_ok(token: &str) -> bool {
        token.len() == 43
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    /// Consumes a one-time link and starts a portal session; returns the session's cookie value.
    pub async fn open_link(
        &self,
        token: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<(String, SubscriberSession), LinkRefused> {
        let ip = caller.ip.to_string();
        let ua = caller.user_agent();
        let log = |merchant: String, subscriber: String, outcome: &'static str| {
            let (ip, ua) = (ip.clone(), ua.clone());
            async move {
                if let Err(e) = self
                    .db
                    .log_sso_login(&merchant, &subscriber, now, &ip, &ua, outcome)
                    .await
                {
                    tracing::warn!(error = %e, "could not write the SSO login log");
                }
            }
        };
        if !Self::token_shape_ok(token) {
            return Err(LinkRefused::Dead);
        }
        let consumed = self
            .db
            .consume_sso_link(&keyed_hash(&self.link_key, token), now)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "consuming an SSO link failed");
                LinkRefused::Dead
            })?;
        let ConsumedLink {
            merchant_id,
            subscriber_id,
            bound_ip,
        } = match consumed {
            Ok(link) => link,
            Err(DeadLink::Unknown) => return Err(LinkRefused::Dead),
            Err(DeadLink::Used {
                merchant_id,
                subscriber_id,
            }) => {
                log(merchant_id, subscriber_id, outcome::LINK_REUSED).await;
                return Err(LinkRefused::Dead);
            }
            Err(DeadLink::Expired {
                merchant_id,
                subscriber_id,
            }) => {
                log(merchant_id, subscriber_id, outcome::LINK_EXPIRED).await;
                return Err(LinkRefused::Dead);
            }
        };
        let enabled = self
            .db
            .sso_settings(&merchant_id)
            .await
            .ok()
            .flatten()
            .is_some_and(|s| s.enabled);
        if !enabled {
            log(merchant_id, subscriber_id, outcome::SSO_DISABLED).await;
            return Err(LinkRefused::Disabled);
        }
        if bound_ip.is_some_and(|bound| bound != ip) {
            log(merchant_id, subscriber_id, outcome::IP_MISMATCH).await;
            return Err(LinkRefused::Dead);
        }
        let cookie = random_token(32);
        self.db
            .insert_subscriber_session(
                &crate::crypto::sha256_hex(cookie.as_bytes()),
                &merchant_id,
                &subscriber_id,
                now,
                now + PORTAL_SESSION_SECS,
            )
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "starting a portal session failed");
                LinkRefused::Dead
            })?;
        log(
            merchant_id.clone(),
            subscriber_id.clone(),
            outcome::PORTAL_OPENED,
        )
        .await;
        Ok((
            cookie,
            SubscriberSession {
                merchant_id,
                subscriber_id,
            },
        ))
    }

    pub async fn portal_session(
        &self,
        cookie: &str,
        now: i64,
    ) -> Result<Option<SubscriberSession>, AppError> {
        Ok(self
            .db
            .subscriber_session(&crate::crypto::sha256_hex(cookie.as_bytes()), now)
            .await?
            .map(|(merchant_id, subscriber_id)| SubscriberSession {
                merchant_id,
                subscriber_id,
            }))
    }

    pub async fn end_portal_session(&self, cookie: &str) -> Result<(), AppError> {
        Ok(self
            .db
            .delete_subscriber_session(&crate::crypto::sha256_hex(cookie.as_bytes()))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_slugs_come_from_business_names() {
        assert_eq!(
            StoreSlug::from_business_name("Acme Coffee Ltd.", None).as_str(),
            "acme-coffee-ltd"
        );
        assert_eq!(StoreSlug::from_business_name("Ü", None).as_str(), "store");
        assert_eq!(
            StoreSlug::from_business_name("AB", Some("x1y2")).as_str(),
            "store-ab-x1y2"
        );
        for name in [
            "Acme Coffee Ltd.",
            "Ü",
            "  --  ",
            "a very long business name that keeps going on",
        ] {
            let slug = StoreSlug::from_business_name(name, None);
            assert!(StoreSlug::parse(slug.as_str()).is_some(), "{slug:?}");
        }
        assert!(StoreSlug::parse("-bad").is_none());
        assert!(StoreSlug::parse("Bad").is_none());
        assert!(StoreSlug::parse("ok-store").is_some());
    }

    #[test]
    fn customer_hashes_are_hex_hmac_sha256_of_the_message() {
        // RFC 4231 test case 2, with the secret as the key's UTF-8 bytes
        let secret = SsoSecret("Jefe".into());
        let hash = secret.customer_hash("what do ya want for nothing?");
        assert_eq!(
            hash,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let bytes = parse_customer_hash(&hash.to_uppercase()).expect("either case");
        assert!(secret.verifies("what do ya want for nothing?", &bytes));
        assert!(!secret.verifies("what do ya want for nothing!", &bytes));
        assert!(parse_customer_hash("zz").is_err());
        assert!(parse_customer_hash(&"g".repeat(64)).is_err());
    }

    #[test]
    fn secrets_are_256_bit_and_never_printed() {
        let s = SsoSecret::generate();
        assert_eq!(s.expose().len(), SECRET_PREFIX.len() + 64);
        assert!(!format!("{s:?}").contains(&s.expose()[4..]));
    }

    #[test]
    fn nonces_are_checked_for_shape() {
        assert!(parse_nonce("0123456789abcdef").is_ok());
        assert!(parse_nonce("short").is_err());
        assert!(parse_nonce("has space in it!!").is_err());
    }
}
