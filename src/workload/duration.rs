//! Durations as scenario files write them: a Go duration string (`"250ms"`,
//! `"1m30s"`) or a plain number of seconds (`0.25`, `90`).

use super::WorkloadError;
use crate::sim::{parse_go_duration, SimDuration};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A duration as written in a scenario file, kept raw until validation so that
/// errors can name the field they came from.
#[derive(Clone, Debug, PartialEq)]
pub enum DurationValue {
    /// Go syntax, e.g. `"250ms"`, `"2s"`, `"5m"`, `"1h30m"`.
    Text(String),
    /// A number of seconds, e.g. `0.25`.
    Seconds(f64),
}

impl DurationValue {
    /// The value in seconds; `path` names the field in errors. Negative,
    /// non-finite or unparsable values are errors.
    pub fn secs(&self, path: &str) -> Result<f64, WorkloadError> {
        match self {
            DurationValue::Text(s) => parse_go_duration(s)
                .map(|d| d.as_secs_f64())
                .map_err(|e| WorkloadError::invalid(path, e)),
            DurationValue::Seconds(x) if !x.is_finite() => Err(WorkloadError::invalid(
                path,
                format!("duration {x} is not a finite number of seconds"),
            )),
            DurationValue::Seconds(x) if *x < 0.0 => Err(WorkloadError::invalid(
                path,
                format!("duration {x} s is negative"),
            )),
            DurationValue::Seconds(x) => Ok(*x),
        }
    }

    /// The value as a [`SimDuration`] (rounded to the nanosecond).
    pub fn duration(&self, path: &str) -> Result<SimDuration, WorkloadError> {
        match self {
            DurationValue::Text(s) => {
                parse_go_duration(s).map_err(|e| WorkloadError::invalid(path, e))
            }
            DurationValue::Seconds(_) => self.secs(path).map(SimDuration::from_secs_f64),
        }
    }
}

impl From<&str> for DurationValue {
    fn from(s: &str) -> Self {
        DurationValue::Text(s.to_string())
    }
}

impl From<f64> for DurationValue {
    fn from(x: f64) -> Self {
        DurationValue::Seconds(x)
    }
}

impl Serialize for DurationValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DurationValue::Text(t) => s.serialize_str(t),
            DurationValue::Seconds(x) => s.serialize_f64(*x),
        }
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = DurationValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as \"250ms\", \"2s\" or \"5m\", or a number of seconds")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationValue, E> {
        Ok(DurationValue::Text(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<DurationValue, E> {
        Ok(DurationValue::Seconds(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationValue, E> {
        Ok(DurationValue::Seconds(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<DurationValue, E> {
        Ok(DurationValue::Seconds(v as f64))
    }
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurationVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_numbers() {
        assert_eq!(DurationValue::from("250ms").secs("x").unwrap(), 0.25);
        assert_eq!(DurationValue::from(1.5).secs("x").unwrap(), 1.5);
        assert_eq!(
            DurationValue::from("1m30s").duration("x").unwrap(),
            SimDuration::from_secs(90)
        );
        let e = DurationValue::from(-1.0).secs("a.b").unwrap_err();
        assert_eq!(e.to_string(), "a.b: duration -1 s is negative");
        assert!(DurationValue::from("5x").secs("a").is_err());
        assert!(DurationValue::from(f64::NAN).secs("a").is_err());
    }
}
