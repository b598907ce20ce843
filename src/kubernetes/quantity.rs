//! Kubernetes resource quantities such as `500m`, `0.25`, `128Mi` or `1e3`,
//! read as `k8s.io/apimachinery/pkg/api/resource` `ParseQuantity` reads them
//! and reduced to the integers the scheduler and the HPA compare:
//! `MilliValue()` for CPU and `Value()` for memory. Both round up, as the
//! upstream scaled conversions do, so `0.1m` is 1 millicore and `1.5` bytes
//! is 2 bytes.

use std::fmt;

/// Why a quantity string was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Not `<number><suffix>` as Kubernetes writes quantities.
    #[error("{0:?} is not a Kubernetes quantity (e.g. \"500m\", \"0.5\", \"128Mi\", \"1G\")")]
    Syntax(String),
    /// Resource requests and limits cannot be negative.
    #[error("{0:?} is negative; a resource amount must be >= 0")]
    Negative(String),
    /// Larger than the int64 milli-value Kubernetes keeps.
    #[error("{0:?} is too large (more than 2^63 - 1 milli-units)")]
    TooLarge(String),
}

/// A parsed, non-negative quantity, kept as milli-units rounded up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity {
    milli: i64,
}

impl Quantity {
    /// The quantity that is exactly `milli` thousandths.
    pub const fn from_milli(milli: i64) -> Quantity {
        Quantity { milli }
    }

    /// `MilliValue()`: thousandths, rounded up (CPU in millicores).
    pub fn milli_value(self) -> i64 {
        self.milli
    }

    /// `Value()`: whole units, rounded up (memory in bytes).
    pub fn value(self) -> i64 {
        // Non-negative by construction, so ceiling division is plain.
        (self.milli + 999) / 1000
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.milli % 1000 == 0 {
            write!(f, "{}", self.milli / 1000)
        } else {
            write!(f, "{}m", self.milli)
        }
    }
}

/// Parses `s` as `ParseQuantity` does: an optional sign, a decimal number,
/// and one suffix out of the binary (`Ki` … `Ei`), decimal (`n`, `u`, `m`,
/// `k`, `M`, `G`, `T`, `P`, `E`) or exponent (`e3`, `E-2`) forms.
pub fn parse_quantity(s: &str) -> Result<Quantity, QuantityError> {
    let syntax = || QuantityError::Syntax(s.to_string());
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let num_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(num_end);
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() || frac_part.contains('.') {
        return Err(syntax());
    }
    // value = digits × 10^exp10 × 2^exp2
    let (mut exp10, exp2): (i32, u32) = match suffix {
        "" => (0, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        e if e.starts_with(['e', 'E']) => {
            let exp: i32 = e[1..].parse().map_err(|_| syntax())?;
            (exp, 0)
        }
        _ => return Err(syntax()),
    };
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    exp10 = exp10.saturating_sub(frac_part.len() as i32);
    // Milli-units.
    exp10 = exp10.saturating_add(3);
    let too_large = || QuantityError::TooLarge(s.to_string());
    if digits.is_empty() {
        return Ok(Quantity { milli: 0 });
    }
    if negative {
        return Err(QuantityError::Negative(s.to_string()));
    }
    // Anything with more than 40 significant digits is far beyond int64.
    if digits.len() > 40 {
        return Err(too_large());
    }
    let mut v: u128 = digits.parse().map_err(|_| syntax())?;
    if exp10 >= 0 {
        for _ in 0..exp10 {
            v = v.checked_mul(10).ok_or_else(too_large)?;
        }
        v = v.checked_mul(1u128 << exp2).ok_or_else(too_large)?;
    } else {
        // Multiply by the binary factor first so that nothing is lost before
        // the single rounding-up division.
        v = v.checked_mul(1u128 << exp2).ok_or_else(too_large)?;
        let mut div: u128 = 1;
        for _ in 0..(-exp10) {
            div = match div.checked_mul(10) {
                Some(d) => d,
                // The divisor exceeds any possible numerator: rounds up to 1.
                None => return Ok(Quantity { milli: 1 }),
            };
        }
        v = v.div_ceil(div);
    }
    let milli = i64::try_from(v).map_err(|_| too_large())?;
    Ok(Quantity { milli })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn milli(s: &str) -> i64 {
        parse_quantity(s).unwrap().milli_value()
    }

    #[test]
    fn cpu_forms_read_as_millicores() {
        assert_eq!(milli("500m"), 500);
        assert_eq!(milli("0.5"), 500);
        assert_eq!(milli(".5"), 500);
        assert_eq!(milli("2"), 2000);
        assert_eq!(milli("0.1"), 100);
        assert_eq!(milli("+1"), 1000);
        assert_eq!(milli("1e3"), 1_000_000);
        assert_eq!(milli("25m"), 25);
        assert_eq!(milli("0"), 0);
        assert_eq!(milli("-0"), 0);
    }

    #[test]
    fn fractions_of_a_milli_round_up_as_milli_value_does() {
        // resource.Quantity MilliValue rounds away from zero for positives.
        assert_eq!(milli("0.1m"), 1);
        assert_eq!(milli("1001u"), 2);
        assert_eq!(milli("1n"), 1);
        assert_eq!(milli("1000000n"), 1);
    }

    #[test]
    fn memory_forms_read_as_bytes() {
        let b = |s: &str| parse_quantity(s).unwrap().value();
        assert_eq!(b("128Mi"), 128 << 20);
        assert_eq!(b("1Gi"), 1 << 30);
        assert_eq!(b("1G"), 1_000_000_000);
        assert_eq!(b("1.5Ki"), 1536);
        assert_eq!(b("200Mi"), 209_715_200);
        assert_eq!(b("1.5"), 2);
        assert_eq!(b("2E-3"), 1);
        assert_eq!(b("1k"), 1000);
    }

    #[test]
    fn malformed_negative_and_huge_values_are_refused() {
        for bad in [
            "", "m", "1.2.3", "1 Gi", "1gi", "1KI", "1e", "abc", "1.5x", ".",
        ] {
            assert!(
                matches!(parse_quantity(bad), Err(QuantityError::Syntax(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse_quantity("-1"),
            Err(QuantityError::Negative(_))
        ));
        assert!(matches!(
            parse_quantity("100Ei"),
            Err(QuantityError::TooLarge(_))
        ));
        assert!(matches!(
            parse_quantity("1e40"),
            Err(QuantityError::TooLarge(_))
        ));
    }

    #[test]
    fn display_is_the_shortest_exact_form() {
        assert_eq!(parse_quantity("0.5").unwrap().to_string(), "500m");
        assert_eq!(parse_quantity("2000m").unwrap().to_string(), "2");
    }
}
