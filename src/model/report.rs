//! What a run produces: one [`Summary`] and a stream of [`TimeseriesRow`]s.
//! Field names carry their units.

use crate::sim::SimTime;
use serde::{Deserialize, Serialize};

/// Latency percentiles of successful requests, in milliseconds.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct LatencySummary {
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Maximum.
    pub max_ms: f64,
    /// Mean.
    pub mean_ms: f64,
}

/// One point of a latency distribution.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct QuantilePoint {
    /// Quantile in [0, 1].
    pub quantile: f64,
    /// Latency at that quantile, milliseconds.
    pub latency_ms: f64,
}

/// Request outcome counts.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RequestCounts {
    /// Requests that arrived at the ingress.
    pub arrived: u64,
    /// Requests answered 200.
    pub completed: u64,
    /// Requests answered 503 (queue-proxy queue full).
    pub status_503: u64,
    /// Requests answered 504 (revision timeout).
    pub status_504: u64,
    /// Requests the application answered 500 (a revision's
    /// `failure-probability`); written only when there were any.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub status_500: u64,
    /// Requests for a tag that no traffic target carries (404 at the ingress).
    pub status_404: u64,
    /// Requests still in flight when the run ended.
    pub in_flight_at_end: u64,
    /// Requests that arrived while no pod of their revision could take them
    /// (buffered by the activator until a pod started).
    pub waited_on_cold_start: u64,
}

/// Per-revision results.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RevisionSummary {
    /// Revision name.
    pub name: String,
    /// Share of routed requests that went to this revision.
    pub observed_share: f64,
    /// Request outcomes.
    pub requests: RequestCounts,
    /// Latency of successful requests.
    pub latency: LatencySummary,
    /// Pods started (each one a cold start).
    pub cold_starts: u64,
    /// Pod-seconds from scheduling until the pod was gone (cost).
    pub pod_seconds: f64,
    /// Most pods ready at once.
    pub max_ready_pods: u32,
    /// Simulated seconds the decider was in panic mode.
    pub panic_seconds: u64,
    /// Simulated seconds the activator was in the request path (SKS Proxy).
    pub activator_in_path_seconds: u64,
}

/// The result of one run.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// Simulated seconds.
    pub simulated_seconds: f64,
    /// Request outcomes over all revisions.
    pub requests: RequestCounts,
    /// Latency of successful requests over all revisions.
    pub latency: LatencySummary,
    /// Pods started over all revisions.
    pub cold_starts: u64,
    /// Pod-seconds over all revisions.
    pub pod_seconds: f64,
    /// Most pods ready at once over the service.
    pub max_ready_pods: u32,
    /// Seconds in which any revision was in panic mode.
    pub panic_seconds: u64,
    /// Seconds in which any revision had the activator in path.
    pub activator_in_path_seconds: u64,
    /// Per revision, in scenario order.
    pub revisions: Vec<RevisionSummary>,
    /// Latency of successful requests at fixed quantiles (a CDF for plots).
    pub latency_distribution: Vec<QuantilePoint>,
    /// Simulation work (deterministic, like every other field).
    pub performance: Performance,
    /// Eventing delivery, for scenarios with an `[eventing]` table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eventing: Option<EventingSummary>,
}

/// How much work the run was. Wall-clock speed is not here: it differs
/// between runs, so the caller measures it around [`crate::model::simulate`]
/// (see [`crate::output::Speed`]).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Performance {
    /// Events processed.
    pub events_processed: u64,
}

