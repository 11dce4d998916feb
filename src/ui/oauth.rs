//! The OAuth tab: register clients, manage them, copy snippets with their real ids and URLs,
//! and run a real authorization-code + PKCE flow in the browser (the playground).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::components::{CopyButton, CsrfField, FormError, When, BUTTON};
use crate::dto::{ClientView, IssuedClient, OAuthEndpoints};
use crate::server_fns::oauth::{
    get_client, list_clients, oauth_endpoints, CreateClient, DeleteClient, EndSecretOverlap,
    RegenerateSecret, UpdateClient,
};

const INPUT: &str =
    "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 font-mono text-sm";
const ALL_SCOPES: &str = "customers:read customers:write subscriptions:read portal:write";

fn error_of<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, crate::error::AppError>>> + Send + Sync + 'static,
) -> Signal<Option<crate::error::AppError>> {
    Signal::derive(move || value.get().and_then(Result::err))
}

#[component]
fn SecretOnce(secret: String) -> impl IntoView {
    view! {
        <div class="mt-4 rounded-md border border-amber-300 bg-amber-50 p-4" id="secret-panel">
            <p class="font-semibold text-amber-900">"Client secret: copy it now, it will not be shown again."</p>
            <div class="mt-2 flex items-center gap-2">
                <code id="client-secret" class="block break-all font-mono text-sm">{secret.clone()}</code>
                <CopyButton text=secret id="copy-client-secret"/>
            </div>
        </div>
    }
}

/// Fields shared by the register and edit forms.
#[component]
fn ClientFields(
    #[prop(optional)] existing: Option<ClientView>,
    playground_uri: String,
) -> impl IntoView {
    let c = existing.clone();
    let name = c.as_ref().map(|c| c.name.clone()).unwrap_or_default();
    let uris = c
        .as_ref()
        .map(|c| c.redirect_uris.join("\n"))
        .unwrap_or(playground_uri);
    let scopes = c
        .as_ref()
        .map(|c| c.scopes.clone())
        .unwrap_or_else(|| ALL_SCOPES.to_string());
    let audiences = c
        .as_ref()
        .map(|c| c.audiences.join("\n"))
        .unwrap_or_default();
    let ttl = c
        .as_ref()
        .map(|c| c.access_token_ttl.to_string())
        .unwrap_or_default();
    let origins = c
        .as_ref()
        .map(|c| c.allowed_origins.join("\n"))
        .unwrap_or_default();
    let kind = c.as_ref().map(|c| c.client_type.clone());
    view! {
        <label class="block"><span class="text-sm font-medium">"Name"</span>
            <input name="name" id="client-name-input" value=name maxlength=100 required class=INPUT/></label>
        {match kind {
            Some(kind) => view! { <input type="hidden" name="client_type" value=kind/> }.into_any(),
            None => view! {
                <label class="block"><span class="text-sm font-medium">"Type"</span>
                    <select name="client_type" id="client-type" class=INPUT>
                        <option value="public">"Public: authorization code + PKCE (browser, mobile, CLI)"</option>
                        <option value="confidential">"Confidential: a server with a secret (adds client credentials)"</option>
                    </select></label>
            }.into_any(),
        }}
        <label class="block"><span class="text-sm font-medium">"Redirect URIs (one per line, matched exactly; https, or http on localhost)"</span>
            <textarea name="redirect_uris" id="redirect-uris" rows=3 class=INPUT>{uris}</textarea></label>
        <label class="block"><span class="text-sm font-medium">"Allowed scopes (space-separated)"</span>
            <input name="scopes" id="scopes-input" value=scopes class=INPUT/>
            <span class="text-xs text-slate-500">{ALL_SCOPES}</span></label>
        <label class="block"><span class="text-sm font-medium">"Allowed audiences (one per line; empty means this server's API)"</span>
            <textarea name="audiences" id="audiences" rows=2 class=INPUT>{audiences}</textarea>
            <span class="text-xs text-slate-500">"Only audiences this server answers to (set by the operator in SUBGATE_API_AUDIENCES)."</span></label>
        <label class="block"><span class="text-sm font-medium">"Access-token lifetime in seconds (300 to 86400; empty means 3600)"</span>
            <input name="access_token_ttl" id="access-token-ttl" value=ttl inputmode="numeric" placeholder="3600" class=INPUT/></label>
        <label class="block"><span class="text-sm font-medium">"Allowed origins for browser calls (CORS; one per line, e.g. https://app.example.com)"</span>
            <textarea name="allowed_origins" id="allowed-origins" rows=2 class=INPUT>{origins}</textarea>
            <span class="text-xs text-slate-500">"Pages on these exact origins may call the token endpoint and the API with this client's tokens. Never with cookies."</span></label>
    }
}

