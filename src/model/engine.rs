//! The event loop and every handler of the cluster model.

use super::report::{
    LatencySummary, Performance, QuantilePoint, RequestCounts, RequestOutcome, RequestRecord,
    RevisionSummary, Summary, TimeseriesRow, TimeseriesSink,
};
use super::stats::RequestStats;
use crate::knative::annotations::RevisionAnnotations;
use crate::knative::collector::{Collector, Stat};
use crate::knative::config::AutoscalerConfig;
use crate::knative::decider::{initial_excess_burst_capacity, same_sign, Decider};
use crate::knative::kpa::RevisionScaling;
use crate::knative::kpa::{
    compute_active_condition, compute_num_activators, scaler_scale, sks_mode, ActiveCondition,
    PaState, ScalerInput, SksMode,
};
use crate::knative::sample_size::population_mean_sample_size;
use crate::scenario::{RevisionSpec, Scenario};
use crate::sim::{EventQueue, RngStreams, SimDuration, SimRng, SimTime, Stream};
use crate::workload::{ArrivalGen, Dist, Slowdown, SourceKind};
use hdrhistogram::Histogram;
use rand::Rng;
use std::collections::VecDeque;

mod timeline;
use timeline::{Dynamic, Routing};

type ReqId = u32;
const NO_POD: u32 = u32::MAX;
const NO_ACT: u16 = u16::MAX;

/// The queue-proxy drains for this long after SIGTERM before shutting down
/// (`drainSleepDuration`).
const DRAIN_QUIET: SimDuration = SimDuration::from_secs(30);
/// The activator probes unknown pods this often.
const ACTIVATOR_PROBE_PERIOD: SimDuration = SimDuration::from_millis(200);
const SECOND: SimDuration = SimDuration::from_secs(1);
const TICK: SimDuration = SimDuration::from_secs(2);
/// Knative adds this to the progress deadline before giving up an activation.
const ACTIVATION_TIMEOUT_BUFFER: SimDuration = SimDuration::from_secs(30);

