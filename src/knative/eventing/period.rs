//! ISO-8601 durations as Knative Eventing reads `backoffDelay`, `timeout`
//! and `retryAfterMax`: `github.com/rickb777/date/period` v1.13.0
//! (`period.Parse`, then `Period.Duration()`), the parser the delivery code
//! in `pkg/kncloudevents/retries.go` and `pkg/apis/duck/v1/delivery_types.go`
//! calls.
//!
//! The library stores each field as a fixed-point int16 holding tenths, so a
//! fraction keeps only its first digit (`PT0.25S` is 0.2 s, `PT0.05S` is
//! zero) and a field above 3276.7 does not fit. Go's `"3s"` form is not
//! accepted: the text must start with `P`.

use thiserror::Error;

/// Why a text is not an ISO-8601 period.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PeriodError {
    /// Empty, or missing the leading `P`.
    #[error(
        "{0:?} is not an ISO-8601 duration: it must start with 'P', e.g. \"PT0.2S\" or \"PT1M\""
    )]
    NoP(String),
    /// `P` with no field after it.
    #[error("{0:?} is not an ISO-8601 duration: 'P' must be followed by at least one field, e.g. \"PT1S\"")]
    Empty(String),
    /// A number without its designator, or a designator without a number.
    #[error("{0:?} is not an ISO-8601 duration: expected a number followed by one of Y, M, W, D (before 'T') or H, M, S (after 'T')")]
    Malformed(String),
    /// A field repeated or out of order.
    #[error("{0:?} is not an ISO-8601 duration: the field '{1}' is repeated or out of order")]
    Order(String, char),
    /// A field above what the library's int16 of tenths holds.
    #[error("{0:?} is not an ISO-8601 duration: a field may be at most 3276.7")]
    Overflow(String),
}

/// Nanoseconds per unit, as `Period.Duration()` converts them. Days are 24 h;
/// months and years are the library's approximate lengths.
const NS_SECOND: i128 = 1_000_000_000;
const NS_DAY: i128 = 86_400 * NS_SECOND;
/// 365.2425 days, in nanoseconds.
const NS_YEAR: i128 = 365_2425 * NS_DAY / 10_000;
/// 30.436875 days, in nanoseconds.
const NS_MONTH: i128 = 30_436_875 * NS_DAY / 1_000_000;

/// Parses `text` as rickb777/date v1.13.0 does and returns the duration in
/// nanoseconds (negative for a leading `-`).
pub fn parse_period_nanos(text: &str) -> Result<i64, PeriodError> {
    let bad = || PeriodError::Malformed(text.to_string());
    let (neg, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let Some(body) = rest.strip_prefix('P') else {
        return Err(PeriodError::NoP(text.to_string()));
    };
    if body.is_empty() {
        return Err(PeriodError::Empty(text.to_string()));
    }
    let (date, time) = match body.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return Err(bad());
            }
            (d, Some(t))
        }
        None => (body, None),
    };
    let mut total: i128 = 0;
    // Tenths of a unit, times the unit's length in nanoseconds / 10.
    let mut add = |tenths: i128, unit_ns: i128| total += tenths * unit_ns / 10;
    for (part, units) in [(Some(date), "YMWD"), (time, "HMS")] {
        let Some(mut part) = part else { continue };
        let mut next_allowed = 0;
        while !part.is_empty() {
            let end = part
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
                .ok_or_else(bad)?;
            let (num, tail) = part.split_at(end);
            let designator = tail.chars().next().ok_or_else(bad)?;
            let pos = units.find(designator).ok_or_else(bad)?;
            if pos < next_allowed {
                return Err(PeriodError::Order(text.to_string(), designator));
            }
            next_allowed = pos + 1;
            let tenths = tenths(num).ok_or_else(bad)?;
            if tenths > i16::MAX as i128 {
                return Err(PeriodError::Overflow(text.to_string()));
            }
            let unit_ns = match (units, designator) {
                ("YMWD", 'Y') => NS_YEAR,
                ("YMWD", 'M') => NS_MONTH,
                ("YMWD", 'W') => 7 * NS_DAY,
                ("YMWD", _) => NS_DAY,
                (_, 'H') => 3_600 * NS_SECOND,
                (_, 'M') => 60 * NS_SECOND,
                _ => NS_SECOND,
            };
            add(tenths, unit_ns);
            part = &tail[designator.len_utf8()..];
        }
    }
    let total = if neg { -total } else { total };
    i64::try_from(total).map_err(|_| PeriodError::Overflow(text.to_string()))
}

