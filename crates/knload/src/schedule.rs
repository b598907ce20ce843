//! When each request is due. A schedule is a pure function from the request
//! index to an offset from one absolute start, so a slow send never shifts
//! later requests (no drift from relative sleeps, no coordinated omission).

use super::error::{clip, clip_in, KnloadError};
use knsim::sim::parse_go_duration;
use std::time::Duration;

/// One point of a ramp: from `at` on, the rate moves linearly towards the
/// next point's rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RampPoint {
    /// Offset from the start of the run.
    pub at: Duration,
    /// Total requests per second at that offset.
    pub rate: f64,
}

/// The send schedule of a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Closed loop: each connection sends its next request as soon as the
    /// previous one completes; latency is timed from the actual send.
    Closed,
    /// Open loop at a constant total rate (requests per second, > 0).
    Constant {
        /// Requests per second.
        rate: f64,
    },
    /// Open loop with a piecewise-linear rate. After the last point the rate
    /// is the ramp's hold rate (a run with neither `-z` nor `-n` ends at the
    /// last point).
    Ramp(Ramp),
    /// Open loop at given offsets from the start, in order (a scenario's
    /// arrivals, see `knload --scenario`).
    Times(std::sync::Arc<[Duration]>),
    /// Closed loop where each connection waits a think time after each
    /// response before its next request (a scenario's closed-loop source).
    ClosedThink(Think),
}

/// Think times of a closed loop: drawn from `dist` with a seeded stream per
/// connection, so a run is repeatable.
#[derive(Debug, Clone)]
pub struct Think {
    /// Think-time distribution (seconds).
    pub dist: knsim::workload::Dist,
    /// Seed of the connections' streams.
    pub seed: u64,
}

impl PartialEq for Think {
    fn eq(&self, other: &Self) -> bool {
        // Dist has no equality of its own; its debug form lists every
        // parameter.
        self.seed == other.seed && format!("{:?}", self.dist) == format!("{:?}", other.dist)
    }
}

impl Think {
    /// The think-time stream of connection `slot`.
    pub fn rng(&self, slot: usize) -> knsim::sim::SimRng {
        knsim::sim::RngStreams::new(self.seed).get(knsim::sim::Stream::WorkloadExtra, slot as u64)
    }

    /// The next think time.
    pub fn draw(&self, rng: &mut knsim::sim::SimRng) -> Duration {
        Duration::from_secs_f64(self.dist.sample(rng).max(0.0))
    }
}

/// A validated piecewise-linear rate with precomputed cumulative counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Ramp {
    points: Vec<RampPoint>,
    /// Expected number of requests due before each point.
    cumulative: Vec<f64>,
    /// Rate after the last point: `-q` when given with the ramp, else the
    /// last point's rate.
    hold: f64,
}

impl Ramp {
    /// Validates points: at least one, offsets strictly increasing, rates
    /// finite and non-negative, the first point at 0 s.
    pub fn new(points: Vec<RampPoint>) -> Result<Self, KnloadError> {
        let bad = |d: String| KnloadError::usage("--ramp", d);
        if points.is_empty() {
            return Err(bad("no points".into()));
        }
        if points[0].at != Duration::ZERO {
            return Err(bad("the first point must be at 0s".into()));
        }
        for w in points.windows(2) {
            if w[1].at <= w[0].at {
                return Err(bad(format!(
                    "offsets must increase ({:?} after {:?})",
                    w[1].at, w[0].at
                )));
            }
        }
        if let Some(p) = points
            .iter()
            .find(|p| !(p.rate.is_finite() && p.rate >= 0.0))
        {
            return Err(bad(format!("rate {} is not a non-negative number", p.rate)));
        }
        let mut cumulative = Vec::with_capacity(points.len());
        let mut n = 0.0;
        cumulative.push(0.0);
        for w in points.windows(2) {
            let dt = (w[1].at - w[0].at).as_secs_f64();
            n += 0.5 * (w[0].rate + w[1].rate) * dt;
            cumulative.push(n);
        }
        let hold = points.last().map_or(0.0, |p| p.rate);
        Ok(Ramp {
            points,
            cumulative,
            hold,
        })
    }

    /// Parses `OFFSET:RATE,OFFSET:RATE,...`, offsets as Go durations
    /// (`0s:100,60s:1000,120s:1000`).
    pub fn parse(s: &str) -> Result<Self, KnloadError> {
        Self::parse_with(s, None)
    }

