// The catalog against the real server: a Hub-format fixture (fixtures/hub-models.json,
// synthetic) imported with `hfb catalog import` before the server starts, and model cards
// fetched from a stand-in Hub on loopback (HF_ENDPOINT), through the server's own Hub
// client, renderer and sanitizer.
//
// Covers search as you type (debounced, stale answers dropped), facet filters with counts,
// sort, pages with totals, the whole state in the URL with back/forward, the model page
// (card, files, Deploy/Try links, 404) and the empty and error states.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { e2eDir, eventually, launchBrowser, startServer, textOf, withPage } from '../lib/harness.mjs';

const FIXTURE = path.join(e2eDir, 'fixtures', 'hub-models.json');
const FIXTURE_MODELS = JSON.parse(readFileSync(FIXTURE, 'utf8'));
const MODELS = FIXTURE_MODELS.length;
const licenseOf = (m) => m.tags.find((t) => t.startsWith('license:'))?.slice('license:'.length);

/** The Markdown card the stand-in Hub serves for every model, hostile bits included. */
function readme(id) {
  return `---
license: apache-2.0
---
# ${id.split('/')[1]}

A fixture model card for **${id}**, served by the test's stand-in Hub.

## Evaluation

| metric | value |
|---|---|
| accuracy | 0.913 |

<script>window.__cardScriptRan = true</script>
<a href="#" onclick="window.__cardScriptRan = true">a handler</a>
[a javascript link](javascript:window.__cardScriptRan=true)
`;
}

/**
 * A stand-in for huggingface.co on loopback: cards (`/{owner}/{name}/raw/{rev}/README.md`),
 * an empty listing (the live fill-in finds nothing new) and 404 for unknown models.
 */
