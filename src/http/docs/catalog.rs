//! The API tab's catalog: the operations a merchant can browse, read from this server's own
//! OpenAPI document (so the tab never drifts from the API), and which of the merchant's clients
//! can call them from the tab.

use crate::dto::explorer::{ApiCatalog, ClientChoice};
use crate::oauth::clients::Client;

/// The catalog for a merchant with `clients`.
pub fn catalog(config: &crate::config::Config, clients: &[Client]) -> ApiCatalog {
    let origin = config.public_origin();
    // the document served at /api/openapi.json, which its own tests check serializes
    let doc = serde_json::to_value(super::openapi::document(&origin)).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI document does not serialize");
        serde_json::Value::Null
    });
    let urls = crate::http::oauth::endpoints(config);
    let choice = |c: &Client| ClientChoice {
        id: c.id.clone(),
        name: c.name.clone(),
    };
    let playground = &urls.playground_redirect_uri;
    ApiCatalog {
        operations: operations(&doc),
        confidential_clients: clients
            .iter()
            .filter(|c| c.is_confidential())
            .map(choice)
            .collect(),
        public_clients: clients
            .iter()
            .filter(|c| !c.is_confidential() && c.redirect_uris.contains(playground))
            .map(choice)
            .collect(),
        authorize_url: urls.authorize_url,
        token_url: urls.token_url,
        playground_redirect_uri: urls.playground_redirect_uri,
        origin,
    }
}

/// The operations a merchant can browse: everything under `/api` and the Riverty-compatible
/// path, except the documentation itself and CORS preflights.
fn browsable(path: &str, method: &str) -> bool {
    (path.starts_with("/api/") || path.starts_with("/subscription/"))
        && path != super::PATH
        && method != "options"
}

/// `schema` with every `#/components/schemas/…` reference replaced by its target.
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
