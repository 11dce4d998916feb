//! The OpenAPI document: its shape, that it describes every route the code serves, and that every
//! operation it describes answers with a status it documents.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{browser, spawn_app};

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "options"];
/// Paths under these prefixes are the API surface the document must cover.
const DOCUMENTED_PREFIXES: [&str; 7] = [
    "/api/",
    "/o/",
    "/oauth/",
    "/admin/api/",
    "/.well-known/",
    "/subscription/",
    "/portal/sso/",
];
/// The JSON 404 of an API path no route serves.
const NO_SUCH_ENDPOINT: &str = "No such API endpoint.";

async fn document(app: &crate::support::TestApp) -> Value {
    let res = browser()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("GET openapi.json");
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("header")
        .starts_with("application/json"));
    res.json().await.expect("the document is JSON")
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_this_servers_urls_and_security_schemes() {
    let app = spawn_app().await;
    let doc = document(&app).await;

    assert!(
        doc["openapi"].as_str().expect("present").starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["servers"][0]["url"], app.address);
    let schemes = &doc["components"]["securitySchemes"];
    let flows = &schemes["oauth2"]["flows"];
    assert_eq!(
        flows["authorizationCode"]["authorizationUrl"],
        format!("{}/o/authorize/", app.address)
    );
    assert_eq!(
        flows["authorizationCode"]["tokenUrl"],
        format!("{}/o/token/", app.address)
    );
    assert_eq!(
        flows["clientCredentials"]["tokenUrl"],
        format!("{}/o/token/", app.address)
    );
    for scope in [
        "customers:read",
        "customers:write",
        "subscriptions:read",
        "portal:write",
    ] {
        assert!(
            flows["clientCredentials"]["scopes"][scope].is_string(),
            "{scope}"
        );
    }
    assert_eq!(schemes["session"]["type"], "apiKey");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["client_secret_basic"]["scheme"], "basic");

    // request bodies carry examples, error bodies are described, scopes are required per call
    let push = &doc["paths"]["/api/customers"]["post"];
    let body_schema = &push["requestBody"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(body_schema, "#/components/schemas/PushCustomer");
    let push_schema = &doc["components"]["schemas"]["PushCustomer"];
    assert_eq!(
        push_schema["properties"]["customer_id"]["example"],
        "cus_NffrFeUfNV2Hib"
    );
    assert_eq!(
        push_schema["properties"]["customer_id"]["pattern"],
        "^cus_[A-Za-z0-9]+$"
    );
    for status in [
        "201", "200", "401", "403", "404", "409", "415", "422", "502", "504",
    ] {
        assert!(
            push["responses"][status].is_object(),
            "POST /api/customers documents {status}"
        );
    }
    assert_eq!(
        push["responses"]["422"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    assert!(push["security"]
        .as_array()
        .expect("present")
        .iter()
        .any(|s| s["oauth2"] == serde_json::json!(["customers:write"])));
    let sso = &doc["paths"]["/api/v1/stores/{store}/subscribers/{subscriber_id}/login"]["post"];
    assert_eq!(
        sso["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/SsoErrorBody"
    );
    let token = &doc["paths"]["/o/token/"]["post"]["requestBody"]["content"];
    assert!(token["application/x-www-form-urlencoded"].is_object());

    // every bearer-protected operation documents the 401 it answers without a token
    for (path, item) in doc["paths"].as_object().expect("present") {
        for (method, op) in item.as_object().expect("present") {
            let protected = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("oauth2").is_some()));
            if protected {
                assert!(
                    op["responses"]["401"].is_object(),
                    "{method} {path} lacks 401"
                );
            }
        }
    }
}

/// Every `.rs` file under `dir`, at any depth, with its text.
fn sources_under(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).expect("a folder of src/http") {
        let path = entry.expect("present").path();
        if path.is_dir() {
            sources_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("present");
            out.push((path, text));
        }
    }
}

/// The plain `.route("/path", get(a).post(b))` and `.route(CONST, …)` calls in `src/http` and
/// its folders, as (path, method) pairs: the routes registered without an OpenAPI operation.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut sources = Vec::new();
    sources_under(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http"),
        &mut sources,
    );
    assert!(
        sources.len() > 20,
        "the scan reads every file of src/http: {}",
        sources.len()
    );
    let all: String = sources.iter().map(|(_, text)| text.as_str()).collect();
    let mut routes = BTreeSet::new();
    for (path, source) in &sources {
        let mut rest = source.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            // the call's text, up to its matching parenthesis
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| i)
                .expect("balanced .route( call");
            let call = &rest[..end];
            let (first, handlers) = call.split_once(',').expect("route(path, handler)");
            let first = first.trim();
            let route_path = if let Some(literal) = first.strip_prefix('"') {
                literal.trim_end_matches('"').to_string()
            } else {
                // a constant of src/http: `pub const NAME: &str = "…";`
                let marker = format!("const {first}: &str = \"");
                let from = all
                    .find(&marker)
                    .unwrap_or_else(|| panic!("{}: constant {first} not found", path.display()))
                    + marker.len();
                all[from..all[from..].find('"').expect("present") + from].to_string()
            };
            for method in METHODS.iter().chain(&["any"]) {
                let called = handlers.contains(&format!(" {method}("))
                    || handlers.contains(&format!("\n{method}("))
                    || handlers.trim_start().starts_with(&format!("{method}("))
                    || handlers.contains(&format!(".{method}("));
                if called {
                    routes.insert((route_path.clone(), method.to_string()));
                }
            }
        }
    }
    routes
}

