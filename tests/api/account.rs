//! Merchant accounts by mail (issue 19): verification at sign-up, password reset, password and
//! email change, the account's sessions, the audit log. Each mailed token is tried once, twice,
//! late, concurrently and from the wrong account.

use std::time::{Duration, Instant};

use reqwest::header::USER_AGENT;
use serde_json::Value;

use crate::support::{
    error_of, join_all, link_token, me, spawn_app, spawn_app_with, Merchant, Options, TestApp,
};

async fn account(app: &TestApp) -> Value {
    let res = app
        .client
        .get(app.url("/fn/account"))
        .send()
        .await
        .expect("account");
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

fn actions(account: &Value) -> Vec<String> {
    account["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_string())
        .collect()
}

/// Asks for a reset link for `email` and answers the token mailed (waits for the mail).
async fn reset_token(app: &TestApp, email: &str) -> String {
    let before = app.mails_to(email).len();
    let res = app.call_fn("forgot_password", &[("email", email)]).await;
    assert_eq!(res.status(), 200);
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let mails = app.mails_to(email);
        if mails.len() > before {
            return link_token(&mails[0].text, "/reset-password").expect("reset link");
        }
        assert!(Instant::now() < until, "no reset mail to {email}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_unverified_account_cannot_connect_stripe_or_enable_sso_until_its_link_is_used_once() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    assert_eq!(app.sign_up_unverified(&m).await.status(), 200);
    assert_eq!(me(&app).await["email_verified"], false);

    for function in ["start_connect", "enable_sso"] {
        let (status, body) = error_of(app.call_fn(function, &[]).await).await;
        assert_eq!(status, 403, "{function}");
        assert_eq!(body["error"], "forbidden");
        assert!(
            body["message"]
                .as_str()
                .expect("message")
                .contains("Verify your email"),
            "{body}"
        );
    }

    let mail = app.mail_to(&m.email, "Verify").await;
    let token = link_token(&mail.text, "/verify-email").expect("link");
    assert!(mail
        .text
        .contains(&format!("{}/verify-email?token=", app.address)));
    // opening the link changes nothing (a mail scanner may follow it): the page only asks
    assert_eq!(
        app.get_page(&format!("/verify-email?token={token}"))
            .await
            .status(),
        200
    );
    assert_eq!(me(&app).await["email_verified"], false);

    // another browser (not logged in) may use it: it is the mailbox that proves the address
    let other = app.new_browser();
    let res = other.call_fn("verify_email", &[("token", &token)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<String>().await.expect("json"),
        "/login?verified=1"
    );
    assert_eq!(me(&app).await["email_verified"], true);

    let (status, body) = error_of(app.call_fn("verify_email", &[("token", &token)]).await).await;
    assert_eq!(status, 404, "a used link: {body}");
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("invalid, has been used"));
    assert_eq!(app.call_fn("start_connect", &[]).await.status(), 200);
    assert_eq!(app.call_fn("enable_sso", &[]).await.status(), 200);

    let log = actions(&account(&app).await);
    assert!(log.contains(&"account.signed_up".to_string()), "{log:?}");
    assert!(
        log.contains(&"account.email_verified".to_string()),
        "{log:?}"
    );
}

#[tokio::test]
async fn verification_links_expire_after_a_day_and_can_be_sent_again() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up_unverified(&m).await;
    let first =
        link_token(&app.mail_to(&m.email, "Verify").await.text, "/verify-email").expect("link");
    app.clock.advance(24 * 3600 + 1);
    let (status, _) = error_of(app.call_fn("verify_email", &[("token", &first)]).await).await;
    assert_eq!(status, 404, "expired");

    assert_eq!(app.call_fn("resend_verification", &[]).await.status(), 200);
    let until = Instant::now() + Duration::from_secs(10);
    let second = loop {
        let mails = app.mails_to(&m.email);
        if mails.len() == 2 {
            break link_token(&mails[0].text, "/verify-email").expect("link");
        }
        assert!(Instant::now() < until, "no second mail");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_ne!(first, second);
    assert_eq!(
        app.call_fn("verify_email", &[("token", &second)])
            .await
            .status(),
        200
    );
    let (status, body) = error_of(app.call_fn("resend_verification", &[]).await).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("validation")));
}

#[tokio::test]
async fn a_reset_link_works_once_ends_every_session_and_the_old_password() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    let laptop = app.new_browser();
    assert_eq!(laptop.log_in(&m.email, &m.password).await.status(), 200);
    assert!(me(&laptop).await["id"].is_string());

    let token = reset_token(&app, &m.email).await;
    let older = reset_token(&app, &m.email).await;
    // the rules still hold
    let (status, _) = error_of(
        app.new_browser()
            .call_fn(
                "reset_password",
                &[("token", &token), ("password", "short")],
            )
            .await,
    )
    .await;
    assert_eq!(status, 422);

    // 50 browsers use the same link at once: exactly one sets its password
    let new_password = "a brand new passphrase";
    let tries = (0..50).map(|_| {
        let b = app.new_browser();
        let token = token.clone();
        async move {
            b.call_fn(
                "reset_password",
                &[("token", &token), ("password", new_password)],
            )
            .await
            .status()
            .as_u16()
        }
    });
    let statuses = join_all(tries).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 404),
        "{statuses:?}"
    );

    // every session of the account ended, on both browsers
    assert!(me(&app).await.is_null());
    assert!(me(&laptop).await.is_null());
    // the other link sent before is dead too, and so is the old password
    let (status, _) = error_of(
        app.call_fn(
            "reset_password",
            &[("token", &older), ("password", "yet another passphrase")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(app.log_in(&m.email, &m.password).await.status(), 401);
    assert_eq!(app.log_in(&m.email, new_password).await.status(), 200);
    let notice = app.mail_to(&m.email, "password was changed").await;
    assert!(notice.text.contains("every session"));
    let log = actions(&account(&app).await);
    assert!(
        log.contains(&"account.password_reset".to_string()),
        "{log:?}"
    );
    assert!(
        log.contains(&"account.sign_in_failed".to_string()),
        "{log:?}"
    );
}

#[tokio::test]
async fn a_reset_link_expires_after_thirty_minutes() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    let token = reset_token(&app, &m.email).await;
    app.clock.advance(30 * 60 + 1);
    let (status, _) = error_of(
        app.new_browser()
            .call_fn(
                "reset_password",
                &[("token", &token), ("password", "a brand new passphrase")],
            )
            .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(app.log_in(&m.email, &m.password).await.status(), 200);
}

#[tokio::test]
async fn asking_for_a_reset_tells_nothing_about_whether_the_account_exists() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    app.log_out().await;
    let ask = |email: String| {
        let b = app.new_browser();
        async move {
            let res = b.call_fn("forgot_password", &[("email", &email)]).await;
            (res.status().as_u16(), res.text().await.expect("body"))
        }
    };
    let known = ask(m.email.clone()).await;
    let unknown = ask("nobody-here@acme.test".into()).await;
    assert_eq!(known, unknown, "the same status and body");
    assert_eq!(known.1, "\"/forgot-password?sent=1\"");
    app.mail_to(&m.email, "Reset").await;
    assert!(app.mails_to("nobody-here@acme.test").is_empty());

    // the page says the same sentence either way
    let html = app.page_html("/forgot-password?sent=1").await;
    assert!(html.contains("If an account uses this address"));

    // per account: after five mails in an hour, more requests are answered alike but send none
    for _ in 0..6 {
        assert_eq!(ask(m.email.clone()).await, unknown);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let resets = app
        .mails_to(&m.email)
        .into_iter()
        .filter(|mail| mail.subject.contains("Reset"))
        .count();
    assert_eq!(resets, 5, "at most five reset mails an hour");
}

/// A mail server that takes connections and never answers: a reset request for a real account
/// must not wait for it (the mail goes in the background), or its time would tell the account
/// exists. lettre gives up on it after 15 s; the request answers long before.
#[tokio::test]
async fn a_reset_request_does_not_wait_for_the_mail_server() {
    let black_hole = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = black_hole.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = black_hole.accept().await {
            open.push(socket);
        }
    });
    let app = spawn_app_with(Options {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        ..Options::default()
    })
    .await;
    let m = Merchant::generate();
    app.sign_up_unverified(&m).await;
    app.log_out().await;
    for email in [m.email.as_str(), "nobody-here@acme.test"] {
        let started = Instant::now();
        let res = app.call_fn("forgot_password", &[("email", email)]).await;
        assert_eq!(res.status(), 200);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{email}: answered after {:?}, as if it waited for the mail server",
            started.elapsed()
        );
    }
    held.abort();
}

