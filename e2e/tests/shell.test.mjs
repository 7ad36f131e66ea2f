// The app shell against the real server: rendering, navigation, deep links, live data,
// the WebSocket heartbeat and API errors as toasts.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, launchBrowser, startServer, textOf, withPage } from '../lib/harness.mjs';

const NAV = [
  ['overview', 'Overview', '/'],
  ['catalog', 'Catalog', '/catalog'],
  ['deployments', 'Deployments', '/deployments'],
  ['playground', 'Playground', '/playground'],
  ['dashboard', 'Dashboard', '/dashboard'],
  ['settings', 'Settings', '/settings'],
];

// Pages that show a team's data: anonymous visitors are sent to the login page.
const SIGNED_IN_ONLY = new Set(['deployments', 'playground']);

describe('hfb web app', { timeout: 180_000 }, () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const run = (name, fn) => withPage(browser.context, name, fn);

  test('the shell renders the brand and the navigation', { timeout: 30_000 }, () =>
    run('shell', async (page) => {
      await page.goto(server.url);
      const brand = page.getByTestId('brand');
      await brand.waitFor();
      assert.match(await brand.textContent(), /hfb/);
      assert.match(await brand.textContent(), /Hugging Face for Business/);
      for (const [key, title, path] of NAV) {
        const link = page.getByTestId(`nav-${key}`);
        assert.equal((await link.textContent()).trim(), title);
        assert.equal(await link.getAttribute('href'), path);
      }
      assert.equal(await textOf(page, 'page-title'), 'Overview');
      assert.equal(await page.title(), 'Overview · hfb');
      // Keyboard users first reach a skip link that moves focus to the content.
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
      await page.keyboard.press('Enter');
      await eventually(async () => (await page.evaluate(() => document.activeElement?.id)) === 'main', {
        message: 'focus moves to main',
      });
    }));

  test('clicking the navigation changes the URL and the page', { timeout: 30_000 }, () =>
    run('navigation', async (page) => {
      await page.goto(server.url);
      await page.getByTestId('page-overview').waitFor();
      for (const [key, title, path] of [...NAV.slice(1), NAV[0]]) {
        await page.getByTestId(`nav-${key}`).click();
        if (SIGNED_IN_ONLY.has(key)) {
          // Team pages send anonymous visitors to sign in first, with the way back.
          await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('next') === path);
          await page.getByTestId('page-login').waitFor();
          continue;
        }
        await page.waitForURL(new URL(path, server.url).href);
        await page.getByTestId(`page-${key}`).waitFor();
        assert.equal(await textOf(page, 'page-title'), title);
        assert.equal(await page.getByTestId(`nav-${key}`).getAttribute('aria-current'), 'page');
      }
      // The empty pages say what they will hold instead of showing made-up data.
      await page.getByTestId('nav-catalog').click();
      assert.match(await textOf(page, 'empty-state'), /Hugging Face Hub/);
      await page.goBack();
      await page.getByTestId('page-overview').waitFor();
    }));

  test('a deep link loads the right page from the server', { timeout: 30_000 }, () =>
    run('deep-link', async (page) => {
      const response = await page.goto(new URL('/settings', server.url).href);
      assert.equal(response.status(), 200);
      await page.getByTestId('page-settings').waitFor();
      assert.equal(await textOf(page, 'page-title'), 'Settings');
      assert.equal(await textOf(page, 'api-origin'), new URL(server.url).origin);
      assert.equal(await page.getByTestId('link-docs').getAttribute('href'), '/api/docs');
      assert.equal(await page.getByTestId('link-openapi').getAttribute('href'), '/api/openapi.json');
    }));

  test('an unknown path shows the 404 page with a way home', { timeout: 30_000 }, () =>
    run('not-found', async (page) => {
      await page.goto(new URL('/no/such/page', server.url).href);
      await page.getByTestId('not-found').waitFor();
      assert.match(await textOf(page, 'not-found'), /Page not found/);
      await page.getByTestId('go-home').click();
      await page.waitForURL(new URL('/', server.url).href);
      await page.getByTestId('page-overview').waitFor();
    }));

  test('the overview shows the version and readiness from the API', { timeout: 30_000 }, () =>
    run('overview', async (page) => {
      const version = await (await fetch(new URL('/api/v1/version', server.url))).json();
      await page.goto(server.url);
      assert.equal(await textOf(page, 'version'), version.version);
      assert.equal(await textOf(page, 'instance-id'), version.instance_id);
      assert.equal(await textOf(page, 'readiness-status'), 'ready');
      await page.getByTestId('check-store').waitFor();
      await page.getByTestId('check-cache').waitFor();
      assert.equal(await textOf(page, 'check-store-status'), 'up');
      assert.equal(await textOf(page, 'check-cache-status'), 'up');
      // Refresh fetches again without dropping what is shown.
      const checked = page.waitForResponse((r) => r.url().endsWith('/api/v1/health'));
      await page.getByTestId('refresh').click();
      assert.equal((await checked).status(), 200);
      assert.equal(await textOf(page, 'readiness-status'), 'ready');
    }));

  test('WebSocket heartbeats arrive and their sequence increases', { timeout: 30_000 }, () =>
    run('websocket', async (page) => {
      await page.goto(server.url);
      await eventually(async () => (await textOf(page, 'ws-state')) === 'live', {
        timeout: 5_000,
        message: 'ws-state is live',
      });
      const first = Number(await textOf(page, 'ws-heartbeat-seq'));
      assert.ok(Number.isInteger(first), `heartbeat seq is a number: ${first}`);
      await eventually(async () => Number(await textOf(page, 'ws-heartbeat-seq')) > first, {
        timeout: 5_000,
        message: `heartbeat seq increases past ${first}`,
      });
      assert.ok(Number(await textOf(page, 'ws-connections')) >= 1);
    }));

  test('an API error appears as a toast with message, code and request id', { timeout: 30_000 }, () =>
    run('toast', async (page) => {
      await page.route('**/api/v1/version', (route) =>
        route.fulfill({
          status: 500,
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'internal', message: 'boom from test', request_id: 'req-test' } }),
        }),
      );
      await page.goto(server.url);
      const toast = page.getByTestId('toast').filter({ hasText: 'boom from test' });
      await toast.waitFor();
      const text = await toast.textContent();
      assert.match(text, /Could not load the server version/);
      assert.match(text, /internal/);
      assert.match(text, /req-test/);
      assert.equal(await page.getByRole('alert').filter({ hasText: 'boom from test' }).count(), 1);
      // Readiness still loads: one failing call does not take the page down.
      assert.equal(await textOf(page, 'readiness-status'), 'ready');
      await toast.getByRole('button', { name: 'Dismiss notification' }).click();
      await toast.waitFor({ state: 'detached' });
    }));

  test('the theme choice is applied and survives a reload', { timeout: 30_000 }, () =>
    run('theme', async (page) => {
      await page.goto(new URL('/settings', server.url).href);
      await page.getByTestId('theme-dark').check();
      const theme = () => page.evaluate(() => document.documentElement.getAttribute('data-theme'));
      await eventually(async () => (await theme()) === 'dark', { message: 'data-theme is dark' });
      await page.reload();
      await page.getByTestId('page-settings').waitFor();
      assert.equal(await theme(), 'dark');
      assert.equal(await page.getByTestId('theme-dark').isChecked(), true);
      await page.getByTestId('theme-system').check();
      await eventually(async () => (await theme()) === null, { message: 'data-theme removed' });
      assert.equal(await page.evaluate(() => localStorage.getItem('hfb.theme')), 'system');
    }));

  test('on a narrow screen the navigation opens from the menu button', { timeout: 30_000 }, () =>
    run('narrow', async (page) => {
      await page.setViewportSize({ width: 390, height: 800 });
      await page.goto(server.url);
      const nav = page.getByTestId('nav');
      const menu = page.getByRole('button', { name: 'Open navigation' });
      await menu.waitFor();
      assert.equal(await nav.isVisible(), false);
      await menu.click();
      await page.getByTestId('nav-dashboard').click();
      await page.waitForURL(new URL('/dashboard', server.url).href);
      await page.getByTestId('page-dashboard').waitFor();
      await eventually(async () => !(await nav.isVisible()), { message: 'navigation closes after following a link' });
    }));
});
