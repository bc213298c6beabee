//! The table of messages: every error the bindings make themselves, worded once for both builds.
//!
//! (Errors of the core, such as a `SliceError` or a `PoolError`, keep their own `Display` text; their
//! JS class comes from the `From` impls beside [`BindingError`].)

use super::error::{
    BindingError, ABORT_ERR, ERR_FEATURE_UNAVAILABLE_ON_PLATFORM, ERR_ILLEGAL_CONSTRUCTOR,
    ERR_INVALID_ARG_VALUE, ERR_INVALID_STATE, ERR_INVALID_THIS,
};
use super::value::Value;

pub use super::error::{consume_too_much, produce_too_much};

/// A number argument that is not an integer (or not a number): `TypeError`.
pub fn not_integer(what: &str, value: Value) -> BindingError {
    BindingError::type_error(format!("{what} must be an integer, got {}", value.describe()))
}

/// An integer argument outside `0 ..= max`: `RangeError`.
pub fn out_of_range(what: &str, n: f64, max: u64) -> BindingError {
    not_between(what, n, 0, max)
}

/// An integer argument outside `min ..= max`: `RangeError`.
pub fn not_between(what: &str, n: f64, min: u64, max: u64) -> BindingError {
    BindingError::range_error(format!("{what} must be between {min} and {max}, got {}", super::js_number(n)))
}

/// Memory for `n` bytes that the allocator could not give (wasm32 holds at most 4 GiB in all):
/// `RangeError`, before anything changed.
pub fn cannot_allocate(n: u64) -> BindingError {
    BindingError::range_error(format!("cannot allocate {n} bytes"))
}

/// Content of `len` bytes, more than JS numbers count exactly (a file opened, or what an edit would
/// make): `RangeError`, before anything changed, as `length` and every offset past it would be wrong.
pub fn longer_than_js_counts(len: u64, max_safe_integer: u64) -> BindingError {
    BindingError::range_error(format!(
        "the content would be {len} bytes, more than JS numbers count exactly ({max_safe_integer})"
    ))
}

/// A `timeoutMs` argument that is not a number of milliseconds: `TypeError`; a negative one:
/// `RangeError`, as every negative number.
pub fn bad_timeout(value: Value) -> BindingError {
    let message = format!("timeout must be a non-negative number of milliseconds, got {}", value.describe());
    match value {
        Value::Number(n) if n < 0.0 => BindingError::range_error(message),
        _ => BindingError::type_error(message),
    }
}

/// The abort reason of a JS writer lost without `free()` (or `abort()`): its object was garbage-collected,
/// or the thread that held it (a Node worker) exited. Ending a stream is `free()`'s job: a writer that
/// just went away may have stopped half-way, so its readers must not take what they got for all of it.
pub const LOST_WRITER: &str = "the writer was not freed: it was garbage-collected, or its thread exited";

/// An abort reason that is neither a string nor an `Error`: `TypeError`.
pub fn bad_reason(value: Value) -> BindingError {
    BindingError::type_error(format!("reason must be a string or an Error, got {}", value.describe()))
}

/// A string argument that is not a string: `TypeError`.
pub fn not_a_string(what: &str, value: Value) -> BindingError {
    BindingError::type_error(format!("{what} must be a string, got {}", value.describe()))
}

/// A file's path or a document's name (`what`) that names nothing: empty, or with a NUL character
/// (which no file system takes, and which Node's own `fs` refuses): `TypeError`. `why` says which.
pub fn unusable_path(what: &str, why: &str) -> BindingError {
    BindingError::type_error(format!("{what} must {why}")).with_code(ERR_INVALID_ARG_VALUE)
}

/// A name or path holding a lone surrogate, which UTF-8 cannot hold: it would become U+FFFD and name
/// something else (two tenants would count as one, a file would be saved under another name):
/// `TypeError`.
pub fn not_well_formed(what: &str) -> BindingError {
    BindingError::type_error(format!(
        "{what} must be well-formed Unicode, got a string with a lone surrogate"
    ))
    .with_code(ERR_INVALID_ARG_VALUE)
}

/// A bytes argument of another type: `TypeError`.
pub fn not_bytes(what: &str, got: Value) -> BindingError {
    BindingError::type_error(format!(
        "{what} must be a string, an ArrayBuffer, a SharedArrayBuffer, a typed array or a DataView, got {}",
        got.describe()
    ))
}

