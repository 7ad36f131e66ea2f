// Deployments in the browser against the real server and the real model: the MiniLM
// folder (data/models/sentence-transformers/all-MiniLM-L6-v2, or HFB_TEST_MODEL_DIR) is
// linked into the server's local model store, so "Deploy" runs it on the built-in CPU
// runtime with no network.
//
// Covers the one-click deploy from the model page with the target chooser (unconfigured
// cloud targets disabled with their reason), the status reaching `running` live over the
// WebSocket without a reload, a test call, the list, a scaling change (version 2), a
// rollback (version 3), a conflicting change made in another tab (409 shown, nothing
// overwritten), pause, delete; and the form's own checks, the server's field errors, the
// empty, error and retry states of the list.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, launchBrowser, startServer, textOf, withPage, signUpThroughForm } from '../lib/harness.mjs';

const MODEL = 'sentence-transformers/all-MiniLM-L6-v2';
const PASSWORD = 'violet kestrel 2026 orbit';
// Loading the model in a debug build of the server takes a few seconds.
const RUNNING_TIMEOUT_MS = 90_000;

describe('deployments in the web app', { timeout: 420_000 }, () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer({
      localModels: [MODEL],
      env: { HFB_RATE_LIMIT_AUTH_PER_MIN: '1000' },
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  beforeEach(async () => {
    await browser.context.clearCookies();
  });

  const run = (name, fn) => withPage(browser.context, name, fn);
  const at = (p) => new URL(p, server.url).href;

  /** Signs up through the form; lands signed in on the overview. */
  const signUp = (page, name) => signUpThroughForm(page, at, name, PASSWORD);

  /** Keeps every WebSocket frame the page sends and receives, parsed. */
  function recordSocket(page) {
    const frames = { sent: [], received: [] };
    page.on('websocket', (ws) => {
      const parse = (list) => (frame) => {
        try {
          list.push(JSON.parse(frame.payload));
        } catch {
          // Not JSON: not ours.
        }
      };
      ws.on('framesent', parse(frames.sent));
      ws.on('framereceived', parse(frames.received));
    });
    return frames;
  }

  /** Marks the document; `assertNoReload` fails if a full page load replaced it since. */
  const markDocument = (page) => page.evaluate(() => (window.__hfbDocument = 'kept'));
  async function assertNoReload(page) {
    assert.equal(await page.evaluate(() => window.__hfbDocument), 'kept', 'the page was not reloaded');
  }

  const statusOf = (page) => textOf(page, 'deployment-status');

  async function waitForStatus(page, status, timeout = 30_000) {
    await eventually(async () => (await statusOf(page)) === status, {
      timeout,
      message: `status "${status}" (last: "${await statusOf(page).catch(() => '?')}")`,
    });
  }

  async function waitForVersion(page, version) {
    await eventually(async () => (await textOf(page, 'deployment-version')) === `version ${version}`, {
      message: `version ${version}`,
    });
  }

  test('deploy MiniLM locally with one click and follow it live to running, then change, roll back, pause and delete it', { timeout: 360_000 }, () =>
    run('deploy-minilm', async (page) => {
      const frames = recordSocket(page);
      await signUp(page, 'Ada Lovelace');

      // From the catalog to the model's page, whose Deploy button leads to the one-click
      // deploy page. (The catalog, not a deep link: the server answers GET /models/{owner}/{name}
      // with the Inference API route's 405 instead of the web app for now.)
      await page.goto(at('/catalog'));
      await markDocument(page);
      await page.locator(`[data-testid="model-card"][data-model-id="${MODEL}"]`).getByTestId('model-link').click();
      await page.getByTestId('page-model').waitFor();
      await page.getByTestId('deploy-model').click();
      await page.waitForURL(at(`/deployments/new?model=${encodeURIComponent(MODEL)}`));
      await page.getByTestId('page-deploy-new').waitFor();
      assert.equal(await textOf(page, 'deploy-model'), MODEL);
      // The catalog's task for the model (its card's pipeline_tag).
      assert.equal(await textOf(page, 'deploy-model-task'), 'sentence-similarity');

      // Every target is listed; only the local runtime is configured here, and the others
      // say why instead of failing after the click.
      const local = page.getByTestId('target-local');
      await eventually(async () => local.isChecked(), { message: 'the local target preselected' });
      assert.equal(await local.isDisabled(), false);
      for (const kind of ['hf-endpoint', 'hf-space', 'aws-lambda']) {
        assert.equal(await page.getByTestId(`target-${kind}`).isDisabled(), true, `${kind} is disabled`);
        assert.ok((await textOf(page, `target-${kind}-reason`)).length > 5, `${kind} says why`);
      }
      // The defaults are shown without opening the advanced settings: the server's, which
      // give a local deployment a replica per core.
      await eventually(async () => /0–\d+ replicas? · scale to zero after 15m 0s idle/.test(await textOf(page, 'deploy-defaults')), {
        message: 'the defaults are shown',
      });
      const v1Max = (await textOf(page, 'deploy-defaults')).match(/0–(\d+) replica/)[1];
      // Settings that differ from the defaults, for the changes below.
      const v2Max = v1Max === '2' ? '3' : '2';
      const typedMax = v1Max === '5' ? '6' : '5';

      await local.check();
      const creates = [];
      page.on('request', (request) => {
        if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/v1/deployments') {
          creates.push(request.headers()['idempotency-key']);
        }
      });
      await page.getByTestId('deploy-submit').click();
      await page.waitForURL(/\/deployments\/[^/?]+$/);
      const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
      assert.equal(creates.length, 1);
      assert.match(creates[0] ?? '', /^[0-9a-f]{32}$/, 'the create carries an Idempotency-Key');
      await page.getByTestId('page-deployment').waitFor();
      assert.equal(await textOf(page, 'page-title'), 'all-minilm-l6-v2');
      assert.equal(await textOf(page, 'deployment-model'), MODEL);

      // Running arrives over the WebSocket: the page is never reloaded, and the socket
      // subscribed and carried the deployment's `running` state.
      await waitForStatus(page, 'running', RUNNING_TIMEOUT_MS);
      await assertNoReload(page);
      assert.ok(frames.sent.some((m) => m.type === 'subscribe' && typeof m.token === 'string'), 'the socket subscribed');
      assert.ok(frames.received.some((m) => m.type === 'subscribed'), 'the server confirmed the subscription');
      assert.ok(
        frames.received.some((m) => m.type === 'deployment' && m.deployment.id === id && m.deployment.status === 'running'),
        'the running state came over the socket',
      );
      assert.match(await textOf(page, 'deployment-status-message'), /384-dimensional/);
      await waitForVersion(page, 1);

      // A test call scores sentences against a source with the deployed model.
      await page.getByTestId('try-text').fill('A man is eating food.');
      await page.getByTestId('try-sentences').fill('A man is riding a horse.\nA man is eating a piece of bread.');
      await page.getByTestId('try-submit').click();
      await page.getByTestId('try-result').waitFor();
      const scores = await page.locator('[data-testid="try-score"]').evaluateAll((els) => els.map((e) => Number(e.dataset.score)));
      assert.equal(scores.length, 2);
      assert.ok(scores[1] > scores[0] + 0.2, `eating bread scores above riding a horse: ${scores}`);

      // The list shows it, with its status and version, reached without a reload.
      await page.getByTestId('nav-deployments').click();
      await page.getByTestId('page-deployments').waitFor();
      const row = page.locator(`[data-testid="deployment-row"][data-id="${id}"]`);
      await row.waitFor();
      assert.equal((await row.getByTestId('deployment-row-status').textContent()).trim(), 'running');
      assert.equal((await row.getByTestId('deployment-row-version').textContent()).trim(), 'v1');
      assert.equal(await page.getByTestId('deployments-live').getAttribute('data-live'), 'true');
      await assertNoReload(page);

      // Scaling: the form checks first, then a change makes version 2.
      await row.getByTestId('deployment-link').click();
      await page.getByTestId('page-deployment').waitFor();
      await page.getByTestId('scaling-max_replicas').fill('9');
      await page.getByTestId('scaling-save').click();
      assert.match(await textOf(page, 'scaling-max_replicas-error'), /between 1 and 8/);
      await page.getByTestId('scaling-max_replicas').fill(v2Max);
      await page.getByTestId('scaling-save').click();
      await waitForVersion(page, 2);
      await eventually(async () => (await page.locator('[data-testid="version-row"]').count()) === 2, {
        message: 'two versions listed',
      });
      assert.match(await textOf(page, 'scaling-summary'), new RegExp(`^Version 2: 0–${v2Max} replicas`));
      await waitForStatus(page, 'running', RUNNING_TIMEOUT_MS);

      // Rolling back to version 1 makes version 3 with version 1's settings, and the form
      // (untouched) follows.
      await page.getByTestId('rollback-1').click();
      await waitForVersion(page, 3);
      await eventually(async () => (await page.getByTestId('scaling-max_replicas').inputValue()) === v1Max, {
        message: `the form shows version 3 (max replicas ${v1Max})`,
      });
      const v3 = page.locator('[data-testid="version-row"][data-version="3"]');
      await v3.waitFor();
      assert.match(await v3.textContent(), /rollback to v1/);
      assert.equal(await page.getByTestId('rollback-3').count(), 0, 'no rollback on the current version');
      await waitForStatus(page, 'running', RUNNING_TIMEOUT_MS);

      // A change made meanwhile in another tab: this form keeps what was typed, and saving
      // it is refused (409) and said so, instead of overwriting that change.
      await page.getByTestId('scaling-max_replicas').fill(typedMax);
      await withPage(browser.context, 'deploy-minilm-second-tab', async (other) => {
        await other.goto(at(`/deployments/${encodeURIComponent(id)}`));
        await other.getByTestId('page-deployment').waitFor();
        await other.getByTestId('scaling-target_concurrency').fill('4');
        await other.getByTestId('scaling-save').click();
        await eventually(async () => (await textOf(other, 'deployment-version')) === 'version 4', {
          message: 'version 4 in the other tab',
        });
      });
      await waitForVersion(page, 4);
      assert.equal(await page.getByTestId('scaling-max_replicas').inputValue(), typedMax, 'typed input kept');
      await page.getByTestId('scaling-save').click();
      assert.match(await textOf(page, 'scaling-conflict'), /changed since you loaded it/);
      assert.match(await textOf(page, 'scaling-conflict'), /Version 4 is current now/);
      await page.getByTestId('scaling-load-current').click();
      assert.equal(await page.getByTestId('scaling-max_replicas').inputValue(), v1Max);
      assert.equal(await page.getByTestId('scaling-target_concurrency').inputValue(), '4');
      assert.equal(await page.getByTestId('scaling-conflict').count(), 0);
      await waitForVersion(page, 4);

      // Pause: live to paused; resume becomes the action.
      await waitForStatus(page, 'running', RUNNING_TIMEOUT_MS);
      assert.equal(await page.getByTestId('action-resume').isDisabled(), true);
      await page.getByTestId('action-pause').click();
      await waitForStatus(page, 'paused');
      await eventually(async () => !(await page.getByTestId('action-resume').isDisabled()), {
        message: 'resume enabled',
      });
      assert.equal(await page.getByTestId('action-pause').isDisabled(), true);
      assert.equal(await page.getByTestId('action-retry').isDisabled(), true, 'retry only when failed');
      // The events, newest first, follow (loaded again when the socket says it changed).
      await eventually(
        async () => {
          const events = await page
            .locator('[data-testid="deployment-event"]')
            .evaluateAll((els) => els.map((e) => `${e.dataset.kind}: ${e.textContent}`));
          return (
            /^status: .*paused/.test(events[0]) &&
            events.some((e) => e.startsWith('paused:')) &&
            events.some((e) => e.startsWith('rolled_back:')) &&
            events.some((e) => e.startsWith('updated:')) &&
            events.at(-1).startsWith('created:')
          );
        },
        { message: 'the events: paused (newest) ... created (oldest)' },
      );

      // Delete asks first, then the list drops it once the target has removed it.
      await page.getByTestId('action-delete').click();
      await page.getByTestId('confirm-delete-deployment').waitFor();
      await page.getByTestId('confirm-delete-deployment-confirm').click();
      await page.waitForURL(at('/deployments'));
      await eventually(async () => (await page.locator(`[data-testid="deployment-row"][data-id="${id}"]`).count()) === 0, {
        timeout: 30_000,
        message: 'the deployment gone from the list',
      });
      await page.getByTestId('empty-state').waitFor();
      await assertNoReload(page);
      assert.ok(frames.received.some((m) => m.type === 'deployment_removed' && m.deployment_id === id), 'removal came over the socket');

      // Its page says so.
      await page.goto(at(`/deployments/${encodeURIComponent(id)}`));
      await page.getByTestId('deployment-not-found').waitFor();
    }));

  test('the deploy form checks before sending and shows the server\'s field errors; signed out it asks to sign in; the list has empty, error and retry states', { timeout: 120_000 }, () =>
    run('deploy-form', async (page) => {
      // Deployments belong to a team: signed out, the page sends to sign in, with the way back.
      await page.goto(at('/deployments/new?model=x%2Fy'));
      await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('next') === '/deployments/new?model=x%2Fy');
      await page.getByTestId('page-login').waitFor();
      await signUp(page, 'Grace Hopper');

      // A failed load shows the error with a way to try again.
      await page.route('**/api/v1/deployments', (route) =>
        route.fulfill({
          status: 500,
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'internal', message: 'the store is down', request_id: 'req-e2e' } }),
        }),
      );
      await page.getByTestId('nav-deployments').click();
      assert.equal(await textOf(page, 'load-error'), 'the store is down');
      await eventually(async () => (await page.getByTestId('deployments-live').getAttribute('data-live')) === 'true', {
        message: 'live updates subscribed',
      });
      await page.unroute('**/api/v1/deployments');
      await page.getByRole('button', { name: 'Try again' }).click();
      // A new team has nothing deployed: the empty state leads to the catalog.
      await page.getByTestId('empty-state').waitFor();
      assert.equal(await page.getByTestId('deployments-empty-catalog').getAttribute('href'), '/catalog');

      // Without a model in the URL the id is a field, checked before sending.
      await page.getByTestId('new-deployment').click();
      await page.getByTestId('page-deploy-new').waitFor();
      await eventually(async () => page.getByTestId('target-local').isChecked(), { message: 'local preselected' });
      await page.getByTestId('deploy-model_id').fill('not a model');
      await page.getByTestId('deploy-advanced').click();
      await page.getByTestId('deploy-max_replicas').fill('0');
      await page.getByTestId('deploy-name').fill('Bad Name');
      await page.getByTestId('deploy-env').fill('GOOD=1\n1BAD=2');
      await page.getByTestId('deploy-submit').click();
      assert.match(await textOf(page, 'deploy-model_id-error'), /letters, digits/);
      assert.match(await textOf(page, 'deploy-max_replicas-error'), /between 1 and 8/);
      assert.match(await textOf(page, 'deploy-name-error'), /lowercase/);
      assert.match(await textOf(page, 'deploy-env-error'), /^Line 2: /);
      assert.equal(page.url(), at('/deployments/new'), 'nothing was sent');

      // A well-formed id the server does not know: its answers land next to the fields.
      await page.getByTestId('deploy-model_id').fill('someone/not-here');
      await page.getByTestId('deploy-max_replicas').fill('1');
      await page.getByTestId('deploy-name').fill('');
      await page.getByTestId('deploy-env').fill('');
      // Enter in a field submits.
      await page.getByTestId('deploy-model_id').press('Enter');
      assert.match(await textOf(page, 'deploy-task-error'), /no task in the catalog/i);
      await page.getByTestId('deploy-task').selectOption('feature-extraction');
      await page.getByTestId('deploy-submit').click();
      assert.match(await textOf(page, 'deploy-model_id-error'), /not in the local model store/);
      assert.equal(page.url(), at('/deployments/new'));
    }));
});