#[derive(Clone, Copy, Debug)]
enum Event {
    Arrival {
        source: u32,
    },
    ClientSend {
        source: u32,
    },
    ServiceDone {
        req: ReqId,
        gen: u32,
        timed_out: bool,
    },
    Timeout {
        req: ReqId,
        gen: u32,
    },
    PodScheduled {
        rev: u16,
        pod: u32,
    },
    PodRoutable {
        rev: u16,
        pod: u32,
    },
    PodReady {
        rev: u16,
        pod: u32,
    },
    DrainQuiet {
        rev: u16,
        pod: u32,
    },
    QpReport {
        rev: u16,
        pod: u32,
    },
    Scrape {
        rev: u16,
    },
    DeciderTick {
        rev: u16,
    },
    ActivatorReport {
        act: u16,
    },
    Reconcile {
        rev: u16,
        requeue: bool,
    },
    Second,
    End,
    /// The `step`-th entry of the scenario's timeline is due.
    Timeline {
        step: u32,
    },
    /// The route reconciler runs (traffic, latest ready revision or a
    /// rollout step changed).
    RouteReconcile,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReqState {
    Free,
    ActivatorQueued,
    QpQueued,
    Executing,
}

#[derive(Clone, Copy, Debug)]
struct Request {
    gen: u32,
    state: ReqState,
    rev: u16,
    activator: u16,
    pod: u32,
    source: u32,
    arrival: SimTime,
    deadline: SimTime,
    /// Service time from a trace, in ns (0 = sample the revision's distribution).
    duration: u64,
    cold: bool,
    /// A Timeout event is pending for this request.
    timer: bool,
    started: Option<SimTime>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PodPhase {
    Unschedulable,
    Starting,
    Terminating,
    Gone,
}

struct Pod {
    phase: PodPhase,
    scheduled: SimTime,
    container_started: SimTime,
    routable: bool,
    ready: bool,
    executing: u32,
    in_flight: u32,
    queue: VecDeque<(ReqId, u32)>,
    stats: RequestStats,
    last_report: Stat,
    quiet_done: bool,
}

/// One activator's view of one revision: its throttler queue, per-pod
/// reservations and its concurrency reporter entry.
#[derive(Default)]
struct ActRev {
    queue: VecDeque<(ReqId, u32)>,
    queued: u32,
    in_flight_per_pod: Vec<u32>,
    reporter: Option<Reporter>,
    assigned: Vec<u32>,
    assigned_key: (u64, u64),
    rr_next: usize,
    dispatching: bool,
}

struct Reporter {
    stats: RequestStats,
    first_adjust: bool,
}

#[derive(Default)]
struct SecondCounters {
    arrivals: u64,
    completed: u64,
    errors: u64,
    latency: Option<Histogram<u64>>,
}

struct Rev {
    name: String,
    /// Scaling parameters in effect (they change with ConfigMaps and
    /// annotations on a timeline).
    scaling: RevisionScaling,
    annotations: RevisionAnnotations,
    routing: Routing,
    deleted: bool,
    cc: u32,
    timeout: SimDuration,
    service: Dist,
    slowdown: crate::workload::Slowdown,
    startup: crate::scenario::StartupModel,
    pods: Vec<Pod>,
    /// Ids of pods not yet gone, ascending: per-second accounting and victim
    /// choice look only at these, so a long run's pod churn costs nothing.
    alive: Vec<u32>,
    ready: Vec<u32>,
    routable: Vec<u32>,
    routable_version: u64,
    ingress_rr: usize,
    replicas: u32,
    live: u32,
    decider: Decider,
    collector: Collector,
    status_desired: i32,
    status_ebc: i32,
    last_stable: f64,
    last_panic: f64,
    condition: ActiveCondition,
    scale_target_initialized: bool,
    mode: SksMode,
    proxy_since: Option<SimTime>,
    num_activators: u32,
    subset: Vec<u16>,
    subset_version: u64,
    subset_rr: usize,
    reachable: bool,
    requeue_at: Option<SimTime>,
    in_flight: u64,
    activator_queued: u64,
    sec: SecondCounters,
    counts: RequestCounts,
    hist: Histogram<u64>,
    cold_starts: u64,
    pod_seconds: f64,
    max_ready: u32,
    panic_seconds: u64,
    proxy_seconds: u64,
    rng_service: SimRng,
    rng_cold: SimRng,
    rng_scrape: SimRng,
    rng_lb: SimRng,
    scratch: Vec<u32>,
    subset_offset: usize,
}

struct SourceState {
    gen: Option<ArrivalGen>,
    /// The revision a tagged source reaches when its tag routes to exactly
    /// one revision (always, without a timeline).
    tag_rev: Option<u16>,
    tag: Option<String>,
    trace_tags: Vec<Option<u16>>,
    trace_tag_names: Vec<String>,
    think: Option<Dist>,
    end: SimTime,
    rng: SimRng,
    pending: Option<crate::workload::Arrival>,
}

struct Sim<'a, S: TimeseriesSink> {
    sc: &'a Scenario,
    q: EventQueue<Event>,
    now: SimTime,
    end: SimTime,
    reqs: Vec<Request>,
    free: Vec<ReqId>,
    revs: Vec<Rev>,
    acts: Vec<Vec<ActRev>>,
    sources: Vec<SourceState>,
    route_cum: Vec<(u32, u16)>,
    rng_route: SimRng,
    unschedulable: VecDeque<(u16, u32)>,
    running_pods: u32,
    live_requests: u64,
    events: u64,
    sink: &'a mut S,
    service_panic_seconds: u64,
    service_proxy_seconds: u64,
    max_ready_total: u32,
    not_found: u64,
    seed: u64,
    /// `config-autoscaler` in effect.
    autoscaler: AutoscalerConfig,
    /// Route and revision state that only a timeline changes.
    dynamic: Option<Box<Dynamic>>,
}

/// Runs `scenario` with master seed `seed`, handing one timeseries row per
/// revision per simulated second to `sink`, and returns the summary.
pub fn simulate<S: TimeseriesSink>(scenario: &Scenario, seed: u64, sink: &mut S) -> Summary {
    let wall = std::time::Instant::now();
    let mut sim = Sim::new(scenario, seed, sink);
    sim.run();
    let mut summary = sim.summary();
    let secs = wall.elapsed().as_secs_f64();
    summary.performance.wall_seconds = secs;
    summary.performance.simulated_requests_per_wall_second = if secs > 0.0 {
        summary.requests.arrived as f64 / secs
    } else {
        0.0
    };
    summary
}

fn new_histogram() -> Histogram<u64> {
    // Microsecond resolution up to ten hours, three significant digits.
    Histogram::new_with_bounds(1, 36_000_000_000, 3).expect("valid histogram bounds")
}

fn second_histogram() -> Histogram<u64> {
    // Two significant digits keep the per-second histogram small enough to
    // clear every simulated second.
    Histogram::new_with_bounds(1, 36_000_000_000, 2).expect("valid histogram bounds")
}

fn second_quantile(h: &Option<Histogram<u64>>, q: f64) -> f64 {
    match h {
        Some(h) if !h.is_empty() => h.value_at_quantile(q) as f64 / 1000.0,
        _ => 0.0,
    }
}

/// Quantiles at which the latency distribution is reported.
const CDF_QUANTILES: &[f64] = &[
    0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999,
    0.9995, 0.9999, 1.0,
];

fn stable_hash(s: &str) -> u64 {
    // FNV-1a: stable across platforms and versions, unlike std's hasher.
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

impl<'a, S: TimeseriesSink> Sim<'a, S> {
    fn new(sc: &'a Scenario, seed: u64, sink: &'a mut S) -> Self {
        let streams = RngStreams::new(seed);
        let mut tick_rng = streams.get(Stream::TickPhase, 0);
        let n_acts = sc.cluster.activators as usize;
        let revs: Vec<Rev> = sc
            .revisions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let reachable = sc.route.default.iter().any(|(n, _)| n == &r.name)
                    || sc.route.tags.values().any(|n| n == &r.name)
                    || sc
                        .traffic
                        .iter()
                        .any(|t| t.revision_name.as_deref() == Some(r.name.as_str()));
                Self::new_rev(sc, r, i, &streams, reachable, SimTime::ZERO)
            })
            .collect();
        let acts = (0..n_acts)
            .map(|_| (0..revs.len()).map(|_| ActRev::default()).collect())
            .collect();
        let rev_index = |name: &str| {
            sc.revisions
                .iter()
                .position(|r| r.name == name)
                .map(|i| i as u16)
        };
        let mut route_cum = Vec::new();
        let mut cum = 0u32;
        for (name, pct) in &sc.route.default {
            if *pct > 0 {
                cum += pct;
                route_cum.push((cum, rev_index(name).expect("validated route")));
            }
        }
        let mut sources = Vec::new();
        for (i, src) in sc.workloads.sources.iter().enumerate() {
            let tag_rev = src
                .tag
                .as_ref()
                .and_then(|t| sc.route.tags.get(t))
                .map(|n| rev_index(n).expect("validated tag"));
            let gen = ArrivalGen::new(src, streams.get(Stream::Arrivals, i as u64));
            let trace_tags = gen
                .as_ref()
                .map(|g| {
                    g.tag_names()
                        .iter()
                        .map(|t| sc.route.tags.get(t).and_then(|n| rev_index(n)))
                        .collect()
                })
                .unwrap_or_default();
            let (think, end) = match &src.kind {
                SourceKind::Closed { think, end, .. } => (Some(think.clone()), *end),
                _ => (None, SimTime::MAX),
            };
            let trace_tag_names = gen
                .as_ref()
                .map(|g| g.tag_names().to_vec())
                .unwrap_or_default();
            sources.push(SourceState {
                gen,
                tag_rev,
                tag: src.tag.clone(),
                trace_tags,
                trace_tag_names,
                think,
                end,
                rng: streams.get(Stream::WorkloadExtra, i as u64),
                pending: None,
            });
        }
        let mut sim = Sim {
            sc,
            q: EventQueue::new(),
            now: SimTime::ZERO,
            end: SimTime::ZERO + sc.duration,
            reqs: Vec::with_capacity(1024),
            free: Vec::new(),
            revs,
            acts,
            sources,
            route_cum,
            rng_route: streams.get(Stream::Routing, 0),
            unschedulable: VecDeque::new(),
            running_pods: 0,
            live_requests: 0,
            events: 0,
            sink,
            service_panic_seconds: 0,
            service_proxy_seconds: 0,
            max_ready_total: 0,
            not_found: 0,
            seed,
            autoscaler: sc.autoscaler.clone(),
            dynamic: None,
        };
        for r in 0..sim.revs.len() {
            sim.update_subset(r);
        }
        // Every per-revision and per-activator ticker starts at its own phase,
        // as the real goroutines do.
        for r in 0..sim.revs.len() {
            let scrape_phase = SimDuration(tick_rng.random_range(0..SECOND.as_nanos()));
            let tick_phase = SimDuration(tick_rng.random_range(0..TICK.as_nanos()));
            sim.q.schedule(
                SimTime::ZERO + scrape_phase,
                Event::Scrape { rev: r as u16 },
            );
            sim.q.schedule(
                SimTime::ZERO + tick_phase,
                Event::DeciderTick { rev: r as u16 },
            );
        }
        for a in 0..n_acts {
            let phase = SimDuration(tick_rng.random_range(0..SECOND.as_nanos()));
            sim.q.schedule(
                SimTime::ZERO + phase,
                Event::ActivatorReport { act: a as u16 },
            );
        }
        for (i, src) in sc.workloads.sources.iter().enumerate() {
            match &src.kind {
                SourceKind::Closed { clients, start, .. } => {
                    for _ in 0..*clients {
                        sim.q
                            .schedule(*start, Event::ClientSend { source: i as u32 });
                    }
                }
                _ => sim.schedule_next_arrival(i),
            }
        }
        sim.q.schedule(SimTime::ZERO + SECOND, Event::Second);
        sim.q.schedule(sim.end, Event::End);
        if !sc.timeline.is_empty() {
            sim.start_timeline(streams.clone());
        }
        // The revision reconciler creates each Deployment with initial-scale
        // replicas; the KPA then reconciles.
        for r in 0..sim.revs.len() {
            let initial = sim.revs[r].replicas;
            sim.revs[r].replicas = 0;
            sim.set_replicas(r, initial);
            sim.reconcile(r);
        }
        sim
    }