/// Something to copy bytes into that is no typed array, `DataView` or `ArrayBuffer`: `TypeError`.
pub fn not_writable_bytes(what: &str, got: Value) -> BindingError {
    BindingError::type_error(format!(
        "{what} must be an ArrayBuffer, a SharedArrayBuffer, a typed array or a DataView, got {}",
        got.describe()
    ))
}

/// A kind name nobody registered: `TypeError`.
pub fn unknown_kind(name: &str) -> BindingError {
    BindingError::type_error(format!(
        "unknown buffer kind {name:?}: register it first with BufferKind.register"
    ))
    .with_code(ERR_INVALID_ARG_VALUE)
}

/// A method called on an object whose contents were handed on (`how`: `"frozen"`) or released
/// (`"freed"`): `Error`.
pub fn used_up(class: &str, how: &str) -> BindingError {
    BindingError::error(format!("this {class} was {how} and cannot be used any more"))
        .with_code(ERR_INVALID_STATE)
}

/// A method or getter of `class` called with `this` of another class (or no object): `TypeError`.
pub fn wrong_receiver(class: &str, member: &str) -> BindingError {
    BindingError::type_error(format!("{class}.{member}: called on an object that is not a {class}"))
        .with_code(ERR_INVALID_THIS)
}

/// A class called without `new`: the `TypeError` (without a `code`) the engine gives for a JS class,
/// as the wasm build's classes are.
pub fn called_without_new(class: &str) -> BindingError {
    BindingError {
        code: None,
        ..BindingError::type_error(format!("Class constructor {class} cannot be invoked without 'new'"))
    }
}

/// `new Class()` of a class JS cannot construct: `TypeError`, saying what makes one.
pub fn no_constructor(class: &str) -> BindingError {
    let instead = match class {
        "ZeroCopyBuffer" => "ZeroCopyBuffer.from()",
        "PooledBuffer" => "BufferPool.tryAcquire() or acquire()",
        "BufferKind" => "BufferKind.register()",
        "Circular" | "CircularWriter" => "Circular.withCapacity()",
        "CircularReader" => "CircularWriter.addReader()",
        "VirtualBuffer" => "VirtualBuffer.open(), VirtualBuffer.fromBytes() or VirtualBuffer.import()",
        _ => "the API that returns one",
    };
    BindingError::type_error(format!("{class} has no public constructor: use {instead}"))
        .with_code(ERR_ILLEGAL_CONSTRUCTOR)
}

/// A range `start .. end` that does not fit a buffer of `len` bytes (or runs backwards): the core's
/// `SliceError` as a `RangeError`, in its words, for offsets past a `usize` too (wasm32's, as JS
/// passes them: the addon, on 64 bits, names the same numbers).
pub fn out_of_bounds(start: u64, end: u64, len: u64) -> BindingError {
    BindingError::range_error(crate::buffer::slice_message(start, end, len))
}

/// A pool request of more bytes than the largest class: the core's `PoolError::NoClassFits` in its
/// words, for a size past a `usize` too.
pub fn no_class_holds(requested: u64, largest: usize) -> BindingError {
    BindingError::range_error(format!(
        "no size class holds {requested} bytes (the largest class is {largest} bytes)"
    ))
}

/// A byte ring larger than memory can hold: the core's `RingMemoryError::TooLarge` in its words, for
/// a capacity past a `usize` too.
pub fn ring_too_large(bytes: u64) -> BindingError {
    BindingError::range_error(format!("a ring of {bytes} × 1-byte items is too large"))
}

/// An argument that must be an object of `class` (`equals(other)`): `TypeError`. (An object of
/// another class is "an object": naming its class would mean reading its properties, which may run
/// the caller's code.)
pub fn not_instance(member: &str, what: &str, class: &str, got: Value) -> BindingError {
    BindingError::type_error(format!("{member}: {what} must be a {class}, got {}", got.describe()))
}

/// `options` that is not an object: `TypeError`.
pub fn options_not_object(got: Value) -> BindingError {
    BindingError::type_error(format!("options must be an object, got {}", got.describe()))
}

/// `options.key` that is not a number: `TypeError`.
pub fn option_not_number(key: &str, got: Value) -> BindingError {
    BindingError::type_error(format!("options.{key} must be a number, got {}", got.describe()))
}

/// `options.key` that is not a boolean: `TypeError`.
pub fn option_not_boolean(key: &str, got: Value) -> BindingError {
    BindingError::type_error(format!("options.{key} must be a boolean, got {}", got.describe()))
}

