// Issue 19's teams in Chromium, with the invitation a real SMTP server (aiosmtpd) received: the
// owner invites a viewer, who signs up from the mailed link in another browser and accepts; the
// viewer sees the business but is refused what a viewer may not do; the owner makes them a
// developer, who then may; the owner's audit log shows each step.
import { test, expect } from '@playwright/test';
import { confidentialClient, hydrated, linkIn, mailTo, signUpToOverview } from '../support/helpers';

test('invite a member by mail, who joins and can do only what the role allows', async ({ page, browser }) => {
  const owner = await signUpToOverview(page);
  const { clientId } = await confidentialClient(page, 'Owner backend');

  // the owner invites a viewer
  await page.goto('/dashboard/team');
  await hydrated(page);
  await expect(page.locator('#your-role')).toHaveText('owner');
  const invitee = `viewer-${Math.random().toString(36).slice(2, 10)}@team.test`;
  const sent = Date.now() - 1000;
  await page.fill('#invite-email', invitee);
  await page.selectOption('#invite-role', 'viewer');
  await page.click('#invite-form button[type="submit"]');
  await expect(page).toHaveURL(/\/dashboard\/team\?notice=invited$/);
  await expect(page.locator(`#invitations tr[data-invitation="${invitee}"]`)).toContainText('viewer');

  // the invitee opens the mailed link in their own browser, signs up from it and accepts
  const link = linkIn(await mailTo(invitee, 'invites you', sent), '/invite');
  const theirs = await browser.newContext();
  const them = await theirs.newPage();
  await them.goto(link);
  await hydrated(them);
  await expect(them.locator('#invitation')).toContainText(owner.name);
  await expect(them.locator('#invitation')).toContainText('viewer');
  // "Log in", then "Create an account" on the login page: the invitation comes along
  await them.click('#invite-login');
  await expect(them).toHaveURL(/\/login\?next=%2Finvite%3Ftoken%3D/);
  await hydrated(them);
  await them.click('#to-signup');
  await expect(them).toHaveURL(/\/signup\?next=%2Finvite%3Ftoken%3D/);
  await hydrated(them);
  await them.fill('input[name="business_name"]', 'Viewer Ltd');
  await them.fill('#email', invitee);
  await them.fill('#password', 'correct horse battery staple');
  await them.click('button[type="submit"]');
  await expect(them).toHaveURL(/\/invite\?token=/);
  await hydrated(them);
  await them.click('#accept');
  await expect(them).toHaveURL(/\/dashboard\/team\?notice=joined$/);
  await hydrated(them);
  await expect(them.locator('#business-name')).toHaveText(owner.name);
  await expect(them.locator('#your-role')).toHaveText('viewer');
  await expect(them.locator('#invite-form')).toHaveCount(0);
  await expect(them.locator(`#members tr[data-member="${invitee}"]`)).toHaveAttribute('data-role', 'viewer');

  // a viewer reads the OAuth tab but is not offered the form; the server refuses it anyway
  await them.goto('/dashboard/oauth');
  await hydrated(them);
  await expect(them.locator('#read-only')).toContainText('viewer');
  await expect(them.locator('#register-client')).toHaveCount(0);
  const csrf = await them.locator('meta[name="csrf-token"]').getAttribute('content');
  const refused = await them.request.post('/fn/create_client', {
    headers: { Accept: 'application/json', Origin: new URL(them.url()).origin },
    form: { csrf_token: csrf!, name: 'Not allowed', client_type: 'confidential', redirect_uris: '', scopes: 'customers:read', audiences: '' },
  });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).message).toContain('is viewer');
  // and reads a client's page without being offered to change, delete or regenerate it
  await them.goto(`/dashboard/oauth/clients/${clientId}`);
  await hydrated(them);
  await expect(them.locator('#client-id')).toHaveText(clientId);
  await expect(them.locator('#client-read-only')).toContainText('viewer');
  await expect(them.locator('#edit-client')).toHaveCount(0);
  await expect(them.locator('#delete-client')).toHaveCount(0);
  await expect(them.locator('#regenerate-secret')).toHaveCount(0);

  // the owner makes them a developer; from their next click they may
  await page.goto('/dashboard/team');
  await hydrated(page);
  const row = page.locator(`#members tr[data-member="${invitee}"]`);
  await row.locator('select[name="role"]').selectOption('developer');
  await row.locator('button', { hasText: 'Change' }).click();
  await expect(page).toHaveURL(/\/dashboard\/team\?notice=role_changed$/);
  await expect(page.locator(`#members tr[data-member="${invitee}"]`)).toHaveAttribute('data-role', 'developer');

  await them.goto('/dashboard/oauth');
  await hydrated(them);
  await them.fill('#client-name-input', 'Team backend');
  await them.selectOption('#client-type', 'confidential');
  await them.click('#register-client button[type="submit"]');
  await expect(them.locator('#new-client-id')).not.toBeEmpty();
  // a developer is told the SSO secret's controls are for admins, and not offered them
  await them.goto('/dashboard/sso');
  await hydrated(them);
  await expect(them.locator('#secret-admins-only')).toContainText('developer');
  await expect(them.locator('#enable-sso')).toHaveCount(0);
  // and that connecting Stripe is too (the owner has not connected it: the connect button is
  // what an admin would see); the server refuses the developer's post anyway
  await them.goto('/dashboard/connect');
  await hydrated(them);
  await expect(them.locator('#connection-state')).toHaveAttribute('data-state', 'not_connected');
  await expect(them.locator('#stripe-admins-only')).toContainText('developer');
  await expect(them.locator('#connect-stripe')).toHaveCount(0);
  const start = await them.request.post('/fn/start_connect', {
    headers: { origin: new URL(them.url()).origin, accept: 'application/json' },
    form: { csrf_token: await them.locator('meta[name="csrf-token"]').getAttribute('content') ?? '' },
  });
  expect(start.status()).toBe(403);
  await theirs.close();

  // the business's audit log names each step, with who did it and in which role
  await page.goto('/dashboard/account');
  await hydrated(page);
  for (const action of ['member.invited', 'member.joined', 'member.role_changed', 'client.created']) {
    await expect(page.locator(`#audit-log tr[data-action="${action}"]`).first()).toBeVisible();
  }
  await expect(page.locator('#audit-log tr[data-action="client.created"]').first()).toContainText(`${invitee} (developer)`);
  await expect(page.locator('#audit-log tr[data-action="member.joined"]').first()).toContainText('(viewer)');
});
