import { test, expect } from '@playwright/test';
import { createHmac } from 'crypto';
import { hydrated, withAda } from '../support/helpers';

// Since Stripe API 2025-09-30.clover, subscriptions use flexible billing mode: "Cancel plan" in
// Stripe's customer portal sets `cancel_at` and leaves `cancel_at_period_end` false. subgate's
// portal must still say the subscription ends, not that it renews.
test('a cancellation in the customer portal in flexible billing mode shows as "Ends on"', async ({ page }) => {
  await withAda(page, 'user-9');

  await page.goto('/dashboard/sso');
  await hydrated(page);
  await page.click('#enable-sso');
  await expect(page.locator('#sso-state')).toHaveAttribute('data-state', 'on');
  await hydrated(page);
  const store = (await page.locator('#sso-store').textContent())!;
  await page.click('#reveal-sso-secret');
  await expect(page.locator('#sso-secret')).toHaveText(/^sso_[0-9a-f]{64}$/);
  const secret = (await page.locator('#sso-secret').textContent())!;
  const login = await page.request.post(`/api/v1/stores/${store}/subscribers/user-9/login`, {
    data: { customer_hash: createHmac('sha256', secret).update('user-9').digest('hex') },
  });
  expect(login.status()).toBe(200);
  await page.goto((await login.json()).data.redirection_url);
  await page.click('#confirm-sso');
  await expect(page).toHaveURL(/\/portal$/);
  const card = page.locator('#portal-subscriptions li').first();
  // the label, and the day as a machine-readable date (its text is in the browser's language)
  await expect(card.locator('[data-role="renewal"]')).toHaveText(/^Renews on \S/);
  await expect(card.locator('[data-role="renewal"] time')).toHaveAttribute('datetime', /^\d{4}-\d{2}-\d{2}$/);

  // in (simulated) Stripe's customer portal, the subscriber cancels
  await hydrated(page);
  await page.click('#manage-billing');
  await expect(page).toHaveURL(/\/_stripe\/portal\/session\//);
  const plan = page.locator('#portal-subscriptions li').first();
  await plan.locator('button[value="cancel_at_period_end"]').click();
  await expect(page.locator('#portal-subscriptions li').first().locator('.cancels')).toContainText('Cancels');

  // back in subgate's portal, once Stripe's webhook has arrived
  await expect(async () => {
    await page.goto('/portal');
    await expect(page.locator('#portal-subscriptions li').first().locator('[data-role="renewal"]'))
      .toHaveText(/^Ends on \S/, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
});