/// `new BufferPool()` without an options object: `TypeError`.
pub fn pool_needs_options(got: Value) -> BindingError {
    BindingError::type_error(format!(
        "BufferPool needs an options object, e.g. {{ budget: 1 << 20 }}, got {}",
        got.describe()
    ))
}

/// `new BufferPool(options)` without `options.budget`: `TypeError`.
pub fn budget_required() -> BindingError {
    BindingError::type_error("options.budget is required")
}

/// `options.classes` that is not an array: `TypeError`.
pub fn classes_not_array(got: Value) -> BindingError {
    BindingError::type_error(format!("options.classes must be an array of sizes, got {}", got.describe()))
}

/// An item of `options.classes` that is not a number: `TypeError`.
pub fn class_not_number(got: Value) -> BindingError {
    BindingError::type_error(format!("options.classes must hold numbers, got {}", got.describe()))
}

/// `options.tenantQuotas` that is not an object: `TypeError`.
pub fn tenant_quotas_not_object(got: Value) -> BindingError {
    BindingError::type_error(format!(
        "options.tenantQuotas must be an object of {{ tenant: bytes }}, got {}",
        got.describe()
    ))
}

/// A quota of `options.tenantQuotas` that is not a number: `TypeError`.
pub fn tenant_quota_not_number(tenant: &str, got: Value) -> BindingError {
    BindingError::type_error(format!(
        "options.tenantQuotas.{tenant} must be a number, got {}",
        got.describe()
    ))
}

/// `options.key` that cannot be read (a throwing getter): `TypeError`.
pub fn option_unreadable(key: &str) -> BindingError {
    BindingError::type_error(format!("options.{key} cannot be read"))
}

/// `options.signal` of a wait (`member`, e.g. `"BufferPool.acquire"`) that is not an `AbortSignal`:
/// `TypeError`.
pub fn not_a_signal(member: &str, got: Value) -> BindingError {
    BindingError::type_error(format!(
        "{member}: options.signal must be an AbortSignal, got {}",
        got.describe()
    ))
}

/// The message of the `AbortError` a wait rejects with when its signal aborts (Node's own, with its
/// code `ABORT_ERR`); the JS layer makes the error, of its own class, with the signal's reason as its
/// `cause`.
pub fn aborted() -> BindingError {
    BindingError::error("The operation was aborted").with_code(ABORT_ERR)
}

/// What a page must serve for a ring to cross threads in the browser, in every error that needs it.
pub const CROSS_ORIGIN_ISOLATION: &str = "cross-origin isolation: serve the page with the headers \
     `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`";

/// `toHandle()`/`fromHandle()` in the single-thread wasm build in the browser (`member`:
/// `"CircularReader.toHandle()"`): `Error`. The browser entry loads the threaded build only where the
/// page is cross-origin isolated. (In Node: [`no_handles_in_node`].)
pub fn no_threads(member: &str) -> BindingError {
    BindingError::error(format!(
        "{member} is not available in the single-thread wasm build, which the browser entry loads \
         where SharedArrayBuffer is unavailable (crossOriginIsolated is false): a ring crosses \
         threads in the threaded build, which needs {CROSS_ORIGIN_ISOLATION}"
    ))
    .with_code(ERR_INVALID_STATE)
}

/// `toHandle()`/`fromHandle()` of the wasm build in Node (`"omnibuf/wasm"`), which is the
/// single-thread build: `Error`. Nothing about the process would change that; the addon's rings
/// cross worker threads.
pub fn no_handles_in_node(member: &str) -> BindingError {
    BindingError::error(format!(
        "{member} is not available in the wasm build in Node (\"omnibuf/wasm\"), whose rings stay on \
         the thread that made them: the addon's rings (\"omnibuf\") cross worker threads"
    ))
    .with_code(ERR_FEATURE_UNAVAILABLE_ON_PLATFORM)
}

/// `sliceSync()` where the thread must not block (`class`: `"CircularReader"`): `Error`. Both Node
/// builds say this on the main thread (the wasm build, which never blocks, says
/// [`never_blocks_in_node`] in a worker), so it names no place where blocking works; the threaded browser build, whose dedicated
/// workers do block, says [`blocks_in_workers_only`].
pub fn no_blocking(class: &str, here: &str) -> BindingError {
    BindingError::error(format!(
        "{class}.sliceSync() would block {here}, which must never block: use sliceAsync(), or slice(), \
         which returns at once"
    ))
    .with_code(ERR_INVALID_STATE)
}

