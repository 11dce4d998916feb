//! Stripe, through Stripe Connect (Standard accounts): OAuth to connect a merchant's account,
//! then every REST call with the platform secret key and `Stripe-Account: acct_…`, through
//! async-stripe pointed at a configurable base URL. Rate limits and transient failures are
//! retried with exponential backoff (and an idempotency key), each attempt has a timeout, and
//! a whole call has a deadline, so a slow Stripe never holds a request for long.

pub mod connect;
mod raw;
pub mod smoke;
pub mod transformers;
pub mod webhook;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use stripe::{Client, ClientBuilder, RequestStrategy, StripeError, StripeRequest};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::subscription::{
    ListSubscription, ListSubscriptionStatus, RetrieveSubscription,
};
use stripe_connect::account::RetrieveForMyAccountAccount;
use stripe_core::customer::{ListCustomer, RetrieveCustomer, RetrieveCustomerReturned};
use stripe_shared::AccountId;
use url::Url;

use self::connect::ConnectClient;
use self::transformers::{gateway_error, LIST_EXPAND, RETRIEVE_EXPAND};
use crate::payments::gateway::{
    ConnectRequest, ConnectedAccount, Customer, GatewayError, PaymentGateway, PortalSession,
    Subscription, WebhookEndpoint, WebhookError, WebhookEvent,
};

