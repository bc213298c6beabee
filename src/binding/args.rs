//! The checks of JS arguments: what a value is, and the numbers the API takes.
//!
//! No coercion: a number argument must be a JS number (`"1"`, `true`, `null` are `TypeError`s), an
//! integer, and within `0 ..= Number.MAX_SAFE_INTEGER` (`RangeError` beyond), whatever the target's
//! `usize`: offsets into documents are `u64` on wasm32 too.

use std::time::Duration;

use super::error::BindingResult;
use super::message;
use super::value::Value;

/// The largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A byte offset, length or line number: an integer in `0 ..= Number.MAX_SAFE_INTEGER`.
///
/// ```
/// use omnibuf::binding::{offset, ErrorClass, Value};
///
/// assert_eq!(offset(Value::Number(2f64.powi(32) + 4096.0), "start"), Ok((1 << 32) + 4096));
/// assert_eq!(offset(Value::Number(-1.0), "start").unwrap_err().class, ErrorClass::RangeError);
/// assert_eq!(offset(Value::Number(1.5), "start").unwrap_err().class, ErrorClass::TypeError);
/// assert_eq!(offset(Value::Boolean, "n").unwrap_err().message, "n must be an integer, got a boolean");
/// ```
pub fn offset(value: Value, what: &str) -> BindingResult<u64> {
    integer_between(value, what, 0, MAX_SAFE_INTEGER)
}

/// An integer in `min ..= max` (`max` at most `MAX_SAFE_INTEGER`): a `TypeError` for anything but
/// an integer, a `RangeError` that names the bounds outside them.
fn integer_between(value: Value, what: &str, min: u64, max: u64) -> BindingResult<u64> {
    let Value::Number(n) = value else { return Err(message::not_integer(what, value)) };
    if !n.is_finite() || n.fract() != 0.0 {
        return Err(message::not_integer(what, value));
    }
    if !(min as f64..=max as f64).contains(&n) {
        return Err(message::not_between(what, n, min, max));
    }
    // An integer within 0 ..= 2^53 - 1: exact as a u64.
    Ok(n as u64)
}

/// A size or offset within memory: [`offset`], then [`within_memory`].
pub fn index(value: Value, what: &str) -> BindingResult<usize> {
    within_memory(offset(value, what)?, what)
}

/// A number [`offset`] took, as a size or offset within memory: at most `usize::MAX`, which only a
/// 32-bit target can exceed (a buffer there cannot be that large).
///
/// A member of several arguments takes each with [`offset`] first and this range last, so that a
/// wrong type is a `TypeError` before a number too large for wasm32 is a `RangeError`, as in the
/// addon, on a 64-bit target, where this never fails.
///
/// ```
/// use omnibuf::binding::{within_memory, ErrorClass};
///
/// assert_eq!(within_memory(4096, "size"), Ok(4096));
/// if usize::BITS == 32 {
///     assert_eq!(within_memory(1 << 32, "size").unwrap_err().class, ErrorClass::RangeError);
/// }
/// ```
pub fn within_memory(n: u64, what: &str) -> BindingResult<usize> {
    usize::try_from(n).map_err(|_| message::out_of_range(what, n as f64, usize::MAX as u64))
}

/// A ring's capacity: [`index`], and at least 1, since a ring holds at least one item.
///
/// ```
/// use omnibuf::binding::{capacity, Value};
///
/// assert_eq!(capacity(Value::Number(4096.0), "capacity"), Ok(4096));
/// assert_eq!(
///     capacity(Value::Number(0.0), "capacity").unwrap_err().message,
///     "capacity must be between 1 and 9007199254740991, got 0",
/// );
/// assert!(capacity(Value::Number(-1.0), "capacity").is_err());
/// ```
pub fn capacity(value: Value, what: &str) -> BindingResult<usize> {
    let n = capacity_number(value, what)?;
    // Past usize only on a 32-bit target.
    usize::try_from(n).map_err(|_| message::not_between(what, n as f64, 1, usize::MAX as u64))
}

/// The first step of [`capacity`], as [`offset`] is of [`index`]: the integer in
/// `1 ..= Number.MAX_SAFE_INTEGER`, for a member that checks every argument's type before its range
/// within memory (see [`within_memory`]).
pub fn capacity_number(value: Value, what: &str) -> BindingResult<u64> {
    integer_between(value, what, 1, MAX_SAFE_INTEGER)
}

