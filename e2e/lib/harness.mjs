// Starts the real hfb server (with the built SPA) and Chromium for the browser tests.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, mkdir, rm, access, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const e2eDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = path.resolve(e2eDir, '..');
export const artifactsDir = path.join(e2eDir, 'artifacts');

const SERVER_START_TIMEOUT_MS = 30_000;
const LISTENING = /listening on (http:\/\/[0-9.:]+)/;

/** The model folders tests can put in the server's local model store, by model id. */
export const LOCAL_MODELS = {
  'sentence-transformers/all-MiniLM-L6-v2': () =>
    process.env.HFB_TEST_MODEL_DIR ?? path.join(repoDir, 'data', 'models', 'sentence-transformers', 'all-MiniLM-L6-v2'),
};

/**
 * Links each model of `ids` into `<dataDir>/models/<owner>/<name>` (the local model store);
 * fails with how to get a model whose folder is missing.
 */
async function linkLocalModels(dataDir, ids) {
  for (const id of ids) {
    const source = LOCAL_MODELS[id]?.();
    if (!source) throw new Error(`no known folder for the local model ${id}`);
    await access(path.join(source, 'config.json')).catch(() => {
      throw new Error(
        `the ${id} model folder is missing at ${source}: run \`bash scripts/test.sh\` or \`bash scripts/run.sh\` ` +
          '(they install it into data/models), or set HFB_TEST_MODEL_DIR to the folder',
      );
    });
    const [owner, name] = id.split('/');
    await mkdir(path.join(dataDir, 'models', owner), { recursive: true });
    await symlink(path.resolve(source), path.join(dataDir, 'models', owner, name), 'dir');
  }
}

/**
 * Runs the `hfb` command line with `args`; resolves with its stdout, rejects with its
 * output when it exits with anything but 0.
 */
export function runHfb(bin, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`hfb ${args.join(' ')} failed (code ${code}, signal ${signal}):\n${stdout}${stderr}`));
    });
  });
}

/**
 * Spawns `hfb serve` on a free port with a fresh data dir and embedded defaults.
 * `env` adds or overrides server settings (for example a rate limit).
 * `importCatalog` is a Hub-format JSON file loaded with `hfb catalog import` into the
 * same data dir before the server starts; its report is returned as `importReport`.
 * `localModels` lists model ids (keys of `LOCAL_MODELS`) linked into the data dir's local
 * model store before the server starts, so the local runtime can deploy them.
 * Resolves with { url, stop, logs, importReport } once the server logs the address it
 * listens on.
 */
export async function startServer({ env: extraEnv = {}, importCatalog, localModels = [] } = {}) {
  const bin = path.resolve(e2eDir, process.env.HFB_BIN ?? '../target/debug/hfb');
  const staticDir = path.resolve(process.env.HFB_DIST_DIR ?? path.join(repoDir, 'dist'));
  await access(bin).catch(() => {
    throw new Error(`hfb binary not found at ${bin} (build it with \`cargo build -p hfb-backend\` or set HFB_BIN)`);
  });
  await access(path.join(staticDir, 'index.html')).catch(() => {
    throw new Error(`no built web app in ${staticDir} (run \`trunk build\` at the repo root or set HFB_DIST_DIR)`);
  });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hfb-e2e-data-'));
  try {
    await linkLocalModels(dataDir, localModels);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  const env = { ...process.env };
  // Embedded defaults only: no MongoDB or Redis even if the developer's shell has them.
  delete env.REDIS_URL;
  delete env.MONGODB_URI;
  Object.assign(env, {
    HFB_BIND: '127.0.0.1:0',
    HFB_DATA_DIR: dataDir,
    HFB_STATIC_DIR: staticDir,
    HFB_LOG_FORMAT: 'json',
    HFB_WS_HEARTBEAT_MS: '1000',
    // Tests never reach the internet: no live Hugging Face Hub, no catalog sync.
    HFB_CATALOG_LIVE: 'false',
    ...extraEnv,
  });

  let importReport;
  if (importCatalog) {
    try {
      importReport = JSON.parse(await runHfb(bin, ['catalog', 'import', importCatalog], env));
    } catch (err) {
      await rm(dataDir, { recursive: true, force: true });
      throw err;
    }
  }

  const child = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`server did not log its address within ${SERVER_START_TIMEOUT_MS} ms:\n${logs.join('\n')}`));
    }, SERVER_START_TIMEOUT_MS);
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        logs.push(line);
        const match = LISTENING.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => logs.push(...chunk.split('\n').filter(Boolean)));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal}):\n${logs.join('\n')}`));
    });
  });

  async function stop() {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timeout = new Promise((resolve) => setTimeout(resolve, 5_000, 'timeout'));
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  }

  return { url, stop, logs, importReport };
}

/** Launches headless Chromium with a throw-away profile. */
export async function launchBrowser() {
  const profileDir = await mkdtemp(path.join(tmpdir(), 'hfb-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
  });
  async function close() {
    await context.close().catch(() => {});
    await rm(profileDir, { recursive: true, force: true });
  }
  return { context, close };
}

/**
 * Runs `fn` with a fresh page; on failure saves a screenshot to e2e/artifacts/ and
 * attaches the page's console errors to the thrown error.
 */
export async function withPage(context, name, fn) {
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const consoleErrors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  try {
    await fn(page);
  } catch (err) {
    await mkdir(artifactsDir, { recursive: true });
    const file = path.join(artifactsDir, `${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    if (consoleErrors.length) err.message += `\nbrowser console errors:\n${consoleErrors.join('\n')}`;
    err.message += `\nscreenshot: ${file}`;
    throw err;
  } finally {
    await page.close().catch(() => {});
  }
}

/** Retries `check` (which throws or returns falsy while not yet true) until it passes. */
export async function eventually(check, { timeout = 5_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${message} not met within ${timeout} ms${lastError ? `: ${lastError.message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** The trimmed text of the first element matching a test id, once it is visible. */
export async function textOf(page, testId) {
  const el = page.getByTestId(testId).first();
  await el.waitFor({ state: 'visible' });
  return (await el.textContent()).trim();
}

/**
 * Signs a new person up through the form (a unique e-mail from the first word of `name`)
 * and waits until they land signed in on the overview. `at` makes a URL on the server.
 */
export async function signUpThroughForm(page, at, name, password) {
  await page.goto(at('/signup'));
  await page.getByTestId('signup-display_name').fill(name);
  await page.getByTestId('signup-email').fill(`${name.split(' ')[0].toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`);
  await page.getByTestId('signup-password').fill(password);
  await page.getByTestId('signup-password').press('Enter');
  await page.waitForURL(at('/'));
  await page.getByTestId('user-menu').waitFor();
}
