//! The one mapping of stored rows to the API's views: used by the API's handlers and by the
//! subscriber portal's server function, so the two always show the same fields.

use crate::db::payments::{CustomerRow, SubscriptionRow};
use crate::dto::payments::{CustomerView, SubscriptionItemView, SubscriptionView};
use crate::http::wire::path_segment;

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