/// An upper bound (a most-bytes-to-read, a budget): [`offset`], clamped to `usize::MAX`, since no
/// target holds more than that; a 32-bit target takes every bound a 64-bit one takes.
///
/// ```
/// use omnibuf::binding::{limit, Value};
///
/// assert_eq!(limit(Value::Number(9007199254740991.0), "max"), Ok(usize::MAX.min(9007199254740991)));
/// assert!(limit(Value::Number(-1.0), "max").is_err());
/// ```
pub fn limit(value: Value, what: &str) -> BindingResult<usize> {
    offset(value, what).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// The largest block size a `VirtualBuffer` takes: a block is read and cached whole, and stored
/// documents record their block size in 32 bits.
pub const MAX_BLOCK_SIZE: u64 = u32::MAX as u64;

/// The `blockSize` option of a `VirtualBuffer`: an integer in `1 ..= MAX_BLOCK_SIZE`.
pub fn block_size(value: Value, what: &str) -> BindingResult<usize> {
    // At most 2^32 - 1: a usize on every target.
    integer_between(value, what, 1, MAX_BLOCK_SIZE).map(|n| n as usize)
}

/// The `timeoutMs` of a blocking wait: `None` when missing (`undefined` or `null`: no deadline), else
/// how long. Any number of milliseconds that is not negative (fractions and `Infinity` too, capped
/// at about 30 years); a negative one is a `RangeError`, anything else a `TypeError`.
///
/// ```
/// use std::time::Duration;
/// use omnibuf::binding::{timeout, ErrorClass, Value};
///
/// assert_eq!(timeout(Value::Number(1500.0)), Ok(Some(Duration::from_millis(1500))));
/// assert_eq!(timeout(Value::Undefined), Ok(None));
/// assert_eq!(timeout(Value::Number(-1.0)).unwrap_err().class, ErrorClass::RangeError);
/// ```
pub fn timeout(value: Value) -> BindingResult<Option<Duration>> {
    match value {
        Value::Undefined | Value::Null => Ok(None),
        Value::Number(ms) if ms >= 0.0 => Ok(Some(Duration::from_secs_f64((ms / 1000.0).min(1e9)))),
        _ => Err(message::bad_timeout(value)),
    }
}

/// A name or path (a tenant, a kind, a document's path) as the adapter read it: `text`, the string
/// as UTF-8, in which a lone surrogate became U+FFFD. Such a name would stand for another one, so it
/// is refused; `well_formed` (whether the JS string has no lone surrogate) is asked only where `text`
/// holds a U+FFFD, which a well-formed name may hold too.
///
/// ```
/// use omnibuf::binding::{name, ErrorClass};
///
/// assert_eq!(name("a\u{FFFD}".into(), || true, "tenant"), Ok("a\u{FFFD}".into()));
/// assert_eq!(name("a\u{FFFD}".into(), || false, "tenant").unwrap_err().class, ErrorClass::TypeError);
/// assert_eq!(name("plain".into(), || unreachable!(), "tenant"), Ok("plain".into()));
/// ```
pub fn name(text: String, well_formed: impl FnOnce() -> bool, what: &str) -> BindingResult<String> {
    if text.contains('\u{FFFD}') && !well_formed() {
        return Err(message::not_well_formed(what));
    }
    Ok(text)
}

/// A file's path or a document's name (`what`), as [`name`] gave it, refused if it names nothing:
/// empty, or with a NUL character. The same in both builds, where the file system or the document
/// store would give another error, or none.
///
/// ```
/// use omnibuf::binding::{path, ErrorClass};
///
/// assert_eq!(path("notes.txt".into(), "path"), Ok("notes.txt".into()));
/// assert_eq!(path(String::new(), "path").unwrap_err().message, "path must not be empty");
/// let e = path("a\0b".into(), "path").unwrap_err();
/// assert_eq!((e.class, e.code), (ErrorClass::TypeError, Some("ERR_INVALID_ARG_VALUE")));
/// ```
pub fn path(text: String, what: &str) -> BindingResult<String> {
    if text.is_empty() {
        return Err(message::unusable_path(what, "not be empty"));
    }
    if text.contains('\0') {
        return Err(message::unusable_path(what, "not contain a NUL character"));
    }
    Ok(text)
}

/// Option `option`'s value as one of `choices`: `text` is the value when it is a string, `got` what
/// it is, for the error (`message::not_one_of`) when it is none of them.
///
/// ```
/// use omnibuf::binding::{choice, Value};
///
/// assert_eq!(choice("store", &["indexeddb", "opfs"], Some("opfs"), Value::String), Ok("opfs"));
/// assert!(choice("store", &["indexeddb", "opfs"], Some("disk"), Value::String).is_err());
/// assert!(choice("store", &["indexeddb", "opfs"], None, Value::Number(5.0)).is_err());
/// ```
pub fn choice<'a>(
    option: &str,
    choices: &[&'a str],
    text: Option<&str>,
    got: Value,
) -> BindingResult<&'a str> {
    text.and_then(|text| choices.iter().find(|c| **c == text).copied())
        .ok_or_else(|| message::not_one_of(option, choices, got, text))
}

