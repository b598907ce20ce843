//! The event loop and its dispatch: the only code that calls across
//! components. Each component owns its state and its random streams:
//!
//! * [`ingress`]: sources, the route's split, the direct path;
//! * [`activator`]: subsets, throttler queues, load balancing, stat reports;
//! * [`queue_proxy`]: each pod's breaker and the application behind it;
//! * [`pods`]: Deployments, scheduling, readiness, deletion and drain;
//! * [`resources`]: CPU and memory the pods use (HPA-class revisions and
//!   those with `[revision.usage]` only);
//! * [`autoscaler`]: the autoscaler class of each revision (the KPA and its
//!   scraper);
//! * [`hpa_events`]: metrics-server scrapes and HPA syncs, which, like this
//!   file, call across components;
//! * [`accounting`]: counters, histograms, timeseries rows and the summary;
//! * [`timeline`]: the route reconciler and changes while the run goes on,
//!   over the route state of [`routing`].
//!
//! Components share only the ids and events of [`event`] and the request
//! table of [`request`]. A handler here asks one component what happened and
//! hands the consequences to the next, in the order the cluster would see
//! them; that order is also the order of every random draw, so it must not
//! change without re-recording `tests/lock/`.

mod accounting;
mod activator;
mod autoscaler;
mod cluster_flow;
pub(crate) mod event;
mod eventing;
mod eventing_flow;
mod hpa_events;
mod ingress;
mod latency_hist;
mod nodes;
mod outputs;
mod pod_loads;
mod pods;
mod qp_reports;
mod queue_proxy;
mod request;
mod resources;
mod routing;
mod services;
mod setup;
mod timeline;

use super::report::{
    DecisionRecord, RequestOutcome, RequestRecord, RequestSender, Summary, TimeseriesSink,
};
use crate::knative::annotations::RevisionAnnotations;
use crate::knative::collector::Stat;
use crate::knative::config::AutoscalerConfig;
use crate::knative::dataplane::{
    ACTIVATOR_REPORTING_PERIOD, QUEUE_PROXY_REPORTING_PERIOD, SCRAPE_INTERVAL,
};
use crate::knative::decider::TICK_INTERVAL;
use crate::knative::kpa::SksMode;
use crate::scenario::Scenario;
use crate::sim::{EventQueue, RngStreams, SimDuration, SimTime, Stream};
use crate::workload::SourceKind;
use accounting::Accounting;
use activator::Activators;
use autoscaler::{Autoscaler, Class};
use event::{ActId, Event, PodId, ReqId, RevId, SourceId};
use ingress::Ingress;
use pods::{Kubelet, Pods};
use qp_reports::ReportGroups;
use queue_proxy::{Admission, RevisionProxies};
use rand::Rng;
use request::{ReqState, Request, Requests};
use resources::Resources;
use routing::{Dynamic, Routing};
use services::Services;

/// Accounting closes one timeseries row per simulated second.
const SECOND: SimDuration = SimDuration::from_secs(1);

/// What the engine itself keeps of a revision: its identity and the
/// settings the components do not own.
struct Revision {
    name: String,
    annotations: RevisionAnnotations,
    routing: Routing,
    deleted: bool,
    cc: u32,
}

struct Sim<'a> {
    sc: &'a Scenario,
    q: EventQueue<Event>,
    now: SimTime,
    end: SimTime,
    events: u64,
    seed: u64,
    sink: &'a mut dyn TimeseriesSink,
    /// The sink's [`TimeseriesSink::wants_requests`], asked once.
    wants_requests: bool,
    reqs: Requests,
    revs: Vec<Revision>,
    ingress: Ingress,
    activators: Activators,
    proxies: Vec<RevisionProxies>,
    /// The queue-proxies' reporting ticks.
    reports: ReportGroups,
    pods: Pods,
    scalers: Vec<Class>,
    resources: Resources,
    /// Some revision uses the resource model or is HPA-class: the
    /// timeseries gets their columns.
    resource_columns: (bool, bool),
    books: Accounting,
    services: Services,
    /// `config-autoscaler` in effect.
    autoscaler: AutoscalerConfig,
    /// Route and revision state that only a timeline changes.
    dynamic: Option<Box<Dynamic>>,
    /// Brokers, Triggers and event sources, when the scenario has them.
    eventing: Option<Box<eventing::Eventing>>,
}

