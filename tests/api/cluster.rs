//! Two `subgate` processes on one PostgreSQL database behave as one deployment: nothing that
//! matters lives in a process (sessions, codes, grants, revocations, SSO links, migrations are
//! all in the database).

use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::process::{cli, csrf_of, seed, Server};
use crate::support::{fresh_postgres_url, meta_csrf_token};

const REDIRECT: &str = "http://127.0.0.1:8765/callback";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn scratch() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "subgate-cluster-{}",
        subgate::crypto::random_token(6)
    ));
    std::fs::create_dir_all(&dir).expect("scratch");
    dir
}

#[tokio::test]
async fn two_instances_on_one_postgresql_database_behave_as_one() {
    let dir = scratch();
    let url = fresh_postgres_url().await;

    // both start at the same moment on an empty database: migrations run once, safely
    let mut a = Server::spawn(&url, &dir.join("a"), None);
    let mut b = Server::spawn(&url, &dir.join("b"), Some(&a.base));
    tokio::join!(a.ready(), b.ready());
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("connect");
    let (applied, distinct): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT version) FROM _sqlx_migrations WHERE success",
    )
    .fetch_one(&mut db)
    .await
    .expect("migrations table");
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .expect("migrations")
        .count() as i64;
    assert_eq!((applied, distinct), (files, files));

    // a merchant set up entirely through A
    let s = seed(&a.base).await;
    let cookie = s.str("session_cookie");
    let http = no_redirects();

    // A's bearer token and mirror answer on B, exactly as on A
    let read = |server: &Server| {
        http.get(server.url("/api/customers?limit=100"))
            .bearer_auth(s.str("token"))
            .send()
    };
    let on_a = read(&a).await.expect("read on A");
    let on_b = read(&b).await.expect("read on B");
    assert_eq!((on_a.status().as_u16(), on_b.status().as_u16()), (200, 200));
    let (on_a, on_b): (serde_json::Value, serde_json::Value) = (
        on_a.json().await.expect("json"),
        on_b.json().await.expect("json"),
    );
    assert_eq!(on_a, on_b);
    assert_eq!(
        on_b["data"].as_array().expect("data").len(),
        s.json["subscribers"].as_array().expect("subscribers").len()
    );
    let subscriptions = http
        .get(b.url("/api/customers/user-1/subscriptions"))
        .bearer_auth(s.str("token"))
        .send()
        .await
        .expect("subscriptions on B");
    assert_eq!(subscriptions.status(), 200);

    // the session made on A is valid on B (and B's pages carry its CSRF token)
    let page = http
        .get(b.url("/dashboard/oauth"))
        .header("cookie", &cookie)
        .header("accept", "text/html")
        .send()
        .await
        .expect("dashboard on B");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains(&s.str("business_name")),
        "B knows the merchant"
    );
    assert!(meta_csrf_token(&html).is_some());
    let anonymous = http
        .get(b.url("/dashboard/oauth"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("anonymous");
    assert_ne!(
        anonymous.status(),
        200,
        "without the cookie B does not let anyone in"
    );

    // an authorization started on A (consent page and decision) finishes its exchange on B
    let client = cli(
        &url,
        &a.base,
        &[
            "create-client",
            "--merchant",
            &s.str("email"),
            "--name",
            "Cluster app",
            "--type",
            "public",
            "--redirect-uri",
            REDIRECT,
        ],
    );
    let client_id = client["client_id"].as_str().expect("client id").to_string();
    let verifier = subgate::crypto::random_token(48);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "st")
        .finish();
    let consent = http
        .get(a.url(&format!("/o/authorize/?{query}")))
        .header("cookie", &cookie)
        .header("accept", "text/html")
        .send()
        .await
        .expect("consent on A");
    assert_eq!(consent.status(), 200);
    let csrf = csrf_of(&a.base, &cookie).await;
    let decided = http
        .post(a.url("/o/authorize/"))
        .header("cookie", &cookie)
        .header("origin", &a.base)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("request", &query),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("allow on A");
    assert_eq!(decided.status(), 303);
    let location = decided.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let code = crate::support::query_param(&location, "code").expect("code");
    let exchanged = http
        .post(b.url("/o/token/"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .expect("exchange on B");
    assert_eq!(exchanged.status(), 200);
    let tokens: serde_json::Value = exchanged.json().await.expect("tokens");
    let access = tokens["access_token"]
        .as_str()
        .expect("access token")
        .to_string();
    let me = |server: &Server| http.get(server.url("/api/me")).bearer_auth(&access).send();
    // both instances have now seen the token live (and may remember it for a moment)
    assert_eq!(me(&b).await.expect("me on B").status(), 200);
    assert_eq!(me(&a).await.expect("me on A").status(), 200);

    // revoked on A: refused by A at once, and by B within 5 s
    let revoked = http
        .post(a.url("/o/revoke_token/"))
        .form(&[
            ("client_id", client_id.as_str()),
            ("token", access.as_str()),
        ])
        .send()
        .await
        .expect("revoke on A");
    assert_eq!(revoked.status(), 200);
    assert_eq!(me(&a).await.expect("me on A").status(), 401);
    let started = Instant::now();
    loop {
        let status = me(&b).await.expect("me on B").status();
        if status == 401 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "B still accepts a token revoked on A ({status})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // one SSO link issued by A, clicked at once on A and B: exactly one click opens the portal
    let mut mac = Hmac::<Sha256>::new_from_slice(s.str("sso_secret").as_bytes()).expect("key");
    mac.update(b"user-1");
    let hash = hex::encode(mac.finalize().into_bytes());
    let login = http
        .post(a.url(&format!(
            "/api/v1/stores/{}/subscribers/user-1/login",
            s.str("store")
        )))
        .json(&serde_json::json!({ "customer_hash": hash }))
        .send()
        .await
        .expect("SSO login on A");
    assert_eq!(login.status(), 200);
    let link: serde_json::Value = login.json().await.expect("json");
    let link = link["data"]["redirection_url"]
        .as_str()
        .expect("link")
        .to_string();
    let path = url::Url::parse(&link).expect("url").path().to_string();
    let clicks = (0..10).map(|i| {
        // both instances serve one public URL (A's), the origin their pages post from
        let origin = a.base.clone();
        let target = if i % 2 == 0 {
            a.url(&path)
        } else {
            b.url(&path)
        };
        let http = http.clone();
        // the link's Continue button: a POST from the instance's own page consumes it
        tokio::spawn(async move {
            http.post(target)
                .header("origin", origin)
                .header("accept", "text/html")
                .send()
                .await
                .expect("click")
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for click in clicks.collect::<Vec<_>>() {
        statuses.push(click.await.expect("click task"));
    }
    statuses.sort();
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 410).count(),
        9,
        "{statuses:?}"
    );
}