#[component]
pub fn OAuthTab() -> impl IntoView {
    let create = ServerAction::<CreateClient>::new();
    let clients = Resource::new(move || create.version().get(), |_| list_clients());
    let endpoints = Resource::new(|| (), |_| oauth_endpoints());
    // a viewer reads the clients but is not offered the form (the server refuses it anyway)
    let me = Resource::new(|| (), |_| crate::server_fns::auth::current_merchant());
    let issued = move || create.value().get().and_then(Result::ok);
    // a registered client empties the form: pressing Register again must not make a twin
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    view! {
        <Title text="OAuth · subgate"/>
        <section data-tab="OAuth" class="grid gap-8 *:min-w-0 lg:grid-cols-2">
            <div>
                <h1 class="text-xl font-semibold">"OAuth"</h1>
                <p class="mt-1 text-sm text-slate-600">"API clients of your backend. Public clients use authorization code + PKCE; confidential clients also get a secret for client credentials."</p>
                <h2 class="mt-6 font-semibold">"Your clients"</h2>
                <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match clients.await {
                            Ok(list) if list.is_empty() => view! { <p id="no-clients" class="text-slate-500">"No clients yet."</p> }.into_any(),
                            Ok(list) => view! {
                                <ul id="clients" class="mt-2 divide-y rounded-md border">
                                    {list.into_iter().map(|c| view! {
                                        <li class="flex items-center justify-between p-3" data-client-id=c.id.clone()>
                                            <div><span class="font-medium">{c.name.clone()}</span>
                                                 <span class="ml-2 rounded bg-slate-100 px-2 text-xs">{c.client_type.clone()}</span>
                                                 <code class="block text-xs text-slate-500">{c.id.clone()}</code></div>
                                            <A href=format!("/dashboard/oauth/clients/{}", c.id) attr:class="text-indigo-600 underline">"Manage"</A>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
            <div>
                <h2 class="font-semibold">"Register a client"</h2>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let playground = endpoints.await.map(|e| e.playground_redirect_uri).unwrap_or_default();
                        let role = me.await.ok().flatten().map(|m| m.role);
                        if let Some(role) = role.filter(|r| *r < crate::dto::team::Role::Developer) {
                            return view! {
                                <p id="read-only" class="mt-2 text-sm text-slate-600">"Your role in this business is " {role.as_str()} ": you can read its clients; registering one needs developer or above."</p>
                            }.into_any();
                        }
                        view! {
                            <ActionForm action=create node_ref=form attr:class="mt-2 space-y-3" attr:id="register-client">
                                <CsrfField/>
                                <ClientFields playground_uri=playground/>
                                <FormError error=error_of(create.value())/>
                                <button type="submit" class=BUTTON>"Register"</button>
                            </ActionForm>
                        }.into_any()
                    })}
                </Suspense>
                {move || issued().map(|IssuedClient { client, secret }| view! {
                    <div class="mt-4 rounded-md border border-emerald-300 bg-emerald-50 p-4" id="registered">
                        <p>"Registered " <strong>{client.name.clone()}</strong> ": client id "
                           <code id="new-client-id">{client.id.clone()}</code></p>
                        <A href=format!("/dashboard/oauth/clients/{}", client.id) attr:class="text-indigo-600 underline">"Open it"</A>
                    </div>
                    {secret.map(|s| view! { <SecretOnce secret=s/> })}
                })}
            </div>
        </section>
    }
}

#[component]
pub fn ClientPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let update = ServerAction::<UpdateClient>::new();
    let delete = ServerAction::<DeleteClient>::new();
    let regenerate = ServerAction::<RegenerateSecret>::new();
    let end_overlap = ServerAction::<EndSecretOverlap>::new();
    let client = Resource::new(
        move || {
            (
                id(),
                update.version().get() + regenerate.version().get() + end_overlap.version().get(),
            )
        },
        |(id, _)| get_client(id),
    );
    let endpoints = Resource::new(|| (), |_| oauth_endpoints());
    let me = Resource::new(|| (), |_| crate::server_fns::auth::current_merchant());
    let deleted = super::auth::follow_success(delete.value());
    view! {
        <Title text="OAuth client · subgate"/>
        <section data-tab="OAuth">
            <A href="/dashboard/oauth" attr:class="text-sm text-indigo-600 underline">"← All clients"</A>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (client, endpoints) = match (client.await, endpoints.await) {
                        (Ok(c), Ok(e)) => (c, e),
                        (Err(e), _) | (_, Err(e)) => return view! { <p role="alert" id="client-error">{e.to_string()}</p> }.into_any(),
                    };
                    // a viewer reads the client; changing it needs developer or above (the server
                    // refuses the others anyway)
                    let read_only = me.await.ok().flatten().map(|m| m.role)
                        .filter(|r| *r < crate::dto::team::Role::Developer);
                    let confidential = client.client_type == "confidential";
                    let client_id = client.id.clone();
                    let regenerate_view = (confidential && read_only.is_none()).then(|| {
                        let client_id = client_id.clone();
                        let overlap = client.previous_secret_until.map(|until| {
                            let client_id = client_id.clone();
                            view! {
                                <div id="secret-overlap" class="mt-6 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900">
                                    "The previous secret still works until " <When at=until/> "."
                                    <ActionForm action=end_overlap attr:class="mt-2">
                                        <CsrfField/>
                                        <input type="hidden" name="client_id" value=client_id/>
                                        <button type="submit" id="end-secret-overlap" class="rounded-md border border-amber-400 px-3 py-1 text-sm">"Stop the previous secret now"</button>
                                    </ActionForm>
                                    <FormError error=error_of(end_overlap.value())/>
                                </div>
                            }
                        });
                        view! {
                            {overlap}
                            // asked first, with how long the replaced secret keeps working
                            <details id="regenerate-secret" class="mt-6">
                                <summary class="cursor-pointer text-sm font-medium text-amber-800">"Regenerate secret…"</summary>
                                <ActionForm action=regenerate attr:class="mt-2 rounded-md border border-amber-300 p-3">
                                    <p class="text-xs text-slate-600">"Every server that uses this client needs the new secret. Keep the current one working for a while to move them one at a time, or stop it at once if it leaked."</p>
                                    <CsrfField/>
                                    <input type="hidden" name="client_id" value=client_id.clone()/>
                                    <label for="overlap-hours" class="mt-2 block text-sm">"The current secret keeps working"</label>
                                    <select id="overlap-hours" name="overlap_hours" class="mt-1 block rounded-md border border-slate-300 px-3 py-2 text-sm">
                                        <option value="0" selected>"Not at all: it stops now"</option>
                                        <option value="1">"For 1 hour"</option>
                                        <option value="24">"For 24 hours"</option>
                                        <option value="72">"For 3 days"</option>
                                        <option value="168">"For 7 days"</option>
                                    </select>
                                    <button type="submit" class="mt-2 rounded-md border border-amber-400 px-3 py-1 text-sm">"Regenerate now"</button>
                                </ActionForm>
                                <FormError error=error_of(regenerate.value())/>
                            </details>
                            {move || regenerate.value().get().and_then(Result::ok).map(|s| view! { <SecretOnce secret=s/> })}
                        }
                    });
                    let playground = (!confidential).then({
                        let (c, e) = (client.clone(), endpoints.clone());
                        move || view! { <PlaygroundStart client=c endpoints=e/> }
                    });
                    let (name, kind) = (client.name.clone(), client.client_type.clone());
                    let (for_fields, for_snippets) = (client.clone(), client.clone());
                    let (id_edit, id_delete) = (client_id.clone(), client_id.clone());
                    view! {
                        <h1 class="mt-2 text-xl font-semibold" id="client-title">{name}</h1>
                        <p class="text-sm">"Client id " <code id="client-id">{client_id.clone()}</code>
                           " · " <span id="client-type-label">{kind}</span></p>
                        <div class="mt-6 grid gap-8 *:min-w-0 lg:grid-cols-2">
                            <div>
                                <h2 class="font-semibold">"Settings"</h2>
                                {read_only.map(|role| view! {
                                    <p id="client-read-only" class="mt-2 text-sm text-slate-600">"Your role in this business is " {role.as_str()} ": changing, deleting or regenerating this client needs developer or above."</p>
                                    <fieldset disabled class="mt-2 space-y-3"><ClientFields existing=for_fields.clone() playground_uri=String::new()/></fieldset>
                                })}
                                {read_only.is_none().then(|| view! {
                                <ActionForm action=update attr:class="mt-2 space-y-3" attr:id="edit-client">
                                    <CsrfField/>
                                    <input type="hidden" name="client_id" value=id_edit.clone()/>
                                    <ClientFields existing=for_fields.clone() playground_uri=String::new()/>
                                    <FormError error=error_of(update.value())/>
                                    <button type="submit" class=BUTTON>"Save"</button>
                                </ActionForm>
                                {regenerate_view}
                                <details id="delete-client" class="mt-6">
                                    <summary class="cursor-pointer text-sm font-medium text-red-700">"Delete client…"</summary>
                                    <ActionForm action=delete attr:class="mt-2 rounded-md border border-red-200 p-3">
                                        <p class="text-xs text-slate-600">"Its tokens stop working and apps using it can no longer sign in. This cannot be undone."</p>
                                        <CsrfField/>
                                        <input type="hidden" name="client_id" value=id_delete.clone()/>
                                        <button type="submit" class="mt-2 rounded-md border border-red-400 px-3 py-1 text-sm text-red-700">"Delete for good"</button>
                                    </ActionForm>
                                </details>
                                <FormError error=deleted/>
                                })}
                            </div>
                            <div>
                                <Snippets client=for_snippets endpoints=endpoints/>
                                {playground}
                            </div>
                        </div>
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Snippets(client: ClientView, endpoints: OAuthEndpoints) -> impl IntoView {
    let OAuthEndpoints {
        authorize_url,
        token_url,
        api_audience,
        ..
    } = endpoints;
    let redirect = client
        .redirect_uris
        .first()
        .cloned()
        .unwrap_or_else(|| "https://your.app/callback".into());
    let id = client.id.clone();
    let audience = client.audiences.first().cloned().unwrap_or(api_audience);
    let curl = format!(
        "curl -s -X POST {token_url} \\\n  -u '{id}:YOUR_CLIENT_SECRET' \\\n  -d grant_type=client_credentials \\\n  -d audience={audience} \\\n  -d 'scope={}'",
        client.scopes
    );
    let python = format!(
        "# pip install flask requests-oauthlib\nfrom flask import Flask, redirect, request, session\nfrom requests_oauthlib import OAuth2Session\n\n\
         CLIENT_ID = \"{id}\"\nAUTHORIZE_URL = \"{authorize_url}\"\nTOKEN_URL = \"{token_url}\"\nREDIRECT_URI = \"{redirect}\"\n\n\
         app = Flask(__name__)\napp.secret_key = \"change me\"\n\n@app.route(\"/login\")\ndef login():\n    \
         oauth = OAuth2Session(CLIENT_ID, redirect_uri=REDIRECT_URI, scope=\"{scopes}\", pkce=\"S256\")\n    \
         url, state = oauth.authorization_url(AUTHORIZE_URL)\n    session[\"state\"], session[\"verifier\"] = state, oauth._code_verifier\n    \
         return redirect(url)\n\n@app.route(\"/callback\")\ndef callback():\n    \
         oauth = OAuth2Session(CLIENT_ID, redirect_uri=REDIRECT_URI, state=session[\"state\"], pkce=\"S256\")\n    \
         oauth._code_verifier = session[\"verifier\"]\n    token = oauth.fetch_token(TOKEN_URL, authorization_response=request.url, include_client_id=True)\n    \
         return token",
        scopes = client.scopes
    );
    let js = format!(
        "// browser: authorization code + PKCE (S256); add this page's origin under Allowed origins (CORS)\nconst b64url = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');\n\
         const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));\n\
         const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));\n\
         sessionStorage.setItem('pkce_verifier', verifier);\n\
         location.assign('{authorize_url}?' + new URLSearchParams({{ response_type: 'code', client_id: '{id}',\n  redirect_uri: '{redirect}', code_challenge: challenge, code_challenge_method: 'S256', state: crypto.randomUUID() }}));\n\n\
         // on {redirect}:\nconst code = new URLSearchParams(location.search).get('code');\n\
         const res = await fetch('{token_url}', {{ method: 'POST', body: new URLSearchParams({{ grant_type: 'authorization_code', client_id: '{id}',\n  code, redirect_uri: '{redirect}', code_verifier: sessionStorage.getItem('pkce_verifier') }}) }});\n\
         const {{ access_token, refresh_token }} = await res.json();"
    );
    let pre = "mt-1 overflow-x-auto rounded-md p-3 text-xs surface-ink";
    view! {
        <h2 class="font-semibold">"Snippets"</h2>
        {(client.client_type == "confidential").then(|| view! {
            <p class="mt-2 text-sm">"Client credentials (curl):"</p>
            <pre tabindex="0" id="snippet-curl" class=pre>{curl}</pre>
        })}
        <p class="mt-2 text-sm">"Authorization code + PKCE in Python (Flask):"</p>
        <pre tabindex="0" id="snippet-python" class=pre>{python}</pre>
        <p class="mt-2 text-sm">"Authorization code + PKCE in JavaScript:"</p>
        <pre tabindex="0" id="snippet-js" class=pre>{js}</pre>
    }
}

#[cfg(feature = "hydrate")]
const PLAYGROUND_KEY: &str = "subgate.pkce_playground";

/// Starts a real flow: verifier and S256 challenge made in this browser, then off to the
/// authorization endpoint; the playground page finishes it.
#[component]
fn PlaygroundStart(client: ClientView, endpoints: OAuthEndpoints) -> impl IntoView {
    let registered = client
        .redirect_uris
        .contains(&endpoints.playground_redirect_uri);
    let needed_uri = endpoints.playground_redirect_uri.clone();
    let start = move |_| {
        #[cfg(feature = "hydrate")]
        playground::start(
            &client.id,
            &endpoints.authorize_url,
            &endpoints.playground_redirect_uri,
            &endpoints.token_url,
            None,
        );
    };
    view! {
        <h2 class="mt-6 font-semibold">"PKCE playground"</h2>
        {if registered {
            view! {
                <p class="text-sm text-slate-600">"Runs authorization code + PKCE against this server from your browser and shows every step."</p>
                <button id="playground-start" class=BUTTON on:click=start>"Start the flow"</button>
            }.into_any()
        } else {
            view! { <p class="text-sm text-slate-600" id="playground-needs-uri">"Add the redirect URI " <code>{needed_uri.clone()}</code> " to use the playground."</p> }.into_any()
        }}
    }
}

#[component]
pub fn PlaygroundPage() -> impl IntoView {
    let query = use_query_map();
    let steps = RwSignal::new(Vec::<(String, String)>::new());
    Effect::new(move |_| {
        let code = query.read().get("code");
        let error = query.read().get("error");
        let state = query.read().get("state");
        #[cfg(feature = "hydrate")]
        playground::finish(code, error, state, steps);
        #[cfg(not(feature = "hydrate"))]
        let _ = (code, error, state);
    });
    view! {
        <Title text="PKCE playground · subgate"/>
        <section data-tab="OAuth">
            <A href="/dashboard/oauth" attr:class="text-sm text-indigo-600 underline">"← All clients"</A>
            <h1 class="mt-2 text-xl font-semibold">"PKCE playground"</h1>
            <ol id="playground-steps" class="mt-4 space-y-4">
                {move || steps.get().into_iter().map(|(title, body)| view! {
                    <li data-step=title.clone()><h2 class="font-semibold">{title.clone()}</h2>
                        <pre tabindex="0" class="mt-1 overflow-x-auto rounded-md p-3 text-xs surface-ink">{body}</pre></li>
                }).collect_view()}
            </ol>
        </section>
    }
}

#[cfg(feature = "hydrate")]
pub(crate) mod playground {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;
    use leptos::prelude::*;
    use sha2::{Digest, Sha256};

    use super::PLAYGROUND_KEY;

    fn random(bytes: usize) -> String {
        let mut buf = vec![0u8; bytes];
        let _ = window()
            .crypto()
            .and_then(|c| c.get_random_values_with_u8_array(&mut buf));
        B64.encode(buf)
    }

    fn storage() -> Option<web_sys::Storage> {
        window().session_storage().ok().flatten()
    }

    /// Sends the browser to the authorization endpoint. With `return_to` (the API tab), the
    /// token is handed to that page once the flow finishes, and the browser goes back there.
    pub fn start(
        client_id: &str,
        authorize_url: &str,
        redirect_uri: &str,
        token_url: &str,
        return_to: Option<&str>,
    ) {
        let verifier = random(32);
        let challenge = B64.encode(Sha256::digest(verifier.as_bytes()));
        let state = random(16);
        let Ok(params) = web_sys::UrlSearchParams::new() else {
            return;
        };
        for (k, v) in [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("state", &state),
            ("approval_prompt", "force"),
        ] {
            params.append(k, v);
        }
        let url = format!("{authorize_url}?{}", String::from(params.to_string()));
        let saved = serde_json::json!({ "verifier": verifier, "challenge": challenge, "state": state, "client_id": client_id,
                                        "redirect_uri": redirect_uri, "token_url": token_url, "authorize_url": url,
                                        "return_to": return_to });
        if let Some(s) = storage() {
            let _ = s.set_item(PLAYGROUND_KEY, &saved.to_string());
        }
        let _ = window().location().assign(&url);
    }

    fn decode_jwt(token: &str) -> String {
        token
            .split('.')
            .take(2)
            .filter_map(|part| B64.decode(part).ok())
            .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn finish(
        code: Option<String>,
        error: Option<String>,
        state: Option<String>,
        steps: RwSignal<Vec<(String, String)>>,
    ) {
        let saved: Option<serde_json::Value> = storage()
            .and_then(|s| s.get_item(PLAYGROUND_KEY).ok().flatten())
            .and_then(|s| serde_json::from_str(&s).ok());
        let Some(saved) = saved else {
            steps.set(vec![(
                "Nothing to finish".into(),
                "Start the flow from a public client's page.".into(),
            )]);
            return;
        };
        let field = |k: &str| saved[k].as_str().unwrap_or_default().to_string();
        let mut shown = vec![
            (
                "1. Authorization request".to_string(),
                field("authorize_url"),
            ),
            (
                "PKCE".to_string(),
                format!(
                    "code_verifier = {}\ncode_challenge = BASE64URL(SHA256(verifier)) = {}",
                    field("verifier"),
                    field("challenge")
                ),
            ),
        ];
        if let Some(error) = error {
            shown.push(("2. The server answered with an error".into(), error));
            steps.set(shown);
            return;
        }
        let Some(code) = code else { return };
        if state.as_deref() != Some(field("state").as_str()) {
            shown.push((
                "2. State mismatch".into(),
                "The state returned does not match the one sent: stopping.".into(),
            ));
            steps.set(shown);
            return;
        }
        shown.push(("2. Authorization code".into(), code.clone()));
        steps.set(shown.clone());
        if let Some(s) = storage() {
            let _ = s.remove_item(PLAYGROUND_KEY);
        }
        let return_to = saved["return_to"].as_str().map(String::from);
        let client_name = saved["client_id"].as_str().unwrap_or_default().to_string();
        let origin = window().location().origin().unwrap_or_default();
        let field = move |k: &str| saved[k].as_str().unwrap_or_default().to_string();
        leptos::task::spawn_local(async move {
            let Ok(form) = web_sys::UrlSearchParams::new() else {
                return;
            };
            for (k, v) in [
                ("grant_type", "authorization_code".to_string()),
                ("client_id", field("client_id")),
                ("code", code),
                ("redirect_uri", field("redirect_uri")),
                ("code_verifier", field("verifier")),
            ] {
                form.append(k, &v);
            }
            let request = gloo_net::http::Request::post(&field("token_url"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(String::from(form.to_string()));
            let body = match request {
                Ok(r) => match r.send().await {
                    Ok(res) => res.text().await.unwrap_or_default(),
                    Err(e) => e.to_string(),
                },
                Err(e) => e.to_string(),
            };
            let parsed: serde_json::Value =
                serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
            shown.push((
                "3. Token response".into(),
                serde_json::to_string_pretty(&parsed).unwrap_or(body),
            ));
            if let Some(token) = parsed["access_token"].as_str() {
                shown.push(("4. Decoded access token".into(), decode_jwt(token)));
                if let Some(back) =
                    return_to.filter(|b| b.starts_with('/') || b.starts_with(&origin))
                {
                    let handed = serde_json::json!({ "token": token, "client": client_name });
                    if let Some(s) = storage() {
                        let _ = s
                            .set_item(crate::ui::explorer::EXPLORER_TOKEN_KEY, &handed.to_string());
                    }
                    let _ = window().location().assign(&back);
                }
            }
            steps.set(shown);
        });
    }
}
