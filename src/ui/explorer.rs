//! The API tab: the browsable API. An index of every operation by tag; per operation its
//! description, inputs for its parameters, a JSON editor checked against the schema for bodies,
//! the response (status, headers, highlighted JSON whose API links browse on), "Copy as curl",
//! and a choice of credentials: the merchant's session (with the CSRF header), or a bearer token
//! that a public client obtained through authorization code + PKCE in this browser.
//!
//! URLs: `/dashboard/api?op=GET%20/api/customers` selects an operation,
//! `/dashboard/api?path=/api/customers/user-1` browses a concrete URL (what the JSON's links and
//! the API's own HTML redirect use).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use serde_json::Value;

use super::components::{csrf_token, shell_quote, CopyButton, Markdown, BUTTON};
use crate::dto::explorer::{browse_href, query_component, query_pairs, ApiCatalog, ApiOperation};
use crate::server_fns::explorer::{explorer_token, load_api_catalog};

/// sessionStorage: the bearer token a public client got through PKCE for the API tab.
pub const EXPLORER_TOKEN_KEY: &str = "subgate.explorer_token";
const INPUT: &str =
    "mt-1 block w-full rounded-md border border-slate-300 px-3 py-1.5 font-mono text-sm";
const SECONDARY: &str =
    "rounded-md border border-slate-300 px-3 py-1 text-sm text-slate-700 hover:bg-slate-100";

fn op_href(op: &ApiOperation) -> String {
    format!("/dashboard/api?op={}", query_component(&op.key()))
}

fn method_class(method: &str) -> &'static str {
    match method {
        "GET" => "bg-emerald-100 text-emerald-800",
        "POST" => "bg-indigo-100 text-indigo-800",
        "DELETE" => "bg-red-100 text-red-800",
        _ => "bg-slate-100 text-slate-800",
    }
}

#[component]
pub fn ApiTab() -> impl IntoView {
    let catalog = Resource::new(|| (), |_| load_api_catalog());
    view! {
        <Title text="API · subgate"/>
        <section data-tab="API">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h1 class="text-xl font-semibold">"API"</h1>
                <p class="text-sm">
                    <a href="/api/docs" id="redoc-link" target="_blank" rel="noopener" class="text-indigo-600 underline">"Reference (ReDoc)"</a>
                    " · "
                    <a href="/api/openapi.json" id="openapi-link" target="_blank" rel="noopener" class="text-indigo-600 underline">"OpenAPI 3.1 document"</a>
                </p>
            </div>
            <p class="mt-1 text-sm text-slate-600">"Browse your API with your session: you only ever see your own data. Requests are real."</p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match catalog.await {
                        Ok(c) => view! { <Explorer catalog=c/> }.into_any(),
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The operation and concrete URL the query string selects.
fn select(
    catalog: &ApiCatalog,
    op: Option<String>,
    path: Option<String>,
) -> Option<(ApiOperation, String)> {
    if let Some(key) = op {
        let op = catalog.operations.iter().find(|o| o.key() == key)?;
        let example = op
            .path
            .split('/')
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => op
                        .params
                        .iter()
                        .find(|p| p.name == name)
                        .and_then(|p| p.example.clone())
                        .unwrap_or_default(),
                    None => s.to_string(),
                },
            )
            .collect::<Vec<_>>()
            .join("/");
        return Some((op.clone(), example));
    }
    let path = path?;
    let bare = path.split('?').next().unwrap_or_default();
    // a literal segment beats a placeholder: /api/customers is not /api/customers/{id}
    catalog
        .operations
        .iter()
        .filter(|o| o.method == "GET" && o.match_path(bare).is_some())
        .min_by_key(|o| o.path.matches('{').count())
        .map(|o| (o.clone(), path.clone()))
}

#[component]
fn Explorer(catalog: ApiCatalog) -> impl IntoView {
    let query = use_query_map();
    let catalog = StoredValue::new(catalog);
    let selected = Memo::new(move |_| {
        let q = query.read();
        catalog.with_value(|c| select(c, q.get("op"), q.get("path")))
    });
    let mut tags: Vec<String> = Vec::new();
    catalog.with_value(|c| {
        for op in &c.operations {
            if !tags.contains(&op.tag) {
                tags.push(op.tag.clone());
            }
        }
    });
    let index = tags
        .into_iter()
        .map(|tag| {
            let ops: Vec<ApiOperation> = catalog.with_value(|c| {
                c.operations.iter().filter(|o| o.tag == tag).cloned().collect()
            });
            view! {
                <h2 class="mt-4 text-xs font-semibold uppercase tracking-wide text-slate-500">{tag.clone()}</h2>
                <ul class="mt-1 space-y-1">
                    {ops.into_iter().map(|op| {
                        let (href, key) = (op_href(&op), op.key());
                        let badge = format!("w-14 shrink-0 rounded px-1 text-center font-mono text-xs {}", method_class(&op.method));
                        view! {
                            <li><A href=href attr:class="flex gap-2 rounded px-1 py-0.5 text-sm hover:bg-slate-100" attr:data-op=key>
                                <span class=badge>{op.method}</span>
                                <span class="break-all font-mono text-xs text-slate-800">{op.path}</span>
                            </A></li>
                        }
                    }).collect_view()}
                </ul>
            }
        })
        .collect_view();
    view! {
        <div class="mt-4 grid gap-6 lg:grid-cols-[22rem_1fr]">
            <nav id="api-index" aria-label="Endpoints">{index}</nav>
            <div>
                {move || match selected.get() {
                    Some((op, concrete)) => view! { <Operation op=op concrete=concrete catalog=catalog.get_value()/> }.into_any(),
                    None => view! {
                        <p id="api-intro" class="text-slate-600">"Pick an endpoint. GET requests run as soon as you open them; links in the JSON browse on."</p>
                    }.into_any(),
                }}
            </div>
        </div>
    }
}

/// One answer of the API, as the browser received it.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    url: String,
    status: u16,
    status_text: String,
    headers: Vec<(String, String)>,
    body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    Session,
    Bearer,
}

