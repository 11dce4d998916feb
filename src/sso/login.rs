//! The merchant's login call: the hash checked first (so strangers' wrong guesses never lock the
//! right one out), then the limits, then a one-time link for the subscriber.

use std::net::IpAddr;

use super::*;
use crate::crypto::keyed_hash;
use crate::db::sso::SsoSettingsRow;
use crate::db::throttle::Limit;
use crate::payments::customers::SubscriberId;

/// A `customer_hash` as sent: 64 hex digits (either case), i.e. 32 bytes.
pub(super) fn parse_customer_hash(raw: &str) -> Result<[u8; 32], LoginError> {
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
pub(super) fn parse_nonce(raw: &str) -> Result<&str, LoginError> {
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
    pub(super) fn user_agent(&self) -> String {
        self.user_agent.chars().take(300).collect()
    }
}

/// Why a login call failed, each with a sentence the merchant's developer can act on; the edge
/// (`crate::http::sso`) gives each its status and code.
#[derive(Debug, thiserror::Error)]
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
    /// Too many wrong hashes for this subscriber or store: the seconds until the window ends.
    #[error("Too many attempts. Try again in {0} s.")]
    Throttled(u64),
    #[error(transparent)]
    Sso(#[from] SsoError),
}

impl From<sqlx::Error> for LoginError {
    fn from(e: sqlx::Error) -> Self {
        Self::Sso(e.into())
    }
}

/// A link issued to the merchant's server.
#[derive(Debug, Clone)]
pub struct IssuedLink {
    pub token: String,
    pub expires_at: i64,
}

/// A login call's body, read against its store's settings.
struct Checked<'r> {
    hash: [u8; 32],
    /// The end user's address the link is bound to, when the merchant sent one.
    bound_ip: Option<IpAddr>,
    /// A signed login's timestamp and nonce.
    signed: Option<(i64, &'r str)>,
}

impl<'r> Checked<'r> {
    fn read(request: &'r LoginRequest, settings: &SsoSettingsRow) -> Result<Self, LoginError> {
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
        Ok(Self {
            hash,
            bound_ip,
            signed,
        })
    }

    /// What the hash must be the HMAC of: the subscriber id, or the signed message.
    fn message(&self, subscriber: &SubscriberId) -> String {
        match self.signed {
            Some((ts, nonce)) => signed_message(subscriber.as_str(), ts, nonce),
            None => subscriber.as_str().to_string(),
        }
    }
}

impl LoginError {
    /// How a refusal after the hash matched is written in the store's login log.
    fn logged_as(&self) -> Option<&'static str> {
        match self {
            Self::StaleTimestamp(_) => Some(outcome::STALE_TIMESTAMP),
            Self::NonceReused => Some(outcome::NONCE_REUSED),
            Self::UnknownSubscriber(_) => Some(outcome::UNKNOWN_SUBSCRIBER),
            _ => None,
        }
    }
}

