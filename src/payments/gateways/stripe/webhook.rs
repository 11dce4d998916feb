//! Stripe webhooks. The `Stripe-Signature` header is verified here rather than by
//! async-stripe, whose parser keeps only the last `v1` value: during a secret roll Stripe sends
//! one `v1` per secret, and any of them matching any configured secret is enough. The MAC is
//! HMAC-SHA256(key = the `whsec_…` secret, message = "{t}.{raw body}"), compared in constant
//! time, and the timestamp must be within five minutes of now.

use serde::Deserialize;

use crate::crypto::{constant_time_eq, hmac_sha256};
use crate::payments::gateway::{Subscription, WebhookAction, WebhookError, WebhookEvent};

/// How far the signed timestamp may be from now, either way (Stripe's libraries use 300 s).
pub const TOLERANCE_SECS: i64 = 300;

/// Checks `header` (the `Stripe-Signature` value) against `body` and every secret.
pub fn verify_signature(
    header: &str,
    body: &[u8],
    secrets: &[String],
    now: i64,
) -> Result<(), WebhookError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" => timestamp = value.parse::<i64>().ok(),
            "v1" => signatures.extend(hex::decode(value).ok()),
            // v0 (test-mode legacy) and unknown schemes are ignored, as Stripe recommends
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::MissingSignature)?;
    if signatures.is_empty() {
        return Err(WebhookError::MissingSignature);
    }
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    // every comparison runs, so the time taken does not depend on which one matched
    let mut matched = false;
    for secret in secrets {
        let expected = hmac_sha256(secret.as_bytes(), &signed);
        for sig in &signatures {
            matched |= constant_time_eq(sig, &expected);
        }
    }
    if !matched {
        return Err(WebhookError::BadSignature);
    }
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(WebhookError::Stale);
    }
    Ok(())
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default)]
    account: Option<String>,
    created: i64,
    data: EnvelopeData,
}

#[derive(Deserialize)]
struct EnvelopeData {
    object: serde_json::Value,
}

/// Parses a verified event body into what subgate acts on.
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    if !envelope.id.starts_with("evt_") || envelope.id.len() > 255 {
        return Err(WebhookError::Malformed("the event id is not evt_…".into()));
    }
    let action = match envelope.event_type.as_str() {
        "account.application.deauthorized" => WebhookAction::AccountDeauthorized,
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted" => subscription_action(&envelope.data.object)?,
        _ => WebhookAction::Ignored,
    };
    Ok(WebhookEvent {
        id: envelope.id,
        event_type: envelope.event_type,
        account_id: envelope.account,
        created: envelope.created,
        action,
    })
}

/// The subscription in the event, through async-stripe's own type. An endpoint configured with
/// another API version may send a shape the pinned types do not read (e.g. periods on the
/// subscription instead of its items): then the subscription is fetched again instead.
fn subscription_action(object: &serde_json::Value) -> Result<WebhookAction, WebhookError> {
    let id = object
        .get("id")
        .and_then(|v| v.as_str())
        .filter(|id| id.starts_with("sub_"))
        .ok_or_else(|| WebhookError::Malformed("the event carries no subscription id".into()))?;
    match miniserde::json::from_str::<stripe_shared::Subscription>(&object.to_string()) {
        Ok(s) => Ok(WebhookAction::SubscriptionChanged(Subscription::from(&s))),
        Err(_) => {
            tracing::info!(subscription = %id, "webhook subscription in another API version: fetching it");
            Ok(WebhookAction::SubscriptionRefetch(id.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    fn sign(secret: &str, t: i64, body: &str) -> String {
        hex::encode(hmac_sha256(
            secret.as_bytes(),
            format!("{t}.{body}").as_bytes(),
        ))
    }

    #[test]
    fn a_valid_signature_verifies() {
        let body = r#"{"id":"evt_1"}"#;
        let header = format!("t=1000,v1={}", sign(SECRET, 1000, body));
        assert_eq!(
            verify_signature(&header, body.as_bytes(), &[SECRET.into()], 1100),
            Ok(())
        );
    }

    #[test]
    fn any_v1_of_any_secret_is_enough() {
        let body = "{}";
        let header = format!(
            "t=50,v1={},v1={},v0=abc",
            sign("whsec_other", 50, body),
            sign(SECRET, 50, body)
        );
        assert_eq!(
            verify_signature(
                &header,
                body.as_bytes(),
                &["whsec_old".into(), SECRET.into()],
                60
            ),
            Ok(())
        );
    }

    #[test]
    fn tampered_stale_and_missing_signatures_fail() {
        let body = "{}";
        let good = format!("t=50,v1={}", sign(SECRET, 50, body));
        assert_eq!(
            verify_signature(&good, b"{ }", &[SECRET.into()], 60),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_signature(&good, body.as_bytes(), &[SECRET.into()], 50 + 301),
            Err(WebhookError::Stale)
        );
        assert_eq!(
            verify_signature("v1=00", body.as_bytes(), &[SECRET.into()], 60),
            Err(WebhookError::MissingSignature)
        );
        assert_eq!(
            verify_signature(&good, body.as_bytes(), &[], 60),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn unknown_events_are_ignored_and_garbage_is_malformed() {
        let e = parse_event(
            br#"{"id":"evt_1","type":"plan.created","created":1,"data":{"object":{}}}"#,
        )
        .expect("parses");
        assert_eq!(e.action, WebhookAction::Ignored);
        assert!(matches!(
            parse_event(b"not json"),
            Err(WebhookError::Malformed(_))
        ));
    }
}