/// The values of `Circular.withCapacity()`'s `backend` option.
pub const RING_BACKENDS: [&str; 2] = ["double-mapped", "mirror-copy"];

/// The values of `VirtualBuffer.open()`'s `backend` option (how the Node addon reads a file; the
/// browser build checks it too).
pub const FILE_BACKENDS: [&str; 2] = ["positional", "mapped"];

/// The values of `VirtualBuffer.open()`'s `store` option (where the browser keeps documents; the
/// Node addon checks it too, and keeps files where their paths say).
pub const STORES: [&str; 3] = ["indexeddb", "opfs", "auto"];

/// The reason `CircularWriter.abort()` records when it is given none.
pub const NO_REASON: &str = "no reason given";

/// The reason of the native `CircularWriter.abort(reason)`: a string as it is (`text`, which the
/// adapter read), and [`NO_REASON`] when left out or empty: JS reads `abortReason` as a truth value
/// (null after a normal end), so an aborted writer's must never be `""`. An `Error` arrives as its
/// message: `js/guard.mjs` reads it in JS first, in both builds, and passes anything else on for
/// this to refuse.
///
/// ```
/// use omnibuf::binding::{abort_reason, ErrorClass, Value, NO_REASON};
///
/// assert_eq!(abort_reason(Value::String, Some("disk full".into())), Ok("disk full".into()));
/// assert_eq!(abort_reason(Value::Undefined, None), Ok(NO_REASON.into()));
/// assert_eq!(abort_reason(Value::String, Some(String::new())), Ok(NO_REASON.into()));
/// assert_eq!(abort_reason(Value::Object, None).unwrap_err().class, ErrorClass::TypeError);
/// ```
pub fn abort_reason(value: Value, text: Option<String>) -> BindingResult<String> {
    match (value, text) {
        (Value::Undefined | Value::Null, _) => Ok(NO_REASON.into()),
        (Value::String, Some(text)) if text.is_empty() => Ok(NO_REASON.into()),
        (Value::String, Some(text)) => Ok(text),
        _ => Err(message::bad_reason(value)),
    }
}

