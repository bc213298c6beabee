// The example's tone, sample by sample, so that the AudioWorklet checks each sample it plays against
// what the producer wrote, and both sides' checksum (FNV-1a over the bytes) sums up the stream.

/** Sample `k` of a 440 Hz tone at `rate` Hz, as the Float32 the ring carries. */
export const sample = (k, rate) => Math.fround(0.2 * Math.sin((2 * Math.PI * 440 * (k % rate)) / rate));

/** FNV-1a over `bytes[0..n)`, continuing from `hash`. */
export function fnv(hash, bytes, n = bytes.length) {
  for (let i = 0; i < n; i++) hash = Math.imul(hash ^ bytes[i], 16777619) >>> 0;
  return hash;
}

export const FNV_START = 2166136261;
