// The AudioWorklet: claims the ring's reader in its constructor and, in process(), copies the next
// 128 samples out of the ring into its output with readInto(), which never blocks and allocates
// nothing. It checks every sample against the tone, and at the end of the stream posts what it got.
import { initSync, readInto, CircularReader } from '../../js/worklet.mjs';
import { FNV_START, fnv, sample } from './tone.mjs';

class RingPlayer extends AudioWorkletProcessor {
  constructor({ processorOptions: { handle, rate } }) {
    super();
    initSync(handle);
    this.reader = CircularReader.fromHandle(handle);
    this.rate = rate;
    this.output = null;
    this.outputBytes = null;
    this.samples = 0;
    this.checksum = FNV_START;
    this.firstWrong = -1;
    this.underruns = 0;
    this.done = false;
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    if (this.done) return false;
    // The output arrays are the same from one call to the next: one byte view, made once.
    if (out !== this.output) {
      this.output = out;
      this.outputBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    const got = readInto(this.reader, this.outputBytes);
    if (got === -1) {
      this.finish();
      out.fill(0);
      return false;
    }
    if (got > 0) {
      this.checksum = fnv(this.checksum, this.outputBytes, got);
      const samples = got >> 2;
      for (let i = 0; i < samples; i++) {
        if (this.firstWrong < 0 && out[i] !== sample(this.samples + i, this.rate)) this.firstWrong = this.samples + i;
      }
      this.samples += samples;
    }
    if (got < this.outputBytes.length && !this.done) {
      this.underruns++;
      out.fill(0, got >> 2);
    }
    return !this.done;
  }

  finish() {
    this.done = true;
    this.reader.free();
    this.port.postMessage({ samples: this.samples, checksum: this.checksum, firstWrong: this.firstWrong, underruns: this.underruns });
  }
}

registerProcessor('ring-player', RingPlayer);
