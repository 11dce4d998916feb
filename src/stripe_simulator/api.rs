//! The REST API (`/v1/…`): one dispatcher, so every call is authenticated, recorded, exposed to
//! faults and held to Stripe's [`rules`](super::rules) the same way; then the platform's own
//! resources (webhook endpoints), or the connected account's with `Stripe-Account`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::http::{invalid, masked, missing, ok, presented_key, stripe_error, Params};
use super::objects::{self, new_id};
use super::rules::{self, Refusal};
use super::state::{Account, IdempotentAnswer, PortalSession, State as Data};
use super::{lock, RecordedRequest, Simulator};

/// Portal sessions stay usable this long.
const PORTAL_TTL: i64 = 3600;
/// Stripe keeps idempotency keys for 24 hours.
const IDEMPOTENCY_TTL: i64 = 24 * 3600;
/// `GET /v1/events` reaches back this far.
pub const EVENTS_RETENTION: i64 = 30 * 24 * 3600;

type Changes = Vec<super::state::Change>;

pub(super) async fn api(
    State(sim): State<Simulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = new_id("req", 14);
    let query = uri.query().map(String::from);
    let params = if method == Method::GET || method == Method::DELETE {
        Params::parse(query.as_deref().unwrap_or_default().as_bytes())
    } else {
        Params::parse(&body)
    };
    let key = presented_key(&headers, None);
    let authorized = sim.key_is_valid(key.as_deref());
    let stripe_account = headers
        .get("stripe-account")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    sim.record_request(RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        query,
        stripe_account: stripe_account.clone(),
        authorized,
        idempotency_key: idempotency_key.clone(),
    });
    sim.latency().await;
    if !authorized {
        let message = match key {
            Some(k) => format!("Invalid API Key provided: {}", masked(&k)),
            None => "You did not provide an API key.".into(),
        };
        return stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            &message,
            None,
            &request_id,
        );
    }
    if let Some(failure) = sim.injected_failure(&request_id) {
        return failure;
    }
    let segments: Vec<&str> = uri
        .path()
        .trim_start_matches("/v1/")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let request = Request {
        method: &method,
        path: uri.path(),
        segments: &segments,
        params: &params,
        request_id: &request_id,
    };
    if let Err(refusal) = rules::check_parameters(method.as_str(), &segments, &params.0) {
        let refused = sim.refuse(&request, refusal);
        if sim.rules_enforced() {
            return refused;
        }
    }
    // keys on GET and DELETE have no effect (async-stripe sends one with every retried call)
    let idempotent = idempotency_key.filter(|_| method == Method::POST).map(|k| {
        let scope = stripe_account.as_deref().unwrap_or("platform");
        (format!("{scope} {k}"), k)
    });
    let fingerprint = request.fingerprint();
    if let Some((scoped, key)) = &idempotent {
        match sim.idempotent_answer(scoped, &fingerprint) {
            Some(Ok(answer)) => return replay(answer, &request_id),
            Some(Err(())) => {
                return sim.refuse(
                    &request,
                    Refusal {
                        rule: &rules::IDEMPOTENCY_KEY,
                        status: 400,
                        kind: "idempotency_error",
                        code: None,
                        message: format!("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."),
                        param: None,
                    },
                );
            }
            None => {}
        }
    }
    let response = sim.dispatch(&request, stripe_account.as_deref());
    match idempotent {
        Some((scoped, _)) => sim.remember_answer(scoped, fingerprint, response).await,
        None => response,
    }
}

/// What the dispatcher needs of a request.
pub(super) struct Request<'a> {
    method: &'a Method,
    path: &'a str,
    segments: &'a [&'a str],
    params: &'a Params,
    request_id: &'a str,
}

impl Request<'_> {
    /// What makes two requests "the same" for an idempotency key: method, path, parameters.
    fn fingerprint(&self) -> String {
        let mut params = self.params.0.clone();
        params.sort();
        let params: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{} {} {}", self.method, self.path, params.join("&"))
    }
}

fn replay(answer: IdempotentAnswer, request_id: &str) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut res = (
        status,
        [("content-type", "application/json")],
        answer.body.clone(),
    )
        .into_response();
    res.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    super::http::with_request_id(res, request_id)
}

