// Debian's Chromium, headless, for the browser tests and benchmarks (playwright-core drives it; no
// browser download works on these machines). CHROMIUM overrides where it is.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Why Chromium cannot run here, or false when it can. */
export const chromiumMissing = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath}`;

/** Launch flags for this sandbox (no GPU, no network, no first-run chores); playwright adds --headless. */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** A headless Chromium. `audio`: an AudioContext may start without a user gesture (for the
 * AudioWorklet tests); `gc`: pages have `gc()` (for tests that measure memory). */
export function launchChromium({ audio = false, gc = false } = {}) {
  const args = [...ARGS];
  if (audio) args.push('--autoplay-policy=no-user-gesture-required');
  if (gc) args.push('--js-flags=--expose-gc');
  return chromium.launch({ executablePath: chromiumPath, args });
}

/** A headless Chromium on the profile in `userDataDir` (kept between launches, as a user's is):
 * resolves to a BrowserContext; closing it ends the browser. */
export function launchPersistentChromium(userDataDir) {
  return chromium.launchPersistentContext(userDataDir, { executablePath: chromiumPath, args: ARGS });
}