/// Runs `scenario` with master seed `seed`, handing one timeseries row per
/// revision per simulated second to `sink`, and returns the summary.
///
/// A pure function of `scenario` and `seed`: it reads no clock, so the
/// summary and the rows are the same bytes on every run.
///
/// The sink is a trait object so that the engine is compiled once, in this
/// crate, whoever calls it: the code a benchmark times is the code
/// `knsim run` runs, and a profile of one applies to the other
/// (docs/performance.md, "Thirteenth round: profile-guided optimisation").
pub fn simulate(scenario: &Scenario, seed: u64, sink: &mut dyn TimeseriesSink) -> Summary {
    let mut sim = Sim::new(scenario, seed, sink);
    sim.run();
    sim.summary()
}

impl<'a> Sim<'a> {
    fn new(sc: &'a Scenario, seed: u64, sink: &'a mut dyn TimeseriesSink) -> Self {
        let streams = RngStreams::new(seed);
        let mut tick_rng = streams.get(Stream::TickPhase, 0);
        let n_acts = sc.cluster.activators as usize;
        let wants_requests = sink.wants_requests();
        let mut sim = Sim {
            sc,
            q: EventQueue::new(),
            now: SimTime::ZERO,
            end: SimTime::ZERO + sc.duration,
            events: 0,
            seed,
            wants_requests,
            books: Accounting::new(sc.window, sink.wants_rows()),
            sink,
            reqs: Requests::with_capacity(1024, wants_requests),
            revs: Vec::new(),
            ingress: Ingress::new(sc, &streams),
            activators: Activators::new(n_acts),
            proxies: Vec::new(),
            reports: ReportGroups::default(),
            pods: Pods::new(Kubelet {
                max_pods: sc.cluster.max_pods,
                probe_period: sc.cluster.kubelet_probe_period,
                probe_timeout: sc.cluster.kubelet_probe_timeout,
            }),
            scalers: Vec::new(),
            services: Services::new(sc.services.len(), sc.multi_service, sc.window),
            resources: Resources::default(),
            resource_columns: hpa_events::resource_columns(sc),
            autoscaler: sc.autoscaler.clone(),
            dynamic: None,
            eventing: None,
        };
        if let Some(spec) = &sc.cluster.nodes {
            let nodes = nodes::Nodes::new(spec, &streams, &mut sim.q);
            sim.pods.attach_nodes(nodes);
        }
        let mut initial = Vec::new();
        for (svc, service) in sc.services.iter().enumerate() {
            let route = &service.route;
            for i in service.revisions.clone() {
                let r = &sc.revisions[i];
                let reachable = route.default.iter().any(|(n, _)| n == &r.name)
                    || route.tags.values().any(|n| n == &r.name)
                    || service
                        .traffic
                        .iter()
                        .any(|t| t.revision_name.as_deref() == Some(r.name.as_str()));
                initial.push(sim.add_revision(r, RevId(i as u16), svc, &streams, reachable));
                sim.services.add_revision(svc);
            }
        }
        // Every per-revision and per-activator ticker starts at its own phase,
        // as the real goroutines do.
        for r in 0..sim.revs.len() {
            let rev = RevId(r as u16);
            let scrape = SimDuration(tick_rng.random_range(0..SCRAPE_INTERVAL.as_nanos()));
            let tick = SimDuration(tick_rng.random_range(0..TICK_INTERVAL.as_nanos()));
            sim.q
                .schedule(SimTime::ZERO + scrape, Event::Scrape { rev });
            sim.q
                .schedule(SimTime::ZERO + tick, Event::DeciderTick { rev });
        }
        for a in 0..n_acts {
            let period = ACTIVATOR_REPORTING_PERIOD.as_nanos();
            let phase = SimDuration(tick_rng.random_range(0..period));
            let act = ActId(a as u16);
            sim.q
                .schedule(SimTime::ZERO + phase, Event::ActivatorReport { act });
        }
        for (i, src) in sc.workloads.sources.iter().enumerate() {
            let source = SourceId(i as u32);
            match &src.kind {
                SourceKind::Closed { clients, start, .. } => {
                    for _ in 0..*clients {
                        sim.q.schedule(*start, Event::ClientSend { source });
                    }
                }
                _ => sim.schedule_next_arrival(source),
            }
        }
        sim.q.schedule(SimTime::ZERO + SECOND, Event::Second);
        sim.q.schedule(sim.end, Event::End);
        if !sc.timeline.is_empty() {
            sim.start_timeline(streams.clone());
        }
        sim.start_eventing(&streams);
        // The revision reconciler creates each Deployment with initial-scale
        // replicas; the KPA then reconciles.
        for (r, n) in initial.into_iter().enumerate() {
            sim.set_replicas(RevId(r as u16), n);
            sim.reconcile(RevId(r as u16));
        }
        sim
    }

