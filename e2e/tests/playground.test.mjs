// The playground in the browser against the real server and the real model: the MiniLM
// folder (data/models/sentence-transformers/all-MiniLM-L6-v2, or HFB_TEST_MODEL_DIR) is
// linked into the server's local model store and deployed on the built-in CPU runtime.
//
// Covers: sign-in first (with the way back), the empty state, `?model=` of a model the
// team has not deployed (with the Deploy link, followed), the picker listing the running
// deployment, an embedding (dimension 384, norm 1.000, latency), sentence similarity
// (bars, the closest sentence highest), the task switch in the URL, client-side checks,
// a server 422 shown at the parameters field, the curl / Python snippets (page origin,
// deployment id, the exact body Run sends), Ctrl+Enter, and `?model=` / `?deployment=`
// preselecting. A second test lays mocked remote deployments (classification, generation,
// fill-mask) over the real list to check how other tasks, remote headers and errors show.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, launchBrowser, startServer, textOf, withPage, signUpThroughForm } from '../lib/harness.mjs';

const MODEL = 'sentence-transformers/all-MiniLM-L6-v2';
const PASSWORD = 'violet kestrel 2026 orbit';
// Loading the model in a debug build of the server takes a few seconds.
const RUNNING_TIMEOUT_MS = 90_000;

const SOURCE = 'A man is eating food.';
const SENTENCES = ['A man is eating a piece of bread.', 'A man is riding a horse.', 'The girl is carrying a baby.'];

