//! Changes while the simulation runs: timeline actions, the route
//! reconciler (latest ready revision, gradual rollout, reachability) and
//! revisions created or deleted mid-run. None of this runs for a scenario
//! without a timeline, so such runs stay exactly as they were.

use super::autoscaler::Autoscaler;
use super::event::{Event, RevId};
use super::ingress::Split;
use super::routing::{Dynamic, Routing};
use super::Sim;
use crate::knative::dataplane::SCRAPE_INTERVAL;
use crate::knative::decider::TICK_INTERVAL;
use crate::knative::kpa::{resolve_revision_scaling, RevisionScaling};
use crate::knative::route::{effective_splits, traffic_groups, Rollout};
use crate::model::report::TimeseriesSink;
use crate::scenario::{RevisionSpec, TimelineAction};
use crate::sim::{RngStreams, SimDuration, Stream};
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};

impl<S: TimeseriesSink> Sim<'_, S> {
    pub(super) fn start_timeline(&mut self, streams: RngStreams) {
        let sc = self.sc;
        let latest = RevId((self.revs.len() - 1) as u16);
        if sc.multi_service {
            // With several Services a timeline changes ConfigMaps and
            // annotations only: no route is reconciled or reprogrammed.
            self.dynamic = Some(Box::new(Dynamic {
                traffic: Vec::new(),
                rollout_annotation: None,
                network: sc.network.clone(),
                deployment: sc.deployment.clone(),
                rollout: Rollout::default(),
                splits: BTreeMap::new(),
                latest_ready: latest,
                ingress_ready_at: None,
                wakeup: None,
                streams,
            }));
            for (i, st) in sc.timeline.iter().enumerate() {
                self.q.schedule(st.at, Event::Timeline { step: i as u32 });
            }
            return;
        }
        let groups = traffic_groups(&sc.traffic, Some(&self.revs[latest.idx()].name))
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

    fn rev_index(&self, name: &str) -> Option<RevId> {
        let i = self
            .revs
            .iter()
            .position(|r| !r.deleted && r.name == name)?;
        Some(RevId(i as u16))
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
                    for r in (0..self.revs.len()).map(|r| RevId(r as u16)) {
                        if !self.revs[r.idx()].deleted {
                            let s = self.resolve(r);
                            self.apply_scaling(r, s);
                        }
                    }
                    if !sc.multi_service {
                        self.route_reconcile();
                    }
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
                    self.revs[r.idx()].annotations = (**annotations).clone();
                    if let Some(h) = self.scalers[r.idx()].hpa_mut() {
                        h.set_annotations(annotations);
                    }
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

    fn resolve(&self, r: RevId) -> RevisionScaling {
        let d = self.dynamic.as_deref().expect("timeline state");
        let rev = &self.revs[r.idx()];
        resolve_revision_scaling(&self.autoscaler, &d.deployment, rev.cc, &rev.annotations)
    }

    /// The PodAutoscaler picked up new settings: `Decider::Update` and the
    /// Metric's new windows, then a reconcile.
    fn apply_scaling(&mut self, r: RevId, scaling: RevisionScaling) {
        self.scalers[r.idx()].update_scaling(self.now, scaling);
        self.reconcile(r);
    }

    fn set_reachable(&mut self, r: RevId, reachable: bool) {
        if self.scalers[r.idx()].set_reachable(reachable) {
            self.reconcile(r);
        }
    }

    fn create_revision(&mut self, spec: &RevisionSpec) {
        let now = self.now;
        let r = RevId(self.revs.len() as u16);
        let streams = self.dyn_mut().streams.clone();
        let initial = self.add_revision(spec, r, &streams, true);
        // Only a single-Service scenario has a timeline.
        self.services.add_revision(0);
        self.revs[r.idx()].routing = Routing::Pending;
        // Revisions created later draw their ticker phases from their own
        // stream, so the initial revisions' phases stay as they were.
        let mut tick = streams.get(Stream::TickPhase, r.0 as u64);
        let scrape = SimDuration(tick.random_range(0..SCRAPE_INTERVAL.as_nanos()));
        let decide = SimDuration(tick.random_range(0..TICK_INTERVAL.as_nanos()));
        self.q.schedule(now + scrape, Event::Scrape { rev: r });
        self.q.schedule(now + decide, Event::DeciderTick { rev: r });
        // The revision reconciler creates the Deployment with initial-scale
        // replicas; the KPA then reconciles.
        self.set_replicas(r, initial);
        self.reconcile(r);
    }

    fn delete_revision(&mut self, r: RevId) {
        {
            // The autoscaler keeps its last reachability: nothing consults
            // it for a deleted revision.
            let rev = &mut self.revs[r.idx()];
            rev.deleted = true;
            rev.routing = Routing::Reserve;
        }
        // Deleting the Deployment terminates every pod; each drains.
        self.set_replicas(r, 0);
        let latest = self.dyn_mut().latest_ready;
        if latest == r {
            let fallback = (0..self.revs.len())
                .rev()
                .find(|&i| !self.revs[i].deleted && self.scalers[i].initialized())
                .or_else(|| (0..self.revs.len()).rev().find(|&i| !self.revs[i].deleted))
                .expect("the newest revision is never deleted");
            self.dyn_mut().latest_ready = RevId(fallback as u16);
        }
        self.route_reconcile();
    }

    /// A revision became ready; if it is newer than the latest ready one,
    /// the Configuration points its latestRevision targets at it.
    pub(super) fn revision_ready(&mut self, r: RevId) {
        let now = self.now;
        if self.revs[r.idx()].deleted || self.sc.multi_service {
            return;
        }
        let d = self.dyn_mut();
        if r > d.latest_ready {
            d.latest_ready = r;
            self.q.schedule(now, Event::RouteReconcile);
        }
    }

    /// The route reconciler: resolves the traffic block, steps a gradual
    /// rollout (`reconcileRollout`), programs the ingress and relabels
    /// revisions' routing state.
    pub(super) fn route_reconcile(&mut self) {
        if self.sc.multi_service {
            return;
        }
        let now = self.now;
        let latest_name = {
            let d = self.dynamic.as_deref().expect("timeline state");
            self.revs[d.latest_ready.idx()].name.clone()
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
                let t = now + super::routing::INGRESS_READY_DELAY;
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
        for i in 0..self.revs.len() {
            if self.revs[i].deleted {
                continue;
            }
            let is_ref = referenced.contains(&self.revs[i].name);
            let routing = match (is_ref, self.revs[i].routing) {
                (true, _) => Routing::Active,
                (false, Routing::Active) => Routing::Reserve,
                (false, other) => other,
            };
            self.revs[i].routing = routing;
            self.set_reachable(RevId(i as u16), routing != Routing::Reserve);
        }
    }

    /// Programs the ingress: the default split and one split per tag, and
    /// each tagged source's fast path.
    fn apply_splits(&mut self) {
        let index: BTreeMap<String, RevId> = self
            .revs
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.deleted)
            .map(|(i, r)| (r.name.clone(), RevId(i as u16)))
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
        let tags: BTreeMap<String, Split> = d
            .splits
            .iter()
            .filter(|(t, _)| !t.is_empty())
            .map(|(t, s)| (t.clone(), cum(s)))
            .collect();
        self.ingress.program(default, tags);
    }
}
