// Shared steps of the end-to-end tests: what a merchant does in the browser, and what their
// backend does over HTTP (page.request talks to the same server, outside the page).
import { expect, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import { createHmac } from 'crypto';

/** Where aiosmtpd (playwright.config.ts) keeps the mail subgate sent: one file per message. */
const maildir = path.join(process.env.E2E_DIR ?? '/tmp/subgate-e2e', 'maildir', 'new');

/** RFC 2045 quoted-printable undone (lines over 76 characters, the links, are sent so). */
function unQuotedPrintable(text: string) {
  return text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/** The newest mail to `to` whose subject has `subject`, as the SMTP server received it. */
export async function mailTo(to: string, subject: string, after = 0): Promise<string> {
  let found: string | undefined;
  await expect.poll(() => {
    const files = fs.existsSync(maildir) ? fs.readdirSync(maildir) : [];
    const mails = files
      .map((f) => ({ at: fs.statSync(path.join(maildir, f)).mtimeMs, text: unQuotedPrintable(fs.readFileSync(path.join(maildir, f), 'utf8')) }))
      .filter((m) => m.at > after && m.text.includes(`To: ${to}`) && new RegExp(`^Subject: .*${subject}`, 'm').test(m.text))
      .sort((a, b) => b.at - a.at);
    found = mails[0]?.text;
    return found !== undefined;
  }, { timeout: 15_000, message: `a mail to ${to} about ${subject}` }).toBe(true);
  return found!;
}

/** The first link to `pathname` in a mail. */
export function linkIn(mail: string, pathname: string) {
  const m = mail.match(new RegExp(`https?://\\S+${pathname}\\?token=[A-Za-z0-9_-]+`));
  expect(m, `a ${pathname} link in the mail`).not.toBeNull();
  return m![0];
}

/** Opens the verification link mailed to `email` and confirms it (as the merchant does). */
export async function verifyByMail(page: Page, email: string) {
  const link = linkIn(await mailTo(email, 'Verify'), '/verify-email');
  await page.goto(link);
  await hydrated(page);
  await page.click('#verify');
  await expect(page).toHaveURL(/\/dashboard\/account\?notice=verified$/);
}

export function newMerchant() {
  const tag = Math.random().toString(36).slice(2, 10);
  return { name: `Acme ${tag}`, email: `owner-${tag}@acme.test`, password: 'correct horse battery staple' };
}

/** Set by the browser bundle once hydration has finished (see `hydrate()` in src/lib.rs); a page
 *  served without the bundle (the login: `STATIC_PAGES` in src/app.rs) says `static` from the start. */
export async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', /^(true|static)$/, { timeout: 30_000 });
}

/** Fills the sign-up form and lands on the overview, the address not yet verified. */
export async function signUpUnverified(page: Page, m = newMerchant()) {
  await page.goto('/signup');
  await hydrated(page);
  await page.fill('input[name="business_name"]', m.name);
  await page.fill('#email', m.email);
  await page.fill('#password', m.password);
  await page.click('button[type="submit"]');
  await expect(page).toHaveURL(/\/dashboard$/);
  return m;
}

/** Signs up in the browser and verifies the address from the mail; lands on the overview. */
export async function signUpToOverview(page: Page, m = newMerchant()) {
  await signUpUnverified(page, m);
  await verifyByMail(page, m.email);
  await page.goto('/dashboard');
  await hydrated(page);
  return m;
}

/** Signs up, then goes on from the OAuth tab. */
export async function signUp(page: Page, m = newMerchant()) {
  await signUpToOverview(page, m);
  await page.goto('/dashboard/oauth');
  await hydrated(page);
  return m;
}

/** Connects the (simulated) Stripe account from the Connect tab; returns the account id. */
export async function connectStripe(page: Page) {
  await page.goto('/dashboard/connect');
  await hydrated(page);
  await page.click('#connect-stripe');
  await expect(page).toHaveURL(/\/_stripe\/oauth\/authorize\?/);
  await page.click('#connect');
  await expect(page).toHaveURL(/\/dashboard\/connect$/);
  await expect(page.locator('#connect-notice')).toHaveAttribute('data-ok', 'true');
  return (await page.locator('#account-id').textContent())!;
}

/** Registers a confidential client on the OAuth tab; returns its id and its secret (shown once). */
export async function confidentialClient(page: Page, name = 'Backend') {
  await page.goto('/dashboard/oauth');
  await hydrated(page);
  await page.fill('#client-name-input', name);
  await page.selectOption('#client-type', 'confidential');
  await page.fill('#redirect-uris', '');
  await page.click('#register-client button[type="submit"]');
  const secret = (await page.locator('#client-secret').textContent())!;
  const clientId = (await page.locator('#new-client-id').textContent())!;
  return { clientId, secret };
}

/** What the merchant's backend does: client credentials for an access token to subgate's API. */
export async function accessToken(page: Page, client: { clientId: string; secret: string }) {
  const res = await page.request.post('/o/token/', {
    form: { grant_type: 'client_credentials' },
    headers: { Authorization: 'Basic ' + Buffer.from(`${client.clientId}:${client.secret}`).toString('base64') },
  });
  expect(res.status()).toBe(200);
  return (await res.json()).access_token as string;
}

/**
 * A merchant with Stripe connected whose backend pushed the simulated account's Ada (an active
 * Pro subscription) as `subscriber`: the account id and the backend's bearer token.
 */
export async function withAda(page: Page, subscriber: string) {
  await signUp(page);
  const account = await connectStripe(page);
  const ada = (await page.locator('#demo-customers tr', { hasText: 'ada@example.com' }).getAttribute('data-customer-id'))!;
  const client = await confidentialClient(page);
  const token = await accessToken(page, client);
  const pushed = await page.request.post('/api/customers', {
    headers: { Authorization: `Bearer ${token}` },
    data: { subscriber_id: subscriber, customer_id: ada },
  });
  expect(pushed.status()).toBe(201);
  return { account, token, client };
}

/** RFC 4648 base32 → bytes (the key the Account tab shows for typing into an app). */
export function base32(s: string) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out: number[] = [];
  for (const c of s.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { bits -= 8; out.push((value >>> bits) & 0xff); }
  }
  return Buffer.from(out);
}

/** RFC 6238 as an authenticator app computes it (HMAC-SHA1, 30 s, 6 digits), with node's crypto. */
export function totp(key: Buffer, unixSeconds: number) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[19] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}
