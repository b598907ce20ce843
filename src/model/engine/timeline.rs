//! Changes while the simulation runs: timeline actions, the route
//! reconciler (latest ready revision, gradual rollout, reachability) and
//! revisions created or deleted mid-run. None of this runs for a scenario
//! without a timeline, so such runs stay exactly as they were.

use super::{ActRev, Event, Sim};
use crate::knative::config::{DeploymentConfig, NetworkConfig};
use crate::knative::kpa::{resolve_revision_scaling, RevisionScaling};
use crate::knative::route::{effective_splits, traffic_groups, Rollout, TrafficTarget};
use crate::model::report::TimeseriesSink;
use crate::scenario::{RevisionSpec, TimelineAction};
use crate::sim::{RngStreams, SimDuration, SimRng, SimTime, Stream};
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};

/// How long the ingress takes to program a changed split. Knative measures
/// the first rollout step from this (`ObserveReady`), and never counts less
/// than a second.
const INGRESS_READY_DELAY: SimDuration = SimDuration::from_secs(1);

/// The revision's `serving.knative.dev/routingState` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Routing {
    /// Created, not yet referenced by the route: reachability unknown, which
    /// the autoscaler treats as reachable.
    Pending,
    /// Referenced by the route.
    Active,
    /// No longer referenced: unreachable.
    Reserve,
}

/// Route and configuration state that only a timeline changes.
pub(super) struct Dynamic {
    traffic: Vec<TrafficTarget>,
    rollout_annotation: Option<SimDuration>,
    network: NetworkConfig,
    deployment: DeploymentConfig,
    rollout: Rollout,
    splits: BTreeMap<String, Vec<(String, u32)>>,
    tag_splits: BTreeMap<String, Vec<(u32, u16)>>,
    latest_ready: u16,
    ingress_ready_at: Option<SimTime>,
    wakeup: Option<SimTime>,
    streams: RngStreams,
}

/// Picks from cumulative percents; one entry needs no draw.
fn pick_split(split: &[(u32, u16)], rng: &mut SimRng) -> Option<u16> {
    match split {
        [] => None,
        [(_, r)] => Some(*r),
        _ => {
            let total = split.last().map_or(0, |(c, _)| *c);
            let u = rng.random_range(0..total.max(1));
            split.iter().find(|(c, _)| u < *c).map(|(_, r)| *r)
        }
    }
}

