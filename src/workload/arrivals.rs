//! Lazy arrival generators. Each call to [`ArrivalGen::next`] does a constant
//! amount of work and allocates nothing; memory stays fixed however many
//! requests a run draws (trace data is shared, read-only).

use super::trace::{TraceData, NO_DURATION, NO_TAG};
use super::{Arrival, OnOffInitial, Process, Segment, Source, SourceKind, Spread};
use crate::sim::{round_u64, SimDuration, SimRng, SimTime};
use rand::Rng;
use rand_distr::Exp1;
use std::sync::Arc;

/// Lazy generator for one open-loop source.
#[derive(Clone, Debug)]
pub struct ArrivalGen {
    rng: SimRng,
    start_ns: u64,
    end_ns: u64,
    /// Source length in seconds, for the float-time processes.
    len: f64,
    done: bool,
    state: State,
}

#[derive(Clone, Debug)]
enum State {
    Constant {
        interval_ns: f64,
        n: u64,
    },
    Poisson {
        mean_gap: f64,
        t: f64,
    },
    Schedule {
        segs: Arc<[Segment]>,
        seg: usize,
        t: f64,
        poisson: bool,
        /// Deterministic spacing: integral of the rate up to `segs[seg].t0`.
        cum0: f64,
        /// Deterministic spacing: index of the next request.
        n: u64,
    },
    Sinusoid {
        mean: f64,
        amplitude: f64,
        omega: f64,
        phase: f64,
        max: f64,
        t: f64,
    },
    OnOff {
        rates: [f64; 2],
        means: [f64; 2],
        on: usize,
        switch_at: f64,
        t: f64,
    },
    Trace {
        data: Arc<TraceData>,
        /// Next row to read.
        idx: usize,
        /// Copies per row: `whole`, plus one more with probability `frac`.
        whole: u32,
        frac: f64,
        /// Copies of row `idx - 1` still to emit.
        pending: u32,
    },
    Azure {
        counts: Arc<[u32]>,
        minute_len: f64,
        spread: Spread,
        multiplier: f64,
        /// Next minute to open.
        next_minute: usize,
        /// Bounds of the open minute in ns since the source's start.
        lo_ns: u64,
        hi_ns: u64,
        /// Uniform/even: requests left in the open minute, and its total.
        left: u64,
        total: u64,
        /// Uniform: the last order statistic drawn, in [0, 1).
        u: f64,
        /// Poisson: rate and clock within the open minute (seconds since
        /// the source's start).
        rate: f64,
        t: f64,
        t_end: f64,
    },
}

/// What a step produces: offset from the source's start in ns, duration, tag.
type Step = Option<(u64, Option<SimDuration>, Option<u16>)>;

#[inline]
fn ns(t: f64) -> u64 {
    round_u64(t * 1e9)
}

impl ArrivalGen {
    /// The generator for `src` drawing from `rng` (the source's arrival
    /// stream); `None` for a closed-loop source.
    pub fn new(src: &Source, mut rng: SimRng) -> Option<ArrivalGen> {
        let SourceKind::Open(spec) = &src.kind else {
            return None;
        };
        let start_ns = spec.start.as_nanos();
        let end_ns = spec.end.as_nanos();
        let len = (end_ns - start_ns) as f64 / 1e9;
        let mut done = false;
        let state = match &spec.process {
            Process::Constant { rate } => {
                done = *rate <= 0.0;
                State::Constant {
                    interval_ns: 1e9 / rate,
                    n: 0,
                }
            }
            Process::Poisson { rate } => {
                done = *rate <= 0.0;
                State::Poisson {
                    mean_gap: 1.0 / rate,
                    t: 0.0,
                }
            }
            Process::Schedule { segments, poisson } => State::Schedule {
                segs: segments.clone(),
                seg: 0,
                t: 0.0,
                poisson: *poisson,
                cum0: 0.0,
                n: 0,
            },
            Process::Sinusoid {
                mean,
                amplitude,
                omega,
                phase,
            } => {
                done = *mean <= 0.0;
                State::Sinusoid {
                    mean: *mean,
                    amplitude: *amplitude,
                    omega: *omega,
                    phase: *phase,
                    max: mean + amplitude,
                    t: 0.0,
                }
            }
            Process::OnOff {
                rates,
                means,
                initial,
            } => {
                done = rates[0] <= 0.0 && rates[1] <= 0.0;
                let on = match initial {
                    OnOffInitial::On => 1,
                    OnOffInitial::Off => 0,
                    OnOffInitial::Stationary => {
                        usize::from(rng.random::<f64>() * (means[0] + means[1]) < means[1])
                    }
                };
                // Sojourns are memoryless, so the first one left over from a
                // stationary start has the same distribution as any other.
                let switch_at = means[on] * rng.sample::<f64, _>(Exp1);
                State::OnOff {
                    rates: *rates,
                    means: *means,
                    on,
                    switch_at,
                    t: 0.0,
                }
            }
            Process::Trace { data, multiplier } => State::Trace {
                data: data.clone(),
                idx: 0,
                whole: multiplier.trunc() as u32,
                frac: multiplier.fract(),
                pending: 0,
            },
            Process::Azure2019 {
                counts,
                minute,
                spread,
                multiplier,
            } => State::Azure {
                counts: counts.clone(),
                minute_len: *minute,
                spread: *spread,
                multiplier: *multiplier,
                next_minute: 0,
                lo_ns: 0,
                hi_ns: 0,
                left: 0,
                total: 0,
                u: 0.0,
                rate: 0.0,
                t: 0.0,
                t_end: 0.0,
            },
        };
        Some(ArrivalGen {
            rng,
            start_ns,
            end_ns,
            len,
            done,
            state,
        })
    }