impl Simulator {
    /// Answers a broken rule as Stripe does, and records it so tests fail loudly.
    pub(super) fn refuse(&self, request: &Request<'_>, refusal: Refusal) -> Response {
        self.record_violation(rules::Violation {
            rule: refusal.rule.id,
            method: request.method.to_string(),
            path: request.path.to_string(),
            message: refusal.message.clone(),
        });
        stripe_error(
            StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST),
            refusal.kind,
            refusal.code,
            &refusal.message,
            refusal.param.as_deref(),
            request.request_id,
        )
    }

    /// The answer stored for an idempotency key: `Ok` to replay, `Err` when the key was used
    /// with other parameters, `None` when it is new.
    fn idempotent_answer(
        &self,
        scoped: &str,
        fingerprint: &str,
    ) -> Option<Result<IdempotentAnswer, ()>> {
        let now = self.now();
        let mut state = lock(&self.inner.state);
        state
            .idempotency
            .retain(|_, a| a.created > now - IDEMPOTENCY_TTL);
        let stored = state.idempotency.get(scoped)?;
        Some(if stored.fingerprint == fingerprint {
            Ok(stored.clone())
        } else {
            Err(())
        })
    }

    /// Stores the answer under the key (Stripe saves every answer once the endpoint ran).
    async fn remember_answer(
        &self,
        scoped: String,
        fingerprint: String,
        response: Response,
    ) -> Response {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let answer = IdempotentAnswer {
            fingerprint,
            status: parts.status.as_u16(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
            created: self.now(),
        };
        lock(&self.inner.state).idempotency.insert(scoped, answer);
        Response::from_parts(parts, axum::body::Body::from(bytes))
    }

    fn dispatch(&self, request: &Request<'_>, stripe_account: Option<&str>) -> Response {
        let now = self.now();
        let mut state = lock(&self.inner.state);
        let public_base = self.config().public_base.clone();
        let (response, changes) = match stripe_account {
            None => (platform_request(self, &mut state, request, now), vec![]),
            Some(id) => {
                let Data {
                    accounts,
                    portal_sessions,
                    ..
                } = &mut *state;
                match accounts.get_mut(id) {
                    Some(acting) if acting.authorized => {
                        let portal = Portal {
                            sessions: portal_sessions,
                            public_base: &public_base,
                        };
                        connected_request(acting, portal, request, now)
                    }
                    _ => {
                        let masked_key = masked(&self.config().secret_key);
                        (
                            stripe_error(
                                StatusCode::FORBIDDEN,
                                "invalid_request_error",
                                Some("account_invalid"),
                                &format!("The provided key '{masked_key}' does not have access to account '{id}' (or that account does not exist). Application access may have been revoked."),
                                None,
                                request.request_id,
                            ),
                            vec![],
                        )
                    }
                }
            }
        };
        self.save(&state);
        drop(state);
        for (kind, account, object, previous) in changes {
            self.emit(kind, &account, object, previous);
        }
        response
    }
}

/// Where portal sessions are kept and how browsers reach them.
struct Portal<'a> {
    sessions: &'a mut std::collections::HashMap<String, PortalSession>,
    public_base: &'a str,
}

fn unrecognized(request: &Request<'_>) -> Response {
    stripe_error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        None,
        &format!(
            "Unrecognized request URL ({}: {}). The simulator implements only what subgate uses.",
            request.method, request.path
        ),
        None,
        request.request_id,
    )
}