    fn new_rev(
        sc: &Scenario,
        spec: &RevisionSpec,
        i: usize,
        streams: &RngStreams,
        reachable: bool,
        now: SimTime,
    ) -> Rev {
        let scaling = &spec.scaling;
        let mut dspec = scaling.decider.clone();
        dspec.reachable = reachable;
        let ebc0 = initial_excess_burst_capacity(&dspec, scaling.initial_scale);
        let decider = Decider::new(dspec, 0, now);
        let collector = Collector::new(
            scaling.stable_window,
            scaling.panic_window,
            scaling.aggregation,
            scaling.has_scrape_target,
        );
        let initial = if reachable {
            scaling.initial_scale.max(0) as u32
        } else {
            0
        };
        let idx = i as u64;
        Rev {
            name: spec.name.clone(),
            scaling: scaling.clone(),
            annotations: spec.annotations.clone(),
            routing: if reachable {
                Routing::Active
            } else {
                Routing::Reserve
            },
            deleted: false,
            cc: spec.container_concurrency,
            timeout: spec.timeout,
            service: spec.service_time.clone(),
            slowdown: spec.slowdown,
            startup: spec.startup.clone(),
            pods: Vec::new(),
            alive: Vec::new(),
            ready: Vec::new(),
            routable: Vec::new(),
            routable_version: 0,
            ingress_rr: 0,
            replicas: initial,
            live: 0,
            decider,
            collector,
            status_desired: -1,
            status_ebc: ebc0,
            last_stable: 0.0,
            last_panic: 0.0,
            condition: ActiveCondition {
                state: PaState::Activating,
                since: now,
            },
            scale_target_initialized: false,
            mode: SksMode::Proxy,
            proxy_since: Some(now),
            num_activators: 2,
            subset: Vec::new(),
            subset_version: 0,
            subset_rr: 0,
            reachable,
            requeue_at: None,
            in_flight: 0,
            activator_queued: 0,
            sec: SecondCounters::default(),
            counts: RequestCounts::default(),
            hist: new_histogram(),
            cold_starts: 0,
            pod_seconds: 0.0,
            max_ready: 0,
            panic_seconds: 0,
            proxy_seconds: 0,
            rng_service: streams.get(Stream::ServiceTime, idx),
            rng_cold: streams.get(Stream::ColdStart, idx),
            rng_scrape: streams.get(Stream::Scraper, idx),
            rng_lb: streams.get(Stream::LoadBalancing, idx),
            scratch: Vec::new(),
            subset_offset: (stable_hash(&spec.name) % sc.cluster.activators.max(1) as u64) as usize,
        }
    }

    fn run(&mut self) {
        while let Some((t, ev)) = self.q.pop() {
            self.now = t;
            self.events += 1;
            match ev {
                Event::End => {
                    if t.as_nanos() % SECOND.as_nanos() == 0 {
                        self.record_second();
                    }
                    break;
                }
                Event::Arrival { source } => self.on_arrival(source as usize),
                Event::ClientSend { source } => self.on_client_send(source as usize),
                Event::ServiceDone {
                    req,
                    gen,
                    timed_out,
                } => self.on_service_done(req, gen, timed_out),
                Event::Timeout { req, gen } => self.on_timeout(req, gen),
                Event::PodScheduled { rev, pod } => self.on_pod_scheduled(rev as usize, pod),
                Event::PodRoutable { rev, pod } => self.on_pod_routable(rev as usize, pod),
                Event::PodReady { rev, pod } => self.on_pod_ready(rev as usize, pod),
                Event::DrainQuiet { rev, pod } => self.on_drain_quiet(rev as usize, pod),
                Event::QpReport { rev, pod } => self.on_qp_report(rev as usize, pod),
                Event::Scrape { rev } => self.on_scrape(rev as usize),
                Event::DeciderTick { rev } => self.on_decider_tick(rev as usize),
                Event::ActivatorReport { act } => self.on_activator_report(act as usize),
                Event::Reconcile { rev, requeue } => {
                    let r = rev as usize;
                    if requeue {
                        if self.revs[r].requeue_at != Some(t) {
                            continue;
                        }
                        self.revs[r].requeue_at = None;
                    }
                    self.reconcile(r);
                }
                Event::Second => self.on_second(),
                Event::Timeline { step } => self.on_timeline(step as usize),
                Event::RouteReconcile => self.route_reconcile(),
            }
        }
        self.now = self.end;
    }

    // ---------------------------------------------------------------- requests

    fn alloc_request(&mut self, r: Request) -> ReqId {
        self.live_requests += 1;
        match self.free.pop() {
            Some(id) => {
                let gen = self.reqs[id as usize].gen.wrapping_add(1);
                self.reqs[id as usize] = Request { gen, ..r };
                id
            }
            None => {
                self.reqs.push(r);
                (self.reqs.len() - 1) as ReqId
            }
        }
    }

    fn free_request(&mut self, id: ReqId) {
        self.live_requests -= 1;
        let req = &mut self.reqs[id as usize];
        req.state = ReqState::Free;
        req.gen = req.gen.wrapping_add(1);
        self.free.push(id);
    }

    fn schedule_next_arrival(&mut self, s: usize) {
        if let Some(gen) = self.sources[s].gen.as_mut() {
            if let Some(a) = gen.next() {
                if a.time < self.end {
                    let src = &mut self.sources[s];
                    src.pending = Some(a);
                    self.q
                        .schedule(a.time.max(self.now), Event::Arrival { source: s as u32 });
                }
            }
        }
    }

    fn on_arrival(&mut self, s: usize) {
        let a = self.sources[s]
            .pending
            .take()
            .expect("arrival event without a pending arrival");
        let rev = match a.tag {
            Some(t) if self.dynamic.is_some() => {
                let name = self.sources[s].trace_tag_names.get(t as usize).cloned();
                name.and_then(|n| self.pick_tagged(&n))
            }
            Some(t) => self.sources[s]
                .trace_tags
                .get(t as usize)
                .copied()
                .flatten(),
            None => self.route_source(s),
        };
        let duration = a.duration.map(|d| d.as_nanos().max(1)).unwrap_or(0);
        self.schedule_next_arrival(s);
        match rev {
            Some(r) => self.admit(r as usize, s as u32, duration),
            None => self.not_found(),
        }
    }

    fn on_client_send(&mut self, s: usize) {
        match self.route_source(s) {
            Some(rev) => self.admit(rev as usize, s as u32, 0),
            None => {
                // The client gets a 404 at once and tries again after thinking.
                self.not_found();
                let now = self.now;
                let src = &mut self.sources[s];
                if let Some(think) = &src.think {
                    let t = now + SimDuration::from_secs_f64(think.sample(&mut src.rng));
                    if t < src.end && t < self.end {
                        self.q.schedule(t, Event::ClientSend { source: s as u32 });
                    }
                }
            }
        }
    }

    /// The revision a request of source `s` reaches; `None` = no route (404).
    fn route_source(&mut self, s: usize) -> Option<u16> {
        if let Some(r) = self.sources[s].tag_rev {
            return Some(r);
        }
        match self.sources[s].tag.clone() {
            None => self.pick_default(),
            Some(tag) => self.pick_tagged(&tag),
        }
    }

    fn pick_default(&mut self) -> Option<u16> {
        if self.route_cum.is_empty() {
            return None;
        }
        Some(self.pick_revision())
    }

    fn not_found(&mut self) {
        self.not_found += 1;
    }

    fn pick_revision(&mut self) -> u16 {
        if self.route_cum.len() == 1 {
            return self.route_cum[0].1;
        }
        let u = self.rng_route.random_range(0..100u32);
        self.route_cum
            .iter()
            .find(|(c, _)| u < *c)
            .map(|(_, r)| *r)
            .expect("route percents sum to 100")
    }

