//! Calls for which the async-stripe crates subgate builds have no request type (products,
//! events, portal configurations, webhook endpoints): the same client, retries, idempotency
//! keys and deadline as every other call, the answer read as JSON.

use serde_json::Value;
use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_shared::AccountId;

use super::StripeGateway;
use crate::payments::gateway::GatewayError;

/// Form or query parameters, in Stripe's bracket syntax (`types[]`, `created[gt]`).
pub type Params<'a> = &'a [(&'a str, String)];

fn encode(params: Params<'_>) -> Option<String> {
    (!params.is_empty()).then(|| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
            .finish()
    })
}

impl StripeGateway {
    /// `GET /v1{path}?{params}` on the connected account (`Some`) or the platform (`None`).
    pub(super) async fn get_json(
        &self,
        account_id: Option<&str>,
        path: &str,
        params: Params<'_>,
    ) -> Result<Value, GatewayError> {
        let mut builder = RequestBuilder::new(StripeMethod::Get, path);
        builder.query = encode(params);
        self.call_json(account_id, builder).await
    }

    /// `POST /v1{path}` with a form body.
    pub(super) async fn post_json(
        &self,
        account_id: Option<&str>,
        path: &str,
        params: Params<'_>,
    ) -> Result<Value, GatewayError> {
        let mut builder = RequestBuilder::new(StripeMethod::Post, path);
        builder.body = encode(params);
        self.call_json(account_id, builder).await
    }

    /// `DELETE /v1{path}`.
    pub(super) async fn delete_json(
        &self,
        account_id: Option<&str>,
        path: &str,
    ) -> Result<Value, GatewayError> {
        self.call_json(account_id, RequestBuilder::new(StripeMethod::Delete, path))
            .await
    }

    async fn call_json(
        &self,
        account_id: Option<&str>,
        builder: RequestBuilder,
    ) -> Result<Value, GatewayError> {
        let mut request = builder.customize::<miniserde::json::Value>();
        if let Some(account) = account_id {
            request = request.account_id(AccountId::from(account));
        }
        let answer = self.within_deadline(request.send(&self.api)).await?;
        serde_json::from_str(&miniserde::json::to_string(&answer)).map_err(|e| {
            tracing::error!(error = %e, "Stripe's answer did not parse");
            GatewayError::Unavailable {
                message: "Stripe's answer could not be read.".into(),
                request_id: None,
            }
        })
    }

    /// Every object of a list endpoint, page after page (`limit=100`), up to `max`.
    pub(super) async fn list_all(
        &self,
        account_id: Option<&str>,
        path: &str,
        params: Params<'_>,
        max: usize,
    ) -> Result<Vec<Value>, GatewayError> {
        let mut all: Vec<Value> = Vec::new();
        loop {
            let mut page_params: Vec<(&str, String)> = params.to_vec();
            page_params.push(("limit", "100".into()));
            if let Some(last) = all.last().and_then(|o| o["id"].as_str()) {
                page_params.push(("starting_after", last.to_string()));
            }
            let page = self.get_json(account_id, path, &page_params).await?;
            let data = page["data"].as_array().cloned().unwrap_or_default();
            let more = page["has_more"] == Value::Bool(true) && !data.is_empty();
            all.extend(data);
            if !more || all.len() >= max {
                return Ok(all);
            }
        }
    }
}
