//! What a run produces: one [`Summary`] and a stream of [`TimeseriesRow`]s.
//! Field names carry their units.

use crate::sim::{SimDuration, SimTime};
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

impl RequestCounts {
    /// Adds `c`'s counts to these (a sum over revisions or Services).
    pub fn add(&mut self, c: &RequestCounts) {
        self.arrived += c.arrived;
        self.completed += c.completed;
        self.status_503 += c.status_503;
        self.status_504 += c.status_504;
        self.status_500 += c.status_500;
        self.status_404 += c.status_404;
        self.in_flight_at_end += c.in_flight_at_end;
        self.waited_on_cold_start += c.waited_on_cold_start;
    }
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
    /// The HPA of an HPA-class revision (absent for the KPA class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hpa: Option<HpaSummary>,
}

/// What the HPA of one HPA-class revision did over the run.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct HpaSummary {
    /// `cpu` or `memory`.
    pub metric: String,
    /// The target as the HPA holds it: percent of the CPU request, or MiB.
    pub target: f64,
    /// Controller syncs.
    pub syncs: u64,
    /// Syncs that raised the replicas.
    pub scale_ups: u64,
    /// Syncs that lowered them.
    pub scale_downs: u64,
    /// Highest `status.desiredReplicas`.
    pub max_desired_replicas: i32,
    /// Mean over the seconds with ready pods of their CPU utilization, in
    /// percent of the request (0 without a CPU request).
    pub mean_cpu_utilization: f64,
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
    /// The measurement window the request counts and latencies cover;
    /// absent when the whole run is counted (no `warmup` or `measure`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowSummary>,
    /// Per Service, in scenario order; only a scenario written with several
    /// Services has this list (a single-Service summary stays as it was).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceSummary>,
    /// Nodes and the Cluster Autoscaler; only when the scenario has node
    /// pools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<super::cluster::ClusterSummary>,
    /// The rows of `cluster.csv` (written beside the summary, not in it).
    #[serde(skip)]
    pub cluster_rows: Vec<super::cluster::ClusterRow>,
    /// Eventing delivery, for scenarios with an `[eventing]` table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eventing: Option<EventingSummary>,
}

/// Which requests a windowed summary counts, and how precise its latencies
/// are.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct WindowSummary {
    /// Requests arriving at or after this many simulated seconds are counted.
    pub start_s: f64,
    /// Requests arriving before this many simulated seconds are counted.
    pub end_s: f64,
    /// Fields that still cover the whole run (pod counts and pod-seconds).
    pub whole_run_fields: Vec<String>,
    /// Batch-means confidence intervals of the window's latencies.
    pub batch_means: BatchMeans,
}

/// Latency statistics over consecutive equal-time batches of the window
/// (by arrival time), with Student-t 95 % intervals over the batches.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct BatchMeans {
    /// Batches the intervals use (0 when there are too few successes).
    pub batches: u32,
    /// Simulated seconds of arrivals per batch.
    pub batch_seconds: f64,
    /// Fewest successful requests in one batch.
    pub min_batch_completed: u64,
    /// Mean latency, ms.
    pub mean_ms: Option<Interval>,
    /// Median latency, ms.
    pub p50_ms: Option<Interval>,
    /// 99th-percentile latency, ms.
    pub p99_ms: Option<Interval>,
    /// Lag-1 autocorrelation of the batch mean latencies; well above 0 means
    /// the batches are not independent and the intervals are too narrow.
    pub lag1_autocorrelation: Option<f64>,
}

/// A 95 % confidence interval.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Interval {
    /// Mean of the batch values.
    pub estimate: f64,
    /// Half-width.
    pub half_width: f64,
    /// estimate − half-width.
    pub low: f64,
    /// estimate + half-width.
    pub high: f64,
}

