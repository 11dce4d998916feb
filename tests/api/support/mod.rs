//! `spawn_app()`: the real application on 127.0.0.1:0 with a throw-away database, and a
//! `TestApp` with one method per thing a browser or client does.

pub mod oauth;
pub mod sso;
pub mod stripe;
pub mod webhooks;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use leptos::config::LeptosOptions;
use reqwest::header::{HeaderMap, ACCEPT, ORIGIN};
use reqwest::{redirect, Response};
use sqlx::{Connection, Executor};
use subgate::clock::Clock;
use subgate::config::{Config, Environment, StripeConfig};
use subgate::crypto::SecretKey;
use subgate::entropy::Entropy;
use subgate::startup::Application;
use subgate::stripe_simulator::{Simulator, SimulatorConfig, SimulatorHandle};
use tokio::net::TcpListener;

/// The platform credentials the test apps and their Stripe simulators share.
pub const STRIPE_KEY: &str = "sk_test_subgate_tests_0123456789";
pub const STRIPE_CLIENT_ID: &str = "ca_subgate_tests";
pub const WEBHOOK_SECRET: &str = "whsec_subgate_tests_current";

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub db: subgate::db::Db,
    pub state: subgate::state::AppState,
    /// This app's own Stripe simulator, on another loopback port.
    pub stripe: SimulatorHandle,
}

pub struct Options {
    pub environment: Environment,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Secrets the app accepts webhooks signed with.
    pub webhook_secrets: Vec<String>,
    /// Secrets the simulator signs its webhooks with (one v1 each).
    pub simulator_signs_with: Vec<String>,
    /// Whether the simulator delivers webhooks to the app at all.
    pub simulator_webhooks: bool,
    /// Per-attempt timeout of the app's Stripe calls.
    pub stripe_timeout: std::time::Duration,
    /// `SUBGATE_API_AUDIENCES`: audiences the API answers to besides `<public URL>/api`.
    pub extra_api_audiences: Vec<String>,
    /// `SUBGATE_SSO_DOMAIN`.
    pub sso_domain: Option<String>,
    /// Draw ids, secrets and one-time tokens from this seed instead of the OS.
    pub seed: Option<u64>,
    /// `SMTP_URL`: without it mail goes to the development outbox (`state.mailer.outbox()`).
    pub smtp_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            environment: Environment::Development,
            trusted_proxies: vec![],
            webhook_secrets: vec![WEBHOOK_SECRET.into()],
            simulator_signs_with: vec![WEBHOOK_SECRET.into()],
            simulator_webhooks: true,
            stripe_timeout: std::time::Duration::from_secs(2),
            extra_api_audiences: vec![],
            sso_domain: None,
            seed: None,
            smtp_url: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

fn scratch_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "subgate-test-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        subgate::crypto::random_token(4)
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A fresh database for one test: a SQLite file, or a new PostgreSQL database.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    match std::env::var("SUBGATE_TEST_DB").as_deref() {
        Ok("postgres") => fresh_postgres_url().await,
        _ => format!("sqlite://{}?mode=rwc", dir.join("subgate.db").display()),
    }
}

