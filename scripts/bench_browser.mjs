// `make bench`'s browser part: cold loads of /login and of the dashboard's OAuth tab in Debian's
// Chromium, unthrottled and under a "Fast 4G" profile (9 Mbit/s both ways, 40 ms RTT, as
// Chrome DevTools' preset), then a repeat visit. Prints bytes per resource type as transferred
// (encoded, headers included) and raw (decoded body), the first contentful paint, and the
// moment the app marks itself hydrated (`<body data-hydrated>`, watched from before the page's
// first script), then what each further dashboard tab adds. A page served without the wasm bundle
// (`data-hydrated="static"`: /login) has nothing to hydrate; its time is DOMContentLoaded, when
// its one deferred script (public/auth.js) has run. It measures; it never fails.
//   node scripts/bench_browser.mjs http://127.0.0.1:PORT
import { chromium } from '@playwright/test';

const base = process.argv[2];
const fast4g = { latency: 40, throughput: (9 * 1000 * 1000) / 8 };
const profiles = [
  { name: 'unthrottled' },
  { name: 'Fast 4G', ...fast4g },
  // what a build before issue 17 sent every browser: no Content-Encoding
  { name: 'Fast 4G, uncompressed', ...fast4g, identity: true },
];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-quic'],
});

// a merchant to see the dashboard as
const setup = await browser.newContext();
const signup = await setup.newPage();
await signup.goto(`${base}/signup`);
await signup.locator('body[data-hydrated]').waitFor({ timeout: 60_000 });
const tag = Math.random().toString(36).slice(2, 8);
await signup.fill('input[name=business_name]', `Bench ${tag}`);
await signup.fill('input[name=email]', `bench-${tag}@example.test`);
await signup.fill('input[name=password]', 'correct horse battery staple');
await signup.click('button[type=submit]');
await signup.waitForURL(/\/dashboard/, { timeout: 60_000 });
const loggedIn = await setup.storageState();
await setup.close();

const kind = (type, url) =>
  url.endsWith('.wasm') ? 'wasm' : { Document: 'html', Script: 'js', Stylesheet: 'css' }[type] ?? 'other';

async function visit(page, cdp, path) {
  const seen = new Map();
  const onResponse = (e) => seen.set(e.requestId, {
    kind: kind(e.type, e.response.url), raw: 0, transferred: 0,
    cached: e.response.fromDiskCache || e.response.fromPrefetchCache || false,
  });
  const onData = (e) => { const r = seen.get(e.requestId); if (r) r.raw += e.dataLength; };
  const onDone = (e) => { const r = seen.get(e.requestId); if (r) r.transferred = e.encodedDataLength; };
  const onCache = (e) => { const r = seen.get(e.requestId); if (r) r.cached = true; };
  cdp.on('Network.responseReceived', onResponse);
  cdp.on('Network.dataReceived', onData);
  cdp.on('Network.loadingFinished', onDone);
  cdp.on('Network.requestServedFromCache', onCache);
  await page.goto(`${base}${path}`);
  await page.locator('body[data-hydrated]').waitFor({ timeout: 120_000 });
  await page.waitForLoadState('networkidle');
  const times = await page.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    hydrated: window.__hydratedAt ?? NaN,
    static: document.body.dataset.hydrated === 'static',
    ready: performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? NaN,
  }));
  cdp.off('Network.responseReceived', onResponse);
  cdp.off('Network.dataReceived', onData);
  cdp.off('Network.loadingFinished', onDone);
  cdp.off('Network.requestServedFromCache', onCache);
  const by = {};
  for (const r of seen.values()) {
    const b = (by[r.kind] ??= { transferred: 0, raw: 0, cached: 0 });
    b.transferred += r.cached ? 0 : r.transferred;
    b.raw += r.raw;
    b.cached += r.cached ? 1 : 0;
  }
  return { by, times };
}

const kb = (n) => (n / 1024).toFixed(1).padStart(7);
function print(label, { by, times }) {
  const total = Object.values(by).reduce((t, b) => ({ tr: t.tr + b.transferred, raw: t.raw + b.raw }), { tr: 0, raw: 0 });
  const parts = Object.entries(by).sort().map(([k, b]) =>
    `${k} ${kb(b.transferred).trim()}/${kb(b.raw).trim()}${b.cached ? ` (${b.cached} from cache)` : ''}`);
  console.log(`   ${label.padEnd(34)} ${kb(total.tr)} KB transferred, ${kb(total.raw)} KB raw; FCP ${times.fcp.toFixed(0)} ms, ${times.static
    ? `static (no wasm), interactive ${times.ready.toFixed(0)} ms`
    : `hydrated ${times.hydrated.toFixed(0)} ms`}`);
  console.log(`   ${''.padEnd(34)} per type, KB transferred/raw: ${parts.join('; ')}`);
}

// a fresh browser context (cold cache) whose page records when it hydrated, under `profile`
async function openPage(state, profile) {
  const context = await browser.newContext({ storageState: state });
  await context.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.hasAttribute('data-hydrated')) {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  if (profile.identity) {
    await cdp.send('Network.setExtraHTTPHeaders', { headers: { 'Accept-Encoding': 'identity' } });
  }
  if (profile.latency) {
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: profile.latency,
      downloadThroughput: profile.throughput, uploadThroughput: profile.throughput,
    });
  }
  return { context, page, cdp };
}

console.log('== first load in Chromium (cold cache; then a repeat visit in the same tab)');
for (const profile of profiles) {
  for (const [label, path, state] of [['/login', '/login', undefined], ['/dashboard/oauth (logged in)', '/dashboard/oauth', loggedIn]]) {
    const { context, page, cdp } = await openPage(state, profile);
    print(`${profile.name}: ${label}`, await visit(page, cdp, path));
    print(`${profile.name}: ${label}, again`, await visit(page, cdp, path));
    await context.close();
  }
}
// each further tab after the OAuth tab, in the same tab under Fast 4G: what it adds (its own
// chunks, and the shared ones no earlier tab needed), the bundle loaded so far coming from cache
console.log('== each further tab after /dashboard/oauth (Fast 4G, same browser tab: what it adds)');
{
  const { context, page, cdp } = await openPage(loggedIn, fast4g);
  print('/dashboard/oauth (cold)', await visit(page, cdp, '/dashboard/oauth'));
  for (const path of ['/dashboard', '/dashboard/oauth/playground', '/dashboard/connect', '/dashboard/customers', '/dashboard/sso', '/dashboard/api']) {
    print(`then ${path}`, await visit(page, cdp, path));
  }
  await context.close();
}
await browser.close();
