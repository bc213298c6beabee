//! The errors JS sees: a class (`Error`, `TypeError`, `RangeError`) and a message, as the binding
//! core (`omnibuf::binding`) classifies and words them; this adapter throws them through Node-API.
//!
//! Methods compute an [`ApiResult`] and throw at the boundary with [`OrThrow::or_throw`]: napi-rs would
//! throw every returned error as a plain `Error`, so the right class is thrown here and napi-rs is told
//! that an exception is already pending.

use std::fmt::Display;

use napi::{Env, Status};

pub(crate) use omnibuf::binding::ErrorClass;
use omnibuf::binding::{message, BindingError};

/// An error on its way to JS.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) class: ErrorClass,
    pub(crate) message: String,
    /// The error's `code` property (see `omnibuf::binding::BindingError::code`).
    pub(crate) code: Option<&'static str>,
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub(crate) fn error(message: impl Display) -> Self {
        BindingError::error(message).into()
    }

    pub(crate) fn type_error(message: impl Display) -> Self {
        BindingError::type_error(message).into()
    }

    pub(crate) fn range_error(message: impl Display) -> Self {
        BindingError::range_error(message).into()
    }

    /// What a platform call's failure says to JS: a length Node-API refused
    /// (`platform::values::too_large`) is a `RangeError` with Node's code for it, anything else an
    /// `Error`.
    pub(crate) fn from_platform(e: napi::Error) -> Self {
        if e.status == Status::InvalidArg {
            BindingError::range_error(e.reason).with_code(omnibuf::binding::ERR_BUFFER_TOO_LARGE).into()
        } else {
            ApiError::error(e.reason)
        }
    }

    /// A method called on an object whose contents were handed on (`"frozen"`) or released
    /// (`"freed"`).
    pub(crate) fn used_up(class: &str, how: &str) -> Self {
        message::used_up(class, how).into()
    }

    /// `what` refused because a view's memory was moved out of the addon's reach (a mover that
    /// js/addon-moves.mjs does not stop) and may still be shown: the bytes are left as they are until
    /// that memory is collected (node/src/platform/views.rs). Also what an environment shutting down
    /// gives, where views cannot be detached.
    pub(crate) fn moved_view(what: &str) -> Self {
        BindingError::error(format!(
            "{what}: a view's ArrayBuffer was moved out of reach (transferred) and may still show its \
             bytes, so they stay as they are until it is collected; hand on copies of views"
        ))
        .with_code(omnibuf::binding::ERR_INVALID_STATE)
        .into()
    }

    /// The same error with `what` failed said first, e.g. "cannot open notes.txt: ...".
    pub(crate) fn context(self, what: impl Display) -> Self {
        ApiError { message: format!("{what}: {}", self.message), ..self }
    }

    /// Throws this error in `env`; the returned error tells napi-rs that an exception is pending.
    pub(crate) fn throw(self, env: &Env) -> napi::Error {
        let thrown = match self.class {
            ErrorClass::Error => env.throw_error(&self.message, self.code),
            ErrorClass::TypeError => env.throw_type_error(&self.message, self.code),
            ErrorClass::RangeError => env.throw_range_error(&self.message, self.code),
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

impl From<BindingError> for ApiError {
    fn from(e: BindingError) -> Self {
        ApiError { class: e.class, message: e.message, code: e.code }
    }
}

impl From<omnibuf::PoolError> for ApiError {
    fn from(e: omnibuf::PoolError) -> Self {
        BindingError::from(e).into()
    }
}

impl From<omnibuf::vbuf::VbufError> for ApiError {
    fn from(e: omnibuf::vbuf::VbufError) -> Self {
        BindingError::from(e).into()
    }
}
