//! Faults, against the real binary: `kill -9` under a write load, SIGTERM with a request in
//! flight, and (run alone, see `scripts/test.sh`) a PostgreSQL restart under load. The slow and
//! failing Stripe cases are in `payments::stripe_failures_map_to_clear_json_errors_never_500`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::{Connection, Executor};

use crate::process::{csrf_of, free_port, seed, Seed, Server, StripeSimulator};
use crate::support::fresh_postgres_url;

const REDIRECT: &str = "https://app.example/callback";

fn scratch() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "subgate-faults-{}",
        subgate::crypto::random_token(6)
    ));
    std::fs::create_dir_all(&dir).expect("scratch");
    dir
}

#[derive(Default)]
struct Acknowledged {
    /// (subscriber id, customer id)
    pushes: Vec<(String, String)>,
    /// client ids
    clients: Vec<String>,
    /// access tokens (client credentials; written in batches with other token responses)
    tokens: Vec<String>,
}

/// Writers push customers (each a new customer with one subscription on the simulated Stripe
/// account), register clients and take tokens until the server dies under them.
async fn write_until_killed(server: &mut Server, s: &Seed, price: &str) -> Acknowledged {
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let sim = format!("{}/_stripe/_sim/accounts/{}", server.base, s.str("account"));
    let cookie = s.str("session_cookie");
    let csrf = csrf_of(&server.base, &cookie).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut writers = Vec::new();
    for w in 0..6 {
        let (acked, stop, http) = (acked.clone(), stop.clone(), http.clone());
        let (base, token, cookie, csrf) = (
            server.base.clone(),
            s.str("token"),
            cookie.clone(),
            csrf.clone(),
        );
        let (sim, price) = (sim.clone(), price.to_string());
        let (client_id, client_secret) = (s.str("client_id"), s.str("client_secret"));
        writers.push(tokio::spawn(async move {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let name = format!("load-{w}-{n}");
                if w % 3 == 2 {
                    let res = http
                        .post(format!("{base}/o/token/"))
                        .basic_auth(&client_id, Some(&client_secret))
                        .form(&[("grant_type", "client_credentials")])
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status().is_success() => {
                            if let Ok(body) = r.json::<Value>().await {
                                if let Some(t) = body["access_token"].as_str() {
                                    acked.lock().expect("lock").tokens.push(t.to_string());
                                }
                            }
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                } else if w % 3 == 0 {
                    let Some(customer) = new_customer(&http, &sim, &name, &price).await else {
                        break;
                    };
                    let res = http
                        .post(format!("{base}/api/customers"))
                        .bearer_auth(&token)
                        .json(
                            &serde_json::json!({ "subscriber_id": name, "customer_id": customer }),
                        )
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status().is_success() => {
                            acked.lock().expect("lock").pushes.push((name, customer))
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                } else {
                    let res = http
                        .post(format!("{base}/fn/create_client"))
                        .header("cookie", &cookie)
                        .header("origin", &base)
                        .form(&[
                            ("csrf_token", csrf.as_str()),
                            ("name", name.as_str()),
                            ("client_type", "public"),
                            ("redirect_uris", REDIRECT),
                            ("scopes", ""),
                            ("audiences", ""),
                        ])
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status().is_success() => {
                            if let Ok(body) = r.json::<Value>().await {
                                if let Some(id) = body["client"]["id"].as_str() {
                                    acked.lock().expect("lock").clients.push(id.to_string());
                                }
                            }
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.expect("writer");
    }
    Arc::try_unwrap(acked)
        .ok()
        .expect("writers are done")
        .into_inner()
        .expect("lock")
}

/// A customer on the simulated Stripe account; None once the server is gone.
async fn sim_customer(http: &reqwest::Client, sim: &str, name: &str) -> Option<String> {
    let created: Value = http
        .post(format!("{sim}/customers"))
        .json(&serde_json::json!({ "email": format!("{name}@load.test"), "name": name }))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    created["id"].as_str().map(String::from)
}

/// A customer with one subscription on the simulated Stripe account.
async fn new_customer(
    http: &reqwest::Client,
    sim: &str,
    name: &str,
    price: &str,
) -> Option<String> {
    let id = sim_customer(http, sim, name).await?;
    http.post(format!("{sim}/subscriptions"))
        .json(&serde_json::json!({ "customer": id, "price": price }))
        .send()
        .await
        .ok()?
        .error_for_status()
        .ok()?;
    Some(id)
}

async fn kill9_loses_no_acknowledged_write(database_url: String) {
    let dir = scratch();
    let mut server = Server::spawn(&database_url, &dir, None);
    server.ready().await;
    let s = seed(&server.base).await;
    let public = server.base.clone();
    let http = reqwest::Client::new();
    // a price of the demo account, from whichever seeded customer has a subscription
    let mut price = None;
    for subscriber in s.json["subscribers"].as_array().expect("subscribers") {
        let list = subscriptions_of(
            &http,
            &server,
            &s.str("token"),
            subscriber.as_str().expect("id"),
        )
        .await;
        if let Some(p) = list["data"][0]["items"][0]["price_id"].as_str() {
            price = Some(p.to_string());
            break;
        }
    }
    let price = price.expect("a demo price");

    let acked = write_until_killed(&mut server, &s, &price).await;
    assert!(
        acked.pushes.len() >= 5 && acked.clients.len() >= 5 && acked.tokens.len() >= 5,
        "the load was real: {} pushes, {} clients, {} tokens",
        acked.pushes.len(),
        acked.clients.len(),
        acked.tokens.len()
    );

    eprintln!(
        "kill -9 after {} acknowledged pushes, {} acknowledged client registrations and {} acknowledged tokens",
        acked.pushes.len(),
        acked.clients.len(),
        acked.tokens.len()
    );
    // the same deployment (same public URL) comes back on the same database
    let mut server = Server::spawn(&database_url, &dir, Some(&public));
    server.ready().await;
    for (subscriber, customer) in &acked.pushes {
        let res = http
            .get(server.url(&format!("/api/customers/{subscriber}")))
            .bearer_auth(s.str("token"))
            .send()
            .await
            .expect("customer");
        assert_eq!(
            res.status(),
            200,
            "acknowledged push of {subscriber} is there"
        );
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["customer_id"], customer.as_str());
    }
    // nothing half-written: every customer the load created (acknowledged or not) has its one
    // subscription mirrored
    let mut cursor = String::new();
    let mut seen = 0;
    loop {
        let page: Value = http
            .get(server.url(&format!("/api/customers?limit=100&cursor={cursor}")))
            .bearer_auth(s.str("token"))
            .send()
            .await
            .expect("page")
            .json()
            .await
            .expect("json");
        for c in page["data"].as_array().expect("data") {
            let subscriber = c["subscriber_id"].as_str().expect("id");
            if !subscriber.starts_with("load-") {
                continue;
            }
            seen += 1;
            let list = subscriptions_of(&http, &server, &s.str("token"), subscriber).await;
            assert_eq!(
                list["data"].as_array().expect("data").len(),
                1,
                "{subscriber} has its subscription"
            );
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert!(seen >= acked.pushes.len());
    let cookie = s.str("session_cookie");
    let clients: Value = http
        .get(server.url("/fn/list_clients"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("clients")
        .json()
        .await
        .expect("json");
    let ids: Vec<&str> = clients
        .as_array()
        .expect("clients")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    for id in &acked.clients {
        assert!(
            ids.contains(&id.as_str()),
            "acknowledged client {id} is there"
        );
    }
    // every token handed out was recorded before it was: the restarted server knows each one
    for token in &acked.tokens {
        let res = http
            .get(server.url("/api/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("me");
        assert_eq!(res.status(), 200, "an acknowledged token is recorded");
    }
    if database_url.starts_with("sqlite") {
        let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&database_url)
            .await
            .expect("open");
        let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
            .fetch_one(&mut db)
            .await
            .expect("integrity check");
        assert_eq!(check, "ok");
    }
}

#[tokio::test]
async fn kill_9_under_write_load_loses_no_acknowledged_write_on_sqlite() {
    let dir = scratch();
    kill9_loses_no_acknowledged_write(format!(
        "sqlite://{}?mode=rwc",
        dir.join("subgate.db").display()
    ))
    .await;
}

#[tokio::test]
async fn kill_9_under_write_load_loses_no_acknowledged_write_on_postgresql() {
    kill9_loses_no_acknowledged_write(fresh_postgres_url().await).await;
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_then_exits() {
    let dir = scratch();
    let url = format!("sqlite://{}?mode=rwc", dir.join("subgate.db").display());
    // Stripe (simulated) is its own process here: it keeps answering while subgate stops
    let port = free_port();
    let stripe = StripeSimulator::start(&format!("http://127.0.0.1:{port}/webhooks/stripe")).await;
    let mut server = Server::spawn_on(port, &url, &dir, None, &stripe.env());
    server.ready().await;
    let s = seed(&server.base).await;
    let http = reqwest::Client::new();
    let sim = format!("{}/_sim/accounts/{}", stripe.base, s.str("account"));
    let customer = sim_customer(&http, &sim, "late-1")
        .await
        .expect("a new simulated customer");
    // Stripe answers in 1.5 s: a push is in flight that long
    let set = http
        .post(format!("{}/_sim/faults", stripe.base))
        .json(&serde_json::json!({ "latency_ms": 1500 }))
        .send()
        .await
        .expect("set faults");
    assert!(set.status().is_success(), "{}", set.status());
    let push = {
        let http = http.clone();
        let url = server.url("/api/customers");
        let token = s.str("token");
        tokio::spawn(async move {
            let started = Instant::now();
            let res = http
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({ "subscriber_id": "late-1", "customer_id": customer }))
                .send()
                .await
                .expect("the in-flight request gets its answer");
            (res.status().as_u16(), started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = server.terminate(Duration::from_secs(20)).await;
    let (answer, took) = push.await.expect("push task");
    assert_eq!(answer, 201, "the request in flight at SIGTERM completed");
    assert!(took >= Duration::from_millis(1500));
    assert!(status.success(), "clean exit: {status}");
    // and it is gone: no new connections
    assert!(http.get(server.url("/healthz")).send().await.is_err());
}

/// Restarts the machine's PostgreSQL: run alone (`--ignored`, one thread), as scripts/test.sh
/// does, so no other test loses its connections.
#[tokio::test]
#[ignore = "restarts PostgreSQL: run by scripts/test.sh on its own"]
async fn a_postgresql_restart_under_load_fails_cleanly_and_recovers_by_itself() {
    let dir = scratch();
    let url = fresh_postgres_url().await;
    let mut server = Server::spawn(&url, &dir, None);
    server.ready().await;
    let s = seed(&server.base).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::<(u16, Duration, Option<String>)>::new()));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (http, stop, outcomes) = (http.clone(), stop.clone(), outcomes.clone());
        let url = server.url("/api/customers/user-1/subscriptions");
        let token = s.str("token");
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let res =
                    http.get(&url).bearer_auth(&token).send().await.expect(
                        "every request gets an answer before the client's timeout (no hang)",
                    );
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                outcomes.lock().expect("lock").push((
                    status,
                    started.elapsed(),
                    body["error"].as_str().map(String::from),
                ));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let version = std::fs::read_dir("/etc/postgresql")
        .expect("a Debian PostgreSQL cluster")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .max()
        .expect("version");
    // stop, 7 s down under load (past the 5 s pool timeout), start again (started again even
    // if this test fails)
    // write dirty pages out first, so the shutdown checkpoint has little left to do and the
    // stop takes the second it should (pg_ctl gives up waiting after 60 s)
    let mut admin = sqlx::AnyConnection::connect(&crate::support::postgres_admin_url())
        .await
        .expect("connect to PostgreSQL");
    admin.execute("CHECKPOINT").await.expect("checkpoint");
    drop(admin);
    let cluster = PgCluster(version);
    cluster.ctl("stop");
    tokio::time::sleep(Duration::from_secs(7)).await;
    cluster.ctl("start");
    drop(cluster);
    // the server recovers by itself: reads succeed again within 15 s of the restart
    let recovered = Instant::now();
    loop {
        let res = http
            .get(server.url("/api/customers/user-1/subscriptions"))
            .bearer_auth(s.str("token"))
            .send()
            .await
            .expect("answer");
        if res.status() == 200 {
            break;
        }
        assert!(recovered.elapsed() < Duration::from_secs(15), "no recovery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.expect("load task");
    }
    let outcomes = outcomes.lock().expect("lock");
    for (status, took, error) in outcomes.iter() {
        assert!(
            *status == 200 || (*status == 503 && error.as_deref() == Some("unavailable")),
            "clean failure only: {status} {error:?}"
        );
        assert!(*took < Duration::from_secs(10), "no hang: {took:?}");
    }
    let failed = outcomes.iter().filter(|(s, _, _)| *s == 503).count();
    let ok = outcomes.iter().filter(|(s, _, _)| *s == 200).count();
    eprintln!("during the restart: {ok} answered 200, {failed} answered 503");
    assert!(ok > 0);
    assert!(failed > 0, "the outage was seen, and answered 503");
    assert!(server.log_text().len() < 10_000_000);
}

/// The machine's PostgreSQL cluster; started again when dropped, whatever happened.
struct PgCluster(String);

impl PgCluster {
    fn ctl(&self, action: &str) {
        let status = std::process::Command::new("pg_ctlcluster")
            .args([
                "--skip-systemctl-redirect",
                &self.0,
                "main",
                action,
                "-m",
                "fast",
            ])
            .status()
            .expect("pg_ctlcluster");
        assert!(status.success(), "pg_ctlcluster {action}");
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &self.0, "main", "start"])
            .status();
    }
}

/// `GET /api/customers/{subscriber}/subscriptions` with a bearer token, as JSON.
async fn subscriptions_of(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    subscriber: &str,
) -> Value {
    http.get(server.url(&format!("/api/customers/{subscriber}/subscriptions")))
        .bearer_auth(token)
        .send()
        .await
        .expect("subscriptions")
        .json()
        .await
        .expect("json")
}