/// Requests on a connected account (`Stripe-Account`).
fn connected_request(
    acting: &mut Account,
    portal: Portal<'_>,
    request: &Request<'_>,
    now: i64,
) -> (Response, Changes) {
    let params = request.params;
    let rid = request.request_id;
    let none = |r: Response| (r, vec![]);
    match (request.method.clone(), request.segments) {
        (Method::GET, ["account"]) => none(ok(account_object(acting), rid)),
        (Method::GET, ["accounts", id]) if *id == acting.id => {
            none(ok(account_object(acting), rid))
        }
        (Method::POST, ["customers"]) => {
            let id = acting.add_customer(
                params.get("email").unwrap_or_default(),
                params.get("name").unwrap_or_default(),
                now,
            );
            none(ok(acting.customers[&id].clone(), rid))
        }
        (Method::GET, ["customers"]) => {
            let data: Vec<Value> = acting
                .customers
                .values()
                .filter(|c| c["deleted"] != json!(true))
                .cloned()
                .collect();
            none(ok(list(data, false, "/v1/customers"), rid))
        }
        (Method::GET, ["customers", id]) => none(match acting.customers.get(*id) {
            Some(c) => ok(c.clone(), rid),
            None => missing("customer", id, "id", rid),
        }),
        (Method::DELETE, ["customers", id]) => match acting.delete_customer(id, now) {
            Ok(changes) => (ok(objects::deleted_customer(id), rid), changes),
            Err(_) => none(missing("customer", id, "id", rid)),
        },
        (Method::POST, ["products"]) => {
            let p = objects::product(params.get("name").unwrap_or("Product"), now);
            let id = p["id"].as_str().unwrap_or_default().to_string();
            acting.products.insert(id, p.clone());
            none(ok(p, rid))
        }
        (Method::GET, ["products", id]) => none(match acting.products.get(*id) {
            Some(p) => ok(p.clone(), rid),
            None => missing("product", id, "id", rid),
        }),
        (Method::POST, ["prices"]) => none(create_price(acting, params, now, rid)),
        (Method::GET, ["subscriptions"]) => none(list_subscriptions(acting, params, rid)),
        (Method::GET, ["subscriptions", id]) => none(
            match acting.render_subscription(id, expands_products(params)) {
                Some(s) => ok(s, rid),
                None => missing("subscription", id, "id", rid),
            },
        ),
        (Method::POST, ["subscriptions"]) => {
            let customer = params.get("customer").unwrap_or_default();
            let price = params.get("items[0][price]").unwrap_or_default();
            let quantity = params
                .get("items[0][quantity]")
                .and_then(|q| q.parse().ok())
                .unwrap_or(1);
            let trial = params.get("trial_period_days").and_then(|d| d.parse().ok());
            match acting.create_subscription(customer, price, quantity, trial, now, now) {
                Ok((id, change)) => (
                    ok(
                        acting.render_subscription(&id, false).unwrap_or_default(),
                        rid,
                    ),
                    vec![change],
                ),
                Err(m) => none(invalid(&m, Some("customer"), rid)),
            }
        }
        (Method::POST, ["subscriptions", id]) => update_subscription(acting, id, params, rid),
        (Method::DELETE, ["subscriptions", id]) => match acting.cancel_subscription(id, now) {
            Ok(change) => (
                ok(
                    acting.render_subscription(id, false).unwrap_or_default(),
                    rid,
                ),
                vec![change],
            ),
            Err(_) => none(missing("subscription", id, "id", rid)),
        },
        (Method::GET, ["billing_portal", "configurations"]) => {
            let data: Vec<Value> = acting
                .portal_configurations(now)
                .into_iter()
                .filter(|c| {
                    params
                        .get("active")
                        .is_none_or(|a| c["active"] == json!(a == "true"))
                        && params
                            .get("is_default")
                            .is_none_or(|d| c["is_default"] == json!(d == "true"))
                })
                .collect();
            none(ok(
                list(data, false, "/v1/billing_portal/configurations"),
                rid,
            ))
        }
        (Method::POST, ["billing_portal", "configurations"]) => {
            let c = objects::portal_configuration(false, &params.map("metadata"), now);
            acting.api_portal_configurations.push(c.clone());
            none(ok(c, rid))
        }
        (Method::POST, ["billing_portal", "sessions"]) => {
            none(create_portal_session(acting, portal, params, now, rid))
        }
        (Method::GET, ["events"]) => none(list_events(&acting.events, params, now, rid)),
        _ => none(unrecognized(request)),
    }
}

fn create_price(acting: &mut Account, params: &Params, now: i64, rid: &str) -> Response {
    let Some(product) = params
        .get("product")
        .and_then(|p| acting.products.get(p))
        .cloned()
    else {
        return missing(
            "product",
            params.get("product").unwrap_or_default(),
            "product",
            rid,
        );
    };
    let price = objects::price(
        product["id"].as_str().unwrap_or_default(),
        params
            .get("unit_amount")
            .and_then(|a| a.parse().ok())
            .unwrap_or(0),
        params.get("currency").unwrap_or("usd"),
        params.get("recurring[interval]").unwrap_or("month"),
        params
            .get("recurring[interval_count]")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1),
        now,
    );
    let id = price["id"].as_str().unwrap_or_default().to_string();
    acting.prices.insert(id, price.clone());
    ok(price, rid)
}