#[component]
fn Operation(op: ApiOperation, concrete: String, catalog: ApiCatalog) -> impl IntoView {
    let (bare, query) = concrete.split_once('?').unwrap_or((&concrete, ""));
    let mut initial = op.match_path(bare).unwrap_or_default();
    initial.extend(query_pairs(query));
    for p in &op.params {
        if !initial.iter().any(|(n, _)| *n == p.name) {
            initial.push((p.name.clone(), String::new()));
        }
    }
    let values = RwSignal::new(initial);
    let body = RwSignal::new(op.body_example.clone().unwrap_or_default());
    let body_errors = RwSignal::new(Vec::<String>::new());
    let answer = RwSignal::new(None::<Answer>);
    let sending = RwSignal::new(false);
    let auth = RwSignal::new(Auth::Session);
    // (token, the client it came from), from the PKCE flow of "Try it with my client"
    let bearer = RwSignal::new(None::<(String, String)>);
    let curl_token = RwSignal::new(None::<String>);
    let token_error = RwSignal::new(None::<String>);
    let op = StoredValue::new(op);
    let url = Memo::new(move |_| op.with_value(|o| o.url(&values.get())));
    let has_body = op.with_value(|o| o.body_schema.is_some());
    let method = op.with_value(|o| o.method.clone());
    let origin = catalog.origin.clone();

    let send = move || {
        let o = op.get_value();
        body_errors.set(Vec::new());
        let mut payload = None;
        if let Some(schema) = &o.body_schema {
            match serde_json::from_str::<Value>(&body.get_untracked()) {
                Ok(v) => {
                    let errors = crate::dto::explorer::validate(schema, &v, &pattern_matches);
                    if !errors.is_empty() {
                        body_errors.set(errors);
                        return;
                    }
                    payload = Some(v.to_string());
                }
                Err(e) => {
                    body_errors.set(vec![format!("body: not valid JSON ({e}).")]);
                    return;
                }
            }
        }
        let missing: Vec<String> = o
            .params
            .iter()
            .filter(|p| p.required && p.location == "path")
            .filter(|p| {
                values.with_untracked(|v| v.iter().any(|(n, val)| *n == p.name && val.is_empty()))
            })
            .map(|p| format!("{}: required.", p.name))
            .collect();
        if !missing.is_empty() {
            body_errors.set(missing);
            return;
        }
        let bearer_token = match auth.get_untracked() {
            Auth::Bearer => bearer.get_untracked().map(|(t, _)| t),
            Auth::Session => None,
        };
        sending.set(true);
        #[cfg(feature = "hydrate")]
        {
            let url = url.get_untracked();
            leptos::task::spawn_local(async move {
                let result = fetch(&o.method, &url, payload, bearer_token).await;
                sending.set(false);
                match result {
                    Ok(a) => answer.set(Some(a)),
                    Err(e) => body_errors.set(vec![e]),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (payload, bearer_token, answer);
    };

    // GETs run as soon as the page is there (in the browser), like a browsable API should
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let saved = window()
                .session_storage()
                .ok()
                .flatten()
                .and_then(|s| s.get_item(EXPLORER_TOKEN_KEY).ok().flatten())
                .and_then(|s| serde_json::from_str::<Value>(&s).ok());
            if let Some(saved) = saved {
                if let (Some(t), Some(c)) = (saved["token"].as_str(), saved["client"].as_str()) {
                    bearer.set(Some((t.to_string(), c.to_string())));
                    auth.set(Auth::Bearer);
                }
            }
        }
        if op.with_value(|o| o.method == "GET") {
            send();
        }
    });

    let curl = Signal::derive(move || {
        let o = op.get_value();
        let token = curl_token
            .get()
            .or_else(|| match auth.get() {
                Auth::Bearer => bearer.get().map(|(t, _)| t),
                Auth::Session => None,
            })
            .unwrap_or_else(|| "$TOKEN".to_string());
        let mut parts = vec![
            format!(
                "curl -X {} {}",
                o.method,
                shell_quote(&format!("{origin}{}", url.get()))
            ),
            format!(
                "-H {}",
                shell_quote(&format!("Authorization: Bearer {token}"))
            ),
        ];
        if o.body_schema.is_some() {
            let compact = serde_json::from_str::<Value>(&body.get())
                .map(|v| v.to_string())
                .unwrap_or_else(|_| body.get());
            parts.push("-H 'Content-Type: application/json'".into());
            parts.push(format!("-d {}", shell_quote(&compact)));
        }
        parts.join(" \\\n  ")
    });

    let fill_token = move |client_id: String| {
        token_error.set(None);
        leptos::task::spawn_local(async move {
            match explorer_token(csrf_token(), client_id).await {
                Ok(t) => curl_token.set(Some(t)),
                Err(e) => token_error.set(Some(e.to_string())),
            }
        });
    };
    let confidential = catalog.confidential_clients.clone();
    let first_confidential = confidential
        .first()
        .map(|c| c.id.clone())
        .unwrap_or_default();
    let chosen_confidential = RwSignal::new(first_confidential);
    let public = catalog.public_clients.clone();
    let chosen_public = RwSignal::new(public.first().map(|c| c.id.clone()).unwrap_or_default());
    let (authorize_url, token_url, redirect_uri) = (
        catalog.authorize_url.clone(),
        catalog.token_url.clone(),
        catalog.playground_redirect_uri.clone(),
    );
    let try_with_client = move |_| {
        let client = chosen_public.get_untracked();
        if client.is_empty() {
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            let here = window()
                .location()
                .href()
                .unwrap_or_else(|_| "/dashboard/api".into());
            super::oauth::playground::start(
                &client,
                &authorize_url,
                &redirect_uri,
                &token_url,
                Some(&here),
            );
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&authorize_url, &redirect_uri, &token_url);
    };
    let forget_token = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(s) = window().session_storage().ok().flatten() {
            let _ = s.remove_item(EXPLORER_TOKEN_KEY);
        }
        bearer.set(None);
        auth.set(Auth::Session);
    };

    let o = op.get_value();
    let breadcrumbs = breadcrumbs(&url.get_untracked(), &catalog);
    let inputs = o
        .params
        .iter()
        .filter(|p| p.location == "path" || p.location == "query")
        .map(|p| {
            let name = p.name.clone();
            let current = values.with_untracked(|v| {
                v.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap_or_default()
            });
            let for_input = name.clone();
            view! {
                <label class="block">
                    <span class="text-sm font-medium">{p.name.clone()}
                        <span class="ml-1 text-xs text-slate-500">{format!("({}{})", p.location, if p.required { ", required" } else { "" })}</span></span>
                    <input class=INPUT data-param=p.name.clone() name=p.name.clone() value=current
                           placeholder=p.example.clone().unwrap_or_default()
                           on:input=move |ev| {
                               let v = event_target_value(&ev);
                               values.update(|vals| match vals.iter_mut().find(|(n, _)| *n == for_input) {
                                   Some(slot) => slot.1 = v,
                                   None => vals.push((for_input.clone(), v)),
                               });
                           }/>
                    <Markdown text=p.description.clone() class="block text-xs text-slate-500" inline=true/>
                </label>
            }
        })
        .collect_view();

    let header = view! {
        <nav id="breadcrumbs" aria-label="Breadcrumbs" class="text-sm text-slate-500">{breadcrumbs}</nav>
        <h2 class="mt-2 text-lg font-semibold" id="op-summary">
            <Markdown text=if o.summary.is_empty() { o.path.clone() } else { o.summary.clone() } class="" inline=true/>
        </h2>
        <p class="mt-1 font-mono text-sm">
            <span class=format!("rounded px-1 {}", method_class(&o.method))>{o.method.clone()}</span>" "{o.path.clone()}
        </p>
        <Markdown text=o.description.clone() id="op-description" class="mt-2 text-sm text-slate-700"/>
    }
    .into_any();
    let form = view! {
            <form class="mt-4 space-y-3" on:submit=move |ev| { ev.prevent_default(); send(); }>
                {inputs}
                {has_body.then(|| view! {
                    <label class="block">
                        <span class="text-sm font-medium">"Body (JSON, checked against the schema before sending)"</span>
                        <textarea id="body-editor" rows=8 class=INPUT prop:value=move || body.get()
                                  on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                    </label>
                })}
                <Show when=move || !body_errors.get().is_empty()>
                    <ul id="body-errors" role="alert" class="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
                        {move || body_errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                    </ul>
                </Show>
                <div class="flex flex-wrap items-center gap-3">
                    <button type="submit" id="send-request" class=BUTTON disabled=move || sending.get()>{format!("Send {method}")}</button>
                    <label class="text-sm">"As "
                        <select id="auth-mode" class="rounded-md border border-slate-300 px-2 py-1 text-sm"
                                on:change=move |ev| auth.set(if event_target_value(&ev) == "bearer" { Auth::Bearer } else { Auth::Session })>
                            <option value="session" prop:selected=move || auth.get() == Auth::Session>"my session"</option>
                            {move || bearer.get().map(|(_, client)| view! {
                                <option value="bearer" prop:selected=move || auth.get() == Auth::Bearer>{format!("bearer token of {client} (PKCE)")}</option>
                            })}
                        </select>
                    </label>
                    <Show when=move || bearer.get().is_some()>
                        <button type="button" class=SECONDARY id="forget-token" on:click=forget_token>"Forget the token"</button>
                    </Show>
                </div>
            </form>
    }
    .into_any();
    let curl_section = view! {
            <section class="mt-6">
                <div class="flex items-center gap-3">
                    <h3 class="font-semibold">"Copy as curl"</h3>
                    <CopyButton text=curl id="copy-curl" label="Copy"/>
                </div>
                <pre tabindex="0" id="curl" class="mt-2 overflow-x-auto rounded-md p-3 text-xs surface-ink">{move || curl.get()}</pre>
                {if confidential.is_empty() {
                    view! { <p class="mt-2 text-sm text-slate-600">"Register a confidential client on the OAuth tab to fill in a real token."</p> }.into_any()
                } else {
                    view! {
                        <div class="mt-2 flex flex-wrap items-center gap-2 text-sm">
                            <select id="token-client" aria-label="Confidential client that gets the token" class="rounded-md border border-slate-300 px-2 py-1"
                                    on:change=move |ev| chosen_confidential.set(event_target_value(&ev))>
                                {confidential.iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                            </select>
                            <button type="button" id="fill-token" class=SECONDARY
                                    on:click=move |_| fill_token(chosen_confidential.get_untracked())>"Fill with a fresh token"</button>
                        </div>
                    }.into_any()
                }}
                {move || token_error.get().map(|e| view! { <p role="alert" class="mt-1 text-sm text-red-700">{e}</p> })}
            </section>
    }
    .into_any();
    let try_section = view! {
            <section class="mt-6 rounded-md border border-slate-200 p-4">
                <h3 class="font-semibold">"Try it with my client"</h3>
                {if public.is_empty() {
                    view! { <p class="mt-1 text-sm text-slate-600">"Register a public client with the playground's redirect URI (" <code>{catalog.playground_redirect_uri.clone()}</code> ") to send requests with its token."</p> }.into_any()
                } else {
                    view! {
                        <p class="mt-1 text-sm text-slate-600">"Runs authorization code + PKCE in this browser with one of your public clients, then sends these requests with the bearer token it gets."</p>
                        <div class="mt-2 flex flex-wrap items-center gap-2 text-sm">
                            <select id="pkce-client" aria-label="Public client to run PKCE with" class="rounded-md border border-slate-300 px-2 py-1"
                                    on:change=move |ev| chosen_public.set(event_target_value(&ev))>
                                {public.iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                            </select>
                            <button type="button" id="try-with-client" class=SECONDARY on:click=try_with_client>"Get a token with PKCE"</button>
                        </div>
                    }.into_any()
                }}
            </section>
    }
    .into_any();
    view! {
        <article id="api-operation" data-op=o.key()>
            {header}
            {form}
            <ResponsePanel answer=answer/>
            {curl_section}
            {try_section}
        </article>
    }
}

/// `API › customers › user-1 › subscriptions`, each prefix a link where it is browsable.
fn breadcrumbs(url: &str, catalog: &ApiCatalog) -> impl IntoView {
    let bare = url.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = bare.split('/').filter(|s| !s.is_empty()).collect();
    let mut crumbs = vec![
        view! { <A href="/dashboard/api" attr:class="text-indigo-600 underline">"API"</A> }
            .into_any(),
    ];
    for i in 1..segments.len() {
        let prefix = format!("/{}", segments[..=i].join("/"));
        let label = crate::dto::explorer::percent_decode(segments[i]);
        let browsable = catalog
            .operations
            .iter()
            .any(|o| o.method == "GET" && o.match_path(&prefix).is_some());
        crumbs.push(view! { <span class="mx-1">"›"</span> }.into_any());
        crumbs.push(if browsable {
            view! { <A href=browse_href(&prefix) attr:class="text-indigo-600 underline">{label}</A> }.into_any()
        } else {
            view! { <span>{label}</span> }.into_any()
        });
    }
    crumbs
}

#[component]
fn ResponsePanel(answer: RwSignal<Option<Answer>>) -> impl IntoView {
    move || {
        answer.get().map(|a| {
            let ok = (200..300).contains(&a.status);
            let parsed = serde_json::from_str::<Value>(&a.body).ok();
            let raw = format!(
                "{}{}format=json",
                a.url,
                if a.url.contains('?') { "&" } else { "?" }
            );
            view! {
                <section id="api-response" class="mt-6" data-status=a.status.to_string()>
                    <div class="flex items-center gap-3">
                        <h3 class="font-semibold">"Response"</h3>
                        <span id="response-status" class=if ok { "rounded bg-emerald-100 px-2 font-mono text-sm text-emerald-800" } else { "rounded bg-amber-100 px-2 font-mono text-sm text-amber-900" }>
                            {format!("{} {}", a.status, a.status_text)}
                        </span>
                        <a id="raw-json" href=raw target="_blank" rel="noopener" class="text-sm text-indigo-600 underline">"Raw JSON"</a>
                    </div>
                    <details class="mt-2 text-xs"><summary class="cursor-pointer text-slate-600">"Headers"</summary>
                        <dl id="response-headers" class="mt-1 grid grid-cols-[auto_1fr] gap-x-3 font-mono">
                            {a.headers.iter().map(|(k, v)| view! { <dt class="text-slate-500">{k.clone()}</dt><dd class="break-all">{v.clone()}</dd> }).collect_view()}
                        </dl>
                    </details>
                    <pre tabindex="0" id="response-body" class="mt-2 overflow-x-auto rounded-md bg-slate-50 p-3 text-xs">{
                        match parsed {
                            Some(v) => highlight(&v).into_any(),
                            None => a.body.clone().into_any(),
                        }
                    }</pre>
                </section>
            }
        })
    }
}

/// One piece of highlighted JSON.
struct Piece {
    text: String,
    class: &'static str,
    /// A link to browse, for strings that are API paths.
    href: Option<String>,
}

fn pieces(v: &Value, indent: usize, out: &mut Vec<Piece>) {
    let plain = |text: String| Piece {
        text,
        class: "",
        href: None,
    };
    let pad = "  ".repeat(indent + 1);
    match v {
        Value::Object(map) if !map.is_empty() => {
            out.push(plain("{\n".into()));
            for (i, (k, val)) in map.iter().enumerate() {
                out.push(plain(pad.clone()));
                out.push(Piece {
                    text: Value::String(k.clone()).to_string(),
                    class: "text-sky-800",
                    href: None,
                });
                out.push(plain(": ".into()));
                pieces(val, indent + 1, out);
                out.push(plain(if i + 1 < map.len() { ",\n" } else { "\n" }.into()));
            }
            out.push(plain(format!("{}}}", "  ".repeat(indent))));
        }
        Value::Array(items) if !items.is_empty() => {
            out.push(plain("[\n".into()));
            for (i, item) in items.iter().enumerate() {
                out.push(plain(pad.clone()));
                pieces(item, indent + 1, out);
                out.push(plain(if i + 1 < items.len() { ",\n" } else { "\n" }.into()));
            }
            out.push(plain(format!("{}]", "  ".repeat(indent))));
        }
        Value::String(s) => out.push(Piece {
            text: v.to_string(),
            class: "text-emerald-700",
            href: (s.starts_with("/api/") || s.starts_with("/subscription/"))
                .then(|| browse_href(s)),
        }),
        Value::Number(_) => out.push(Piece {
            text: v.to_string(),
            class: "text-amber-700",
            href: None,
        }),
        Value::Bool(_) | Value::Null => out.push(Piece {
            text: v.to_string(),
            class: "text-purple-700",
            href: None,
        }),
        other => out.push(plain(other.to_string())),
    }
}

fn highlight(v: &Value) -> impl IntoView {
    let mut out = Vec::new();
    pieces(v, 0, &mut out);
    out.into_iter()
        .map(|p| match p.href {
            Some(href) => view! { <A href=href attr:class="text-emerald-700 underline" attr:data-json-link="">{p.text}</A> }.into_any(),
            None if p.class.is_empty() => p.text.into_any(),
            None => view! { <span class=p.class>{p.text}</span> }.into_any(),
        })
        .collect_view()
}

/// JSON Schema `pattern`s, decided by the browser's own regular expressions.
fn pattern_matches(pattern: &str, value: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        js_sys::RegExp::new(pattern, "u").test(value)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (pattern, value);
        true
    }
}

#[cfg(feature = "hydrate")]
async fn fetch(
    method: &str,
    url: &str,
    body: Option<String>,
    bearer: Option<String>,
) -> Result<Answer, String> {
    use gloo_net::http::{Method, RequestBuilder};
    let m = match method {
        "POST" => Method::POST,
        "DELETE" => Method::DELETE,
        "PUT" => Method::PUT,
        _ => Method::GET,
    };
    let mut request = RequestBuilder::new(url)
        .method(m)
        .header("accept", "application/json");
    request = match bearer {
        Some(token) => request.header("authorization", &format!("Bearer {token}")),
        None => request.header("x-csrf-token", &csrf_token()),
    };
    let request = match body {
        Some(b) => request
            .header("content-type", "application/json")
            .body(b)
            .map_err(|e| e.to_string())?,
        None => request.build().map_err(|e| e.to_string())?,
    };
    let res = request
        .send()
        .await
        .map_err(|e| format!("The request failed: {e}"))?;
    let mut headers: Vec<(String, String)> = res.headers().entries().collect();
    headers.sort();
    Ok(Answer {
        url: url.to_string(),
        status: res.status(),
        status_text: res.status_text(),
        headers,
        body: res.text().await.unwrap_or_default(),
    })
}
