// Issue 19's passkeys in Chromium, with Chromium's own virtual authenticator (CDP
// `WebAuthn.addVirtualAuthenticator`: a CTAP2 platform authenticator with user verification and
// discoverable credentials, as a phone or laptop has) — not an authenticator we wrote.
//
// Browsers refuse WebAuthn on an IP address, so this spec browses the same server at
// http://localhost:PORT: subgate's relying party for a loopback public URL (the suite's is
// http://127.0.0.1:PORT) is `localhost` on the same port.
import { test, expect, BrowserContext, Page } from '@playwright/test';
import { base32, hydrated, signUpUnverified, totp } from '../support/helpers';

async function withAuthenticator(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  const credentials = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
  return { credentials };
}

async function logOut(page: Page) {
  await page.click('#logout');
  await expect(page).toHaveURL(/\/login$/);
}

test('add a passkey, log in with it alone, confirm it is you with it, and lose it on removal', async ({ browser }) => {
  const suite = new URL(test.info().project.use.baseURL!);
  const origin = `http://localhost:${suite.port}`;
  const context = await browser.newContext({ baseURL: origin });
  const page = await context.newPage();
  const authenticator = await withAuthenticator(context, page);

  const m = await signUpUnverified(page);
  await page.goto('/dashboard/account');
  await hydrated(page);
  await expect(page.locator('#add-passkey')).toBeVisible();
  await page.fill('#passkey-name', 'Work laptop');
  await page.click('#add-passkey');
  await expect(page).toHaveURL(/\/dashboard\/account\?notice=passkey_added$/);
  await expect(page.locator('#passkey-list li')).toHaveCount(1);
  await expect(page.locator('#passkey-list li')).toContainText('Work laptop');
  await expect(page.locator('#passkey-list li')).toContainText('last used never');
  // the authenticator holds one discoverable credential for localhost
  const made = await authenticator.credentials();
  expect(made).toHaveLength(1);
  expect(made[0].isResidentCredential).toBe(true);
  expect(made[0].rpId).toBe('localhost');

  // the same device cannot register twice (the server lists it in excludeCredentials)
  await page.fill('#passkey-name', 'Again');
  await page.click('#add-passkey');
  await expect(page.locator('#passkeys [data-passkey-error]')).toContainText('already holds a passkey');
  await expect(page.locator('#passkey-list li')).toHaveCount(1);

  // password-less: no address, no password, and no second factor asked
  await logOut(page);
  await page.click('#passkey-login');
  await expect(page).toHaveURL(/\/dashboard$/);
  await hydrated(page);
  await expect(page.locator('#header-role')).toBeVisible();
  const used = await authenticator.credentials();
  expect(used[0].signCount).toBeGreaterThan(made[0].signCount);

  // "confirm it is you" with the passkey instead of the password
  await page.goto('/dashboard/account');
  await hydrated(page);
  await expect(page.locator('#passkey-list li')).not.toContainText('last used never');
  await page.click('#confirm-with-passkey');
  await expect(page).toHaveURL(/\/dashboard\/account\?notice=confirmed$/);

  // the audit log has each step
  await expect(page.locator('#audit-log tr[data-action="account.passkey_added"]')).toContainText('Work laptop');
  await expect(page.locator('#audit-log tr[data-action="account.signed_in"]').first()).toContainText('with the passkey Work laptop');
  await expect(page.locator('#audit-log tr[data-action="account.reauthenticated"]').first()).toContainText('with the passkey Work laptop');

  // removed: the device still holds the credential, but it opens nothing any more
  await page.goto('/dashboard/account');
  await hydrated(page);
  await page.locator('#passkey-list li button').click();
  await expect(page).toHaveURL(/\/dashboard\/account\?notice=passkey_removed$/);
  await expect(page.locator('#passkey-list li')).toHaveCount(0);
  await logOut(page);
  await page.click('#passkey-login');
  await expect(page.locator('[data-passkey-box] [data-passkey-error]'))
    .toContainText('not registered here');
  await expect(page).toHaveURL(/\/login$/);
  expect(m.email).toContain('@');
  await context.close();
});

test('a passkey instead of the authenticator app at the second step, and the address passkeys need', async ({ browser, page }) => {
  const suite = new URL(test.info().project.use.baseURL!);
  const origin = `http://localhost:${suite.port}`;
  const context = await browser.newContext({ baseURL: origin });
  const laptop = await context.newPage();
  await withAuthenticator(context, laptop);
  const m = await signUpUnverified(laptop);

  // two-factor on with an app code (RFC 6238 computed here), then a passkey added
  await laptop.goto('/dashboard/account');
  await hydrated(laptop);
  await laptop.fill('#two-factor-password', m.password);
  await laptop.click('#begin-two-factor button[type="submit"]');
  await expect(laptop.locator('#totp-secret')).toBeVisible();
  const key = base32((await laptop.locator('#totp-secret').textContent())!);
  await laptop.fill('#two-factor-code', totp(key, Date.now() / 1000));
  await laptop.click('#enable-two-factor button[type="submit"]');
  await expect(laptop.locator('#two-factor-state')).toHaveAttribute('data-on', 'true');
  await laptop.goto('/dashboard/account');
  await hydrated(laptop);
  await laptop.fill('#passkey-name', 'Phone');
  await laptop.click('#add-passkey');
  await expect(laptop).toHaveURL(/notice=passkey_added$/);

  // password, then the passkey where the code would go
  await logOut(laptop);
  await hydrated(laptop);
  await laptop.fill('#email', m.email);
  await laptop.fill('#password', m.password);
  await laptop.click('#login-form button[type="submit"]');
  await expect(laptop).toHaveURL(/\/login\/two-factor$/);
  await laptop.click('#passkey-second-factor');
  await expect(laptop).toHaveURL(/\/dashboard$/);
  await context.close();

  // on the suite's own address (127.0.0.1) the login page says where passkeys work
  await page.goto('/login');
  await expect(page.locator('#passkey-login')).toBeDisabled();
  await expect(page.locator('[data-passkey-box] [data-passkey-error]')).toContainText(`Passkeys work at ${origin}`);
});