    fn run(&mut self) {
        while let Some((t, ev)) = self.q.pop() {
            self.now = t;
            self.events += 1;
            if self.reqs.is_large() {
                if let Some(&(Event::ServiceDone { req, .. } | Event::ServiceCutOff { req, .. })) =
                    self.q.peek()
                {
                    self.reqs.prefetch(req);
                }
            }
            match ev {
                Event::End => {
                    if t.as_nanos() % SECOND.as_nanos() == 0 {
                        self.record_second();
                    }
                    break;
                }
                Event::Arrival { source } => self.on_arrival(source),
                Event::ClientSend { source } => self.on_client_send(source),
                // One call for both, so that it stays inlined here.
                Event::ServiceDone { req, gen } | Event::ServiceCutOff { req, gen } => {
                    let timed_out = matches!(ev, Event::ServiceCutOff { .. });
                    self.on_service_done(req, gen, timed_out)
                }
                Event::Timeout { req, gen } => self.on_timeout(req, gen),
                Event::PodScheduled { rev, pod } => self.on_pod_scheduled(rev, pod),
                Event::PodRoutable { rev, pod } => self.on_pod_routable(rev, pod),
                Event::PodReady { rev, pod } => self.on_pod_ready(rev, pod),
                Event::DrainQuiet { rev, pod } => {
                    self.pods.drain_quiet(rev, pod);
                    self.proxies[rev.idx()].drain_slept(pod);
                    self.maybe_pod_gone(rev, pod);
                }
                Event::QpReport { group } => self.on_qp_report(group),
                Event::Scrape { rev } => self.on_scrape(rev),
                Event::DeciderTick { rev } => self.on_decider_tick(rev),
                Event::MetricsScrape { rev } => self.on_metrics_scrape(rev),
                Event::HpaSync { rev } => self.on_hpa_sync(rev),
                Event::ActivatorReport { act } => self.on_activator_report(act),
                Event::Reconcile { rev, requeue } => {
                    if !requeue || self.scalers[rev.idx()].take_requeue(t) {
                        self.reconcile(rev);
                    }
                }
                Event::Second => {
                    if self.now + SECOND < self.end {
                        self.q.schedule(self.now + SECOND, Event::Second);
                    }
                    self.record_second();
                }
                Event::Timeline { step } => self.on_timeline(step as usize),
                Event::RouteReconcile { svc } => self.route_reconcile(svc as usize),
                Event::ClusterScan
                | Event::NodeReady { .. }
                | Event::NodeGone { .. }
                | Event::NodeEvict { .. }
                | Event::NodeDrainDeadline { .. } => self.on_node_event(ev),
                Event::SourceEmits { src } => self.on_event_emit(src),
                Event::DeliveryAttempt { delivery } => self.on_event_attempt(delivery),
                Event::DeliveryTimeout { delivery, attempt } => {
                    self.on_event_attempt_timeout(delivery, attempt)
                }
            }
        }
        self.now = self.end;
    }

    // ---------------------------------------------------------------- requests

