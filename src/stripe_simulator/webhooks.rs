//! Webhook delivery, as Stripe does it: one background sender, in order, each event signed with
//! every configured secret (`Stripe-Signature: t=…,v1=…[,v1=…]`), retried a few times on
//! connection errors and non-2xx answers, never holding up the API call that caused it.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

use super::Simulator;
use crate::crypto::hmac_sha256;

const ATTEMPTS: u32 = 3;
const BACKOFF: [Duration; 2] = [Duration::from_millis(200), Duration::from_secs(1)];

/// `t={now},v1={hex HMAC-SHA256(secret, "{t}.{body}")}` with one `v1` per secret.
pub fn signature_header(secrets: &[String], body: &str, now: i64) -> String {
    let mut header = format!("t={now}");
    for secret in secrets {
        let mac = hmac_sha256(secret.as_bytes(), format!("{now}.{body}").as_bytes());
        header.push_str(&format!(",v1={}", hex::encode(mac)));
    }
    header
}

/// One event on its way to one endpoint.
pub struct Delivery {
    pub url: String,
    pub secrets: Vec<String>,
    pub event: Value,
}

pub async fn deliver(sim: Simulator, mut inbox: mpsc::UnboundedReceiver<Delivery>) {
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .user_agent("Stripe/1.0 (+https://stripe.com/docs/webhooks)")
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "Stripe simulator cannot send webhooks");
            return;
        }
    };
    while let Some(Delivery {
        url,
        secrets,
        event,
    }) = inbox.recv().await
    {
        let id = event["id"].as_str().unwrap_or_default().to_string();
        let body = event.to_string();
        let mut status = None;
        let mut delivered = false;
        let mut attempts = 0;
        while attempts < ATTEMPTS && !delivered {
            if let Some(pause) = attempts
                .checked_sub(1)
                .and_then(|i| BACKOFF.get(i as usize))
            {
                tokio::time::sleep(*pause).await;
            }
            attempts += 1;
            let signature = signature_header(&secrets, &body, sim.now());
            match client
                .post(&url)
                .header("content-type", "application/json; charset=utf-8")
                .header("stripe-signature", signature)
                .body(body.clone())
                .send()
                .await
            {
                Ok(res) => {
                    status = Some(res.status().as_u16());
                    delivered = res.status().is_success();
                }
                Err(e) => tracing::debug!(event = %id, error = %e, "webhook delivery failed"),
            }
        }
        sim.record_delivery(&id, delivered, attempts, status);
        sim.delivery_done();
    }
}