    /// Parses a ramp that leads to `rate` (`-q` given with `--ramp`): that
    /// rate holds after the last point, and a point's rate may be written as
    /// a percentage of it (`0s:5%,30s:100%`).
    pub fn parse_towards(s: &str, rate: f64) -> Result<Self, KnloadError> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(KnloadError::usage(
                "--rate",
                format!("{rate} is not a positive number"),
            ));
        }
        let mut ramp = Self::parse_with(s, Some(rate))?;
        ramp.hold = rate;
        Ok(ramp)
    }

    fn parse_with(s: &str, reference: Option<f64>) -> Result<Self, KnloadError> {
        let mut points = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (at, rate) = part.split_once(':').ok_or_else(|| {
                KnloadError::usage("--ramp", format!("`{}` is not OFFSET:RATE", clip(part)))
            })?;
            let at = parse_go_duration(at.trim()).map_err(|e| {
                KnloadError::usage(
                    "--ramp",
                    format!("offset `{}`: {}", clip(at), clip_in(e, at)),
                )
            })?;
            let rate = rate.trim();
            let number = |t: &str| {
                t.parse::<f64>().map_err(|_| {
                    KnloadError::usage("--ramp", format!("rate `{}` is not a number", clip(rate)))
                })
            };
            let rate = match (rate.strip_suffix('%'), reference) {
                (Some(pct), Some(q)) => number(pct.trim())? / 100.0 * q,
                (Some(_), None) => {
                    return Err(KnloadError::usage(
                        "--ramp",
                        format!(
                            "rate `{}` is a percentage of -q, which is not given",
                            clip(rate)
                        ),
                    ))
                }
                (None, _) => number(rate)?,
            };
            points.push(RampPoint {
                at: Duration::from_nanos(at.0),
                rate,
            });
        }
        Ramp::new(points)
    }

    /// The points, in order.
    pub fn points(&self) -> &[RampPoint] {
        &self.points
    }

    /// The rate after the last point.
    pub fn hold(&self) -> f64 {
        self.hold
    }

    /// Offset of the last point.
    pub fn end(&self) -> Duration {
        self.points.last().map(|p| p.at).unwrap_or_default()
    }

    /// When request `i` is due: the first time the integral of the rate
    /// reaches `i`. `None` when it never does (the rate falls to 0 for good).
    fn due(&self, i: u64) -> Option<Duration> {
        let target = i as f64;
        // Segment k spans points[k]..points[k+1]; past the last point the
        // rate is the hold rate.
        let k = self
            .cumulative
            .partition_point(|&n| n <= target)
            .saturating_sub(1);
        let p = self.points[k];
        let remaining = target - self.cumulative[k];
        let x = match self.points.get(k + 1) {
            Some(q) => {
                let span = (q.at - p.at).as_secs_f64();
                let slope = (q.rate - p.rate) / span;
                // Root of p.rate*x + slope*x^2/2 = remaining, in the form that
                // stays exact when the slope is 0 or negative.
                let disc = (p.rate * p.rate + 2.0 * slope * remaining).max(0.0);
                let denom = p.rate + disc.sqrt();
                if denom <= 0.0 {
                    if remaining == 0.0 {
                        0.0
                    } else {
                        return None;
                    }
                } else {
                    (2.0 * remaining / denom).min(span)
                }
            }
            None => {
                if remaining == 0.0 {
                    0.0
                } else if self.hold > 0.0 {
                    remaining / self.hold
                } else {
                    return None;
                }
            }
        };
        Some(p.at + Duration::from_secs_f64(x))
    }
}

impl Schedule {
    /// Offset from the start at which request `i` (0-based) is due; `None`
    /// for a closed loop (send when a connection is free) and for requests
    /// that a ramp never reaches.
    pub fn due(&self, i: u64) -> Option<Duration> {
        match self {
            Schedule::Closed | Schedule::ClosedThink(_) => None,
            Schedule::Constant { rate } => Some(Duration::from_secs_f64(i as f64 / rate)),
            Schedule::Ramp(r) => r.due(i),
            Schedule::Times(t) => t.get(i as usize).copied(),
        }
    }

