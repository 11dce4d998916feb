//! The API tab: its catalog is read from the server's own OpenAPI document, and "Copy as curl"
//! gets a fresh token from one of the merchant's own confidential clients.

use reqwest::header::ACCEPT;
use reqwest::Method;
use serde_json::Value;

use crate::support::{error_of, spawn_app, TestApp};

async fn catalog(app: &TestApp) -> (u16, Value) {
    let res = app
        .client
        .get(app.url("/fn/api_catalog"))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .expect("catalog");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Registers a client on the OAuth tab; its id.
async fn register(app: &TestApp, name: &str, client_type: &str, redirect_uri: &str) -> String {
    let res = app
        .call_fn(
            "create_client",
            &[
                ("name", name),
                ("client_type", client_type),
                ("redirect_uris", redirect_uri),
                ("scopes", "customers:read"),
                ("audiences", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let issued: Value = res.json().await.expect("json");
    issued["client"]["id"].as_str().expect("id").to_string()
}

fn names(choices: &Value) -> Vec<&str> {
    choices
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect()
}

#[tokio::test]
async fn the_api_tab_lists_the_documented_operations_and_only_the_merchants_usable_clients() {
    let app = spawn_app().await;
    app.signed_up().await;
    let playground = format!("{}/dashboard/oauth/playground", app.address);
    register(&app, "Backend", "confidential", "").await;
    register(&app, "Playground", "public", &playground).await;
    register(&app, "Mobile", "public", "https://app.example.com/cb").await;

    let (status, c) = catalog(&app).await;
    assert_eq!(status, 200, "{c}");
    let ops = c["operations"].as_array().expect("operations");
    let push = ops
        .iter()
        .find(|o| o["method"] == "POST" && o["path"] == "/api/customers")
        .expect("pushing a customer is browsable");
    let example: Value =
        serde_json::from_str(push["body_example"].as_str().expect("a body example")).expect("json");
    assert_eq!(example["customer_id"], "cus_NffrFeUfNV2Hib", "{example}");
    assert!(
        ops.iter().any(|o| o["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/subscription/"))),
        "Riverty's path is browsable"
    );
    for o in ops {
        let path = o["path"].as_str().expect("path");
        assert!(
            (path.starts_with("/api/") || path.starts_with("/subscription/"))
                && path != "/api/docs"
                && o["method"] != "OPTIONS",
            "not an API operation: {} {path}",
            o["method"]
        );
    }
    // "Copy as curl" offers the confidential client, "Try it" the public one the playground can
    // redirect to; the other public client can do neither
    assert_eq!(names(&c["confidential_clients"]), ["Backend"]);
    assert_eq!(names(&c["public_clients"]), ["Playground"]);
    assert_eq!(c["origin"], app.address.as_str());
    assert_eq!(c["authorize_url"], format!("{}/o/authorize/", app.address));
    assert_eq!(c["token_url"], format!("{}/o/token/", app.address));
    assert_eq!(c["playground_redirect_uri"], playground);

    // another merchant sees none of them; no one logged in sees nothing
    app.log_out().await;
    app.signed_up().await;
    let (_, other) = catalog(&app).await;
    assert_eq!(names(&other["confidential_clients"]), Vec::<&str>::new());
    assert_eq!(names(&other["public_clients"]), Vec::<&str>::new());
    app.log_out().await;
    assert_eq!(catalog(&app).await.0, 401);
}

#[tokio::test]
async fn copy_as_curl_gets_a_working_token_from_the_merchants_own_confidential_client_only() {
    let app = spawn_app().await;
    app.signed_up().await;
    let backend = register(&app, "Backend", "confidential", "").await;
    let mobile = register(&app, "Mobile", "public", "https://app.example.com/cb").await;

    let res = app
        .call_fn("explorer_token", &[("client_id", &backend)])
        .await;
    assert_eq!(res.status(), 200);
    let token: String = res.json().await.expect("a token");
    let me = app.api(Method::GET, "/api/me", &token, None).await;
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.expect("json");
    assert_eq!(me["client"]["id"], backend.as_str(), "{me}");
    assert_eq!(me["scope"], "customers:read");
    assert_eq!(me["via"], "bearer");

    // a public client gets tokens only through PKCE
    let (status, body) = error_of(
        app.call_fn("explorer_token", &[("client_id", &mobile)])
            .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");

    // another merchant cannot use the first one's client
    app.log_out().await;
    app.signed_up().await;
    let (status, body) = error_of(
        app.call_fn("explorer_token", &[("client_id", &backend)])
            .await,
    )
    .await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn the_api_tab_renders_markdown_instead_of_showing_backticks() {
    let app = spawn_app().await;
    app.signed_up().await;
    let html = app
        .page_html("/dashboard/api?op=POST%20/api/customers")
        .await;
    // the operation's summary (its doc comment's first paragraph) holds the backticks here
    let start = html
        .find("id=\"op-summary\"")
        .expect("the summary, server-rendered");
    let summary = &html[start..start + html[start..].find("</h2>").expect("its end")];
    assert!(summary.contains(">POST /api/customers</code>"), "{summary}");
    assert!(!summary.contains('`'), "no literal backticks: {summary}");
}