    #[inline(always)]
    fn schedule_next_arrival(&mut self, s: SourceId) {
        if let Some(t) = self.ingress.next_arrival(s, self.end) {
            // Each source schedules its next arrival after its last one:
            // the queue's arrival lane takes them in order.
            self.q
                .schedule_arrival(t.max(self.now), Event::Arrival { source: s });
        }
    }

    fn on_arrival(&mut self, s: SourceId) {
        let (rev, duration) = self.ingress.arrival(s);
        self.schedule_next_arrival(s);
        match rev {
            Some(r) => {
                self.admit(r, s, duration);
            }
            None => self.not_found(s),
        }
    }

    fn on_client_send(&mut self, s: SourceId) {
        match self.ingress.route(s) {
            Some(r) => {
                self.admit(r, s, 0);
            }
            None => {
                // The client gets a 404 at once and tries again after thinking.
                self.not_found(s);
                self.client_again(s);
            }
        }
    }

    fn not_found(&mut self, s: SourceId) {
        let svc = self.ingress.service_of(s);
        self.answer_404(svc, RequestSender::Workload(s.0));
    }

    /// A request of `sender` to Service `svc` found no route: the ingress
    /// answers 404 at once.
    fn answer_404(&mut self, svc: usize, sender: RequestSender) {
        self.books.not_found(self.now);
        self.services.not_found(svc, self.now);
        if self.wants_requests {
            self.sink.not_found(sender, self.now);
        }
    }

    #[inline(always)]
    fn client_again(&mut self, s: SourceId) {
        if let Some(t) = self.ingress.think(s, self.now, self.end) {
            self.q.schedule(t, Event::ClientSend { source: s });
        }
    }

    /// The ingress routed a request to `r`: straight to a ready pod while the
    /// SKS serves, otherwise through an activator.
    fn admit(&mut self, r: RevId, source: SourceId, duration: u64) -> ReqId {
        let now = self.now;
        self.books.arrived(r, now);
        let id = self.reqs.alloc(Request::new(r, source, now));
        if duration > 0 {
            self.reqs.set_duration(id, duration);
        }
        // The ready pods only matter while the SKS serves: behind the
        // activator a request spares the read of the Deployment's record.
        let direct =
            self.scalers[r.idx()].sks_mode() == SksMode::Serve && !self.pods.ready(r).is_empty();
        if direct {
            let pod = self.ingress.direct_pod(r, self.pods.ready(r));
            self.qp_receive(id, pod);
        } else {
            let a = self.activators.pick(r);
            self.activator_receive(id, a);
        }
        id
    }

    fn activator_receive(&mut self, id: ReqId, a: ActId) {
        let now = self.now;
        let req = self.reqs.get_mut(id);
        req.activator = Some(a);
        let r = req.rev;
        if self.activators.count_in(a, r, now) {
            // The immediate "first request" stat that makes scale-from-zero fast.
            self.push_activator_stat(r, &Activators::first_request_stat());
        }
        if let Some(pod) = self.activators.pass_through(a, self.reqs.get_mut(id)) {
            // An empty throttler queue with capacity: the request is the
            // one a dispatch would release at once, so it skips the queue.
            self.qp_receive(id, pod);
            self.activator_dispatch_more(a, r);
            return;
        }
        self.activators.enqueue(a, id, self.reqs.get_mut(id));
        self.activator_dispatch(a, r);
        // Only a request left waiting needs a timer: one that went straight
        // through is timed by its service completion.
        if self.reqs.get(id).state == ReqState::ActivatorQueued {
            self.arm_timer(id, r);
        }
    }

    /// Releases queued requests of `r` at `a` while the throttler has
    /// capacity. A released request can fail at once (503) and re-enter
    /// here through `finish`; the component then declines, and this loop
    /// picks up whatever that freed.
    fn activator_dispatch(&mut self, a: ActId, r: RevId) {
        if !self.activators.begin_dispatch(a, r) {
            return;
        }
        self.activator_dispatch_more(a, r);
    }

    /// The rest of a release under way: requests queued meanwhile (by a
    /// handler it re-entered) go while the throttler has capacity.
    #[inline(always)]
    fn activator_dispatch_more(&mut self, a: ActId, r: RevId) {
        while let Some((id, pod)) = self.activators.next_dispatch(a, r, &self.reqs) {
            self.qp_receive(id, pod);
        }
        self.activators.end_dispatch(a, r, &self.reqs);
    }

