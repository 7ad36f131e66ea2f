// Saves screenshots of every page in light and dark to e2e/artifacts/, for reviewing the look.
// Usage (from e2e/): node screenshots.mjs   (same HFB_BIN / HFB_DIST_DIR / CHROMIUM_PATH as the tests)

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { artifactsDir, eventually, launchBrowser, startServer, textOf } from './lib/harness.mjs';

const PAGES = ['/', '/catalog', '/deployments', '/playground', '/dashboard', '/settings', '/nope'];
const width = Number(process.env.WIDTH ?? 1280);
const height = Number(process.env.HEIGHT ?? 860);

const server = await startServer();
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
  }
} finally {
  await browser.close();
  await server.stop();
}
