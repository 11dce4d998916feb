//! Abuse limits that must hold under concurrency, each named after the attack it stops: bursts
//! of 50 requests at once against the login, sign-up and SSO limits (the limit holds, and the
//! server's memory stays bounded), lock-outs by strangers, and replays across SSO modes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use reqwest::header::{ACCEPT, ORIGIN};
use serde_json::json;

use crate::support::sso::{hash, login, login_as, ready};
use crate::support::{
    browser, join_all, meta_csrf_token, spawn_app, spawn_app_with, Merchant, Options, TestApp,
};

/// Requests fired at once in each burst.
const BURST: usize = 50;
/// What a burst may add to the process's resident memory. Unbounded, 50 argon2 hashes of
/// 19 MiB each took 700 to 1000 MiB; bounded to twice the cores, they take well under this.
const MAX_GROWTH_MIB: u64 = 300;

/// The process's resident memory in KiB (the server runs in this test's process).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Samples the resident memory every 2 ms until dropped; `growth_mib` is the peak over the
/// memory when sampling started.
struct PeakMemory {
    baseline: u64,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl PeakMemory {
    fn start() -> Self {
        let baseline = rss_kib();
        let peak = Arc::new(AtomicU64::new(baseline));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kib(), Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        });
        Self {
            baseline,
            peak,
            stop,
        }
    }

    fn growth_mib(&self) -> u64 {
        self.peak
            .load(Ordering::Relaxed)
            .saturating_sub(self.baseline)
            / 1024
    }
}

