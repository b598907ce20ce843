//! Workloads: where requests come from and how long they take.
//!
//! A scenario lists `[[workload]]` sources, each an arrival process aimed at
//! the service's main route or at a tag. Sources are described in two
//! stages: [`WorkloadSpec`] is the raw, serde-deserialized form of the
//! scenario file; [`build_workloads`] validates every source (reading any
//! trace file once) into [`Workloads`], which the engine trusts. The engine
//! then pulls requests from one lazy [`ArrivalGen`] per open-loop source, and
//! drives closed-loop sources itself (a client re-issues a request one think
//! time after its previous response).
//!
//! ```text
//!  [[workload]] ──build_workloads──▶ Source ──ArrivalGen::next──▶ Arrival { time, duration, tag }
//!  [load]  (speedup, rate-multiplier)          (closed loop: clients + think Dist, driven by the engine)
//! ```
//!
//! Service-time, cold-start and think-time distributions live in [`dist`].
//! Sample traces in the supported file formats are written by
//! [`samples::generate`].

mod arrivals;
mod cost;
pub mod dist;
mod duration;
mod error;
pub mod samples;
mod spec;
mod trace;

pub use arrivals::ArrivalGen;
pub use dist::{Dist, DistSpec, Slowdown, SlowdownSpec, TimeUnit};
pub use duration::DurationValue;
pub use error::WorkloadError;
pub use spec::{ArrivalSpec, Interpolation, LoadOptionsSpec, OnOffInitial, Spread, WorkloadSpec};
pub use trace::Origin;

use crate::sim::{SimDuration, SimTime};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use trace::{AzureSelect, ColumnChoice, TraceData, Window};

/// Validated set of sources.
#[derive(Clone, Debug)]
pub struct Workloads {
    /// Sources in scenario order.
    pub sources: Vec<Source>,
}

impl Workloads {
    /// The arrivals of source `index` exactly as a simulation with master
    /// seed `streams` draws them (`None` for a closed-loop source). The
    /// simulator and knload's `--scenario` both call this, so a measured
    /// run sends its requests at the times the prediction assumed.
    pub fn arrivals(&self, index: usize, streams: &crate::sim::RngStreams) -> Option<ArrivalGen> {
        let src = self.sources.get(index)?;
        ArrivalGen::new(src, streams.get(crate::sim::Stream::Arrivals, index as u64))
    }
}

/// One validated workload source.
#[derive(Clone, Debug)]
pub struct Source {
    /// Unique name.
    pub name: String,
    /// Tag address (None = the service's main route).
    pub tag: Option<String>,
    /// Open or closed loop.
    pub kind: SourceKind,
}

/// Open-loop sources produce arrivals on their own; closed-loop sources
/// react to responses.
#[derive(Clone, Debug)]
pub enum SourceKind {
    /// Arrivals independent of the system's responses; see [`ArrivalGen`].
    Open(OpenLoopSpec),
    /// A fixed population of clients.
    Closed {
        /// Number of clients, each with one request outstanding or thinking.
        clients: u32,
        /// Think time between a response and the client's next request
        /// (already divided by the speedup).
        think: Dist,
        /// When every client sends its first request.
        start: SimTime,
        /// After this, clients send no more requests.
        end: SimTime,
    },
}

/// A validated open-loop source: its time window and arrival process, with
/// `speedup` and `rate-multiplier` already applied. Cheap to clone (trace
/// data is shared).
#[derive(Clone, Debug)]
pub struct OpenLoopSpec {
    /// First possible arrival.
    pub start: SimTime,
    /// Arrivals at or after this are not produced (at most the horizon).
    pub end: SimTime,
    pub(crate) process: Process,
}

impl OpenLoopSpec {
    /// True if arrivals may carry their own durations (from a trace).
    pub fn has_durations(&self) -> bool {
        matches!(&self.process, Process::Trace { data, .. } if data.durations.is_some())
    }

    /// Distinct per-row tags of a trace ([`Arrival::tag`] indexes this).
    pub fn tag_names(&self) -> &[String] {
        match &self.process {
            Process::Trace { data, .. } => &data.tag_names,
            _ => &[],
        }
    }