async function startFakeHub() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://hub.invalid');
    requests.push(url.pathname);
    const card = /^\/([^/]+)\/([^/]+)\/raw\/[^/]+\/README\.md$/.exec(url.pathname);
    if (card) {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(readme(`${decodeURIComponent(card[1])}/${decodeURIComponent(card[2])}`));
    } else if (url.pathname === '/api/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[]');
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"Repository not found"}');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('catalog', { timeout: 240_000 }, () => {
  let hub;
  let server;
  let browser;
  const at = (p) => new URL(p, server.url).href;

  before(async () => {
    hub = await startFakeHub();
    server = await startServer({
      importCatalog: FIXTURE,
      env: {
        HFB_CATALOG_LIVE: 'true',
        HF_ENDPOINT: hub.url,
        HFB_CATALOG_SYNC_INTERVAL_SECS: '0',
      },
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await hub?.stop();
  });

  const run = (name, fn) => withPage(browser.context, name, fn);

  /** Counts the searches the page sends (`GET /api/v1/models`), with their queries. */
  function recordSearches(page) {
    const searches = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/api/v1/models') searches.push(url.searchParams);
    });
    return searches;
  }

  /** Waits until the results shown answer exactly `query` (the page URL's query). */
  async function resultsFor(page, query) {
    const results = page.getByTestId('catalog-results');
    await eventually(
      async () =>
        (await results.getAttribute('data-query')) === query && (await results.getAttribute('aria-busy')) === 'false',
      { message: `results for "${query}"`, timeout: 8_000 },
    );
    return textOf(page, 'catalog-summary');
  }

  const cardIds = (page) =>
    page.getByTestId('model-card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-model-id')));

  const facetOption = (page, facet, value) =>
    page.locator(`[data-testid="facet-${facet}-option"][data-value="${value}"]`);

  test('the import loaded the fixture', () => {
    assert.deepEqual(server.importReport.rejected, []);
    assert.equal(server.importReport.received, MODELS);
    assert.equal(server.importReport.inserted, MODELS);
  });

  test('type, filter, page, open a model, and come back with back', { timeout: 60_000 }, () =>
    run('catalog-flow', async (page) => {
      const searches = recordSearches(page);
      await page.goto(at('/catalog'));
      assert.equal(await resultsFor(page, ''), `1–20 of ${MODELS} models`);
      assert.equal(await page.getByTestId('model-card').count(), 20);
      // Most downloaded first, with compact numbers and the task as a badge.
      const first = page.getByTestId('model-card').first();
      assert.equal(await first.getAttribute('data-model-id'), 'acme-labs/llama-chat-8b');
      assert.equal(await first.getByTestId('model-downloads').textContent(), '6.8M');
      assert.equal(await first.getByTestId('model-likes').textContent(), '5.4k');
      assert.equal(await first.getByTestId('model-task').getAttribute('data-value'), 'text-generation');
      assert.equal(await first.getByTestId('model-library').textContent(), 'transformers');
      assert.match(await first.textContent(), /Updated .*ago/);
      // Facets come with counts.
      const textClassification = facetOption(page, 'task', 'text-classification');
      assert.match(await textClassification.locator('xpath=..').textContent(), /Text classification\s*25/);

      // Typing is debounced: fewer searches than keystrokes (one, unless the machine is so
      // slow that keystrokes 50 ms apart arrive 250 ms apart), the last for the whole word.
      const before = searches.length;
      const box = page.getByTestId('catalog-search');
      await box.click();
      await box.pressSequentially('bert', { delay: 50 });
      assert.equal(await resultsFor(page, 'q=bert'), '1–20 of 32 models');
      const typed = searches.slice(before);
      const sent = typed.map(String).join(' | ');
      assert.ok(typed.length >= 1 && typed.length < 'bert'.length, `fewer searches than keystrokes, got ${sent}`);
      assert.equal(typed.at(-1).get('q'), 'bert', sent);
      assert.equal(typed.at(-1).get('per_page'), '20');
      assert.equal(page.url(), at('/catalog?q=bert'));
      // Focus stays in the box while results change.
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'catalog-q');

      // A facet narrows the search; its count is the new total.
      assert.match(await textClassification.locator('xpath=..').textContent(), /24/);
      await textClassification.check();
      assert.equal(await resultsFor(page, 'q=bert&task=text-classification'), '1–20 of 24 models');
      assert.equal(page.url(), at('/catalog?q=bert&task=text-classification'));
      assert.ok(await textClassification.isChecked());
      assert.match(await textOf(page, 'active-filters'), /Task\s*Text classification/);
      for (const id of await cardIds(page)) {
        const card = page.locator(`[data-model-id="${id}"]`);
        assert.equal(await card.getByTestId('model-task').getAttribute('data-value'), 'text-classification', id);
      }

      // Page 2 holds the last four.
      await page.getByTestId('page-2').click();
      assert.equal(await resultsFor(page, 'q=bert&task=text-classification&page=2'), '21–24 of 24 models');
      assert.equal(await page.getByTestId('model-card').count(), 4);
      assert.equal(await page.getByTestId('page-2').getAttribute('aria-current'), 'page');
      const pageTwo = await cardIds(page);

      // Open the first model of page 2: its card, its files and the ways on.
      const opened = pageTwo[0];
      await page.locator(`[data-model-id="${opened}"]`).getByTestId('model-link').click();
      const [owner, name] = opened.split('/');
      await page.waitForURL(at(`/models/${owner}/${name}`));
      await page.getByTestId('page-model').waitFor();
      assert.equal((await textOf(page, 'model-id')).replace(/\s+/g, ''), opened);
      assert.equal(await page.title(), `${opened} · hfb`);
      assert.match(await textOf(page, 'model-readme'), new RegExp(`A fixture model card for ${opened}`));
      const files = page.getByTestId('model-file');
      assert.ok((await files.count()) >= 5);
      assert.match(await textOf(page, 'model-files'), /model\.safetensors/);
      assert.match(await textOf(page, 'model-files'), /\d+(\.\d+)? MB/);
      assert.equal(
        await page.getByTestId('deploy-model').getAttribute('href'),
        `/deployments/new?model=${encodeURIComponent(opened)}`,
      );
      assert.equal(await page.getByTestId('try-model').getAttribute('href'), `/playground?model=${encodeURIComponent(opened)}`);

      // Back: the same search, filter and page, with the box refilled.
      await page.goBack();
      await page.waitForURL(at('/catalog?q=bert&task=text-classification&page=2'));
      assert.equal(await resultsFor(page, 'q=bert&task=text-classification&page=2'), '21–24 of 24 models');
      assert.deepEqual(await cardIds(page), pageTwo);
      assert.equal(await box.inputValue(), 'bert');
      assert.ok(await textClassification.isChecked());
      assert.equal(await page.getByTestId('page-2').getAttribute('aria-current'), 'page');

      // Further back walks the committed steps: page 1, then no filter, then no text.
      await page.goBack();
      assert.equal(await resultsFor(page, 'q=bert&task=text-classification'), '1–20 of 24 models');
      await page.goBack();
      assert.equal(await resultsFor(page, 'q=bert'), '1–20 of 32 models');
      assert.equal(await textClassification.isChecked(), false);
      await page.goBack();
      assert.equal(await resultsFor(page, ''), `1–20 of ${MODELS} models`);
      assert.equal(await box.inputValue(), '');
      await page.goForward();
      assert.equal(await resultsFor(page, 'q=bert'), '1–20 of 32 models');
      assert.equal(await box.inputValue(), 'bert');
    }));

  test('a shared link restores the search; "/" focuses the box; sorting moves to the URL', { timeout: 30_000 }, () =>
    run('catalog-link', async (page) => {
      const matching = FIXTURE_MODELS.filter((m) => m.library_name === 'transformers' && licenseOf(m) === 'mit');
      const order = (key, sign) => [...matching].sort((a, b) => sign * (a[key] - b[key])).map((m) => m.id);
      const n = matching.length;
      assert.equal(new Set(matching.map((m) => m.likes)).size, n, 'the fixture has no ties in likes');

      await page.goto(at('/catalog?library=transformers&license=mit&sort=likes&direction=asc'));
      assert.equal(await resultsFor(page, 'library=transformers&license=mit&sort=likes&direction=asc'), `1–${n} of ${n} models`);
      assert.ok(await facetOption(page, 'library', 'transformers').isChecked());
      assert.ok(await facetOption(page, 'license', 'mit').isChecked());
      assert.equal(await page.getByTestId('catalog-sort').inputValue(), 'likes');
      assert.equal(await page.getByTestId('catalog-direction').getAttribute('data-direction'), 'asc');
      assert.deepEqual(await cardIds(page), order('likes', 1), 'least liked first');

      await page.getByTestId('catalog-sort').selectOption('downloads');
      assert.equal(await resultsFor(page, 'library=transformers&license=mit&direction=asc'), `1–${n} of ${n} models`);
      assert.deepEqual(await cardIds(page), order('downloads', 1), 'least downloaded first');
      await page.getByTestId('catalog-direction').click();
      assert.equal(await resultsFor(page, 'library=transformers&license=mit'), `1–${n} of ${n} models`);
      assert.deepEqual(await cardIds(page), order('downloads', -1), 'most downloaded first');

      // Removing a filter from its chip; then "/" from anywhere focuses the search box.
      const transformers = FIXTURE_MODELS.filter((m) => m.library_name === 'transformers').length;
      await page.getByTestId('active-filter').filter({ hasText: 'mit' }).click();
      assert.equal(await resultsFor(page, 'library=transformers'), `1–20 of ${transformers} models`);
      await page.evaluate(() => document.activeElement?.blur());
      await page.keyboard.press('/');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'catalog-q');
      await page.keyboard.type('whisper');
      await page.keyboard.press('Enter');
      assert.equal(await resultsFor(page, 'q=whisper&library=transformers'), '1–2 of 2 models');
      // Escape clears the text.
      await page.keyboard.press('Escape');
      assert.equal(await resultsFor(page, 'library=transformers'), `1–20 of ${transformers} models`);
      assert.equal(await page.getByTestId('catalog-search').inputValue(), '');
    }));

  test('an answer to an older search never replaces a newer one', { timeout: 30_000 }, () =>
    run('catalog-stale', async (page) => {
      await page.goto(at('/catalog'));
      await resultsFor(page, '');
      // Hold the answer to "whisper" back until after "bert" has been answered.
      let held = false;
      await page.route('**/api/v1/models?*', async (route) => {
        if (new URL(route.request().url()).searchParams.get('q') === 'whisper') {
          held = true;
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          await route.continue().catch(() => {}); // Aborted by the page meanwhile.
        } else {
          await route.continue();
        }
      });
      const box = page.getByTestId('catalog-search');
      await box.fill('whisper');
      await eventually(() => held, { message: 'the whisper search was sent' });
      await box.fill('bert');
      assert.equal(await resultsFor(page, 'q=bert'), '1–20 of 32 models');
      await page.waitForTimeout(2_000);
      assert.equal(await resultsFor(page, 'q=bert'), '1–20 of 32 models');
      assert.equal(await page.getByTestId('catalog-results').getAttribute('data-query'), 'q=bert');
    }));

  test('no results offer to clear the filters; a failed search offers a retry', { timeout: 30_000 }, () =>
    run('catalog-empty-error', async (page) => {
      await page.goto(at('/catalog?q=zebra&task=text-generation'));
      await resultsFor(page, 'q=zebra&task=text-generation');
      assert.match(await textOf(page, 'empty-state'), /No models match/);
      await page.getByTestId('clear-filters').click();
      assert.equal(await resultsFor(page, ''), `1–20 of ${MODELS} models`);
      assert.equal(page.url(), at('/catalog'));
      assert.equal(await page.getByTestId('catalog-search').inputValue(), '');

      // The server fails once: the error says so, and "Try again" searches again.
      let failures = 0;
      await page.route('**/api/v1/models?*', async (route) => {
        if (failures === 0) {
          failures += 1;
          await route.fulfill({
            status: 503,
            contentType: 'application/json',
            body: JSON.stringify({
              error: { code: 'service_unavailable', message: 'The catalog store is down.', request_id: 'req-cat-1' },
            }),
          });
        } else {
          await route.continue();
        }
      });
      await page.getByTestId('page-2').click();
      await page.getByTestId('catalog-error').waitFor();
      assert.match(await textOf(page, 'catalog-error'), /The catalog store is down\./);
      assert.match(await textOf(page, 'catalog-error'), /req-cat-1/);
      await page.getByTestId('catalog-error').getByRole('button', { name: 'Try again' }).click();
      assert.equal(await resultsFor(page, 'page=2'), `21–40 of ${MODELS} models`);
      assert.equal(await page.getByTestId('catalog-error').count(), 0);
    }));

  test('a model page shows a sanitized card, its files, and a 404 for unknown models', { timeout: 30_000 }, () =>
    run('model-page', async (page) => {
      await page.goto(at('/catalog?q=mini-embed'));
      await resultsFor(page, 'q=mini-embed');
      await page.locator('[data-model-id="acme-labs/mini-embed-en"]').getByTestId('model-link').click();
      await page.waitForURL(at('/models/acme-labs/mini-embed-en'));
      await page.getByTestId('page-model').waitFor();
      assert.equal((await textOf(page, 'model-id')).replace(/\s+/g, ''), 'acme-labs/mini-embed-en');
      assert.equal(await page.getByTestId('model-task').getAttribute('data-value'), 'sentence-similarity');
      assert.equal(await textOf(page, 'model-library'), 'sentence-transformers');
      assert.equal(await textOf(page, 'model-license'), 'apache-2.0');
      assert.equal(await textOf(page, 'model-downloads'), '5,400,000');
      assert.ok((await page.getByTestId('model-tag').allTextContents()).includes('sentence-transformers'));
      const weights = page.getByTestId('model-file').filter({ hasText: 'model.safetensors' });
      assert.equal(await weights.getByTestId('model-file-size').textContent(), '90.9 MB');

      // The card is HTML rendered by the server, with scripts and handlers removed.
      const card = page.getByTestId('model-readme');
      assert.equal(await card.locator('h1').textContent(), 'mini-embed-en');
      assert.equal(await card.locator('table td').first().textContent(), 'accuracy');
      assert.equal(await card.locator('script').count(), 0);
      assert.equal(await card.locator('[onclick]').count(), 0);
      assert.equal(await card.locator('a[href^="javascript:"]').count(), 0);
      assert.equal(await page.evaluate(() => window.__cardScriptRan), undefined);
      assert.ok(hub.requests.some((p) => p.startsWith('/acme-labs/mini-embed-en/raw/')), 'card fetched from the Hub');

      // Tags lead back to the catalog, filtered.
      await page.getByTestId('model-tag').filter({ hasText: /^sentence-transformers$/ }).click();
      const tagged = FIXTURE_MODELS.filter((m) => m.tags.includes('sentence-transformers')).length;
      assert.equal(await resultsFor(page, 'tag=sentence-transformers'), `1–${tagged} of ${tagged} models`);

      // An unknown model (also unknown to the Hub): a 404 page with ways on.
      await page.evaluate(() => {
        history.pushState(null, '', '/models/acme-labs/no-such-model');
        dispatchEvent(new PopStateEvent('popstate'));
      });
      await page.getByTestId('model-not-found').waitFor();
      assert.match(await textOf(page, 'model-not-found'), /no model acme-labs\/no-such-model in the catalog/);
      assert.equal(await page.title(), 'Model not found · hfb');
      assert.ok(hub.requests.includes('/api/models/acme-labs/no-such-model'), 'the Hub was asked too');
    }));

  test('a model page has a shareable address that loads on its own', { timeout: 30_000 }, () =>
    run('model-deep-link', async (page) => {
      const response = await page.goto(at('/models/northwind/whisper-tiny-en'));
      assert.equal(
        response.status(),
        200,
        `GET /models/{owner}/{name} must serve the web app, got ${response.status()}: ${await response.text()}`,
      );
      await page.getByTestId('page-model').waitFor();
      assert.equal((await textOf(page, 'model-id')).replace(/\s+/g, ''), 'northwind/whisper-tiny-en');
      await page.reload();
      await page.getByTestId('page-model').waitFor();
      // The way back leads to the catalog when the page was opened directly.
      await page.getByTestId('back-to-catalog').click();
      assert.equal(await resultsFor(page, ''), `1–20 of ${MODELS} models`);
    }));
});