/// `sliceSync()` on the page or in a worklet of the threaded browser build, whose dedicated workers
/// may block: [`no_blocking`], and where it works.
pub fn blocks_in_workers_only(class: &str, here: &str) -> BindingError {
    BindingError::error(format!(
        "{class}.sliceSync() would block {here}, which must never block: use sliceAsync(), or slice(), \
         which returns at once, or sliceSync() in a dedicated worker"
    ))
    .with_code(ERR_INVALID_STATE)
}

/// `produce(n)` in the single-thread wasm build after the program transferred the `ArrayBuffer` of
/// the writer's slice away (`postMessage` or `structuredClone` with `transfer`): the bytes written
/// into the slice left with it, and what is published instead would be other bytes: `Error`.
pub fn slice_transferred() -> BindingError {
    BindingError::error(
        "CircularWriter.produce: the ArrayBuffer of the writer's slice was transferred away, and the bytes \
         written into it with it: take a new slice() and write them again",
    )
    .with_code(ERR_INVALID_STATE)
}

/// `readInto(target)` given one of the reader's own slices (or a view of its memory): `TypeError`.
/// The read detaches the reader's slices before it copies, so the target would hold nothing, and a
/// loop waiting for it to be filled would never end.
pub fn read_into_own_slice() -> BindingError {
    BindingError::type_error(
        "CircularReader.readInto: target is a view of this reader's own slice, which the read detaches: \
         read the slice itself and consume() it, or readInto() memory of your own",
    )
    .with_code(ERR_INVALID_ARG_VALUE)
}

/// `sliceSync()` in the single-thread wasm build in the browser, which never blocks (`class`:
/// `"CircularReader"`): `Error`. (In a Node worker: [`never_blocks_in_node`].)
pub fn never_blocks(class: &str) -> BindingError {
    BindingError::error(format!("{class}.sliceSync(): the wasm build never blocks; use sliceAsync()"))
        .with_code(ERR_INVALID_STATE)
}

/// `sliceSync()` of the wasm build in a Node worker (`"omnibuf/wasm"`; `class`: `"CircularReader"`),
/// which never blocks, where the addon's does: `Error`, as [`no_handles_in_node`].
pub fn never_blocks_in_node(class: &str) -> BindingError {
    BindingError::error(format!(
        "{class}.sliceSync(): the wasm build in Node (\"omnibuf/wasm\") never blocks; use sliceAsync(), or \
         the addon (\"omnibuf\"), whose sliceSync() blocks in workers"
    ))
    .with_code(ERR_FEATURE_UNAVAILABLE_ON_PLATFORM)
}

/// `VirtualBuffer.readInto()` on a document that is not in OPFS: `Error`.
pub fn read_into_needs_opfs() -> BindingError {
    BindingError::error(
        "VirtualBuffer.readInto() reads OPFS documents at once, in the dedicated worker that holds them; \
         this buffer's document is in IndexedDB or in memory: use read()",
    )
    .with_code(ERR_INVALID_STATE)
}

/// A browser-only member of `VirtualBuffer` (`member`: `"VirtualBuffer.list()"`) called in the Node
/// addon, whose documents are files: `Error`.
pub fn browser_only(member: &str) -> BindingError {
    BindingError::error(format!(
        "{member} is browser only: the Node addon's documents are files, opened with \
         VirtualBuffer.open(path) (\"omnibuf/wasm\" has it in Node, over an IndexedDB polyfill)"
    ))
    .with_code(ERR_FEATURE_UNAVAILABLE_ON_PLATFORM)
}

/// A Node stream form (`member`: `"CircularReader.nodeReadable()"`) called in the browser: `Error`
/// naming its WHATWG counterpart.
pub fn node_only(member: &str) -> BindingError {
    let whatwg = if member.ends_with("nodeWritable()") { "writableStream()" } else { "readableStream()" };
    BindingError::error(format!(
        "{member} is in the Node entries only: in the browser, use its WHATWG stream form, {whatwg}"
    ))
    .with_code(ERR_FEATURE_UNAVAILABLE_ON_PLATFORM)
}

