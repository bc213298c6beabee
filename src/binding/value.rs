//! A JS value as the binding core sees it: a leaf that the checks and the messages both use.

/// A JS value as the checks see it: its type, and the number when it is one. Adapters make it from a
/// `JsValue` or a `napi_value` without converting anything.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// `undefined` (also a missing argument).
    Undefined,
    /// `null`.
    Null,
    /// `true` or `false`.
    Boolean,
    /// A number.
    Number(f64),
    /// A string.
    String,
    /// A symbol.
    Symbol,
    /// A function.
    Function,
    /// A bigint.
    BigInt,
    /// Any other object.
    Object,
}

impl Value {
    /// Whether an optional argument was left out: `undefined` or `null`.
    pub fn is_missing(self) -> bool {
        matches!(self, Value::Undefined | Value::Null)
    }

    /// The value, shortly, for a message: a number as JS writes it, else its type.
    pub fn describe(self) -> String {
        match self {
            Value::Undefined => "undefined".into(),
            Value::Null => "null".into(),
            Value::Boolean => "a boolean".into(),
            Value::Number(n) => super::number::js_number(n),
            Value::String => "a string".into(),
            Value::Symbol => "a symbol".into(),
            Value::Function => "a function".into(),
            Value::BigInt => "a bigint".into(),
            Value::Object => "an object".into(),
        }
    }
}