    /// Number of requests a replayed trace holds inside the source's window
    /// before the rate multiplier (None for synthetic processes).
    pub fn trace_len(&self) -> Option<usize> {
        match &self.process {
            Process::Trace { data, .. } => Some(data.times.len()),
            Process::Azure2019 { counts, .. } => Some(counts.iter().map(|c| *c as usize).sum()),
            _ => None,
        }
    }
}

/// One request produced by an open-loop source.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrival {
    /// When the request arrives.
    pub time: SimTime,
    /// From a trace; overrides the revision's service time.
    pub duration: Option<SimDuration>,
    /// Index into [`ArrivalGen::tag_names`] (None = the source's own tag).
    pub tag: Option<u16>,
}

/// A piece of a rate schedule on `[t0, t1)` with rate `a + b (t - t0)`;
/// times in seconds since the source's start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Segment {
    pub t0: f64,
    /// End of the piece (infinite for the last).
    pub t1: f64,
    /// Rate at `t0`.
    pub a: f64,
    /// Slope (0 for the last piece).
    pub b: f64,
    /// Largest rate on the piece (for thinning).
    pub max: f64,
    /// Integral of the rate over the piece (infinite for the last piece
    /// unless its rate is 0).
    pub integral: f64,
}

impl Segment {
    fn new(t0: f64, t1: f64, a: f64, b: f64) -> Segment {
        let end_rate = if t1.is_finite() { a + b * (t1 - t0) } else { a };
        let integral = if t1.is_finite() {
            (a + end_rate) / 2.0 * (t1 - t0)
        } else if a > 0.0 {
            f64::INFINITY
        } else {
            0.0
        };
        Segment {
            t0,
            t1,
            a,
            b,
            max: a.max(end_rate),
            integral,
        }
    }
}

/// The validated arrival process of an open-loop source, in the source's own
/// time (seconds since its start) with speedup and multiplier applied.
#[derive(Clone, Debug)]
pub(crate) enum Process {
    Constant {
        rate: f64,
    },
    Poisson {
        rate: f64,
    },
    Schedule {
        segments: Arc<[Segment]>,
        poisson: bool,
    },
    Sinusoid {
        mean: f64,
        amplitude: f64,
        omega: f64,
        phase: f64,
    },
    OnOff {
        /// Indexed by state: 0 = off, 1 = on.
        rates: [f64; 2],
        means: [f64; 2],
        initial: OnOffInitial,
    },
    Trace {
        data: Arc<TraceData>,
        multiplier: f64,
    },
    Azure2019 {
        counts: Arc<[u32]>,
        /// Length of one minute of the trace in simulated seconds.
        minute: f64,
        spread: Spread,
        multiplier: f64,
    },
}

struct Ctx<'a> {
    path: String,
    base_dir: &'a Path,
    speedup: f64,
    multiplier: f64,
    errors: Vec<WorkloadError>,
}

impl Ctx<'_> {
    fn field(&self, f: &str) -> String {
        format!("{}.{f}", self.path)
    }

    fn fail(&mut self, field: &str, rule: impl Into<String>) {
        self.errors
            .push(WorkloadError::invalid(self.field(field), rule));
    }

    fn rate(&mut self, field: &str, r: f64) -> f64 {
        if !r.is_finite() || r < 0.0 {
            self.fail(
                field,
                format!("rate must be a non-negative number of requests per second, got {r}"),
            );
            return 0.0;
        }
        r * self.speedup * self.multiplier
    }

    /// A duration of the source's own timeline, divided by the speedup.
    fn span(&mut self, field: &str, v: &DurationValue) -> f64 {
        match v.secs(&self.field(field)) {
            Ok(s) => s / self.speedup,
            Err(e) => {
                self.errors.push(e);
                0.0
            }
        }
    }

    fn positive_span(&mut self, field: &str, v: &DurationValue) -> f64 {
        let s = self.span(field, v);
        if s == 0.0 && v.secs("").is_ok() {
            self.fail(field, "must be longer than zero");
        }
        s
    }

    fn keep<T>(&mut self, r: Result<T, WorkloadError>) -> Option<T> {
        r.map_err(|e| self.errors.push(e)).ok()
    }
}