impl Drop for PeakMemory {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A browser of its own with a CSRF token, ready to post a server function.
async fn fresh_browser(app: &TestApp) -> (reqwest::Client, String) {
    let client = browser();
    let html = client
        .get(app.url("/login"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    (client, meta_csrf_token(&html).expect("csrf token"))
}

async fn post_fn(
    app: &TestApp,
    client: &reqwest::Client,
    token: &str,
    name: &str,
    fields: &[(&str, &str)],
    forwarded_for: Option<&str>,
) -> u16 {
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf_token", token));
    let mut req = client
        .post(app.url(&format!("/fn/{name}")))
        .header(ACCEPT, "application/json")
        .header(ORIGIN, &app.address)
        .form(&form);
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    req.send().await.expect("POST").status().as_u16()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

async fn signed_up_and_out(app: &TestApp) -> Merchant {
    let m = app.signed_up().await;
    app.log_out().await;
    m
}

#[tokio::test]
async fn fifty_concurrent_wrong_passwords_get_at_most_ten_answers_and_bounded_memory() {
    let app = spawn_app().await;
    let m = signed_up_and_out(&app).await;
    let mut browsers = Vec::new();
    for _ in 0..BURST {
        browsers.push(fresh_browser(&app).await);
    }
    let memory = PeakMemory::start();
    let attempts = browsers.iter().map(|(client, token)| {
        let (app, m) = (&app, &m);
        async move {
            post_fn(
                app,
                client,
                token,
                "login",
                &[("email", &m.email), ("password", "not the right password")],
                None,
            )
            .await
        }
    });
    let statuses = join_all(attempts).await;
    let growth = memory.growth_mib();
    assert!(
        count(&statuses, 401) <= 10,
        "the account's limit is 10 failures, all were checked at once: {statuses:?}"
    );
    assert_eq!(
        count(&statuses, 401) + count(&statuses, 429) + count(&statuses, 503),
        BURST,
        "{statuses:?}"
    );
    assert!(
        growth < MAX_GROWTH_MIB,
        "memory grew {growth} MiB under {BURST} concurrent logins"
    );
}

#[tokio::test]
async fn fifty_concurrent_sign_ups_from_one_ip_make_at_most_ten_accounts_and_bounded_memory() {
    let app = spawn_app().await;
    let mut browsers = Vec::new();
    for _ in 0..BURST {
        browsers.push((fresh_browser(&app).await, Merchant::generate()));
    }
    let memory = PeakMemory::start();
    let attempts = browsers.iter().map(|((client, token), m)| {
        let app = &app;
        async move {
            post_fn(
                app,
                client,
                token,
                "signup",
                &[
                    ("business_name", &m.business_name),
                    ("email", &m.email),
                    ("password", &m.password),
                ],
                None,
            )
            .await
        }
    });
    let statuses = join_all(attempts).await;
    let growth = memory.growth_mib();
    let accounts = app.merchant_count().await;
    assert!(
        accounts <= 10,
        "one IP may sign up 10 accounts an hour, made {accounts}: {statuses:?}"
    );
    assert_eq!(count(&statuses, 200) as i64, accounts, "{statuses:?}");
    assert_eq!(
        count(&statuses, 200) + count(&statuses, 429) + count(&statuses, 503),
        BURST,
        "{statuses:?}"
    );
    assert!(
        growth < MAX_GROWTH_MIB,
        "memory grew {growth} MiB under {BURST} concurrent sign-ups"
    );
}

#[tokio::test]
async fn a_guesser_on_another_ip_cannot_lock_the_owner_out_by_email_alone() {
    let app = spawn_app_with(Options {
        trusted_proxies: vec!["127.0.0.1".parse().expect("ip")],
        ..Options::default()
    })
    .await;
    let m = signed_up_and_out(&app).await;
    let (client, token) = fresh_browser(&app).await;
    let mut last = 0;
    for _ in 0..12 {
        last = post_fn(
            &app,
            &client,
            &token,
            "login",
            &[("email", &m.email), ("password", "a guess of the attacker")],
            Some("203.0.113.66"),
        )
        .await;
    }
    assert_eq!(last, 429, "the guesser is stopped");
    let (owner, token) = fresh_browser(&app).await;
    let status = post_fn(
        &app,
        &owner,
        &token,
        "login",
        &[("email", &m.email), ("password", &m.password)],
        Some("198.51.100.7"),
    )
    .await;
    assert_eq!(status, 200, "the owner, from their own IP, still gets in");
}

#[tokio::test]
async fn wrong_hashes_from_strangers_never_lock_out_the_right_one() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    // a storefront visitor sends wrong hashes for subscriber 42...
    for _ in 0..12 {
        login(
            &app,
            &r.store,
            "42",
            json!({ "customer_hash": hash("guess", "42") }),
        )
        .await;
    }
    let (status, body) = login_as(&app, &r, "42").await;
    assert_eq!(status, 200, "the merchant's own call goes through: {body}");
    // ...and for 100 random subscribers of the (public) store
    for i in 0..100 {
        let id = format!("random-{i}");
        login(
            &app,
            &r.store,
            &id,
            json!({ "customer_hash": hash("guess", &id) }),
        )
        .await;
    }
    let (status, body) = login_as(&app, &r, "42").await;
    assert_eq!(status, 200, "still: {body}");
    let (status, _) = login(
        &app,
        &r.store,
        "someone",
        json!({ "customer_hash": hash("guess", "someone") }),
    )
    .await;
    assert_eq!(status, 429, "wrong hashes are still limited per store");
}

#[tokio::test]
async fn fifty_concurrent_wrong_hashes_count_exactly_ten_and_leave_the_log_readable() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let memory = PeakMemory::start();
    let attempts = (0..BURST).map(|i| {
        let app = &app;
        let store = r.store.clone();
        async move {
            login(
                app,
                &store,
                "42",
                json!({ "customer_hash": hash(&format!("guess {i}"), "42") }),
            )
            .await
            .0
        }
    });
    let statuses = join_all(attempts).await;
    let growth = memory.growth_mib();
    assert_eq!(count(&statuses, 401), 10, "{statuses:?}");
    assert_eq!(count(&statuses, 429), BURST - 10, "{statuses:?}");
    assert!(growth < MAX_GROWTH_MIB, "memory grew {growth} MiB");
    use sqlx::Row;
    let logged: i64 = sqlx::query("SELECT COUNT(*) AS n FROM sso_logins")
        .fetch_one(&app.db.pool)
        .await
        .expect("count")
        .get("n");
    assert!(
        logged <= 10,
        "refused attempts write no log rows that push real ones out: {logged}"
    );
}

#[tokio::test]
async fn a_classic_hash_of_a_dotted_id_is_not_a_signed_login_of_another_subscriber() {
    let app = spawn_app().await;
    let r = ready(&app).await;
    let ts = app.clock.now();
    let nonce = "0123456789abcdef";
    // an end user whose id is "42.<ts>.<nonce>" got their own classic hash from the merchant
    let their_own = hash(&r.secret, &format!("42.{ts}.{nonce}"));
    let (status, body) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": their_own, "timestamp": ts, "nonce": nonce }),
    )
    .await;
    assert_eq!(status, 401, "not a login as 42: {body}");
    // the documented signed message is domain-separated
    let signed = hash(&r.secret, &format!("subgate-sso-v2/42/{ts}/{nonce}"));
    let (status, body) = login(
        &app,
        &r.store,
        "42",
        json!({ "customer_hash": signed, "timestamp": ts, "nonce": nonce }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
