//! The portable core of the two JS bindings (the wasm-bindgen build in `src/wasm/` and the Node addon
//! in `node/`): the checks every argument goes through and the errors JS sees, written once; and the
//! waiting both share ([`block_on()`] for `sliceSync()`, [`Registration`] for `sliceAsync()`).
//!
//! Plain Rust, no napi or wasm-bindgen types, compiled for either binding (the `binding` feature, or
//! wasm32) and for the tests, and tested natively and under Miri. An adapter turns a JS value into a
//! [`Value`] (its type and, for a number, the number), asks a check here, and throws the [`BindingError`] it may get back as the JS class it names. Because both
//! builds take their messages from [`message`], the same misuse gives the same class and the same
//! message in both (the shared JS suite compares them: `js/test/misuse.test.mjs`).
//!
//! Public (with the `binding` feature, and hidden from the documentation) only because the addon is a
//! crate of its own; on wasm32 it is the crate's own.
//!
//! ```
//! use omnibuf::binding::{offset, ErrorClass, Value};
//!
//! assert_eq!(offset(Value::Number(4096.0), "start"), Ok(4096));
//! let e = offset(Value::String, "start").unwrap_err();
//! assert_eq!(e.class, ErrorClass::TypeError);
//! assert_eq!(e.message, "start must be an integer, got a string");
//! assert_eq!(e.code, Some("ERR_INVALID_ARG_TYPE"));
//! ```

mod args;
mod block_on;
mod error;
pub mod message;
mod number;
mod value;
mod waits;

pub use args::{
    abort_reason, block_size, capacity, capacity_number, choice, handle_id, index, limit, name, offset, path,
    timeout, within_memory, FILE_BACKENDS, MAX_BLOCK_SIZE, MAX_SAFE_INTEGER, NO_REASON, RING_BACKENDS,
    STORES,
};
pub use block_on::block_on;
pub use error::{
    BindingError, BindingResult, ErrorClass, ABORT_ERR, ERR_BUFFER_TOO_LARGE,
    ERR_FEATURE_UNAVAILABLE_ON_PLATFORM, ERR_ILLEGAL_CONSTRUCTOR, ERR_INVALID_ARG_TYPE,
    ERR_INVALID_ARG_VALUE, ERR_INVALID_STATE, ERR_INVALID_THIS, ERR_OUT_OF_RANGE,
};
pub use number::js_number;
pub use value::Value;
pub use waits::{acquire, try_acquire, PoolAcquire, PoolSide, Registration, WaitSide, Waiters};

/// The error a ring writer's `try_produce(n)` would give, publishing nothing: the addon refuses a bad
/// `produce(n)` before it detaches the slices it handed out, so that a call refused changes nothing.
#[cfg(feature = "binding")]
pub fn check_produce<T: crate::ring::Item, G>(
    writer: &mut crate::ring::asynchronous::Writer<T, G>,
    n: usize,
) -> Result<(), crate::ring::RingError> {
    writer.check_produce(n)
}

/// For the addon's copies between JS memory and the ring (see `platform::copy`).
#[cfg(feature = "binding")]
pub use crate::platform::copy::copy_bytes_in_pieces;
