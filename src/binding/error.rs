//! The errors JS sees: a class and a message.

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
}

/// A result whose error goes to JS.
pub type BindingResult<T> = Result<T, BindingError>;

impl BindingError {
    /// An `Error`.
    pub fn error(message: impl Display) -> Self {
        BindingError { class: ErrorClass::Error, message: message.to_string() }
    }

    /// A `TypeError`.
    pub fn type_error(message: impl Display) -> Self {
        BindingError { class: ErrorClass::TypeError, message: message.to_string() }
    }

    /// A `RangeError`.
    pub fn range_error(message: impl Display) -> Self {
        BindingError { class: ErrorClass::RangeError, message: message.to_string() }
    }

    /// The same error with what failed said first, e.g. "VirtualBuffer.read: ...".
    pub fn context(self, what: impl Display) -> Self {
        BindingError { class: self.class, message: format!("{what}: {}", self.message) }
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
            InvalidConfig(_) => BindingError::type_error(e),
            AllocationFailed { .. } => BindingError::error(e),
            _ => BindingError::range_error(e),
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
            OutOfRange { .. } | NoSuchLine { .. } | Persistence(PersistenceError::OutOfRange { .. }) => {
                BindingError::range_error(e)
            }
            // A file changed underneath, I/O, the side file, a cancelled scan: the world, not the caller.
            _ => BindingError::error(e),
        }
    }
}