/// Attempts per request (the first plus retries) for rate limits and transient failures.
const ATTEMPTS: u32 = 3;
/// Where Stripe's hosted customer portal lives (the page's CSP lets a form lead there).
pub const CUSTOMER_PORTAL_ORIGIN: &str = "https://billing.stripe.com";
/// Stripe lets an unvisited customer-portal session in for about five minutes.
const PORTAL_SESSION_TTL: i64 = 300;
/// The most subscriptions one customer's list reads (pages of 100).
const MAX_SUBSCRIPTIONS: usize = 1000;
/// The most events one catch-up reads for one account.
const MAX_EVENTS: usize = 10_000;
/// A product's name is asked of Stripe again after this long (renamed products follow).
const PRODUCT_NAME_TTL: Duration = Duration::from_secs(3600);
/// The events the mirror is made of: what a Connect webhook endpoint must send, and what a
/// catch-up reads from `/v1/events`.
pub const EVENTS: [&str; 4] = [
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "account.application.deauthorized",
];

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
    /// Product names by (account, product id): a list expands prices only (Stripe allows four
    /// levels, `data.items.data.price.product` is five), so names come from here.
    product_names: Mutex<HashMap<(String, String), (String, Instant)>>,
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
            product_names: Mutex::new(HashMap::new()),
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

    fn webhook_events(&self) -> &'static [&'static str] {
        &EVENTS
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

    async fn list_customers(
        &self,
        account_id: &str,
        limit: u8,
    ) -> Result<Vec<Customer>, GatewayError> {
        let request = ListCustomer::new().limit(i64::from(limit.clamp(1, 100)));
        let page = self.send(account_id, request).await?;
        Ok(page.data.iter().map(Customer::from).collect())
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
        self.name_products(account_id, &mut all).await?;
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
        let mut subscription = [Subscription::from(&self.send(account_id, request).await?)];
        self.name_products(account_id, &mut subscription).await?;
        let [subscription] = subscription;
        Ok(subscription)
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
        let session = match self.send(account_id, request.clone()).await {
            Ok(session) => session,
            // Stripe answers a missing default configuration with a bare 400
            // invalid_request_error (no code, no param, only prose): ask Stripe which
            // configurations the account has rather than read the prose
            Err(refused @ GatewayError::Rejected { .. }) => {
                let usable = self.portal_configuration(account_id).await?;
                match usable {
                    PortalConfiguration::Default => return Err(refused),
                    PortalConfiguration::Other(id) => {
                        self.send(account_id, request.configuration(id)).await?
                    }
                    PortalConfiguration::None => {
                        return Err(GatewayError::PortalNotConfigured(
                            "The connected account has no customer portal configuration.".into(),
                        ))
                    }
                }
            }
            Err(e) => return Err(e),
        };
        Ok(PortalSession {
            url: session.url,
            expires_at: session.created + PORTAL_SESSION_TTL,
        })
    }

    async fn product_names(
        &self,
        account_id: &str,
        product_ids: &[&str],
    ) -> Result<HashMap<String, String>, GatewayError> {
        let mut names = HashMap::new();
        for id in product_ids {
            if names.contains_key(*id) {
                continue;
            }
            if let Some(name) = self.cached_product_name(account_id, id) {
                names.insert(id.to_string(), name);
                continue;
            }
            valid_id(id, "prod_")?;
            match self
                .get_json(Some(account_id), &format!("/products/{id}"), &[])
                .await
            {
                Ok(product) => {
                    if let Some(name) = product["name"].as_str() {
                        self.cache_product_name(account_id, id, name);
                        names.insert(id.to_string(), name.to_string());
                    }
                }
                // a deleted product keeps its id in the subscription: no name to show
                Err(GatewayError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(names)
    }

    async fn events_after(
        &self,
        account_id: &str,
        after: i64,
    ) -> Result<Vec<String>, GatewayError> {
        let mut params: Vec<(&str, String)> =
            EVENTS.iter().map(|t| ("types[]", t.to_string())).collect();
        params.push(("created[gt]", after.to_string()));
        let mut events = self
            .list_all(Some(account_id), "/events", &params, MAX_EVENTS)
            .await?;
        // Stripe lists newest first; the mirror applies them in the order they happened
        events.reverse();
        Ok(events.iter().map(|e| e.to_string()).collect())
    }

    async fn portal_configured(&self, account_id: &str) -> Result<bool, GatewayError> {
        Ok(self.portal_configuration(account_id).await? != PortalConfiguration::None)
    }

    async fn create_portal_configuration(&self, account_id: &str) -> Result<String, GatewayError> {
        let yes = || "true".to_string();
        let params = [
            ("features[customer_update][enabled]", yes()),
            (
                "features[customer_update][allowed_updates][]",
                "email".into(),
            ),
            ("features[invoice_history][enabled]", yes()),
            ("features[payment_method_update][enabled]", yes()),
            ("features[subscription_cancel][enabled]", yes()),
            (
                "features[subscription_cancel][mode]",
                "at_period_end".into(),
            ),
            ("metadata[created_by]", "subgate".into()),
        ];
        let created = self
            .post_json(Some(account_id), "/billing_portal/configurations", &params)
            .await?;
        Ok(created["id"].as_str().unwrap_or_default().to_string())
    }

    async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, GatewayError> {
        let all = self.list_all(None, "/webhook_endpoints", &[], 1000).await?;
        Ok(all.iter().map(transformers::webhook_endpoint).collect())
    }

    async fn create_webhook_endpoint(&self, url: &str) -> Result<WebhookEndpoint, GatewayError> {
        let mut params: Vec<(&str, String)> = vec![
            ("url", url.to_string()),
            ("connect", "true".into()),
            ("api_version", self.api_version().to_string()),
            ("description", "subgate: the subscription mirror".into()),
        ];
        params.extend(EVENTS.iter().map(|e| ("enabled_events[]", e.to_string())));
        let created = self.post_json(None, "/webhook_endpoints", &params).await?;
        Ok(transformers::webhook_endpoint(&created))
    }

    fn webhook_signature_header(&self) -> &'static str {
        "stripe-signature"
    }

    fn verify_webhook(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), WebhookError> {
        let signature = signature.ok_or(WebhookError::MissingSignature)?;
        webhook::verify_signature(signature, body, &self.webhook_secrets, now)
    }

    fn parse_event(&self, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        webhook::parse_event(body)
    }
}

/// Which customer-portal configuration a session can use.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PortalConfiguration {
    /// The account's default (saved in the Dashboard): sessions need no `configuration`.
    Default,
    /// No default, but an active one made through the API (by subgate's doctor, say).
    Other(String),
    None,
}

impl StripeGateway {
    async fn portal_configuration(
        &self,
        account_id: &str,
    ) -> Result<PortalConfiguration, GatewayError> {
        let active = self
            .list_all(
                Some(account_id),
                "/billing_portal/configurations",
                &[("active", "true".into())],
                100,
            )
            .await?;
        if active.iter().any(|c| c["is_default"] == true) {
            return Ok(PortalConfiguration::Default);
        }
        // subgate's own first, then any other
        let ours = active
            .iter()
            .find(|c| c["metadata"]["created_by"] == "subgate")
            .or(active.first());
        Ok(match ours.and_then(|c| c["id"].as_str()) {
            Some(id) => PortalConfiguration::Other(id.to_string()),
            None => PortalConfiguration::None,
        })
    }

    fn cached_product_name(&self, account_id: &str, product_id: &str) -> Option<String> {
        let cache = self
            .product_names
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .get(&(account_id.to_string(), product_id.to_string()))
            .filter(|(_, at)| at.elapsed() < PRODUCT_NAME_TTL)
            .map(|(name, _)| name.clone())
    }

    fn cache_product_name(&self, account_id: &str, product_id: &str, name: &str) {
        let mut cache = self
            .product_names
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() > 10_000 {
            cache.retain(|_, (_, at)| at.elapsed() < PRODUCT_NAME_TTL);
        }
        cache.insert(
            (account_id.to_string(), product_id.to_string()),
            (name.to_string(), Instant::now()),
        );
    }

    /// Fills in the product names Stripe's answer carried as ids.
    async fn name_products(
        &self,
        account_id: &str,
        subscriptions: &mut [Subscription],
    ) -> Result<(), GatewayError> {
        let mut ids: Vec<String> = subscriptions
            .iter()
            .flat_map(Subscription::unnamed_products)
            .map(String::from)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let names = self.product_names(account_id, &ids).await?;
        for s in subscriptions {
            s.name_products(&names);
        }
        Ok(())
    }

    async fn within_deadline_plain<T>(
        &self,
        call: impl Future<Output = Result<T, GatewayError>>,
    ) -> Result<T, GatewayError> {
        tokio::time::timeout(self.deadline, call)
            .await
            .unwrap_or(Err(GatewayError::Timeout))
    }
}
