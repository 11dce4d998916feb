import { defineConfig } from '@playwright/test';

// scripts/test.sh builds the server and picks a free port; the server gets its own SQLite file.
const port = Number(process.env.E2E_PORT ?? 3900);
const dir = process.env.E2E_DIR ?? '/tmp/subgate-e2e';
const baseURL = `http://127.0.0.1:${port}`;
// a real SMTP server (aiosmtpd, from the test venv) that keeps each mail in DIR/maildir/new
const smtpPort = Number(process.env.E2E_SMTP_PORT ?? port + 1);
const python = process.env.E2E_PYTHON ?? 'python3';

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      // Debian's Chromium; never `npx playwright install` (no download host here)
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
             '--disable-sync', '--no-first-run', '--disable-quic'],
    },
  },
  webServer: [{
    command: `${python} -m aiosmtpd -n -l 127.0.0.1:${smtpPort} -c aiosmtpd.handlers.Mailbox ${dir}/maildir`,
    port: smtpPort,
    reuseExistingServer: false,
    timeout: 30_000,
  }, {
    command: `${process.env.SUBGATE_BIN ?? 'target/debug/subgate'} serve`,
    cwd: '..',
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      DATABASE_URL: `sqlite://${dir}/e2e.db?mode=rwc`,
      SUBGATE_DATA_DIR: dir,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: 'target/site',
      LEPTOS_SITE_PKG_DIR: 'pkg',
      LEPTOS_OUTPUT_NAME: 'subgate',
      RUST_LOG: 'warn',
      // the seeds' clients keep their own URLs: Riverty's audience, Recurpay's store hosts
      SUBGATE_API_AUDIENCES: 'https://api.horizonafs.io',
      SUBGATE_SSO_DOMAIN: 'sso.localhost',
      // every test signs up from 127.0.0.1: more than the default 10 accounts an hour
      SUBGATE_SIGNUPS_PER_IP_PER_HOUR: '1000',
      // mail goes out over SMTP to the aiosmtpd above (no TLS: loopback, development)
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      MAIL_FROM: 'subgate <no-reply@subgate.test>',
    },
  }],
});