/// The test server's maintenance database (`SUBGATE_TEST_PG_URL`).
pub fn postgres_admin_url() -> String {
    std::env::var("SUBGATE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new, empty PostgreSQL database on the test server (`SUBGATE_TEST_PG_URL`).
pub async fn fresh_postgres_url() -> String {
    let admin = postgres_admin_url();
    sqlx::any::install_default_drivers();
    let name = format!(
        "subgate_test_{}",
        subgate::crypto::random_token(9)
            .to_lowercase()
            .replace(['-', '_'], "x")
    );
    let mut conn = sqlx::AnyConnection::connect(&admin)
        .await
        .expect("connect to PostgreSQL");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b)
        .expect("database url has a path");
    format!("{base}/{name}")
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let data_dir = scratch_dir();
    let database_url = fresh_database_url(&data_dir).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let clock = Clock::system();
    let stripe = Simulator::spawn(SimulatorConfig {
        secret_key: STRIPE_KEY.into(),
        client_id: STRIPE_CLIENT_ID.into(),
        public_base: String::new(),
        webhook_url: options
            .simulator_webhooks
            .then(|| format!("http://{addr}/webhooks/stripe")),
        webhook_secrets: options.simulator_signs_with.clone(),
        state_file: None,
        seed_demo_data: true,
        clock: clock.clone(),
    })
    .await
    .expect("Stripe simulator");
    let secrets: Vec<&str> = options.webhook_secrets.iter().map(String::as_str).collect();
    let mut stripe_config = StripeConfig::platform(
        STRIPE_KEY,
        STRIPE_CLIENT_ID,
        &stripe.base_url.parse().expect("simulator url"),
        &secrets,
    );
    stripe_config.timeout = options.stripe_timeout;
    let production = options.environment == Environment::Production;
    let public_url = if production {
        format!("https://{addr}")
    } else {
        format!("http://{addr}")
    };
    let config = Config {
        database_url: database_url.clone(),
        site_addr: addr,
        public_url: public_url.parse().expect("url"),
        secret_key: SecretKey::from_bytes(b"test-secret-key-test-secret-key-0123").expect("key"),
        environment: options.environment,
        trusted_proxies: options.trusted_proxies,
        data_dir: data_dir.clone(),
        stripe: stripe_config,
        extra_api_audiences: options.extra_api_audiences,
        sso_domain: options.sso_domain,
        signups_per_ip_per_hour: 10,
        mail: subgate::config::MailConfig {
            smtp_url: options.smtp_url,
            from: "subgate <no-reply@subgate.test>".into(),
        },
    };
    let leptos_options = LeptosOptions::builder()
        .output_name("subgate")
        .site_root("target/site")
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let entropy = options.seed.map_or_else(Entropy::os, Entropy::seeded);
    let app = Application::with_listener(config, leptos_options, clock.clone(), entropy, listener)
        .await
        .expect("build app");
    let db = app.state.db.clone();
    let state = app.state.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://{addr}"),
        client: browser(),
        clock,
        database_url,
        data_dir,
        db,
        state,
        stripe,
    }
}

/// A request the product made that Stripe would refuse fails the test that made it (tests
/// that break a rule on purpose take the violations first).
impl Drop for TestApp {
    fn drop(&mut self) {
        let violations = self.stripe.simulator.violations();
        if !violations.is_empty() && !std::thread::panicking() {
            panic!("requests Stripe would refuse: {violations:#?}");
        }
    }
}

/// A client that keeps cookies and does not follow redirects, so tests see them.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .expect("client")
}

pub struct Merchant {
    pub business_name: String,
    pub email: String,
    pub password: String,
}

impl Merchant {
    pub fn generate() -> Self {
        let tag = subgate::crypto::random_token(6).to_lowercase();
        Self {
            business_name: format!("Acme {tag}"),
            email: format!("owner-{tag}@acme.test"),
            password: "correct horse battery staple".into(),
        }
    }
}

pub fn set_cookies(res: &Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(String::from))
        .collect()
}