fn update_subscription(
    acting: &mut Account,
    id: &str,
    params: &Params,
    rid: &str,
) -> (Response, Changes) {
    let mut changes = vec![];
    let mut failure = None;
    if let Some(flag) = params.get("cancel_at_period_end") {
        match acting.set_cancel_at_period_end(id, flag == "true") {
            Ok(c) => changes.push(c),
            Err(m) => failure = Some(m),
        }
    }
    if let Some(at) = params.get("cancel_at") {
        // an empty value unsets it, as in Stripe's form encoding
        match acting.set_cancel_at(id, at.parse().ok()) {
            Ok(c) => changes.push(c),
            Err(m) => failure = Some(m),
        }
    }
    let metadata = params.map("metadata");
    if failure.is_none() && !metadata.is_empty() {
        match acting.set_metadata(id, &metadata) {
            Ok(c) => changes.push(c),
            Err(m) => failure = Some(m),
        }
    }
    match (failure, acting.render_subscription(id, false)) {
        (None, Some(s)) => (ok(s, rid), changes),
        (Some(m), Some(_)) => (invalid(&m, None, rid), vec![]),
        (_, None) => (missing("subscription", id, "id", rid), vec![]),
    }
}

fn create_portal_session(
    acting: &Account,
    portal: Portal<'_>,
    params: &Params,
    now: i64,
    rid: &str,
) -> Response {
    let customer = params.get("customer").unwrap_or_default().to_string();
    if customer.is_empty() {
        return invalid("Missing required param: customer.", Some("customer"), rid);
    }
    if !acting.customers.contains_key(&customer) || acting.is_deleted(&customer) {
        return missing("customer", &customer, "customer", rid);
    }
    let configuration = match params.get("configuration") {
        Some(id) => match acting
            .portal_configurations(now)
            .into_iter()
            .find(|c| c["id"] == json!(id) && c["active"] == json!(true))
        {
            Some(c) => c,
            None => return missing("configuration", id, "configuration", rid),
        },
        None => match acting
            .portal_configurations(now)
            .into_iter()
            .find(|c| c["is_default"] == json!(true))
        {
            Some(c) => c,
            // rules::PORTAL_CONFIGURATION: Stripe's own words, no code, no param
            None => return invalid(
                "You can\u{2019}t create a portal session in test mode until you save your customer portal settings in test mode at https://dashboard.stripe.com/test/settings/billing/portal.",
                None,
                rid,
            ),
        },
    };
    let secret = new_id("sess", 32);
    let url = format!("{}/portal/session/{secret}", portal.public_base);
    let return_url = params.get("return_url").map(String::from);
    let mut session = objects::portal_session(&customer, return_url.as_deref(), &url, now);
    session["configuration"] = configuration["id"].clone();
    portal.sessions.retain(|_, s| s.expires_at > now);
    portal.sessions.insert(
        secret,
        PortalSession {
            account: acting.id.clone(),
            customer,
            return_url,
            expires_at: now + PORTAL_TTL,
        },
    );
    ok(session, rid)
}

/// Requests without `Stripe-Account`: the platform's own account, which has webhook endpoints
/// but none of the connected accounts' objects.
fn platform_request(
    sim: &Simulator,
    state: &mut Data,
    request: &Request<'_>,
    now: i64,
) -> Response {
    let rid = request.request_id;
    let params = request.params;
    match (request.method.clone(), request.segments) {
        (Method::GET, ["account"]) => {
            let platform = Account::new("subgate platform", "", 0);
            let mut a = account_object(&platform);
            a["id"] = json!(format!("acct_platform_{}", sim.config().client_id));
            ok(a, rid)
        }
        (Method::GET, ["webhook_endpoints"]) => ok(
            list(
                state.webhook_endpoints.iter().map(|e| e.object()).collect(),
                false,
                "/v1/webhook_endpoints",
            ),
            rid,
        ),
        (Method::POST, ["webhook_endpoints"]) => {
            let (Some(url), events) = (params.get("url"), params.list("enabled_events")) else {
                return invalid("Missing required param: url.", Some("url"), rid);
            };
            if events.is_empty() {
                return invalid(
                    "Missing required param: enabled_events.",
                    Some("enabled_events"),
                    rid,
                );
            }
            let endpoint = super::state::WebhookEndpoint::new(
                url,
                params.get("api_version").unwrap_or(super::api_version()),
                events.iter().map(|e| e.to_string()).collect(),
                params.get("connect") == Some("true"),
                now,
            );
            let mut object = endpoint.object();
            // the secret is only ever shown in the creation's answer
            object["secret"] = json!(endpoint.secret);
            state.webhook_endpoints.push(endpoint);
            ok(object, rid)
        }
        (Method::GET, ["events"]) => ok(list(vec![], false, "/v1/events"), rid),
        (_, [kind, ..])
            if matches!(
                *kind,
                "customers" | "subscriptions" | "products" | "prices" | "billing_portal"
            ) =>
        {
            // the product asked the platform for a connected account's data
            sim.refuse(
                request,
                Refusal {
                    rule: &rules::STRIPE_ACCOUNT,
                    status: 404,
                    kind: "invalid_request_error",
                    code: Some("resource_missing"),
                    message: format!(
                        "No such object on the platform account: {}. A connected account's objects need the Stripe-Account header.",
                        request.path
                    ),
                    param: None,
                },
            )
        }
        _ => unrecognized(request),
    }
}

