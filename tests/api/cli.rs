//! The command line next to the server: `create-merchant` then a login over HTTP.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{spawn_app, TestApp};

fn create_merchant(app: &TestApp, email: &str, name: &str, password: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_subgate"))
        .args([
            "create-merchant",
            "--email",
            email,
            "--name",
            name,
            "--password-stdin",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("SUBGATE_DATA_DIR", &app.data_dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run subgate");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write password");
    child.wait_with_output().expect("wait")
}

#[tokio::test]
async fn create_merchant_prints_json_and_the_merchant_can_log_in() {
    let app = spawn_app().await;
    let out = create_merchant(&app, "ops@acme.test", "Acme Ops", "correct horse battery");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    assert_eq!(printed["email"], "ops@acme.test");
    assert!(printed["id"].as_str().expect("id").starts_with("mer_"));

    let res = app.log_in("ops@acme.test", "correct horse battery").await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn create_merchant_explains_a_weak_password_and_writes_nothing() {
    let app = spawn_app().await;
    let out = create_merchant(&app, "ops@acme.test", "Acme Ops", "short");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Password: At least 12 characters"));
    assert_eq!(app.merchant_count().await, 0);
}

#[test]
fn help_documents_every_environment_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_subgate"))
        .arg("--help")
        .output()
        .expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "DATABASE_URL",
        "LEPTOS_SITE_ADDR",
        "SUBGATE_PUBLIC_URL",
        "SUBGATE_SECRET_KEY",
        "SUBGATE_ENV",
        "SUBGATE_TRUSTED_PROXIES",
        "SUBGATE_DATA_DIR",
    ] {
        assert!(help.contains(var), "--help mentions {var}");
    }
}