/// A stream form or async iteration (`member`: `"CircularReader.slices()"`) called in
/// `omnibuf/worklet`, which has the ring's own members only: `Error`.
pub fn not_in_worklet(member: &str) -> BindingError {
    BindingError::error(format!(
        "{member} is not in \"omnibuf/worklet\", which has the ring's own members and readInto(); \
         the stream forms and async iteration are in the browser entry"
    ))
    .with_code(ERR_FEATURE_UNAVAILABLE_ON_PLATFORM)
}

/// A `fromHandle()` argument that is not what `toHandle()` returned: `TypeError` (the addon's words).
pub fn malformed_handle(class: &str) -> BindingError {
    BindingError::type_error(format!("{class}.fromHandle needs the object toHandle() returned"))
}

/// A handle of the other side's class: `TypeError` (a handle, of no use here).
pub fn handle_of_other_class(named: &str, class: &str) -> BindingError {
    BindingError::type_error(format!("this handle is of a {named}, not a {class}"))
        .with_code(ERR_INVALID_ARG_VALUE)
}

/// A handle claimed before, or one this copy of the library never made: made by another copy
/// (another process's, or a second copy of the addon that a dependency brought into this one), or
/// made up: `Error` (what it stood for was handed on, is that copy's to claim, or never was).
pub fn handle_gone() -> BindingError {
    BindingError::error(
        "this handle was already claimed, or this copy of omnibuf never made it (a handle of another \
         process's copy, or of a dependency's own copy in this one, is that copy's to claim)",
    )
    .with_code(ERR_INVALID_STATE)
}

/// A ring's `options` that are not an object: `TypeError`.
pub fn ring_options_not_object(got: Value) -> BindingError {
    BindingError::type_error(format!(
        "options must be an object, e.g. {{ backend: 'mirror-copy' }}, got {}",
        got.describe()
    ))
}

/// An option `name` that must be one of `choices` (each a string): `TypeError`, whose code says
/// whether it was a string (`ERR_INVALID_ARG_VALUE`: a value of no use, quoted in the message) or not
/// (the wrong type). `string` is the option's text when it is a string.
pub fn not_one_of(name: &str, choices: &[&str], got: Value, string: Option<&str>) -> BindingError {
    let quoted: Vec<String> = choices.iter().map(|c| format!("{c:?}")).collect();
    let got = match string {
        Some(text) => format!("{text:?}"),
        None => got.describe(),
    };
    let error =
        BindingError::type_error(format!("options.{name} must be {}, got {got}", quoted.join(" or ")));
    if string.is_some() {
        error.with_code(ERR_INVALID_ARG_VALUE)
    } else {
        error
    }
}

/// A handle made over another wasm memory than this thread's: `Error`.
pub fn handle_of_other_memory(class: &str) -> BindingError {
    BindingError::error(format!(
        "this handle comes from another wasm memory than this thread's: call init(handle) in this \
         thread before {class}.fromHandle(handle), so that both threads share one memory"
    ))
    .with_code(ERR_INVALID_STATE)
}

