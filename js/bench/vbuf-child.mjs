// One sample of the bench's vbuf group, in a process of its own so that its resident memory is its own:
//
//   node js/bench/vbuf-child.mjs vbuf <path>       VirtualBuffer.open(path), then read() of the first 64 KiB
//   node js/bench/vbuf-child.mjs readFile <path>   fs.promises.readFile(path)
//
// Prints one JSON line: { ns, rssGrowth, peakGrowth, head } — the time the operation took, how much the
// resident set grew over the operation (rss after, holding the result, and the peak the process
// reached, each minus the rss just before), and the SHA-256 of the first 64 KiB it got, for the check.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export const HEAD = 64 * 1024;

const [which, path] = process.argv.slice(2);
if (!['vbuf', 'readFile'].includes(which) || !path) {
  console.error('usage: node js/bench/vbuf-child.mjs vbuf|readFile <path>');
  process.exit(2);
}

let open;
if (which === 'vbuf') {
  const { VirtualBuffer } = await import('../node.mjs');
  open = async () => {
    const vb = await VirtualBuffer.open(path);
    const head = await vb.read(0, HEAD);
    return { vb, head };
  };
} else {
  open = () => readFile(path);
}

// No collection first: it would shrink the resident set below the peak startup left, and that peak would
// then count as the operation's. As it is, the peak growth is an upper bound (see below).
const before = process.memoryUsage.rss();
const start = process.hrtime.bigint();
const result = await open();
const ns = Number(process.hrtime.bigint() - start);
const after = process.memoryUsage.rss();
// maxRSS (KiB) is the peak of the process's whole life: at least the operation's peak, and more only if
// startup peaked above `before`, so `peak - before` bounds the operation's growth from above.
const peak = process.resourceUsage().maxRSS * 1024;
const head =
  which === 'vbuf'
    ? Buffer.from(result.head.sha256()).toString('hex')
    : createHash('sha256').update(result.subarray(0, HEAD)).digest('hex');
console.log(JSON.stringify({ ns, rssGrowth: after - before, peakGrowth: Math.max(peak, after) - before, head }));