    fn admit(&mut self, r: usize, source: u32, duration: u64) {
        let now = self.now;
        let rev = &mut self.revs[r];
        rev.counts.arrived += 1;
        rev.sec.arrivals += 1;
        rev.in_flight += 1;
        let deadline = now + rev.timeout;
        let direct = rev.mode == SksMode::Serve && !rev.ready.is_empty();
        let req = Request {
            gen: 0,
            state: ReqState::Executing,
            rev: r as u16,
            activator: NO_ACT,
            pod: NO_POD,
            source,
            arrival: now,
            deadline,
            duration,
            cold: false,
            timer: false,
            started: None,
        };
        let id = self.alloc_request(req);
        if direct {
            let rev = &mut self.revs[r];
            let i = rev.ingress_rr % rev.ready.len();
            rev.ingress_rr = rev.ingress_rr.wrapping_add(1);
            let pod = rev.ready[i];
            self.qp_receive(id, pod, false);
        } else {
            let rev = &mut self.revs[r];
            let k = rev.subset.len();
            let a = rev.subset[rev.subset_rr % k];
            rev.subset_rr = rev.subset_rr.wrapping_add(1);
            self.activator_receive(id, a as usize);
        }
    }

    fn activator_receive(&mut self, id: ReqId, a: usize) {
        let now = self.now;
        let r = self.reqs[id as usize].rev as usize;
        self.reqs[id as usize].activator = a as u16;
        let ar = &mut self.acts[a][r];
        let first = ar.reporter.is_none();
        let rep = ar.reporter.get_or_insert_with(|| Reporter {
            stats: RequestStats::new(now),
            first_adjust: true,
        });
        rep.stats.request_in(now, false);
        if first {
            // The immediate "first request" stat that makes scale-from-zero fast.
            let stat = Stat {
                average_concurrent_requests: 1.0,
                average_proxied_concurrent_requests: 0.0,
                request_count: 1.0,
                proxied_request_count: 0.0,
            };
            self.push_activator_stat(r, &stat);
        }
        if self.revs[r].routable.is_empty() {
            self.reqs[id as usize].cold = true;
        }
        let ar = &mut self.acts[a][r];
        ar.queue.push_back((id, self.reqs[id as usize].gen));
        ar.queued += 1;
        self.revs[r].activator_queued += 1;
        self.reqs[id as usize].state = ReqState::ActivatorQueued;
        self.activator_dispatch(a, r);
        // Only a request left waiting needs a timer: one that went straight
        // through is timed by its service completion.
        if self.reqs[id as usize].state == ReqState::ActivatorQueued {
            self.arm_timer(id);
        }
    }

    /// Releases queued requests of revision `r` at activator `a` while the
    /// throttler has capacity.
    fn activator_dispatch(&mut self, a: usize, r: usize) {
        if self.acts[a][r].queued == 0
            || self.revs[r].routable.is_empty()
            || self.acts[a][r].dispatching
        {
            return;
        }
        // A dispatched request can fail at once (503) and finish re-enters
        // here; the loop below picks up whatever that frees.
        self.acts[a][r].dispatching = true;
        if self.revs[r].cc > 0 {
            self.refresh_assignment(a, r);
        }
        while self.acts[a][r].queued > 0 {
            let Some(pod) = self.choose_pod(a, r) else {
                break;
            };
            let (id, gen) = loop {
                let (id, gen) = self.acts[a][r].queue.pop_front().expect("queued > 0");
                if self.reqs[id as usize].gen == gen
                    && self.reqs[id as usize].state == ReqState::ActivatorQueued
                {
                    break (id, gen);
                }
            };
            let _ = gen;
            self.acts[a][r].queued -= 1;
            self.revs[r].activator_queued -= 1;
            let ar = &mut self.acts[a][r];
            if ar.in_flight_per_pod.len() <= pod as usize {
                ar.in_flight_per_pod.resize(pod as usize + 1, 0);
            }
            ar.in_flight_per_pod[pod as usize] += 1;
            self.qp_receive(id, pod, true);
        }
        self.acts[a][r].dispatching = false;
        // Drop timed-out entries at the head so the queue does not hold them.
        let ar = &mut self.acts[a][r];
        while let Some(&(id, gen)) = ar.queue.front() {
            let q = &self.reqs[id as usize];
            if q.gen == gen && q.state == ReqState::ActivatorQueued {
                break;
            }
            ar.queue.pop_front();
        }
    }

    fn refresh_assignment(&mut self, a: usize, r: usize) {
        let rev = &self.revs[r];
        let key = (rev.routable_version, rev.subset_version);
        if self.acts[a][r].assigned_key == key && !self.acts[a][r].assigned.is_empty() {
            return;
        }
        let pods = &rev.routable;
        let idx = rev.subset.iter().position(|&x| x as usize == a);
        let n_act = rev.subset.len();
        let assigned = &mut self.acts[a][r].assigned;
        assigned.clear();
        match idx {
            Some(i) if n_act > 1 => {
                let p = pods.len();
                if n_act > p {
                    assigned.push(pods[i % p]);
                } else {
                    let size = p / n_act;
                    assigned.extend_from_slice(&pods[i * size..i * size + size]);
                    let remnants = p % n_act;
                    if i < remnants {
                        assigned.push(pods[p - remnants + i]);
                    }
                }
            }
            _ => assigned.extend_from_slice(pods),
        }
        self.acts[a][r].assigned_key = key;
        let ar = &mut self.acts[a][r];
        if ar.rr_next >= ar.assigned.len() {
            ar.rr_next = 0;
        }
    }

    /// The activator's load-balancing policy, chosen by containerConcurrency.
    fn choose_pod(&mut self, a: usize, r: usize) -> Option<u32> {
        let rev = &mut self.revs[r];
        let ar = &mut self.acts[a][r];
        let load = |ar: &ActRev, p: u32| ar.in_flight_per_pod.get(p as usize).copied().unwrap_or(0);
        match rev.cc {
            0 => {
                // Power of two choices over all pods; no capacity limit.
                let n = rev.routable.len();
                if n == 1 {
                    return Some(rev.routable[0]);
                }
                let i = rev.rng_lb.random_range(0..n);
                let mut j = rev.rng_lb.random_range(0..n - 1);
                if j >= i {
                    j += 1;
                }
                let (pi, pj) = (rev.routable[i], rev.routable[j]);
                let (li, lj) = (load(ar, pi), load(ar, pj));
                Some(if li < lj {
                    pi
                } else if lj < li {
                    pj
                } else if rev.rng_lb.random_bool(0.5) {
                    pi
                } else {
                    pj
                })
            }
            1..=3 => ar.assigned.iter().copied().find(|&p| load(ar, p) < rev.cc),
            cc => {
                let n = ar.assigned.len();
                for k in 0..n {
                    let i = (ar.rr_next + k) % n;
                    let p = ar.assigned[i];
                    if load(ar, p) < cc {
                        ar.rr_next = (i + 1) % n;
                        return Some(p);
                    }
                }
                None
            }
        }
    }

