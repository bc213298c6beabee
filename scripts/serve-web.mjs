// Serves the browser examples (examples/web, examples/rings) and what they load (js/, pkg/web/,
// pkg/web-threads/) on localhost:
//   node scripts/serve-web.mjs [port]      (default 8080; 0 picks a free port)
// It prints the pages' URLs. Build the wasm first: bash scripts/build-wasm.sh (npm run serve:web does).
// Every response carries the cross-origin isolation headers (COOP/COEP), which a page needs for
// SharedArrayBuffer and thus for rings across threads; serve(port, { isolated: false }) leaves them out.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const served = ['examples/web/', 'examples/rings/', 'js/', 'pkg/web/', 'pkg/web-threads/'];

/** What makes a page cross-origin isolated (and what a site must serve for rings across threads). */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
};

/** The Content-Type to serve a file of this path with. */
export const contentType = (path) => TYPES[extname(path)] ?? 'application/octet-stream';

/** Starts the server on `port` (of 127.0.0.1) and resolves to its page URL (examples/web) and its
 * origin. `isolated: false` serves without the COOP/COEP headers; `also` adds folders to serve (for
 * the benchmarks: a peer's files under node_modules/). */
export function serve(port = 8080, { isolated = true, also = [] } = {}) {
  const headers = isolated ? ISOLATION_HEADERS : {};
  const prefixes = [...served, ...also];
  const server = createServer(async (request, response) => {
    let path = decodeURIComponent(new URL(request.url, 'http://localhost').pathname).slice(1);
    if (path === '' || path === 'examples/web') path = 'examples/web/index.html';
    path = normalize(path).split(sep).join('/');
    if (!prefixes.some((prefix) => path.startsWith(prefix))) {
      response.writeHead(404).end('not served');
      return;
    }
    try {
      const body = await readFile(join(root, path));
      response.writeHead(200, { 'content-type': contentType(path), ...headers }).end(body);
    } catch {
      response.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const origin = `http://127.0.0.1:${server.address().port}`;
      resolve({ url: `${origin}/examples/web/index.html`, origin, server });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url, origin } = await serve(Number(process.argv[2] ?? 8080));
  console.log(`omnibuf's browser example: ${url}`);
  console.log(`a ring across threads (worker -> AudioWorklet): ${origin}/examples/rings/index.html`);
}