    /// Whether requests are sent on a schedule (open loop).
    pub fn is_open(&self) -> bool {
        !matches!(self, Schedule::Closed | Schedule::ClosedThink(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(d: Option<Duration>) -> f64 {
        d.expect("due").as_secs_f64()
    }

    #[test]
    fn constant_rate_is_i_over_rate() {
        let s = Schedule::Constant { rate: 200.0 };
        assert_eq!(s.due(0), Some(Duration::ZERO));
        assert!((secs(s.due(1)) - 0.005).abs() < 1e-12);
        assert!((secs(s.due(2000)) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn closed_loop_has_no_due_times() {
        assert_eq!(Schedule::Closed.due(5), None);
    }

    #[test]
    fn ramp_from_zero_follows_the_integral() {
        // Rate 0 -> 100 over 10 s: N(t) = 5 t^2, so request i is due at sqrt(i/5).
        let r = Schedule::Ramp(Ramp::parse("0s:0,10s:100").unwrap());
        assert_eq!(r.due(0), Some(Duration::ZERO));
        for i in [1u64, 5, 20, 125, 499] {
            let want = (i as f64 / 5.0).sqrt();
            assert!((secs(r.due(i)) - want).abs() < 1e-9, "i={i}");
        }
        // Past the last point the rate stays at 100/s: N(10) = 500.
        assert!((secs(r.due(500)) - 10.0).abs() < 1e-9);
        assert!((secs(r.due(600)) - 11.0).abs() < 1e-9);
    }

    #[test]
    fn ramp_with_flat_and_falling_segments() {
        // 100/s for 10 s (1000 requests), then 100 -> 0 over 10 s (500 more).
        let r = Schedule::Ramp(Ramp::parse("0s:100, 10s:100, 20s:0").unwrap());
        assert!((secs(r.due(999)) - 9.99).abs() < 1e-9);
        assert!((secs(r.due(1000)) - 10.0).abs() < 1e-9);
        // N(10+x) = 1000 + 100x - 5x^2 = 1375 -> x = 5.
        assert!((secs(r.due(1375)) - 15.0).abs() < 1e-9);
        // The 1500th request would be due only at the very end; beyond, never.
        assert!(secs(r.due(1499)) < 20.0);
        assert_eq!(r.due(1501), None);
    }

    #[test]
    fn due_times_never_decrease() {
        let r = Schedule::Ramp(Ramp::parse("0s:3,1s:700,2500ms:20,4s:20,5s:900").unwrap());
        let mut prev = Duration::ZERO;
        for i in 0..5000 {
            let d = r.due(i).expect("rate stays > 0");
            assert!(d >= prev, "i={i}: {d:?} < {prev:?}");
            prev = d;
        }
    }

    #[test]
    fn bad_ramps_are_rejected() {
        for s in [
            "",
            "1s:10",
            "0s:10,0s:20",
            "0s:-1",
            "0s",
            "0s:x",
            "zz:1",
            "0s:50%",
        ] {
            assert!(Ramp::parse(s).is_err(), "{s:?} accepted");
        }
        for s in ["0s:x%", "0s:-5%", "0s:%"] {
            assert!(Ramp::parse_towards(s, 100.0).is_err(), "{s:?} accepted");
        }
        assert!(Ramp::parse_towards("0s:1", 0.0).is_err());
    }

    #[test]
    fn a_ramp_towards_a_rate_holds_it_and_reads_percentages_of_it() {
        // 10% -> 100% of 1000/s over 10 s: N(10) = 0.5 * (100 + 1000) * 10 =
        // 5500, then 1000/s: request 6500 is due at 11 s.
        let r = Schedule::Ramp(Ramp::parse_towards("0s:10%,10s:100%", 1000.0).unwrap());
        assert!((secs(r.due(5500)) - 10.0).abs() < 1e-9);
        assert!((secs(r.due(6500)) - 11.0).abs() < 1e-9);
        // Absolute points leading to a different -q: 0 -> 200 over 2 s (200
        // requests), then -q's 50/s.
        let r = Schedule::Ramp(Ramp::parse_towards("0s:0,2s:200", 50.0).unwrap());
        assert!((secs(r.due(200)) - 2.0).abs() < 1e-9);
        assert!((secs(r.due(250)) - 3.0).abs() < 1e-9);
        // The README's form: the last point already at -q.
        let r = Ramp::parse_towards("0s:100,30s:2000,60s:2000", 2000.0).unwrap();
        assert_eq!(r.hold(), 2000.0);
        assert_eq!(r.end(), Duration::from_secs(60));
    }
}
