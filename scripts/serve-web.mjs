// Serves the browser example (examples/web) and what it loads (js/, pkg/web/) on localhost:
//   node scripts/serve-web.mjs [port]      (default 8080; 0 picks a free port)
// It prints the page's URL. Build the wasm first: bash scripts/build-wasm.sh (npm run serve:web does).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const served = ['examples/web/', 'js/', 'pkg/web/'];
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

/** Starts the server on `port` (of 127.0.0.1) and resolves to its page URL. */
export function serve(port = 8080) {
  const server = createServer(async (request, response) => {
    let path = decodeURIComponent(new URL(request.url, 'http://localhost').pathname).slice(1);
    if (path === '' || path === 'examples/web') path = 'examples/web/index.html';
    path = normalize(path).split(sep).join('/');
    if (!served.some((prefix) => path.startsWith(prefix))) {
      response.writeHead(404).end('not served');
      return;
    }
    try {
      const body = await readFile(join(root, path));
      response.writeHead(200, { 'content-type': contentType(path) }).end(body);
    } catch {
      response.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}/examples/web/index.html`, server });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await serve(Number(process.argv[2] ?? 8080));
  console.log(`omnibuf's browser example: ${url}`);
}
