// Garbage collection on demand for the addon's tests, without starting Node with --expose-gc.
import v8 from 'node:v8';
import vm from 'node:vm';

/** Collects garbage `rounds` times, with a turn of the event loop after each, so that the
 * FinalizationRegistry callbacks and Node's finalizers of what was found get to run. */
export async function collect(rounds = 6) {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  for (let i = 0; i < rounds; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