/// A message for JS glue code by number (`js/guard.mjs`, `js/waits.mjs` and the addon's JS classes
/// ask the one table for their errors rather than word them): 0 wrong receiver, 1 used up, 2 not an
/// instance, 3 no constructor, 4 not an `AbortSignal`, 5 an option that is not a boolean, 6 options
/// that are not an object, 7 aborted, 8 a `sliceSync()` that would block where nothing may, 9 a
/// writer's slice transferred away before `produce()`, 10 a bytes argument of another type, 11 an
/// option that cannot be read, 12 a class called without `new`, 13 `readInto()` given the reader's
/// own slice, 14 a browser-only member called in the Node addon, 15 a Node-only member called in the
/// browser, 16 a member `omnibuf/worklet` lacks. `a`,
/// `b`, `c` as the functions above take them, and `got` the value given, for the messages that say
/// what they got. `None` for an unknown number.
///
/// ```
/// use omnibuf::binding::message::by_number;
/// use omnibuf::binding::Value;
///
/// let e = by_number(0, "PooledBuffer", "view", "", Value::Undefined).unwrap();
/// assert_eq!(e.message, "PooledBuffer.view: called on an object that is not a PooledBuffer");
/// assert_eq!(e.code, Some("ERR_INVALID_THIS"));
/// assert_eq!(
///     by_number(3, "ZeroCopyBuffer", "", "", Value::Undefined).unwrap().message,
///     "ZeroCopyBuffer has no public constructor: use ZeroCopyBuffer.from()"
/// );
/// let e = by_number(4, "BufferPool.acquire", "", "", Value::Boolean).unwrap();
/// assert_eq!(e.message, "BufferPool.acquire: options.signal must be an AbortSignal, got a boolean");
/// assert_eq!(by_number(7, "", "", "", Value::Undefined).unwrap().code, Some("ABORT_ERR"));
/// assert!(by_number(99, "", "", "", Value::Undefined).is_none());
/// ```
pub fn by_number(which: u32, a: &str, b: &str, c: &str, got: Value) -> Option<BindingError> {
    Some(match which {
        0 => wrong_receiver(a, b),
        1 => used_up(a, b),
        2 => not_instance(a, b, c, got),
        3 => no_constructor(a),
        4 => not_a_signal(a, got),
        5 => option_not_boolean(a, got),
        6 => options_not_object(got),
        7 => aborted(),
        8 => no_blocking(a, b),
        9 => slice_transferred(),
        10 => not_bytes(a, got),
        11 => option_unreadable(a),
        12 => called_without_new(a),
        13 => read_into_own_slice(),
        14 => browser_only(a),
        15 => node_only(a),
        16 => not_in_worklet(a),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::ErrorClass;

    #[test]
    fn out_of_bounds_is_the_cores_slice_error() {
        let e = out_of_bounds(2, 7, 3);
        assert_eq!(e.class, ErrorClass::RangeError);
        assert_eq!(e.message, "range 2..7 is out of bounds for a buffer of 3 bytes");
        assert_eq!(e.code, Some(crate::binding::ERR_OUT_OF_RANGE));
    }

    /// The messages worded here for numbers past a wasm32 `usize` say what the core's errors say for
    /// the numbers that fit, so that both builds give one message.
    #[test]
    fn messages_for_numbers_past_usize_are_the_cores_words() {
        use crate::platform::ring_memory::RingMemoryError;
        let slice = crate::SliceError { start: 2, end: 7, len: 3 };
        assert_eq!(out_of_bounds(2, 7, 3).message, slice.to_string());
        assert_eq!(BindingError::from(slice).message, slice.to_string());
        let backwards = crate::SliceError { start: 2, end: 1, len: 3 };
        assert_eq!(out_of_bounds(2, 1, 3).message, backwards.to_string());
        let pool = crate::PoolError::NoClassFits { requested: 5000, largest: 4096 };
        assert_eq!(no_class_holds(5000, 4096).message, pool.to_string());
        assert_eq!(BindingError::from(pool).message, no_class_holds(5000, 4096).message);
        let ring = crate::ring::RingError::Memory(RingMemoryError::TooLarge { items: 1 << 20, item_size: 1 });
        assert_eq!(ring_too_large(1 << 20).message, ring.to_string());
        assert_eq!(BindingError::from(ring).message, ring_too_large(1 << 20).message);
        let produce = crate::ring::RingError::ProduceTooMuch { requested: 9, free: 1 };
        assert_eq!(BindingError::from(produce).message, "cannot produce 9 bytes: only 1 is free");
        let consume = crate::ring::RingError::ConsumeTooMuch { requested: 1, available: 0 };
        assert_eq!(BindingError::from(consume).message, "cannot consume 1 byte: only 0 are available");
        let past = (1u64 << 32) + 1;
        assert_eq!(produce_too_much(past, 8).message, "cannot produce 4294967297 bytes: only 8 are free");
    }

    #[test]
    fn every_private_constructor_says_what_makes_one() {
        for (class, instead) in [
            ("PooledBuffer", "BufferPool.tryAcquire() or acquire()"),
            ("CircularWriter", "Circular.withCapacity()"),
            ("CircularReader", "CircularWriter.addReader()"),
        ] {
            let e = no_constructor(class);
            assert_eq!(e.message, format!("{class} has no public constructor: use {instead}"));
            assert_eq!(e.code, Some(ERR_ILLEGAL_CONSTRUCTOR));
        }
    }

    #[test]
    fn every_node_stream_form_names_its_own_whatwg_form() {
        for (member, whatwg) in [
            ("CircularReader.nodeReadable()", "readableStream()"),
            ("CircularWriter.nodeWritable()", "writableStream()"),
            ("VirtualBuffer.nodeReadable()", "readableStream()"),
        ] {
            let e = node_only(member);
            assert!(e.message.ends_with(&format!("use its WHATWG stream form, {whatwg}")), "{}", e.message);
            assert_eq!(e.code, Some(ERR_FEATURE_UNAVAILABLE_ON_PLATFORM));
        }
    }
}