impl<S: TimeseriesSink> Sim<'_, S> {
    pub(super) fn start_timeline(&mut self, streams: RngStreams) {
        let sc = self.sc;
        let latest = (self.revs.len() - 1) as u16;
        let groups = traffic_groups(&sc.traffic, Some(&self.revs[latest as usize].name))
            .expect("a latest revision is given");
        let rollout = Rollout::build(&groups);
        let splits = effective_splits(&groups, &rollout);
        self.dynamic = Some(Box::new(Dynamic {
            traffic: sc.traffic.clone(),
            rollout_annotation: sc.rollout_duration,
            network: sc.network.clone(),
            deployment: sc.deployment.clone(),
            rollout,
            splits,
            tag_splits: BTreeMap::new(),
            latest_ready: latest,
            ingress_ready_at: None,
            wakeup: None,
            streams,
        }));
        self.apply_splits();
        for (i, st) in sc.timeline.iter().enumerate() {
            self.q.schedule(st.at, Event::Timeline { step: i as u32 });
        }
    }

    fn dyn_mut(&mut self) -> &mut Dynamic {
        self.dynamic
            .as_deref_mut()
            .expect("timeline state exists when a timeline runs")
    }

    fn rev_index(&self, name: &str) -> Option<usize> {
        self.revs.iter().position(|r| !r.deleted && r.name == name)
    }

    /// A tagged request: the tag's split, or `None` (404) for an unknown tag.
    pub(super) fn pick_tagged(&mut self, tag: &str) -> Option<u16> {
        let d = self.dynamic.as_deref()?;
        let split = d.tag_splits.get(tag)?;
        pick_split(split, &mut self.rng_route)
    }

    pub(super) fn on_timeline(&mut self, step: usize) {
        let sc = self.sc;
        for a in &sc.timeline[step].actions {
            match a {
                TimelineAction::Configs(c) => {
                    self.autoscaler = c.autoscaler.clone();
                    let d = self.dyn_mut();
                    d.network = c.network.clone();
                    d.deployment = c.deployment.clone();
                    for r in 0..self.revs.len() {
                        if !self.revs[r].deleted {
                            let s = self.resolve(r);
                            self.apply_scaling(r, s);
                        }
                    }
                    self.route_reconcile();
                }
                TimelineAction::CreateRevision(spec) => self.create_revision(spec),
                TimelineAction::Traffic {
                    targets,
                    rollout_duration,
                } => {
                    let d = self.dyn_mut();
                    d.traffic = targets.clone();
                    d.rollout_annotation = *rollout_duration;
                    self.route_reconcile();
                }
                TimelineAction::Annotate {
                    revision,
                    annotations,
                } => {
                    let r = self.rev_index(revision).expect("validated revision");
                    self.revs[r].annotations = (**annotations).clone();
                    let s = self.resolve(r);
                    self.apply_scaling(r, s);
                }
                TimelineAction::DeleteRevision(name) => {
                    let r = self.rev_index(name).expect("validated revision");
                    self.delete_revision(r);
                }
            }
        }
    }

    fn resolve(&self, r: usize) -> RevisionScaling {
        let d = self.dynamic.as_deref().expect("timeline state");
        let rev = &self.revs[r];
        resolve_revision_scaling(&self.autoscaler, &d.deployment, rev.cc, &rev.annotations)
    }

    /// The PodAutoscaler picked up new settings: `Decider::Update` and the
    /// Metric's new windows, then a reconcile.
    fn apply_scaling(&mut self, r: usize, scaling: RevisionScaling) {
        let now = self.now;
        let rev = &mut self.revs[r];
        let mut spec = scaling.decider.clone();
        spec.reachable = rev.reachable;
        rev.decider.update(spec);
        rev.collector.update_windows_at(
            now,
            scaling.stable_window,
            scaling.panic_window,
            scaling.has_scrape_target,
        );
        rev.scaling = scaling;
        self.reconcile(r);
    }

    fn set_reachable(&mut self, r: usize, reachable: bool) {
        let rev = &mut self.revs[r];
        if rev.reachable == reachable {
            return;
        }
        rev.reachable = reachable;
        let mut spec = rev.decider.spec().clone();
        spec.reachable = reachable;
        rev.decider.update(spec);
        self.reconcile(r);
    }

    fn create_revision(&mut self, spec: &RevisionSpec) {
        let now = self.now;
        let r = self.revs.len();
        let streams = self.dyn_mut().streams.clone();
        let mut rev = Self::new_rev(self.sc, spec, r, &streams, true, now);
        rev.routing = super::Routing::Pending;
        self.revs.push(rev);
        for a in &mut self.acts {
            a.push(ActRev::default());
        }
        self.update_subset(r);
        // Revisions created later draw their ticker phases from their own
        // stream, so the initial revisions' phases stay as they were.
        let mut tick = streams.get(Stream::TickPhase, r as u64);
        let scrape = SimDuration(tick.random_range(0..super::SECOND.as_nanos()));
        let decide = SimDuration(tick.random_range(0..super::TICK.as_nanos()));
        self.q
            .schedule(now + scrape, Event::Scrape { rev: r as u16 });
        self.q
            .schedule(now + decide, Event::DeciderTick { rev: r as u16 });
        // The revision reconciler creates the Deployment with initial-scale
        // replicas; the KPA then reconciles.
        let initial = self.revs[r].replicas;
        self.revs[r].replicas = 0;
        self.set_replicas(r, initial);
        self.reconcile(r);
    }

    fn delete_revision(&mut self, r: usize) {
        {
            let rev = &mut self.revs[r];
            rev.deleted = true;
            rev.routing = Routing::Reserve;
            rev.reachable = false;
        }
        // Deleting the Deployment terminates every pod; each drains.
        self.set_replicas(r, 0);
        let latest = self.dyn_mut().latest_ready as usize;
        if latest == r {
            let fallback = (0..self.revs.len())
                .rev()
                .find(|&i| !self.revs[i].deleted && self.revs[i].scale_target_initialized)
                .or_else(|| (0..self.revs.len()).rev().find(|&i| !self.revs[i].deleted))
                .expect("the newest revision is never deleted");
            self.dyn_mut().latest_ready = fallback as u16;
        }
        self.route_reconcile();
    }

    /// A revision became ready; if it is newer than the latest ready one,
    /// the Configuration points its latestRevision targets at it.
    pub(super) fn revision_ready(&mut self, r: usize) {
        let now = self.now;
        if self.revs[r].deleted {
            return;
        }
        let d = self.dyn_mut();
        if r as u16 > d.latest_ready {
            d.latest_ready = r as u16;
            self.q.schedule(now, Event::RouteReconcile);
        }
    }

    /// The route reconciler: resolves the traffic block, steps a gradual
    /// rollout (`reconcileRollout`), programs the ingress and relabels
    /// revisions' routing state.
    pub(super) fn route_reconcile(&mut self) {
        let now = self.now;
        let latest_name = {
            let d = self.dynamic.as_deref().expect("timeline state");
            self.revs[d.latest_ready as usize].name.clone()
        };
        let d = self.dyn_mut();
        let Some(groups) = traffic_groups(&d.traffic, Some(&latest_name)) else {
            return;
        };
        let cur = Rollout::build(&groups);
        let rd = match d.rollout_annotation {
            Some(a) if a > SimDuration::ZERO => a,
            _ => d.network.rollout_duration,
        };
        let rd_secs = rd.as_nanos() / 1_000_000_000;
        let mut wake = None;
        let eff = if rd_secs == 0 {
            cur
        } else {
            let mut prev = d.rollout.clone();
            if d.ingress_ready_at.is_some_and(|t| now >= t) {
                prev.observe_ready(now, rd_secs as f64);
                d.ingress_ready_at = None;
            }
            let (eff, next) = cur.step(Some(&prev), now);
            wake = next;
            eff
        };
        let splits = effective_splits(&groups, &eff);
        let mut referenced: BTreeSet<String> = groups
            .values()
            .flatten()
            .map(|t| t.revision.clone())
            .collect();
        referenced.extend(
            eff.configurations
                .iter()
                .flat_map(|c| c.revisions.iter().map(|r| r.revision.clone())),
        );
        d.rollout = eff;
        let changed = splits != d.splits;
        let mut wakeups = Vec::new();
        if changed {
            d.splits = splits;
            if rd_secs > 0 {
                let t = now + INGRESS_READY_DELAY;
                d.ingress_ready_at = Some(t);
                wakeups.push(t);
            }
        }
        if let Some(t) = wake {
            if d.wakeup != Some(t) {
                d.wakeup = Some(t);
                wakeups.push(t.max(now));
            }
        }
        for t in wakeups {
            self.q.schedule(t, Event::RouteReconcile);
        }
        if changed {
            self.apply_splits();
        }
        for r in 0..self.revs.len() {
            if self.revs[r].deleted {
                continue;
            }
            let is_ref = referenced.contains(&self.revs[r].name);
            let routing = match (is_ref, self.revs[r].routing) {
                (true, _) => Routing::Active,
                (false, Routing::Active) => Routing::Reserve,
                (false, other) => other,
            };
            self.revs[r].routing = routing;
            self.set_reachable(r, routing != Routing::Reserve);
        }
    }

    /// Programs the ingress: the default split and one split per tag, and
    /// each tagged source's fast path.
    fn apply_splits(&mut self) {
        let index: BTreeMap<String, u16> = self
            .revs
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.deleted)
            .map(|(i, r)| (r.name.clone(), i as u16))
            .collect();
        let cum = |split: &[(String, u32)]| {
            let mut c = 0;
            split
                .iter()
                .filter_map(|(n, p)| {
                    let r = *index.get(n)?;
                    c += p;
                    Some((c, r))
                })
                .collect::<Vec<_>>()
        };
        let d = self.dynamic.as_deref().expect("timeline state");
        let default = d.splits.get("").map(|s| cum(s)).unwrap_or_default();
        let tags: BTreeMap<String, Vec<(u32, u16)>> = d
            .splits
            .iter()
            .filter(|(t, _)| !t.is_empty())
            .map(|(t, s)| (t.clone(), cum(s)))
            .collect();
        self.route_cum = default;
        for src in &mut self.sources {
            src.tag_rev = src
                .tag
                .as_ref()
                .and_then(|t| tags.get(t))
                .and_then(|s| (s.len() == 1).then(|| s[0].1));
        }
        self.dyn_mut().tag_splits = tags;
    }
}
