//! The real `subgate` binary as separate processes: for several instances on one database and
//! for faults (kill -9, SIGTERM, PostgreSQL restarts) that an in-process server cannot show.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Every instance of one deployment shares this key (sealed secrets, token hashes, cookies).
pub const SHARED_SECRET_KEY: &str = "test-cluster-secret-key-0123456789abcdef";

pub struct Server {
    pub base: String,
    pub log: PathBuf,
    child: Child,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Server {
    /// Starts `subgate serve` on a free port (not yet ready: see `ready`). `public_url` is the
    /// deployment's one public address (what a load balancer would serve), when not this
    /// instance's own.
    pub fn spawn(database_url: &str, data_dir: &Path, public_url: Option<&str>) -> Server {
        Self::spawn_with(database_url, data_dir, public_url, &[])
    }

    /// `spawn`, with more environment (e.g. a Stripe simulator of its own).
    pub fn spawn_with(
        database_url: &str,
        data_dir: &Path,
        public_url: Option<&str>,
        env: &[(String, String)],
    ) -> Server {
        Self::spawn_on(free_port(), database_url, data_dir, public_url, env)
    }

    pub fn spawn_on(
        port: u16,
        database_url: &str,
        data_dir: &Path,
        public_url: Option<&str>,
        env: &[(String, String)],
    ) -> Server {
        std::fs::create_dir_all(data_dir).expect("data dir");
        let log = data_dir.join(format!("server-{port}.log"));
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_subgate"))
            .arg("serve")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_OUTPUT_NAME", "subgate")
            .env("SUBGATE_DATA_DIR", data_dir)
            .env("SUBGATE_SECRET_KEY", SHARED_SECRET_KEY)
            .env("RUST_LOG", "warn")
            .env(
                "SUBGATE_PUBLIC_URL",
                public_url
                    .map(String::from)
                    .unwrap_or_else(|| format!("http://127.0.0.1:{port}")),
            )
            .env_remove("STRIPE_SECRET_KEY")
            .env_remove("SUBGATE_ENV")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::from(out.try_clone().expect("log")))
            .stderr(Stdio::from(out))
            .spawn()
            .expect("start subgate");
        Server {
            base: format!("http://127.0.0.1:{port}"),
            log,
            child,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `/readyz` answers 200 (migrations applied, database reachable).
    pub async fn ready(&mut self) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("subgate exited with {status}: {}", self.log_text());
            }
            if let Ok(res) = client.get(self.url("/readyz")).send().await {
                if res.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("subgate did not become ready: {}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9`: no shutdown code runs.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// `kill -TERM`, then the exit status (waiting at most `limit`).
    pub async fn terminate(&mut self, limit: Duration) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "still running {limit:?} after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `scripts/seed.py` sets up over HTTP, as a merchant would: an account with the simulated
/// Stripe connected, a confidential client and its token, pushed demo customers, SSO on.
pub struct Seed {
    pub json: Value,
}

impl Seed {
    pub fn str(&self, key: &str) -> String {
        self.json[key]
            .as_str()
            .unwrap_or_else(|| panic!("seed has no {key}: {}", self.json))
            .to_string()
    }
}

pub async fn seed(base: &str) -> Seed {
    let base = base.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg("scripts/seed.py")
            .arg(&base)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run scripts/seed.py")
    })
    .await
    .expect("seed task");
    assert!(
        out.status.success(),
        "seed.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Seed {
        json: serde_json::from_slice(&out.stdout).expect("seed.py prints JSON"),
    }
}

/// Runs the binary's own CLI against `database_url` (e.g. `create-client`), parsing its JSON.
pub fn cli(database_url: &str, public_url: &str, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_subgate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("DATABASE_URL", database_url)
        .env("SUBGATE_SECRET_KEY", SHARED_SECRET_KEY)
        .env("SUBGATE_DATA_DIR", std::env::temp_dir())
        .env("SUBGATE_PUBLIC_URL", public_url)
        .env("RUST_LOG", "error")
        .output()
        .expect("run subgate");
    assert!(
        out.status.success(),
        "subgate {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// The `<meta name="csrf-token">` of a dashboard page fetched with `cookie`.
pub async fn csrf_of(base: &str, cookie: &str) -> String {
    let html = reqwest::Client::new()
        .get(format!("{base}/dashboard/oauth"))
        .header("cookie", cookie)
        .header("accept", "text/html")
        .send()
        .await
        .expect("dashboard")
        .text()
        .await
        .expect("html");
    crate::support::meta_csrf_token(&html).expect("the dashboard carries a CSRF token")
}

/// `subgate stripe-simulator` as a process of its own, as Stripe is to a deployment: the server
/// reaches it over HTTP and it stays up while the server stops.
pub struct StripeSimulator {
    pub base: String,
    child: Child,
}

pub const SIMULATOR_WEBHOOK_SECRET: &str = "whsec_process_tests";

impl StripeSimulator {
    pub async fn start(webhook_url: &str) -> StripeSimulator {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_subgate"))
            .args([
                "stripe-simulator",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--webhook-url",
                webhook_url,
                "--webhook-secret",
                SIMULATOR_WEBHOOK_SECRET,
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the simulator");
        // owned at once, so it is reaped (Drop) whatever happens next
        let simulator = StripeSimulator {
            base: format!("http://127.0.0.1:{port}"),
            child,
        };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            let probe = client.get(format!("{}/_sim/faults", simulator.base));
            if probe.send().await.is_ok() {
                return simulator;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the Stripe simulator did not start");
    }

    /// The server's environment for talking to this simulator instead of Stripe.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("STRIPE_SECRET_KEY", "sk_test_simulator"),
            ("STRIPE_CLIENT_ID", "ca_simulator"),
            ("STRIPE_API_BASE", self.base.as_str()),
            ("STRIPE_CONNECT_BASE", self.base.as_str()),
            ("STRIPE_WEBHOOK_SECRET", SIMULATOR_WEBHOOK_SECRET),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

impl Drop for StripeSimulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
