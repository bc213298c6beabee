//! Numbers in messages, written as JS writes them (`String(n)`): both builds print the same text, and
//! it is the text a JS programmer knows (`Infinity`, `1e+21`), not Rust's (`inf`, `1000…0`).

/// `n` as ECMAScript's Number::toString writes it.
///
/// ```
/// use omnibuf::binding::js_number;
///
/// assert_eq!(js_number(f64::INFINITY), "Infinity");
/// assert_eq!(js_number(-0.0), "0");
/// assert_eq!(js_number(1.5), "1.5");
/// assert_eq!(js_number(18446744073709551616.0), "18446744073709552000");
/// assert_eq!(js_number(1e21), "1e+21");
/// assert_eq!(js_number(1e-7), "1e-7");
/// ```
pub fn js_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n == 0.0 {
        return "0".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let sign = if n < 0.0 { "-" } else { "" };
    // Rust's `{:e}` gives the shortest digits that round-trip, as ECMAScript asks: "d.ddde±x".
    let scientific = format!("{:e}", n.abs());
    let (mantissa, exponent) = scientific.split_once('e').expect("{:e} always writes an exponent");
    let exponent: i32 = exponent.parse().expect("{:e} writes a decimal exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    // ECMAScript's n: the decimal point sits after n digits.
    let point = exponent + 1;
    let body = if k <= point && point <= 21 {
        format!("{digits}{}", "0".repeat((point - k) as usize))
    } else if 0 < point && point <= 21 {
        format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
    } else if -6 < point && point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let e = point - 1;
        let e_sign = if e < 0 { '-' } else { '+' };
        let e = e.abs();
        if k == 1 {
            format!("{digits}e{e_sign}{e}")
        } else {
            format!("{}.{}e{e_sign}{e}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::js_number;

    #[test]
    fn writes_numbers_as_js_does() {
        // Each pair is what `String(n)` gives in V8.
        let cases: &[(f64, &str)] = &[
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (0.1, "0.1"),
            (123456789.0, "123456789"),
            (9007199254740991.0, "9007199254740991"),
            (9007199254740992.0, "9007199254740992"),
            (18446744073709551616.0, "18446744073709552000"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (1e-6, "0.000001"),
            (1.5e-6, "0.0000015"),
            (1e-7, "1e-7"),
            (-1.25e-7, "-1.25e-7"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (4294967295.5, "4294967295.5"),
        ];
        for &(n, text) in cases {
            assert_eq!(js_number(n), text, "String({n:?})");
        }
    }
}
