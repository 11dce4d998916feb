import { test, expect, Page } from '@playwright/test';
import { createHmac } from 'crypto';
import { accessToken, confidentialClient, connectStripe, hydrated, signUp, withAda } from '../support/helpers';

/** The Node snippet's algorithm, exactly. */
const customerHash = (secret: string, id: string) => createHmac('sha256', secret).update(id).digest('hex');

async function ssoLogin(page: Page, store: string, id: string, secret: string) {
  return page.request.post(`/api/v1/stores/${store}/subscribers/${encodeURIComponent(id)}/login`, {
    data: { customer_hash: customerHash(secret, id) },
  });
}

async function revealSecrets(page: Page) {
  await page.click('#reveal-sso-secret');
  await expect(page.locator('#sso-secret')).toHaveText(/^sso_[0-9a-f]{64}$/);
  return (await page.locator('#sso-secret').textContent())!;
}

test('turn on SSO, copy the secret, log a subscriber into the portal, manage billing, reuse and rotate', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const merchant = await signUp(page);
  await connectStripe(page);
  const customerId = (await page.locator('#demo-customers tr', { hasText: 'ada@example.com' }).getAttribute('data-customer-id'))!;
  const token = await accessToken(page, await confidentialClient(page));
  const pushed = await page.request.post('/api/customers', {
    headers: { Authorization: `Bearer ${token}` },
    data: { subscriber_id: 'user-7', customer_id: customerId },
  });
  expect(pushed.status()).toBe(201);

  await page.goto('/dashboard/sso');
  await hydrated(page);
  await expect(page.locator('#sso-state')).toHaveAttribute('data-state', 'off');
  await page.click('#enable-sso');
  await expect(page.locator('#sso-state')).toHaveAttribute('data-state', 'on');
  await hydrated(page);
  const store = (await page.locator('#sso-store').textContent())!;
  await expect(page.locator('#sso-endpoint')).toContainText(`/api/v1/stores/${store}/subscribers/{subscriber_id}/login`);
  await expect(page.locator('#sso-snippets details[data-lang="Node.js"]')).toContainText("createHmac('sha256', secret)");
  await expect(page.locator('#sso-secret')).not.toContainText('sso_');

  const secret = await revealSecrets(page);
  await page.click('#copy-sso-secret');
  await expect(page.locator('#copy-sso-secret')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

  // the merchant's server calls the endpoint; the subscriber's browser follows the link
  const res = await ssoLogin(page, store, 'user-7', secret);
  expect(res.status()).toBe(200);
  const link = (await res.json()).data.redirection_url as string;
  await page.goto(link);
  // the link's page asks first: a GET alone signs no one in (no login CSRF)
  await page.click('#confirm-sso');
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.locator('#portal-business')).toHaveText(merchant.name);
  await expect(page.locator('#portal-subscriber')).toHaveText('ada@example.com');
  const card = page.locator('#portal-subscriptions li').first();
  await expect(card.locator('[data-role="product"]')).toHaveText('Pro');
  await hydrated(page);
  // amounts and days in the browser's language, as its own Intl writes them (en-US here)
  await expect(page.locator('#portal')).toHaveAttribute('data-localized', 'true');
  const day = Number(await card.locator('[data-role="renewal"] time').getAttribute('data-date'));
  const [price, renews] = await page.evaluate((day) => [
    new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD' }).format(20),
    new Intl.DateTimeFormat(undefined, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(day * 1000)),
  ], day);
  expect(price).toBe('$20.00');
  await expect(card.locator('[data-role="price"]')).toHaveText(`${price} / month`);
  await expect(card.locator('[data-role="renewal"]')).toHaveText(`Renews on ${renews}`);
  await page.click('#manage-billing');
  await expect(page).toHaveURL(/\/_stripe\/portal\/session\//);
  await expect(page.locator('#portal-customer')).toHaveText('ada@example.com');

  // the link worked once
  await page.goto(link);
  await expect(page.locator('#link-expired')).toContainText('expired');

  // rotate: the old secret keeps working during the overlap, the new one works too
  await page.goto('/dashboard/sso');
  await hydrated(page);
  await page.fill('#overlap-hours', '24');
  await page.click('#rotate-sso-secret');
  await expect(page.locator('#sso-previous-secret')).toHaveAttribute('data-generation', '1');
  await expect(page.locator('#sso-current-secret')).toHaveAttribute('data-generation', '2');
  await hydrated(page);
  const rotated = await revealSecrets(page);
  await expect(page.locator('#sso-previous')).toHaveText(secret);
  expect(rotated).not.toBe(secret);
  for (const s of [secret, rotated]) {
    expect((await ssoLogin(page, store, 'user-7', s)).status()).toBe(200);
  }

  // the hash tester agrees with the snippet's algorithm
  await page.fill('#tester-subscriber-id', 'user-7');
  await page.click('#tester-submit');
  await expect(page.locator('#tester-hash')).toHaveText(customerHash(rotated, 'user-7'));
  await expect(page.locator('#tester-curl')).toContainText(`/api/v1/stores/${store}/subscribers/user-7/login`);
  // and the log shows what happened, most recent first
  await page.reload();
  await expect(page.locator('#sso-log tbody tr').first()).toHaveAttribute('data-outcome', 'link_issued');
  await expect(page.locator('#sso-log tr[data-outcome="link_reused"]')).toHaveCount(1);
  await expect(page.locator('#sso-log tr[data-outcome="portal_opened"]')).toHaveCount(1);

  // turning it off asks for the store's name first: a wrong one is not sent
  await hydrated(page);
  await page.fill('#disable-sso-confirm', `${store}-not`);
  await page.click('#disable-sso');
  expect(await page.locator('#disable-sso-confirm').evaluate((e: HTMLInputElement) => e.validity.valid)).toBe(false);
  await expect(page.locator('#sso-state')).toHaveAttribute('data-state', 'on');
  await page.fill('#disable-sso-confirm', store);
  await page.click('#disable-sso');
  await expect(page.locator('#sso-state')).toHaveAttribute('data-state', 'off');
});

