import { test, expect } from '@playwright/test';
import { confidentialClient, hydrated, signUp } from '../support/helpers';

test('register a public client and run the PKCE playground end to end', async ({ page }) => {
  await signUp(page);
  await expect(page.locator('#no-clients')).toBeVisible();
  await page.fill('#client-name-input', 'Playground CLI');
  await page.selectOption('#client-type', 'public');
  // the playground's redirect URI is prefilled
  await expect(page.locator('#redirect-uris')).toHaveValue(/\/dashboard\/oauth\/playground$/);
  await page.click('#register-client button[type="submit"]');
  await expect(page.locator('#new-client-id')).toHaveText(/^cli_/);
  await expect(page.locator('#secret-panel')).toHaveCount(0);
  const clientId = (await page.locator('#new-client-id').textContent())!;
  await expect(page.locator(`#clients li[data-client-id="${clientId}"]`)).toBeVisible();

  await page.locator(`#clients li[data-client-id="${clientId}"] a`).click();
  await expect(page.locator('#client-id')).toHaveText(clientId);
  await expect(page.locator('#snippet-python')).toContainText(clientId);
  await expect(page.locator('#snippet-js')).toContainText('/o/token/');
  await hydrated(page);
  await page.click('#playground-start');

  // the real consent page of the authorization endpoint
  await expect(page).toHaveURL(/\/o\/authorize\/\?/);
  await expect(page.locator('#client-name')).toHaveText('Playground CLI');
  await page.click('#allow');

  await expect(page).toHaveURL(/\/dashboard\/oauth\/playground\?code=/);
  const steps = page.locator('#playground-steps');
  await expect(steps.locator('[data-step="1. Authorization request"]')).toContainText('code_challenge_method=S256');
  await expect(steps.locator('[data-step="3. Token response"]')).toContainText('"token_type": "Bearer"');
  const decoded = steps.locator('[data-step="4. Decoded access token"]');
  await expect(decoded).toContainText('"alg": "EdDSA"');
  await expect(decoded).toContainText(`"client_id": "${clientId}"`);
});

test('a confidential client secret is shown once and never again', async ({ page }) => {
  await signUp(page);
  const { secret } = await confidentialClient(page);
  expect(secret).toMatch(/^sgs_/);
  const clientId = (await page.locator('#new-client-id').textContent())!;

  await page.reload();
  await expect(page.locator(`#clients li[data-client-id="${clientId}"]`)).toBeVisible();
  expect(await page.content()).not.toContain(secret);

  await page.goto(`/dashboard/oauth/clients/${clientId}`);
  await expect(page.locator('#snippet-curl')).toContainText(`-u '${clientId}:YOUR_CLIENT_SECRET'`);
  expect(await page.content()).not.toContain(secret);

  // the secret works for client credentials, from outside the browser
  const res = await page.request.post('/o/token/', {
    form: { grant_type: 'client_credentials' },
    headers: { Authorization: 'Basic ' + Buffer.from(`${clientId}:${secret}`).toString('base64') },
  });
  expect(res.status()).toBe(200);

  await hydrated(page);
  // asked first: the button is behind a disclosure that says what happens
  await expect(page.locator('#regenerate-secret button')).toBeHidden();
  await page.click('#regenerate-secret summary');
  await page.click('#regenerate-secret button');
  const fresh = (await page.locator('#client-secret').textContent())!;
  expect(fresh).toMatch(/^sgs_/);
  expect(fresh).not.toBe(secret);
  const old = await page.request.post('/o/token/', {
    form: { grant_type: 'client_credentials' },
    headers: { Authorization: 'Basic ' + Buffer.from(`${clientId}:${secret}`).toString('base64') },
  });
  expect(old.status()).toBe(401);

  // again, keeping the current secret working for 24 hours: both work, the page says until when
  const works = async (secret: string) => (await page.request.post('/o/token/', {
    form: { grant_type: 'client_credentials' },
    headers: { Authorization: 'Basic ' + Buffer.from(`${clientId}:${secret}`).toString('base64') },
  })).status();
  await hydrated(page);
  // the disclosure may still be open from the first time
  if (!await page.locator('#regenerate-secret').evaluate((d: HTMLDetailsElement) => d.open)) {
    await page.click('#regenerate-secret summary');
  }
  await page.selectOption('#overlap-hours', '24');
  await page.click('#regenerate-secret button');
  await expect(page.locator('#client-secret')).not.toHaveText(fresh);
  const third = (await page.locator('#client-secret').textContent())!;
  await expect(page.locator('#secret-overlap')).toContainText('The previous secret still works until');
  expect(await works(fresh)).toBe(200);
  expect(await works(third)).toBe(200);
  // and ended early
  await page.click('#end-secret-overlap');
  await expect(page.locator('#secret-overlap')).toBeHidden();
  expect(await works(fresh)).toBe(401);
  expect(await works(third)).toBe(200);
});

test('invalid client registrations are explained', async ({ page }) => {
  await signUp(page);
  await page.fill('#client-name-input', 'Bad');
  await page.selectOption('#client-type', 'public');
  await page.fill('#redirect-uris', 'http://example.com/callback');
  await page.click('#register-client button[type="submit"]');
  await expect(page.getByTestId('form-error')).toContainText('http is allowed only for localhost');
  await expect(page.locator('#no-clients')).toBeVisible();
});

test('the one-time client secret has a copy button, and a registered client empties the form', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await signUp(page);
  const { secret } = await confidentialClient(page);
  expect(secret).toMatch(/^sgs_/);
  await page.click('#copy-client-secret');
  await expect(page.locator('#copy-client-secret')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  // the form is back to its defaults: pressing Register again cannot make a twin by accident
  await expect(page.locator('#client-name-input')).toHaveValue('');
  await expect(page.locator('#client-type')).toHaveValue('public');
  await expect(page.locator('#clients li')).toHaveCount(1);
});
