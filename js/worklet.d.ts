// The types of "omnibuf/worklet" (js/worklet.mjs), the rings in an AudioWorklet: of js/index.d.ts only
// what this entry exports (the ring's classes, `threaded`, initSync()), plus readInto(), which only
// this entry has. The ring's classes are index.d.ts's, but their stream forms and async iteration
// (readableStream(), writableStream(), slices(), chunks(), `for await`, nodeReadable(),
// nodeWritable()) are not part of this entry: calling one throws an Error with code
// ERR_FEATURE_UNAVAILABLE_ON_PLATFORM saying so.
import type { CircularReader } from './index.js';

export { Circular, CircularWriter, CircularReader, initSync, threaded } from './index.js';
export type { BytesLike, CircularHandle, CircularOptions, RingBackend, WaitOptions } from './index.js';

/** "omnibuf/worklet" only (AudioWorkletGlobalScope): copies up to `target.length` unread bytes into
 * `target` from index 0 and consumes them; returns how many (0: none yet), or -1 at the end of the
 * stream. Never blocks and allocates nothing: for process(). A reader moved to a handle throws as
 * its members do (ERR_INVALID_STATE); one freed, a TypeError. */
export function readInto(reader: CircularReader, target: Uint8Array): number;
