// Headless Chromium for the browser benchmarks: a page on the origin http://bench.local whose files are
// served from this repository by request interception (no server, no network).
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentType } from '../../scripts/serve-web.mjs';
import { launchChromium } from '../chromium.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const ORIGIN = 'http://bench.local';

/** Opens a blank page of ORIGIN whose requests for ORIGIN/<path> are answered with the repository's
 * file <path>, runs `body(page)`, and closes the browser. */
export async function withBenchPage(body) {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && console.error('page:', m.text()));
    await page.route(`${ORIGIN}/**`, async (route) => {
      const path = normalize(decodeURIComponent(new URL(route.request().url()).pathname)).replace(/^\/+/, '');
      if (path === 'blank.html') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>bench</title>' });
      try {
        const body = await readFile(join(root, path));
        return route.fulfill({ contentType: contentType(path), body });
      } catch {
        return route.fulfill({ status: 404, body: 'not found' });
      }
    });
    await page.goto(`${ORIGIN}/blank.html`);
    return await body(page);
  } finally {
    await browser.close();
  }
}
