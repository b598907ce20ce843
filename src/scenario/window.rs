//! `warmup` and `measure`: the part of a run the summary counts. Requests
//! that arrive before the warm-up ends (the start-up transient: cold starts
//! from zero and the panic that follows) or after the measurement ends are
//! left out of the summary's counts and latencies; the timeseries always
//! covers the whole run.

use super::problems::Problems;
use super::revision::workload_problem;
use crate::sim::{SimDuration, SimTime};
use crate::workload::DurationValue;

/// The measurement window: requests arriving in `[start, end)` are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// End of the warm-up (`warmup`).
    pub start: SimTime,
    /// End of the measurement (`warmup + measure`, or the end of the run).
    pub end: SimTime,
}

impl Window {
    /// Whether a request arriving at `t` is counted.
    #[inline]
    pub fn contains(&self, t: SimTime) -> bool {
        t >= self.start && t < self.end
    }

    /// Whether the simulated second ending at `end_of_second` lies in the
    /// window (its seconds in panic, or with the activator in path, count).
    #[inline]
    pub fn has_second(&self, end_of_second: SimTime) -> bool {
        end_of_second > self.start && end_of_second <= self.end
    }

    /// The window's length.
    pub fn len(&self) -> SimDuration {
        self.end - self.start
    }

    /// True for a window of no length (never built by validation).
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Checks `warmup` and `measure` against the run's `duration` (zero when the
/// duration itself was invalid, in which case only the fields' own syntax is
/// checked). No window when neither is set.
pub(super) fn build(
    p: &mut Problems,
    warmup: &Option<DurationValue>,
    measure: &Option<DurationValue>,
    duration: SimDuration,
) -> Option<Window> {
    if warmup.is_none() && measure.is_none() {
        return None;
    }
    let mut parse = |field: &str, v: &Option<DurationValue>| match v {
        None => Some(None),
        Some(v) => match v.duration(field) {
            Ok(d) => Some(Some(d)),
            Err(e) => {
                let (f, rule) = workload_problem(&e);
                p.push(f, rule);
                None
            }
        },
    };
    let w = parse("warmup", warmup)?.unwrap_or(SimDuration::ZERO);
    let m = parse("measure", measure)?;
    if duration == SimDuration::ZERO {
        return None;
    }
    if w >= duration {
        p.push(
            "warmup",
            format!("must be shorter than the run's duration ({duration}), or nothing is measured"),
        );
        return None;
    }
    let end = match m {
        None => duration,
        Some(m) if m == SimDuration::ZERO => {
            p.push("measure", "must be greater than 0");
            return None;
        }
        Some(m) if w + m > duration => {
            p.push(
                "measure",
                format!(
                    "warmup ({w}) plus measure ({m}) must not exceed the run's duration ({duration})"
                ),
            );
            return None;
        }
        Some(m) => w + m,
    };
    Some(Window {
        start: SimTime::ZERO + w,
        end: SimTime::ZERO + end,
    })
}