    /// Distinct tag names referenced by per-row trace tags ([`Arrival::tag`]
    /// indexes this).
    pub fn tag_names(&self) -> &[String] {
        match &self.state {
            State::Trace { data, .. } => &data.tag_names,
            _ => &[],
        }
    }

    fn step(&mut self) -> Step {
        let len = self.len;
        let rng = &mut self.rng;
        match &mut self.state {
            State::Constant { interval_ns, n } => {
                let off = (*n as f64 * *interval_ns).round();
                *n += 1;
                (off < u64::MAX as f64).then_some((off as u64, None, None))
            }
            State::Poisson { mean_gap, t } => {
                *t += *mean_gap * rng.sample::<f64, _>(Exp1);
                (*t < len).then(|| (ns(*t), None, None))
            }
            State::Schedule {
                segs,
                seg,
                t,
                poisson: true,
                ..
            } => {
                // Non-homogeneous Poisson by thinning, with a bound per piece
                // so that ramps from near zero do not waste draws elsewhere.
                loop {
                    if *t >= len {
                        return None;
                    }
                    let s = segs[*seg];
                    if s.max <= 0.0 {
                        if !s.t1.is_finite() {
                            return None;
                        }
                        *t = s.t1;
                        *seg += 1;
                        continue;
                    }
                    let cand = *t + rng.sample::<f64, _>(Exp1) / s.max;
                    if cand >= s.t1 {
                        // Memorylessness: restarting the clock at the piece
                        // boundary with the next bound is exact.
                        *t = s.t1;
                        *seg += 1;
                        continue;
                    }
                    *t = cand;
                    if *t >= len {
                        return None;
                    }
                    if s.b == 0.0 || rng.random::<f64>() * s.max <= s.a + s.b * (*t - s.t0) {
                        return Some((ns(*t), None, None));
                    }
                }
            }
            State::Schedule {
                segs, seg, cum0, n, ..
            } => {
                let target = *n as f64;
                *n += 1;
                loop {
                    let s = segs[*seg];
                    if target >= *cum0 + s.integral {
                        if !s.t1.is_finite() {
                            return None;
                        }
                        *cum0 += s.integral;
                        *seg += 1;
                        continue;
                    }
                    let x = target - *cum0;
                    // Solves a*tau + b*tau^2/2 = x in a form that is stable
                    // for b -> 0 and for b < 0.
                    let tau = if x <= 0.0 {
                        0.0
                    } else {
                        2.0 * x / (s.a + (s.a * s.a + 2.0 * s.b * x).max(0.0).sqrt())
                    };
                    let at = (s.t0 + tau).min(s.t1);
                    return (at < len).then(|| (ns(at), None, None));
                }
            }
            State::Sinusoid {
                mean,
                amplitude,
                omega,
                phase,
                max,
                t,
            } => loop {
                *t += rng.sample::<f64, _>(Exp1) / *max;
                if *t >= len {
                    return None;
                }
                if *amplitude == 0.0
                    || rng.random::<f64>() * *max
                        <= *mean + *amplitude * (*omega * (*t + *phase)).sin()
                {
                    return Some((ns(*t), None, None));
                }
            },
            State::OnOff {
                rates,
                means,
                on,
                switch_at,
                t,
            } => loop {
                if *t >= len {
                    return None;
                }
                let r = rates[*on];
                let cand = if r > 0.0 {
                    *t + rng.sample::<f64, _>(Exp1) / r
                } else {
                    f64::INFINITY
                };
                if cand >= *switch_at {
                    *t = *switch_at;
                    *on ^= 1;
                    *switch_at = *t + means[*on] * rng.sample::<f64, _>(Exp1);
                    continue;
                }
                *t = cand;
                return (*t < len).then(|| (ns(*t), None, None));
            },
            State::Trace {
                data,
                idx,
                whole,
                frac,
                pending,
            } => loop {
                if *pending > 0 {
                    *pending -= 1;
                    let i = *idx - 1;
                    let d = data
                        .durations
                        .as_ref()
                        .map(|d| d[i])
                        .filter(|d| *d != NO_DURATION)
                        .map(SimDuration);
                    let tag = data.tags.as_ref().map(|t| t[i]).filter(|t| *t != NO_TAG);
                    return Some((data.times[i], d, tag));
                }
                if *idx >= data.times.len() {
                    return None;
                }
                *pending = *whole + u32::from(*frac > 0.0 && rng.random::<f64>() < *frac);
                *idx += 1;
            },
            State::Azure {
                counts,
                minute_len,
                spread,
                multiplier,
                next_minute,
                lo_ns,
                hi_ns,
                left,
                total,
                u,
                rate,
                t,
                t_end,
            } => loop {
                let width = *hi_ns - *lo_ns;
                if *left > 0 {
                    // Position within the minute, in [0, 1).
                    let pos = match spread {
                        Spread::Even => ((*total - *left) as f64 + 0.5) / *total as f64,
                        _ => {
                            // Next of `left` sorted uniforms above `u`: the
                            // minimum of n uniforms on (u, 1) is
                            // 1 - (1 - u) V^(1/n). No buffer, no sort.
                            let v = 1.0 - rng.random::<f64>();
                            let p = if *left == 1 {
                                v
                            } else {
                                v.powf(1.0 / *left as f64)
                            };
                            *u = (1.0 - (1.0 - *u) * p).max(*u);
                            *u
                        }
                    };
                    *left -= 1;
                    let off = (pos * width as f64) as u64;
                    // Clamp so that rounding never moves a request into the
                    // next minute: minute counts must replay exactly.
                    return Some((*lo_ns + off.min(width.saturating_sub(1)), None, None));
                }
                if *rate > 0.0 {
                    *t += rng.sample::<f64, _>(Exp1) / *rate;
                    if *t < *t_end {
                        let off = ns(*t).clamp(*lo_ns, hi_ns.saturating_sub(1));
                        return Some((off, None, None));
                    }
                    *rate = 0.0;
                }
                // Open the next minute.
                let m = *next_minute;
                if m >= counts.len() {
                    return None;
                }
                let start = m as f64 * *minute_len;
                if start >= len {
                    return None;
                }
                *next_minute += 1;
                *lo_ns = ns(start);
                *hi_ns = ns(start + *minute_len).max(*lo_ns + 1);
                let c = f64::from(counts[m]) * *multiplier;
                match spread {
                    Spread::Poisson => {
                        *rate = c / *minute_len;
                        *t = start;
                        *t_end = start + *minute_len;
                    }
                    _ => {
                        let n = c.trunc() as u64 + u64::from(rng.random::<f64>() < c.fract());
                        *left = n;
                        *total = n;
                        *u = 0.0;
                    }
                }
            },
        }
    }
}

/// Arrivals in time order (`next` is the generator's only way to advance).
impl Iterator for ArrivalGen {
    type Item = Arrival;

    /// Next arrival; times never decrease. `None` once the source is
    /// exhausted or past its end (which is at most the horizon), and from
    /// then on.
    #[inline]
    fn next(&mut self) -> Option<Arrival> {
        if self.done {
            return None;
        }
        match self.step() {
            Some((off, duration, tag)) if self.start_ns.saturating_add(off) < self.end_ns => {
                Some(Arrival {
                    time: SimTime(self.start_ns + off),
                    duration,
                    tag,
                })
            }
            _ => {
                self.done = true;
                None
            }
        }
    }
}

impl std::iter::FusedIterator for ArrivalGen {}
