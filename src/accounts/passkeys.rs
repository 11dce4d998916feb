//! Passkeys (WebAuthn Level 3, verified by `webauthn-rs`): registered from the Account tab, then
//! used to log in without a password (a discoverable credential: the browser offers the
//! account's passkeys, nobody types an address, so nothing tells whether an address has an
//! account), instead of the authenticator app's code at the second step, or to confirm it is you
//! before a sensitive action.
//!
//! A passkey is user-verified (PIN, fingerprint or face on the device) on every use, so alone it
//! is already two factors. Only its public key and signature counter are stored; a counter that
//! goes backwards (a cloned authenticator) is refused. Each ceremony's challenge waits in the
//! server-side session and is taken out by the first answer to it: single use.
//!
//! The relying party is the host of `SUBGATE_PUBLIC_URL`. Browsers refuse WebAuthn on an IP
//! address, so a loopback address (`http://127.0.0.1:3000`, `make run`'s) gives the relying
//! party `localhost` on the same port, the loopback alias the CSRF layer accepts too: passkeys
//! work when the dashboard is opened at `http://localhost:3000`. Another IP address has none.

use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::{AuthenticatorSelectionCriteria, ResidentKeyRequirement};

use super::{AccountError, Accounts, Merchant, Origin};
use crate::db::passkeys::{NewPasskey, PasskeyRow};

/// Passkeys an account may register (each device or password manager holds one).
pub const MAX_PER_ACCOUNT: i64 = 10;
/// A passkey's name, as the account list shows it.
pub const NAME_MAX_LEN: usize = 60;
/// How long a ceremony's challenge waits for the browser's answer.
pub const CEREMONY_SECS: i64 = 300;

/// The relying party (this site, as passkeys are bound to it), or why there is none.
pub enum RelyingParty {
    On(Box<Webauthn>),
    Off(&'static str),
}

impl RelyingParty {
    pub fn new(public_url: &Url) -> Self {
        let loopback_ip = match public_url.host() {
            Some(url::Host::Ipv4(ip)) => Some(ip.is_loopback()),
            Some(url::Host::Ipv6(ip)) => Some(ip.is_loopback()),
            _ => None,
        };
        let origin = match loopback_ip {
            Some(false) => {
                return Self::Off(
                    "Passkeys need this server to be reached by a domain name: set SUBGATE_PUBLIC_URL to one.",
                )
            }
            Some(true) => {
                let mut origin = public_url.clone();
                if origin.set_host(Some("localhost")).is_err() {
                    return Self::Off("Passkeys are not available on this address.");
                }
                origin
            }
            None => public_url.clone(),
        };
        let Some(rp_id) = origin.domain().map(str::to_string) else {
            return Self::Off("Passkeys are not available on this address.");
        };
        match WebauthnBuilder::new(&rp_id, &origin)
            .map(|b| b.rp_name("subgate"))
            .and_then(WebauthnBuilder::build)
        {
            Ok(webauthn) => Self::On(Box::new(webauthn)),
            Err(e) => {
                tracing::error!(error = %e, rp_id, "passkeys are off: relying party refused");
                Self::Off("Passkeys are not available on this address.")
            }
        }
    }

    fn get(&self) -> Result<&Webauthn, AccountError> {
        match self {
            Self::On(w) => Ok(w.as_ref()),
            Self::Off(why) => Err(AccountError::invalid(*why)),
        }
    }

    /// Where passkeys work (`http://localhost:3000`), or why they do not.
    pub fn origin(&self) -> Result<String, &'static str> {
        match self {
            Self::On(w) => Ok(w
                .get_allowed_origins()
                .first()
                .map(|o| o.origin().ascii_serialization())
                .unwrap_or_default()),
            Self::Off(why) => Err(why),
        }
    }
}

/// What a check of the account's own passkeys is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Login's second step, instead of the app's code.
    SignIn,
    /// "Confirm it is you" before a sensitive action.
    Reauthenticate,
}

/// A registration's state, and the WebAuthn user id it gives the account.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Registration {
    state: PasskeyRegistration,
    user: String,
}

/// The key a passkey is found by: its credential id, base64url.
fn credential_key(id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// A ceremony started for this session: its state, and when it started.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Pending<T> {
    pub state: T,
    pub at: i64,
}

impl<T> Pending<T> {
    fn fresh(self, now: i64) -> Result<T, AccountError> {
        if now - self.at > CEREMONY_SECS || now < self.at {
            return Err(expired());
        }
        Ok(self.state)
    }
}

