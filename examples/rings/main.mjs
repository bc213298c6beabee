// The example page: makes a ring, hands its writer to a producer worker and its reader to an
// AudioWorklet, and shows what the worklet got.
import { init, threaded, Circular } from '../../js/web.mjs';

const status = document.getElementById('status');
const play = document.getElementById('play');

/** Plays `seconds` of the tone through a ring; resolves to what the producer and the worklet saw. */
async function run(seconds) {
  const rate = 48000;
  const context = new AudioContext({ sampleRate: rate });
  await context.audioWorklet.addModule(new URL('./player.worklet.mjs', import.meta.url));
  // A quarter of a second of samples: the producer stays that far ahead of the speakers.
  const writer = Circular.withCapacity(rate);
  const node = new AudioWorkletNode(context, 'ring-player', {
    numberOfOutputs: 1,
    outputChannelCount: [1],
    processorOptions: { handle: writer.addReader().toHandle(), rate },
  });
  node.connect(context.destination);
  const played = new Promise((resolve) => (node.port.onmessage = ({ data }) => resolve(data)));
  const producer = new Worker(new URL('./producer.worker.mjs', import.meta.url), { type: 'module' });
  const produced = new Promise((resolve, reject) => {
    producer.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data));
    producer.onerror = (e) => reject(new Error(`producer: ${e.message}`));
  });
  producer.postMessage({ handle: writer.toHandle(), rate, seconds });
  await context.resume();
  const [sent, got] = await Promise.all([produced, played]);
  producer.terminate();
  await context.close();
  return { sent, got };
}

window.omnibufExample = { run, threaded };
await init();
if (!threaded) {
  status.textContent = 'This page is not cross-origin isolated (crossOriginIsolated is false), so a ring cannot cross ' +
    'threads: serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp.';
} else {
  status.textContent = 'ready';
  play.disabled = false;
  play.onclick = async () => {
    play.disabled = true;
    status.textContent = 'playing…';
    try {
      const { sent, got } = await run(Number(document.getElementById('seconds').value));
      const ok = got.samples === sent.samples && got.checksum === sent.checksum && got.firstWrong === -1;
      status.textContent = `${ok ? 'every sample arrived in order' : 'SAMPLES LOST OR OUT OF ORDER'}: ` +
        `${got.samples} of ${sent.samples} samples, ${got.underruns} underruns`;
    } catch (e) {
      status.textContent = `failed: ${e.message}`;
    }
    play.disabled = false;
  };
}
document.body.dataset.ready = 'true';