    fn qp_receive(&mut self, id: ReqId, pod_id: u32, proxied: bool) {
        let now = self.now;
        let r = self.reqs[id as usize].rev as usize;
        let cc = self.revs[r].cc;
        self.reqs[id as usize].pod = pod_id;
        let pod = &mut self.revs[r].pods[pod_id as usize];
        pod.stats.request_in(now, proxied);
        if cc > 0 && pod.in_flight >= 11 * cc {
            // Breaker full: the request still produced an In/Out pair.
            pod.stats.request_out(now, proxied);
            self.finish(id, Outcome::Overflow);
            return;
        }
        pod.in_flight += 1;
        if cc == 0 || pod.executing < cc {
            pod.executing += 1;
            self.start_service(id);
        } else {
            let gen = self.reqs[id as usize].gen;
            pod.queue.push_back((id, gen));
            self.reqs[id as usize].state = ReqState::QpQueued;
            self.arm_timer(id);
        }
    }

    /// Schedules the request's timeout once; a request's deadline never moves
    /// (the activator's timeout is the binding one for proxied requests).
    fn arm_timer(&mut self, id: ReqId) {
        let req = &mut self.reqs[id as usize];
        if !req.timer {
            req.timer = true;
            let (deadline, gen) = (req.deadline, req.gen);
            self.q.schedule(deadline, Event::Timeout { req: id, gen });
        }
    }

    fn start_service(&mut self, id: ReqId) {
        let now = self.now;
        let req = &mut self.reqs[id as usize];
        req.state = ReqState::Executing;
        req.started = Some(now);
        let r = req.rev as usize;
        let pod = req.pod as usize;
        let service = if req.duration > 0 {
            SimDuration(req.duration)
        } else {
            let rev = &mut self.revs[r];
            let mut secs = rev.service.sample(&mut rev.rng_service);
            if !matches!(rev.slowdown, Slowdown::None) {
                // Requests executing in the same container share its CPUs.
                secs *= rev.slowdown.factor(rev.pods[pod].executing);
            }
            SimDuration::from_secs_f64(secs)
        };
        let done = now + service;
        let (at, timed_out) = if done > req.deadline {
            (req.deadline, true)
        } else {
            (done, false)
        };
        let gen = req.gen;
        self.q.schedule(
            at,
            Event::ServiceDone {
                req: id,
                gen,
                timed_out,
            },
        );
    }

    fn on_service_done(&mut self, id: ReqId, gen: u32, timed_out: bool) {
        if self.reqs[id as usize].gen != gen {
            return;
        }
        let now = self.now;
        let req = self.reqs[id as usize];
        let r = req.rev as usize;
        let proxied = req.activator != NO_ACT;
        let pod = &mut self.revs[r].pods[req.pod as usize];
        pod.stats.request_out(now, proxied);
        pod.executing -= 1;
        pod.in_flight -= 1;
        // Hand the freed slot to the next live waiter (FIFO).
        while let Some((qid, qgen)) = pod.queue.pop_front() {
            let q = &self.reqs[qid as usize];
            if q.gen == qgen && q.state == ReqState::QpQueued {
                pod.executing += 1;
                self.start_service(qid);
                break;
            }
        }
        self.finish(
            id,
            if timed_out {
                Outcome::Timeout
            } else {
                Outcome::Ok
            },
        );
        self.maybe_pod_gone(r, req.pod);
    }

    fn on_timeout(&mut self, id: ReqId, gen: u32) {
        let req = self.reqs[id as usize];
        if req.gen != gen {
            return;
        }
        let r = req.rev as usize;
        match req.state {
            ReqState::ActivatorQueued => {
                let a = req.activator as usize;
                self.acts[a][r].queued -= 1;
                self.revs[r].activator_queued -= 1;
                self.finish(id, Outcome::Timeout);
            }
            ReqState::QpQueued => {
                let pod = &mut self.revs[r].pods[req.pod as usize];
                pod.stats.request_out(self.now, req.activator != NO_ACT);
                pod.in_flight -= 1;
                self.finish(id, Outcome::Timeout);
                self.maybe_pod_gone(r, req.pod);
            }
            // Executing requests end at their deadline through ServiceDone.
            ReqState::Executing | ReqState::Free => {}
        }
    }

    /// Records the outcome, releases activator reservations and frees the
    /// request (re-arming a closed-loop client).
    fn finish(&mut self, id: ReqId, outcome: Outcome) {
        let now = self.now;
        let req = self.reqs[id as usize];
        let r = req.rev as usize;
        let rev = &mut self.revs[r];
        rev.in_flight -= 1;
        if req.cold {
            rev.counts.waited_on_cold_start += 1;
        }
        match outcome {
            Outcome::Ok => {
                rev.counts.completed += 1;
                rev.sec.completed += 1;
                let us = (now - req.arrival).as_nanos() / 1_000;
                rev.hist.saturating_record(us.max(1));
                rev.sec
                    .latency
                    .get_or_insert_with(second_histogram)
                    .saturating_record(us.max(1));
            }
            Outcome::Overflow => {
                rev.counts.status_503 += 1;
                rev.sec.errors += 1;
            }
            Outcome::Timeout => {
                rev.counts.status_504 += 1;
                rev.sec.errors += 1;
            }
        }
        self.sink.request(&RequestRecord {
            revision: r,
            arrival: req.arrival,
            service_start: req.started,
            end: now,
            outcome: match outcome {
                Outcome::Ok => RequestOutcome::Ok,
                Outcome::Overflow => RequestOutcome::Overflow,
                Outcome::Timeout => RequestOutcome::Timeout,
            },
            cold: req.cold,
            activator: (req.activator != NO_ACT).then_some(req.activator),
        });
        if req.activator != NO_ACT {
            let a = req.activator as usize;
            let ar = &mut self.acts[a][r];
            if let Some(rep) = ar.reporter.as_mut() {
                rep.stats.request_out(now, false);
            }
            if req.pod != NO_POD {
                ar.in_flight_per_pod[req.pod as usize] -= 1;
            }
            self.free_request(id);
            self.activator_dispatch(a, r);
        } else {
            self.free_request(id);
        }
        let s = req.source as usize;
        let src = &mut self.sources[s];
        if let Some(think) = &src.think {
            let t = now + SimDuration::from_secs_f64(think.sample(&mut src.rng));
            if t < src.end && t < self.end {
                self.q.schedule(t, Event::ClientSend { source: req.source });
            }
        }
    }

    // -------------------------------------------------------------------- pods

    fn set_replicas(&mut self, r: usize, want: u32) {
        // The scenario's limits.max-pods keeps memory bounded.
        let want = want.min(self.sc.cluster.max_replicas);
        let now = self.now;
        self.revs[r].replicas = want;
        while self.revs[r].live < want {
            let rev = &mut self.revs[r];
            let id = rev.pods.len() as u32;
            rev.alive.push(id);
            rev.pods.push(Pod {
                phase: PodPhase::Unschedulable,
                scheduled: now,
                container_started: now,
                routable: false,
                ready: false,
                executing: 0,
                in_flight: 0,
                queue: VecDeque::new(),
                stats: RequestStats::new(now),
                last_report: Stat::default(),
                quiet_done: false,
            });
            rev.live += 1;
            self.try_schedule(r, id);
        }
        while self.revs[r].live > want {
            let victim = self.pick_victim(r);
            self.delete_pod(r, victim);
        }
    }

