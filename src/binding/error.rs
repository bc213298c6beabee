//! The errors JS sees: a class and a message.

use crate::platform::os_error::node_code;
use std::fmt::Display;

/// The JS class an error is thrown as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Misuse that is neither a type nor a range problem (an object used after `free()`), and
    /// failures of the world (I/O, storage).
    Error,
    /// A value of the wrong type, a wrong receiver, an unknown kind, a malformed option.
    TypeError,
    /// A number out of range, a request that can never be served.
    RangeError,
}

/// An error on its way to JS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingError {
    /// The class it is thrown as.
    pub class: ErrorClass,
    /// Its message.
    pub message: String,
    /// Its `code` property, as Node's own errors have one (`ERR_INVALID_ARG_TYPE`, `ERR_OUT_OF_RANGE`,
    /// ...). Of failures of the world, whose message says what happened, only a system's I/O errors
    /// have one: the code Node's `fs` gives the same failure (`ENOENT`, `EACCES`, ...).
    pub code: Option<&'static str>,
}

/// The `code` of a wrong type of argument (the default of a `TypeError`).
pub const ERR_INVALID_ARG_TYPE: &str = "ERR_INVALID_ARG_TYPE";
/// The `code` of an argument of the right type but a value that cannot be used.
pub const ERR_INVALID_ARG_VALUE: &str = "ERR_INVALID_ARG_VALUE";
/// The `code` of a number out of range (the default of a `RangeError`).
pub const ERR_OUT_OF_RANGE: &str = "ERR_OUT_OF_RANGE";
/// The `code` of a `Buffer` longer than the runtime makes (Node 20: 4 GiB), as Node's own.
pub const ERR_BUFFER_TOO_LARGE: &str = "ERR_BUFFER_TOO_LARGE";
/// The `code` of a call on an object that was freed or handed on.
pub const ERR_INVALID_STATE: &str = "ERR_INVALID_STATE";
/// The `code` of a method called with `this` of another class.
pub const ERR_INVALID_THIS: &str = "ERR_INVALID_THIS";
/// The `code` of `new` on a class JS cannot construct.
pub const ERR_ILLEGAL_CONSTRUCTOR: &str = "ERR_ILLEGAL_CONSTRUCTOR";
/// The `code` of a member one build has and this one lacks (Node's own for a feature its platform
/// lacks).
pub const ERR_FEATURE_UNAVAILABLE_ON_PLATFORM: &str = "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM";

/// The `code` of Node's `AbortError`: a wait whose `AbortSignal` aborted.
pub const ABORT_ERR: &str = "ABORT_ERR";

/// A result whose error goes to JS.
pub type BindingResult<T> = Result<T, BindingError>;

impl BindingError {
    /// An `Error`.
    pub fn error(message: impl Display) -> Self {
        BindingError { class: ErrorClass::Error, message: message.to_string(), code: None }
    }

    /// A `TypeError`.
    pub fn type_error(message: impl Display) -> Self {
        BindingError {
            class: ErrorClass::TypeError,
            message: message.to_string(),
            code: Some(ERR_INVALID_ARG_TYPE),
        }
    }

    /// A `RangeError`.
    pub fn range_error(message: impl Display) -> Self {
        BindingError {
            class: ErrorClass::RangeError,
            message: message.to_string(),
            code: Some(ERR_OUT_OF_RANGE),
        }
    }

    /// The same error with another `code`.
    pub fn with_code(self, code: &'static str) -> Self {
        BindingError { code: Some(code), ..self }
    }
}

impl Display for BindingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.class, self.message)
    }
}

impl std::error::Error for BindingError {}

/// The class of each of the core's errors, for both builds.
impl From<crate::PoolError> for BindingError {
    fn from(e: crate::PoolError) -> Self {
        use crate::PoolError::*;
        match e {
            InvalidConfig(_) => BindingError::type_error(e).with_code(ERR_INVALID_ARG_VALUE),
            AllocationFailed { .. } => BindingError::error(e),
            _ => BindingError::range_error(e),
        }
    }
}

impl From<crate::ring::RingError> for BindingError {
    fn from(e: crate::ring::RingError) -> Self {
        use crate::platform::ring_memory::RingMemoryError;
        use crate::ring::RingError;
        match e {
            // A backend this system lacks: Node's code for a feature its platform lacks.
            RingError::Memory(RingMemoryError::DoubleMappingUnavailable) => {
                BindingError::error(e).with_code(ERR_FEATURE_UNAVAILABLE_ON_PLATFORM)
            }
            // The system refused the memory: the world, not the caller, with the system's code.
            RingError::Memory(RingMemoryError::Map(ref io)) => {
                BindingError { code: node_code(io), ..BindingError::error(e) }
            }
            // The bindings' rings are byte rings: their counts are of bytes, not the core's items.
            RingError::ProduceTooMuch { requested, free } => produce_too_much(requested as u64, free),
            RingError::ConsumeTooMuch { requested, available } => {
                consume_too_much(requested as u64, available)
            }
            _ => BindingError::range_error(e),
        }
    }
}