/// The value of the session cookie in a Set-Cookie list, if it was set (not cleared).
pub fn session_cookie(cookies: &[String]) -> Option<String> {
    cookies.iter().find_map(|c| {
        let (pair, _) = c.split_once(';').unwrap_or((c, ""));
        let (name, value) = pair.split_once('=')?;
        (name.ends_with("subgate_session") && !value.is_empty()).then(|| value.to_string())
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A page as a browser asks for it.
    pub async fn get_page(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .header(ACCEPT, "text/html")
            .send()
            .await
            .expect("GET page")
    }

    /// A page's HTML, as the server renders it before any script.
    pub async fn page_html(&self, path: &str) -> String {
        self.get_page(path).await.text().await.expect("html")
    }

    /// The CSRF token the current session's pages carry (starts a session if there is none).
    pub async fn csrf_token(&self) -> String {
        let html = self.get_page("/").await.text().await.expect("body");
        meta_csrf_token(&html).expect("page has a csrf-token meta tag")
    }

    /// Posts a server function the way the hydrated page does: form body with the CSRF token,
    /// from this site's origin.
    pub async fn call_fn(&self, name: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token().await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        self.client
            .post(self.url(&format!("/fn/{name}")))
            .header(ACCEPT, "application/json")
            .header(ORIGIN, &self.address)
            .form(&form)
            .send()
            .await
            .expect("POST server fn")
    }

    /// Signs up and, when that succeeds, verifies the address with the link mailed to it (as
    /// a merchant does before connecting Stripe); answers the sign-up's response.
    pub async fn sign_up(&self, m: &Merchant) -> Response {
        let res = self.sign_up_unverified(m).await;
        if res.status().is_success() && self.state.mailer.is_outbox() {
            let mail = self.mail_to(&m.email, "Verify").await;
            let token = link_token(&mail.text, "/verify-email").expect("verification link");
            let verified = self.call_fn("verify_email", &[("token", &token)]).await;
            assert_eq!(verified.status().as_u16(), 200, "verify the address");
        }
        res
    }

    /// "Confirm it is you" with the password every generated merchant has: secrets can be
    /// revealed and rotated for five more minutes (after a test moved the clock on).
    pub async fn confirm_identity(&self) {
        let res = self
            .call_fn(
                "confirm_identity",
                &[("password", "correct horse battery staple")],
            )
            .await;
        assert_eq!(res.status().as_u16(), 200, "confirm identity");
    }

    /// Signs up without verifying the address.
    pub async fn sign_up_unverified(&self, m: &Merchant) -> Response {
        self.call_fn(
            "signup",
            &[
                ("business_name", &m.business_name),
                ("email", &m.email),
                ("password", &m.password),
            ],
        )
        .await
    }

    /// The newest mail to `to` whose subject contains `subject`, once the outbox has it (mail is
    /// sent in the background).
    pub async fn mail_to(&self, to: &str, subject: &str) -> subgate::mail::Mail {
        self.try_mail_to(to, subject, std::time::Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no mail to {to} about {subject:?}"))
    }

    /// Like [`Self::mail_to`], but `None` when nothing came within `wait`.
    pub async fn try_mail_to(
        &self,
        to: &str,
        subject: &str,
        wait: std::time::Duration,
    ) -> Option<subgate::mail::Mail> {
        let until = std::time::Instant::now() + wait;
        loop {
            let found = self
                .state
                .mailer
                .outbox()
                .into_iter()
                .find(|m| m.to == to && m.subject.contains(subject));
            if found.is_some() || std::time::Instant::now() >= until {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Every mail to `to` in the outbox.
    pub fn mails_to(&self, to: &str) -> Vec<subgate::mail::Mail> {
        self.state
            .mailer
            .outbox()
            .into_iter()
            .filter(|m| m.to == to)
            .collect()
    }

    pub async fn log_in(&self, email: &str, password: &str) -> Response {
        self.call_fn("login", &[("email", email), ("password", password)])
            .await
    }

    pub async fn log_out(&self) -> Response {
        self.call_fn("logout", &[]).await
    }

    pub async fn merchant_count(&self) -> i64 {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) AS n FROM merchants")
            .fetch_one(&self.db.pool)
            .await
            .expect("count")
            .get("n")
    }

    /// Headers of a request from a foreign site.
    pub fn foreign_origin() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ORIGIN, "https://evil.example".parse().expect("header"));
        h
    }
}

pub fn meta_csrf_token(html: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("meta[name='csrf-token']").ok()?;
    doc.select(&sel)
        .next()?
        .value()
        .attr("content")
        .map(String::from)
        .filter(|t| !t.is_empty())
}

/// The JSON error body of a server function or API response.
pub async fn error_of(res: Response) -> (u16, serde_json::Value) {
    let status = res.status().as_u16();
    let body = res
        .json::<serde_json::Value>()
        .await
        .unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// The `token` of the first link to `path` in a mail's text.
pub fn link_token(text: &str, path: &str) -> Option<String> {
    let marker = format!("{path}?token=");
    let start = text.find(&marker)? + marker.len();
    Some(
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect(),
    )
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl TestApp {
    /// The same server seen from another browser (its own cookie jar): another merchant, or a
    /// subscriber.
    pub fn new_browser(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            client: browser(),
            clock: self.clock.clone(),
            database_url: self.database_url.clone(),
            data_dir: self.data_dir.clone(),
            db: self.db.clone(),
            state: self.state.clone(),
            stripe: self.stripe.clone(),
        }
    }

    /// The logged-in merchant's id.
    pub async fn merchant_id(&self) -> String {
        let me: serde_json::Value = self
            .client
            .get(self.url("/fn/current_merchant"))
            .send()
            .await
            .expect("current merchant")
            .json()
            .await
            .expect("json");
        me["id"].as_str().expect("logged in").to_string()
    }

    /// Signs a new merchant up (and in); returns it.
    pub async fn signed_up(&self) -> Merchant {
        let m = Merchant::generate();
        assert_eq!(self.sign_up(&m).await.status().as_u16(), 200);
        m
    }

    /// "Connect with Stripe": the authorize URL the tab sends the browser to.
    pub async fn start_connect(&self) -> String {
        let res = self.call_fn("start_connect", &[]).await;
        assert_eq!(res.status().as_u16(), 200, "start_connect");
        res.json::<String>().await.expect("authorize url")
    }

    /// The connection as the Connect tab shows it.
    pub async fn connection(&self) -> serde_json::Value {
        self.client
            .get(self.url("/fn/connection_status"))
            .send()
            .await
            .expect("connection status")
            .json()
            .await
            .expect("json")
    }

    /// Stripe's redirect back to subgate, as the browser follows it.
    pub async fn connect_callback(&self, query: &str) -> Response {
        self.get_page(&format!("/connect/stripe/callback?{query}"))
            .await
    }

    /// Connects the logged-in merchant's (simulated) Stripe account the way the tab does:
    /// start, Stripe approves, the browser comes back. Returns the account id.
    pub async fn connect_stripe(&self, m: &Merchant) -> String {
        let url = self.start_connect().await;
        let state = query_param(&url, "state").expect("state in the authorize url");
        let code = self
            .stripe
            .simulator
            .approve_authorization(&m.business_name, &m.email);
        let res = self
            .connect_callback(&format!("code={code}&scope=read_write&state={state}"))
            .await;
        assert_eq!(res.status().as_u16(), 303);
        let connection = self.connection().await;
        assert_eq!(connection["state"], "connected", "{connection}");
        connection["account_id"]
            .as_str()
            .expect("account id")
            .to_string()
    }

    /// A bearer token of the logged-in merchant, from a new confidential client allowed `scope`.
    pub async fn bearer(&self, scope: &str) -> String {
        use subgate::oauth::clients::ClientInput;
        let merchant_id = self.merchant_id().await;
        let api = self.state.config.api_audiences();
        let input = ClientInput::parse("Backend", "confidential", &[], scope, &[], &api)
            .expect("valid client");
        let (client, secret) = self
            .state
            .clients
            .create(&merchant_id, input, self.clock.now(), None)
            .await
            .expect("create client");
        let res = browser()
            .post(self.url("/o/token/"))
            .basic_auth(&client.id, secret.map(|s| s.0))
            .form(&[("grant_type", "client_credentials"), ("audience", &api[0])])
            .send()
            .await
            .expect("token");
        assert_eq!(res.status().as_u16(), 200);
        let body: serde_json::Value = res.json().await.expect("json");
        body["access_token"].as_str().expect("token").to_string()
    }

    /// An API request with a bearer token (and a JSON body when given).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> Response {
        let mut req = browser().request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("API request")
    }
}

pub const ALL_SCOPES: &str = "customers:read customers:write subscriptions:read portal:write";

/// A merchant with a connected simulated Stripe account and a token with every scope.
pub struct Connected {
    pub merchant: Merchant,
    pub account: String,
    pub token: String,
}

pub async fn connected(app: &TestApp) -> Connected {
    let merchant = app.signed_up().await;
    let account = app.connect_stripe(&merchant).await;
    let token = app.bearer(ALL_SCOPES).await;
    Connected {
        merchant,
        account,
        token,
    }
}

/// The simulated account's demo customer with this email.
pub fn demo_customer(app: &TestApp, account: &str, email: &str) -> String {
    app.stripe
        .simulator
        .accounts()
        .into_iter()
        .find(|a| a.id == account)
        .expect("the account exists in the simulator")
        .customers
        .into_iter()
        .find(|c| c.email == email)
        .expect("demo customer")
        .id
}

pub async fn push(
    app: &TestApp,
    token: &str,
    subscriber: &str,
    customer: &str,
) -> reqwest::Response {
    app.api(
        reqwest::Method::POST,
        "/api/customers",
        token,
        Some(serde_json::json!({ "subscriber_id": subscriber, "customer_id": customer })),
    )
    .await
}

/// Awaits every future at once (no extra dependency for `join_all`).
pub async fn join_all<F: std::future::Future<Output = T>, T>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<T> {
    let mut pending: Vec<_> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut results: Vec<Option<T>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

/// `/fn/current_merchant`: the business the dashboard shows and the account's role there, or
/// null when logged out.
pub async fn me(app: &TestApp) -> serde_json::Value {
    app.client
        .get(app.url("/fn/current_merchant"))
        .send()
        .await
        .expect("current merchant")
        .json()
        .await
        .expect("json")
}
