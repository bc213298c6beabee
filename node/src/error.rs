//! The errors JS sees: a class (`Error`, `TypeError`, `RangeError`) and a message.
//!
//! Methods compute an [`ApiResult`] and throw at the boundary with [`OrThrow::or_throw`]: napi-rs would
//! throw every returned error as a plain `Error`, so the right class is thrown here and napi-rs is told
//! that an exception is already pending.

use std::fmt::Display;

use napi::{Env, Status};

/// The JS class of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// Misuse that is neither a type nor a range problem (an object used after `free()`).
    Error,
    /// A value of the wrong type, an unknown kind, a malformed option.
    TypeError,
    /// A number out of range, a request that can never be served.
    RangeError,
}

/// An error on its way to JS.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) class: ErrorClass,
    pub(crate) message: String,
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub(crate) fn error(message: impl Display) -> Self {
        ApiError { class: ErrorClass::Error, message: message.to_string() }
    }

    pub(crate) fn type_error(message: impl Display) -> Self {
        ApiError { class: ErrorClass::TypeError, message: message.to_string() }
    }

    pub(crate) fn range_error(message: impl Display) -> Self {
        ApiError { class: ErrorClass::RangeError, message: message.to_string() }
    }

    /// A method called on an object whose contents were handed on (`"frozen"`) or released
    /// (`"freed"`).
    pub(crate) fn used_up(class: &str, how: &str) -> Self {
        ApiError::error(format!("this {class} was {how} and cannot be used any more"))
    }

    /// The same error with `what` failed said first, e.g. "cannot open notes.txt: ...".
    pub(crate) fn context(self, what: impl Display) -> Self {
        ApiError { class: self.class, message: format!("{what}: {}", self.message) }
    }

    /// Throws this error in `env`; the returned error tells napi-rs that an exception is pending.
    pub(crate) fn throw(self, env: &Env) -> napi::Error {
        let thrown = match self.class {
            ErrorClass::Error => env.throw_error(&self.message, None),
            ErrorClass::TypeError => env.throw_type_error(&self.message, None),
            ErrorClass::RangeError => env.throw_range_error(&self.message, None),
        };
        match thrown {
            Ok(()) => napi::Error::new(Status::PendingException, self.message),
            // Could not throw (the environment is shutting down): let napi-rs try with a plain Error.
            Err(_) => napi::Error::from_reason(self.message),
        }
    }
}

/// Throwing an [`ApiResult`]'s error in JS.
pub(crate) trait OrThrow<T> {
    fn or_throw(self, env: &Env) -> napi::Result<T>;
}

impl<T> OrThrow<T> for ApiResult<T> {
    fn or_throw(self, env: &Env) -> napi::Result<T> {
        self.map_err(|e| e.throw(env))
    }
}

impl From<omnibuf::PoolError> for ApiError {
    fn from(e: omnibuf::PoolError) -> Self {
        use omnibuf::PoolError::*;
        match e {
            InvalidConfig(_) => ApiError::type_error(e),
            AllocationFailed { .. } => ApiError::error(e),
            _ => ApiError::range_error(e),
        }
    }
}

impl From<omnibuf::vbuf::VbufError> for ApiError {
    fn from(e: omnibuf::vbuf::VbufError) -> Self {
        use omnibuf::platform::persistence::PersistenceError;
        use omnibuf::vbuf::VbufError::*;
        match e {
            OutOfRange { .. } | NoSuchLine { .. } | Persistence(PersistenceError::OutOfRange { .. }) => {
                ApiError::range_error(e)
            }
            // A file changed underneath, I/O, the side file, a cancelled scan: the world, not the caller.
            _ => ApiError::error(e),
        }
    }
}
