//! Stripe's documented rules, one row each with where Stripe says so (`docs/stripe.md` prints
//! this table). The simulator answers a request that breaks one exactly as Stripe would, and
//! also records it as a [`Violation`] and logs it at error level: a test whose product code
//! sends such a request fails loudly (see `Simulator::violations`) instead of passing against a
//! stand-in that is kinder than Stripe.

use serde::Serialize;

/// One documented rule of Stripe's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub rule: &'static str,
    /// Where Stripe documents it.
    pub source: &'static str,
}

pub const EXPAND_DEPTH: Rule = Rule {
    id: "expand_depth",
    rule: "An `expand[]` path has at most 4 levels; the `data.` of a list counts as one. Deeper: 400 invalid_request_error, \"You cannot expand more than 4 levels of a property\".",
    source: "https://docs.stripe.com/expand#limits",
};
pub const LIMIT_RANGE: Rule = Rule {
    id: "limit_range",
    rule: "A list's `limit` is an integer from 1 to 100 (default 10). Otherwise: 400 invalid_request_error, param `limit`.",
    source: "https://docs.stripe.com/api/pagination",
};
pub const PARAMETER_UNKNOWN: Rule = Rule {
    id: "parameter_unknown",
    rule: "A parameter the endpoint does not take: 400 invalid_request_error, code `parameter_unknown`, param naming it.",
    source: "https://docs.stripe.com/error-codes#parameter-unknown",
};
pub const STRIPE_ACCOUNT: Rule = Rule {
    id: "stripe_account",
    rule: "A connected account's objects are reached only with the `Stripe-Account: acct_…` header; without it the request acts on the platform, where they do not exist (404 resource_missing). A revoked or unknown account: 403 account_invalid.",
    source: "https://docs.stripe.com/connect/authentication#stripe-account-header",
};
pub const IDEMPOTENCY_KEY: Rule = Rule {
    id: "idempotency_key",
    rule: "An `Idempotency-Key` replays the first answer (24 h); reused with other parameters or another path: 400 idempotency_error. Keys on GET and DELETE have no effect.",
    source: "https://docs.stripe.com/api/idempotent_requests",
};
pub const ERROR_SHAPE: Rule = Rule {
    id: "error_shape",
    rule: "Every error is `{\"error\": {\"type\", \"code\"?, \"message\", \"param\"?, …}}` with a `Request-Id` header.",
    source: "https://docs.stripe.com/api/errors",
};
pub const RATE_LIMIT: Rule = Rule {
    id: "rate_limit",
    rule: "Too many requests: 429 with code `rate_limit` and a `Stripe-Should-Retry` header that clients follow.",
    source: "https://docs.stripe.com/rate-limits",
};
pub const EVENT_SHAPE: Rule = Rule {
    id: "event_shape",
    rule: "An event's `data.object` is the object unexpanded (ids, not objects, for `price.product`), rendered in the API version of the webhook endpoint it is sent to.",
    source: "https://docs.stripe.com/webhooks/versioning",
};
pub const PORTAL_CONFIGURATION: Rule = Rule {
    id: "portal_configuration",
    rule: "A portal session without `configuration` uses the account's default configuration; without one: 400 invalid_request_error (no `code`, no `param`). Configurations made through the API are not the default.",
    source: "https://docs.stripe.com/api/customer_portal/sessions/create",
};
pub const EVENTS_RETENTION: Rule = Rule {
    id: "events_retention",
    rule: "`GET /v1/events` lists the events of the last 30 days, newest first.",
    source: "https://docs.stripe.com/api/events/list",
};

/// The whole table, in the order `docs/stripe.md` shows it.
pub const RULES: &[Rule] = &[
    EXPAND_DEPTH,
    LIMIT_RANGE,
    PARAMETER_UNKNOWN,
    STRIPE_ACCOUNT,
    IDEMPOTENCY_KEY,
    ERROR_SHAPE,
    RATE_LIMIT,
    EVENT_SHAPE,
    PORTAL_CONFIGURATION,
    EVENTS_RETENTION,
];

/// A request that broke a rule, as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub rule: &'static str,
    pub method: String,
    pub path: String,
    pub message: String,
}

/// How a broken rule is answered: Stripe's error fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: &'static Rule,
    pub status: u16,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub message: String,
    pub param: Option<String>,
}

impl Refusal {
    fn invalid(
        rule: &'static Rule,
        code: Option<&'static str>,
        message: String,
        param: &str,
    ) -> Self {
        Self {
            rule,
            status: 400,
            kind: "invalid_request_error",
            code,
            message,
            param: Some(param.to_string()),
        }
    }
}

