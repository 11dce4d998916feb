import { test, expect } from '@playwright/test';
import { confidentialClient, connectStripe, hydrated, signUp } from '../support/helpers';

test('browse the API tab: index, follow links, a POST through the schema form, validation, copy as curl', async ({ page, context, baseURL }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  await signUp(page);
  await connectStripe(page);
  const ada = (await page.locator('#demo-customers tr', { hasText: 'ada@example.com' }).getAttribute('data-customer-id'))!;
  await confidentialClient(page, 'Backend');

  await page.goto('/dashboard/api');
  await hydrated(page);
  await expect(page.locator('#api-index [data-op="GET /api/customers"]')).toBeVisible();
  await expect(page.locator('#api-index')).toContainText('/api/v1/stores/{store}/subscribers/{subscriber_id}/login');

  // a POST through the form generated from the schema: a bad body never leaves the browser
  const posts: string[] = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/customers')) posts.push(r.url()); });
  await page.click('#api-index [data-op="POST /api/customers"]');
  await expect(page.locator('#api-operation')).toHaveAttribute('data-op', 'POST /api/customers');
  await expect(page.locator('#body-editor')).toHaveValue(/"customer_id": "cus_NffrFeUfNV2Hib"/);
  await page.fill('#body-editor', JSON.stringify({ subscriber_id: 'user-1', customer_id: 'sub_123', colour: 'red' }));
  await page.click('#send-request');
  await expect(page.locator('#body-errors')).toContainText('body.customer_id: must match ^cus_[A-Za-z0-9]+$.');
  await expect(page.locator('#body-errors')).toContainText('body.colour: unknown field.');
  expect(posts).toHaveLength(0);

  await page.fill('#body-editor', JSON.stringify({ subscriber_id: 'user-1', customer_id: ada }));
  await page.click('#send-request');
  await expect(page.locator('#response-status')).toHaveText('201 Created');
  expect(posts).toHaveLength(1);
  await expect(page.locator('#response-body')).toContainText(`"customer_id": "${ada}"`);

  // links in the JSON browse on; GETs run on arrival
  await page.click('#response-body [data-json-link]:text-is("\\"/api/customers/user-1/subscriptions\\"")');
  await expect(page).toHaveURL(/\/dashboard\/api\?path=%2Fapi%2Fcustomers%2Fuser-1%2Fsubscriptions$|\/dashboard\/api\?path=\/api\/customers\/user-1\/subscriptions$/);
  await expect(page.locator('#api-operation')).toHaveAttribute('data-op', 'GET /api/customers/{subscriber_id}/subscriptions');
  await expect(page.locator('#response-status')).toHaveText('200 OK');
  await expect(page.locator('#response-body')).toContainText('"product_name": "Pro"');
  await expect(page.locator('#response-headers')).toContainText('content-type');

  // breadcrumbs lead back up
  await page.click('#breadcrumbs a:text-is("user-1")');
  await expect(page.locator('#api-operation')).toHaveAttribute('data-op', 'GET /api/customers/{subscriber_id}');
  await expect(page.locator('#response-body')).toContainText('"subscriber_id": "user-1"');

  // ?format=json: the raw body, even for a browser
  const raw = (await page.locator('#raw-json').getAttribute('href'))!;
  expect(raw).toBe('/api/customers/user-1?format=json');
  const rawPage = await context.newPage();
  await rawPage.goto(raw);
  expect(JSON.parse((await rawPage.locator('body').textContent())!).customer_id).toBe(ada);
  await rawPage.close();

  // copy as curl, first with a placeholder, then with a fresh token of the confidential client
  await expect(page.locator('#curl')).toContainText("curl -X GET '" + baseURL + "/api/customers/user-1'");
  await expect(page.locator('#curl')).toContainText('Authorization: Bearer $TOKEN');
  await page.click('#fill-token');
  await expect(page.locator('#curl')).toContainText(/Bearer ey[\w-]+\.[\w-]+\.[\w-]+'/);
  await page.click('#copy-curl');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toBe(await page.locator('#curl').textContent());
  const token = copied.match(/Bearer ([\w.-]+)'/)![1];
  const me = await page.request.get('/api/me', { headers: { Authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).via).toBe('bearer');

  // a browser navigating to an API URL lands in the tab
  await page.goto('/api/customers');
  await expect(page).toHaveURL(/\/dashboard\/api\?path=/);
  await expect(page.locator('#api-operation')).toHaveAttribute('data-op', 'GET /api/customers');
  await expect(page.locator('#response-body')).toContainText('"has_more": false');
});

test('try it with my public client: PKCE in the browser, then requests with its bearer token', async ({ page }) => {
  await signUp(page);
  await page.fill('#client-name-input', 'Explorer app');
  await page.selectOption('#client-type', 'public');
  await page.click('#register-client button[type="submit"]');
  await expect(page.locator('#new-client-id')).toHaveText(/^cli_/);

  await page.goto('/dashboard/api?op=GET%20/api/me');
  await hydrated(page);
  await expect(page.locator('#response-body')).toContainText('"via": "session"');
  await page.click('#try-with-client');
  await expect(page).toHaveURL(/\/o\/authorize\/\?/);
  await page.click('#allow');
  // back in the tab, the token is the credential now
  await expect(page).toHaveURL(/\/dashboard\/api\?op=GET/);
  await hydrated(page);
  await expect(page.locator('#auth-mode')).toHaveValue('bearer');
  await expect(page.locator('#response-body')).toContainText('"via": "bearer"');
  await expect(page.locator('#response-body')).toContainText('"name": "Explorer app"');
  await expect(page.locator('#curl')).toContainText(/Bearer ey/);
  await page.click('#forget-token');
  await page.click('#send-request');
  await expect(page.locator('#response-body')).toContainText('"via": "session"');
});

test('ReDoc renders the OpenAPI document, and nothing is fetched from another host', async ({ page, baseURL }) => {
  const foreign: string[] = [];
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(baseURL!) && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url);
  });
  await page.goto('/api/docs');
  await expect(page.locator('h1')).toContainText('subgate API');
  await expect(page.locator('body')).toContainText('/api/customers/{subscriber_id}/subscriptions');
  await expect(page.locator('body')).toContainText('customers:read');
  expect(foreign).toEqual([]);
});
