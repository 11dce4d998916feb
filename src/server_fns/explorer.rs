//! The API tab: the catalog of operations (from the server's own OpenAPI document, so the tab
//! never drifts from the API) and fresh tokens for "Copy as curl".

use leptos::prelude::*;

use crate::dto::explorer::ApiCatalog;
use crate::error::AppError;

/// The operations a merchant can browse: everything under `/api` and the Riverty-compatible
/// path, except the documentation itself and CORS preflights.
#[cfg(feature = "ssr")]
fn browsable(path: &str, method: &str) -> bool {
    (path.starts_with("/api/") || path.starts_with("/subscription/"))
        && path != crate::http::docs::PATH
        && method != "options"
}

/// `schema` with every `#/components/schemas/…` reference replaced by its target.
#[cfg(feature = "ssr")]
fn resolve(
    schema: &serde_json::Value,
    components: &serde_json::Value,
    depth: usize,
) -> serde_json::Value {
    use serde_json::Value;
    if depth > 16 {
        return Value::Null;
    }
    match schema {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                return resolve(&components[name], components, depth + 1);
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), resolve(v, components, depth + 1)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve(v, components, depth + 1))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(feature = "ssr")]
fn operations(doc: &serde_json::Value) -> Vec<crate::dto::explorer::ApiOperation> {
    use crate::dto::explorer::{ApiOperation, ApiParam};
    let components = &doc["components"]["schemas"];
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if !browsable(path, method) {
                continue;
            }
            let params = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| ApiParam {
                    name: text(&p["name"]),
                    location: text(&p["in"]),
                    required: p["required"].as_bool().unwrap_or(false),
                    description: text(&p["description"]),
                    example: match &p["example"] {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(s) => Some(s.clone()),
                        other => Some(other.to_string()),
                    },
                })
                .collect();
            let body = &op["requestBody"]["content"]["application/json"]["schema"];
            let body_schema = (!body.is_null()).then(|| resolve(body, components, 0));
            let body_example = body_schema
                .as_ref()
                .map(|s| serde_json::to_string_pretty(&example_of(s)).unwrap_or_default());
            out.push(ApiOperation {
                method: method.to_uppercase(),
                path: path.clone(),
                tag: op["tags"][0].as_str().unwrap_or("other").to_string(),
                summary: text(&op["summary"]),
                description: text(&op["description"]),
                params,
                body_example,
                body_schema,
                statuses: op["responses"]
                    .as_object()
                    .map(|r| r.keys().cloned().collect())
                    .unwrap_or_default(),
            });
        }
    }
    out
}

/// An example body: the schema's own example, or one built from its properties' examples.
#[cfg(feature = "ssr")]
fn example_of(schema: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    if !schema["example"].is_null() {
        return schema["example"].clone();
    }
    match schema["properties"].as_object() {
        Some(props) => Value::Object(
            props
                .iter()
                .filter(|(_, p)| !p["example"].is_null())
                .map(|(k, p)| (k.clone(), p["example"].clone()))
                .collect(),
        ),
        None => Value::Object(Default::default()),
    }
}

#[server(prefix = "/fn", endpoint = "api_catalog", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_api_catalog() -> Result<ApiCatalog, AppError> {
    use crate::dto::explorer::ClientChoice;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let origin = ctx.state.config.public_origin();
    let doc = serde_json::to_value(crate::http::docs::openapi::document(&origin))
        .map_err(|_| AppError::Internal)?;
    let playground = format!("{origin}/dashboard/oauth/playground");
    let clients = crate::oauth::clients::list(&ctx.state.db, &merchant).await?;
    let choice = |c: &crate::oauth::clients::Client| ClientChoice {
        id: c.id.clone(),
        name: c.name.clone(),
    };
    Ok(ApiCatalog {
        operations: operations(&doc),
        confidential_clients: clients
            .iter()
            .filter(|c| c.is_confidential())
            .map(choice)
            .collect(),
        public_clients: clients
            .iter()
            .filter(|c| !c.is_confidential() && c.redirect_uris.contains(&playground))
            .map(choice)
            .collect(),
        authorize_url: format!("{origin}/o/authorize/"),
        token_url: format!("{origin}/o/token/"),
        playground_redirect_uri: playground,
        origin,
    })
}

/// A fresh access token (client credentials, this server's API audience) from one of the
/// merchant's own confidential clients, for "Copy as curl". The client's secret is never
/// needed nor shown: the merchant is already authenticated by their session.
#[server(prefix = "/fn", endpoint = "explorer_token")]
pub async fn explorer_token(csrf_token: String, client_id: String) -> Result<String, AppError> {
    let _ = csrf_token;
    let ctx = super::ssr::ctx().await?;
    let merchant = ctx.merchant_id().await?;
    let client = crate::oauth::clients::get(&ctx.state.db, &merchant, &client_id).await?;
    if !client.is_confidential() {
        return Err(AppError::validation(
            "Pick a confidential client: public clients get tokens through PKCE.",
        ));
    }
    // the client's default audience: every one it may have is one the API answers to
    let tokens = crate::oauth::grants::client_credentials::exchange(
        &ctx.state.tokens,
        &client,
        None,
        None,
        ctx.now(),
    )
    .await
    .map_err(|e| AppError::validation(e.description()))?;
    Ok(tokens.access_token)
}
