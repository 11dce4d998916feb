// Issue 17: the browser bundle is served compressed, under content-hashed names, cached for a
// year; pages themselves are revalidated and never compressed (BREACH), nor is anything no-store.
import { test, expect } from '@playwright/test';

test('the bundle is compressed, hashed and immutable; a repeat visit fetches none of it', async ({ page }) => {
  const bundle = new Map<string, Record<string, string>>();
  page.on('response', async (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/pkg/')) bundle.set(path, await r.allHeaders());
  });
  const doc = await page.goto('/signup');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
  const html = await doc!.allHeaders();
  expect(html['cache-control']).toBe('no-cache');
  expect(html['content-encoding']).toBeUndefined();

  const files = [...bundle.keys()];
  for (const kind of ['wasm', 'js', 'css']) {
    expect(files.some((p) => new RegExp(`^/pkg/subgate\\.[A-Za-z0-9_-]{16,}\\.${kind}$`).test(p)), `${kind} in ${files}`).toBe(true);
  }
  for (const [path, h] of bundle) {
    expect(['br', 'gzip'], path).toContain(h['content-encoding']);
    expect(h['cache-control'], path).toBe('public, max-age=31536000, immutable');
    expect(h['vary'], path).toContain('accept-encoding');
  }

  // the same tab comes back: every bundle file from the cache, no bytes over the network
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map<string, string>();
  const overNetwork: string[] = [];
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.loadingFinished', (e) => {
    const url = urls.get(e.requestId) ?? '';
    if (url.includes('/pkg/') && e.encodedDataLength > 0) overNetwork.push(`${url} (${e.encodedDataLength} B)`);
  });
  await page.goto('/signup');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
  await page.waitForLoadState('networkidle');
  expect([...urls.values()].filter((u) => u.includes('/pkg/')).length).toBeGreaterThan(0);
  expect(overNetwork).toEqual([]);
});

test('the login page comes without the bundle, in a few KB, and its form still posts in the background', async ({ page }) => {
  const loaded: { path: string; bytes: number; headers: Record<string, string> }[] = [];
  page.on('response', async (r) => {
    const body = await r.body().catch(() => Buffer.alloc(0));
    loaded.push({ path: new URL(r.url()).pathname, bytes: body.length, headers: await r.allHeaders() });
  });
  await page.goto('/login');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'static');
  await page.waitForLoadState('networkidle');
  const paths = loaded.map((l) => l.path);
  expect(paths.filter((p) => /\.(wasm|js)$/.test(p) && p.startsWith('/pkg/'))).toEqual([]);
  const script = loaded.find((l) => l.path.startsWith('/assets/auth/'));
  expect(script, `${paths}`).toBeDefined();
  expect(script!.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  // everything the page loaded, decoded: far under issue 17's 150 KB budget even uncompressed
  const total = loaded.reduce((n, l) => n + l.bytes, 0);
  expect(total, `${paths}`).toBeLessThan(150 * 1024);

  // a wrong password is told in place, the address stays typed, and nothing reloaded
  await page.evaluate(() => { (window as any).__samePage = true; });
  await page.fill('#email', 'nobody@acme.test');
  await page.fill('#password', 'not a password of anyone');
  await page.click('#login-form button[type="submit"]');
  await expect(page.getByTestId('form-error')).toHaveText('Invalid email or password.');
  await expect(page.locator('#email')).toHaveValue('nobody@acme.test');
  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);
  await expect(page).toHaveURL(/\/login$/);
});

test('public files are compressed on the fly; no-store responses never are', async ({ request }) => {
  const vendor = await request.get('/vendor/redoc.standalone.js', { headers: { 'accept-encoding': 'br, gzip' } });
  expect(vendor.status()).toBe(200);
  expect(['br', 'gzip']).toContain(vendor.headers()['content-encoding']);
  expect((await vendor.body()).length).toBeGreaterThan(100_000); // decoded by the client

  const spec = await request.get('/api/openapi.json', { headers: { 'accept-encoding': 'br, gzip' } });
  expect(spec.status()).toBe(200);
  expect(spec.headers()['cache-control']).toBe('no-store');
  expect(spec.headers()['content-encoding']).toBeUndefined();
});