describe('playground in the web app', { timeout: 420_000 }, () => {
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

  /** Every POST to a deployment's /infer the page sends: { id, body }. */
  function recordCalls(page) {
    const calls = [];
    page.on('request', (request) => {
      const match = /^\/api\/v1\/deployments\/([^/]+)\/infer$/.exec(new URL(request.url()).pathname);
      if (request.method() === 'POST' && match) {
        calls.push({ id: decodeURIComponent(match[1]), body: JSON.parse(request.postData() ?? 'null') });
      }
    });
    return calls;
  }

  const scoresOf = (page) =>
    page.locator('[data-testid="result-score"]').evaluateAll((els) =>
      els.map((e) => ({ score: Number(e.dataset.score), best: e.dataset.best === 'true', text: e.textContent })),
    );

  /** The JSON body of a curl snippet (`-d '...'`, with the shell's `'\''` undone). */
  function curlBody(snippet) {
    const match = /-d '([\s\S]*)'\s*$/.exec(snippet);
    assert.ok(match, `a -d body in ${snippet}`);
    return JSON.parse(match[1].replaceAll(`'\\''`, `'`));
  }

  /** Waits for a run to finish (the button is enabled again and not busy). */
  async function waitForRun(page) {
    await eventually(async () => (await page.getByTestId('playground-run').getAttribute('aria-busy')) === 'false', {
      timeout: 30_000,
      message: 'the run finished',
    });
  }

  test('call a local MiniLM deployment: embeddings, similarity, checks, a server field error, snippets, Ctrl+Enter and preselection', { timeout: 360_000 }, () =>
    run('playground-minilm', async (page) => {
      const calls = recordCalls(page);

      // Signed out: sign in first, and come back to the same playground afterwards.
      await page.goto(at(`/playground?model=${encodeURIComponent(MODEL)}`));
      await page.waitForURL((u) => u.pathname === '/login' && (u.searchParams.get('next') ?? '').startsWith('/playground?model='));
      await signUp(page, 'Alan Turing');

      // Nothing deployed yet: the empty state leads to the catalog and the deployments.
      await page.getByTestId('nav-playground').click();
      await page.getByTestId('page-playground').waitFor();
      await page.getByTestId('playground-empty').waitFor();
      assert.equal(await page.getByTestId('playground-empty-catalog').getAttribute('href'), '/catalog');
      assert.equal(await page.getByTestId('playground-picker').count(), 0);
      assert.equal(await page.getByTestId('playground-deploy-model').count(), 0, 'no model asked for: no Deploy button');

      // The model page's Try link: no deployment of it yet, so it offers to deploy it.
      await page.goto(at(`/playground?model=${encodeURIComponent(MODEL)}`));
      await page.getByTestId('playground-empty').waitFor();
      assert.match(await textOf(page, 'playground-empty'), new RegExp(`No running deployment of ${MODEL}`));
      const deploy = page.getByTestId('playground-deploy-model');
      assert.equal(await deploy.getAttribute('href'), `/deployments/new?model=${encodeURIComponent(MODEL)}`);
      await deploy.click();
      await page.getByTestId('page-deploy-new').waitFor();
      await eventually(async () => page.getByTestId('target-local').isChecked(), { message: 'the local target preselected' });
      await page.getByTestId('deploy-submit').click();
      await page.waitForURL(/\/deployments\/[^/?]+$/);
      const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
      await eventually(async () => (await textOf(page, 'deployment-status')) === 'running', {
        timeout: RUNNING_TIMEOUT_MS,
        message: 'the deployment running',
      });
      const name = await textOf(page, 'page-title');
      assert.equal(await page.getByTestId('open-playground').getAttribute('href'), `/playground?deployment=${encodeURIComponent(id)}`);

      // The picker lists the running deployment and selects it; the URL says which.
      await page.getByTestId('nav-playground').click();
      await page.waitForURL(at(`/playground?deployment=${encodeURIComponent(id)}`));
      const option = page.locator(`[data-testid="playground-option"][data-id="${id}"]`);
      await option.waitFor();
      assert.equal(await page.locator('[data-testid="playground-option"]').count(), 1);
      assert.equal(await option.getAttribute('data-selected'), 'true');
      assert.equal((await option.getByTestId('playground-option-name').textContent()).trim(), name);
      assert.equal((await option.getByTestId('playground-option-model').textContent()).trim(), MODEL);
      assert.equal((await option.getByTestId('playground-option-status').textContent()).trim(), 'running');
      assert.equal(await textOf(page, 'playground-deployment-name'), name);

      // The deployment's task (the catalog's: sentence-similarity) is the form shown; a
      // sentence-transformers model answers embeddings too, one click away.
      const form = page.locator('#playground-form');
      assert.equal(await form.getAttribute('data-task'), 'sentence-similarity');
      await page.getByTestId('playground-task-feature-extraction').click();
      await page.waitForURL((u) => u.searchParams.get('task') === 'feature-extraction' && u.searchParams.get('deployment') === id);
      assert.equal(await form.getAttribute('data-task'), 'feature-extraction');
      assert.equal(await page.getByTestId('playground-task-feature-extraction').getAttribute('aria-pressed'), 'true');

      // An embedding: 384 dimensions, norm 1 (the model's last module normalizes), the
      // first values, the latency measured in the browser and the tokens from the headers.
      await page.getByTestId('playground-inputs').fill('The cat sits on the mat.');
      await page.getByTestId('playground-run').click();
      await page.locator('[data-testid="playground-result"][data-kind="embeddings"]').waitFor({ timeout: 30_000 });
      assert.equal(await textOf(page, 'result-dimension'), '384');
      assert.equal(await textOf(page, 'result-norm'), '1.000');
      const preview = await textOf(page, 'result-preview');
      assert.match(preview, /^\[(-?\d\.\d{4}, ){8}…\]$/, `eight values previewed: ${preview}`);
      const latency = page.getByTestId('playground-latency');
      assert.match((await latency.textContent()).trim(), /^\d+(\.\d+)? ms$/);
      assert.ok(Number(await latency.getAttribute('data-ms')) > 0, 'a latency above 0 ms');
      assert.ok(Number(await textOf(page, 'playground-tokens')) > 2, 'the tokens the text came to');
      assert.match(await textOf(page, 'playground-request-id'), /\S{8,}/);
      assert.deepEqual(calls.at(-1), { id, body: { inputs: 'The cat sits on the mat.' } });

      // Back to similarity (the deployment's own task: no task in the URL): one bar per
      // sentence in the order sent, the closest sentence scoring highest and highlighted.
      await page.getByTestId('playground-task-sentence-similarity').click();
      await page.waitForURL((u) => !u.searchParams.has('task') && u.searchParams.get('deployment') === id);
      await eventually(async () => (await page.getByTestId('playground-result').count()) === 0, {
        message: 'the embedding answer gone with its task',
      });
      await page.getByTestId('playground-source').fill(SOURCE);
      await page.getByTestId('playground-sentences').fill(SENTENCES.join('\n'));
      await page.getByTestId('playground-run').click();
      await page.locator('[data-testid="playground-result"][data-kind="similarity"]').waitFor({ timeout: 30_000 });
      let scores = await scoresOf(page);
      assert.equal(scores.length, 3);
      SENTENCES.forEach((s, i) => assert.ok(scores[i].text.includes(s), `bar ${i} is "${s}"`));
      assert.ok(scores[0].score > scores[1].score + 0.2 && scores[0].score > scores[2].score + 0.2, `bread is closest: ${JSON.stringify(scores)}`);
      assert.deepEqual(scores.map((s) => s.best), [true, false, false]);
      assert.match(scores[0].text, /0\.\d{4}/, 'the score with four decimals');
      assert.deepEqual(calls.at(-1).body, { inputs: { source_sentence: SOURCE, sentences: SENTENCES } });

      // An empty source is refused before anything is sent.
      const sent = calls.length;
      await page.getByTestId('playground-source').fill('   ');
      await page.getByTestId('playground-run').click();
      assert.match(await textOf(page, 'playground-source-error'), /Enter the sentence/);
      assert.equal(await page.getByTestId('playground-source').getAttribute('aria-invalid'), 'true');
      await eventually(async () => (await page.evaluate(() => document.activeElement?.id)) === 'playground-source', {
        message: 'focus on the field to fix',
      });
      assert.equal(calls.length, sent, 'nothing was sent');
      await page.getByTestId('playground-source').fill(SOURCE);
      assert.equal(await page.getByTestId('playground-source-error').count(), 0, 'typing clears the error');

      // The server's 422 for a parameter lands at the parameters editor, and the answer
      // shows the code, the message and the request id.
      await page.getByTestId('playground-parameters').fill('{"truncate": "yes"}');
      await page.getByTestId('playground-run').click();
      assert.match(await textOf(page, 'playground-parameters-error'), /^truncate: Must be true or false\.$/);
      await page.locator('[data-testid="playground-error"][data-code="validation_failed"]').waitFor();
      assert.ok((await textOf(page, 'playground-error-request-id')).length > 8);
      assert.equal(await page.locator('[data-testid="playground-error-field"][data-field="parameters.truncate"]').count(), 1);
      assert.equal(calls.length, sent + 1, 'this one went to the server');
      assert.deepEqual(calls.at(-1).body.parameters, { truncate: 'yes' });
      // Malformed JSON in the editor is caught here instead.
      await page.getByTestId('playground-parameters').fill('{"truncate": ');
      await page.getByTestId('playground-run').click();
      assert.match(await textOf(page, 'playground-parameters-error'), /^Not valid JSON/);
      assert.equal(calls.length, sent + 1);
      await page.getByTestId('playground-parameters').fill('{"truncate":true}');
      await page.getByTestId('playground-parameters-format').click();
      assert.equal(await page.getByTestId('playground-parameters').inputValue(), '{\n  "truncate": true\n}');

      // The snippets follow the form: curl is the exact request to this deployment on this
      // origin, with a placeholder key; the Python clients use the compatible routes.
      const origin = new URL(server.url).origin;
      assert.equal(await page.evaluate(() => window.location.origin), origin);
      assert.equal(await page.getByTestId('snippet-tab-curl').getAttribute('aria-selected'), 'true');
      const curl = await textOf(page, 'snippet-code');
      assert.ok(curl.includes(`${origin}/api/v1/deployments/${encodeURIComponent(id)}/infer`), curl);
      assert.ok(curl.includes('Authorization: Bearer $HFB_API_KEY'), curl);
      assert.ok(!/eyJ[\w-]+\./.test(curl), 'no session token in the snippet');
      const curlRequest = curlBody(curl);
      assert.deepEqual(curlRequest, { inputs: { source_sentence: SOURCE, sentences: SENTENCES }, parameters: { truncate: true } });

      // Ctrl+Enter in a field runs, and sends exactly what curl shows.
      await page.getByTestId('playground-sentences').focus();
      await page.keyboard.press('Control+Enter');
      await eventually(() => calls.length === sent + 2, { message: 'Ctrl+Enter sent a call' });
      assert.deepEqual(calls.at(-1).body, curlRequest);
      await waitForRun(page);
      await page.locator('[data-testid="playground-result"][data-kind="similarity"]').waitFor();
      scores = await scoresOf(page);
      assert.equal(scores.findIndex((s) => s.best), 0);
      assert.equal(await page.getByTestId('playground-sentences').inputValue(), SENTENCES.join('\n'), 'Ctrl+Enter added no line');

      await page.getByTestId('snippet-tab-python').click();
      const hub = await textOf(page, 'snippet-code');
      assert.ok(hub.includes('from huggingface_hub import InferenceClient'), hub);
      assert.ok(hub.includes(`model="${origin}/models/${MODEL}"`), hub);
      assert.ok(hub.includes('client.sentence_similarity('), hub);
      assert.ok(hub.includes(JSON.stringify(SENTENCES[2])), hub);
      await page.getByTestId('snippet-tab-openai').click();
      const openai = await textOf(page, 'snippet-code');
      assert.ok(openai.includes(`OpenAI(base_url="${origin}/v1"`), openai);
      assert.ok(openai.includes(`model="${name}"`), openai);
      assert.ok(openai.includes('encoding_format="float"'), openai);
      assert.equal(await page.getByTestId('snippet-api-keys').getAttribute('href'), '/account/api-keys');

      // Copy puts the snippet shown on the clipboard.
      await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      await page.getByTestId('snippet-copy').click();
      await eventually(async () => (await page.getByTestId('snippet-copy').getAttribute('data-copied')) === 'true', {
        message: 'copied',
      });
      assert.equal((await page.evaluate(() => navigator.clipboard.readText())).trim(), openai);

      // `?model=` preselects the model's deployment; `?deployment=&task=` restores a state.
      await page.goto(at(`/playground?model=${encodeURIComponent(MODEL)}`));
      await option.waitFor();
      await eventually(async () => (await option.getAttribute('data-selected')) === 'true', { message: 'preselected by model' });
      assert.equal(await form.getAttribute('data-task'), 'sentence-similarity');
      assert.ok(new URL(page.url()).searchParams.get('model') === MODEL, 'the URL keeps the model');
      await page.goto(at(`/playground?deployment=${encodeURIComponent(id)}&task=feature-extraction`));
      await option.waitFor();
      assert.equal(await form.getAttribute('data-task'), 'feature-extraction');
      // A model the team has not deployed, while another runs: said so, with Deploy.
      await page.goto(at('/playground?model=someone%2Felse'));
      assert.match(await textOf(page, 'playground-missing'), /no deployment of someone\/else/);
      assert.equal(await page.getByTestId('playground-deploy-model').getAttribute('href'), '/deployments/new?model=someone%2Felse');
      assert.equal(await option.getAttribute('data-selected'), 'false');
      await option.click();
      await page.waitForURL(at(`/playground?deployment=${encodeURIComponent(id)}`));
      assert.equal(await page.getByTestId('playground-missing').count(), 0);

      // Ctrl+Enter from the page's first field right after loading.
      const before = calls.length;
      await page.getByTestId('playground-source').focus();
      await page.keyboard.press('Control+Enter');
      await page.locator('[data-testid="playground-result"][data-kind="similarity"]').waitFor({ timeout: 30_000 });
      assert.equal(calls.length, before + 1);
    }));

  test('other tasks on remote targets: label bars, generated text, JSON inputs, remote headers and a 409', { timeout: 120_000 }, () =>
    run('playground-remote', async (page) => {
      await signUp(page, 'Karen Jones');
      const deployment = (id, name, task, target, status = 'running') => ({
        id,
        team_id: 'team-mock',
        name,
        model_id: `mock/${name}`,
        target,
        task,
        status,
        status_message: null,
        desired: 'running',
        current_version: 1,
        running_version: status === 'running' ? 1 : null,
        spec: {
          revision: 'main',
          scaling: { min_replicas: 1, max_replicas: 1, scale_to_zero_after_secs: 900, target_concurrency: 8 },
          env: {},
        },
        endpoint_url: 'https://endpoint.example.com',
        reconciling: false,
        created_by: 'u',
        created_at: `2026-01-01T00:00:0${id.length % 10}.000Z`,
        updated_at: '2026-01-01T00:00:00.000Z',
      });
      const list = [
        deployment('dep-sentiment', 'sentiment', 'text-classification', 'hf-endpoint'),
        deployment('dep-writer-1', 'writer', 'text-generation', 'hf-endpoint'),
        deployment('dep-filler-22', 'filler', 'fill-mask', 'hf-space'),
        deployment('dep-later-333', 'later', 'text-classification', 'aws-lambda', 'provisioning'),
      ];
      await page.route('**/api/v1/deployments', (route) =>
        route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(list) }),
      );
      const calls = [];
      const answers = {
        'dep-sentiment': {
          status: 200,
          body: [[{ label: 'NEGATIVE', score: 0.0312 }, { label: 'POSITIVE', score: 0.9688 }]],
        },
        'dep-writer-1': {
          status: 409,
          body: { error: { code: 'conflict', message: 'deployment writer cannot take calls: it is paused; resume it first', request_id: 'req-409' } },
        },
        'dep-filler-22': { status: 200, body: [{ sequence: 'paris is the capital of france.', score: 0.99, token_str: 'capital' }] },
      };
      await page.route('**/api/v1/deployments/*/infer', (route) => {
        const id = decodeURIComponent(new URL(route.request().url()).pathname.split('/').at(-2));
        calls.push({ id, body: JSON.parse(route.request().postData()) });
        const answer = answers[id];
        return route.fulfill({
          status: answer.status,
          contentType: 'application/json',
          headers: { 'x-hfb-attempts': '2', 'x-hfb-upstream-status': '200', 'x-hfb-cold-start': 'true', 'x-hfb-tokens': '11', 'x-request-id': `req-${id}` },
          body: JSON.stringify(answer.body),
        });
      });

      // Only callable deployments are offered; the one still provisioning is counted.
      await page.goto(at('/playground?deployment=dep-sentiment'));
      await page.locator('[data-testid="playground-option"][data-id="dep-sentiment"]').waitFor();
      const ids = await page.locator('[data-testid="playground-option"]').evaluateAll((els) => els.map((e) => e.dataset.id));
      assert.deepEqual(ids.sort(), ['dep-filler-22', 'dep-sentiment', 'dep-writer-1']);
      assert.match(await textOf(page, 'playground-not-running'), /1 more deployment is not running/);

      // Classification: one task, no switcher; labels best first, remote headers shown.
      assert.equal(await page.locator('#playground-form').getAttribute('data-task'), 'text-classification');
      assert.equal(await page.getByTestId('playground-tasks').count(), 0);
      await page.getByTestId('playground-run').click();
      await page.locator('[data-testid="playground-result"][data-kind="labels"]').waitFor();
      const labels = await page.locator('[data-testid="result-label"]').evaluateAll((els) => els.map((e) => [e.dataset.label, Number(e.dataset.score)]));
      assert.deepEqual(labels, [['POSITIVE', 0.9688], ['NEGATIVE', 0.0312]]);
      assert.equal(await textOf(page, 'playground-attempts'), '2');
      assert.equal(await textOf(page, 'playground-upstream-status'), 'HTTP 200');
      assert.equal(await textOf(page, 'playground-cold-start'), 'cold start');
      assert.equal(await textOf(page, 'playground-request-id'), 'req-dep-sentiment');
      assert.deepEqual(calls.at(-1), { id: 'dep-sentiment', body: { inputs: 'I love this phone: the battery lasts for days!' } });
      await page.getByTestId('snippet-tab-python').click();
      assert.ok((await textOf(page, 'snippet-code')).includes('labels = client.text_classification('));
      await page.getByTestId('snippet-tab-openai').click();
      assert.match(await textOf(page, 'snippet-note'), /no call for text-classification/);

      // Generation: parameters prefilled for it; a 409 shows code, message and request id.
      await page.locator('[data-testid="playground-option"][data-id="dep-writer-1"]').click();
      await page.waitForURL(at('/playground?deployment=dep-writer-1'));
      await eventually(async () => (await page.getByTestId('playground-result').count()) === 0, {
        message: 'the previous answer gone',
      });
      assert.deepEqual(JSON.parse(await page.getByTestId('playground-parameters').inputValue()), { max_new_tokens: 64, temperature: 0.7 });
      const openai = await textOf(page, 'snippet-code');
      assert.ok(openai.includes('client.chat.completions.create(') && openai.includes('max_tokens=64') && openai.includes('stream=True'), openai);
      await page.getByTestId('playground-inputs').fill('Once upon a time');
      await page.getByTestId('playground-inputs').press('Control+Enter');
      await page.locator('[data-testid="playground-error"][data-code="conflict"]').waitFor();
      assert.match(await textOf(page, 'playground-error-message'), /paused; resume it first/);
      assert.equal(await textOf(page, 'playground-error-request-id'), 'req-409');
      assert.deepEqual(calls.at(-1).body, { inputs: 'Once upon a time', parameters: { max_new_tokens: 64, temperature: 0.7 } });
      answers['dep-writer-1'] = { status: 200, body: [{ generated_text: 'Once upon a time, a model answered.' }] };
      await page.getByTestId('playground-run').click();
      assert.equal(await textOf(page, 'result-generated'), 'Once upon a time, a model answered.');

      // Any other task: the inputs are JSON, checked here first; the answer as JSON.
      await page.locator('[data-testid="playground-option"][data-id="dep-filler-22"]').click();
      await page.waitForURL(at('/playground?deployment=dep-filler-22'));
      const sent = calls.length;
      await page.getByTestId('playground-inputs').fill('{"oops"');
      await page.getByTestId('playground-run').click();
      assert.match(await textOf(page, 'playground-inputs-error'), /^Not valid JSON/);
      assert.equal(calls.length, sent);
      await page.getByTestId('playground-inputs').fill('"Paris is the [MASK] of France."');
      await page.getByTestId('playground-run').click();
      assert.match(await textOf(page, 'result-json'), /"token_str": "capital"/);
      assert.deepEqual(calls.at(-1).body, { inputs: 'Paris is the [MASK] of France.' });
      await page.getByTestId('snippet-tab-python').click();
      assert.ok((await textOf(page, 'snippet-code')).includes('client.fill_mask("Paris is the [MASK] of France.")'));
    }));
});