    fn try_schedule(&mut self, r: usize, pod: u32) {
        let has_room = self
            .sc
            .cluster
            .max_pods
            .is_none_or(|m| self.running_pods < m);
        if has_room {
            self.running_pods += 1;
            let now = self.now;
            let rev = &mut self.revs[r];
            let p = &mut rev.pods[pod as usize];
            p.phase = PodPhase::Starting;
            p.scheduled = now;
            let delay =
                SimDuration::from_secs_f64(rev.startup.scheduling.sample(&mut rev.rng_cold));
            self.q
                .schedule(self.now + delay, Event::PodScheduled { rev: r as u16, pod });
        } else {
            self.unschedulable.push_back((r as u16, pod));
        }
    }

    /// Kubernetes' ReplicaSet victim ranking: unscheduled first, then pods
    /// not yet ready, then the most recently ready; newest first within each.
    fn pick_victim(&self, r: usize) -> u32 {
        let rev = &self.revs[r];
        let live = |p: &Pod| matches!(p.phase, PodPhase::Unschedulable | PodPhase::Starting);
        let rank = |p: &Pod| match p.phase {
            PodPhase::Unschedulable => 0,
            _ if !p.ready => 1,
            _ => 2,
        };
        let mut best: Option<(u32, u32)> = None;
        for &i in rev.alive.iter().rev() {
            let p = &rev.pods[i as usize];
            if !live(p) {
                continue;
            }
            let k = rank(p);
            if best.is_none_or(|(bk, _)| k < bk) {
                best = Some((k, i));
                if k == 0 {
                    break;
                }
            }
        }
        best.expect("live > 0 means a live pod exists").1
    }

    fn delete_pod(&mut self, r: usize, id: u32) {
        let now = self.now;
        let rev = &mut self.revs[r];
        rev.live -= 1;
        let pod = &mut rev.pods[id as usize];
        match pod.phase {
            PodPhase::Unschedulable => {
                pod.phase = PodPhase::Gone;
                rev.alive.retain(|&p| p != id);
                self.unschedulable
                    .retain(|&(rr, p)| !(rr as usize == r && p == id));
                return;
            }
            PodPhase::Starting => {}
            PodPhase::Terminating | PodPhase::Gone => unreachable!("deleting a dead pod"),
        }
        pod.phase = PodPhase::Terminating;
        let was_ready = pod.ready;
        let was_routable = pod.routable;
        pod.ready = false;
        pod.routable = false;
        if was_ready {
            rev.ready.retain(|&p| p != id);
        }
        if was_routable {
            rev.routable.retain(|&p| p != id);
            rev.routable_version += 1;
        }
        if pod.in_flight == 0 && !was_routable && !was_ready {
            // Never received traffic: nothing to drain.
            self.pod_gone(r, id);
        } else {
            self.q.schedule(
                now + DRAIN_QUIET,
                Event::DrainQuiet {
                    rev: r as u16,
                    pod: id,
                },
            );
        }
    }

    fn on_drain_quiet(&mut self, r: usize, id: u32) {
        self.revs[r].pods[id as usize].quiet_done = true;
        self.maybe_pod_gone(r, id);
    }

    fn maybe_pod_gone(&mut self, r: usize, id: u32) {
        let p = &self.revs[r].pods[id as usize];
        if p.phase == PodPhase::Terminating && p.quiet_done && p.in_flight == 0 {
            self.pod_gone(r, id);
        }
    }

    fn pod_gone(&mut self, r: usize, id: u32) {
        let now = self.now;
        let rev = &mut self.revs[r];
        let pod = &mut rev.pods[id as usize];
        pod.phase = PodPhase::Gone;
        pod.queue = VecDeque::new();
        rev.pod_seconds += (now - pod.scheduled).as_secs_f64();
        rev.alive.retain(|&p| p != id);
        self.running_pods -= 1;
        if let Some((rr, p)) = self.unschedulable.pop_front() {
            self.running_pods += 1;
            let rev = &mut self.revs[rr as usize];
            rev.pods[p as usize].phase = PodPhase::Starting;
            rev.pods[p as usize].scheduled = now;
            let delay =
                SimDuration::from_secs_f64(rev.startup.scheduling.sample(&mut rev.rng_cold));
            self.q
                .schedule(now + delay, Event::PodScheduled { rev: rr, pod: p });
        }
    }

    fn on_pod_scheduled(&mut self, r: usize, id: u32) {
        let now = self.now;
        let probe_period = self.sc.cluster.kubelet_probe_period;
        let probe_timeout = self.sc.cluster.kubelet_probe_timeout;
        let rev = &mut self.revs[r];
        if rev.pods[id as usize].phase != PodPhase::Starting {
            return;
        }
        rev.cold_starts += 1;
        let s = &rev.startup;
        let rng = &mut rev.rng_cold;
        let pull = SimDuration::from_secs_f64(s.image_pull.sample(rng));
        let start = SimDuration::from_secs_f64(s.container_start.sample(rng));
        let init = SimDuration::from_secs_f64(s.app_init.sample(rng));
        let t_cs = now + pull + start;
        let t_app = t_cs + init;
        let pod = &mut rev.pods[id as usize];
        pod.container_started = t_cs;
        pod.stats = RequestStats::new(t_cs);
        // The activator probes the pod's IP every 200 ms and routes to it as
        // soon as the queue-proxy reports the app ready.
        let probes = (t_app - now)
            .as_nanos()
            .div_ceil(ACTIVATOR_PROBE_PERIOD.as_nanos());
        let routable_at = now + SimDuration(probes * ACTIVATOR_PROBE_PERIOD.as_nanos());
        // The kubelet probes every period from container start; the queue-proxy
        // holds a probe open (retrying the app) for up to the probe timeout.
        let wait = (t_app - t_cs)
            .as_nanos()
            .saturating_sub(probe_timeout.as_nanos());
        let k = wait.div_ceil(probe_period.as_nanos());
        let probe_at = t_cs + SimDuration(k * probe_period.as_nanos());
        let ready_at = probe_at.max(t_app);
        self.q.schedule(
            routable_at,
            Event::PodRoutable {
                rev: r as u16,
                pod: id,
            },
        );
        self.q.schedule(
            ready_at,
            Event::PodReady {
                rev: r as u16,
                pod: id,
            },
        );
        self.q.schedule(
            t_cs + SECOND,
            Event::QpReport {
                rev: r as u16,
                pod: id,
            },
        );
    }

    fn on_pod_routable(&mut self, r: usize, id: u32) {
        let rev = &mut self.revs[r];
        let pod = &mut rev.pods[id as usize];
        if pod.phase != PodPhase::Starting || pod.routable {
            return;
        }
        pod.routable = true;
        let pos = rev.routable.partition_point(|&p| p < id);
        rev.routable.insert(pos, id);
        rev.routable_version += 1;
        for a in 0..self.acts.len() {
            self.activator_dispatch(a, r);
        }
    }

    fn on_pod_ready(&mut self, r: usize, id: u32) {
        let rev = &mut self.revs[r];
        let pod = &mut rev.pods[id as usize];
        if pod.phase != PodPhase::Starting || pod.ready {
            return;
        }
        pod.ready = true;
        let pos = rev.ready.partition_point(|&p| p < id);
        rev.ready.insert(pos, id);
        rev.max_ready = rev.max_ready.max(rev.ready.len() as u32);
        let total: u32 = self.revs.iter().map(|r| r.ready.len() as u32).sum();
        self.max_ready_total = self.max_ready_total.max(total);
        if !self.revs[r].pods[id as usize].routable {
            self.on_pod_routable(r, id);
        }
        // A pod change enqueues the PodAutoscaler.
        self.reconcile(r);
    }