fn account_object(a: &Account) -> Value {
    objects::account(&a.id, &a.business_name, &a.email, a.created)
}

fn list(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

/// `expand[]=…price.product` (at any depth the rules allowed).
fn expands_products(params: &Params) -> bool {
    params
        .list("expand")
        .iter()
        .any(|e| e.ends_with("price.product"))
}

/// The page after `starting_after` (newest first), `limit` long (default 10).
fn page_of<'a>(
    all: &[&'a Value],
    params: &Params,
    what: &str,
    rid: &str,
) -> Result<(Vec<&'a Value>, bool), Box<Response>> {
    let limit = params
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(10);
    let start = match params.get("starting_after") {
        Some(after) => match all.iter().position(|o| o["id"] == json!(after)) {
            Some(i) => i + 1,
            None => return Err(Box::new(missing(what, after, "starting_after", rid))),
        },
        None => 0,
    };
    let page: Vec<&Value> = all.iter().skip(start).take(limit).copied().collect();
    let has_more = all.len() > start + page.len();
    Ok((page, has_more))
}

/// Newest first, like Stripe.
fn newest_first(a: &&Value, b: &&Value) -> std::cmp::Ordering {
    b["created"]
        .as_i64()
        .cmp(&a["created"].as_i64())
        .then_with(|| b["id"].as_str().cmp(&a["id"].as_str()))
}

fn list_subscriptions(acting: &Account, params: &Params, rid: &str) -> Response {
    let status = params.get("status");
    let customer = params.get("customer");
    let mut all: Vec<&Value> = acting
        .subscriptions
        .values()
        .filter(|s| customer.is_none_or(|c| s["customer"] == json!(c)))
        .filter(|s| match status {
            None => s["status"] != "canceled",
            Some("all") => true,
            Some("ended") => s["status"] == "canceled" || s["status"] == "incomplete_expired",
            Some(wanted) => s["status"] == json!(wanted),
        })
        .collect();
    all.sort_by(newest_first);
    let (page, has_more) = match page_of(&all, params, "subscription", rid) {
        Ok(p) => p,
        Err(res) => return *res,
    };
    let expand = expands_products(params);
    let data = page
        .iter()
        .filter_map(|s| acting.render_subscription(s["id"].as_str().unwrap_or_default(), expand))
        .collect();
    ok(list(data, has_more, "/v1/subscriptions"), rid)
}

/// `GET /v1/events`: the account's events of the last 30 days, newest first, filtered by
/// `type`/`types[]` (a trailing `*` matches a prefix) and `created[gt|gte]`.
fn list_events(events: &[Value], params: &Params, now: i64, rid: &str) -> Response {
    let mut types: Vec<&str> = params.list("types");
    types.extend(params.get("type"));
    let matches_type = |kind: &str| {
        types.is_empty()
            || types.iter().any(|t| match t.strip_suffix('*') {
                Some(prefix) => kind.starts_with(prefix),
                None => kind == *t,
            })
    };
    let created = |op: &str| {
        params
            .get(&format!("created[{op}]"))
            .and_then(|v| v.parse::<i64>().ok())
    };
    let (gt, gte) = (created("gt"), created("gte"));
    let mut all: Vec<&Value> = events
        .iter()
        .filter(|e| {
            let at = e["created"].as_i64().unwrap_or_default();
            at >= now - EVENTS_RETENTION
                && gt.is_none_or(|g| at > g)
                && gte.is_none_or(|g| at >= g)
                && matches_type(e["type"].as_str().unwrap_or_default())
        })
        .collect();
    all.sort_by(newest_first);
    match page_of(&all, params, "event", rid) {
        Ok((page, has_more)) => ok(
            list(page.into_iter().cloned().collect(), has_more, "/v1/events"),
            rid,
        ),
        Err(res) => *res,
    }
}
