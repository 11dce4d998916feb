//! The SSO tab: turn single sign-on on, see, copy and rotate the shared secret, test the hash,
//! copy a snippet for your stack, choose the settings, and read the log of recent logins.

use leptos::prelude::*;
use leptos_meta::Title;

use super::auth::follow_success;
use super::components::{format_time, CopyButton, CsrfField, FormError, TypeToConfirm, BUTTON};
use crate::dto::sso::{SsoLoginView, SsoView};
use crate::server_fns::sso::{
    portal_branding, sso_status, DisableSso, EnableSso, RevealSsoSecrets, RotateSsoSecret,
    SavePortalBranding, SaveSsoSettings, TestSsoHash,
};

const INPUT: &str = "mt-1 block rounded-md border border-slate-300 px-3 py-2 font-mono text-sm";
const SECONDARY: &str =
    "rounded-md border border-slate-300 px-3 py-1 text-sm text-slate-700 hover:bg-slate-100";

#[component]
pub fn SsoTab() -> impl IntoView {
    let status = Resource::new(|| (), |_| sso_status());
    view! {
        <Title text="SSO · subgate"/>
        <section data-tab="SSO" class="max-w-4xl">
            <h1 class="text-xl font-semibold">"SSO"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "Single sign-on for your subscribers: your server signs a subscriber's id with a shared secret and gets a one-time link that opens a hosted portal with their subscriptions: no new password for them."
            </p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(view) => view! { <SsoBody view=view/> }.into_any(),
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn SsoBody(view: SsoView) -> impl IntoView {
    let enable = ServerAction::<EnableSso>::new();
    let enable_error = follow_success(enable.value());
    let manages = view.your_role >= crate::dto::team::Role::Admin;
    let admins_only = (!manages).then(|| view! {
        <p id="secret-admins-only" class="mt-2 text-sm text-slate-600">"Your role in this business is " {view.your_role.as_str()} ": turning single sign-on on or off and revealing or rotating its secret need admin or above."</p>
    });
    if !view.enabled {
        return view! {
            <p id="sso-state" data-state="off" class="mt-6">"Single sign-on is off: the login endpoint refuses every call."</p>
            {admins_only}
            {manages.then(|| view! {
                <ActionForm action=enable attr:id="enable-sso-form" attr:class="mt-4">
                    <CsrfField/>
                    <button type="submit" id="enable-sso" class=BUTTON disabled=move || enable.pending().get()>"Turn on"</button>
                </ActionForm>
            })}
            <FormError error=enable_error/>
            <LoginLog logins=view.logins/>
        }
        .into_any();
    }
    let endpoint = view.endpoint_template.clone().unwrap_or_default();
    view! {
        <p id="sso-state" data-state="on" class="mt-6">
            "Single sign-on is on for the store " <code id="sso-store">{view.store.clone().unwrap_or_default()}</code> "."
        </p>
        <div class="mt-2 text-sm">
            <span class="font-medium">"Login endpoint: "</span>
            <code id="sso-endpoint" class="break-all text-xs">"POST " {endpoint.clone()}</code>
        </div>
        {admins_only}
        <Secrets view=view.clone() manages=manages/>
        <HashTester/>
        <Snippets endpoint=endpoint/>
        <Settings view=view.clone()/>
        <Branding/>
        {manages.then(|| view! { <TurnOff store=view.store.clone().unwrap_or_default()/> })}
        <LoginLog logins=view.logins/>
    }
    .into_any()
}

#[component]
fn Secrets(view: SsoView, manages: bool) -> impl IntoView {
    let reveal = ServerAction::<RevealSsoSecrets>::new();
    let rotate = ServerAction::<RotateSsoSecret>::new();
    let rotate_error = follow_success(rotate.value());
    let revealed = Signal::derive(move || reveal.value().get().and_then(Result::ok));
    let reveal_error = Signal::derive(move || reveal.value().get().and_then(Result::err));
    let current = Signal::derive(move || revealed.get().map(|r| r.current).unwrap_or_default());
    let previous =
        Signal::derive(move || revealed.get().and_then(|r| r.previous).unwrap_or_default());
    let masked = "••••••••••••••••••••••••••••••••";
    let current_meta = view.current.clone();
    let previous_meta = view.previous.clone();
    view! {
        <h2 class="mt-8 font-semibold">"Shared secret"</h2>
        <p class="text-sm text-slate-600">"Keep it on your server only. It is stored encrypted and shown only here."</p>
        <div id="sso-current-secret" class="mt-2 rounded-md border border-slate-200 p-3"
             data-generation=current_meta.as_ref().map(|m| m.generation.to_string())>
            <div class="flex items-center gap-2">
                <span class="text-sm font-medium">"Current"</span>
                <span class="text-xs text-slate-500">
                    {current_meta.as_ref().and_then(|m| m.created_at).map(|t| format!("created {}", format_time(t)))}
                </span>
            </div>
            <div class="mt-1 flex items-center gap-2">
                <code id="sso-secret" class="break-all font-mono text-sm">
                    {move || if revealed.get().is_some() { current.get() } else { masked.to_string() }}
                </code>
                <Show when=move || revealed.get().is_some()>
                    <CopyButton text=current id="copy-sso-secret"/>
                </Show>
            </div>
        </div>
        {previous_meta.map(|meta| view! {
            <div id="sso-previous-secret" class="mt-2 rounded-md border border-amber-200 bg-amber-50 p-3"
                 data-generation=meta.generation.to_string()>
                <div class="text-sm">
                    <span class="font-medium">"Previous"</span>
                    " — still accepted until "
                    <span id="sso-previous-expires">{meta.expires_at.map(format_time).unwrap_or_default()}</span>
                </div>
                <div class="mt-1 flex items-center gap-2">
                    <code id="sso-previous" class="break-all font-mono text-sm">
                        {move || if revealed.get().is_some() { previous.get() } else { masked.to_string() }}
                    </code>
                    <Show when=move || revealed.get().is_some()>
                        <CopyButton text=previous id="copy-sso-previous"/>
                    </Show>
                </div>
            </div>
        })}
        {manages.then(|| view! {
            <ActionForm action=reveal attr:id="reveal-sso-form" attr:class="mt-2">
                <CsrfField/>
                <button type="submit" id="reveal-sso-secret" class=SECONDARY
                        disabled=move || reveal.pending().get() || revealed.get().is_some()>"Reveal"</button>
            </ActionForm>
            <FormError error=reveal_error/>
            <ActionForm action=rotate attr:id="rotate-sso-form" attr:class="mt-4 flex flex-wrap items-end gap-3">
                <CsrfField/>
                <label class="block">
                    <span class="block text-sm font-medium">"Keep accepting the old secret for (hours)"</span>
                    <input type="number" name="overlap_hours" id="overlap-hours" value="24" min="0" max="168" required class=INPUT/>
                </label>
                <button type="submit" id="rotate-sso-secret" class=SECONDARY disabled=move || rotate.pending().get()>"Rotate secret"</button>
            </ActionForm>
            <FormError error=rotate_error/>
        })}
    }
}

#[component]
fn HashTester() -> impl IntoView {
    let test = ServerAction::<TestSsoHash>::new();
    let result = Signal::derive(move || test.value().get().and_then(Result::ok));
    let error = Signal::derive(move || test.value().get().and_then(Result::err));
    let curl = Signal::derive(move || result.get().map(|r| r.curl).unwrap_or_default());
    view! {
        <h2 class="mt-8 font-semibold">"Hash tester"</h2>
        <p class="text-sm text-slate-600">"The customer_hash your server should send for a subscriber id, with the current secret."</p>
        <ActionForm action=test attr:id="hash-tester-form" attr:class="mt-2 flex flex-wrap items-end gap-3">
            <CsrfField/>
            <label class="block">
                <span class="block text-sm font-medium">"Subscriber id"</span>
                <input name="subscriber_id" id="tester-subscriber-id" maxlength=191 required class=INPUT/>
            </label>
            <button type="submit" id="tester-submit" class=SECONDARY disabled=move || test.pending().get()>"Compute"</button>
        </ActionForm>
        <FormError error=error/>
        <Show when=move || result.get().is_some()>
            <div class="mt-2 space-y-2 text-sm">
                <div><span class="font-medium">"customer_hash: "</span>
                    <code id="tester-hash" class="break-all font-mono">{move || result.get().map(|r| r.customer_hash)}</code></div>
                <div class="flex items-start gap-2">
                    <pre tabindex="0" id="tester-curl" class="overflow-x-auto rounded-md p-3 text-xs surface-ink">{move || curl.get()}</pre>
                    <CopyButton text=curl label="Copy curl" id="copy-tester-curl"/>
                </div>
            </div>
        </Show>
    }
}

/// The login call in four stacks, with this store's real endpoint.
fn snippets(endpoint: &str) -> Vec<(&'static str, String)> {
    let (prefix, suffix) = endpoint
        .split_once("{subscriber_id}")
        .unwrap_or((endpoint, ""));
    vec![
        (
            "Node.js",
            format!(
                r#"const crypto = require('crypto');

// Node 18+: no dependency. Redirect the user's browser to the URL it returns.
async function subgateLoginUrl(subscriberId) {{
  const secret = process.env.SUBGATE_SSO_SECRET;
  const id = String(subscriberId);
  const customerHash = crypto.createHmac('sha256', secret).update(id).digest('hex');
  const res = await fetch(`{prefix}${{encodeURIComponent(id)}}{suffix}`, {{
    method: 'POST',
    headers: {{ 'Content-Type': 'application/json' }},
    body: JSON.stringify({{ customer_hash: customerHash }}),
  }});
  const body = await res.json();
  if (!body.success) throw new Error(body.message);
  return body.data.redirection_url;
}}"#
            ),
        ),
        (
            "PHP",
            format!(
                r#"<?php
$secret = getenv('SUBGATE_SSO_SECRET');
$id = (string) $subscriberId;
$customerHash = hash_hmac('sha256', $id, $secret);
$ch = curl_init('{prefix}' . rawurlencode($id) . '{suffix}');
curl_setopt_array($ch, [
    CURLOPT_POST => true,
    CURLOPT_RETURNTRANSFER => true,
    CURLOPT_HTTPHEADER => ['Content-Type: application/json'],
    CURLOPT_POSTFIELDS => json_encode(['customer_hash' => $customerHash]),
]);
$body = json_decode(curl_exec($ch), true);
if (empty($body['success'])) {{
    throw new RuntimeException($body['message'] ?? 'subgate SSO failed');
}}
header('Location: ' . $body['data']['redirection_url'], true, 303);"#
            ),
        ),
        (
            "Python",
            format!(
                r#"import hashlib, hmac, os, urllib.parse
import requests

def subgate_login_url(subscriber_id):
    secret = os.environ["SUBGATE_SSO_SECRET"]
    sid = str(subscriber_id)
    customer_hash = hmac.new(secret.encode(), sid.encode(), hashlib.sha256).hexdigest()
    url = "{prefix}" + urllib.parse.quote(sid, safe="") + "{suffix}"
    body = requests.post(url, json={{"customer_hash": customer_hash}}, timeout=10).json()
    if not body.get("success"):
        raise RuntimeError(body.get("message"))
    return body["data"]["redirection_url"]"#
            ),
        ),
        (
            "Shopify Liquid",
            format!(
                r#"{{% comment %}} The secret lives in a theme setting and never reaches the page; the
   hash does, so anyone who sees this customer's page source can sign in as them until
   you rotate the secret. Prefer a server-side call where you can. {{% endcomment %}}
{{% if customer %}}
  {{% assign subscriber_id = customer.id | append: '' %}}
  {{% assign customer_hash = subscriber_id | hmac_sha256: settings.subgate_sso_secret %}}
  <button id="manage-subscription">Manage subscription</button>
  <script>
    document.getElementById('manage-subscription').addEventListener('click', async () => {{
      const res = await fetch('{prefix}{{{{ subscriber_id }}}}{suffix}', {{
        method: 'POST',
        headers: {{ 'Content-Type': 'application/json' }},
        body: JSON.stringify({{ customer_hash: '{{{{ customer_hash }}}}' }}),
      }});
      const body = await res.json();
      if (body.success) window.location = body.data.redirection_url;
    }});
  </script>
{{% endif %}}"#
            ),
        ),
    ]
}

#[component]
fn Snippets(endpoint: String) -> impl IntoView {
    view! {
        <h2 class="mt-8 font-semibold">"Snippets"</h2>
        <p class="text-sm text-slate-600">
            "Each computes " <code>"customer_hash = hex(HMAC-SHA256(key = secret, message = subscriber id))"</code>
            " and calls your endpoint. With signed timestamps on, the message is "
            <code>"\"subgate-sso-v2/{subscriber_id}/{timestamp}/{nonce}\""</code> " and the body also carries "
            <code>"timestamp"</code> " (unix seconds) and " <code>"nonce"</code> "."
        </p>
        <div id="sso-snippets" class="mt-2 space-y-2">
            {snippets(&endpoint).into_iter().enumerate().map(|(i, (lang, code))| {
                let text = Signal::derive({ let code = code.clone(); move || code.clone() });
                view! {
                    <details class="rounded-md border border-slate-200" open=i == 0 data-lang=lang>
                        <summary class="cursor-pointer px-3 py-2 text-sm font-medium">{lang}</summary>
                        <div class="flex items-start gap-2 p-3">
                            <pre tabindex="0" class="flex-1 overflow-x-auto rounded-md p-3 text-xs surface-ink">{code}</pre>
                            <CopyButton text=text/>
                        </div>
                    </details>
                }
            }).collect_view()}
        </div>
    }
}

#[component]
fn Settings(view: SsoView) -> impl IntoView {
    let save = ServerAction::<SaveSsoSettings>::new();
    let error = follow_success(save.value());
    view! {
        <h2 class="mt-8 font-semibold">"Settings"</h2>
        <ActionForm action=save attr:id="sso-settings-form" attr:class="mt-2 space-y-3">
            <CsrfField/>
            <label class="block">
                <span class="block text-sm font-medium">"Link lifetime (seconds, at most " {view.max_link_ttl_secs} ")"</span>
                <input type="number" name="link_ttl_secs" id="link-ttl" min="10" max=view.max_link_ttl_secs
                       value=view.link_ttl_secs.to_string() required class=INPUT/>
            </label>
            <label class="flex items-center gap-2 text-sm">
                <input type="checkbox" name="bind_ip" id="bind-ip" checked=view.bind_ip/>
                "Bind each link to the end user's IP address (your server sends it as " <code>"ip"</code> ")"
            </label>
            <label class="flex items-center gap-2 text-sm">
                <input type="checkbox" name="require_signed_timestamps" id="require-signed" checked=view.require_signed_timestamps/>
                "Require signed timestamps (replay-proof: each hash is good once, for 5 minutes)"
            </label>
            <button type="submit" id="save-sso-settings" class=SECONDARY disabled=move || save.pending().get()>"Save settings"</button>
        </ActionForm>
        <FormError error=error/>
    }
}

/// What the subscriber portal shows of the store besides its name: the way back and where to
/// ask for help. Says "Saved" when saved.
#[component]
fn Branding() -> impl IntoView {
    let save = ServerAction::<SavePortalBranding>::new();
    let current = Resource::new(|| (), |_| portal_branding());
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let saved = move || save.value().get().is_some_and(|r| r.is_ok());
    view! {
        <h2 class="mt-8 font-semibold">"Your portal"</h2>
        <p class="text-sm text-slate-600">"Shown to your subscribers in the portal, beside your business name, and on the pages they see when signed out or when a link has expired."</p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let b = current.await.unwrap_or_default();
                view! {
                    <ActionForm action=save attr:id="portal-branding-form" attr:class="mt-2 space-y-3">
                        <CsrfField/>
                        <label class="block">
                            <span class="block text-sm font-medium">"Back to your store (https URL)"</span>
                            <input type="url" name="store_url" id="store-url" maxlength="2000" placeholder="https://shop.example.com/account"
                                   value=b.store_url.unwrap_or_default() class=INPUT/>
                        </label>
                        <label class="block">
                            <span class="block text-sm font-medium">"Support email"</span>
                            <input type="email" name="support_email" id="support-email" maxlength="254" placeholder="help@shop.example.com"
                                   value=b.support_email.unwrap_or_default() class=INPUT/>
                        </label>
                        <label class="block">
                            <span class="block text-sm font-medium">"Accent colour (buttons and the top edge)"</span>
                            <input type="text" name="accent" id="portal-accent" maxlength="7" pattern="#[0-9A-Fa-f]{6}" placeholder="#4f46e5"
                                   value=b.accent.unwrap_or_default() class=INPUT/>
                        </label>
                        <label class="block">
                            <span class="block text-sm font-medium">"Logo (https URL of an image)"</span>
                            <input type="url" name="logo_url" id="portal-logo-url" maxlength="2000" placeholder="https://shop.example.com/logo.png"
                                   value=b.logo_url.unwrap_or_default() class=INPUT/>
                        </label>
                        <button type="submit" id="save-portal-branding" class=SECONDARY disabled=move || save.pending().get()>"Save"</button>
                        {move || saved().then(|| view! { <span id="portal-branding-saved" role="status" class="ml-2 text-sm text-emerald-700">"Saved"</span> })}
                    </ActionForm>
                }
            })}
        </Suspense>
        <FormError error=error/>
    }
}