/// A ceremony whose challenge is gone: used, expired, or never started in this session.
pub fn expired() -> AccountError {
    AccountError::invalid("Passkey: this attempt has expired or was already used. Try again.")
}

fn refused(e: impl std::fmt::Display) -> AccountError {
    tracing::info!(error = %e, "passkey refused");
    AccountError::invalid("Passkey: the browser's answer could not be verified. Try again.")
}

/// A passkey as the Account tab lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeySummary {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl From<PasskeyRow> for PasskeySummary {
    fn from(r: PasskeyRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

fn parse_name(raw: &str) -> Result<String, AccountError> {
    let name = raw.trim();
    if name.is_empty() {
        return Ok("Passkey".into());
    }
    if name.chars().count() > NAME_MAX_LEN || name.chars().any(char::is_control) {
        return Err(AccountError::invalid(format!(
            "Passkey name: at most {NAME_MAX_LEN} characters, no control characters."
        )));
    }
    Ok(name.to_string())
}

fn stored(row: &PasskeyRow) -> Result<Passkey, AccountError> {
    serde_json::from_str(&row.passkey).map_err(|e| {
        tracing::error!(error = %e, passkey = %row.id, "stored passkey does not parse");
        AccountError::Hashing
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, AccountError> {
    serde_json::to_string(value).map_err(|e| {
        tracing::error!(error = %e, "passkey data does not serialise");
        AccountError::Hashing
    })
}

fn credential<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, AccountError> {
    // a browser's answer is a few KB; anything much larger is not one
    if json.len() > 64 * 1024 {
        return Err(AccountError::invalid(
            "Passkey: the browser's answer is too large.",
        ));
    }
    serde_json::from_str(json)
        .map_err(|_| AccountError::invalid("Passkey: the browser's answer is malformed."))
}

impl Accounts {
    /// Where passkeys work, or why they do not (for the pages to say).
    pub fn passkey_origin(&self) -> Result<String, &'static str> {
        self.passkeys.origin()
    }

    pub async fn passkeys(&self, merchant_id: &str) -> Result<Vec<PasskeySummary>, AccountError> {
        Ok(self
            .db
            .passkeys(merchant_id)
            .await?
            .into_iter()
            .map(PasskeySummary::from)
            .collect())
    }

    /// Starts registering a passkey for the account: the options for
    /// `navigator.credentials.create`, and the state the answer is checked against.
    pub async fn begin_passkey_registration(
        &self,
        merchant: &Merchant,
        now: i64,
    ) -> Result<(CreationChallengeResponse, Pending<Registration>), AccountError> {
        let webauthn = self.passkeys.get()?;
        let existing = self.db.passkeys(&merchant.id).await?;
        if existing.len() as i64 >= MAX_PER_ACCOUNT {
            return Err(crate::db::passkeys::PasskeyDbError::TooMany.into());
        }
        // one WebAuthn user id per account, random (it is stored on the device: no email in it)
        let user = match existing.first() {
            Some(row) => Uuid::parse_str(&row.user_handle).map_err(|_| AccountError::Hashing)?,
            None => Uuid::from_bytes(self.entropy.bytes::<16>()),
        };
        let exclude = existing
            .iter()
            .map(|row| stored(row).map(|p| p.cred_id().clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let (mut options, state) = webauthn
            .start_passkey_registration(user, &merchant.email, &merchant.email, Some(exclude))
            .map_err(refused)?;
        // webauthn-rs asks for a non-discoverable credential ("discouraged"); the password-less
        // login finds the account from the passkey itself, so the passkey must be discoverable
        options.public_key.authenticator_selection = Some(AuthenticatorSelectionCriteria {
            resident_key: Some(ResidentKeyRequirement::Required),
            require_resident_key: true,
            ..options
                .public_key
                .authenticator_selection
                .take()
                .unwrap_or_default()
        });
        Ok((
            options,
            Pending {
                state: Registration {
                    state,
                    user: user.to_string(),
                },
                at: now,
            },
        ))
    }

    /// Finishes a registration with the browser's answer (`credential`, JSON): the passkey is
    /// the account's, with its audit line.
    pub async fn finish_passkey_registration(
        &self,
        merchant: &Merchant,
        pending: Pending<Registration>,
        credential_json: &str,
        name: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<PasskeySummary, AccountError> {
        let webauthn = self.passkeys.get()?;
        let name = parse_name(name)?;
        let Registration { state, user } = pending.fresh(now)?;
        let answer: RegisterPublicKeyCredential = credential(credential_json)?;
        let passkey = webauthn
            .finish_passkey_registration(&answer, &state)
            .map_err(refused)?;
        let id = self.entropy.id("pk");
        let mut entry = origin.entry(
            &merchant.id,
            "account.passkey_added",
            Some(merchant.email.as_str()),
            now,
        );
        entry.target = Some(name.clone());
        let row = NewPasskey {
            id: &id,
            merchant_id: &merchant.id,
            user_handle: &user,
            credential_id: &credential_key(passkey.cred_id()),
            name: &name,
            passkey: &to_json(&passkey)?,
            created_at: now,
        };
        self.db
            .add_passkey(row, MAX_PER_ACCOUNT, &self.audited(entry))
            .await?;
        tracing::info!(merchant = %merchant.id, passkey = %id, "passkey added");
        Ok(PasskeySummary {
            id,
            name,
            created_at: now,
            last_used_at: None,
        })
    }

    /// Starts a password-less login: the options for `navigator.credentials.get`, which name no
    /// account (the browser offers the passkeys it holds for this site).
    pub async fn begin_passkey_login(
        &self,
        origin: &Origin,
        now: i64,
    ) -> Result<
        (
            RequestChallengeResponse,
            Pending<DiscoverableAuthentication>,
        ),
        AccountError,
    > {
        let webauthn = self.passkeys.get()?;
        // each start writes a session: bounded per IP like every other anonymous write
        self.throttle
            .passkey_start(&self.db, &origin.ip, now)
            .await?;
        let (mut options, state) = webauthn
            .start_discoverable_authentication()
            .map_err(refused)?;
        // a button's modal request, not the autofill ("conditional") one webauthn-rs sets
        options.mediation = None;
        Ok((options, Pending { state, at: now }))
    }

    /// Finishes a password-less login: the account whose passkey signed the challenge, within
    /// the login limits (a failed answer takes a place as a wrong password does).
    pub async fn finish_passkey_login(
        &self,
        origin: &Origin,
        pending: Pending<DiscoverableAuthentication>,
        credential_json: &str,
        now: i64,
    ) -> Result<Merchant, AccountError> {
        let webauthn = self.passkeys.get()?;
        let state = pending.fresh(now)?;
        let answer: PublicKeyCredential = credential(credential_json)?;
        let (user, cred_id) = webauthn
            .identify_discoverable_authentication(&answer)
            .map_err(refused)?;
        let row = self
            .db
            .passkey_by_credential(&credential_key(cred_id))
            .await?
            .filter(|row| row.user_handle == user.to_string());
        let account = match &row {
            Some(row) => self.db.merchant_by_id(&row.merchant_id).await?,
            None => None,
        };
        // an unknown passkey counts against this IP; a known one also against its account
        let email = account
            .as_ref()
            .map(|a| a.email.to_lowercase())
            .unwrap_or_default();
        let attempt = self
            .throttle
            .login_attempt(&self.db, &origin.ip, &email, now)
            .await?;
        let (Some(row), Some(account)) = (row, account) else {
            attempt.keep();
            return Err(AccountError::invalid(
                "Passkey: this passkey is not registered here (it may have been removed).",
            ));
        };
        let key = DiscoverableKey::from(&stored(&row)?);
        let checked = self
            .check_assertion(webauthn, &row, &answer, now, move |w, a| {
                w.finish_discoverable_authentication(a, state, std::slice::from_ref(&key))
            })
            .await;
        match checked {
            Ok(()) => {
                self.throttle
                    .login_succeeded(&self.db, attempt, &origin.ip, &email)
                    .await?;
                let mut entry = origin.entry(
                    &account.id,
                    "account.signed_in",
                    Some(account.email.as_str()),
                    now,
                );
                entry.target = Some(format!("with the passkey {}", row.name));
                self.audit(entry).await?;
                tracing::info!(merchant = %account.id, "merchant logged in with a passkey");
                Ok(account.into())
            }
            Err(e) => {
                attempt.keep();
                let mut entry = origin.entry(&account.id, "account.sign_in_failed", None, now);
                entry.target = Some(format!("{} (passkey)", account.email));
                self.audit(entry).await?;
                Err(e)
            }
        }
    }

    /// Starts a ceremony for the account's own passkeys: instead of the app's code at login's
    /// second step, or to confirm it is you.
    pub async fn begin_passkey_check(
        &self,
        merchant_id: &str,
        now: i64,
    ) -> Result<(RequestChallengeResponse, Pending<PasskeyAuthentication>), AccountError> {
        let webauthn = self.passkeys.get()?;
        let keys = self
            .db
            .passkeys(merchant_id)
            .await?
            .iter()
            .map(stored)
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(AccountError::invalid(
                "This account has no passkey: add one on the Account tab first.",
            ));
        }
        let (options, state) = webauthn
            .start_passkey_authentication(&keys)
            .map_err(refused)?;
        Ok((options, Pending { state, at: now }))
    }

    /// Finishes [`Self::begin_passkey_check`]: `Ok` when one of the account's passkeys signed.
    /// Within the login limits of the account from this IP.
    pub async fn finish_passkey_check(
        &self,
        merchant_id: &str,
        pending: Pending<PasskeyAuthentication>,
        credential_json: &str,
        purpose: Check,
        origin: &Origin,
        now: i64,
    ) -> Result<Merchant, AccountError> {
        let webauthn = self.passkeys.get()?;
        let state = pending.fresh(now)?;
        let answer: PublicKeyCredential = credential(credential_json)?;
        let account = self
            .db
            .merchant_by_id(merchant_id)
            .await?
            .ok_or(AccountError::InvalidCredentials)?;
        let email = account.email.to_lowercase();
        let attempt = self
            .throttle
            .login_attempt(&self.db, &origin.ip, &email, now)
            .await?;
        let row = self
            .db
            .passkey_by_credential(&credential_key(answer.get_credential_id()))
            .await?
            .filter(|row| row.merchant_id == merchant_id);
        let checked = match &row {
            Some(row) => {
                self.check_assertion(webauthn, row, &answer, now, |w, a| {
                    w.finish_passkey_authentication(a, &state)
                })
                .await
            }
            None => Err(refused("not this account's passkey")),
        };
        match checked {
            Ok(()) => {
                self.throttle
                    .login_succeeded(&self.db, attempt, &origin.ip, &email)
                    .await?;
                let action = match purpose {
                    Check::SignIn => "account.signed_in",
                    Check::Reauthenticate => "account.reauthenticated",
                };
                let mut entry =
                    origin.entry(&account.id, action, Some(account.email.as_str()), now);
                entry.target = row.map(|r| format!("with the passkey {}", r.name));
                self.audit(entry).await?;
                Ok(account.into())
            }
            Err(e) => {
                attempt.keep();
                let mut entry =
                    origin.entry(&account.id, "account.second_factor_failed", None, now);
                entry.target = Some(format!("{} (passkey)", account.email));
                self.audit(entry).await?;
                Err(e)
            }
        }
    }

    /// Runs `verify`, then stores the passkey's new counter: only if the stored one is still the
    /// one read (two answers racing with the same counter cannot both pass).
    async fn check_assertion(
        &self,
        webauthn: &Webauthn,
        row: &PasskeyRow,
        answer: &PublicKeyCredential,
        now: i64,
        verify: impl FnOnce(
            &Webauthn,
            &PublicKeyCredential,
        ) -> webauthn_rs::prelude::WebauthnResult<
            webauthn_rs::prelude::AuthenticationResult,
        >,
    ) -> Result<(), AccountError> {
        let result = verify(webauthn, answer).map_err(refused)?;
        let mut passkey = stored(row)?;
        let _ = passkey.update_credential(&result);
        let used = self
            .db
            .use_passkey(&row.id, &row.passkey, &to_json(&passkey)?, now)
            .await?;
        if !used {
            return Err(refused("the passkey was used by another request meanwhile"));
        }
        Ok(())
    }

    /// Removes one of the account's passkeys (the caller checked the fresh login).
    pub async fn remove_passkey(
        &self,
        merchant: &Merchant,
        passkey_id: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<(), AccountError> {
        let mut entry = origin.entry(
            &merchant.id,
            "account.passkey_removed",
            Some(merchant.email.as_str()),
            now,
        );
        let none = || AccountError::NotFound("No such passkey on this account.".into());
        let Some(name) = self.db.passkey_name(&merchant.id, passkey_id).await? else {
            return Err(none());
        };
        entry.target = Some(name);
        if !self
            .db
            .remove_passkey(&merchant.id, passkey_id, &self.audited(entry))
            .await?
        {
            return Err(none());
        }
        Ok(())
    }
}
