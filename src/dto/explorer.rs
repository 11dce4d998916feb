//! The API tab (browsable API): the catalog of operations the server derives from its own
//! OpenAPI document, and the checks the browser runs before it sends anything: a body is
//! validated against the operation's schema, path parameters are matched and encoded.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::url::{path_segment, percent_decode, query_component};

/// What the API tab needs: the operations, and the merchant's clients for tokens and PKCE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiCatalog {
    pub origin: String,
    pub operations: Vec<ApiOperation>,
    /// Confidential clients: "Copy as curl" can fill in a fresh token from one of them.
    pub confidential_clients: Vec<ClientChoice>,
    /// Public clients with the playground's redirect URI: "Try it with my client" runs
    /// authorization code + PKCE with one of them.
    pub public_clients: Vec<ClientChoice>,
    pub authorize_url: String,
    pub token_url: String,
    pub playground_redirect_uri: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientChoice {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiOperation {
    pub method: String,
    /// The template, e.g. `/api/customers/{subscriber_id}`.
    pub path: String,
    pub tag: String,
    pub summary: String,
    pub description: String,
    pub params: Vec<ApiParam>,
    /// The request body's example, pretty-printed.
    pub body_example: Option<String>,
    /// The request body's JSON Schema, with every `$ref` resolved.
    pub body_schema: Option<Value>,
    /// The statuses the document lists.
    pub statuses: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiParam {
    pub name: String,
    /// `path`, `query` or `header`.
    pub location: String,
    pub required: bool,
    pub description: String,
    pub example: Option<String>,
}

impl ApiOperation {
    /// `GET /api/customers`: how the tab names an operation in its URL.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The path parameters, when `concrete` (a path, without query) is an instance of this
    /// operation's template.
    pub fn match_path(&self, concrete: &str) -> Option<Vec<(String, String)>> {
        let template: Vec<&str> = self.path.split('/').collect();
        let actual: Vec<&str> = concrete.split('/').collect();
        if template.len() != actual.len() {
            return None;
        }
        let mut params = Vec::new();
        for (t, a) in template.iter().zip(&actual) {
            match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                Some(name) if !a.is_empty() => params.push((name.to_string(), percent_decode(a))),
                Some(_) => return None,
                None if t == a => {}
                None => return None,
            }
        }
        Some(params)
    }

    /// The URL for these parameter values: path parameters encoded as one segment each, the
    /// non-empty query parameters form-encoded.
    pub fn url(&self, values: &[(String, String)]) -> String {
        let value = |name: &str| {
            values
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default()
        };
        let mut url = self
            .path
            .split('/')
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => path_segment(value(name)),
                    None => segment.to_string(),
                },
            )
            .collect::<Vec<_>>()
            .join("/");
        let query: Vec<String> = self
            .params
            .iter()
            .filter(|p| p.location == "query" && !value(&p.name).is_empty())
            .map(|p| {
                format!(
                    "{}={}",
                    query_component(&p.name),
                    query_component(value(&p.name))
                )
            })
            .collect();
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        url
    }
}

/// The API tab browsing `path`: where a browser navigating to an API URL is sent.
pub fn browse_href(path: &str) -> String {
    format!("/dashboard/api?path={}", query_component(path))
}

