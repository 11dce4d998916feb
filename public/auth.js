// The sign-in pages' plain JavaScript, loaded by every page (a few KB, apart from the wasm
// bundle): passkeys, and the background posting of forms on pages served without the bundle.
//
// Passkeys: the WebAuthn calls between subgate's two server functions of each ceremony
// (src/server_fns/passkeys.rs). Any element with `data-passkey-box` is shown when this browser
// can use passkeys here; its button `data-passkey="login" | "register" | "check"` runs that
// ceremony, and its `[data-passkey-error]` element tells what went wrong. WebAuthn carries bytes
// (ArrayBuffers); the server speaks JSON with base64url strings (webauthn-rs's format).
//
// Static pages (`<body data-hydrated="static">`: the login and its second step, served without
// the wasm bundle so that they load in a few KB): their server-function forms post in the
// background as the hydrated app's ActionForm does, so an error shows in place and what was
// typed stays. Without this script they still work: a plain post, and the error comes back in
// the address (server_fn's form redirect), where the page renders it.

const meta = (name) => document.querySelector(`meta[name='${name}']`)?.content ?? '';

const fromB64url = (s) => {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
};

const toB64url = (buf) => {
  let raw = '';
  for (const byte of new Uint8Array(buf)) raw += String.fromCharCode(byte);
  return btoa(raw).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

// webauthn-rs writes absent options as null; WebAuthn's dictionaries want them left out
const withoutNulls = (value) => {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
};

const withIds = (list) => (list ?? []).map((c) => ({ ...c, id: fromB64url(c.id) }));

const creationOptions = (options) => {
  const pk = withoutNulls(options.publicKey);
  return {
    publicKey: {
      ...pk,
      challenge: fromB64url(pk.challenge),
      user: { ...pk.user, id: fromB64url(pk.user.id) },
      excludeCredentials: withIds(pk.excludeCredentials),
    },
  };
};

const requestOptions = (options) => {
  const pk = withoutNulls(options.publicKey);
  return {
    publicKey: {
      ...pk,
      challenge: fromB64url(pk.challenge),
      allowCredentials: withIds(pk.allowCredentials),
    },
  };
};

const answer = (credential) => {
  const r = credential.response;
  const response = r.attestationObject
    ? {
        attestationObject: toB64url(r.attestationObject),
        clientDataJSON: toB64url(r.clientDataJSON),
        transports: r.getTransports?.() ?? [],
      }
    : {
        authenticatorData: toB64url(r.authenticatorData),
        clientDataJSON: toB64url(r.clientDataJSON),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null,
      };
  return JSON.stringify({
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    response,
    extensions: credential.getClientExtensionResults?.() ?? {},
  });
};

// one server function; its error body is subgate's `{"error", "message"}`
const call = async (endpoint, fields) => {
  const token = meta('csrf-token');
  const res = await fetch(`/fn/${endpoint}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
      'X-CSRF-Token': token,
    },
    body: new URLSearchParams({ csrf_token: token, ...fields }),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`The server answered ${res.status}.`);
  }
  if (!res.ok) throw new Error(body?.message ?? `The server answered ${res.status}.`);
  return body;
};

const ceremonies = {
  async login(box) {
    const options = await call('passkey_login_start', {});
    const credential = await navigator.credentials.get(requestOptions(options));
    const next = new URLSearchParams(location.search).get('next') ?? '';
    return call('passkey_login_finish', { credential: answer(credential), next });
  },
  async register(box) {
    const name = box.querySelector("input[name='passkey_name']")?.value ?? '';
    const options = await call('passkey_register_start', {});
    const credential = await navigator.credentials.create(creationOptions(options));
    return call('passkey_register_finish', { credential: answer(credential), name });
  },
  async check(box) {
    const options = await call('passkey_check_start', {});
    const credential = await navigator.credentials.get(requestOptions(options));
    return call('passkey_check_finish', { credential: answer(credential) });
  },
};

const say = (box, text) => {
  const out = box.querySelector('[data-passkey-error]');
  if (out) out.textContent = text;
};

// the browser's refusals, in words (a cancelled prompt is not an error worth more)
const explain = (e) => {
  if (e?.name === 'NotAllowedError') return 'The passkey prompt was closed or timed out. Try again.';
  if (e?.name === 'InvalidStateError') return 'This device already holds a passkey for this account.';
  if (e?.name === 'SecurityError') return 'This browser refused passkeys on this address.';
  return e?.message || 'Something went wrong. Try again.';
};

document.addEventListener('click', async (event) => {
  const button = event.target.closest?.('[data-passkey]');
  const box = button?.closest('[data-passkey-box]');
  const run = ceremonies[button?.dataset.passkey];
  if (!box || !run || button.disabled) return;
  event.preventDefault();
  button.disabled = true;
  say(box, '');
  try {
    location.assign(await run(box));
  } catch (e) {
    say(box, explain(e));
    button.disabled = false;
  }
});

// shows each box where passkeys can work: this browser has WebAuthn and the page is on the
// origin the passkeys are bound to (with `make run`, http://localhost:3000, not 127.0.0.1)
const origin = meta('passkey-origin');
const reveal = () => {
  for (const box of document.querySelectorAll('[data-passkey-box][hidden]')) {
    if (!origin || !window.PublicKeyCredential) continue;
    box.hidden = false;
    if (location.origin !== origin) {
      for (const b of box.querySelectorAll('[data-passkey]')) b.disabled = true;
      say(box, `Passkeys work at ${origin}: open this page there to use them.`);
    }
  }
};
reveal();
// pages rendered later (a tab loaded after hydration) bring their own boxes
new MutationObserver(reveal).observe(document.documentElement, { childList: true, subtree: true });

// a static page's form, posted as the hydrated app would: JSON back, the next page or the error
const formError = (form, text) => {
  let out = form.querySelector("[data-testid='form-error']");
  if (!out) {
    out = document.createElement('p');
    out.setAttribute('role', 'alert');
    out.dataset.testid = 'form-error';
    out.className = 'rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800';
    const submit = form.querySelector("button[type='submit']");
    submit ? submit.before(out) : form.append(out);
  }
  out.textContent = text;
};

document.addEventListener('submit', async (event) => {
  const form = event.target;
  if (document.body.dataset.hydrated !== 'static' || !form.matches?.("form[action^='/fn/']")) return;
  event.preventDefault();
  const submit = form.querySelector("button[type='submit']");
  if (submit) submit.disabled = true;
  try {
    const res = await fetch(form.action, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(new FormData(form)),
    });
    const body = await res.json().catch(() => null);
    if (res.ok && typeof body === 'string') {
      location.assign(body);
      return;
    }
    formError(form, body?.message ?? `The server answered ${res.status}.`);
  } catch {
    formError(form, 'Could not reach the server. Check the connection and try again.');
  }
  if (submit) submit.disabled = false;
});
