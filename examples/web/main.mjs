// The page of examples/web: import a local file into IndexedDB, page through it, edit, save; a reload
// shows the saved edits. A panel shows a ring and a pool at work. Served by `npm run serve:web`.
import { init, BufferPool, Circular, VirtualBuffer } from '../../js/web.mjs';

const $ = (id) => document.getElementById(id);
const decoder = new TextDecoder();
const encoder = new TextEncoder();
let doc = null; // the open VirtualBuffer
let page = 0; // 0-based
let pageStart = 0; // offset of the page shown, and its length when read
let pageLength = 0;

function status(message, isError = false) {
  $('status').textContent = message;
  $('status').className = isError ? 'error' : '';
}

/** Runs an action, reporting its error on the page instead of losing it. */
async function attempt(action) {
  try {
    await action();
  } catch (e) {
    console.error(e);
    status(`${e.name}: ${e.message}`, true);
  }
}

const pageSize = () => Number($('pageSize').value);
const pageCount = () => (doc ? Math.max(1, Math.ceil(doc.length / pageSize())) : 0);

async function refreshDocuments(selected) {
  const documents = await VirtualBuffer.list();
  $('documents').replaceChildren(
    ...documents.map(({ name, length }) => {
      const option = new Option(`${name} (${length.toLocaleString()} bytes)`, name);
      option.selected = name === selected;
      return option;
    }),
  );
}

function showState() {
  const open = doc !== null;
  for (const id of ['apply', 'undo', 'save']) $(id).disabled = !open;
  $('text').disabled = !open;
  $('info').textContent = open ? `${doc.name}: ${doc.length.toLocaleString()} bytes` : 'No document open.';
  $('pages').textContent = `of ${pageCount()}`;
  $('modified').textContent = open && doc.isModified ? 'unsaved edits' : '';
}

/** How many UTF-8 continuation bytes (at most 3) start `bytes` at `at`: a page boundary moves past
 * them, so that no page splits a character and an edit never re-encodes half of one. */
function continuation(bytes, at) {
  let n = 0;
  while (n < 3 && at + n < bytes.length && (bytes[at + n] & 0xc0) === 0x80) n++;
  return n;
}

async function showPage(n) {
  if (!doc) return;
  page = Math.min(Math.max(0, n), pageCount() - 1);
  const rawStart = page * pageSize();
  const rawEnd = Math.min(doc.length, rawStart + pageSize());
  const read = await doc.read(rawStart, Math.min(doc.length, rawEnd + 3));
  const bytes = read.bytes();
  read.free();
  const from = rawStart === 0 ? 0 : continuation(bytes, 0);
  const to = rawEnd - rawStart + continuation(bytes, rawEnd - rawStart);
  pageStart = rawStart + from;
  pageLength = Math.max(0, to - from);
  $('text').value = decoder.decode(bytes.subarray(from, from + pageLength));
  $('page').value = page + 1;
  showState();
}

async function openDocument(name) {
  doc?.free();
  doc = null;
  const started = performance.now();
  doc = await VirtualBuffer.open(name);
  localStorage.setItem('omnibuf-example-document', name);
  status(`opened ${name} in ${(performance.now() - started).toFixed(1)} ms (only its metadata was read)`);
  await showPage(0);
}

$('file').addEventListener('change', () =>
  attempt(async () => {
    const file = $('file').files[0];
    if (!file) return;
    status(`importing ${file.name} (${file.size.toLocaleString()} bytes)…`);
    const started = performance.now();
    const imported = await VirtualBuffer.import(file.name, file);
    imported.free();
    status(`imported ${file.name} in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    await refreshDocuments(file.name);
    await openDocument(file.name);
  }),
);
$('open').addEventListener('click', () => attempt(() => openDocument($('documents').value)));
$('delete').addEventListener('click', () =>
  attempt(async () => {
    const name = $('documents').value;
    if (!name) return;
    if (doc?.name === name) {
      doc.free();
      doc = null;
    }
    await VirtualBuffer.deleteDocument(name);
    await refreshDocuments();
    showState();
    status(`deleted ${name}`);
  }),
);
$('export').addEventListener('click', () =>
  attempt(async () => {
    const name = $('documents').value;
    const blob = await VirtualBuffer.exportDocument(name);
    const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: name });
    link.click();
    URL.revokeObjectURL(link.href);
  }),
);
$('prev').addEventListener('click', () => attempt(() => showPage(page - 1)));
$('next').addEventListener('click', () => attempt(() => showPage(page + 1)));
$('page').addEventListener('change', () => attempt(() => showPage(Number($('page').value) - 1)));
$('pageSize').addEventListener('change', () => attempt(() => showPage(0)));
$('apply').addEventListener('click', () =>
  attempt(async () => {
    doc.replace(pageStart, pageStart + pageLength, encoder.encode($('text').value));
    status('edit applied (in memory until you save)');
    await showPage(page);
  }),
);
$('undo').addEventListener('click', () =>
  attempt(async () => {
    status(doc.undo() ? 'undone' : 'nothing to undo');
    await showPage(page);
  }),
);
$('save').addEventListener('click', () =>
  attempt(async () => {
    const started = performance.now();
    await doc.save();
    status(`saved in ${(performance.now() - started).toFixed(1)} ms (only changed blocks were written)`);
    await refreshDocuments(doc.name);
    showState();
  }),
);

/** The ring and pool panel: pooled chunks through a ring, with their statistics. */
function startRingAndPool() {
  const pool = new BufferPool({ budget: 1 << 20, classes: [4096, 65536] });
  const writer = Circular.withCapacity(64 << 10);
  const reader = writer.addReader();
  let moved = 0;
  let rounds = 0;
  const tick = () => {
    for (let i = 0; i < 32; i++) {
      const chunk = pool.tryAcquire(4096);
      if (!chunk) break;
      chunk.append(new Uint8Array(4096).fill(i));
      const frozen = chunk.freeze();
      writer.write(frozen.view());
      frozen.free();
      const data = reader.slice();
      if (data && data.length > 0) {
        moved += data.length;
        reader.consume(data.length);
      }
    }
    rounds++;
    const s = pool.snapshot();
    const rows = [
      ['ring backend', writer.backend],
      ['ring capacity', `${writer.capacity.toLocaleString()} bytes`],
      ['bytes through the ring', moved.toLocaleString()],
      ['rounds', rounds.toLocaleString()],
      ['pool budget', `${s.budget.toLocaleString()} bytes`],
      ['pool in use / high water', `${s.inUseBytes.toLocaleString()} / ${s.highWaterBytes.toLocaleString()} bytes`],
      ['pool idle / cached', `${s.idleBytes.toLocaleString()} / ${s.cachedBytes.toLocaleString()} bytes`],
    ];
    $('stats').replaceChildren(
      ...rows.map(([k, v]) => {
        const tr = document.createElement('tr');
        tr.append(Object.assign(document.createElement('th'), { textContent: k }));
        tr.append(Object.assign(document.createElement('td'), { textContent: v }));
        return tr;
      }),
    );
  };
  tick();
  setInterval(tick, 250);
}

await init();
startRingAndPool();
await attempt(async () => {
  const last = localStorage.getItem('omnibuf-example-document');
  await refreshDocuments(last);
  if (last && (await VirtualBuffer.list()).some((d) => d.name === last)) await openDocument(last);
  else showState();
});
document.body.dataset.ready = 'true';
