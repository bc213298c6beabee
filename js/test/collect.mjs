// Garbage collection on demand for the addon's tests, without starting Node with --expose-gc.
import v8 from 'node:v8';
import vm from 'node:vm';

/** Collects garbage once, now. */
export function collectNow() {
  v8.setFlagsFromString('--expose-gc');
  vm.runInNewContext('gc')();
}

/** Collects garbage `rounds` times, with a turn of the event loop after each, so that the
 * FinalizationRegistry callbacks and Node's finalizers of what was found get to run. */
export async function collect(rounds = 6) {
  for (let i = 0; i < rounds; i++) {
    collectNow();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
