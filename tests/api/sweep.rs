//! Tables fed by unauthenticated or machine traffic stay proportional to live data: cookieless
//! page views write no session rows, and the sweep (`subgate sweep`, which every instance runs
//! every ten minutes) deletes expired tokens, grants, codes, throttle windows and logs, in
//! batches, safely from several processes at once.

use std::process::Command;

use sqlx::Row;

use crate::support::{browser, spawn_app, TestApp};

async fn rows(app: &TestApp, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(&app.db.pool)
        .await
        .expect("count")
        .get("n")
}

/// `subgate sweep --at <unix time>` on the app's database, as an operator (or `make bench`) runs it.
fn sweep_at(app: &TestApp, at: i64) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_subgate"))
        .args(["sweep", "--at", &at.to_string()])
        .env("DATABASE_URL", &app.database_url)
        .env("SUBGATE_DATA_DIR", &app.data_dir)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run subgate sweep")
}

#[tokio::test]
async fn a_flood_of_cookieless_page_views_writes_no_session_rows() {
    let app = spawn_app().await;
    for _ in 0..20 {
        // a fresh client each time: no cookie comes back with the next request
        let res = browser()
            .get(app.url("/login"))
            .header("accept", "text/html")
            .send()
            .await
            .expect("page");
        assert_eq!(res.status(), 200);
    }
    assert_eq!(rows(&app, "sessions").await, 0);
    // and the login form of such a page still works (its CSRF token is not in a session)
    let m = app.signed_up().await;
    app.log_out().await;
    assert_eq!(app.log_in(&m.email, &m.password).await.status(), 200);
}

#[tokio::test]
async fn expired_tokens_grants_and_throttle_windows_are_swept_by_concurrent_sweepers() {
    let app = spawn_app().await;
    app.signed_up().await;
    for _ in 0..5 {
        app.bearer("customers:read").await;
    }
    // failed logins leave throttle windows
    for _ in 0..3 {
        app.log_in("nobody@acme.test", "wrong password here").await;
    }
    let before_tokens = rows(&app, "oauth_access_tokens").await;
    let before_grants = rows(&app, "oauth_grants").await;
    assert!(before_tokens >= 5 && before_grants >= 5);
    assert!(rows(&app, "throttle").await > 0);

    // two days later: every token, its grant and the windows are over; two sweepers at once
    let at = app.clock.now() + 2 * 86_400;
    let sweepers = [sweep_at(&app, at), sweep_at(&app, at)];
    for sweeper in sweepers {
        let out = sweeper.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("JSON report of rows deleted per table");
        assert!(report.get("oauth_access_tokens").is_some(), "{report}");
    }
    assert_eq!(rows(&app, "oauth_access_tokens").await, 0);
    assert_eq!(rows(&app, "oauth_grants").await, 0);
    assert_eq!(rows(&app, "throttle").await, 0);
    // what is still live stays: the merchant and their clients
    assert_eq!(app.merchant_count().await, 1);
    assert!(rows(&app, "oauth_clients").await >= 5);
}
