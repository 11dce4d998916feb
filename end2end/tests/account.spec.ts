// Issue 19 in Chromium, with the mail a real SMTP server (aiosmtpd) received: verify the address
// from the sign-up mail, reset a forgotten password from the reset mail, see and end sessions,
// turn two-factor on with codes computed here and log in with one, and read each of these in
// the audit log.
import { test, expect } from '@playwright/test';
import { base32, hydrated, linkIn, mailTo, signUpToOverview, signUpUnverified, totp } from '../support/helpers';

test('verify from the mail, forget the password, reset it from the mail, and read the audit log', async ({ page, browser }) => {
  const m = await signUpUnverified(page);

  // not verified yet: Connect says why it refuses
  await page.goto('/dashboard/account');
  await hydrated(page);
  await expect(page.locator('#unverified')).toContainText(m.email);
  await page.goto('/dashboard/connect');
  await hydrated(page);
  await page.click('#connect-stripe');
  await expect(page.getByTestId('form-error')).toContainText('Verify your email address first');

  // the mail as the SMTP server got it; its link opens a page that asks before it verifies
  const verify = linkIn(await mailTo(m.email, 'Verify'), '/verify-email');
  await page.goto(verify);
  await hydrated(page);
  await page.click('#verify');
  await expect(page).toHaveURL(/\/dashboard\/account\?notice=verified$/);
  await expect(page.locator('#account-notice')).toContainText('verified');
  await expect(page.locator('#unverified')).toHaveCount(0);

  // a second browser logged in to the same account
  const other = await browser.newContext();
  const laptop = await other.newPage();
  await laptop.goto('/login');
  await hydrated(laptop);
  await laptop.fill('#email', m.email);
  await laptop.fill('#password', m.password);
  await laptop.click('button[type="submit"]');
  await expect(laptop).toHaveURL(/\/dashboard$/);
  await page.reload();
  await hydrated(page);
  await expect(page.locator('#sessions tbody tr')).toHaveCount(2);
  await expect(page.locator('#sessions tr[data-current="true"]')).toHaveCount(1);

  // forgot: log out, ask for a link, use it
  await page.click('#logout');
  await expect(page).toHaveURL(/\/login$/);
  await hydrated(page);
  await page.click('#forgot-password');
  await expect(page).toHaveURL(/\/forgot-password$/);
  await hydrated(page);
  const asked = Date.now() - 1000;
  await page.fill('#email', m.email);
  await page.click('button[type="submit"]');
  await expect(page.locator('#reset-requested')).toContainText('If an account uses this address');
  const reset = linkIn(await mailTo(m.email, 'Reset your subgate password', asked), '/reset-password');
  await page.goto(reset);
  await hydrated(page);
  const fresh = 'a fresh and long passphrase';
  await page.fill('#password', fresh);
  await page.click('button[type="submit"]');
  await expect(page).toHaveURL(/\/login\?reset=1$/);
  await expect(page.locator('#login-notice')).toContainText('every session was logged out');

  // the laptop's session ended with the reset
  await laptop.goto('/dashboard');
  await expect(laptop).toHaveURL(/\/login\?next=/);
  await other.close();

  // the link worked once
  await page.goto(reset);
  await hydrated(page);
  await page.fill('#password', 'yet another long passphrase');
  await page.click('button[type="submit"]');
  await expect(page.getByTestId('form-error')).toContainText('has been used');

  // the old password is refused, the new one works
  await page.goto('/login');
  await hydrated(page);
  await page.fill('#email', m.email);
  await page.fill('#password', m.password);
  await page.click('button[type="submit"]');
  await expect(page.getByTestId('form-error')).toContainText('Invalid email or password');
  await page.fill('#password', fresh);
  await page.click('button[type="submit"]');
  await expect(page).toHaveURL(/\/dashboard$/);

  // every step is in the audit log, and in its CSV
  await page.goto('/dashboard/account');
  await hydrated(page);
  for (const action of ['account.signed_up', 'account.email_verified', 'account.signed_in', 'account.password_reset', 'account.sign_in_failed']) {
    await expect(page.locator(`#audit-log tr[data-action="${action}"]`).first()).toBeVisible();
  }
  const csv = await page.request.get('/dashboard/account/audit.csv');
  expect(csv.status()).toBe(200);
  expect(await csv.text()).toContain('"account.password_reset"');
  await page.selectOption('#audit-filter', 'account.');
  await page.click('form[action="/dashboard/account"] button[type="submit"]');
  await expect(page).toHaveURL(/action=account\./);
  await expect(page.locator('#audit-log tbody tr').first()).toHaveAttribute('data-action', /^account\./);
});

test('turn on two-factor with a code computed here, then log in with the next code', async ({ page }) => {
  const m = await signUpToOverview(page);
  await page.goto('/dashboard/account');
  await hydrated(page);
  await expect(page.locator('#two-factor-state')).toHaveAttribute('data-on', 'false');
  await page.fill('#two-factor-password', m.password);
  await page.click('#begin-two-factor button[type="submit"]');
  await expect(page).toHaveURL(/notice=totp_scan/);
  await hydrated(page);
  // the QR code is an image the page's CSP lets load
  const qr = page.locator('#totp-qr');
  await expect(qr).toBeVisible();
  expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  const key = base32((await page.locator('#totp-secret').textContent())!);
  const now = Date.now() / 1000;
  await page.fill('#two-factor-code', totp(key, now));
  await page.click('#enable-two-factor button[type="submit"]');
  await expect(page).toHaveURL(/notice=totp_on/);
  await expect(page.locator('#recovery-codes li')).toHaveCount(10);
  await expect(page.locator('#two-factor-state')).toHaveAttribute('data-on', 'true');

  await page.click('#logout');
  await expect(page).toHaveURL(/\/login$/);
  await hydrated(page);
  await page.fill('#email', m.email);
  await page.fill('#password', m.password);
  await page.click('button[type="submit"]');
  await expect(page).toHaveURL(/\/login\/two-factor$/);
  await hydrated(page);
  // the step the setup used is spent: the app's next code logs in
  await page.fill('#code', totp(key, now + 30));
  await page.click('button[type="submit"]');
  await expect(page).toHaveURL(/\/dashboard$/);
  await page.goto('/dashboard/account');
  await hydrated(page);
  await expect(page.locator('#audit-log tr[data-action="account.two_factor_enabled"]')).toHaveCount(1);
  await expect(page.locator('#audit-log tr[data-action="account.signed_in"]').first()).toContainText('with authenticator app');
});