/// The query string's pairs, decoded (`+` is a space).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// Checks `value` against a JSON Schema (the subset OpenAPI 3.1 documents here use: `type`
/// with `null`, `enum`, `required`, `properties`, `additionalProperties: false`, string
/// lengths and `pattern`, numeric bounds, `oneOf`/`anyOf`, `items`). `pattern_matches` decides
/// patterns (the browser lends its own regular expressions). Returns every violation, each
/// naming its field.
pub fn validate(
    schema: &Value,
    value: &Value,
    pattern_matches: &dyn Fn(&str, &str) -> bool,
) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, value, "body", pattern_matches, &mut errors);
    errors
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check(
    schema: &Value,
    value: &Value,
    at: &str,
    pattern_matches: &dyn Fn(&str, &str) -> bool,
    errors: &mut Vec<String>,
) {
    for combinator in ["oneOf", "anyOf"] {
        if let Some(branches) = schema[combinator].as_array() {
            let fits = branches.iter().any(|b| {
                let mut e = Vec::new();
                check(b, value, at, pattern_matches, &mut e);
                e.is_empty()
            });
            if !fits {
                errors.push(format!("{at}: does not match any allowed shape."));
            }
            return;
        }
    }
    let actual = type_name(value);
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let type_ok = allowed.is_empty()
        || allowed.contains(&actual)
        || (actual == "integer" && allowed.contains(&"number"));
    if !type_ok {
        errors.push(format!(
            "{at}: must be {}, not {actual}.",
            allowed.join(" or ")
        ));
        return;
    }
    if let Some(options) = schema["enum"].as_array() {
        if !options.contains(value) {
            let names: Vec<String> = options.iter().map(Value::to_string).collect();
            errors.push(format!("{at}: one of {}.", names.join(", ")));
        }
    }
    match value {
        Value::String(s) => {
            let len = s.chars().count() as u64;
            if let Some(min) = schema["minLength"].as_u64().filter(|m| len < *m) {
                errors.push(format!("{at}: at least {min} characters."));
            }
            if let Some(max) = schema["maxLength"].as_u64().filter(|m| len > *m) {
                errors.push(format!("{at}: at most {max} characters."));
            }
            if let Some(p) = schema["pattern"].as_str() {
                if !pattern_matches(p, s) {
                    errors.push(format!("{at}: must match {p}."));
                }
            }
        }
        Value::Number(n) => {
            let n = n.as_f64().unwrap_or_default();
            if schema["minimum"].as_f64().is_some_and(|m| n < m) {
                errors.push(format!("{at}: at least {}.", schema["minimum"]));
            }
            if schema["maximum"].as_f64().is_some_and(|m| n > m) {
                errors.push(format!("{at}: at most {}.", schema["maximum"]));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check(
                    &schema["items"],
                    item,
                    &format!("{at}[{i}]"),
                    pattern_matches,
                    errors,
                );
            }
        }
        Value::Object(fields) => {
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                if !fields.contains_key(name) {
                    errors.push(format!("{at}.{name}: required."));
                }
            }
            let properties = schema["properties"].as_object();
            for (name, field) in fields {
                match properties.and_then(|p| p.get(name)) {
                    Some(s) => check(s, field, &format!("{at}.{name}"), pattern_matches, errors),
                    None if schema["additionalProperties"] == Value::Bool(false) => {
                        errors.push(format!("{at}.{name}: unknown field."));
                    }
                    None => {}
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["subscriber_id", "customer_id"],
            "additionalProperties": false,
            "properties": {
                "subscriber_id": {"type": "string", "minLength": 1, "maxLength": 5},
                "customer_id": {"type": "string", "pattern": "^cus_"},
                "email": {"type": ["string", "null"]},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100}
            }
        })
    }

    fn starts_with(p: &str, s: &str) -> bool {
        s.starts_with(p.trim_start_matches('^'))
    }

    #[test]
    fn a_valid_body_passes_and_each_violation_is_named() {
        let ok = json!({"subscriber_id": "u1", "customer_id": "cus_1", "email": null});
        assert!(validate(&schema(), &ok, &starts_with).is_empty());
        let bad = json!({"subscriber_id": "toolong", "customer_id": "sub_1", "email": 3, "limit": 0, "extra": 1});
        let errors = validate(&schema(), &bad, &starts_with);
        for expected in [
            "body.subscriber_id: at most 5 characters.",
            "body.customer_id: must match ^cus_.",
            "body.email: must be string or null, not integer.",
            "body.limit: at least 1.",
            "body.extra: unknown field.",
        ] {
            assert!(
                errors.iter().any(|e| e == expected),
                "{expected} in {errors:?}"
            );
        }
        let missing = validate(&schema(), &json!({}), &starts_with);
        assert_eq!(
            missing,
            [
                "body.subscriber_id: required.",
                "body.customer_id: required."
            ]
        );
        assert_eq!(
            validate(&schema(), &json!([]), &starts_with),
            ["body: must be object, not array."]
        );
    }

    #[test]
    fn urls_are_built_and_matched_symmetrically() {
        let op = ApiOperation {
            method: "GET".into(),
            path: "/api/customers/{subscriber_id}/subscriptions".into(),
            tag: "subscriptions".into(),
            summary: String::new(),
            description: String::new(),
            params: vec![ApiParam {
                name: "status".into(),
                location: "query".into(),
                required: false,
                description: String::new(),
                example: None,
            }],
            body_example: None,
            body_schema: None,
            statuses: vec![],
        };
        let values = vec![
            ("subscriber_id".to_string(), "a/b c".to_string()),
            ("status".to_string(), "active&x".to_string()),
        ];
        let url = op.url(&values);
        assert_eq!(
            url,
            "/api/customers/a%2Fb%20c/subscriptions?status=active%26x"
        );
        let (path, query) = url.split_once('?').expect("present");
        assert_eq!(
            op.match_path(path),
            Some(vec![("subscriber_id".to_string(), "a/b c".to_string())])
        );
        assert_eq!(
            query_pairs(query),
            [("status".to_string(), "active&x".to_string())]
        );
        assert_eq!(op.match_path("/api/customers//subscriptions"), None);
        assert_eq!(op.match_path("/api/customers/x"), None);
    }
}
