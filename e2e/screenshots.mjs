// Saves screenshots of every page in light and dark to e2e/artifacts/, for reviewing the look.
// Usage (from e2e/): node screenshots.mjs   (same HFB_BIN / HFB_DIST_DIR / CHROMIUM_PATH as the tests)

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { artifactsDir, eventually, launchBrowser, startServer, textOf } from './lib/harness.mjs';

const PAGES = ['/', '/catalog', '/deployments', '/playground', '/dashboard', '/settings', '/nope'];
const width = Number(process.env.WIDTH ?? 1280);
const height = Number(process.env.HEIGHT ?? 860);

const ACCOUNT_PAGES = ['/account', '/account/sessions', '/account/api-keys', '/teams'];

const server = await startServer({ env: { HFB_RATE_LIMIT_AUTH_PER_MIN: '1000' } });
const browser = await launchBrowser();
try {
  await mkdir(artifactsDir, { recursive: true });
  for (const scheme of ['light', 'dark']) {
    const toastPage = await browser.context.newPage();
    await toastPage.setViewportSize({ width, height });
    await toastPage.emulateMedia({ colorScheme: scheme });
    await toastPage.route('**/api/v1/version', (route) =>
      route.fulfill({
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'internal', message: 'boom from screenshots', request_id: 'req-shot' } }),
      }),
    );
    await toastPage.goto(server.url);
    await toastPage.getByTestId('toast').first().waitFor();
    await toastPage.waitForTimeout(400);
    const toastFile = path.join(artifactsDir, `toast-${scheme}-${width}.png`);
    await toastPage.screenshot({ path: toastFile });
    console.log(toastFile);
    await toastPage.close();

    const page = await browser.context.newPage();
    await page.setViewportSize({ width, height });
    await page.emulateMedia({ colorScheme: scheme });
    for (const route of PAGES) {
      await page.goto(new URL(route, server.url).href);
      await page.getByTestId('page-title').or(page.getByTestId('not-found')).first().waitFor();
      if (route === '/' || route === '/dashboard') {
        await eventually(async () => (await textOf(page, 'ws-state')) === 'live');
        await page.waitForTimeout(route === '/dashboard' ? 4_000 : 1_500);
      }
      await page.waitForTimeout(400); // let the page-in transition finish
      const name = route === '/' ? 'overview' : route.slice(1);
      const file = path.join(artifactsDir, `${name}-${scheme}-${width}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(file);
    }
    await page.close();
    await accountScreenshots(scheme);
  }
} finally {
  await browser.close();
  await server.stop();
}

/** Signed-out forms with errors, then every account page of a user with some data. */
async function accountScreenshots(scheme) {
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  await page.setViewportSize({ width, height });
  await page.emulateMedia({ colorScheme: scheme });
  const shot = async (name, fullPage = true) => {
    await page.waitForTimeout(400);
    if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
    const file = path.join(artifactsDir, `${name}-${scheme}-${width}.png`);
    await page.screenshot({ path: file, fullPage });
    console.log(file);
  };
  const at = (p) => new URL(p, server.url).href;

  await page.goto(at('/login?next=%2Faccount%2Fapi-keys'));
  await page.getByTestId('login-email').fill('nobody@example.com');
  await page.getByTestId('login-password').fill('wrong password here');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-password-error').waitFor();
  await shot('login');

  const email = `shots-${Date.now()}-${scheme}@example.com`;
  const password = 'violet kestrel 2026 orbit';
  await page.goto(at('/signup'));
  await page.getByTestId('signup-display_name').fill('Ada Lovelace');
  await page.getByTestId('signup-email').fill('ada@');
  await page.getByTestId('signup-password').fill('short');
  await page.getByTestId('signup-submit').click();
  await page.getByTestId('signup-email-error').waitFor();
  await shot('signup');
  await page.getByTestId('signup-email').fill(email);
  await page.getByTestId('signup-password').fill(password);
  await page.getByTestId('signup-submit').click();
  await page.getByTestId('user-menu').waitFor();

  // Another session (a script signing in) and a second team with an invitation.
  await fetch(at('/api/v1/auth/login'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'curl/8.5.0' },
    body: JSON.stringify({ email, password }),
  });
  await page.goto(at('/teams'));
  await page.getByTestId('create-team-name').fill('Machine Learning Platform');
  await page.getByTestId('create-team-submit').click();
  await page.getByTestId('page-team').waitFor();
  await page.getByTestId('invite-email').fill('grace@example.com');
  await page.getByTestId('invite-submit').click();
  await page.getByTestId('team-invitation').waitFor();
  await shot('team');

  await page.goto(at('/account/api-keys'));
  await page.getByTestId('empty-state').waitFor();
  await shot('api-keys-empty');
  for (const name of ['CI pipeline', 'Notebook']) {
    await page.getByTestId('create-key-name').fill(name);
    await page.getByTestId('create-key-submit').click();
    await page.getByTestId('new-key-dialog').waitFor();
    if (name === 'Notebook') await shot('api-key-dialog', false);
    await page.getByTestId('new-key-done').click();
    await page.getByTestId('new-key-dialog').waitFor({ state: 'hidden' });
  }
  await page.getByTestId('key-row').filter({ hasText: 'CI pipeline' }).getByTestId('revoke-key').click();
  await page.getByTestId('confirm-revoke-key').waitFor();
  await shot('api-key-revoke', false);
  await page.getByTestId('confirm-revoke-key-confirm').click();
  await page.getByTestId('confirm-revoke-key').waitFor({ state: 'hidden' });

  for (const route of ACCOUNT_PAGES) {
    await page.goto(at(route));
    await page.getByTestId('page-title').first().waitFor();
    await page.waitForTimeout(300);
    await shot(route.slice(1).replaceAll('/', '-'));
  }
  await page.getByTestId('user-menu').click();
  await shot('user-menu', false);
  await page.keyboard.press('Escape');
  await page.close();
}
