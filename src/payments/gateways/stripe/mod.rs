//! Stripe, through Stripe Connect (Standard accounts): OAuth to connect a merchant's account,
//! then every REST call with the platform secret key and `Stripe-Account: acct_…`, through
//! async-stripe pointed at a configurable base URL. Rate limits and transient failures are
//! retried with exponential backoff (and an idempotency key), each attempt has a timeout, and
//! a whole call has a deadline, so a slow Stripe never holds a request for long.

pub mod connect;
pub mod simulator;
pub mod transformers;
pub mod webhook;

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::HeaderMap;
use stripe::{Client, ClientBuilder, RequestStrategy, StripeError, StripeRequest};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::subscription::{
    ListSubscription, ListSubscriptionStatus, RetrieveSubscription,
};
use stripe_connect::account::RetrieveForMyAccountAccount;
use stripe_core::customer::{RetrieveCustomer, RetrieveCustomerReturned};
use stripe_shared::AccountId;
use url::Url;

use self::connect::ConnectClient;
use self::transformers::{gateway_error, LIST_EXPAND, RETRIEVE_EXPAND};
use crate::payments::gateway::{
    ConnectRequest, ConnectedAccount, Customer, GatewayError, PaymentGateway, PortalSession,
    Subscription, WebhookError, WebhookEvent,
};

/// Attempts per request (the first plus retries) for rate limits and transient failures.
const ATTEMPTS: u32 = 3;
/// Where Stripe's hosted customer portal lives (the page's CSP lets a form lead there).
pub const CUSTOMER_PORTAL_ORIGIN: &str = "https://billing.stripe.com";
/// Stripe lets an unvisited customer-portal session in for about five minutes.
const PORTAL_SESSION_TTL: i64 = 300;
/// The most subscriptions one customer's list reads (pages of 100).
const MAX_SUBSCRIPTIONS: usize = 1000;

/// Everything the Stripe gateway needs.
pub struct StripeSettings {
    pub secret_key: String,
    pub client_id: String,
    pub api_base: Url,
    /// Where this server calls Connect OAuth (token, deauthorize).
    pub connect_base: Url,
    /// Where browsers are sent to authorize (differs only for the embedded simulator).
    pub authorize_base: Url,
    pub webhook_secrets: Vec<String>,
    /// Per attempt.
    pub timeout: Duration,
    pub simulated: bool,
}

pub struct StripeGateway {
    api: Client,
    connect: ConnectClient,
    webhook_secrets: Vec<String>,
    simulated: bool,
    /// No call, retries included, takes longer than this.
    deadline: Duration,
}

impl StripeGateway {
    pub fn new(settings: StripeSettings) -> Result<Self, GatewayError> {
        let config_error = |e: String| GatewayError::Unavailable {
            message: e,
            request_id: None,
        };
        let api = ClientBuilder::new(settings.secret_key.clone())
            .url(settings.api_base.as_str())
            .request_strategy(RequestStrategy::ExponentialBackoff(ATTEMPTS))
            .timeout(settings.timeout)
            .app_info("subgate", Some(env!("CARGO_PKG_VERSION").into()), None)
            .build()
            .map_err(|e| config_error(e.to_string()))?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .user_agent(concat!("subgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| config_error(e.to_string()))?;
        let connect = ConnectClient::new(
            &settings.client_id,
            &settings.secret_key,
            &settings.authorize_base,
            &settings.connect_base,
            http,
        )?;
        Ok(Self {
            api,
            connect,
            webhook_secrets: settings.webhook_secrets,
            simulated: settings.simulated,
            // three attempts and the backoff between them (1 s, 2 s), bounded
            deadline: settings.timeout * 2 + Duration::from_secs(4),
        })
    }

    /// Sends one request on the connected account, within the deadline.
    async fn send<R>(&self, account_id: &str, request: R) -> Result<R::Output, GatewayError>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        let call = request
            .customize()
            .account_id(AccountId::from(account_id))
            .send(&self.api);
        self.within_deadline(call).await
    }

    async fn within_deadline<T>(
        &self,
        call: impl Future<Output = Result<T, StripeError>>,
    ) -> Result<T, GatewayError> {
        match tokio::time::timeout(self.deadline, call).await {
            Ok(result) => result.map_err(gateway_error),
            Err(_) => Err(GatewayError::Timeout),
        }
    }

    /// The account's name as its owner set it, for the Connect tab.
    async fn business_name(&self, account_id: &str) -> Option<String> {
        match self
            .send(account_id, RetrieveForMyAccountAccount::new())
            .await
        {
            Ok(account) => account
                .business_profile
                .as_ref()
                .and_then(|p| p.name.clone())
                .or_else(|| {
                    account
                        .settings
                        .as_ref()
                        .and_then(|s| s.dashboard.display_name.clone())
                })
                .or(account.email),
            Err(e) => {
                tracing::warn!(account = %account_id, error = %e, "could not read the connected account's name");
                None
            }
        }
    }
}

fn valid_id(id: &str, prefix: &str) -> Result<(), GatewayError> {
    let ok = id.starts_with(prefix)
        && id.len() <= 255
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(GatewayError::NotFound(format!(
            "\"{}\" is not a Stripe id ({prefix}…).",
            id.escape_default()
        )))
    }
}