#[tokio::test]
async fn reset_requests_are_limited_per_ip() {
    let app = spawn_app().await;
    for i in 0..20 {
        let res = app
            .call_fn("forgot_password", &[("email", &format!("n{i}@acme.test"))])
            .await;
        assert_eq!(res.status(), 200, "request {i}");
    }
    let (status, body) = error_of(
        app.call_fn("forgot_password", &[("email", "n21@acme.test")])
            .await,
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert!(body["retry_after"].as_u64().is_some());
}

#[tokio::test]
async fn changing_the_password_asks_for_the_current_one_and_ends_the_other_sessions() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    let phone = app.new_browser();
    phone.log_in(&m.email, &m.password).await;

    let (status, body) = error_of(
        app.call_fn(
            "change_password",
            &[
                ("current_password", "not my password"),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let res = app
        .call_fn(
            "change_password",
            &[
                ("current_password", &m.password),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(me(&app).await["id"].is_string(), "this session stays");
    assert!(me(&phone).await.is_null(), "the other one ended");
    assert_eq!(
        app.log_in(&m.email, "a brand new passphrase")
            .await
            .status(),
        200
    );
    assert!(actions(&account(&app).await).contains(&"account.password_changed".to_string()));
}

#[tokio::test]
async fn an_email_change_is_confirmed_at_the_new_address_and_told_to_the_old() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    let taken = Merchant::generate();
    app.new_browser().sign_up(&taken).await;
    let new_email = format!("new-{}", m.email);

    let (status, _) = error_of(
        app.call_fn(
            "change_email",
            &[("current_password", "wrong"), ("new_email", &new_email)],
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    let res = app
        .call_fn(
            "change_email",
            &[("current_password", &m.password), ("new_email", &new_email)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let warning = app.mail_to(&m.email, "about to change").await;
    assert!(warning.text.contains(&new_email));
    let token = link_token(
        &app.mail_to(&new_email, "Confirm").await.text,
        "/confirm-email",
    )
    .expect("link");
    assert_eq!(
        me(&app).await["email"],
        m.email.as_str(),
        "nothing changed yet"
    );

    assert_eq!(
        app.call_fn("confirm_email", &[("token", &token)])
            .await
            .status(),
        200
    );
    assert_eq!(me(&app).await["email"], new_email.as_str());
    app.mail_to(&m.email, "address was changed").await;
    let (status, _) = error_of(app.call_fn("confirm_email", &[("token", &token)]).await).await;
    assert_eq!(status, 404, "used");
    assert_eq!(app.log_in(&m.email, &m.password).await.status(), 401);
    assert_eq!(app.log_in(&new_email, &m.password).await.status(), 200);

    // a link to an address someone else took meanwhile does not take it from them
    app.call_fn(
        "change_email",
        &[
            ("current_password", &m.password),
            ("new_email", &taken.email.to_uppercase()),
        ],
    )
    .await;
    let token = link_token(
        &app.mail_to(&taken.email.to_uppercase(), "Confirm")
            .await
            .text,
        "/confirm-email",
    )
    .expect("link");
    let (status, _) = error_of(app.call_fn("confirm_email", &[("token", &token)]).await).await;
    assert_eq!(status, 409);
    assert_eq!(me(&app).await["email"], new_email.as_str());
}

#[tokio::test]
async fn the_account_lists_its_sessions_and_ends_them_but_never_another_accounts() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    let phone = app.new_browser();
    let res = phone
        .client
        .post(phone.url("/fn/login"))
        .header(USER_AGENT, "PhoneBrowser/1.0")
        .header(reqwest::header::ORIGIN, &phone.address)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[
            ("email", m.email.as_str()),
            ("password", m.password.as_str()),
            ("csrf_token", phone.csrf_token().await.as_str()),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200);
    let intruder = app.new_browser();
    intruder.sign_up(&Merchant::generate()).await;

    let sessions = account(&app).await["sessions"].clone();
    let sessions = sessions.as_array().expect("sessions");
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_session = sessions
        .iter()
        .find(|s| s["user_agent"] == "PhoneBrowser/1.0")
        .expect("the phone's session, named by its device");
    assert_eq!(phone_session["ip"], "127.0.0.1");
    let handle = phone_session["handle"]
        .as_str()
        .expect("handle")
        .to_string();

    // another account cannot end it, and learns nothing: the same answer as an unknown handle
    let (status, _) = error_of(
        intruder
            .call_fn("end_sessions", &[("handle", &handle)])
            .await,
    )
    .await;
    assert_eq!(status, 404);
    assert!(me(&phone).await["id"].is_string());
    // the current session is not ended this way
    let own = sessions
        .iter()
        .find(|s| s["current"] == true)
        .expect("current");
    let (status, _) = error_of(
        app.call_fn(
            "end_sessions",
            &[("handle", own["handle"].as_str().expect("handle"))],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);

    assert_eq!(
        app.call_fn("end_sessions", &[("handle", &handle)])
            .await
            .status(),
        200
    );
    assert!(me(&phone).await.is_null(), "the phone is logged out");
    assert!(me(&app).await["id"].is_string());

    // "log out everywhere else"
    let tablet = app.new_browser();
    tablet.log_in(&m.email, &m.password).await;
    assert_eq!(app.call_fn("end_sessions", &[]).await.status(), 200);
    assert!(me(&tablet).await.is_null());
    assert!(me(&app).await["id"].is_string());
    assert_eq!(
        account(&app).await["sessions"]
            .as_array()
            .expect("sessions")
            .len(),
        1
    );
    let log = actions(&account(&app).await);
    assert!(log.contains(&"session.ended".to_string()), "{log:?}");
    assert!(log.contains(&"session.others_ended".to_string()), "{log:?}");
}

#[tokio::test]
async fn the_audit_log_exports_as_csv_for_its_own_account_only_and_neutralises_formulas() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    // a failed sign-in whose user agent is a spreadsheet formula
    let guesser = app.new_browser();
    let token = guesser.csrf_token().await;
    let res = guesser
        .client
        .post(app.url("/fn/login"))
        .header(USER_AGENT, "=HYPERLINK(\"https://evil.test\")")
        .header(reqwest::header::ORIGIN, &app.address)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[
            ("email", m.email.as_str()),
            ("password", "wrong password"),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 401);

    let other = app.new_browser();
    let o = Merchant::generate();
    other.sign_up(&o).await;

    let res = app.get_page("/dashboard/account/audit.csv").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/csv"));
    assert_eq!(res.headers()["cache-control"], "no-store");
    let csv = res.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "time,action,actor,role,target,ip,user_agent");
    assert!(csv.contains("\"account.sign_in_failed\""), "{csv}");
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"https://evil.test\"\")\""),
        "{csv}"
    );
    assert!(csv.contains("\"account.signed_up\""));
    assert!(!csv.contains(&o.email), "another account's lines: {csv}");

    let filtered = app
        .get_page("/dashboard/account/audit.csv?action=session.")
        .await
        .text()
        .await
        .expect("csv");
    assert_eq!(filtered.lines().count(), 1, "only the header: {filtered}");
    // not logged in: the login page, not the log
    let res = app
        .new_browser()
        .get_page("/dashboard/account/audit.csv")
        .await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn the_development_outbox_shows_the_mail_and_production_has_none() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up_unverified(&m).await;
    app.mail_to(&m.email, "Verify").await;
    let res = app.get_page("/dev/outbox").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.expect("html");
    assert!(
        html.contains(&format!("<a href=\"{}/verify-email?token=", app.address)),
        "{html}"
    );

    let smtp_app = spawn_app_with(Options {
        smtp_url: Some("smtp://127.0.0.1:9".into()),
        ..Options::default()
    })
    .await;
    assert_eq!(smtp_app.get_page("/dev/outbox").await.status(), 404);
}

/// The real thing: aiosmtpd (Python's SMTP server, from scripts/requirements-test.txt) on
/// loopback receives the verification mail over SMTP; its link verifies the account.
#[tokio::test]
async fn verification_mail_goes_out_over_smtp_to_a_real_server() {
    let dir =
        std::env::temp_dir().join(format!("subgate-smtp-{}", subgate::crypto::random_token(6)));
    std::fs::create_dir_all(&dir).expect("dir");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let python = std::env::var("SUBGATE_TEST_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/subgate/venv/bin/python",
            std::env::var("HOME").expect("HOME")
        )
    });
    let _server = KillOnDrop(
        std::process::Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.join("maildir"))
            .spawn()
            .unwrap_or_else(|e| panic!("start aiosmtpd with {python} (scripts/test-venv.sh): {e}")),
    );
    let until = Instant::now() + Duration::from_secs(15);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < until, "aiosmtpd did not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let app = spawn_app_with(Options {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        ..Options::default()
    })
    .await;
    let m = Merchant::generate();
    assert_eq!(app.sign_up_unverified(&m).await.status(), 200);
    let new = dir.join("maildir").join("new");
    let message = loop {
        let found = std::fs::read_dir(&new)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| std::fs::read_to_string(e.path()).expect("read mail"));
        if let Some(message) = found {
            break message;
        }
        assert!(Instant::now() < until, "no mail in {}", new.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // lines over 76 characters (the link) are sent quoted-printable
    let message = quoted_printable_decoded(&message);
    assert!(message.contains(&format!("To: {}", m.email)), "{message}");
    assert!(message.contains("no-reply@subgate.test"), "{message}");
    assert!(
        message.contains("Subject: Verify your email address"),
        "{message}"
    );
    let token = link_token(&message, "/verify-email").expect("link in the mail");
    assert_eq!(
        app.call_fn("verify_email", &[("token", &token)])
            .await
            .status(),
        200
    );
    assert_eq!(me(&app).await["email_verified"], true);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A child process that is stopped and reaped when the test ends, however it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// RFC 2045's quoted-printable undone: soft line breaks joined, `=XX` bytes restored.
fn quoted_printable_decoded(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RFC 4648 base32 (no padding), as authenticator apps read the typed key.
fn base32_decoded(s: &str) -> Vec<u8> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u32, Vec::new());
    for c in s.chars().filter(|c| *c != '=') {
        let v = ALPHABET.find(c.to_ascii_uppercase()).expect("base32") as u32;
        value = (value << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
            value &= (1 << bits) - 1;
        }
    }
    out
}

