// Node-style `code` properties on the errors the JS layers throw themselves, as the binding core
// gives them to the errors made in Rust (src/binding/error.rs has the list and what each means).

/** `error` with its `code` property set; returns it for `throw coded(new TypeError(...), '...')`. */
export function coded(error, code) {
  error.code = code;
  return error;
}
