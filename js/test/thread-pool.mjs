// Holding libuv's thread pool, for tests of work queued on it (the addon's VirtualBuffer work).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Occupies every thread of libuv's pool (UV_THREADPOOL_SIZE, 4 by default) with an fs open() of a
 * FIFO, which blocks until the FIFO has a writer: work queued after it waits in the pool's queue.
 * Returns the function that frees the threads and closes what they opened.
 */
export function occupyThreadPool() {
  const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnibuf-pool-'));
  const fifos = Array.from({ length: threads }, (_, i) => path.join(dir, `fifo${i}`));
  for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
  const opening = fifos.map((fifo) => fs.promises.open(fifo, 'r'));
  return async () => {
    // Opening for reading and writing never blocks (Linux, macOS) and gives each open() its writer.
    const writers = fifos.map((fifo) => fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK));
    for (const handle of await Promise.all(opening)) await handle.close();
    for (const fd of writers) fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true });
  };
}
