//! Go's textual formats, so that error messages read like Knative's own and
//! values parse exactly as `strconv` and `time` parse them.

use crate::sim::SimDuration;

/// `time.Duration.String()` for non-negative durations: `0s`, `1.5s`,
/// `1m30s`, `1h0m0s`, `250ms`.
pub(crate) fn duration(d: SimDuration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", frac(ns, 1_000));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", frac(ns, 1_000_000));
    }
    let secs = ns / 1_000_000_000;
    let h = secs / 3600;
    let m = (secs / 60) % 60;
    let s = frac(ns % 60_000_000_000, 1_000_000_000);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// `v / unit` printed with only the significant fractional digits.
fn frac(v: u64, unit: u64) -> String {
    let whole = v / unit;
    let rem = v % unit;
    if rem == 0 {
        return whole.to_string();
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{rem:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// `time.ParseDuration` for the non-negative durations Knative accepts. Go
/// takes the text exactly as written, so surrounding spaces make it invalid,
/// with Go's own message (`time: invalid duration " 60s"`).
pub(crate) fn parse_duration(s: &str) -> Result<SimDuration, String> {
    if s.is_empty() || s.trim() != s {
        return Err(format!("time: invalid duration {}", go_quote(s)));
    }
    crate::sim::parse_go_duration(s)
}

/// Go's `strconv.Quote` for the printable text of messages.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `strconv.ParseBool`.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// `strconv.ParseFloat(s, 64)` for the decimal forms ConfigMaps use (Rust's
/// grammar differs from Go's only in exotic spellings such as hex floats).
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    if s.is_empty() || s.trim() != s {
        return None;
    }
    s.parse::<f64>().ok()
}

/// `strconv.ParseInt(s, 10, 32)`.
pub(crate) fn parse_i32(s: &str) -> Result<i32, IntError> {
    parse_int(s).and_then(|v| i32::try_from(v).map_err(|_| IntError::Range))
}

/// `strconv.ParseInt(s, 10, 64)`.
pub(crate) fn parse_i64(s: &str) -> Result<i64, IntError> {
    parse_int(s)
}

fn parse_int(s: &str) -> Result<i64, IntError> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IntError::Syntax);
    }
    s.parse::<i64>().map_err(|_| IntError::Range)
}

/// Why an integer did not parse, as `strconv` distinguishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntError {
    /// Not a decimal integer.
    Syntax,
    /// A decimal integer that does not fit.
    Range,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        assert_eq!(duration(SimDuration::ZERO), "0s");
        assert_eq!(duration(SimDuration::from_secs(6)), "6s");
        assert_eq!(duration(SimDuration::from_secs(3600)), "1h0m0s");
        assert_eq!(duration(SimDuration::from_secs(90)), "1m30s");
        assert_eq!(duration(SimDuration::from_millis(6500)), "6.5s");
        assert_eq!(duration(SimDuration::from_millis(250)), "250ms");
        assert_eq!(duration(SimDuration(1_500_000)), "1.5ms");
    }

    #[test]
    fn parsers_follow_strconv() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_i32("+7"), Ok(7));
        assert_eq!(parse_i32("3000000000"), Err(IntError::Range));
        assert_eq!(parse_i32("1.5"), Err(IntError::Syntax));
        assert_eq!(parse_float("0.7"), Some(0.7));
        assert_eq!(parse_float(" 1"), None);
    }
}