    // ----------------------------------------------------------------- metrics

    fn on_qp_report(&mut self, r: usize, id: u32) {
        let now = self.now;
        let pod = &mut self.revs[r].pods[id as usize];
        if pod.phase == PodPhase::Gone {
            return;
        }
        pod.last_report = pod.stats.report(now);
        self.q.schedule(
            now + SECOND,
            Event::QpReport {
                rev: r as u16,
                pod: id,
            },
        );
    }

    fn on_scrape(&mut self, r: usize) {
        if self.revs[r].deleted {
            return;
        }
        let now = self.now;
        self.q
            .schedule(now + SECOND, Event::Scrape { rev: r as u16 });
        let stable_window = self.revs[r].decider.spec().stable_window;
        let rev = &mut self.revs[r];
        if !rev.scaling.has_scrape_target {
            return;
        }
        let n_total = rev.ready.len();
        if n_total == 0 {
            return;
        }
        let n = population_mean_sample_size(n_total);
        let mut sum = Stat::default();
        let mut add = |s: &Stat| {
            sum.average_concurrent_requests += s.average_concurrent_requests;
            sum.average_proxied_concurrent_requests += s.average_proxied_concurrent_requests;
            sum.request_count += s.request_count;
            sum.proxied_request_count += s.proxied_request_count;
        };
        if n >= n_total {
            for &p in &rev.ready {
                add(&rev.pods[p as usize].last_report);
            }
        } else {
            // Prefer pods older than the stable window, shuffled; fill with
            // shuffled young pods.
            let scratch = &mut rev.scratch;
            scratch.clear();
            let is_old = |p: &Pod| now.saturating_since(p.container_started) >= stable_window;
            scratch.extend(
                rev.ready
                    .iter()
                    .copied()
                    .filter(|&p| is_old(&rev.pods[p as usize])),
            );
            let old = scratch.len();
            shuffle(scratch, &mut rev.rng_scrape);
            if old < n {
                let start = scratch.len();
                scratch.extend(
                    rev.ready
                        .iter()
                        .copied()
                        .filter(|&p| !is_old(&rev.pods[p as usize])),
                );
                shuffle(&mut scratch[start..], &mut rev.rng_scrape);
            }
            for &p in &scratch[..n] {
                add(&rev.pods[p as usize].last_report);
            }
        }
        let scale = n_total as f64 / n as f64;
        let stat = Stat {
            average_concurrent_requests: sum.average_concurrent_requests * scale,
            average_proxied_concurrent_requests: sum.average_proxied_concurrent_requests * scale,
            request_count: sum.request_count * scale,
            proxied_request_count: sum.proxied_request_count * scale,
        };
        rev.collector.record(now, &stat);
    }

    fn on_activator_report(&mut self, a: usize) {
        let now = self.now;
        self.q
            .schedule(now + SECOND, Event::ActivatorReport { act: a as u16 });
        for r in 0..self.revs.len() {
            let ar = &mut self.acts[a][r];
            let Some(rep) = ar.reporter.as_mut() else {
                continue;
            };
            let s = rep.stats.report(now);
            let adj = if rep.first_adjust { 1.0 } else { 0.0 };
            rep.first_adjust = false;
            let stat = Stat {
                average_concurrent_requests: (s.average_concurrent_requests - adj).max(0.0),
                average_proxied_concurrent_requests: 0.0,
                request_count: s.request_count - adj,
                proxied_request_count: 0.0,
            };
            if s.average_concurrent_requests == 0.0 && rep.stats.concurrency() == 0 {
                ar.reporter = None;
            }
            self.push_activator_stat(r, &stat);
        }
    }

    /// An activator stat reaches the autoscaler: recorded at the whole second
    /// of receipt, then Poke.
    fn push_activator_stat(&mut self, r: usize, stat: &Stat) {
        let t = SimTime::from_secs(self.now.whole_secs());
        self.revs[r].collector.record(t, stat);
        if self.revs[r].status_desired == 0 && stat.average_concurrent_requests != 0.0 {
            self.scale_now(r);
        }
    }

    // -------------------------------------------------------------- autoscaler

    fn on_decider_tick(&mut self, r: usize) {
        if self.revs[r].deleted {
            return;
        }
        self.q
            .schedule(self.now + TICK, Event::DeciderTick { rev: r as u16 });
        self.scale_now(r);
    }

    fn scale_now(&mut self, r: usize) {
        let now = self.now;
        let rev = &mut self.revs[r];
        let metric = rev.decider.spec().scaling_metric;
        let observed = rev.collector.stable_and_panic(now, metric);
        if let Some((s, p)) = observed {
            rev.last_stable = s;
            rev.last_panic = p;
        }
        let res = rev
            .decider
            .scale(now, Some(rev.ready.len() as i32), observed);
        if !res.scale_valid {
            return;
        }
        let changed = res.desired_pod_count != rev.status_desired
            || !same_sign(res.excess_burst_capacity, rev.status_ebc);
        rev.status_desired = res.desired_pod_count;
        rev.status_ebc = res.excess_burst_capacity;
        if changed {
            self.reconcile(r);
        }
    }

    /// The KPA reconciler (§4.2 of the spec), instantaneous.
    fn reconcile(&mut self, r: usize) {
        if self.revs[r].deleted {
            return;
        }
        let now = self.now;
        let scaling = &self.revs[r].scaling;
        let a = &self.autoscaler;
        let rev = &self.revs[r];
        let input = ScalerInput {
            now,
            desired_scale: rev.status_desired,
            condition: rev.condition,
            reachable: rev.reachable,
            min_scale: scaling.min_scale,
            max_scale: scaling.max_scale,
            initial_scale: scaling.initial_scale,
            scale_target_initialized: rev.scale_target_initialized,
            enable_scale_to_zero: a.enable_scale_to_zero,
            stable_window: scaling.stable_window,
            grace_period: a.scale_to_zero_grace_period,
            retention: scaling.scale_to_zero_pod_retention,
            activation_timeout: scaling.progress_deadline + ACTIVATION_TIMEOUT_BUFFER,
            tbc: scaling.decider.target_burst_capacity,
            proxy_for: rev.proxy_since.map(|t| now - t),
        };
        let (cfg_min_scale, cfg_initial_scale) = (scaling.min_scale, scaling.initial_scale);
        let activator_capacity = a.activator_capacity;
        let d = scaler_scale(&input);
        if d.apply && d.want >= 0 && d.want as u32 != self.revs[r].replicas {
            self.set_replicas(r, d.want as u32);
        }
        if let Some(after) = d.requeue_after {
            let at = now + after;
            let rev = &mut self.revs[r];
            if rev.requeue_at.is_none_or(|t| at < t || t < now) {
                rev.requeue_at = Some(at);
                self.q.schedule(
                    at,
                    Event::Reconcile {
                        rev: r as u16,
                        requeue: true,
                    },
                );
            }
        }
        let rev = &mut self.revs[r];
        let ready = rev.ready.len() as i32;
        let mut mode = sks_mode(d.want, rev.status_ebc);
        if ready == 0 {
            // The SKS forces Proxy while the private service has no endpoints.
            mode = SksMode::Proxy;
        }
        if mode != rev.mode {
            rev.mode = mode;
            rev.proxy_since = (mode == SksMode::Proxy).then_some(now);
        }
        let spec = rev.decider.spec();
        let n = compute_num_activators(
            ready,
            spec.total_value,
            spec.target_burst_capacity,
            activator_capacity,
        );
        if n as u32 != rev.num_activators {
            rev.num_activators = n as u32;
            self.update_subset(r);
        }
        let rev = &mut self.revs[r];
        let (min_scale, initial) = if rev.reachable {
            (cfg_min_scale, cfg_initial_scale)
        } else {
            (0, 0)
        };
        let min_ready = if rev.scale_target_initialized {
            min_scale.max(1)
        } else {
            min_scale.max(initial)
        };
        let prev = rev.condition;
        rev.condition = compute_active_condition(prev, now, d.want, ready, min_ready);
        if ready >= min_ready && !rev.scale_target_initialized {
            rev.scale_target_initialized = true;
            if self.dynamic.is_some() {
                self.revision_ready(r);
            }
        }
        let rev = &self.revs[r];
        if rev.condition.state != prev.state {
            // The PA's own status update enqueues it again.
            self.q.schedule(
                now,
                Event::Reconcile {
                    rev: r as u16,
                    requeue: false,
                },
            );
        }
    }

