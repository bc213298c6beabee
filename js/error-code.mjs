// Node-style `code` properties on the errors the JS layers throw themselves, as the binding core
// gives them to the errors made in Rust (src/binding/error.rs has the list and what each means).

/** `error` with its `code` property set; returns it for `throw coded(new TypeError(...), '...')`. */
export function coded(error, code) {
  error.code = code;
  return error;
}

/** The reason of each Error that writerAborted() made, so that a writer aborted with it passes the
 * reason on as it was: a stream that carries another ring's end on to a ring of its own (pipeline
 * from one ring's nodeReadable() to another's nodeWritable()) says why once, not once per ring. */
const reasons = new WeakMap();

/** The Error a ring's streams end with after its writer aborted with `reason`: the code of Rust's
 * `ConnectionAborted`, as a connection whose other end gave up. (Not ERR_STREAM_PREMATURE_CLOSE,
 * which Node's own stream helpers take for a close of theirs: stream.compose() never settles on it.) */
export function writerAborted(reason) {
  const error = coded(new Error(`the ring's writer aborted: ${reason}`), 'ECONNABORTED');
  reasons.set(error, reason);
  return error;
}

/** The reason `error` carries on when a writer aborts with it: the reason of a writerAborted() Error,
 * else its message (undefined where it has no string message). */
export function reasonOfError(error) {
  const reason = reasons.get(error);
  if (reason !== undefined) return reason;
  const message = error.message;
  return typeof message === 'string' ? message : undefined;
}
