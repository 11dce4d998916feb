//! `spawn_app()`: the real application on 127.0.0.1:0 with a throw-away database, and a
//! `TestApp` with one method per thing a browser or client does.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use leptos::config::LeptosOptions;
use reqwest::header::{HeaderMap, ACCEPT, ORIGIN};
use reqwest::{redirect, Response};
use sqlx::{Connection, Executor};
use subgate::clock::Clock;
use subgate::config::{Config, Environment};
use subgate::crypto::SecretKey;
use subgate::startup::Application;
use tokio::net::TcpListener;

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub db: subgate::db::Db,
    pub state: subgate::state::AppState,
}

pub struct Options {
    pub environment: Environment,
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            environment: Environment::Development,
            trusted_proxies: vec![],
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
        Ok("postgres") => {
            let admin = std::env::var("SUBGATE_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
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
        _ => format!("sqlite://{}?mode=rwc", dir.join("subgate.db").display()),
    }
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let data_dir = scratch_dir();
    let database_url = fresh_database_url(&data_dir).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
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
    };
    let leptos_options = LeptosOptions::builder()
        .output_name("subgate")
        .site_root("target/site")
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let clock = Clock::system();
    let app = Application::with_listener(config, leptos_options, clock.clone(), listener)
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

    pub async fn sign_up(&self, m: &Merchant) -> Response {
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
