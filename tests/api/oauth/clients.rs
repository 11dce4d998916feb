//! OAuth clients: the OAuth tab and the command line.

use serde_json::Value;

use crate::support::oauth::{client_credentials, jwt_header, me, setup, token};
use crate::support::{spawn_app, Merchant};

#[tokio::test]
async fn the_oauth_tab_manages_only_the_merchants_own_clients() {
    let app = spawn_app().await;
    app.sign_up(&Merchant::generate()).await;
    let fields = [
        ("name", "Backend"),
        ("client_type", "confidential"),
        ("redirect_uris", ""),
        ("scopes", "customers:read"),
        ("audiences", ""),
    ];
    let res = app.call_fn("create_client", &fields).await;
    assert_eq!(res.status(), 200);
    let issued: Value = res.json().await.expect("json");
    let id = issued["client"]["id"].as_str().expect("id").to_string();
    let secret = issued["secret"]
        .as_str()
        .expect("secret shown once")
        .to_string();
    assert_eq!(
        issued["client"]["audiences"],
        serde_json::json!([format!("{}/api", app.address)])
    );
    let listed: Value = app
        .client
        .get(app.url("/fn/list_clients"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listed.as_array().expect("list").len(), 1);
    assert!(
        !listed.to_string().contains(&secret),
        "the list never carries a secret"
    );

    // invalid input is explained and writes nothing
    let res = app
        .call_fn(
            "create_client",
            &[
                ("name", ""),
                ("client_type", "public"),
                ("redirect_uris", ""),
                ("scopes", ""),
                ("audiences", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .call_fn(
            "create_client",
            &[
                ("name", "x"),
                ("client_type", "public"),
                ("redirect_uris", "https://a.test/cb"),
                ("scopes", "admin"),
                ("audiences", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);

    // another merchant sees nothing and can touch nothing
    app.log_out().await;
    app.sign_up(&Merchant::generate()).await;
    let listed: Value = app
        .client
        .get(app.url("/fn/list_clients"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listed, serde_json::json!([]));
    let res = app
        .client
        .get(app.url(&format!("/fn/get_client?client_id={id}")))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 404);
    let res = app.call_fn("delete_client", &[("client_id", &id)]).await;
    assert_eq!(res.status(), 404);
    let res = app
        .call_fn("regenerate_secret", &[("client_id", &id)])
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .call_fn(
            "update_client",
            &[
                ("client_id", &id),
                ("name", "Mine now"),
                ("client_type", "confidential"),
                ("redirect_uris", ""),
                ("scopes", ""),
                ("audiences", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 404);

    // the owner's secret still works: nothing was changed
    let (status, _, _) = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn create_client_on_the_command_line_prints_its_credentials() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_subgate"))
        .args([
            "create-client",
            "--merchant",
            &m.email,
            "--name",
            "Ops",
            "--type",
            "confidential",
            "--scope",
            "customers:read",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("SUBGATE_DATA_DIR", &app.data_dir)
        .env("SUBGATE_SECRET_KEY", "test-secret-key-test-secret-key-0123")
        .env("SUBGATE_PUBLIC_URL", &app.address)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).expect("json");
    let (id, secret) = (
        printed["client_id"].as_str().expect("id"),
        printed["client_secret"].as_str().expect("secret"),
    );
    let (status, body, _) = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "customers:read");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_subgate"))
        .args([
            "create-client",
            "--merchant",
            &m.email,
            "--name",
            "Web",
            "--type",
            "public",
            "--redirect-uri",
            "http://evil.example/cb",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("SUBGATE_DATA_DIR", &app.data_dir)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("http is allowed only for localhost"));
}

#[tokio::test]
async fn rotate_signing_key_on_the_command_line_switches_the_signing_key() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (_, before, _) = client_credentials(&app, &s, &[]).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_subgate"))
        .arg("rotate-signing-key")
        .env("DATABASE_URL", &app.database_url)
        .env("SUBGATE_SECRET_KEY", "test-secret-key-test-secret-key-0123")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kid = serde_json::from_slice::<Value>(&out.stdout).expect("json")["kid"]
        .as_str()
        .expect("kid")
        .to_string();
    // a running server keeps its unsealed signing key for 5 s, then asks which key is current
    app.clock.advance(5);
    let (_, after, _) = client_credentials(&app, &s, &[]).await;
    let header = jwt_header;
    assert_eq!(header(&after)["kid"], kid.as_str());
    assert_ne!(header(&before)["kid"], kid.as_str());
    assert_eq!(
        me(&app, before["access_token"].as_str().expect("jwt"))
            .await
            .status(),
        200,
        "old tokens still verify"
    );
}

/// Client credentials with this secret: the status the token endpoint answers.
async fn with_secret(app: &crate::support::TestApp, client_id: &str, secret: &str) -> u16 {
    let (status, _, _) = token(
        app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ],
    )
    .await;
    status
}

async fn regenerate(app: &crate::support::TestApp, client_id: &str, hours: &str) -> String {
    let res = app
        .call_fn(
            "regenerate_secret",
            &[("client_id", client_id), ("overlap_hours", hours)],
        )
        .await;
    assert_eq!(res.status(), 200, "overlap {hours}");
    res.json().await.expect("the new secret")
}

async fn client_view(app: &crate::support::TestApp, client_id: &str) -> Value {
    app.client
        .get(app.url("/fn/get_client"))
        .query(&[("client_id", client_id)])
        .send()
        .await
        .expect("get_client")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn a_regenerated_secret_can_overlap_the_old_one_for_a_chosen_time() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let id = s.confidential_id.as_str();

    // 24 hours of overlap: both work, and the tab says until when
    let second = regenerate(&app, id, "24").await;
    assert_eq!(
        with_secret(&app, id, &s.secret).await,
        200,
        "the old one, still"
    );
    assert_eq!(with_secret(&app, id, &second).await, 200);
    let until = client_view(&app, id).await["previous_secret_until"]
        .as_i64()
        .expect("until");
    assert!((until - app.clock.now() - 24 * 3600).abs() <= 2, "{until}");

    // an hour of overlap: an hour later the old one stops, the new one goes on
    let third = regenerate(&app, id, "1").await;
    assert_eq!(
        with_secret(&app, id, &s.secret).await,
        401,
        "two rotations back"
    );
    assert_eq!(with_secret(&app, id, &second).await, 200);
    app.clock.advance(3600);
    // an hour later, revealing and regenerating secrets asks for the password again
    app.confirm_identity().await;
    assert_eq!(with_secret(&app, id, &second).await, 401);
    assert_eq!(with_secret(&app, id, &third).await, 200);
    assert_eq!(
        client_view(&app, id).await["previous_secret_until"],
        Value::Null
    );
    // and the sweep forgets its hash
    let report = app
        .state
        .db
        .sweep(app.clock.now(), 100, 10)
        .await
        .expect("sweep");
    assert!(
        report.contains(&("oauth_client_previous_secrets", 1)),
        "{report:?}"
    );

    let fourth = regenerate(&app, id, "1").await;
    assert_eq!(with_secret(&app, id, &third).await, 200);

    // the merchant may end the overlap early
    let res = app
        .call_fn("end_secret_overlap", &[("client_id", id)])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(with_secret(&app, id, &third).await, 401);
    assert_eq!(with_secret(&app, id, &fourth).await, 200);

    // no overlap (the form's default, and a script that sends nothing): the old one stops now
    let fifth = regenerate(&app, id, "0").await;
    assert_eq!(with_secret(&app, id, &fourth).await, 401);
    let res = app.call_fn("regenerate_secret", &[("client_id", id)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(with_secret(&app, id, &fifth).await, 401);
}

#[tokio::test]
async fn a_secret_overlap_is_bounded_and_only_the_owner_sets_it() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let id = s.confidential_id.as_str();
    for bad in ["169", "-1", "1.5", "a day", "99999999999999999999"] {
        let res = app
            .call_fn(
                "regenerate_secret",
                &[("client_id", id), ("overlap_hours", bad)],
            )
            .await;
        assert_eq!(res.status(), 422, "{bad}");
        let body: Value = res.json().await.expect("json");
        assert!(
            body["message"]
                .as_str()
                .expect("string")
                .contains("0 to 168 hours"),
            "{body}"
        );
    }
    assert_eq!(
        with_secret(&app, id, &s.secret).await,
        200,
        "nothing changed"
    );

    // another merchant can neither rotate nor end an overlap of this client
    regenerate(&app, id, "24").await;
    let other = app.new_browser();
    other.sign_up(&Merchant::generate()).await;
    for (name, fields) in [
        (
            "regenerate_secret",
            vec![("client_id", id), ("overlap_hours", "0")],
        ),
        ("end_secret_overlap", vec![("client_id", id)]),
    ] {
        let res = other.call_fn(name, &fields).await;
        assert_eq!(res.status(), 404, "{name}");
    }
    assert_eq!(
        with_secret(&app, id, &s.secret).await,
        200,
        "the overlap holds"
    );
}