    /// Arms the timeout of request `id` of revision `r`, at its deadline.
    #[inline]
    fn arm_timer(&mut self, id: ReqId, r: RevId) {
        let deadline = self.proxies[r.idx()].deadline(self.reqs.get(id).arrival);
        self.reqs.arm_timer(id, deadline, &mut self.q);
    }

    #[inline(always)]
    fn qp_receive(&mut self, id: ReqId, pod: PodId) {
        self.reqs.set_to_pod(id, self.now);
        let req = self.reqs.get_mut(id);
        let r = req.rev;
        match self.proxies[r.idx()].receive(pod, id, req, self.now) {
            Admission::Overflow => self.finish(id, RequestOutcome::Overflow),
            Admission::Start => self.start_service(id),
            Admission::Queued => self.arm_timer(id, r),
        }
    }

    fn start_service(&mut self, id: ReqId) {
        let now = self.now;
        self.reqs.set_started(id, now);
        let traced = self.reqs.duration(id);
        let req = self.reqs.get_mut(id);
        let r = req.rev.idx();
        let res = &mut self.resources;
        // Most revisions have no resource model: no call for them.
        let tracked = res.active(r);
        let (at, timed_out) = self.proxies[r].start(req, traced, now, |pod, base, wall| {
            if tracked {
                res.start(r, id, pod, now, base, wall)
            } else {
                None
            }
        });
        let gen = req.gen;
        let event = if timed_out {
            Event::ServiceCutOff { req: id, gen }
        } else {
            Event::ServiceDone { req: id, gen }
        };
        self.q.schedule(at, event);
    }

    fn on_service_done(&mut self, id: ReqId, gen: u32, timed_out: bool) {
        let req = *self.reqs.get(id);
        if req.gen != gen {
            return;
        }
        let r = req.rev;
        let pod = req.pod().expect("a served request has a pod");
        let proxied = req.activator.is_some();
        if self.resources.active(r.idx()) {
            self.resources.done(r.idx(), id, pod, self.now);
        }
        // The freed slot goes to the next live waiter (FIFO).
        if let Some(next) = self.proxies[r.idx()].done(pod, proxied, self.now, &self.reqs) {
            self.start_service(next);
        }
        let outcome = if timed_out {
            RequestOutcome::Timeout
        } else {
            if self.proxies[r.idx()].app_fails() {
                RequestOutcome::AppError
            } else {
                RequestOutcome::Ok
            }
        };
        // Starting the next waiter changed another slot, not this one.
        self.finish_req(id, req, outcome);
        self.maybe_pod_gone(r, pod);
    }

    fn on_timeout(&mut self, id: ReqId, gen: u32) {
        let req = *self.reqs.get(id);
        if req.gen != gen {
            return;
        }
        let r = req.rev;
        match req.state {
            ReqState::ActivatorQueued => {
                let a = req.activator.expect("queued at an activator");
                self.activators.abandon(a, r);
                self.finish_req(id, req, RequestOutcome::Timeout);
            }
            ReqState::QpQueued => {
                let pod = req.pod().expect("queued at a pod");
                let proxied = req.activator.is_some();
                self.proxies[r.idx()].abandon(pod, proxied, self.now);
                self.finish_req(id, req, RequestOutcome::Timeout);
                self.maybe_pod_gone(r, pod);
            }
            // Executing requests end at their deadline through ServiceCutOff.
            ReqState::Executing | ReqState::Free => {}
        }
    }

    /// Records the outcome, releases activator reservations and frees the
    /// request (re-arming a closed-loop client).
    fn finish(&mut self, id: ReqId, outcome: RequestOutcome) {
        let req = *self.reqs.get(id);
        self.finish_req(id, req, outcome);
    }

