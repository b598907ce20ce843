//! Simulated time as integer nanoseconds, so that ordering never depends on
//! floating-point rounding and ties are exact.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A point in simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

const NANOS_PER_SEC: u64 = 1_000_000_000;

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// A time later than any event can be scheduled.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Time from whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimTime(s * NANOS_PER_SEC)
    }

    /// Time from fractional seconds, rounded to the nearest nanosecond.
    pub fn from_secs_f64(s: f64) -> Self {
        SimTime(secs_to_nanos(s))
    }

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the start as a float (for reporting and for Knative's
    /// float formulas, never for ordering).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// Whole seconds since the start (floor), i.e. the 1-s bucket index.
    pub const fn whole_secs(self) -> u64 {
        self.0 / NANOS_PER_SEC
    }

    /// This time truncated to a multiple of `g`.
    pub const fn truncate(self, g: SimDuration) -> SimTime {
        SimTime(self.0 - self.0 % g.0)
    }

    /// Time elapsed since `earlier`, saturating at zero.
    pub const fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// Duration from whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * NANOS_PER_SEC)
    }

    /// Duration from milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * 1_000_000)
    }

    /// Duration from fractional seconds, rounded to the nearest nanosecond;
    /// negative and non-finite inputs become zero.
    pub fn from_secs_f64(s: f64) -> Self {
        SimDuration(secs_to_nanos(s))
    }

    /// Nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// Milliseconds as a float.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// True when this is a whole number of seconds.
    pub const fn is_whole_seconds(self) -> bool {
        self.0 % NANOS_PER_SEC == 0
    }
}

/// Parses a duration in Go's `time.ParseDuration` syntax, which is what
/// Knative's ConfigMaps and annotations use: a sequence of decimal numbers with
/// units `ns`, `us`/`µs`, `ms`, `s`, `m`, `h` (e.g. `"60s"`, `"1m30s"`,
/// `"1.5s"`, `"250ms"`), or a bare `"0"`. Negative durations are rejected
/// because nothing in the simulator can use one.
pub fn parse_go_duration(input: &str) -> Result<SimDuration, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if s.starts_with('-') {
        return Err(format!("duration {input:?} is negative"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Ok(SimDuration::ZERO);
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("invalid duration {input:?}: expected a number"));
        }
        let num: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("invalid duration {input:?}: bad number"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => {
                return Err(format!(
                    "invalid duration {input:?}: missing unit (use ms, s, m or h)"
                ))
            }
            other => {
                return Err(format!(
                    "invalid duration {input:?}: unknown unit {other:?}"
                ))
            }
        };
        total += num * scale;
        rest = &rest[unit_len..];
    }
    if total > u64::MAX as f64 {
        return Err(format!("duration {input:?} is too large"));
    }
    Ok(SimDuration(total.round() as u64))
}

/// 2^52: below it every `f64` has a fraction bit or is an integer that
/// `i64` holds exactly.
const EXACT_INTEGERS: f64 = 4_503_599_627_370_496.0;

#[inline]
fn secs_to_nanos(s: f64) -> u64 {
    if !s.is_finite() || s <= 0.0 {
        return 0;
    }
    round_u64(s * NANOS_PER_SEC as f64)
}

