//! A merchant's SSO settings: turning it on and off, rotating the secret, link lifetime and
//! overlap, and the login log the SSO tab shows.

use super::*;
use crate::db::account::Audit;
use crate::db::sso::{SsoLoginRow, SsoSettingsRow};

/// How long a rotated-out secret keeps verifying: whole hours, 0 to [`MAX_OVERLAP_HOURS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverlapHours(i64);

impl OverlapHours {
    pub fn new(hours: i64) -> Result<Self, SsoError> {
        if (0..=MAX_OVERLAP_HOURS).contains(&hours) {
            Ok(Self(hours))
        } else {
            Err(Self::refused())
        }
    }

    /// As typed on the SSO tab.
    pub fn parse(raw: &str) -> Result<Self, SsoError> {
        raw.trim()
            .parse::<i64>()
            .map_err(|_| Self::refused())
            .and_then(Self::new)
    }

    fn refused() -> SsoError {
        SsoError::Invalid(format!(
            "Overlap: a whole number of hours, 0 to {MAX_OVERLAP_HOURS}."
        ))
    }
}

/// How long a one-time link stays open: whole seconds, [`MIN_LINK_TTL_SECS`] to
/// [`MAX_LINK_TTL_SECS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkTtl(i64);

impl LinkTtl {
    /// As typed on the SSO tab.
    pub fn parse(raw: &str) -> Result<Self, SsoError> {
        raw.trim()
            .parse::<i64>()
            .ok()
            .filter(|s| (MIN_LINK_TTL_SECS..=MAX_LINK_TTL_SECS).contains(s))
            .map(Self)
            .ok_or_else(|| {
                SsoError::Invalid(format!(
                    "Link lifetime: a whole number of seconds, {MIN_LINK_TTL_SECS} to {MAX_LINK_TTL_SECS}."
                ))
            })
    }
}

/// The SSO tab's options form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsoOptions {
    pub link_ttl: LinkTtl,
    /// The link opens only from the IP address the merchant's server asked for it from.
    pub bind_ip: bool,
    /// Classic hashes are refused: only signed, timestamped logins are accepted.
    pub require_signed_timestamps: bool,
}

impl Sso {
    pub async fn settings(&self, merchant_id: &str) -> Result<Option<SsoSettingsRow>, SsoError> {
        Ok(self.db.sso_settings(merchant_id).await?)
    }

    /// The settings of the store with the public slug `store`, if it parses and exists.
    pub async fn settings_by_store(&self, store: &str) -> Result<Option<SsoSettingsRow>, SsoError> {
        match StoreSlug::parse(store) {
            Some(slug) => Ok(self.db.sso_settings_by_store(slug.as_str()).await?),
            None => Ok(None),
        }
    }

    /// What the SSO tab shows: the settings (none before the first enable) and the newest
    /// `rows` entries of the login log.
    pub async fn overview(
        &self,
        merchant_id: &str,
        rows: i64,
    ) -> Result<(Option<SsoSettingsRow>, Vec<SsoLoginRow>), SsoError> {
        Ok((
            self.settings(merchant_id).await?,
            self.log(merchant_id, rows).await?,
        ))
    }

    /// Turns single sign-on on, creating the store slug on first use and a secret when there is none.
    pub async fn enable(
        &self,
        merchant_id: &str,
        business_name: &str,
        now: i64,
        audit: Option<Audit>,
    ) -> Result<SsoSettingsRow, SsoError> {
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
                SsoSecret::generate(&self.entropy).expose().as_bytes(),
                &Self::seal_context(merchant_id, next.secret_generation),
            ));
            next.secret_created_at = Some(now);
        }
        next.updated_at = now;
        self.save(next, settings.secret_generation, audit).await
    }

    /// Turns single sign-on off at once and forgets the secrets, once the merchant has typed the
    /// store's name (`typed`): links already issued stop working, open portal sessions end, and
    /// turning it on again starts with a new secret, so a stray click must not do it.
    pub async fn disable(
        &self,
        merchant_id: &str,
        typed: Option<&str>,
        now: i64,
        audit: Option<Audit>,
    ) -> Result<(), SsoError> {
        let Some(settings) = self.settings(merchant_id).await? else {
            return Ok(());
        };
        if typed.map(str::trim) != Some(settings.store.as_str()) {
            return Err(SsoError::Invalid(format!(
                "To turn single sign-on off, type the store name {} exactly.",
                settings.store
            )));
        }
        let mut next = settings.clone();
        next.enabled = false;
        next.secret_sealed = None;
        next.secret_created_at = None;
        next.previous_sealed = None;
        next.previous_generation = None;
        next.previous_expires_at = None;
        next.updated_at = now;
        self.save(next, settings.secret_generation, audit).await?;
        // the portal also refuses sessions of a store whose sign-on is off; this frees the rows
        self.db.delete_subscriber_sessions_of(merchant_id).await?;
        Ok(())
    }

    /// A new current secret; the old one keeps verifying for `overlap_hours` (0: not at all).
    pub async fn rotate(
        &self,
        merchant_id: &str,
        OverlapHours(overlap_hours): OverlapHours,
        now: i64,
        audit: Option<Audit>,
    ) -> Result<SsoSettingsRow, SsoError> {
        let settings = self
            .settings(merchant_id)
            .await?
            .filter(|s| s.enabled && s.secret_sealed.is_some())
            .ok_or(SsoError::Off)?;
        let mut next = settings.clone();
        next.secret_generation = settings.secret_generation + 1;
        next.secret_sealed = Some(self.sealer.seal(
            SsoSecret::generate(&self.entropy).expose().as_bytes(),
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
        self.save(next, settings.secret_generation, audit).await
    }

    pub async fn update_options(
        &self,
        merchant_id: &str,
        options: SsoOptions,
        now: i64,
    ) -> Result<(), SsoError> {
        if self
            .db
            .save_sso_options(
                merchant_id,
                options.link_ttl.0,
                options.bind_ip,
                options.require_signed_timestamps,
                now,
            )
            .await?
        {
            Ok(())
        } else {
            Err(SsoError::Off)
        }
    }

    pub(super) async fn save(
        &self,
        next: SsoSettingsRow,
        expected_generation: i64,
        audit: Option<Audit>,
    ) -> Result<SsoSettingsRow, SsoError> {
        if self
            .db
            .save_sso_secrets(&next, expected_generation, audit.as_ref())
            .await?
        {
            Ok(next)
        } else {
            Err(SsoError::ChangedElsewhere)
        }
    }

    pub(super) async fn settings_or_create(
        &self,
        merchant_id: &str,
        business_name: &str,
        now: i64,
    ) -> Result<SsoSettingsRow, SsoError> {
        for attempt in 0..5 {
            if let Some(s) = self.settings(merchant_id).await? {
                return Ok(s);
            }
            let suffix = (attempt > 0).then(|| hex::encode(self.entropy.bytes::<3>()));
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
        Err(SsoError::NoStoreSlug)
    }

    pub async fn log(&self, merchant_id: &str, limit: i64) -> Result<Vec<SsoLoginRow>, SsoError> {
        Ok(self.db.sso_logins(merchant_id, limit).await?)
    }

    // -----------------------------------------------------------------------------------------
    // the login call
}
