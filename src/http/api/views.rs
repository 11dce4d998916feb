//! The one mapping of stored rows and domain answers to the views the edge sends: used by the
//! API's handlers and by the server functions (the subscriber portal, the SSO tab), so each
//! always shows the same fields.

use crate::db::payments::{CustomerRow, SubscriptionRow};
use crate::db::sso::{SsoLoginRow, SsoSettingsRow};
use crate::dto::payments::{
    CustomerDetail, CustomerList, CustomerSummary, CustomerView, SubscriptionItemView,
    SubscriptionView,
};
use crate::dto::sso::{PortalView, RevealedSecrets, SecretMeta, SsoLoginView, SsoView};
use crate::http::wire::path_segment;
use crate::portal::PortalPage;

pub fn customer_url(subscriber_id: &str) -> String {
    format!("/api/customers/{}", path_segment(subscriber_id))
}

pub fn customer_view(c: &CustomerRow) -> CustomerView {
    let url = customer_url(&c.subscriber_id);
    CustomerView {
        subscriber_id: c.subscriber_id.clone(),
        customer_id: c.customer_id.clone(),
        email: c.email.clone(),
        created_at: c.created_at,
        updated_at: c.updated_at,
        synced_at: c.synced_at,
        subscriptions_url: format!("{url}/subscriptions"),
        url,
    }
}

/// The dashboard's customer list; its cursor is the last subscriber id shown.
pub fn customer_list_view(list: crate::payments::CustomerList) -> CustomerList {
    let next_cursor = list
        .more
        .then(|| list.rows.last().map(|r| r.customer.subscriber_id.clone()))
        .flatten();
    CustomerList {
        data: list
            .rows
            .into_iter()
            .map(|r| CustomerSummary {
                subscriber_id: r.customer.subscriber_id,
                customer_id: r.customer.customer_id,
                email: r.customer.email,
                created_at: r.customer.created_at,
                subscriptions: r.subscriptions,
                status: r.lead_status,
            })
            .collect(),
        next_cursor,
        matching: list.matching,
    }
}

/// The dashboard's page of one customer.
pub fn customer_detail_view(c: &CustomerRow, subscriptions: &[SubscriptionRow]) -> CustomerDetail {
    CustomerDetail {
        customer: customer_view(c),
        subscriptions: subscriptions.iter().map(subscription_view).collect(),
    }
}

pub fn subscription_view(row: &SubscriptionRow) -> SubscriptionView {
    let s = &row.subscription;
    SubscriptionView {
        id: s.id.clone(),
        subscriber_id: row.subscriber_id.clone(),
        customer_id: s.customer_id.clone(),
        status: s.status,
        cancel_at_period_end: s.cancel_at_period_end,
        cancel_at: s.cancel_at,
        canceled_at: s.canceled_at,
        ends_at: s.ends_at(),
        current_period_end: s.current_period_end,
        trial_end: s.trial_end,
        created: s.created,
        items: s
            .items
            .iter()
            .map(|i| SubscriptionItemView {
                id: i.id.clone(),
                price_id: i.price_id.clone(),
                product_id: i.product_id.clone(),
                product_name: i.product_name.clone(),
                unit_amount: i.unit_amount,
                currency: i.currency.clone(),
                interval: i.interval.clone(),
                interval_count: i.interval_count,
                quantity: i.quantity,
                current_period_end: i.current_period_end,
            })
            .collect(),
        synced_at: row.synced_at,
        url: format!("/api/subscriptions/{}", path_segment(&s.id)),
    }
}

/// The SSO tab: the switch, the store's login endpoint, the secrets' metadata (never the secrets
/// themselves), the settings and the newest log entries.
pub fn sso_view(
    settings: Option<&SsoSettingsRow>,
    logins: Vec<SsoLoginRow>,
    origin: &str,
    now: i64,
) -> SsoView {
    SsoView {
        enabled: settings.is_some_and(|s| s.enabled),
        store: settings.map(|s| s.store.clone()),
        endpoint_template: settings.map(|s| crate::http::sso::endpoint_template(origin, &s.store)),
        current: settings
            .filter(|s| s.secret_sealed.is_some())
            .map(|s| SecretMeta {
                generation: s.secret_generation,
                created_at: s.secret_created_at,
                expires_at: None,
            }),
        previous: settings
            .and_then(|s| s.previous_until(now))
            .map(|(generation, expires)| SecretMeta {
                generation,
                created_at: None,
                expires_at: Some(expires),
            }),
        link_ttl_secs: settings.map_or(crate::sso::DEFAULT_LINK_TTL_SECS, |s| s.link_ttl_secs),
        max_link_ttl_secs: crate::sso::MAX_LINK_TTL_SECS,
        bind_ip: settings.is_some_and(|s| s.bind_ip),
        require_signed_timestamps: settings.is_some_and(|s| s.require_signed_timestamps),
        logins: logins
            .into_iter()
            .map(|l| SsoLoginView {
                subscriber_id: l.subscriber_id,
                at: l.at,
                ip: l.ip,
                user_agent: l.user_agent,
                outcome: l.outcome,
            })
            .collect(),
        your_role: crate::dto::team::Role::Owner,
    }
}

/// The subscriber portal's page.
pub fn portal_view(page: PortalPage) -> PortalView {
    let unavailable = page.unavailable.then(|| {
        format!(
            "{} cannot show your subscriptions right now. Please contact them.",
            page.business_name
        )
    });
    PortalView {
        branding: branding_view(page.branding),
        subscriptions: page.subscriptions.iter().map(subscription_view).collect(),
        business_name: page.business_name,
        subscriber_id: page.subscriber_id,
        email: page.email,
        unavailable,
    }
}

pub fn branding_view(b: crate::portal::Branding) -> crate::dto::sso::PortalBranding {
    crate::dto::sso::PortalBranding {
        on_accent: b
            .accent
            .as_deref()
            .map(|a| crate::portal::on_accent(a).to_string()),
        store_url: b.store_url,
        support_email: b.support_email,
        accent: b.accent,
        logo_url: b.logo_url,
    }
}

pub fn store_view(face: crate::portal::StoreFace) -> crate::dto::sso::StoreView {
    crate::dto::sso::StoreView {
        business_name: face.business_name,
        branding: branding_view(face.branding),
    }
}

/// The SSO tab's secrets in the clear, on the merchant's request.
pub fn revealed_view(secrets: crate::sso::RevealedSecrets) -> RevealedSecrets {
    RevealedSecrets {
        current: secrets.current.expose().to_string(),
        previous: secrets.previous.map(|p| p.expose().to_string()),
    }
}