fn scale_option(errors: &mut Vec<WorkloadError>, field: &str, v: Option<f64>) -> f64 {
    match v {
        None => 1.0,
        Some(x) if x.is_finite() && x > 0.0 => x,
        Some(x) => {
            errors.push(WorkloadError::invalid(
                format!("load.{field}"),
                format!("{field} must be a positive number, got {x}"),
            ));
            1.0
        }
    }
}

/// Validates every `[[workload]]` entry under the global `[load]` options.
/// `base_dir` resolves relative trace paths (the scenario file's directory);
/// `horizon` is the scenario's simulated duration, which bounds every source.
/// Trace files are read here, once. All problems are reported, not just the
/// first.
pub fn build_workloads(
    specs: &[WorkloadSpec],
    opts: &LoadOptionsSpec,
    base_dir: &Path,
    horizon: SimTime,
) -> Result<Workloads, Vec<WorkloadError>> {
    let mut errors = Vec::new();
    let speedup = scale_option(&mut errors, "speedup", opts.speedup);
    let multiplier = scale_option(&mut errors, "rate-multiplier", opts.rate_multiplier);
    let mut names = BTreeSet::new();
    let mut sources = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let mut cx = Ctx {
            path: format!("workload[{i}]"),
            base_dir,
            speedup,
            multiplier,
            errors: Vec::new(),
        };
        let source = build_source(&mut cx, spec, i, horizon);
        if let Some(s) = &source {
            if !names.insert(s.name.clone()) {
                cx.fail(
                    "name",
                    format!("the name {:?} is used by an earlier workload", s.name),
                );
            }
        }
        if cx.errors.is_empty() {
            sources.extend(source);
        }
        errors.append(&mut cx.errors);
    }
    if errors.is_empty() {
        Ok(Workloads { sources })
    } else {
        Err(errors)
    }
}

fn build_source(
    cx: &mut Ctx<'_>,
    spec: &WorkloadSpec,
    i: usize,
    horizon: SimTime,
) -> Option<Source> {
    let name = spec.name.clone().unwrap_or_else(|| format!("workload-{i}"));
    if name.trim().is_empty() {
        cx.fail("name", "the name must not be empty");
    }
    if spec.tag.as_deref().is_some_and(|t| t.trim().is_empty()) {
        cx.fail(
            "tag",
            "the tag must not be empty (leave it out to use the main route)",
        );
    }
    let start = match &spec.start {
        None => SimTime::ZERO,
        Some(v) => SimTime::ZERO + cx.keep(v.duration(&cx.field("start")))?,
    };
    let end = match &spec.end {
        None => horizon,
        Some(v) => (SimTime::ZERO + cx.keep(v.duration(&cx.field("end")))?).min(horizon),
    };
    if end <= start {
        let what = if spec.end.is_some() && end < horizon {
            format!("end ({end}) is not after start ({start})")
        } else {
            format!("start ({start}) is at or after the end of the scenario ({horizon})")
        };
        cx.fail(if spec.end.is_some() { "end" } else { "start" }, what);
        return None;
    }
    let length_ns = (end - start).as_nanos();
    let kind = build_kind(cx, &spec.arrival, start, end, length_ns)?;
    Some(Source {
        name,
        tag: spec.tag.clone(),
        kind,
    })
}