/// The top-level parameters an endpoint takes (`items[0][price]` is `items`), for the
/// requests the simulator implements; `None` for a path it does not.
pub fn known_parameters(method: &str, segments: &[&str]) -> Option<&'static [&'static str]> {
    const LIST: [&str; 4] = ["limit", "starting_after", "ending_before", "expand"];
    let params: &'static [&'static str] = match (method, segments) {
        ("GET", ["account"]) | ("GET", ["accounts", _]) => &["expand"],
        ("GET", ["customers"]) => &[LIST[0], LIST[1], LIST[2], LIST[3], "email", "created"],
        ("POST", ["customers"]) => &["email", "name", "description", "metadata", "expand"],
        ("GET", ["customers", _]) | ("GET", ["products", _]) | ("GET", ["subscriptions", _]) => {
            &["expand"]
        }
        ("DELETE", ["customers", _]) => &[],
        ("POST", ["products"]) => &["name", "description", "metadata", "expand"],
        ("POST", ["prices"]) => &[
            "product",
            "unit_amount",
            "currency",
            "recurring",
            "metadata",
            "expand",
        ],
        ("GET", ["subscriptions"]) => &[
            LIST[0],
            LIST[1],
            LIST[2],
            LIST[3],
            "customer",
            "status",
            "price",
            "created",
            "collection_method",
        ],
        ("POST", ["subscriptions"]) => &[
            "customer",
            "items",
            "trial_period_days",
            "metadata",
            "billing_mode",
            "expand",
        ],
        ("POST", ["subscriptions", _]) => {
            &["cancel_at_period_end", "cancel_at", "metadata", "expand"]
        }
        ("DELETE", ["subscriptions", _]) => &["expand", "invoice_now", "prorate"],
        ("POST", ["billing_portal", "sessions"]) => &[
            "customer",
            "return_url",
            "configuration",
            "locale",
            "on_behalf_of",
            "flow_data",
            "expand",
        ],
        ("GET", ["billing_portal", "configurations"]) => {
            &[LIST[0], LIST[1], LIST[2], LIST[3], "active", "is_default"]
        }
        ("POST", ["billing_portal", "configurations"]) => &[
            "business_profile",
            "features",
            "default_return_url",
            "login_page",
            "metadata",
            "name",
            "expand",
        ],
        ("GET", ["events"]) => &[
            LIST[0],
            LIST[1],
            LIST[2],
            LIST[3],
            "created",
            "type",
            "types",
            "delivery_success",
        ],
        ("GET", ["webhook_endpoints"]) => &LIST,
        ("POST", ["webhook_endpoints"]) => &[
            "url",
            "enabled_events",
            "api_version",
            "connect",
            "description",
            "metadata",
            "expand",
        ],
        _ => return None,
    };
    Some(params)
}

/// The parameter's top-level name: `items[0][price]` → `items`.
fn top_level(name: &str) -> &str {
    name.split('[').next().unwrap_or(name)
}

/// Checks a request's parameters against the rules that concern parameters alone.
pub fn check_parameters(
    method: &str,
    segments: &[&str],
    params: &[(String, String)],
) -> Result<(), Refusal> {
    if let Some(known) = known_parameters(method, segments) {
        if let Some((name, _)) = params
            .iter()
            .find(|(name, _)| !known.contains(&top_level(name)))
        {
            let name = top_level(name);
            return Err(Refusal::invalid(
                &PARAMETER_UNKNOWN,
                Some("parameter_unknown"),
                format!("Received unknown parameter: {name}"),
                name,
            ));
        }
    }
    for (name, value) in params {
        if top_level(name) == "expand" {
            let levels = value.split('.').count();
            if levels > 4 {
                return Err(Refusal::invalid(
                    &EXPAND_DEPTH,
                    None,
                    format!(
                        "You cannot expand more than 4 levels of a property. Property: {value}"
                    ),
                    "expand",
                ));
            }
        }
        if name == "limit" && !value.parse::<i64>().is_ok_and(|l| (1..=100).contains(&l)) {
            return Err(Refusal::invalid(
                &LIMIT_RANGE,
                None,
                format!("Invalid integer: {value}. `limit` must be between 1 and 100."),
                "limit",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn five_levels_of_expansion_are_refused_four_are_fine() {
        let list = ["subscriptions"];
        let refused = check_parameters(
            "GET",
            &list,
            &params(&[("expand[0]", "data.items.data.price.product")]),
        )
        .expect_err("five levels");
        assert_eq!((refused.rule, refused.status), (&EXPAND_DEPTH, 400));
        assert!(check_parameters(
            "GET",
            &list,
            &params(&[("expand[0]", "data.items.data.price")])
        )
        .is_ok());
    }

    #[test]
    fn unknown_parameters_and_bad_limits_are_refused() {
        let refused = check_parameters("GET", &["subscriptions"], &params(&[("bogus", "1")]))
            .expect_err("unknown");
        assert_eq!(refused.code, Some("parameter_unknown"));
        assert_eq!(refused.param.as_deref(), Some("bogus"));
        for bad in ["0", "101", "ten"] {
            let refused = check_parameters("GET", &["events"], &params(&[("limit", bad)]))
                .expect_err("limit");
            assert_eq!(refused.rule, &LIMIT_RANGE, "{bad}");
        }
        assert!(check_parameters(
            "POST",
            &["subscriptions"],
            &params(&[("items[0][price]", "price_1"), ("customer", "cus_1")])
        )
        .is_ok());
    }

    #[test]
    fn docs_stripe_md_shows_every_rule_with_its_source() {
        let doc = include_str!("../../docs/stripe.md");
        for rule in RULES {
            let row = format!("| `{}` | {} | {} |", rule.id, rule.rule, rule.source);
            assert!(doc.contains(&row), "docs/stripe.md lacks the row\n{row}");
        }
    }

    #[test]
    fn every_rule_names_its_source() {
        for rule in RULES {
            assert!(
                rule.source.starts_with("https://docs.stripe.com/"),
                "{rule:?}"
            );
        }
    }
}