    /// [`Sim::finish`] for a caller that already holds a copy of the
    /// request, unchanged since it was taken.
    fn finish_req(&mut self, id: ReqId, req: Request, outcome: RequestOutcome) {
        let now = self.now;
        let r = req.rev;
        self.books.finished(r, outcome, req.arrival, now, req.cold);
        if self.wants_requests {
            let (to_pod, service_start) = self.reqs.milestones(id);
            let source = match eventing::delivery_of(req.source) {
                None => RequestSender::Workload(req.source.0),
                Some(d) => self.delivery_sender(d),
            };
            self.sink.request(&RequestRecord {
                revision: r.idx(),
                arrival: req.arrival,
                service_start,
                end: now,
                outcome,
                cold: req.cold,
                activator: req.activator.map(|a| a.0),
                source,
                to_pod,
            });
        }
        self.reqs.free(id);
        if let Some(a) = req.activator {
            self.activators.release(a, r, req.pod(), now);
            self.activator_dispatch(a, r);
        }
        if !self.event_request_done(req.source, id, req.gen, outcome) {
            self.client_again(req.source);
        }
    }

    // -------------------------------------------------------------------- pods

    /// The Deployment of `r` is set to `want` replicas; surplus pods go in
    /// the ReplicaSet's victim order.
    fn set_replicas(&mut self, r: RevId, want: u32) {
        // The scenario's limits.max-pods keeps memory bounded.
        let want = want.min(self.sc.cluster.max_replicas);
        let now = self.now;
        self.pods.set_replicas(r, want, now, &mut self.q);
        self.proxies[r.idx()].ensure_pods(self.pods.created(r), now);
        while self.pods.live(r) > want {
            let victim = self.pods.pick_victim(r);
            let in_flight = self.proxies[r.idx()].in_flight(victim);
            let d = self.pods.delete(r, victim, in_flight, now, &mut self.q);
            if d.was_routable {
                self.activators.remove_routable(r, victim);
            }
            if d.gone {
                self.proxies[r.idx()].pod_gone(victim);
            }
        }
    }

    fn maybe_pod_gone(&mut self, r: RevId, pod: PodId) {
        // Only an empty pod past its drain sleep can go: asking its
        // queue-proxy, whose line the request has just touched, spares
        // nearly every request a read of the pod's record, a cache miss with
        // thousands of pods or hundreds of revisions.
        if self.proxies[r.idx()].may_go(pod) && self.pods.maybe_gone(r, pod, self.now, &mut self.q)
        {
            self.proxies[r.idx()].pod_gone(pod);
        }
    }

    fn on_pod_scheduled(&mut self, r: RevId, pod: PodId) {
        if let Some(t_cs) = self.pods.scheduled(r, pod, self.now, &mut self.q) {
            self.proxies[r.idx()].container_started(pod, t_cs);
            let group = self.reports.start((r, pod));
            self.q.schedule(
                t_cs + QUEUE_PROXY_REPORTING_PERIOD,
                Event::QpReport { group },
            );
        }
    }

    fn on_pod_routable(&mut self, r: RevId, pod: PodId) {
        if !self.pods.routable(r, pod) {
            return;
        }
        self.activators.add_routable(r, pod);
        for a in 0..self.activators.count() {
            self.activator_dispatch(ActId(a as u16), r);
        }
    }

    fn on_pod_ready(&mut self, r: RevId, pod: PodId) {
        if !self.pods.ready_now(r, pod, self.now) {
            return;
        }
        if !self.pods.is_routable(r, pod) {
            self.on_pod_routable(r, pod);
        }
        // A pod change enqueues the PodAutoscaler.
        self.reconcile(r);
    }

    // ----------------------------------------------------------------- metrics

    /// Each member of the group closes its reporting period, in the order
    /// of the events it stands for; each counts as one event.
    fn on_qp_report(&mut self, group: u32) {
        let now = self.now;
        let mut members = self.reports.take(group);
        let popped = members.len() as u64;
        let (pods, proxies) = (&self.pods, &mut self.proxies);
        members.retain(|&(r, pod)| {
            if pods.is_gone(r, pod) {
                return false;
            }
            proxies[r.idx()].report(pod, now);
            true
        });
        let events = self.events;
        self.events += popped.saturating_sub(1);
        if self
            .reports
            .put_back(group, members, events, now, self.events)
        {
            self.q.schedule(
                now + QUEUE_PROXY_REPORTING_PERIOD,
                Event::QpReport { group },
            );
        }
    }