test('the portal writes amounts and days in the subscriber\'s language: German, from the browser', async ({ page, browser }) => {
  await withAda(page, 'user-de');
  await page.goto('/dashboard/sso');
  await hydrated(page);
  await page.click('#enable-sso');
  await expect(page.locator('#sso-state')).toHaveAttribute('data-state', 'on');
  await page.goto('/dashboard/customers/user-de');
  await hydrated(page);
  await page.click('#preview-portal button');
  await expect(page.locator('#confirm-sso')).toBeVisible();
  const link = page.url();
  // the subscriber's own browser, set to German
  const context = await browser.newContext({ locale: 'de-DE' });
  const subscriber = await context.newPage();
  await subscriber.goto(link);
  await subscriber.click('#confirm-sso');
  await expect(subscriber).toHaveURL(/\/portal$/);
  await hydrated(subscriber);
  await expect(subscriber.locator('#portal')).toHaveAttribute('data-localized', 'true');
  const card = subscriber.locator('#portal-subscriptions li').first();
  const day = Number(await card.locator('[data-role="renewal"] time').getAttribute('data-date'));
  const [price, renews] = await subscriber.evaluate((day) => [
    new Intl.NumberFormat('de-DE', { style: 'currency', currency: 'USD' }).format(20),
    new Intl.DateTimeFormat('de-DE', { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(day * 1000)),
  ], day);
  expect(price).toBe('20,00\u00a0$');
  await expect(card.locator('[data-role="price"]')).toHaveText(`${price} / month`);
  await expect(card.locator('[data-role="renewal"]')).toHaveText(`Renews on ${renews}`);
  await context.close();
});

test('the portal works without JavaScript and a stranger is signed out', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/portal');
  await expect(page.locator('#portal-signed-out')).toContainText('You are signed out');
  await context.close();
});
