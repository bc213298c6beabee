// A process, or a worker, that ends while objects of the build are alive (views of one storage, a
// pool, ring sides with a wait pending, a document) ends normally: the environment's teardown
// finalizes them, and a finalizer must not reach for state Node has already let go of (the addon's
// pool finalizer once did, and the process died of a segmentation fault at exit, 8 times in 8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const child = fileURLToPath(new URL('./exit-with-objects.child.mjs', import.meta.url));
const modes = ['plain', 'waiting'];

test('a process that ends with live objects exits normally', () => {
  for (const mode of modes) {
    for (let run = 0; run < 4; run++) {
      const env = { ...process.env, OMNIBUF_EXIT_CHILD: mode };
      const result = spawnSync(process.execPath, [child], { encoding: 'utf8', env, timeout: 60_000 });
      assert.equal(result.signal, null, `${mode}, run ${run}: ended by ${result.signal}`);
      assert.equal(result.status, 0, `${mode}, run ${run}: ${result.stderr}`);
      assert.equal(result.stdout.trim(), 'done');
    }
  }
});

test('workers that end with live objects exit normally, and the process goes on', async () => {
  for (const mode of modes) {
    for (let run = 0; run < 3; run++) {
      const worker = new Worker(child, { env: { ...process.env, OMNIBUF_EXIT_CHILD: mode }, stdout: true });
      const exitCode = await new Promise((resolve, reject) => {
        worker.on('error', reject);
        worker.on('exit', resolve);
      });
      assert.equal(exitCode, 0, `${mode}, worker ${run}`);
    }
  }
});