    fn update_subset(&mut self, r: usize) {
        let total = self.acts.len();
        let rev = &mut self.revs[r];
        let k = (rev.num_activators as usize).clamp(1, total);
        rev.subset.clear();
        rev.subset
            .extend((0..k).map(|i| ((rev.subset_offset + i) % total) as u16));
        rev.subset.sort_unstable();
        rev.subset_version += 1;
    }

    // ------------------------------------------------------------- accounting

    fn on_second(&mut self) {
        if self.now + SECOND < self.end {
            self.q.schedule(self.now + SECOND, Event::Second);
        }
        self.record_second();
    }

    fn record_second(&mut self) {
        let now = self.now;
        let mut any_panic = false;
        let mut any_proxy = false;
        for r in 0..self.revs.len() {
            let rev = &mut self.revs[r];
            let panic = rev.decider.in_panic();
            let proxy = rev.mode == SksMode::Proxy;
            rev.panic_seconds += panic as u64;
            rev.proxy_seconds += proxy as u64;
            any_panic |= panic;
            any_proxy |= proxy;
            let mut pending = 0;
            let mut unschedulable = 0;
            let mut terminating = 0;
            for &i in &rev.alive {
                let p = &rev.pods[i as usize];
                match p.phase {
                    PodPhase::Unschedulable => {
                        pending += 1;
                        unschedulable += 1;
                    }
                    PodPhase::Starting if !p.ready => pending += 1,
                    PodPhase::Terminating => terminating += 1,
                    _ => {}
                }
            }
            let row = TimeseriesRow {
                time_s: now.whole_secs(),
                revision: rev.name.clone(),
                arrivals: rev.sec.arrivals,
                completed: rev.sec.completed,
                errors: rev.sec.errors,
                p50_ms: second_quantile(&rev.sec.latency, 0.5),
                p99_ms: second_quantile(&rev.sec.latency, 0.99),
                in_flight: rev.in_flight,
                activator_queue: rev.activator_queued,
                stable_concurrency: rev.last_stable + 0.0,
                panic_concurrency: rev.last_panic + 0.0,
                desired_pods: rev.status_desired,
                replicas: rev.replicas,
                ready_pods: rev.ready.len() as u32,
                pending_pods: pending,
                unschedulable_pods: unschedulable,
                terminating_pods: terminating,
                panic: panic as u8,
                activator_in_path: proxy as u8,
                excess_burst_capacity: rev.status_ebc,
                num_activators: rev.subset.len() as u32,
            };
            let hist = rev.sec.latency.take();
            rev.sec = SecondCounters::default();
            if let Some(mut h) = hist {
                h.reset();
                rev.sec.latency = Some(h);
            }
            self.sink.row(&row);
        }
        self.service_panic_seconds += any_panic as u64;
        self.service_proxy_seconds += any_proxy as u64;
    }

    fn summary(&mut self) -> Summary {
        let end = self.end;
        let total_arrived: u64 = self.revs.iter().map(|r| r.counts.arrived).sum();
        let mut all = new_histogram();
        let mut totals = RequestCounts::default();
        let mut revisions = Vec::new();
        let mut pod_seconds = 0.0;
        let mut cold = 0;
        for rev in &mut self.revs {
            for &i in &rev.alive {
                let p = &rev.pods[i as usize];
                if matches!(p.phase, PodPhase::Starting | PodPhase::Terminating)
                    && p.scheduled <= end
                {
                    rev.pod_seconds += (end - p.scheduled).as_secs_f64();
                }
            }
            let mut counts = rev.counts.clone();
            counts.in_flight_at_end = rev.in_flight;
            add_counts(&mut totals, &counts);
            all.add(&rev.hist).expect("same histogram bounds");
            pod_seconds += rev.pod_seconds;
            cold += rev.cold_starts;
            revisions.push(RevisionSummary {
                name: rev.name.clone(),
                observed_share: if total_arrived > 0 {
                    counts.arrived as f64 / total_arrived as f64
                } else {
                    0.0
                },
                requests: counts,
                latency: latency(&rev.hist),
                cold_starts: rev.cold_starts,
                pod_seconds: rev.pod_seconds,
                max_ready_pods: rev.max_ready,
                panic_seconds: rev.panic_seconds,
                activator_in_path_seconds: rev.proxy_seconds,
            });
        }
        totals.status_404 = self.not_found;
        totals.arrived += self.not_found;
        Summary {
            scenario: self.sc.name.clone(),
            seed: self.seed,
            simulated_seconds: self.sc.duration.as_secs_f64(),
            requests: totals,
            latency: latency(&all),
            cold_starts: cold,
            pod_seconds,
            max_ready_pods: self.max_ready_total,
            panic_seconds: self.service_panic_seconds,
            activator_in_path_seconds: self.service_proxy_seconds,
            revisions,
            latency_distribution: if all.is_empty() {
                Vec::new()
            } else {
                CDF_QUANTILES
                    .iter()
                    .map(|&q| QuantilePoint {
                        quantile: q,
                        latency_ms: all.value_at_quantile(q) as f64 / 1000.0,
                    })
                    .collect()
            },
            performance: Performance {
                events_processed: self.events,
                ..Default::default()
            },
        }
    }
}

#[derive(Clone, Copy)]
enum Outcome {
    Ok,
    Overflow,
    Timeout,
}

fn add_counts(t: &mut RequestCounts, c: &RequestCounts) {
    t.arrived += c.arrived;
    t.completed += c.completed;
    t.status_503 += c.status_503;
    t.status_504 += c.status_504;
    t.status_404 += c.status_404;
    t.in_flight_at_end += c.in_flight_at_end;
    t.waited_on_cold_start += c.waited_on_cold_start;
}

fn latency(h: &Histogram<u64>) -> LatencySummary {
    if h.is_empty() {
        return LatencySummary::default();
    }
    let ms = |us: u64| us as f64 / 1000.0;
    LatencySummary {
        p50_ms: ms(h.value_at_quantile(0.5)),
        p90_ms: ms(h.value_at_quantile(0.9)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        p999_ms: ms(h.value_at_quantile(0.999)),
        max_ms: ms(h.max()),
        mean_ms: h.mean() / 1000.0,
    }
}

fn shuffle(v: &mut [u32], rng: &mut SimRng) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}
