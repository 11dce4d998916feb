import { test, expect, Page } from '@playwright/test';
import { accessToken, confidentialClient, connectStripe, hydrated, signUp, withAda } from '../support/helpers';

// The Customers tab as a merchant with a real book of customers uses it: 250 subscribers pushed
// by their backend, searched and paged in the browser.

/** What the merchant's backend does, 250 times: a Stripe customer (made in the simulator), pushed. */
async function pushMany(page: Page, account: string, token: string, n: number) {
  const one = async (i: number) => {
    const tag = String(i).padStart(3, '0');
    const made = await page.request.post(`/_stripe/_sim/accounts/${account}/customers`, {
      data: { email: `c${tag}@shop.test`, name: `Customer ${tag}` },
    });
    expect(made.status()).toBe(200);
    const pushed = await page.request.post('/api/customers', {
      headers: { Authorization: `Bearer ${token}` },
      data: { subscriber_id: `sub-${tag}`, customer_id: (await made.json()).id },
    });
    expect(pushed.status()).toBe(201);
  };
  for (let start = 0; start < n; start += 25) {
    await Promise.all(Array.from({ length: Math.min(25, n - start) }, (_, k) => one(start + k)));
  }
}

test('the customers list searches, filters and pages over 250 pushed customers', async ({ page }) => {
  test.setTimeout(180_000);
  await signUp(page);
  const account = await connectStripe(page);
  const ada = (await page.locator('#demo-customers tr', { hasText: 'ada@example.com' }).getAttribute('data-customer-id'))!;
  const token = await accessToken(page, await confidentialClient(page));
  await pushMany(page, account, token, 250);
  const pushed = await page.request.post('/api/customers', {
    headers: { Authorization: `Bearer ${token}` },
    data: { subscriber_id: 'ada', customer_id: ada },
  });
  expect(pushed.status()).toBe(201);

  await page.click('nav[aria-label="Dashboard"] >> text=Customers');
  await expect(page).toHaveURL(/\/dashboard\/customers$/);
  await expect(page.locator('#customers-count')).toHaveText('251 customers');
  const rows = page.locator('#customers tbody tr');
  await expect(rows).toHaveCount(25);
  await expect(rows.first()).toHaveAttribute('data-subscriber-id', 'ada');

  // every page by its cursor, to the end: each customer once, in order
  const seen: string[] = [];
  for (let n = 1; ; n++) {
    await expect(rows.first()).toBeVisible();
    seen.push(...await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-subscriber-id')!)));
    if (await page.locator('#customers-next').count() === 0) break;
    const before = await rows.first().getAttribute('data-subscriber-id');
    await page.click('#customers-next');
    await expect(page).toHaveURL(/after=/);
    await expect(rows.first()).not.toHaveAttribute('data-subscriber-id', before!);
    expect(n).toBeLessThan(11);
  }
  expect(seen.length).toBe(251);
  expect(new Set(seen).size).toBe(251);
  expect(seen).toEqual([...seen].sort());
  await page.click('#customers-first');
  await expect(rows.first()).toHaveAttribute('data-subscriber-id', 'ada');

  // search by email, then by subscriber id: the address holds the search
  await page.fill('#customer-search', 'C137@SHOP');
  await page.click('#customer-search-submit');
  await expect(page).toHaveURL(/search=C137%40SHOP|search=C137@SHOP/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-subscriber-id', 'sub-137');
  await expect(page.locator('#customers-count')).toHaveText('1 customer');

  // the status filter: only Ada has an active subscription; survives a reload
  await page.fill('#customer-search', '');
  await page.selectOption('#customer-status', 'active');
  await page.click('#customer-search-submit');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-subscriber-id', 'ada');
  await page.reload();
  await expect(rows).toHaveCount(1);
  await expect(page.locator('#customer-status')).toHaveValue('active');

  await page.selectOption('#customer-status', 'none');
  await page.fill('#customer-search', 'nobody-like-this');
  await page.click('#customer-search-submit');
  await expect(page.locator('#customers-empty')).toContainText('No customer matches');
});

test('a customer page: subscriptions, refresh from Stripe, Stripe\'s portal as them, forget', async ({ page }) => {
  const { account } = await withAda(page, 'user-ada');

  await page.goto('/dashboard/customers');
  await hydrated(page);
  await page.click('text=user-ada');
  await expect(page).toHaveURL(/\/dashboard\/customers\/user-ada$/);
  await expect(page.locator('#customer-title')).toHaveText('user-ada');
  const sub = page.locator('#customer-subscriptions tbody tr').first();
  await expect(sub.locator('[data-role="plan"]')).toContainText('Pro');
  await expect(sub.locator('[data-role="amount"]')).toHaveText('20.00 USD / month');
  await expect(sub.locator('[data-role="next"]')).toContainText('Renews on');
  await expect(sub.locator('[data-role="next"] time')).toHaveAttribute('title', /UTC$/);

  // the subscription is cancelled in Stripe; "Refresh from Stripe" shows it at once
  const id = (await sub.getAttribute('data-subscription-id'))!;
  const changed = await page.request.post(`/_stripe/_sim/accounts/${account}/subscriptions/${id}`, {
    data: { cancel_at_period_end: true },
  });
  expect(changed.status()).toBe(200);
  await hydrated(page);
  await page.click('#refresh-customer button');
  await expect(sub.locator('[data-role="next"]')).toContainText('Ends on');

  // Stripe's billing portal as this customer, and back
  await hydrated(page);
  await page.click('#open-customer-portal button');
  await expect(page).toHaveURL(/\/_stripe\/portal\/session\//);
  await page.click('#return');
  await expect(page).toHaveURL(/\/dashboard\/customers\/user-ada$/);

  // forget: the browser asks for the id first, then it is gone
  await hydrated(page);
  await page.click('#forget-customer summary');
  await page.fill('#forget-confirm', 'user-ad');
  await page.click('#forget');
  await expect(page).toHaveURL(/\/dashboard\/customers\/user-ada$/);
  expect(await page.locator('#forget-confirm').evaluate((el: HTMLInputElement) => el.validity.patternMismatch)).toBe(true);
  await page.fill('#forget-confirm', 'user-ada');
  await page.click('#forget');
  await expect(page).toHaveURL(/\/dashboard\/customers$/);
  await expect(page.locator('#customers-empty')).toContainText('No customers yet');
});