/// The `id` of a ring side's handle as the process's table of parked sides keys it: an integer in
/// `1 ..= 2^53` (ids start at 1); `None` for anything else, which no `toHandle()` returned (both
/// builds then say the handle is malformed).
///
/// ```
/// use omnibuf::binding::handle_id;
///
/// assert_eq!(handle_id(7.0), Some(7));
/// assert_eq!(handle_id(1.5), None);
/// assert_eq!(handle_id(0.0), None);
/// ```
pub fn handle_id(id: f64) -> Option<u64> {
    (id >= 1.0 && id.fract() == 0.0 && id <= (1u64 << 53) as f64).then_some(id as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::ErrorClass;

    fn fails(value: Value) -> (ErrorClass, String) {
        let e = offset(value, "at").unwrap_err();
        (e.class, e.message)
    }

    #[test]
    fn takes_integers_up_to_max_safe() {
        for n in [0.0, 1.0, 4096.0, 4294967295.0, 4294967296.0, 9007199254740991.0] {
            assert_eq!(offset(Value::Number(n), "at"), Ok(n as u64));
        }
        assert_eq!(index(Value::Number(7.0), "at"), Ok(7));
        // -0 is an integer and 0.
        assert_eq!(offset(Value::Number(-0.0), "at"), Ok(0));
    }

    #[test]
    fn refuses_other_types_without_coercion() {
        use ErrorClass::TypeError;
        let t = |v| fails(v);
        assert_eq!(t(Value::String), (TypeError, "at must be an integer, got a string".into()));
        assert_eq!(t(Value::Boolean), (TypeError, "at must be an integer, got a boolean".into()));
        assert_eq!(t(Value::Null), (TypeError, "at must be an integer, got null".into()));
        assert_eq!(t(Value::Undefined), (TypeError, "at must be an integer, got undefined".into()));
        assert_eq!(t(Value::Object), (TypeError, "at must be an integer, got an object".into()));
        assert_eq!(t(Value::BigInt), (TypeError, "at must be an integer, got a bigint".into()));
        assert_eq!(t(Value::Number(1.5)), (TypeError, "at must be an integer, got 1.5".into()));
        assert_eq!(t(Value::Number(f64::NAN)), (TypeError, "at must be an integer, got NaN".into()));
        assert_eq!(
            t(Value::Number(f64::INFINITY)),
            (TypeError, "at must be an integer, got Infinity".into())
        );
    }

    #[test]
    fn refuses_negative_and_huge_numbers_as_range_errors() {
        use ErrorClass::RangeError;
        assert_eq!(
            fails(Value::Number(-1.0)),
            (RangeError, "at must be between 0 and 9007199254740991, got -1".into())
        );
        assert_eq!(
            fails(Value::Number(9007199254740992.0)),
            (RangeError, "at must be between 0 and 9007199254740991, got 9007199254740992".into())
        );
        assert_eq!(
            fails(Value::Number(1e300)),
            (RangeError, "at must be between 0 and 9007199254740991, got 1e+300".into())
        );
    }

    #[test]
    fn limits_take_every_offset_and_clamp_it_to_usize() {
        assert_eq!(limit(Value::Number(4096.0), "max"), Ok(4096));
        let max_safe = limit(Value::Number(9007199254740991.0), "max");
        assert_eq!(max_safe, Ok(usize::try_from(MAX_SAFE_INTEGER).unwrap_or(usize::MAX)));
        assert_eq!(
            limit(Value::Number(-1.0), "max"),
            Err(message::out_of_range("max", -1.0, MAX_SAFE_INTEGER))
        );
        assert_eq!(limit(Value::Null, "max").unwrap_err().class, ErrorClass::TypeError);
    }

    #[test]
    fn block_sizes_say_their_range() {
        let e = |v| block_size(v, "blockSize").unwrap_err();
        assert_eq!(block_size(Value::Number(4096.0), "blockSize"), Ok(4096));
        assert_eq!(block_size(Value::Number(4294967295.0), "blockSize"), Ok(u32::MAX as usize));
        for (n, got) in [(0.0, "0"), (-1.0, "-1"), (4294967296.0, "4294967296")] {
            let e = e(Value::Number(n));
            assert_eq!(e.class, ErrorClass::RangeError);
            assert_eq!(e.message, format!("blockSize must be between 1 and 4294967295, got {got}"));
        }
        assert_eq!(e(Value::Number(1.5)).message, "blockSize must be an integer, got 1.5");
        assert_eq!(e(Value::String).class, ErrorClass::TypeError);
    }

    #[test]
    fn timeouts_are_non_negative_numbers_and_negative_ones_range_errors() {
        assert_eq!(timeout(Value::Null), Ok(None));
        assert_eq!(timeout(Value::Number(0.0)), Ok(Some(Duration::ZERO)));
        assert_eq!(timeout(Value::Number(f64::INFINITY)), Ok(Some(Duration::from_secs(1_000_000_000))));
        let negative = timeout(Value::Number(-1.0)).unwrap_err();
        assert_eq!(negative.class, ErrorClass::RangeError);
        assert_eq!(negative.code, Some(crate::binding::ERR_OUT_OF_RANGE));
        assert_eq!(negative.message, "timeout must be a non-negative number of milliseconds, got -1");
        for value in [Value::Number(f64::NAN), Value::String, Value::Boolean] {
            assert_eq!(timeout(value).unwrap_err().class, ErrorClass::TypeError, "{value:?}");
        }
    }

    #[test]
    fn index_is_offset_within_usize() {
        let big = Value::Number(5e9);
        match usize::BITS {
            64 => assert_eq!(index(big, "size"), Ok(5_000_000_000)),
            _ => assert_eq!(index(big, "size").unwrap_err().class, ErrorClass::RangeError),
        }
    }
}