impl Sso {
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
        let checked = Checked::read(request, &settings)?;
        let log = |outcome: &'static str| {
            let ip = checked.bound_ip.unwrap_or(caller.ip).to_string();
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
        let message = checked.message(&subscriber);
        if !self.hash_matches(&settings, &message, &checked.hash, now)? {
            return Err(self.failed(merchant, &subscriber, now, log).await);
        }
        let issued = async {
            if let Some((ts, nonce)) = checked.signed {
                self.not_replayed(merchant, ts, nonce, now).await?;
            }
            if self
                .db
                .customer(merchant, subscriber.as_str())
                .await?
                .is_none()
            {
                return Err(LoginError::UnknownSubscriber(
                    subscriber.as_str().to_string(),
                ));
            }
            self.issue_link(&settings, &subscriber, checked.bound_ip, now)
                .await
        }
        .await;
        match &issued {
            Ok(_) => log(outcome::LINK_ISSUED).await,
            Err(e) => {
                if let Some(outcome) = e.logged_as() {
                    log(outcome).await;
                }
            }
        }
        issued
    }

    /// A one-time link into the portal as one of the merchant's own subscribers, asked from
    /// the dashboard (no hash: the merchant's session is the proof), so the merchant sees what
    /// that subscriber sees. Logged as a preview.
    pub async fn preview(
        &self,
        merchant_id: &str,
        subscriber: &SubscriberId,
        caller: &Caller,
        now: i64,
    ) -> Result<IssuedLink, SsoError> {
        let settings = self
            .db
            .sso_settings(merchant_id)
            .await?
            .filter(|s| s.enabled)
            .ok_or(SsoError::Off)?;
        if self
            .db
            .customer(merchant_id, subscriber.as_str())
            .await?
            .is_none()
        {
            return Err(SsoError::Invalid(format!(
                "No subscriber \"{subscriber}\": push it first with POST /api/customers."
            )));
        }
        let bound_ip = settings.bind_ip.then_some(caller.ip);
        let link = self
            .issue_link(&settings, subscriber, bound_ip, now)
            .await
            .map_err(|e| match e {
                LoginError::Sso(e) => e,
                other => SsoError::Invalid(other.to_string()),
            })?;
        let ua = caller.user_agent();
        self.db
            .log_sso_login(
                merchant_id,
                subscriber.as_str(),
                now,
                &caller.ip.to_string(),
                &ua,
                outcome::PREVIEW_ISSUED,
            )
            .await?;
        Ok(link)
    }

    /// Whether `hash` is the HMAC of `message` under the store's current or previous secret.
    fn hash_matches(
        &self,
        settings: &SsoSettingsRow,
        message: &str,
        hash: &[u8; 32],
        now: i64,
    ) -> Result<bool, LoginError> {
        let secrets = self.secrets(settings, now)?;
        Ok(secrets
            .current
            .iter()
            .map(|(_, s)| s)
            .chain(secrets.previous.iter().map(|(_, s, _)| s))
            // both are checked whatever the first says, so timing does not tell which matched
            .fold(false, |ok, secret| secret.verifies(message, hash) | ok))
    }

    /// A signed login's timestamp is near the server's clock and its nonce is new.
    async fn not_replayed(
        &self,
        merchant: &str,
        ts: i64,
        nonce: &str,
        now: i64,
    ) -> Result<(), LoginError> {
        let skew = (now - ts).abs();
        if skew > TIMESTAMP_TOLERANCE_SECS {
            return Err(LoginError::StaleTimestamp(skew));
        }
        // kept past the tolerance window, after which the timestamp alone refuses a replay
        let keep_until = ts + TIMESTAMP_TOLERANCE_SECS + 60;
        if !self
            .db
            .insert_sso_nonce(merchant, nonce, keep_until)
            .await?
        {
            return Err(LoginError::NonceReused);
        }
        Ok(())
    }

    /// A one-time link into the portal for `subscriber`, open for the store's link lifetime.
    async fn issue_link(
        &self,
        settings: &SsoSettingsRow,
        subscriber: &SubscriberId,
        bound_ip: Option<IpAddr>,
        now: i64,
    ) -> Result<IssuedLink, LoginError> {
        let token = self.entropy.token(32);
        let expires_at = now + settings.link_ttl_secs;
        self.db
            .insert_sso_link(
                &keyed_hash(&self.link_key, &token),
                &settings.merchant_id,
                subscriber.as_str(),
                bound_ip.map(|ip| ip.to_string()).as_deref(),
                now,
                expires_at,
            )
            .await?;
        Ok(IssuedLink { token, expires_at })
    }

    /// Counts a wrong hash against the subscriber's and the store's limits (atomically, so a
    /// burst is counted whole) and says how to answer it: 401 within the limits, 429 past them.
    /// Only the first few failures of a window are logged.
    pub(super) async fn failed<F, Fut>(
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
            Ok(Err(wait)) => LoginError::Throttled(wait as u64),
            Err(e) => e.into(),
        }
    }

    // -----------------------------------------------------------------------------------------
    // the link and the portal session
}