impl From<crate::KindError> for BindingError {
    fn from(e: crate::KindError) -> Self {
        match e {
            crate::KindError::InvalidName { .. } => {
                BindingError::type_error(e).with_code(ERR_INVALID_ARG_VALUE)
            }
            // Not the caller's argument: what the process registered before.
            crate::KindError::RegistryFull => BindingError::error(e),
        }
    }
}

impl From<crate::SliceError> for BindingError {
    fn from(e: crate::SliceError) -> Self {
        BindingError::range_error(e)
    }
}

impl From<crate::vbuf::VbufError> for BindingError {
    fn from(e: crate::vbuf::VbufError) -> Self {
        use crate::platform::persistence::PersistenceError;
        use crate::vbuf::VbufError::*;
        match e {
            OutOfRange { .. }
            | NoSuchLine { .. }
            | AllocationFailed { .. }
            | TooLong { .. }
            | Persistence(PersistenceError::OutOfRange { .. }) => BindingError::range_error(e),
            // A file changed underneath, I/O, the side file, a cancelled scan: the world, not the caller.
            _ => {
                let code = match &e {
                    // The layer's own error, which its chain of causes skips (it is transparent).
                    SideFile(io) | Persistence(PersistenceError::Io(io)) => node_code(io),
                    _ => io_error_in(&e).and_then(node_code),
                };
                BindingError { code, ..BindingError::error(e) }
            }
        }
    }
}

/// The first I/O error in `e`'s chain of sources, `e` itself included.
fn io_error_in<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    std::iter::successors(Some(e), |e| e.source()).find_map(|e| e.downcast_ref::<std::io::Error>())
}

/// `produce(n)` of a byte ring, of more bytes than are free: `RangeError`, in the bindings' words for
/// the core's `RingError::ProduceTooMuch` (whose counts are items), for counts past a `usize` too.
/// (Also in [`message`](super::message), with the table's other words.)
pub fn produce_too_much(requested: u64, free: usize) -> BindingError {
    BindingError::range_error(format!("cannot produce {}: only {} free", bytes(requested), how_many(free)))
}

/// `consume(n)` of a byte ring, of more bytes than are available: `RangeError`, as
/// [`produce_too_much`].
pub fn consume_too_much(requested: u64, available: usize) -> BindingError {
    BindingError::range_error(format!(
        "cannot consume {}: only {} available",
        bytes(requested),
        how_many(available)
    ))
}

/// `n` bytes, or 1 byte.
fn bytes(n: u64) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{n} bytes")
    }
}

/// `n are`, or 1 is.
fn how_many(n: usize) -> String {
    if n == 1 {
        "1 is".to_string()
    } else {
        format!("{n} are")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::persistence::PersistenceError;
    use crate::vbuf::VbufError;
    use std::io::{Error, ErrorKind};

    #[test]
    fn a_system_io_failure_of_a_document_has_the_code_node_fs_gives_it() {
        let missing = Error::new(ErrorKind::NotFound, "opening notes.txt: No such file or directory");
        let e = BindingError::from(VbufError::Persistence(PersistenceError::Io(missing)));
        assert_eq!((e.class, e.code), (ErrorClass::Error, Some("ENOENT")));
        assert!(e.message.contains("opening notes.txt"), "the message is the system's: {}", e.message);
        let full = BindingError::from(VbufError::SideFile(Error::from(ErrorKind::StorageFull)));
        assert_eq!(full.code, Some("ENOSPC"));
        // An I/O error of no number or kind Node names, and a failure that is no system's, have none.
        let other = BindingError::from(VbufError::Persistence(PersistenceError::Io(Error::other("?"))));
        assert_eq!(other.code, None);
        let corrupt = BindingError::from(VbufError::Persistence(PersistenceError::Corrupt("x".into())));
        assert_eq!((corrupt.class, corrupt.code), (ErrorClass::Error, None));
    }

    #[test]
    fn ring_memory_the_system_lacks_or_refuses_has_a_code() {
        use crate::platform::ring_memory::RingMemoryError;
        use crate::ring::RingError;
        let lacked = BindingError::from(RingError::Memory(RingMemoryError::DoubleMappingUnavailable));
        assert_eq!(
            (lacked.class, lacked.code),
            (ErrorClass::Error, Some(ERR_FEATURE_UNAVAILABLE_ON_PLATFORM))
        );
        let refused =
            BindingError::from(RingError::Memory(RingMemoryError::Map(Error::from(ErrorKind::OutOfMemory))));
        assert_eq!((refused.class, refused.code), (ErrorClass::Error, Some("ENOMEM")));
        assert!(refused.message.starts_with("mapping ring memory failed"), "{}", refused.message);
    }
}