    fn on_scrape(&mut self, r: RevId) {
        if self.revs[r.idx()].deleted {
            return;
        }
        let now = self.now;
        self.q
            .schedule(now + SCRAPE_INTERVAL, Event::Scrape { rev: r });
        let pods = &self.pods;
        let proxies = &self.proxies[r.idx()];
        self.scalers[r.idx()].scrape(
            now,
            pods.ready(r),
            |p| pods.container_started(r, p),
            |p| proxies.last_report(p),
        );
    }

    fn on_activator_report(&mut self, a: ActId) {
        let now = self.now;
        self.q.schedule(
            now + ACTIVATOR_REPORTING_PERIOD,
            Event::ActivatorReport { act: a },
        );
        for r in 0..self.revs.len() {
            let r = RevId(r as u16);
            if let Some(stat) = self.activators.report(a, r, now) {
                self.push_activator_stat(r, &stat);
            }
        }
    }

    /// An activator stat reaches the autoscaler, which may decide at once.
    fn push_activator_stat(&mut self, r: RevId, stat: &Stat) {
        if self.scalers[r.idx()].record_activator_stat(self.now, stat) {
            self.scale_now(r);
        }
    }

    // -------------------------------------------------------------- autoscaler

    fn on_decider_tick(&mut self, r: RevId) {
        if self.revs[r.idx()].deleted {
            return;
        }
        self.q
            .schedule(self.now + TICK_INTERVAL, Event::DeciderTick { rev: r });
        self.scale_now(r);
    }

    fn scale_now(&mut self, r: RevId) {
        let ready = self.pods.ready(r).len();
        let changed = self.scalers[r.idx()].decide(self.now, ready);
        if self.sink.wants_decisions() {
            if let Some(tick) = self.scalers[r.idx()].tick_detail(changed) {
                self.sink.decision(&DecisionRecord {
                    time: self.now,
                    revision: r.idx(),
                    ready_pods: ready as u32,
                    tick: Some(tick),
                    reconcile: None,
                });
            }
        }
        if changed {
            self.reconcile(r);
        }
    }

    /// The PodAutoscaler reconciler (§4.2 of the spec), instantaneous.
    fn reconcile(&mut self, r: RevId) {
        if self.revs[r.idx()].deleted {
            return;
        }
        let now = self.now;
        let plan = self.scalers[r.idx()].plan(now, &self.autoscaler);
        let detail = if self.sink.wants_decisions() {
            self.scalers[r.idx()].reconcile_detail(now, &plan, &self.autoscaler)
        } else {
            None
        };
        if let Some(want) = plan.replicas {
            if want != self.pods.replicas(r) {
                self.set_replicas(r, want);
            }
        }
        if let Some(at) = self.scalers[r.idx()].requeue(now, plan.requeue_after) {
            self.q.schedule(
                at,
                Event::Reconcile {
                    rev: r,
                    requeue: true,
                },
            );
        }
        let ready = self.pods.ready(r).len();
        let s = self.scalers[r.idx()].settle(now, &plan, ready, &self.autoscaler);
        if let Some(k) = s.activators {
            self.activators.set_subset_size(r, k);
        }
        if let Some(mut d) = detail {
            let scaler = &self.scalers[r.idx()];
            d.replicas_after = self.pods.replicas(r);
            d.sks_mode = match scaler.sks_mode() {
                SksMode::Serve => "serve",
                SksMode::Proxy => "proxy",
            };
            d.activators = scaler.activators();
            self.sink.decision(&DecisionRecord {
                time: now,
                revision: r.idx(),
                ready_pods: ready as u32,
                tick: None,
                reconcile: Some(d),
            });
        }
        if s.initialized && self.dynamic.is_some() {
            self.revision_ready(r);
        }
        if s.condition_changed {
            // The PA's own status update enqueues it again.
            self.q.schedule(
                now,
                Event::Reconcile {
                    rev: r,
                    requeue: false,
                },
            );
        }
    }
}
