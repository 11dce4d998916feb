// The published clients subgate was made from, run as a merchant would run them: each on its own
// origin (another host name and port), unchanged but for base URL, client id and redirect URI.
//   recursiv's Flask PKCE client under Flask (end2end/seeds/recursiv_client.py)
//   Riverty's curl token request and subscription read, verbatim
//   Recurpay's Node and PHP hash snippets, against both SSO login paths
//   a browser public client on another origin: code exchange and API call through CORS
import { test, expect, Page } from '@playwright/test';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { createServer, Server } from 'http';
import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { accessToken, confidentialClient, connectStripe, hydrated, newMerchant, signUp } from '../support/helpers';

const seeds = join(__dirname, '..', 'seeds');
const python = process.env.E2E_PYTHON ?? 'python3';
const dir = process.env.E2E_DIR ?? '/tmp/subgate-e2e';

/** A free TCP port on loopback. */
function freePort(): number {
  return Number(execFileSync(python, ['-c', 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])']).toString().trim());
}

async function waitFor(url: string) {
  for (let i = 0; i < 100; i++) {
    try { await fetch(url); return; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  throw new Error(`${url} never answered`);
}

/** Registers a client on the OAuth tab; returns its id (and its secret, when confidential). */
async function registerClient(page: Page, fields: { name: string; type: 'public' | 'confidential'; redirect?: string;
  origins?: string; audiences?: string; ttl?: string }) {
  await page.goto('/dashboard/oauth');
  await hydrated(page);
  await page.fill('#client-name-input', fields.name);
  await page.selectOption('#client-type', fields.type);
  await page.fill('#redirect-uris', fields.redirect ?? '');
  if (fields.origins) await page.fill('#allowed-origins', fields.origins);
  if (fields.audiences) await page.fill('#audiences', fields.audiences);
  if (fields.ttl) await page.fill('#access-token-ttl', fields.ttl);
  await page.click('#register-client button[type="submit"]');
  await expect(page.locator('#new-client-id')).toHaveText(/^cli_/);
  const clientId = (await page.locator('#new-client-id').textContent())!;
  const secret = fields.type === 'confidential' ? (await page.locator('#client-secret').textContent())! : undefined;
  return { clientId, secret };
}

test.describe('recursiv’s Flask client, on its own origin', () => {
  let flask: ChildProcess | undefined;
  test.afterEach(() => { flask?.kill(); });

  test('authorize, log in, consent, callback, /api/me; then approval_prompt=auto skips consent', async ({ page, browser, baseURL }) => {
    const port = freePort();
    // another site: localhost, not 127.0.0.1, and another port
    const origin = `http://localhost:${port}`;
    const merchant = newMerchant();
    await signUp(page, merchant);
    const { clientId } = await registerClient(page, { name: 'recursiv Flask app', type: 'public', redirect: `${origin}/callback/` });

    // the published code with its four constants set, as the guide tells a merchant to
    const source = readFileSync(join(seeds, 'recursiv_client.py'), 'utf8')
      .replace('CLIENT_ID = "your_client_id"', `CLIENT_ID = "${clientId}"`)
      .replace("'https://recursiv.io/o/authorize/'", `'${baseURL}/o/authorize/'`)
      .replace("'https://recursiv.io/o/token/'", `'${baseURL}/o/token/'`)
      .replace("REDIRECT_URI = 'your_redirect_uri'", `REDIRECT_URI = '${origin}/callback/'`);
    expect(source).toContain(clientId);
    writeFileSync(join(dir, 'recursiv_client.py'), source);
    flask = spawn(python, ['-m', 'flask', '--app', 'recursiv_client', 'run', '--host', '127.0.0.1', '--port', String(port)],
      { cwd: dir, stdio: 'inherit' });
    await waitFor(`http://127.0.0.1:${port}/`);

    // the merchant's user, in a browser of their own: not logged in to subgate yet
    const context = await browser.newContext();
    const user = await context.newPage();
    await user.route('https://cdn.jsdelivr.net/**', (r) => r.abort()); // the page's CDN stylesheet: no internet here
    await user.goto(`${origin}/`);
    await user.getByRole('link', { name: 'Authorize' }).click();
    await expect(user).toHaveURL(/\/login\?next=/);
    await hydrated(user);
    await user.fill('#email', merchant.email);
    await user.fill('#password', merchant.password);
    await user.click('button[type="submit"]');
    await expect(user.locator('#client-name')).toHaveText('recursiv Flask app');
    await user.click('#allow');
    // the consent form's answer crosses to the client's origin; the Flask app exchanges the code
    await expect(user).toHaveURL(new RegExp(`^${origin}/callback/\\?code=`));
    const tokens = JSON.parse((await user.locator('body').textContent())!);
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.refresh_token).toMatch(/^sgr_/);
    const me = await page.request.get('/api/me', { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status()).toBe(200);
    expect((await me.json()).client.id).toBe(clientId);

    // approval_prompt=auto: consent was given, so the second run goes straight back
    await user.goto(`${origin}/`);
    await user.getByRole('link', { name: 'Authorize' }).click();
    await expect(user).toHaveURL(new RegExp(`^${origin}/callback/\\?code=`));
    expect(JSON.parse((await user.locator('body').textContent())!).access_token).toBeTruthy();
    await context.close();
  });
});

test('Riverty’s curl requests, verbatim: a day-long token for its audience reads its subscription path', async ({ page, baseURL }) => {
  await signUp(page);
  const account = await connectStripe(page);
  expect(account).toMatch(/^acct_/);
  const customerId = (await page.locator('#demo-customers tr', { hasText: 'ada@example.com' }).getAttribute('data-customer-id'))!;
  const pusher = await accessToken(page, await confidentialClient(page));
  const pushed = await page.request.post('/api/customers', {
    headers: { Authorization: `Bearer ${pusher}` }, data: { subscriber_id: 'riverty-1', customer_id: customerId },
  });
  expect(pushed.status()).toBe(201);
  const subscriptions = await page.request.get('/api/customers/riverty-1/subscriptions', { headers: { Authorization: `Bearer ${pusher}` } });
  const subscriptionNumber = (await subscriptions.json()).data[0].id as string;

  const { clientId, secret } = await registerClient(page, {
    name: 'Riverty backend', type: 'confidential', audiences: 'https://api.horizonafs.io', ttl: '86400',
  });
  // Riverty's page: `curl -X POST --url 'https://identity.horizonafs.io/oauth/token' \ --header … --data '…'`
  const token = JSON.parse(execFileSync('curl', ['-s', '-X', 'POST', '--url', `${baseURL}/oauth/token`,
    '--header', 'content-type: application/x-www-form-urlencoded',
    '--data', `client_id=${clientId}&client_secret=${secret}&grant_type=client_credentials&audience=https://api.horizonafs.io`]).toString());
  expect(token.token_type).toBe('Bearer');
  expect(token.expires_in).toBe(86400);
  // `curl -X GET 'https://api.horizonafs.io/subscription/v1/clients/{client_id}/subscriptions/{subscription-number}' -H 'Authorization: Bearer eyJh…'`
  const read = JSON.parse(execFileSync('curl', ['-s', '-X', 'GET',
    `${baseURL}/subscription/v1/clients/${clientId}/subscriptions/${subscriptionNumber}`,
    '-H', `Authorization: Bearer ${token.access_token}`]).toString());
  expect(read.id).toBe(subscriptionNumber);
  expect(read.subscriber_id).toBe('riverty-1');
});

test('Recurpay’s Node and PHP snippets log subscriber 12345 in, at both login paths', async ({ page, baseURL }) => {
  const merchant = await signUp(page);
  await connectStripe(page);
  const customerId = (await page.locator('#demo-customers tr', { hasText: 'ada@example.com' }).getAttribute('data-customer-id'))!;
  const token = await accessToken(page, await confidentialClient(page));
  // the snippets' example subscriber id
  const pushed = await page.request.post('/api/customers', {
    headers: { Authorization: `Bearer ${token}` }, data: { subscriber_id: '12345', customer_id: customerId },
  });
  expect(pushed.status()).toBe(201);
  await page.goto('/dashboard/sso');
  await hydrated(page);
  await page.click('#enable-sso');
  await expect(page.locator('#sso-state')).toHaveAttribute('data-state', 'on');
  await hydrated(page);
  const store = (await page.locator('#sso-store').textContent())!;
  await page.click('#reveal-sso-secret');
  await expect(page.locator('#sso-secret')).toHaveText(/^sso_/);
  const secret = (await page.locator('#sso-secret').textContent())!;

  const env = { ...process.env, RECURPAY_SINGLE_SIGN_ON_SECRET: secret };
  const hashOf = (out: Buffer) => /Customer Hash: ?([0-9a-f]{64})/.exec(out.toString())![1];
  const fromNode = hashOf(execFileSync('node', [join(seeds, 'recurpay_hash.mjs')], { env }));
  const fromPhp = hashOf(execFileSync('php', [join(seeds, 'recurpay_hash.php')], { env }));
  expect(fromPhp).toBe(fromNode);

  const port = new URL(baseURL!).port;
  const paths = [
    // subgate's path, naming the store
    `${baseURL}/api/v1/stores/${store}/subscribers/12345/login`,
    // Recurpay's own path on the store's host (`https://{subdomain}.recurpay.com/admin/api/…`);
    // *.localhost is loopback, and the server runs with SUBGATE_SSO_DOMAIN=sso.localhost
    `http://${store}.sso.localhost:${port}/admin/api/2024-01/subscribers/12345/login`,
  ];
  for (const [i, url] of paths.entries()) {
    const hash = i === 0 ? fromNode : fromPhp;
    const answer = JSON.parse(execFileSync('curl', ['-s', '-X', 'POST', url, '-H', 'Content-Type: application/json',
      '--data', JSON.stringify({ customer_hash: hash })]).toString());
    expect(answer.success, url).toBe(true);
    // the subscriber's browser follows the link into the portal
    const context = await page.context().browser()!.newContext();
    const subscriber = await context.newPage();
    await subscriber.goto(answer.data.redirection_url);
    await subscriber.click('#confirm-sso');
    await expect(subscriber).toHaveURL(/\/portal$/);
    await expect(subscriber.locator('#portal-business')).toHaveText(merchant.name);
    await context.close();
  }
});

test.describe('a browser public client on another origin', () => {
  let server: Server | undefined;
  test.afterEach(() => { server?.close(); });

  test('exchanges its code with fetch and calls the API through CORS', async ({ page, baseURL }) => {
    const port = freePort();
    const origin = `http://localhost:${port}`;
    await signUp(page);
    const { clientId } = await registerClient(page, {
      name: 'Storefront SPA', type: 'public', redirect: `${origin}/callback`, origins: origin,
    });
    // the app's two pages: start (PKCE, as the OAuth tab's JS snippet does it) and callback
    const start = `<!doctype html><meta charset="utf-8"><title>SPA</title><script type="module">
      const b64url = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
      const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
      const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
      sessionStorage.setItem('pkce_verifier', verifier);
      location.assign('${baseURL}/o/authorize/?' + new URLSearchParams({ response_type: 'code', client_id: '${clientId}',
        redirect_uri: '${origin}/callback', code_challenge: challenge, code_challenge_method: 'S256', state: 'spa' }));
    </script>`;
    const callback = `<!doctype html><meta charset="utf-8"><title>SPA callback</title><pre id="out">working</pre><script type="module">
      const out = document.getElementById('out');
      try {
        const code = new URLSearchParams(location.search).get('code');
        const res = await fetch('${baseURL}/o/token/', { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code',
          client_id: '${clientId}', code, redirect_uri: '${origin}/callback', code_verifier: sessionStorage.getItem('pkce_verifier') }) });
        const { access_token } = await res.json();
        const me = await fetch('${baseURL}/api/me', { headers: { Authorization: 'Bearer ' + access_token } });
        out.textContent = JSON.stringify({ token_status: res.status, me_status: me.status, me: await me.json() });
      } catch (e) { out.textContent = 'failed: ' + e; }
    </script>`;
    server = createServer((req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(req.url?.startsWith('/callback') ? callback : start);
    }).listen(port, '127.0.0.1');
    await waitFor(`http://127.0.0.1:${port}/`);

    await page.goto(`${origin}/`);
    await expect(page.locator('#client-name')).toHaveText('Storefront SPA');
    await page.click('#allow');
    await expect(page).toHaveURL(new RegExp(`^${origin}/callback\\?`));
    await expect(page.locator('#out')).not.toHaveText('working');
    const result = JSON.parse((await page.locator('#out').textContent())!);
    expect(result.token_status).toBe(200);
    expect(result.me_status).toBe(200);
    expect(result.me.client.id).toBe(clientId);
  });
});