/// One simulated second of one revision.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TimeseriesRow {
    /// End of the second (simulated seconds).
    pub time_s: u64,
    /// Revision name.
    pub revision: String,
    /// Requests routed to the revision during the second.
    pub arrivals: u64,
    /// Requests of the revision answered 200 during the second.
    pub completed: u64,
    /// Requests answered 503 or 504 during the second.
    pub errors: u64,
    /// Median latency of the second's successful requests, ms (0 if none).
    pub p50_ms: f64,
    /// 99th-percentile latency of the second's successful requests, ms (0 if none).
    pub p99_ms: f64,
    /// Requests in the system (activator queue, queue-proxy, app) at the end.
    pub in_flight: u64,
    /// Requests buffered in activators at the end.
    pub activator_queue: u64,
    /// Stable-window concurrency seen by the last decision.
    pub stable_concurrency: f64,
    /// Panic-window concurrency seen by the last decision.
    pub panic_concurrency: f64,
    /// The decider's desired scale (−1 before its first decision).
    pub desired_pods: i32,
    /// Replicas the KPA set on the Deployment.
    pub replicas: u32,
    /// Pods Ready in Kubernetes.
    pub ready_pods: u32,
    /// Pods created but not yet Ready (starting or unschedulable).
    pub pending_pods: u32,
    /// Of the pending pods, those waiting for cluster capacity.
    pub unschedulable_pods: u32,
    /// Pods draining after removal.
    pub terminating_pods: u32,
    /// 1 while the decider is in panic mode.
    pub panic: u8,
    /// 1 while the activator is in the request path (SKS Proxy mode).
    pub activator_in_path: u8,
    /// Excess burst capacity from the last decision.
    pub excess_burst_capacity: i32,
    /// Activators the revision is spread over.
    pub num_activators: u32,
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestOutcome {
    /// Answered 200.
    Ok,
    /// Answered 503: the queue-proxy's queue was full.
    Overflow,
    /// Answered 504: the revision timeout passed.
    Timeout,
    /// Answered 500 by the application (a revision's failure probability).
    AppError,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Per Trigger: what happened to the events it matched.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TriggerSummary {
    /// Trigger name.
    pub name: String,
    /// The Service it delivers to.
    pub subscriber: String,
    /// Events that passed its filter.
    pub matched: u64,
    /// Delivered (2xx) on the first attempt.
    pub delivered_first_try: u64,
    /// Delivered after retries: entry `n - 1` counts events delivered after
    /// exactly `n` retries.
    pub delivered_after_retries: Vec<u64>,
    /// Sent to the dead-letter sink after the last attempt failed.
    pub dead_lettered: u64,
    /// Failed after the last attempt with no dead-letter sink (lost).
    pub failed_without_sink: u64,
    /// Still being delivered when the run ended.
    pub in_flight_at_end: u64,
    /// Attempts made for events that finished (delivered, dead-lettered or
    /// lost), so attempts per finished event is this over their count.
    pub attempts_of_finished: u64,
    /// Attempts made in all, first tries and retries.
    pub attempts: u64,
    /// From the source's send to the 2xx of the successful attempt.
    pub delivery_latency: LatencySummary,
}

/// Per Service: how much of its load was retried events.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ServiceEventLoad {
    /// Service name.
    pub name: String,
    /// Requests that reached the Service (events and direct traffic).
    pub requests: u64,
    /// Of those, first attempts of events.
    pub event_first_attempts: u64,
    /// Of those, retries of events.
    pub event_retries: u64,
    /// `event_retries / requests` (0 with no requests).
    pub retry_share: f64,
}

/// The eventing part of a run (only for scenarios with `[eventing]`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct EventingSummary {
    /// Events the sources sent to the Broker.
    pub events_sent: u64,
    /// Per Trigger, in scenario order.
    pub triggers: Vec<TriggerSummary>,
    /// Per subscriber Service.
    pub services: Vec<ServiceEventLoad>,
}

/// One finished request, for analyses that need more than the summary's
/// histograms (exact means, waiting times, warm-up cut-offs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RequestRecord {
    /// Index of the revision in scenario order.
    pub revision: usize,
    /// When the request reached the ingress.
    pub arrival: SimTime,
    /// When the application started serving it (None if it never did).
    pub service_start: Option<SimTime>,
    /// When it was answered.
    pub end: SimTime,
    /// How it ended.
    pub outcome: RequestOutcome,
    /// It arrived while no pod of its revision could take it.
    pub cold: bool,
    /// The activator replica it went through (None on the direct path).
    pub activator: Option<u16>,
}

/// Receives timeseries rows as the simulation produces them, so long runs can
/// be written out incrementally.
pub trait TimeseriesSink {
    /// Called once per simulated second per revision, in revision order.
    fn row(&mut self, row: &TimeseriesRow);

    /// Called once per request as it ends (in order of end time); ignored by
    /// default so ordinary runs pay nothing for it.
    fn request(&mut self, _record: &RequestRecord) {}
}

/// A sink that drops rows (for sweeps and benchmarks).
pub struct NoTimeseries;

impl TimeseriesSink for NoTimeseries {
    fn row(&mut self, _row: &TimeseriesRow) {}
}

impl TimeseriesSink for Vec<TimeseriesRow> {
    fn row(&mut self, row: &TimeseriesRow) {
        self.push(row.clone());
    }
}
