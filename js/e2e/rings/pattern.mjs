// The byte stream the ring tests send: byte i of the stream is pattern(i), so a reader checks every
// byte's value and order as it reads, and a checksum (FNV-1a) sums up what arrived.

/** Byte `i` of the test stream: not periodic in any ring's capacity, so a byte lost, repeated or
 * read from the wrong image shows. */
export const pattern = (i) => (i ^ (i >>> 8) ^ Math.imul(i >>> 16, 7) ^ 0x5a) & 255;

/** Fills `view` with the stream's bytes from `start`. */
export function fill(view, start) {
  for (let k = 0; k < view.length; k++) view[k] = pattern(start + k);
}

/** Checks `view` against the stream from `start`: the index of the first wrong byte, or -1. */
export function check(view, start) {
  for (let k = 0; k < view.length; k++) if (view[k] !== pattern(start + k)) return start + k;
  return -1;
}

/** FNV-1a over `view`, continuing from `hash`. */
export function fnv(hash, view) {
  for (let k = 0; k < view.length; k++) hash = Math.imul(hash ^ view[k], 16777619) >>> 0;
  return hash;
}

/** The checksum of the stream's first `n` bytes. */
export function expectedChecksum(n) {
  let hash = 2166136261;
  for (let i = 0; i < n; i++) hash = Math.imul(hash ^ pattern(i), 16777619) >>> 0;
  return hash;
}

/** A reader's tally: bytes, checksum, the first wrong byte (-1: none), and how many slices went
 * across the end of the ring (the bytes of one slice reached from the last slot to the first). */
export function tally() {
  return { bytes: 0, checksum: 2166136261, firstWrong: -1, acrossEnd: 0, slices: 0 };
}

/** Adds a slice to a tally; `capacity` locates the ring's end. */
export function count(t, view, capacity) {
  if (t.firstWrong < 0) t.firstWrong = check(view, t.bytes);
  t.checksum = fnv(t.checksum, view);
  if ((t.bytes % capacity) + view.length > capacity) t.acrossEnd++;
  t.slices++;
  t.bytes += view.length;
}
