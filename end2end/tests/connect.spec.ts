import { test, expect } from '@playwright/test';
import { accessToken, confidentialClient, connectStripe, hydrated, signUp } from '../support/helpers';

test('connect Stripe, see the account, push a customer with curl, see its subscriptions, revoke', async ({ page }) => {
  await signUp(page);
  await page.goto('/dashboard/connect');
  await hydrated(page);
  // no keys in this run: the tab says plainly that Stripe is simulated
  await expect(page.locator('#simulated-banner')).toContainText('Stripe is simulated');
  await expect(page.locator('#connection-state')).toHaveAttribute('data-state', 'not_connected');

  await page.click('#connect-stripe');
  // the simulator's Connect OAuth page, prefilled with the merchant's details
  await expect(page).toHaveURL(/\/_stripe\/oauth\/authorize\?.*response_type=code/);
  await expect(page.locator('body')).toContainText('Simulated Stripe');
  await page.click('#connect');

  await expect(page).toHaveURL(/\/dashboard\/connect$/);
  await expect(page.locator('#connect-notice')).toHaveAttribute('data-ok', 'true');
  const account = (await page.locator('#account-id').textContent())!;
  expect(account).toMatch(/^acct_/);
  await expect(page.locator('#account-business-name')).toHaveText(/^Acme /);
  await expect(page.locator('#account-mode')).toHaveText('Test');
  await expect(page.locator('#api-version')).toHaveText(/^\d{4}-\d{2}-\d{2}\./);
  await expect(page.locator('#customer-count')).toHaveText('0');
  const ada = page.locator('#demo-customers tr', { hasText: 'ada@example.com' });
  const customerId = (await ada.getAttribute('data-customer-id'))!;
  expect(customerId).toMatch(/^cus_/);

  // the merchant's backend: a confidential client, a token, then the API (what curl would do)
  const token = await accessToken(page, await confidentialClient(page));
  const pushed = await page.request.post('/api/customers', {
    headers: { Authorization: `Bearer ${token}` },
    data: { subscriber_id: 'user-1', customer_id: customerId },
  });
  expect(pushed.status()).toBe(201);

  // the merchant sees the subscriptions in the browser, with their session: the API tab browses
  // the URL, `?format=json` is the raw body
  await page.goto('/api/customers/user-1/subscriptions');
  await expect(page).toHaveURL(/\/dashboard\/api\?path=/);
  await expect(page.locator('#response-body')).toContainText('"product_name": "Pro"');
  await page.goto('/api/customers/user-1/subscriptions?format=json');
  const list = JSON.parse((await page.locator('body').textContent())!);
  expect(list.subscriber_id).toBe('user-1');
  expect(list.data[0].status).toBe('active');
  expect(list.data[0].items[0].product_name).toBe('Pro');
  expect(list.data[0].current_period_end).toBeGreaterThan(Date.now() / 1000);

  await page.goto('/dashboard/connect');
  await hydrated(page);
  await expect(page.locator('#customer-count')).toHaveText('1');
  await expect(page.locator('#last-webhook')).toHaveText(/never|UTC/);
  // asked first: without the account id typed the browser does not send the form
  await expect(page.locator('#revoke-form label code')).toHaveText(account);
  await page.click('#revoke');
  await page.fill('#revoke-confirm', 'acct_wrong');
  await page.click('#revoke');
  expect(await page.locator('#revoke-confirm').evaluate((e: HTMLInputElement) => e.validity.valid)).toBe(false);
  await expect(page.locator('#connected-account')).toBeVisible();
  await expect(page.locator('#account-id')).toHaveText(account);
  await page.fill('#revoke-confirm', account);
  await page.click('#revoke');
  await expect(page.locator('#connection-state')).toHaveAttribute('data-state', 'revoked');
  await expect(page.locator('#connect-stripe')).toBeVisible();
  const after = await page.request.get('/api/customers/user-1/subscriptions', {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(after.status()).toBe(409);
  expect((await after.json()).error).toBe('not_connected');
});

test('declining on Stripe shows a clear message and connects nothing', async ({ page }) => {
  await signUp(page);
  await page.goto('/dashboard/connect');
  await hydrated(page);
  await page.click('#connect-stripe');
  await expect(page).toHaveURL(/\/_stripe\/oauth\/authorize\?/);
  await page.click('#deny');
  await expect(page).toHaveURL(/\/dashboard\/connect$/);
  await expect(page.locator('#connect-notice')).toHaveAttribute('data-ok', 'false');
  await expect(page.locator('#connect-notice')).toContainText('declined');
  await expect(page.locator('#connection-state')).toHaveAttribute('data-state', 'not_connected');
});
