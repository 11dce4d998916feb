import { test, expect } from '@playwright/test';
import { hydrated, signUpToOverview } from '../support/helpers';

// A new merchant follows "Get started" on the overview to the end, each step from its link.
test('a new merchant follows the Get started checklist to the end', async ({ page }) => {
  await signUpToOverview(page);
  const steps = page.locator('#get-started li');
  const step = (id: string) => page.locator(`#get-started li[data-step="${id}"]`);
  await expect(steps).toHaveCount(5);
  await expect(page.locator('#get-started h2')).toHaveText('Get started: 0 of 5 done');
  await expect(page.locator('nav[aria-label="Dashboard"] a[aria-current="page"]')).toHaveText('Overview');

  // 1. connect Stripe (simulated)
  await hydrated(page);
  await step('connect').locator('a').click();
  await expect(page).toHaveURL(/\/dashboard\/connect$/);
  await hydrated(page);
  await page.click('#connect-stripe');
  await page.click('#connect');
  await expect(page.locator('#connect-notice')).toHaveAttribute('data-ok', 'true');
  await page.goto('/dashboard');
  await expect(step('connect')).toHaveAttribute('data-done', 'true');

  // 2. a confidential client for the backend
  await hydrated(page);
  await step('server-client').locator('a').click();
  await expect(page).toHaveURL(/\/dashboard\/oauth$/);
  await hydrated(page);
  await page.fill('#client-name-input', 'Backend');
  await page.selectOption('#client-type', 'confidential');
  await page.fill('#redirect-uris', '');
  await page.click('#register-client button[type="submit"]');
  await expect(page.locator('#client-secret')).toHaveText(/^sgs_/);
  await page.goto('/dashboard');
  await expect(step('server-client')).toHaveAttribute('data-done', 'true');

  // 3. a customer: in simulation, one click pushes a demo customer and opens their page
  await hydrated(page);
  await page.click('#push-demo-customer button');
  await expect(page).toHaveURL(/\/dashboard\/customers\/demo-ada$/);
  await expect(page.locator('#customer-subscriptions')).toContainText('Pro');
  await page.goto('/dashboard');
  await expect(step('customer')).toHaveAttribute('data-done', 'true');
  await expect(page.locator('#figure-active')).toHaveText('1');
  await expect(page.locator('#figure-mrr [data-currency="usd"]')).toHaveText('20.00 USD');

  // 4. single sign-on
  await hydrated(page);
  await step('sso').locator('a').click();
  await expect(page).toHaveURL(/\/dashboard\/sso$/);
  await hydrated(page);
  await page.click('#enable-sso');
  await expect(page.locator('#sso-state')).toHaveAttribute('data-state', 'on');
  // and the portal's way back to the store, and where to ask for help
  await hydrated(page);
  await page.fill('#store-url', 'https://shop.example.com/account');
  await page.fill('#support-email', 'help@shop.example.com');
  // an accent (red 700) and a logo; the logo is served here (http is allowed for loopback only)
  await page.fill('#portal-accent', '#B91C1C');
  const logo = new URL('/favicon.svg', page.url()).toString();
  await page.fill('#portal-logo-url', logo);
  await page.click('#save-portal-branding');
  await expect(page.locator('#portal-branding-saved')).toHaveText('Saved');
  await page.goto('/dashboard');
  await expect(step('sso')).toHaveAttribute('data-done', 'true');

  // 5. the portal as that subscriber
  await hydrated(page);
  await step('preview').locator('a').click();
  await expect(page).toHaveURL(/\/dashboard\/customers\/demo-ada$/);
  await hydrated(page);
  await page.click('#preview-portal button');
  await page.click('#confirm-sso');
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.locator('#portal-subscriptions li').first().locator('[data-role="product"]')).toHaveText('Pro');
  // the merchant's branding, and never the subscriber id
  await expect(page.locator('#portal-back')).toHaveAttribute('href', 'https://shop.example.com/account');
  await expect(page.locator('#portal-support a')).toHaveAttribute('href', 'mailto:help@shop.example.com');
  await expect(page.locator('#portal-subscriber')).toHaveText('ada@example.com');
  expect(await page.locator('#portal').textContent()).not.toContain('demo-ada');
  // the accent colours the main button (white text: red 700 is dark), and the logo loaded
  // under the page's policy
  const button = page.locator('#manage-billing');
  await expect(button).toHaveCSS('background-color', 'rgb(185, 28, 28)');
  await expect(button).toHaveCSS('color', 'rgb(255, 255, 255)');
  await expect(page.locator('#portal-logo')).toHaveAttribute('src', logo);
  await expect.poll(() => page.locator('#portal-logo').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  // signed out: still the store's page, with the way back
  await hydrated(page);
  await page.click('#portal-logout');
  await expect(page).toHaveURL(/\/portal\?store=/);
  await expect(page.locator('#portal-signed-out h1')).toContainText('You are signed out of');
  await expect(page.locator('#portal-back')).toHaveAttribute('href', 'https://shop.example.com/account');
  await expect(page.locator('#portal-logo')).toBeVisible();

  await page.goto('/dashboard');
  await expect(page.locator('#get-started h2')).toHaveText("You're set up");
  await expect(page.locator('#get-started li[data-done="true"]')).toHaveCount(5);
  await expect(page.locator('#sso-chart rect')).toHaveCount(30);
  await expect(page.locator('#api-chart rect')).toHaveCount(30);
});
