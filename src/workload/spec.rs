//! Workload sources as a scenario file writes them (`[[workload]]`,
//! `[load]`): serde types with no policy; `build_workloads` checks them.

use super::trace::Origin;
use super::{DistSpec, DurationValue};
use serde::{Deserialize, Serialize};

/// One `[[workload]]` entry of a scenario.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WorkloadSpec {
    /// Name used in reports (default `workload-<index>`); must be unique.
    pub name: Option<String>,
    /// Tag address to send to (None = the service's main route).
    pub tag: Option<String>,
    /// Simulated time at which the source starts (default 0). The source's
    /// own timeline (schedule points, trace time zero) begins here.
    pub start: Option<DurationValue>,
    /// Simulated time at which the source stops (default: the end of the
    /// scenario). Requests at or after it are not sent.
    pub end: Option<DurationValue>,
    /// How requests arrive.
    pub arrival: ArrivalSpec,
}

/// Global `[load]` table: scales every source.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LoadOptionsSpec {
    /// Time compression of every source's own timeline (default 1.0): trace
    /// timestamps, schedule points, periods, on/off and think times are
    /// divided by it and rates multiplied by it, so the same requests arrive
    /// `speedup` times faster. Request durations from traces are not scaled.
    pub speedup: Option<f64>,
    /// Traffic volume factor (default 1.0): rates are multiplied by it;
    /// trace rows are replicated or thinned at random; Azure 2019 minute
    /// counts are scaled; closed-loop client counts are scaled and rounded.
    pub rate_multiplier: Option<f64>,
}

/// Interpolation between the points of a rate schedule.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Interpolation {
    /// The rate ramps linearly from one point to the next.
    Linear,
    /// The rate jumps at each point and holds until the next.
    Step,
}

/// State of an on/off source at its start.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum OnOffInitial {
    /// Starts in the on state.
    On,
    /// Starts in the off state.
    Off,
    /// Starts on with the long-run fraction of time spent on (the default),
    /// so the expected rate is the same at every instant.
    Stationary,
}

/// How an Azure 2019 minute's requests are placed within the minute.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Spread {
    /// Exactly the minute's count, at independent uniform times (the
    /// default; this is a Poisson process conditioned on the count).
    Uniform,
    /// Exactly the minute's count, evenly spaced (deterministic).
    Even,
    /// A Poisson process at the minute's count per minute: the count varies
    /// around the recorded one.
    Poisson,
}