/// `x.round() as u64`: halves away from zero, negatives and NaN to 0, past
/// `u64::MAX` to `u64::MAX`. `f64::round` is a library call on the baseline
/// x86-64 target, and every service time and arrival goes through here.
/// Below 2^52 the truncation and the fraction `x - t` are exact, so the
/// rounding is one comparison, with the same answer.
#[inline]
pub fn round_u64(x: f64) -> u64 {
    if (0.0..EXACT_INTEGERS).contains(&x) {
        let t = x as u64;
        t + u64::from(x - t as f64 >= 0.5)
    } else {
        x.round() as u64
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        SimDuration(
            self.0
                .checked_sub(earlier.0)
                .expect("time subtraction went negative"),
        )
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(o.0))
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;
    fn sub(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(o.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.as_secs_f64())
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 % NANOS_PER_SEC == 0 {
            write!(f, "{}s", self.0 / NANOS_PER_SEC)
        } else {
            write!(f, "{}ms", self.as_millis_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A million floats from an xorshift stream: random mantissas, binary
    /// exponents from `low` to `low + 63`, negative half the time when
    /// `signed`.
    fn random_floats(seed: u64, low: i64, signed: bool) -> impl Iterator<Item = f64> {
        let mut z = seed;
        (0..1_000_000).map(move |_| {
            z ^= z << 13;
            z ^= z >> 7;
            z ^= z << 17;
            let exp = (1023 + low) as u64 + z % 64;
            let sign = if signed { (z & 1) << 63 } else { 0 };
            f64::from_bits((z >> 12) | (exp << 52) | sign)
        })
    }

    #[test]
    fn nanoseconds_round_as_f64_round_does() {
        let reference = |s: f64| -> u64 {
            if !s.is_finite() || s <= 0.0 {
                return 0;
            }
            let n = (s * NANOS_PER_SEC as f64).round();
            if n >= u64::MAX as f64 {
                u64::MAX
            } else {
                n as u64
            }
        };
        let mut cases = vec![
            0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            f64::MAX,
            f64::MIN_POSITIVE,
            0.5e-9,
            1.5e-9,
            2.5e-9,
            0.5f64.next_down() * 1e-9,
            0.1,
            0.3,
            4_503_599.627_370_495,
            4_503_599.627_370_496,
            4_503_599.627_370_497,
            1e20,
        ];
        // Exact halves of a nanosecond, small and near 2^52.
        for k in [0u64, 1, 2, 999, 1 << 30, (1 << 51) + 3, (1 << 52) - 1] {
            cases.push((k as f64 + 0.5) / NANOS_PER_SEC as f64);
        }
        // Random bit patterns from 2^-40 s to 2^23 s, across 2^52 ns.
        cases.extend(random_floats(0x9E37_79B9_7F4A_7C15, -40, false));
        for s in cases {
            assert_eq!(secs_to_nanos(s), reference(s), "{s:e} s");
        }
    }

    #[test]
    fn round_u64_is_round_then_cast() {
        let mut cases = vec![
            0.0,
            -0.0,
            -0.5,
            -1.5,
            0.5,
            1.5,
            2.5,
            0.5f64.next_down(),
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            EXACT_INTEGERS,
            EXACT_INTEGERS.next_down(),
            EXACT_INTEGERS - 0.5,
            1.8e19,
            1e20,
        ];
        // Exponents from 2^-4 to 2^59, both signs.
        cases.extend(random_floats(0x2545_F491_4F6C_DD1D, -4, true));
        for x in cases {
            assert_eq!(round_u64(x), x.round() as u64, "{x:e}");
        }
    }

    #[test]
    fn truncation_and_whole_seconds() {
        let t = SimTime(3_700_000_000);
        assert_eq!(t.whole_secs(), 3);
        assert_eq!(t.truncate(SimDuration::from_secs(2)), SimTime::from_secs(2));
        assert!(SimDuration::from_secs(6).is_whole_seconds());
        assert!(!SimDuration::from_millis(6500).is_whole_seconds());
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("60s"), Ok(SimDuration::from_secs(60)));
        assert_eq!(parse_go_duration("1m30s"), Ok(SimDuration::from_secs(90)));
        assert_eq!(
            parse_go_duration("1.5s"),
            Ok(SimDuration::from_millis(1500))
        );
        assert_eq!(
            parse_go_duration("250ms"),
            Ok(SimDuration::from_millis(250))
        );
        assert_eq!(parse_go_duration("1h"), Ok(SimDuration::from_secs(3600)));
        assert_eq!(parse_go_duration("0"), Ok(SimDuration::ZERO));
        assert!(parse_go_duration("60")
            .unwrap_err()
            .contains("missing unit"));
        assert!(parse_go_duration("-5s").unwrap_err().contains("negative"));
        assert!(parse_go_duration("5x")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_go_duration("").is_err());
    }

    #[test]
    fn float_conversion_rounds_and_clamps() {
        assert_eq!(SimDuration::from_secs_f64(0.0015), SimDuration(1_500_000));
        assert_eq!(SimDuration::from_secs_f64(-1.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
    }
}
