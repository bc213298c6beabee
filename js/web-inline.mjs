// The browser entry with the wasm module inside the JavaScript (`omnibuf/inline`), for bundlers that
// do not emit the .wasm file that `new URL('omnibuf_bg.wasm', import.meta.url)` names: esbuild, which
// bundles this entry with no loader flag, or keeps `import … from 'omnibuf'` with the one flag
// `--alias:omnibuf=omnibuf/inline`. It costs a third more bytes than the .wasm file fetched by
// js/web.mjs, which bundlers that emit the file (vite, webpack) should keep using.
// Everything is js/web.mjs's; only init() differs: without an argument, or with a ring's handle (in a
// worker), it instantiates the embedded module instead of fetching one.
import wasmBase64 from '../pkg/web/omnibuf_bg.inline.mjs';
import { init as initFrom } from './web.mjs';

export * from './web.mjs';

/** The embedded module's bytes (decoded on each call: init() keeps no copy once it has loaded). */
function embeddedModule() {
  const text = atob(wasmBase64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** As js/web.mjs's init(), except that the single-thread module is the embedded one unless `input`
 * names another. Only the single-thread build is embedded: a cross-origin isolated page, whose rings
 * are the threaded build's, fetches that one as js/web.mjs does, omnibuf_threads_bg.wasm beside its
 * glue (beside the bundle); a worker's init(handle) takes it from the handle. */
export function init(input) {
  return initFrom(input, embeddedModule);
}
