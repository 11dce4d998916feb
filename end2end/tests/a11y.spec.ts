// Accessibility, checked by a tool we did not write: axe-core (npm), injected into every page at
// a desktop and a phone width, in light and dark colour schemes. No violation of impact serious
// or critical may remain; the count of the others is printed. And no page is wider than a
// 360 px phone screen (no horizontal scroll).
import { expect, test, Page } from '@playwright/test';
import { hydrated, withAda } from '../support/helpers';

// axe is injected as a script tag: the pages' Content-Security-Policy (nonces only) would refuse it
test.use({ bypassCSP: true });

const AXE = require.resolve('axe-core/axe.min.js');
// every page at both widths in both schemes, for people to look at (not compared)
const SHOTS = `${__dirname}/../screenshots`;

type Violation = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] };

async function audit(page: Page, path: string): Promise<string[]> {
  const failures: string[] = [];
  for (const width of [1280, 390]) {
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.setViewportSize({ width, height: 900 });
      await page.emulateMedia({ colorScheme });
      await page.goto(path);
      if (!path.startsWith('/portal')) await hydrated(page);
      const name = path.replace(/cli_[A-Za-z0-9_-]+/, 'client').replace(/^\//, '').replace(/[^a-z0-9]+/gi, '-') || 'home';
      await page.screenshot({ path: `${SHOTS}/${name}-${width}-${colorScheme}.png`, fullPage: true });
      await page.addScriptTag({ path: AXE });
      const violations: Violation[] = await page.evaluate(async () => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const result = await (window as any).axe.run(document, { resultTypes: ['violations'] });
        return result.violations;
      });
      if (width === 390) {
        // a phone: nothing wider than the screen
        await page.setViewportSize({ width: 360, height: 800 });
        const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
        if (scroll > 360) failures.push(`${path} 360px ${colorScheme}: the page is ${scroll} px wide`);
        console.log(`width ${path} at 360 px: ${scroll} px`);
      }
      const grave = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      const rest = violations.filter((v) => !grave.includes(v));
      console.log(`axe ${path} ${width}px ${colorScheme}: ${grave.length} serious or critical, ` +
        `${rest.length} others${rest.length ? ` (${rest.map((v) => `${v.id}×${v.nodes.length}`).join(', ')})` : ''}`);
      for (const v of grave) {
        failures.push(`${path} ${width}px ${colorScheme}: ${v.impact} ${v.id} (${v.help}) at ` +
          v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; '));
      }
    }
  }
  return failures;
}

test('every page passes axe-core with no serious or critical violation, at 1280 and 390 px, light and dark, and fits 360 px', async ({ page }) => {
  test.setTimeout(300_000);
  const failures: string[] = [];
  // the dead link's page (a link nobody issued) is one of the subscriber's pages too
  for (const path of ['/login', '/signup', '/forgot-password', `/reset-password?token=${'A'.repeat(43)}`, '/portal',
                      `/portal/sso/${'A'.repeat(43)}`, `/invite?token=${'A'.repeat(43)}`]) failures.push(...await audit(page, path));

  const { client: { clientId } } = await withAda(page, 'user-ada');
  await page.goto('/dashboard/sso');
  await hydrated(page);
  await page.click('#enable-sso');
  await expect(page.locator('#sso-state')).toHaveAttribute('data-state', 'on');
  // the Team tab with an open invitation in its table
  await page.goto('/dashboard/team');
  await hydrated(page);
  await page.fill('#invite-email', `a11y-${Date.now()}@team.test`);
  await page.click('#invite-form button[type="submit"]');
  await expect(page.locator('#invitations tbody tr')).toHaveCount(1);
  for (const path of ['/dashboard', '/dashboard/team', '/dashboard/oauth', `/dashboard/oauth/clients/${clientId}`, '/dashboard/oauth/playground',
                      '/dashboard/connect', '/dashboard/customers', '/dashboard/customers/user-ada', '/dashboard/sso', '/dashboard/api', '/dashboard/account', '/dashboard/no-such-page']) {
    failures.push(...await audit(page, path));
  }
  // the portal signed in, in the merchant's accent, as Ada (previewed from her customer page)
  await page.goto('/dashboard/sso');
  await hydrated(page);
  await page.fill('#portal-accent', '#0e7490');
  await page.click('#save-portal-branding');
  await expect(page.locator('#portal-branding-saved')).toHaveText('Saved');
  await page.goto('/dashboard/customers/user-ada');
  await hydrated(page);
  await page.click('#preview-portal button');
  await page.click('#confirm-sso');
  await expect(page).toHaveURL(/\/portal$/);
  failures.push(...await audit(page, '/portal?as=subscriber'));
  expect(failures, failures.join('\n')).toEqual([]);
});