fn build_kind(
    cx: &mut Ctx<'_>,
    arrival: &ArrivalSpec,
    start: SimTime,
    end: SimTime,
    length_ns: u64,
) -> Option<SourceKind> {
    let open = |process| {
        Some(SourceKind::Open(OpenLoopSpec {
            start,
            end,
            process,
        }))
    };
    let window = |cx: &mut Ctx<'_>, origin, offset: &Option<DurationValue>| -> Option<Window> {
        let offset_ns = match offset {
            None => 0,
            Some(v) => cx.keep(v.duration(&cx.field("arrival.offset")))?.as_nanos(),
        };
        Some(Window {
            origin,
            offset_ns,
            speedup: cx.speedup,
            length_ns,
        })
    };
    match arrival {
        ArrivalSpec::Constant { rate } => open(Process::Constant {
            rate: cx.rate("arrival.rate", *rate),
        }),
        ArrivalSpec::Poisson { rate } => open(Process::Poisson {
            rate: cx.rate("arrival.rate", *rate),
        }),
        ArrivalSpec::Schedule {
            points,
            interpolation,
            poisson,
        } => {
            let segments =
                build_schedule(cx, points, interpolation.unwrap_or(Interpolation::Linear))?;
            open(Process::Schedule {
                segments,
                poisson: poisson.unwrap_or(true),
            })
        }
        ArrivalSpec::Sinusoid {
            mean,
            amplitude,
            period,
            phase,
        } => {
            let m = cx.rate("arrival.mean", *mean);
            let a = cx.rate("arrival.amplitude", *amplitude);
            if a > m {
                cx.fail(
                    "arrival.amplitude",
                    format!("amplitude ({amplitude}/s) must not exceed the mean ({mean}/s): the rate would go negative"),
                );
            }
            let period = period.clone().unwrap_or_else(|| DurationValue::from("24h"));
            let p = cx.positive_span("arrival.period", &period);
            let ph = phase.as_ref().map_or(0.0, |v| cx.span("arrival.phase", v));
            open(Process::Sinusoid {
                mean: m,
                amplitude: a,
                omega: std::f64::consts::TAU / p,
                phase: ph,
            })
        }
        ArrivalSpec::OnOff {
            on_rate,
            off_rate,
            mean_on_time,
            mean_off_time,
            initial,
        } => {
            let on = cx.rate("arrival.on-rate", *on_rate);
            let off = cx.rate("arrival.off-rate", off_rate.unwrap_or(0.0));
            let t_on = cx.positive_span("arrival.mean-on-time", mean_on_time);
            let t_off = cx.positive_span("arrival.mean-off-time", mean_off_time);
            open(Process::OnOff {
                rates: [off, on],
                means: [t_off, t_on],
                initial: initial.unwrap_or(OnOffInitial::Stationary),
            })
        }
        ArrivalSpec::ClosedLoop { clients, think } => {
            let think = match think {
                None => Dist::constant(0.0),
                Some(d) => cx.keep(d.build(&cx.field("arrival.think"), cx.base_dir))?,
            };
            let think = if cx.speedup == 1.0 {
                think
            } else {
                think.scaled(1.0 / cx.speedup)
            };
            let scaled = (f64::from(*clients) * cx.multiplier).round();
            if *clients == 0 {
                cx.fail("arrival.clients", "a closed loop needs at least 1 client");
            } else if scaled < 1.0 || scaled > f64::from(u32::MAX) {
                cx.fail(
                    "arrival.clients",
                    format!("rate-multiplier {} leaves {scaled} clients", cx.multiplier),
                );
            }
            Some(SourceKind::Closed {
                clients: scaled.clamp(1.0, f64::from(u32::MAX)) as u32,
                think,
                start,
                end,
            })
        }
        ArrivalSpec::Trace {
            file,
            origin,
            offset,
            use_durations,
            use_tags,
            duration_column,
            tag_column,
        } => {
            let win = window(cx, origin.unwrap_or(Origin::Zero), offset)?;
            let durations = column_choice(
                cx,
                *use_durations,
                duration_column,
                "duration",
                "duration_s",
            );
            let tags = column_choice(cx, *use_tags, tag_column, "tag", "tag");
            let data = cx.keep(trace::load_request_trace(
                &cx.base_dir.join(file),
                &cx.field("arrival.file"),
                win,
                durations,
                tags,
            ))?;
            open(Process::Trace {
                data: Arc::new(data),
                multiplier: cx.multiplier,
            })
        }
        ArrivalSpec::Azure2019 {
            file,
            owner,
            app,
            function,
            trigger,
            top,
            from_minute,
            to_minute,
            spread,
        } => {
            let select = AzureSelect {
                owner: owner.clone(),
                app: app.clone(),
                function: function.clone(),
                trigger: trigger.clone(),
                top: *top,
            };
            if select.owner.is_none()
                && select.app.is_none()
                && select.function.is_none()
                && select.trigger.is_none()
                && select.top.is_none()
            {
                cx.fail(
                    "arrival",
                    "select functions with at least one of function, app, owner, trigger or top",
                );
                return None;
            }
            if *top == Some(0) {
                cx.fail("arrival.top", "top must be at least 1");
                return None;
            }
            let counts = cx.keep(trace::load_azure_2019(
                &cx.base_dir.join(file),
                &cx.field("arrival.file"),
                &select,
                from_minute.unwrap_or(1),
                *to_minute,
            ))?;
            open(Process::Azure2019 {
                counts: counts.into(),
                minute: 60.0 / cx.speedup,
                spread: spread.unwrap_or(Spread::Uniform),
                multiplier: cx.multiplier,
            })
        }
        ArrivalSpec::Azure2021 {
            file,
            app,
            function,
            top,
            origin,
            offset,
            use_durations,
        } => {
            if *top == Some(0) {
                cx.fail("arrival.top", "top must be at least 1");
                return None;
            }
            let select = AzureSelect {
                app: app.clone(),
                function: function.clone(),
                top: *top,
                ..AzureSelect::default()
            };
            let win = window(cx, origin.unwrap_or(Origin::First), offset)?;
            let data = cx.keep(trace::load_azure_2021(
                &cx.base_dir.join(file),
                &cx.field("arrival.file"),
                &select,
                win,
                use_durations.unwrap_or(true),
            ))?;
            open(Process::Trace {
                data: Arc::new(data),
                multiplier: cx.multiplier,
            })
        }
    }
}