/// One Service's results in a scenario with several.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ServiceSummary {
    /// Service name.
    pub name: String,
    /// Request outcomes over its revisions, with its sources' 404s.
    pub requests: RequestCounts,
    /// Latency of its successful requests.
    pub latency: LatencySummary,
    /// Pods started over its revisions.
    pub cold_starts: u64,
    /// Pod-seconds over its revisions.
    pub pod_seconds: f64,
    /// Most pods ready at once over its revisions, at the ends of seconds.
    pub max_ready_pods: u32,
    /// Seconds in which any of its revisions was in panic mode.
    pub panic_seconds: u64,
    /// Seconds in which any of its revisions had the activator in path.
    pub activator_in_path_seconds: u64,
    /// Its revisions (named `service/revision`, as everywhere in such a
    /// run); `observed_share` is the share of the Service's routed requests.
    pub revisions: Vec<RevisionSummary>,
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
    /// The revision's Service; only a scenario written with several
    /// Services has this column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Revision name (`service/revision` with several Services).
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
    /// CPU the revision's pods used over the second, in percent of what its
    /// ready pods request. The column exists only in runs where a revision
    /// uses the resource model (HPA class or `[revision.usage]`); it is
    /// empty for the other revisions and without a CPU request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_utilization: Option<Option<f64>>,
    /// The HPA's `status.desiredReplicas`; a column only in runs with an
    /// HPA-class revision, empty for KPA-class ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hpa_desired_replicas: Option<Option<i32>>,
    /// Eventing runs only: first attempts of event deliveries that reached
    /// the revision during the second (one per event and matching Trigger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_first_attempts: Option<u64>,
    /// Eventing runs only: retries of event deliveries that reached the
    /// revision during the second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_retries: Option<u64>,
    /// Eventing runs only: deliveries whose successful attempt the revision
    /// answered during the second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_delivered: Option<u64>,
    /// Eventing runs only: deliveries dead-lettered during the second whose
    /// last attempt went to the revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_dead_lettered: Option<u64>,
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
    /// Who sent it.
    pub source: RequestSender,
    /// When it was handed to a pod's queue-proxy (None if it never was).
    pub to_pod: Option<SimTime>,
}

/// Who sent a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestSender {
    /// A workload source, by index in scenario order.
    Workload(u32),
    /// A delivery attempt of an Eventing Trigger: the Trigger's index in
    /// file order, while the engine still tracks the delivery (it does
    /// until the last request of its attempts ends).
    Delivery(Option<u32>),
}

/// What kind of autoscaler step a [`DecisionRecord`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionKind {
    /// The decider ran (its 2-s tick, or a poke by an activator stat).
    Tick,
    /// The PodAutoscaler reconciled.
    Reconcile,
}

/// One decider run: what it saw and what it decided.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TickDecision {
    /// The collector had data; without it the decider keeps its last scale.
    pub valid: bool,
    /// `concurrency` or `rps`.
    pub metric: &'static str,
    /// Target per pod of the metric.
    pub target: f64,
    /// Stable-window average of the metric.
    pub observed_stable: f64,
    /// Panic-window average of the metric.
    pub observed_panic: f64,
    /// ceil(stable / target): pods wanted before the rate limits.
    pub wanted_stable: i32,
    /// ceil(panic / target): pods wanted before the rate limits.
    pub wanted_panic: i32,
    /// Most pods the up-rate allows.
    pub max_scale_up: i32,
    /// Fewest pods the down-rate allows.
    pub max_scale_down: i32,
    /// Stable wish after the rate limits.
    pub limited_stable: i32,
    /// Panic wish after the rate limits.
    pub limited_panic: i32,
    /// In panic mode after this decision.
    pub panic: bool,
    /// Panic mode began with this decision.
    pub panic_entered: bool,
    /// Panic mode ended with this decision.
    pub panic_exited: bool,
    /// The decider's desired scale (after panic hold and scale-down delay).
    pub desired: i32,
    /// Excess burst capacity.
    pub excess_burst_capacity: i32,
    /// The decision enqueued a reconcile of the PodAutoscaler.
    pub changed: bool,
}