/// Turns two-factor on for the logged-in account `m` with a code computed here; answers the
/// app's key.
pub(crate) async fn turn_on_two_factor(app: &TestApp, m: &Merchant) -> Vec<u8> {
    let begun = app
        .call_fn("begin_two_factor", &[("current_password", &m.password)])
        .await;
    assert_eq!(begun.status(), 200, "begin two-factor");
    let secret = account(app).await["two_factor"]["setup"]["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let key = base32_decoded(&secret);
    let code = totp_code(&key, app.clock.now());
    let on = app.call_fn("enable_two_factor", &[("code", &code)]).await;
    assert_eq!(on.status(), 200, "enable two-factor");
    key
}

/// RFC 6238 TOTP (HMAC-SHA1, 30-second steps, 6 digits), written here from the RFC: the code an
/// authenticator app shows at `unix` for `key`.
fn totp_code(key: &[u8], unix: i64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("key");
    mac.update(&((unix / 30) as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", binary % 1_000_000)
}

#[test]
fn the_tests_totp_matches_rfc_6238s_vectors() {
    // appendix B, SHA-1: the last six digits of 94287082 and 07081804
    assert_eq!(totp_code(b"12345678901234567890", 59), "287082");
    assert_eq!(totp_code(b"12345678901234567890", 1_111_111_109), "081804");
}

#[tokio::test]
async fn two_factor_asks_for_a_code_at_login_and_takes_each_code_once() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;

    let (status, _) = error_of(
        app.call_fn("begin_two_factor", &[("current_password", "wrong")])
            .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        app.call_fn("begin_two_factor", &[("current_password", &m.password)])
            .await
            .status(),
        200
    );
    let setup = account(&app).await["two_factor"]["setup"].clone();
    let secret = setup["secret"].as_str().expect("secret").to_string();
    assert!(setup["qr"]
        .as_str()
        .expect("qr")
        .starts_with("data:image/svg+xml;base64,"));
    assert!(setup["url"]
        .as_str()
        .expect("url")
        .starts_with("otpauth://totp/subgate:"));
    let key = base32_decoded(&secret);
    assert_eq!(key.len(), 20);

    let (status, _) = error_of(
        app.call_fn("enable_two_factor", &[("code", "000000")])
            .await,
    )
    .await;
    assert_eq!(status, 422, "not the app's code");
    let t0 = app.clock.now();
    let first = totp_code(&key, t0);
    assert_eq!(
        app.call_fn("enable_two_factor", &[("code", &first)])
            .await
            .status(),
        200
    );
    let view = account(&app).await;
    assert_eq!(view["two_factor"]["on"], true);
    let codes: Vec<String> = view["two_factor"]["fresh_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    assert!(
        account(&app).await["two_factor"]["fresh_codes"]
            .as_array()
            .expect("codes")
            .is_empty(),
        "recovery codes are shown once"
    );

    // the password alone is not a login any more
    app.log_out().await;
    let res = app.log_in(&m.email, &m.password).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<String>().await.expect("json"),
        "/login/two-factor"
    );
    assert!(me(&app).await.is_null());
    // the code that turned it on used its time step: it cannot log in
    let (status, _) = error_of(app.call_fn("login_two_factor", &[("code", &first)]).await).await;
    assert_eq!(status, 403);
    let next = totp_code(&key, t0 + 30);
    assert_eq!(
        app.call_fn("login_two_factor", &[("code", &next)])
            .await
            .status(),
        200
    );
    assert_eq!(me(&app).await["email"], m.email.as_str());

    // and the next step's code, once used, does not work in another browser either
    let thief = app.new_browser();
    assert_eq!(thief.log_in(&m.email, &m.password).await.status(), 200);
    let (status, _) = error_of(thief.call_fn("login_two_factor", &[("code", &next)]).await).await;
    assert_eq!(status, 403);

    // a recovery code works once, with or without its dash and case
    let laptop = app.new_browser();
    laptop.log_in(&m.email, &m.password).await;
    let typed = codes[0].replace('-', "").to_uppercase();
    assert_eq!(
        laptop
            .call_fn("login_two_factor", &[("code", &typed)])
            .await
            .status(),
        200
    );
    let again = app.new_browser();
    again.log_in(&m.email, &m.password).await;
    let (status, _) = error_of(
        again
            .call_fn("login_two_factor", &[("code", &codes[0])])
            .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(account(&app).await["two_factor"]["recovery_codes_left"], 9);

    // the code must come within five minutes of the password
    let slow = app.new_browser();
    slow.log_in(&m.email, &m.password).await;
    app.clock.advance(301);
    let (status, body) = error_of(
        slow.call_fn("login_two_factor", &[("code", &codes[1])])
            .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");

    // turning it off takes the password and a code
    let (status, _) = error_of(
        app.call_fn(
            "disable_two_factor",
            &[("current_password", &m.password), ("code", "123456")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        app.call_fn(
            "disable_two_factor",
            &[("current_password", &m.password), ("code", &codes[2])],
        )
        .await
        .status(),
        200
    );
    app.log_out().await;
    let res = app.log_in(&m.email, &m.password).await;
    assert_eq!(res.json::<String>().await.expect("json"), "/dashboard");

    let log = actions(&account(&app).await);
    for action in [
        "account.two_factor_enabled",
        "account.second_factor_failed",
        "account.two_factor_disabled",
    ] {
        assert!(log.contains(&action.to_string()), "{action}: {log:?}");
    }
}

#[tokio::test]
async fn second_factor_guesses_count_against_the_login_limit() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    let key = turn_on_two_factor(&app, &m).await;
    let now = app.clock.now();
    app.log_out().await;

    // 50 concurrent guesses after the password: the password and at most nine guesses are
    // checked (ten per account from one IP), the rest are refused unchecked
    let guesser = app.new_browser();
    guesser.log_in(&m.email, &m.password).await;
    let token = guesser.csrf_token().await;
    let guesses = (0..50).map(|i| {
        let client = guesser.client.clone();
        let url = guesser.url("/fn/login_two_factor");
        let origin = guesser.address.clone();
        let token = token.clone();
        async move {
            client
                .post(url)
                .header(reqwest::header::ACCEPT, "application/json")
                .header(reqwest::header::ORIGIN, origin)
                .form(&[("code", format!("{:06}", i)), ("csrf_token", token)])
                .send()
                .await
                .expect("guess")
                .status()
                .as_u16()
        }
    });
    let statuses = join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == 403).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(checked <= 9, "{checked} guesses checked: {statuses:?}");
    assert_eq!(checked + refused, 50, "{statuses:?}");
    // now even the right code waits
    let (status, _) = error_of(
        guesser
            .call_fn("login_two_factor", &[("code", &totp_code(&key, now + 30))])
            .await,
    )
    .await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn secrets_and_the_stripe_connection_need_a_login_from_the_last_five_minutes() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    assert_eq!(app.call_fn("enable_sso", &[]).await.status(), 200);
    assert_eq!(app.call_fn("reveal_sso_secrets", &[]).await.status(), 200);

    app.clock.advance(301);
    for (function, fields) in [
        ("reveal_sso_secrets", vec![]),
        ("rotate_sso_secret", vec![("overlap_hours", "0")]),
        ("regenerate_secret", vec![("client_id", "cli_unknown")]),
        ("revoke_connection", vec![("confirm", "acct_unknown")]),
    ] {
        let (status, body) = error_of(app.call_fn(function, &fields).await).await;
        assert_eq!(status, 403, "{function}: {body}");
        assert!(
            body["message"]
                .as_str()
                .expect("message")
                .contains("confirm your password first"),
            "{function}: {body}"
        );
    }
    let (status, _) = error_of(
        app.call_fn("confirm_identity", &[("password", "not it")])
            .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        app.call_fn("confirm_identity", &[("password", &m.password)])
            .await
            .status(),
        200
    );
    assert_eq!(app.call_fn("reveal_sso_secrets", &[]).await.status(), 200);
    assert_eq!(
        app.call_fn("rotate_sso_secret", &[("overlap_hours", "0")])
            .await
            .status(),
        200
    );

    let log = actions(&account(&app).await);
    for action in [
        "sso.enabled",
        "sso.secret_revealed",
        "sso.secret_rotated",
        "account.reauthenticated",
    ] {
        assert!(log.contains(&action.to_string()), "{action}: {log:?}");
    }
}

/// The audit line of a client, an SSO or a Stripe change is written in the action's own
/// transaction: when the line cannot be written (here its id is taken), the action does not
/// happen either; when it can, both are there.
#[tokio::test]
async fn an_action_and_its_audit_line_land_together_or_not_at_all() {
    use subgate::db::account::{Audit, AuditEntry};
    use subgate::oauth::clients::ClientInput;
    let app = spawn_app().await;
    app.signed_up().await;
    let merchant = app.merchant_id().await;
    let now = app.clock.now();
    let line = |action: &'static str, id: &str| Audit {
        id: id.to_string(),
        entry: AuditEntry {
            merchant_id: merchant.clone(),
            action,
            actor: Some("test".into()),
            at: now,
            ..Default::default()
        },
    };
    app.db
        .audit("aud_taken", &line("account.signed_in", "aud_taken").entry)
        .await
        .expect("a line with this id");
    let api = app.state.config.api_audiences();
    let input = || {
        ClientInput::parse("Backend", "confidential", &[], "customers:read", &[], &api)
            .expect("valid client")
    };

    // the line cannot be written: no client, SSO stays off
    let clients = &app.state.clients;
    assert!(clients
        .create(
            &merchant,
            input(),
            now,
            Some(line("client.created", "aud_taken"))
        )
        .await
        .is_err());
    assert!(clients.list(&merchant).await.expect("list").is_empty());
    assert!(app
        .state
        .sso
        .enable(
            &merchant,
            "Acme",
            now,
            Some(line("sso.enabled", "aud_taken"))
        )
        .await
        .is_err());
    let settings = app.state.sso.settings(&merchant).await.expect("settings");
    assert!(
        !settings.is_some_and(|s| s.enabled),
        "SSO turned on without its line"
    );

    // it can: both are there, the line naming the new client
    let (client, _) = clients
        .create(
            &merchant,
            input(),
            now,
            Some(line("client.created", "aud_fresh")),
        )
        .await
        .expect("created");
    app.state
        .sso
        .enable(&merchant, "Acme", now, Some(line("sso.enabled", "aud_sso")))
        .await
        .expect("enabled");
    let lines = app
        .state
        .accounts
        .audit_log(&merchant, "", i64::MAX, 100)
        .await
        .expect("log");
    let created = lines
        .iter()
        .find(|l| l.id == "aud_fresh")
        .expect("the client's line");
    assert_eq!(created.target.as_deref(), Some(client.id.as_str()));
    assert!(lines
        .iter()
        .any(|l| l.id == "aud_sso" && l.action == "sso.enabled"));
}

/// A request of a session that another session ends meanwhile still saves its session at its end
/// (tower-sessions saves what changed): that late save must not bring the ended session back.
#[tokio::test]
async fn a_session_ended_elsewhere_is_not_brought_back_by_its_own_late_save() {
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::SessionStore;
    let app = spawn_app().await;
    app.signed_up().await;
    let merchant = app.merchant_id().await;
    let store = subgate::db::sessions::DbSessionStore::new(app.db.clone());
    let mut phone = Record {
        id: Id::default(),
        data: serde_json::from_value(serde_json::json!({
            "merchant_id": merchant,
            "session_meta": {
                "handle": "phone-handle",
                "ip": "192.0.2.7",
                "user_agent": "PhoneBrowser/1.0",
                "created_at": app.clock.now(),
            },
        }))
        .expect("session data"),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    store.create(&mut phone).await.expect("create");
    let listed = account(&app).await["sessions"].clone();
    assert!(
        listed
            .as_array()
            .expect("sessions")
            .iter()
            .any(|s| s["handle"] == "phone-handle"),
        "{listed}"
    );

    let res = app
        .call_fn("end_sessions", &[("handle", "phone-handle")])
        .await;
    assert_eq!(res.status(), 200);
    // the phone's request, still running, saves its (changed) session afterwards
    phone
        .data
        .insert("csrf_token".into(), serde_json::json!("rotated"));
    store.save(&phone).await.expect("late save");
    assert!(store.load(&phone.id).await.expect("load").is_none());
    let listed = account(&app).await["sessions"].clone();
    assert!(
        !listed
            .as_array()
            .expect("sessions")
            .iter()
            .any(|s| s["handle"] == "phone-handle"),
        "ended and back: {listed}"
    );
}
