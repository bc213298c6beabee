// TextDecoder and TextEncoder for AudioWorkletGlobalScope, which lacks both: UTF-8 only, as
// wasm-bindgen's glue uses them (strings in and out of Rust: class names, error messages). Imported
// by js/worklet.mjs before the glue, which looks for them when it loads.
if (typeof globalThis.TextDecoder === 'undefined') {
  globalThis.TextDecoder = class TextDecoder {
    decode(input) {
      if (input === undefined) return '';
      const b = input instanceof Uint8Array ? input : new Uint8Array(input.buffer ?? input);
      let out = '';
      for (let i = 0; i < b.length; ) {
        const c = b[i++];
        let code;
        if (c < 0x80) code = c;
        else if (c < 0xe0) code = ((c & 0x1f) << 6) | (b[i++] & 0x3f);
        else if (c < 0xf0) code = ((c & 0x0f) << 12) | ((b[i++] & 0x3f) << 6) | (b[i++] & 0x3f);
        else code = ((c & 0x07) << 18) | ((b[i++] & 0x3f) << 12) | ((b[i++] & 0x3f) << 6) | (b[i++] & 0x3f);
        out += String.fromCodePoint(code);
      }
      return out;
    }
  };
}
if (typeof globalThis.TextEncoder === 'undefined') {
  globalThis.TextEncoder = class TextEncoder {
    encode(text = '') {
      const out = [];
      for (const ch of text) {
        const c = ch.codePointAt(0);
        if (c < 0x80) out.push(c);
        else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
        else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
        else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
      }
      return new Uint8Array(out);
    }
  };
}
