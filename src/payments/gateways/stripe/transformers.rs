//! Stripe's wire types (async-stripe's) into subgate's neutral ones, and Stripe's errors into
//! [`GatewayError`]s the API can answer with.

use stripe::StripeError;
use stripe_shared::{ApiErrorsCode, Price, SubscriptionItem as StripeItem};
use stripe_types::Expandable;

use crate::payments::gateway::{
    Customer, GatewayError, Subscription, SubscriptionItem, SubscriptionStatus, WebhookEndpoint,
};

/// The expansion that brings prices into a subscription list. Stripe expands at most four
/// levels and `data.` counts: `data.items.data.price.product` is refused with a 400, so
/// product names come from `/v1/products/{id}` (cached) instead.
pub const LIST_EXPAND: &str = "data.items.data.price";
pub const RETRIEVE_EXPAND: &str = "items.data.price";

impl From<&stripe_shared::Customer> for Customer {
    fn from(c: &stripe_shared::Customer) -> Self {
        Self {
            id: c.id.as_str().to_string(),
            email: c.email.clone(),
            name: c.name.clone(),
        }
    }
}

impl From<&stripe_shared::Subscription> for Subscription {
    fn from(s: &stripe_shared::Subscription) -> Self {
        let items: Vec<SubscriptionItem> =
            s.items.data.iter().map(SubscriptionItem::from).collect();
        Self {
            id: s.id.as_str().to_string(),
            customer_id: expandable_id(&s.customer),
            status: SubscriptionStatus::parse(s.status.as_str()),
            cancel_at_period_end: s.cancel_at_period_end,
            cancel_at: s.cancel_at,
            canceled_at: s.canceled_at,
            current_period_end: Subscription::renewal_from_items(&items),
            trial_end: s.trial_end,
            created: s.created,
            items,
        }
    }
}

impl From<&StripeItem> for SubscriptionItem {
    fn from(i: &StripeItem) -> Self {
        let Price {
            id,
            product,
            unit_amount,
            currency,
            recurring,
            ..
        } = &i.price;
        let product_name = match product {
            Expandable::Object(p) => Some(p.name.clone()),
            Expandable::Id(_) => None,
        };
        Self {
            id: i.id.as_str().to_string(),
            price_id: id.as_str().to_string(),
            product_id: expandable_id(product),
            product_name,
            unit_amount: *unit_amount,
            currency: currency.to_string(),
            interval: recurring.as_ref().map(|r| r.interval.as_str().to_string()),
            interval_count: recurring.as_ref().map(|r| r.interval_count),
            quantity: i.quantity,
            current_period_start: Some(i.current_period_start),
            current_period_end: Some(i.current_period_end),
        }
    }
}

fn expandable_id<T: stripe_types::Object>(e: &Expandable<T>) -> String
where
    T::Id: AsRef<str>,
{
    e.id().as_ref().to_string()
}

/// `https://dashboard.stripe.com/test/logs/req_123?t=…` → `req_123`.
pub fn request_id_from_log_url(url: &str) -> Option<String> {
    let last = url.split('?').next()?.rsplit('/').next()?;
    (last.starts_with("req_") && last.len() < 100).then(|| last.to_string())
}

/// A webhook endpoint object (`/v1/webhook_endpoints`).
pub fn webhook_endpoint(e: &serde_json::Value) -> WebhookEndpoint {
    let text = |v: &serde_json::Value| v.as_str().map(String::from);
    WebhookEndpoint {
        id: text(&e["id"]).unwrap_or_default(),
        url: text(&e["url"]).unwrap_or_default(),
        api_version: text(&e["api_version"]),
        enabled_events: e["enabled_events"]
            .as_array()
            .map(|a| a.iter().filter_map(text).collect())
            .unwrap_or_default(),
        enabled: e["status"] == "enabled",
        secret: text(&e["secret"]),
    }
}

pub fn gateway_error(e: StripeError) -> GatewayError {
    match e {
        StripeError::Stripe(err, status) => {
            let request_id = err
                .request_log_url
                .as_deref()
                .and_then(request_id_from_log_url);
            let message = err
                .message
                .clone()
                .unwrap_or_else(|| "Stripe refused the request.".into());
            let code = err.code.as_ref();
            match status {
                403 => GatewayError::AccessRevoked,
                401 => {
                    tracing::error!(status, request_id = ?request_id, "Stripe refused subgate's API key: check STRIPE_SECRET_KEY");
                    GatewayError::Unavailable {
                        message: "Stripe refused subgate's platform credentials.".into(),
                        request_id,
                    }
                }
                404 => GatewayError::NotFound(message),
                402 => GatewayError::PaymentRequired {
                    message,
                    request_id,
                },
                400 if matches!(code, Some(ApiErrorsCode::AccountInvalid)) => {
                    GatewayError::AccessRevoked
                }
                400 if matches!(code, Some(ApiErrorsCode::ResourceMissing)) => {
                    GatewayError::NotFound(message)
                }
                400 | 409 | 422 => GatewayError::Rejected {
                    message,
                    request_id,
                },
                429 => GatewayError::Unavailable {
                    message: "Stripe is rate-limiting requests; try again shortly.".into(),
                    request_id,
                },
                _ => GatewayError::Unavailable {
                    message: format!("Stripe failed ({status}): {message}"),
                    request_id,
                },
            }
        }
        StripeError::Timeout => GatewayError::Timeout,
        StripeError::ClientError(m) => {
            tracing::warn!(error = %m, "cannot reach Stripe");
            GatewayError::Unavailable {
                message: "Could not reach Stripe.".into(),
                request_id: None,
            }
        }
        StripeError::JSONDeserialize(m) => {
            tracing::error!(error = %m, "Stripe's answer did not parse");
            GatewayError::Unavailable {
                message: "Stripe's answer could not be read.".into(),
                request_id: None,
            }
        }
        StripeError::ConfigError(m) => {
            tracing::error!(error = %m, "Stripe client configuration");
            GatewayError::Unavailable {
                message: "subgate's Stripe configuration is invalid.".into(),
                request_id: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_come_from_the_log_url() {
        assert_eq!(
            request_id_from_log_url(
                "https://dashboard.stripe.com/test/logs/req_AbC123?t=1700000000"
            )
            .as_deref(),
            Some("req_AbC123")
        );
        assert_eq!(request_id_from_log_url("https://example.com/other"), None);
    }
}