#[async_trait]
impl PaymentGateway for StripeGateway {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn display_name(&self) -> &'static str {
        "Stripe"
    }

    fn api_version(&self) -> &'static str {
        static PINNED: stripe_shared::ApiVersion = stripe_shared::version::VERSION;
        PINNED.as_str()
    }

    fn simulated(&self) -> bool {
        self.simulated
    }

    fn connect_url(&self, request: &ConnectRequest<'_>) -> String {
        self.connect.authorize_url(request)
    }

    async fn exchange_code(
        &self,
        code: &str,
        _redirect_uri: &str,
    ) -> Result<ConnectedAccount, GatewayError> {
        let mut account = self
            .within_deadline_plain(self.connect.exchange(code))
            .await?;
        account.business_name = self.business_name(&account.account_id).await;
        Ok(account)
    }

    async fn revoke(&self, account_id: &str) -> Result<(), GatewayError> {
        self.within_deadline_plain(self.connect.deauthorize(account_id))
            .await
    }

    async fn fetch_customer(
        &self,
        account_id: &str,
        customer_id: &str,
    ) -> Result<Customer, GatewayError> {
        valid_id(customer_id, "cus_")?;
        match self
            .send(account_id, RetrieveCustomer::new(customer_id))
            .await?
        {
            RetrieveCustomerReturned::Customer(c) => Ok(Customer::from(&c)),
            RetrieveCustomerReturned::DeletedCustomer(_) => Err(GatewayError::NotFound(format!(
                "The Stripe customer {customer_id} was deleted."
            ))),
        }
    }

    async fn list_subscriptions(
        &self,
        account_id: &str,
        customer_id: &str,
    ) -> Result<Vec<Subscription>, GatewayError> {
        valid_id(customer_id, "cus_")?;
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut request = ListSubscription::new()
                .customer(customer_id)
                .status(ListSubscriptionStatus::All)
                .limit(100)
                .expand(vec![LIST_EXPAND.to_string()]);
            if let Some(after) = &after {
                request = request.starting_after(after.clone());
            }
            let page = self.send(account_id, request).await?;
            all.extend(page.data.iter().map(Subscription::from));
            match page.data.last() {
                Some(last) if page.has_more && all.len() < MAX_SUBSCRIPTIONS => {
                    after = Some(last.id.as_str().to_string());
                }
                _ => break,
            }
        }
        Ok(all)
    }

    async fn fetch_subscription(
        &self,
        account_id: &str,
        subscription_id: &str,
    ) -> Result<Subscription, GatewayError> {
        valid_id(subscription_id, "sub_")?;
        let request =
            RetrieveSubscription::new(subscription_id).expand(vec![RETRIEVE_EXPAND.to_string()]);
        Ok(Subscription::from(&self.send(account_id, request).await?))
    }

    async fn create_portal_session(
        &self,
        account_id: &str,
        customer_id: &str,
        return_url: &str,
    ) -> Result<PortalSession, GatewayError> {
        valid_id(customer_id, "cus_")?;
        let request = CreateBillingPortalSession::new()
            .customer(customer_id)
            .return_url(return_url);
        let session = self.send(account_id, request).await?;
        Ok(PortalSession {
            url: session.url,
            expires_at: session.created + PORTAL_SESSION_TTL,
        })
    }

    fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<(), WebhookError> {
        let signature = headers
            .get("stripe-signature")
            .and_then(|v| v.to_str().ok())
            .ok_or(WebhookError::MissingSignature)?;
        webhook::verify_signature(signature, body, &self.webhook_secrets, now)
    }

    fn parse_event(&self, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        webhook::parse_event(body)
    }
}

impl StripeGateway {
    async fn within_deadline_plain<T>(
        &self,
        call: impl Future<Output = Result<T, GatewayError>>,
    ) -> Result<T, GatewayError> {
        tokio::time::timeout(self.deadline, call)
            .await
            .unwrap_or(Err(GatewayError::Timeout))
    }
}