/// Every `$ref` in `value`, as JSON pointers into the document (`#/components/…`).
fn refs_in<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r);
            }
            map.values().for_each(|v| refs_in(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs_in(v, out)),
        _ => {}
    }
}

/// A reference to a schema the document does not define breaks every renderer: ReDoc shows
/// "Something went wrong" instead of the page.
#[tokio::test]
async fn every_reference_in_the_document_resolves() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut refs = Vec::new();
    refs_in(&doc, &mut refs);
    assert!(refs.len() > 10, "the document uses references: {refs:?}");
    let dangling: BTreeSet<&str> = refs
        .into_iter()
        .filter(|r| {
            r.strip_prefix('#')
                .and_then(|pointer| doc.pointer(pointer))
                .is_none()
        })
        .collect();
    assert!(dangling.is_empty(), "undefined: {dangling:?}");
}

/// The routes `src/http` registers without an OpenAPI operation, each left out on purpose:
/// load balancers' probes, Stripe's signed webhook, Stripe's redirect back from Connect, and the
/// JSON 404 of unknown API paths. Every other route is registered by `routes!` together with
/// its operation, so the document cannot miss it; a new plain `.route(…)` fails here until it
/// is registered that way or named here.
const UNDOCUMENTED: [(&str, &str); 7] = [
    ("/healthz", "get"),
    // the account's browser routes: a CSV download and the development outbox
    ("/dashboard/account/audit.csv", "get"),
    ("/dev/outbox", "get"),
    ("/readyz", "get"),
    ("/webhooks/stripe", "post"),
    ("/connect/stripe/callback", "get"),
    ("/api/{*rest}", "any"),
];

#[tokio::test]
async fn every_route_is_registered_with_its_operation_or_left_out_by_name() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    // the served document's paths are the registered routes' own
    let registered = serde_json::to_value(subgate::http::documented_routes().into_openapi())
        .expect("the routes' document");
    assert_eq!(doc["paths"], registered["paths"]);
    for prefix in DOCUMENTED_PREFIXES {
        assert!(
            doc["paths"]
                .as_object()
                .expect("paths")
                .keys()
                .any(|p| p.starts_with(prefix)),
            "the document covers {prefix}"
        );
    }
    assert!(
        doc["paths"]["/api/customers"]["post"].is_object()
            && doc["paths"]["/api/v1/stores/{store}/subscribers/{subscriber_id}/login"]["options"]
                .is_object(),
        "{}",
        doc["paths"]
    );
    // and nothing else is routed around them
    let plain = routes_in_source();
    let expected: BTreeSet<(String, String)> = UNDOCUMENTED
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    assert_eq!(plain, expected, "routes registered without their operation");
}

#[tokio::test]
async fn every_documented_operation_answers_with_a_status_it_documents() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("present");
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("present") {
        for (method, op) in item.as_object().expect("present") {
            // placeholders become plausible ids; no credentials: the unauthenticated answer
            let concrete = path
                .replace("{subscriber_id}", "user-1")
                .replace("{subscription_id}", "sub_1")
                .replace("{client_id}", "sg_1")
                .replace("{store}", "no-such-store")
                .replace("{token}", "AAAAAAAAAAAAAAAAAAAAAA");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("present");
            let res = client
                .request(m, app.url(&concrete))
                .send()
                .await
                .expect("request");
            let status = res.status().as_u16().to_string();
            let body = res.text().await.unwrap_or_default();
            assert!(
                !body.contains(NO_SUCH_ENDPOINT) && status != "405",
                "{method} {concrete}: no route serves it ({status})"
            );
            assert!(
                op["responses"][&status].is_object(),
                "{method} {concrete} answered {status}, which the document does not list: {body}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} operations");
}

#[tokio::test]
async fn redoc_is_served_from_this_host_under_a_strict_policy() {
    let app = spawn_app().await;
    let res = browser()
        .get(app.url("/api/docs"))
        .send()
        .await
        .expect("GET /api/docs");
    assert_eq!(res.status().as_u16(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("header")
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("http"), "no other origin is allowed: {csp}");
    let html = res.text().await.expect("present");
    assert!(
        html.contains("<redoc spec-url=\"/api/openapi.json\""),
        "{html}"
    );
    assert!(
        html.contains("<script src=\"/vendor/redoc.standalone.js\"></script>"),
        "{html}"
    );
    assert!(
        !html.contains("://"),
        "nothing is loaded from another host: {html}"
    );
}
