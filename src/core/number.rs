//! How numbers are written for people: the one style of every readout, label, plot, table, window and
//! line of text the command line prints. Plain decimals where they fit (`4.61`, `0.0352`, `-12.5`), and
//! scientific notation only for very small or very large values, written the way one types it back into
//! a field or a flag (`1.2e-4`, `3e7`): one style in every font, every terminal and every input box.
//! Files for programs (CSV, JSON) keep full precision and do not use this.

/// Significant digits of [`num`]: enough to compare two losses on a slide, few enough to read aloud.
pub const DIGITS: usize = 4;

/// The smallest and the largest magnitude written as a plain decimal: `0.001` and `99999.9`; `1e-4`
/// and `1e5` are written in scientific notation.
const PLAIN: std::ops::Range<f64> = 1e-3..1e5;

/// `x` with [`DIGITS`] significant digits: `4.61`, `0.03521`, `1.183`, `12346`, `1.2e-4`, `-3.5e7`,
/// `0`, `∞`, `NaN`. Trailing zeros are dropped (`4.61`, not `4.610`), and `-0` is `0`.
pub fn num(x: f64) -> String {
    num_digits(x, DIGITS)
}

/// `x` with `digits` significant digits (at least 1) in the style of [`num`]. Whole numbers in the
/// plain range keep all their digits (`12346` with 3 digits), since dropping them would change the
/// number rather than its precision.
pub fn num_digits(x: f64, digits: usize) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "∞" } else { "-∞" }.to_owned();
    }
    let digits = digits.max(1);
    if x == 0.0 {
        return "0".to_owned();
    }
    // the exponent after rounding to `digits`: 9.9996 is 10.00 with 4 digits, 0.00099996 is 0.001
    let exponent = {
        let e = x.abs().log10().floor() as i32;
        let rounded = format!("{:.*e}", digits - 1, x.abs());
        rounded
            .split_once('e')
            .and_then(|(_, e)| e.parse::<i32>().ok())
            .unwrap_or(e)
    };
    let magnitude = 10f64.powi(exponent);
    let text = if PLAIN.contains(&magnitude) {
        let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
        trim_zeros(&format!("{x:.decimals$}")).to_owned()
    } else {
        let text = format!("{:.*e}", digits - 1, x);
        match text.split_once('e') {
            Some((mantissa, e)) => format!("{}e{e}", trim_zeros(mantissa)),
            None => text,
        }
    };
    if text == "-0" { "0".to_owned() } else { text }
}

/// A point `(x, y)` with [`num`].
pub fn point(p: [f64; 2]) -> String {
    format!("({}, {})", num(p[0]), num(p[1]))
}

/// `4.6100` -> `4.61`, `3.000` -> `3`, `120` -> `120` (only after a decimal point).
fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_where_they_fit() {
        assert_eq!(num(4.61), "4.61");
        assert_eq!(num(4.610000), "4.61");
        assert_eq!(num(1.18252), "1.183");
        assert_eq!(num(3.07275), "3.073");
        assert_eq!(num(0.0352), "0.0352");
        assert_eq!(num(-12.5), "-12.5");
        assert_eq!(num(0.001), "0.001");
        assert_eq!(num(12345.6), "12346");
        assert_eq!(num(99_994.0), "99994");
        assert_eq!(num(100.0), "100");
        assert_eq!(num(0.1 + 0.2), "0.3");
    }

    #[test]
    fn scientific_only_for_the_very_small_and_large() {
        assert_eq!(num(1.2e-4), "1.2e-4");
        assert_eq!(num(-3.5e7), "-3.5e7");
        assert_eq!(num(1e5), "1e5");
        assert_eq!(num(1e308), "1e308");
        assert_eq!(num(f64::MIN_POSITIVE), "2.225e-308");
        assert_eq!(num(0.000_999_96), "0.001", "rounds up into the plain range");
        assert_eq!(num(99_999.4), "1e5", "rounds up out of it");
        assert_eq!(num_digits(9.9996, 4), "10");
    }

    #[test]
    fn zero_signs_and_non_finite() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(-0.00001234e-300), "-1.234e-305");
        assert_eq!(num(-4e-5 * 1e-3 * 0.0), "0");
        assert_eq!(num_digits(-0.00004, 1), "-4e-5");
        assert_eq!(num(f64::INFINITY), "∞");
        assert_eq!(num(f64::NEG_INFINITY), "-∞");
        assert_eq!(num(f64::NAN), "NaN");
        assert_eq!(point([0.5, -2.0]), "(0.5, -2)");
    }

    #[test]
    fn fewer_digits() {
        assert_eq!(num_digits(0.013125, 3), "0.0131");
        assert_eq!(num_digits(1.5e6, 3), "1.5e6");
        assert_eq!(num_digits(2.0 / 3.0, 2), "0.67");
        assert_eq!(num_digits(-0.0004, 2), "-4e-4");
        assert_eq!(num_digits(0.49, 1), "0.5");
    }
}