/// A decimal with `.` or `,` as separator, in tenths; digits past the first
/// decimal are dropped, as the library's fixed-point parse does.
fn tenths(num: &str) -> Option<i128> {
    let (int, frac) = match num.find(['.', ',']) {
        Some(i) => (&num[..i], &num[i + 1..]),
        None => (num, ""),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || num.len() > int.len() && frac.is_empty() {
        return None;
    }
    let int: i128 = int.parse().ok()?;
    let first = frac.bytes().next().map_or(0, |b| (b - b'0') as i128);
    Some(int.checked_mul(10)? + first)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;
    const S: i64 = 1_000 * MS;

    #[test]
    fn values_from_eventing_tests_and_docs() {
        // pkg/kncloudevents/retries_test.go TestRetryConfigFromDeliverySpec
        // uses PT2.5S, PT1.5S, PT0.5S and PT30S.
        assert_eq!(parse_period_nanos("PT2.5S"), Ok(2_500 * MS));
        assert_eq!(parse_period_nanos("PT1.5S"), Ok(1_500 * MS));
        assert_eq!(parse_period_nanos("PT0.5S"), Ok(500 * MS));
        assert_eq!(parse_period_nanos("PT30S"), Ok(30 * S));
        // config-br-defaults ships backoffDelay PT0.2S.
        assert_eq!(parse_period_nanos("PT0.2S"), Ok(200 * MS));
        assert_eq!(parse_period_nanos("PT1M"), Ok(60 * S));
        assert_eq!(parse_period_nanos("PT1H2M3S"), Ok(3_723 * S));
        assert_eq!(parse_period_nanos("P1D"), Ok(86_400 * S));
        assert_eq!(parse_period_nanos("P1W"), Ok(7 * 86_400 * S));
        assert_eq!(parse_period_nanos("P1DT1S"), Ok(86_401 * S));
        assert_eq!(parse_period_nanos("-PT1S"), Ok(-S));
        assert_eq!(parse_period_nanos("PT0S"), Ok(0));
    }

    #[test]
    fn fractions_keep_one_digit() {
        assert_eq!(parse_period_nanos("PT0.25S"), Ok(200 * MS));
        assert_eq!(parse_period_nanos("PT0.05S"), Ok(0));
        assert_eq!(parse_period_nanos("PT0,5S"), Ok(500 * MS));
        assert_eq!(parse_period_nanos("PT1.5M"), Ok(90 * S));
    }

    #[test]
    fn approximate_months_and_years() {
        assert_eq!(
            parse_period_nanos("P1Y"),
            Ok((365.2425 * 86_400.0) as i64 * S)
        );
        assert_eq!(
            parse_period_nanos("P1M"),
            Ok((30.436875 * 86_400.0) as i64 * S)
        );
    }

    #[test]
    fn rejects_go_durations_and_junk() {
        for bad in [
            "3s", "2", "", "FOO", "PP1", "P", "PT", "PT1", "PTS", "PT1X", "P1H",
        ] {
            assert!(parse_period_nanos(bad).is_err(), "{bad:?} parsed");
        }
        assert!(matches!(
            parse_period_nanos("PT1S1M"),
            Err(PeriodError::Order(_, 'M'))
        ));
        assert!(matches!(
            parse_period_nanos("PT3276.8S"),
            Err(PeriodError::Overflow(_))
        ));
        assert_eq!(parse_period_nanos("PT3276.7S"), Ok(3_276_700 * MS));
    }
}