fn column_choice<'a>(
    cx: &mut Ctx<'_>,
    used: Option<bool>,
    named: &'a Option<String>,
    field: &str,
    default: &'a str,
) -> ColumnChoice<'a> {
    match (used.unwrap_or(true), named) {
        (false, Some(_)) => {
            cx.fail(
                &format!("arrival.{field}-column"),
                format!("{field}-column has no effect with use-{field}s = false"),
            );
            ColumnChoice::Off
        }
        (false, None) => ColumnChoice::Off,
        (true, None) => ColumnChoice::Default(default),
        (true, Some(n)) => ColumnChoice::Named(n.as_str()),
    }
}

fn build_schedule(
    cx: &mut Ctx<'_>,
    points: &[(DurationValue, f64)],
    interp: Interpolation,
) -> Option<Arc<[Segment]>> {
    if points.is_empty() {
        cx.fail(
            "arrival.points",
            "a schedule needs at least one [time, rate] point",
        );
        return None;
    }
    let before = cx.errors.len();
    let mut pts = Vec::with_capacity(points.len());
    for (k, (t, r)) in points.iter().enumerate() {
        let t = cx.span(&format!("arrival.points[{k}][0]"), t);
        let r = cx.rate(&format!("arrival.points[{k}][1]"), *r);
        if let Some(&(prev, _)) = pts.last() {
            if t < prev {
                cx.fail(
                    &format!("arrival.points[{k}][0]"),
                    "schedule times must not decrease from one point to the next",
                );
            }
        }
        pts.push((t, r));
    }
    if cx.errors.len() > before {
        return None;
    }
    let mut segs = Vec::with_capacity(pts.len() + 1);
    let (t_first, r_first) = pts[0];
    if t_first > 0.0 {
        segs.push(Segment::new(0.0, t_first, r_first, 0.0));
    }
    for w in pts.windows(2) {
        let ((t0, r0), (t1, r1)) = (w[0], w[1]);
        if t1 > t0 {
            let b = match interp {
                Interpolation::Linear => (r1 - r0) / (t1 - t0),
                Interpolation::Step => 0.0,
            };
            segs.push(Segment::new(t0, t1, r0, b));
        }
    }
    let (t_last, r_last) = pts[pts.len() - 1];
    segs.push(Segment::new(t_last, f64::INFINITY, r_last, 0.0));
    Some(segs.into())
}

#[cfg(test)]
mod tests;
