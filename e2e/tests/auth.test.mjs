// Accounts in the browser against the real server: sign-up, sign-in and sign-out, the
// session surviving a reload, protected pages, API keys used from outside the browser,
// teams, and the token refresh that must happen once for many 401s.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { eventually, launchBrowser, startServer, textOf, withPage } from '../lib/harness.mjs';

const PASSWORD = 'violet kestrel 2026 orbit';
const NEW_PASSWORD = 'amber heron 1984 glacier';

const uniqueEmail = (tag) => `${tag}-${randomUUID().slice(0, 8)}@example.com`;

describe('accounts in the web app', { timeout: 300_000 }, () => {
  let server;
  let browser;

  before(async () => {
    // Every page load with a session cookie refreshes once; the suite loads many pages
    // from one address, more than the production default of 20 auth calls a minute.
    server = await startServer({ env: { HFB_RATE_LIMIT_AUTH_PER_MIN: '1000' } });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  // Each test starts signed out: the browser profile is shared by the tests.
  beforeEach(async () => {
    await browser.context.clearCookies();
  });

  const run = (name, fn) => withPage(browser.context, name, fn);
  const at = (path) => new URL(path, server.url).href;

  /** Creates an account through the API (not the UI) and returns its credentials. */
  async function createAccount(name = 'Grace Hopper') {
    const email = uniqueEmail('api');
    const res = await fetch(at('/api/v1/auth/signup'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD, display_name: name }),
    });
    assert.equal(res.status, 201, await res.text());
    return { email, password: PASSWORD, name };
  }

  /** Signs in through the form on the page already open at /login. */
  async function fillSignIn(page, { email, password }) {
    await page.getByTestId('login-email').fill(email);
    await page.getByTestId('login-password').fill(password);
    await page.getByTestId('login-submit').click();
  }

  async function signIn(page, account, path = '/login') {
    await page.goto(at(path));
    await page.getByTestId('page-login').waitFor();
    await fillSignIn(page, account);
    await page.getByTestId('user-menu').waitFor();
  }

  async function signOut(page) {
    await page.getByTestId('user-menu').click();
    await page.getByTestId('sign-out').click();
    await page.getByTestId('sign-in-link').waitFor();
  }

  /** Records every client-side navigation (pushState/replaceState) of the page. */
  async function recordNavigations(page) {
    await page.addInitScript(() => {
      window.__navigations = [];
      for (const method of ['pushState', 'replaceState']) {
        const original = history[method];
        history[method] = function (...args) {
          window.__navigations.push(String(args[2] ?? ''));
          return original.apply(this, args);
        };
      }
    });
  }

  test('sign up lands signed in, with the access token kept out of storage', { timeout: 30_000 }, () =>
    run('signup', async (page) => {
      const email = uniqueEmail('ada');
      await page.goto(server.url);
      await page.getByTestId('sign-up-link').click();
      await page.getByTestId('page-signup').waitFor();
      // The app checks the obvious before asking the server.
      await page.getByTestId('signup-display_name').fill('Ada Lovelace');
      await page.getByTestId('signup-email').fill('not-an-address');
      await page.getByTestId('signup-password').fill('short');
      await page.getByTestId('signup-submit').click();
      assert.match(await textOf(page, 'signup-email-error'), /e-mail address like/);
      assert.match(await textOf(page, 'signup-password-error'), /at least 10 characters/);
      assert.equal(await page.getByTestId('signup-email').getAttribute('aria-invalid'), 'true');

      await page.getByTestId('signup-email').fill(email);
      await page.getByTestId('signup-password').fill(PASSWORD);
      assert.equal(await page.getByTestId('signup-password').getAttribute('autocomplete'), 'new-password');
      // Enter submits the form.
      await page.getByTestId('signup-password').press('Enter');
      await page.waitForURL(at('/'));
      assert.equal(await textOf(page, 'user-name'), 'Ada Lovelace');
      await page.getByTestId('page-overview').waitFor();

      const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
      assert.doesNotMatch(stored, /eyJ/, 'no JWT in web storage');
      // The refresh cookie is scoped to the auth routes.
      const cookies = await browser.context.cookies(at('/api/v1/auth/refresh'));
      const refresh = cookies.find((c) => c.name === 'hfb_refresh');
      assert.ok(refresh?.httpOnly, 'the refresh cookie is httpOnly');

      // Signing up again with the same address says so next to the field.
      await signOut(page);
      await page.goto(at('/signup'));
      await page.getByTestId('signup-display_name').fill('Ada Again');
      await page.getByTestId('signup-email').fill(email);
      await page.getByTestId('signup-password').fill(PASSWORD);
      await page.getByTestId('signup-submit').click();
      assert.match(await textOf(page, 'signup-email-error'), /already exists/);
    }));

  test('signed out, a protected page asks to sign in and then returns to it', { timeout: 30_000 }, () =>
    run('protected-redirect', async (page) => {
      const account = await createAccount('Katherine Johnson');
      await signIn(page, account);
      await signOut(page);
      await page.goto(at('/account/api-keys'));
      await page.waitForURL(at('/login?next=%2Faccount%2Fapi-keys'));
      assert.match(await textOf(page, 'login-next'), /\/account\/api-keys/);
      await fillSignIn(page, account);
      await page.waitForURL(at('/account/api-keys'));
      await page.getByTestId('page-api-keys').waitFor();
      assert.equal(await textOf(page, 'user-name'), 'Katherine Johnson');

      // `next` only ever leads to this site.
      await signOut(page);
      await page.goto(at('/login?next=%2F%2Fevil.example%2Fphish'));
      await fillSignIn(page, account);
      await page.waitForURL(at('/'));
    }));

  test('a reload keeps the session and never flashes the sign-in page', { timeout: 30_000 }, () =>
    run('reload', async (page) => {
      const account = await createAccount('Mary Jackson');
      await recordNavigations(page);
      await signIn(page, account);
      await page.goto(at('/account'));
      await page.getByTestId('page-account').waitFor();

      // The refresh echoes the readable CSRF cookie (which it then rotates).
      const csrf = (await browser.context.cookies(server.url)).find((c) => c.name === 'hfb_csrf');
      // Hold the refresh back so the restoring state is visible.
      let refreshHeaders;
      await page.route('**/api/v1/auth/refresh*', async (route) => {
        refreshHeaders = route.request().headers();
        await new Promise((resolve) => setTimeout(resolve, 700));
        await route.continue();
      });
      await page.reload();
      await page.getByTestId('page-skeleton').waitFor();
      await page.getByTestId('page-account').waitFor();
      assert.equal(await textOf(page, 'account-email'), account.email);
      assert.equal(await textOf(page, 'user-name'), 'Mary Jackson');
      assert.equal(page.url(), at('/account'));
      const navigations = await page.evaluate(() => window.__navigations);
      assert.ok(!navigations.some((n) => n.includes('/login')), `no detour via /login: ${navigations}`);
      assert.equal(refreshHeaders['x-csrf-token'], csrf.value);
    }));

  test('a wrong password shows the error next to the field', { timeout: 30_000 }, () =>
    run('wrong-password', async (page) => {
      const account = await createAccount();
      await page.goto(at('/login'));
      assert.equal(await page.getByTestId('login-password').getAttribute('autocomplete'), 'current-password');
      await page.getByTestId('login-email').fill(account.email);
      await page.getByTestId('login-password').fill('not the right password');
      await page.getByTestId('login-password').press('Enter');
      assert.equal(await textOf(page, 'login-password-error'), 'Wrong e-mail or password.');
      assert.equal(page.url(), at('/login'));
      assert.equal(await page.getByTestId('sign-in-link').isVisible(), true);
      // The field is emptied and focused for the next try.
      assert.equal(await page.getByTestId('login-password').inputValue(), '');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'login-password');
    }));

  test('an API key works from outside the browser until it is revoked in the UI', { timeout: 40_000 }, () =>
    run('api-key', async (page) => {
      const account = await createAccount('Alan Turing');
      await signIn(page, account, '/login?next=%2Faccount%2Fapi-keys');
      await page.getByTestId('page-api-keys').waitFor();
      await page.getByTestId('empty-state').filter({ hasText: 'No API keys yet' }).waitFor();

      await page.getByTestId('create-key-name').fill('e2e pipeline');
      assert.equal(await page.getByTestId('create-key-scope-read').isChecked(), true);
      await page.getByTestId('create-key-scope-inference').check();
      await page.getByTestId('create-key-submit').click();

      const dialog = page.getByTestId('new-key-dialog');
      await dialog.waitFor();
      assert.match(await dialog.textContent(), /shown only this once/);
      const key = await page.getByTestId('new-key-value').inputValue();
      assert.match(key, /^hfb_/);
      await page.getByTestId('copy-key').waitFor();

      const call = () => fetch(at('/api/v1/teams'), { headers: { authorization: `Bearer ${key}` } });
      const ok = await call();
      assert.equal(ok.status, 200);
      const teams = await ok.json();
      assert.equal(teams.length, 1);

      await page.getByTestId('new-key-done').click();
      await dialog.waitFor({ state: 'hidden' });
      assert.ok(!(await page.content()).includes(key), 'the key is gone from the page');

      const row = page.getByTestId('key-row').filter({ hasText: 'e2e pipeline' });
      assert.ok(key.startsWith((await row.getByTestId('key-prefix').textContent()).replace('…', '')));
      assert.match(await row.textContent(), /read/);
      assert.match(await row.textContent(), /inference/);
      assert.equal(await textOf(row, 'key-status'), 'active');
      await row.getByTestId('revoke-key').click();
      await page.getByTestId('confirm-revoke-key').waitFor();
      await page.getByTestId('confirm-revoke-key-confirm').click();
      await eventually(async () => (await textOf(row, 'key-status')) === 'revoked', { message: 'key shows revoked' });

      const refused = await call();
      assert.equal(refused.status, 401);
      assert.equal((await refused.json()).error.code, 'unauthorized');
    }));

  test('concurrent 401s share one refresh and the session carries on', { timeout: 30_000 }, () =>
    run('refresh-once', async (page) => {
      const account = await createAccount('Annie Easley');
      await signIn(page, account);
      await page.getByTestId('page-overview').waitFor();

      // The next call to each of these pretends the access token has expired.
      const expired = JSON.stringify({
        error: { code: 'unauthorized', message: 'the access token has expired; refresh it', request_id: 'e2e' },
      });
      const rejectOnce = new Set(['/api/v1/teams', '/api/v1/me/invitations']);
      await page.route(/\/api\/v1\/(teams|me\/invitations)$/, async (route) => {
        const path = new URL(route.request().url()).pathname;
        if (rejectOnce.delete(path)) {
          await route.fulfill({ status: 401, contentType: 'application/json', body: expired });
        } else {
          await route.continue();
        }
      });
      const refreshes = [];
      page.on('request', (r) => {
        if (r.url().includes('/api/v1/auth/refresh')) refreshes.push(r.url());
      });

      await page.getByTestId('nav-teams').click();
      await page.getByTestId('teams-list').waitFor();
      await page.getByTestId('no-invitations').waitFor();
      assert.equal(rejectOnce.size, 0, 'both calls were rejected once');
      assert.equal(refreshes.length, 1, `one refresh for both 401s: ${refreshes}`);
      assert.equal(page.url(), at('/teams'));
      assert.equal(await textOf(page, 'user-name'), 'Annie Easley');
    }));

  test('a session ended elsewhere signs the browser out on its next call', { timeout: 30_000 }, () =>
    run('session-ended', async (page) => {
      const account = await createAccount('Frances Allen');
      await signIn(page, account);
      await page.getByTestId('page-overview').waitFor();

      // Another device signs in and signs out every other session, this browser's too.
      const login = await fetch(at('/api/v1/auth/login'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: account.email, password: account.password }),
      });
      const { access_token: token } = await login.json();
      const revoke = await fetch(at('/api/v1/me/sessions?keep_current=true'), {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(revoke.status, 200);

      // The next call gets 401, the one refresh fails too: signed out, back to sign-in.
      await page.getByTestId('nav-api-keys').click();
      await page.waitForURL(at('/login?next=%2Faccount%2Fapi-keys'));
      await page.getByTestId('toast').filter({ hasText: 'Your session has ended' }).waitFor();
      await page.getByTestId('sign-in-link').waitFor();
      // Said once: the page whose call failed does not add a toast of its own.
      assert.equal(await page.getByTestId('toast').count(), 1);
    }));

  test('create a team, switch to it, and the choice survives a reload', { timeout: 40_000 }, () =>
    run('teams', async (page) => {
      const account = await createAccount('Dorothy Vaughan');
      await signIn(page, account, '/login?next=%2Fteams');
      await page.getByTestId('page-teams').waitFor();
      assert.equal(await page.getByTestId('team-switcher').count(), 0, 'no switcher with one team');

      await page.getByTestId('create-team-name').fill('Orbital Mechanics');
      await page.getByTestId('create-team-name').press('Enter');
      await page.getByTestId('page-team').waitFor();
      assert.equal(await textOf(page, 'page-title'), 'Orbital Mechanics');
      const teamId = new URL(page.url()).pathname.split('/').pop();
      assert.match(await textOf(page, 'members-table'), /Dorothy Vaughan/);
      await page.getByTestId('no-team-invitations').waitFor();

      await page.getByTestId('invite-email').fill('colleague@example.com');
      await page.getByTestId('invite-role').selectOption('viewer');
      await page.getByTestId('invite-submit').click();
      await page.getByTestId('team-invitation').filter({ hasText: 'colleague@example.com' }).waitFor();

      const switcher = page.getByTestId('team-switcher');
      await switcher.waitFor();
      const refreshed = page.waitForRequest((r) => r.url().includes(`/api/v1/auth/refresh?team_id=${teamId}`));
      await switcher.selectOption(teamId);
      await refreshed;
      await page.getByTestId('toast').filter({ hasText: 'Now working in Orbital Mechanics' }).waitFor();
      await page.getByTestId('team-is-current').waitFor();
      assert.equal(await page.evaluate(() => localStorage.getItem('hfb.team')), teamId);

      await page.reload();
      await page.getByTestId('page-team').waitFor();
      await eventually(async () => (await page.getByTestId('team-switcher').inputValue()) === teamId, {
        message: 'the switcher still shows the team after a reload',
      });
    }));

  test('changing the password keeps this session and the new one signs in', { timeout: 40_000 }, () =>
    run('change-password', async (page) => {
      const account = await createAccount('Hedy Lamarr');
      await signIn(page, account, '/login?next=%2Faccount');
      await page.getByTestId('page-account').waitFor();
      await page.getByTestId('password-current_password').fill('wrong password entirely');
      await page.getByTestId('password-new_password').fill(NEW_PASSWORD);
      await page.getByTestId('password-repeat_password').fill(NEW_PASSWORD);
      await page.getByTestId('password-submit').click();
      // The server's field error lands next to the field.
      assert.match(await textOf(page, 'password-current_password-error'), /wrong/i);

      await page.getByTestId('password-current_password').fill(account.password);
      await page.getByTestId('password-submit').click();
      await page.getByTestId('toast').filter({ hasText: 'Password changed' }).waitFor();
      assert.equal(await page.getByTestId('password-current_password').inputValue(), '');

      await signOut(page);
      await page.getByTestId('sign-in-link').click();
      await fillSignIn(page, { email: account.email, password: NEW_PASSWORD });
      await page.getByTestId('user-menu').waitFor();
    }));

  test('on a narrow screen the account menu and forms still work', { timeout: 30_000 }, () =>
    run('narrow-account', async (page) => {
      await page.setViewportSize({ width: 390, height: 800 });
      const account = await createAccount('Radia Perlman');
      await signIn(page, account, '/login?next=%2Faccount%2Fsessions');
      await page.getByTestId('page-sessions').waitFor();
      assert.equal(await textOf(page, 'session-current'), 'this device');
      await page.getByTestId('user-menu').click();
      await page.getByTestId('menu-api-keys').click();
      await page.getByTestId('page-api-keys').waitFor();
      await signOut(page);
    }));
});