/// One PodAutoscaler reconcile: the gates between the decider's wish and
/// the Deployment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReconcileDecision {
    /// The decider's desired scale the reconcile started from.
    pub desired: i32,
    /// The scale reported as `want` after bounds and scale-to-zero gating.
    pub want: i32,
    /// Replicas set on the Deployment (None = left as they were).
    pub replicas: Option<u32>,
    /// Replicas of the Deployment after the reconcile.
    pub replicas_after: u32,
    /// When the reconcile asked to run again.
    pub requeue_after: Option<SimDuration>,
    /// Active condition before the reconcile: `activating`, `active`, `inactive`.
    pub state: &'static str,
    /// How long the condition had held.
    pub state_for: SimDuration,
    /// How long the activator had been in the path (None = not in it).
    pub proxy_for: Option<SimDuration>,
    /// `scale-to-zero-grace-period`.
    pub grace_period: SimDuration,
    /// The last-pod retention of a reachable revision.
    pub retention: SimDuration,
    /// The activation timeout (progress deadline + 30 s).
    pub activation_timeout: SimDuration,
    /// SKS mode after the reconcile: `serve` or `proxy`.
    pub sks_mode: &'static str,
    /// Activators the revision is spread over after the reconcile.
    pub activators: u32,
}

/// One autoscaler step of one revision, for `decisions.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecisionRecord {
    /// When it happened.
    pub time: SimTime,
    /// Index of the revision.
    pub revision: usize,
    /// Pods ready when it happened.
    pub ready_pods: u32,
    /// A decider run (Some for [`DecisionKind::Tick`]).
    pub tick: Option<TickDecision>,
    /// A reconcile (Some for [`DecisionKind::Reconcile`]).
    pub reconcile: Option<ReconcileDecision>,
}

impl DecisionRecord {
    /// Which step this is.
    pub fn kind(&self) -> DecisionKind {
        if self.tick.is_some() {
            DecisionKind::Tick
        } else {
            DecisionKind::Reconcile
        }
    }
}

/// Receives timeseries rows as the simulation produces them, so long runs can
/// be written out incrementally.
pub trait TimeseriesSink {
    /// Called once per simulated second per revision, in revision order,
    /// when [`TimeseriesSink::wants_rows`].
    fn row(&mut self, row: &TimeseriesRow);

    /// Whether to be handed the per-second rows at all; true by default. A
    /// sink that drops them says no, and the engine then neither builds
    /// them nor keeps each second's latencies for their quantiles (a sweep
    /// of 200 Services ran 7 % faster without them).
    fn wants_rows(&self) -> bool {
        true
    }

    /// Called once per simulated second, after that second's rows (if
    /// any), with the second's end in whole simulated seconds: a clock for
    /// a sink that takes no rows.
    fn second_closed(&mut self, _time_s: u64) {}

    /// Whether to be handed each request's end at all, through
    /// [`TimeseriesSink::request`] and [`TimeseriesSink::not_found`]; false
    /// by default, so an ordinary run builds no records. A sink that
    /// overrides either says yes here.
    fn wants_requests(&self) -> bool {
        false
    }

    /// Called once per request as it ends (in order of end time), when
    /// [`TimeseriesSink::wants_requests`].
    fn request(&mut self, _record: &RequestRecord) {}

    /// Called for a request of `source` answered 404 at `at` (no route),
    /// when [`TimeseriesSink::wants_requests`]: a workload's request, or an
    /// Eventing delivery attempt whose subscriber has no route.
    fn not_found(&mut self, _source: RequestSender, _at: SimTime) {}

    /// Whether to build [`DecisionRecord`]s at all; false by default, so a
    /// run that does not log decisions skips the work.
    fn wants_decisions(&self) -> bool {
        false
    }

    /// Called once per decider run and per reconcile of each revision, when
    /// [`TimeseriesSink::wants_decisions`].
    fn decision(&mut self, _record: &DecisionRecord) {}
}

/// A sink that drops rows (for sweeps and benchmarks).
pub struct NoTimeseries;

impl TimeseriesSink for NoTimeseries {
    fn row(&mut self, _row: &TimeseriesRow) {}

    fn wants_rows(&self) -> bool {
        false
    }
}

impl TimeseriesSink for Vec<TimeseriesRow> {
    fn row(&mut self, row: &TimeseriesRow) {
        self.push(row.clone());
    }
}