/// Asks for the store's name first.
#[component]
fn TurnOff(store: String) -> impl IntoView {
    let disable = ServerAction::<DisableSso>::new();
    let error = follow_success(disable.value());
    view! {
        <ActionForm action=disable attr:id="disable-sso-form" attr:class="mt-8 rounded-md border border-red-200 p-3">
            <CsrfField/>
            <h2 class="font-semibold text-red-800">"Turn off single sign-on"</h2>
            <p class="text-xs text-slate-500">"Logins stop at once, open portal sessions end and the secret is destroyed; turning it on again creates a new one."</p>
            <TypeToConfirm id="disable-sso-confirm" what="the store name" expected=store/>
            <button type="submit" id="disable-sso" class="mt-2 rounded-md border border-red-400 px-3 py-1 text-sm text-red-700"
                    disabled=move || disable.pending().get()>"Turn off single sign-on"</button>
        </ActionForm>
        <FormError error=error/>
    }
}

#[component]
fn LoginLog(logins: Vec<SsoLoginView>) -> impl IntoView {
    view! {
        <h2 class="mt-8 font-semibold">"Recent logins"</h2>
        {if logins.is_empty() {
            view! { <p id="sso-log-empty" class="text-sm text-slate-500">"No login calls yet."</p> }.into_any()
        } else {
            view! {
                <table id="sso-log" class="mt-2 w-full text-left text-sm">
                    <thead><tr class="border-b"><th>"Time"</th><th>"Subscriber"</th><th>"Outcome"</th><th>"IP"</th><th>"User agent"</th></tr></thead>
                    <tbody>
                        {logins.into_iter().map(|l| { let sid = l.subscriber_id.clone(); view! {
                            <tr class="border-b" data-outcome=l.outcome.clone() data-subscriber=sid>
                                <td class="whitespace-nowrap pr-3">{format_time(l.at)}</td>
                                <td class="pr-3"><code>{l.subscriber_id}</code></td>
                                <td class="pr-3">{l.outcome.replace('_', " ")}</td>
                                <td class="pr-3"><code>{l.ip}</code></td>
                                <td class="max-w-xs truncate text-xs text-slate-500">{l.user_agent}</td>
                            </tr>
                        }}).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}