/// An arrival process, tagged by the key `process`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "process", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ArrivalSpec {
    /// Evenly spaced requests at `rate` per second, the first at the start.
    Constant {
        /// Requests per second.
        rate: f64,
    },
    /// A Poisson process at `rate` per second.
    Poisson {
        /// Requests per second.
        rate: f64,
    },
    /// A piecewise rate schedule. Before the first point the first rate
    /// holds, after the last point the last rate holds.
    #[serde(rename_all = "kebab-case")]
    Schedule {
        /// `[time, rate]` pairs with non-decreasing times since the source's
        /// start, e.g. `[["0s", 10], ["60s", 100]]`.
        points: Vec<(DurationValue, f64)>,
        /// `linear` ramps (default) or `step`s.
        interpolation: Option<Interpolation>,
        /// Poisson arrivals (default `true`, a non-homogeneous Poisson
        /// process by thinning) or deterministic spacing (`false`: the k-th
        /// request arrives when the integral of the rate reaches k).
        poisson: Option<bool>,
    },
    /// A Poisson process whose rate follows
    /// `mean + amplitude * sin(2π (t + phase) / period)`.
    #[serde(rename_all = "kebab-case")]
    Sinusoid {
        /// Mean rate, requests per second.
        mean: f64,
        /// Amplitude, requests per second (at most `mean`).
        amplitude: f64,
        /// Period (default `"24h"`).
        period: Option<DurationValue>,
        /// Shift of the curve (default 0).
        phase: Option<DurationValue>,
    },
    /// Bursts: a two-state Markov-modulated Poisson process. The state
    /// alternates between on and off with exponentially distributed sojourns.
    #[serde(rename_all = "kebab-case")]
    OnOff {
        /// Rate while on, requests per second.
        on_rate: f64,
        /// Rate while off (default 0).
        off_rate: Option<f64>,
        /// Mean length of an on period.
        mean_on_time: DurationValue,
        /// Mean length of an off period.
        mean_off_time: DurationValue,
        /// State at the start (default `stationary`).
        initial: Option<OnOffInitial>,
    },
    /// A closed loop of `clients` clients, each sending a request, waiting
    /// for the response, thinking, and sending the next (like `hey -c N`).
    ClosedLoop {
        /// Number of clients (at least 1), all starting at the source's start.
        clients: u32,
        /// Think time between a response and the next request (default 0).
        think: Option<DistSpec>,
    },
    /// Replay of a per-request CSV trace `timestamp_s[,duration_s][,tag]`.
    #[serde(rename_all = "kebab-case")]
    Trace {
        /// CSV file, relative to the scenario file's directory.
        file: String,
        /// Where trace time zero is (default `zero`: timestamp 0).
        origin: Option<Origin>,
        /// Trace time that maps to the source's start; earlier rows are
        /// skipped (default 0).
        offset: Option<DurationValue>,
        /// Use the duration column as service times (default true).
        use_durations: Option<bool>,
        /// Send rows to their tag column's tag (default true).
        use_tags: Option<bool>,
        /// Name of the duration column (default `duration_s`, used if
        /// present); naming it makes it required.
        duration_column: Option<String>,
        /// Name of the tag column (default `tag`, used if present); naming
        /// it makes it required.
        tag_column: Option<String>,
    },
    /// Replay of Azure Functions 2019 per-minute invocation counts
    /// (`HashOwner,HashApp,HashFunction,Trigger,1..1440`). The counts of all
    /// selected functions are added up.
    #[serde(rename = "azure-2019", rename_all = "kebab-case")]
    Azure2019 {
        /// CSV file, relative to the scenario file's directory.
        file: String,
        /// Only functions of this owner hash.
        owner: Option<String>,
        /// Only functions of this app hash.
        app: Option<String>,
        /// Only the function with this hash.
        function: Option<String>,
        /// Only functions with this trigger (e.g. `http`).
        trigger: Option<String>,
        /// Only the N busiest matching functions.
        top: Option<u32>,
        /// First minute column to replay (default 1).
        from_minute: Option<u32>,
        /// Last minute column to replay (default: the last in the file).
        to_minute: Option<u32>,
        /// Placement within each minute (default `uniform`).
        spread: Option<Spread>,
    },
    /// Replay of the Azure Functions 2021 invocation trace
    /// (`app,func,end_timestamp,duration`); a request arrives at
    /// `end_timestamp - duration` and its duration overrides the service time.
    #[serde(rename = "azure-2021", rename_all = "kebab-case")]
    Azure2021 {
        /// CSV file, relative to the scenario file's directory.
        file: String,
        /// Only this app hash.
        app: Option<String>,
        /// Only this function hash.
        function: Option<String>,
        /// Only the N busiest matching functions.
        top: Option<u32>,
        /// Where trace time zero is (default `first`: the earliest arrival).
        origin: Option<Origin>,
        /// Trace time that maps to the source's start (default 0).
        offset: Option<DurationValue>,
        /// Use the durations as service times (default true).
        use_durations: Option<bool>,
    },
}

impl ArrivalSpec {
    /// The `process` key of this variant.
    pub fn process_name(&self) -> &'static str {
        match self {
            ArrivalSpec::Constant { .. } => "constant",
            ArrivalSpec::Poisson { .. } => "poisson",
            ArrivalSpec::Schedule { .. } => "schedule",
            ArrivalSpec::Sinusoid { .. } => "sinusoid",
            ArrivalSpec::OnOff { .. } => "on-off",
            ArrivalSpec::ClosedLoop { .. } => "closed-loop",
            ArrivalSpec::Trace { .. } => "trace",
            ArrivalSpec::Azure2019 { .. } => "azure-2019",
            ArrivalSpec::Azure2021 { .. } => "azure-2021",
        }
    }
}
