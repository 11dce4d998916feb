import { test, expect, Page } from '@playwright/test';

function newMerchant() {
  const tag = Math.random().toString(36).slice(2, 10);
  return { name: `Acme ${tag}`, email: `owner-${tag}@acme.test`, password: 'correct horse battery staple' };
}

// Set by the browser bundle once hydration has finished (see `hydrate()` in src/lib.rs); the
// login page, served without the bundle, says `static` from the start.
async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', /^(true|static)$/, { timeout: 30_000 });
}

async function signUp(page: Page, m: ReturnType<typeof newMerchant>) {
  await page.goto('/signup');
  await hydrated(page);
  await page.fill('input[name="business_name"]', m.name);
  await page.fill('#email', m.email);
  await page.fill('#password', m.password);
  await page.click('button[type="submit"]');
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.locator('#business-name')).toHaveText(m.name);
}

test('the password checklist reacts to typing only once the page has hydrated', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', e => problems.push(e.message));
  page.on('console', m => { if (m.type() === 'error') problems.push(m.text()); });
  await page.goto('/signup');
  const rule = page.locator('[data-rule="length-min"]');
  // server-rendered state
  await expect(rule).toHaveAttribute('data-ok', 'false');
  await hydrated(page);
  await page.fill('#password', 'short');
  await expect(rule).toHaveAttribute('data-ok', 'false');
  await page.fill('#password', 'long enough password');
  await expect(rule).toHaveAttribute('data-ok', 'true');
  await page.fill('#email', 'me@acme.test');
  await page.fill('#password', 'xx me@acme.test xx');
  await expect(page.locator('[data-rule="not-email"]')).toHaveAttribute('data-ok', 'false');
  // hydration ran under the Content-Security-Policy without a single violation or error
  expect(problems).toEqual([]);
});

test('sign up, browse the tabs, log out, fail a login, log in again', async ({ page }) => {
  const m = newMerchant();
  await signUp(page, m);

  for (const tab of ['Connect', 'SSO', 'API', 'OAuth']) {
    await page.getByRole('link', { name: tab, exact: true }).click();
    await expect(page.locator(`section[data-tab="${tab}"] h1`)).toHaveText(tab);
  }

  await page.click('#logout');
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/dashboard/oauth');
  await expect(page).toHaveURL(/\/login\?next=%2Fdashboard%2Foauth$/);

  await hydrated(page);
  await page.fill('#email', m.email);
  await page.fill('#password', 'not my password at all');
  await page.click('button[type="submit"]');
  await expect(page.getByTestId('form-error')).toHaveText('Invalid email or password.');

  await page.fill('#password', m.password);
  await page.click('button[type="submit"]');
  await expect(page).toHaveURL(/\/dashboard\/oauth$/);
  await expect(page.locator('#business-name')).toHaveText(m.name);
});

test('signing up twice with one email explains the problem', async ({ page, context }) => {
  const m = newMerchant();
  await signUp(page, m);
  await context.clearCookies();
  await page.goto('/signup');
  await hydrated(page);
  await page.fill('input[name="business_name"]', 'Someone else');
  await page.fill('#email', m.email.toUpperCase());
  await page.fill('#password', 'another long password');
  await page.click('button[type="submit"]');
  await expect(page.getByTestId('form-error')).toContainText('An account with this email already exists');
  await expect(page).toHaveURL(/\/signup$/);
});

test('a forged cross-site form post is refused and changes nothing', async ({ page, baseURL }) => {
  await signUp(page, newMerchant());
  // a page on another origin that auto-submits a form to our logout endpoint
  await page.route('http://evil.test/**', route => route.fulfill({
    contentType: 'text/html',
    body: `<form id="f" method="post" action="${baseURL}/fn/logout"><input name="x" value="1"></form>
           <script>document.getElementById('f').submit()</script>`,
  }));
  const refused = page.waitForResponse(r => r.url().endsWith('/fn/logout'));
  await page.goto('http://evil.test/');
  expect((await refused).status()).toBe(403);
  await expect(page.locator('#error-message')).toContainText('did not come from this site');

  // and a same-site script without the token is refused too
  await page.goto('/dashboard/oauth');
  const status = await page.evaluate(async () =>
    (await fetch('/fn/logout', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' })).status);
  expect(status).toBe(403);

  await page.goto('/dashboard/oauth');
  await expect(page).toHaveURL(/\/dashboard\/oauth$/);
});

test('the session cookie is HttpOnly and SameSite=Lax', async ({ page, context }) => {
  await signUp(page, newMerchant());
  const cookie = (await context.cookies()).find(c => c.name === 'subgate_session');
  expect(cookie).toBeDefined();
  expect(cookie!.httpOnly).toBe(true);
  expect(cookie!.sameSite).toBe('Lax');
  expect(cookie!.path).toBe('/');
  expect(await page.evaluate(() => document.cookie)).not.toContain('subgate_session');
});
