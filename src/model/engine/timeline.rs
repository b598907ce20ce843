//! Changes while the simulation runs: timeline actions, the route
//! reconciler (latest ready revision, gradual rollout, reachability) and
//! revisions created or deleted mid-run. None of this runs for a scenario
//! without a timeline, so such runs stay exactly as they were.

use super::autoscaler::Autoscaler;
use super::event::{Event, RevId};
use super::ingress::Split;
use super::routing::{Dynamic, Route, Routing};
use super::Sim;
use crate::knative::dataplane::SCRAPE_INTERVAL;
use crate::knative::decider::TICK_INTERVAL;
use crate::knative::kpa::{resolve_revision_scaling, RevisionScaling};
use crate::knative::route::{effective_splits, traffic_groups, Rollout};
use crate::scenario::{RevisionSpec, TimelineAction};
use crate::sim::{RngStreams, SimDuration, Stream};
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};

impl<'a> Sim<'a> {
    pub(super) fn start_timeline(&mut self, streams: RngStreams) {
        let sc = self.sc;
        let mut routes = Vec::with_capacity(sc.services.len());
        for service in &sc.services {
            let (traffic, annotation) = if sc.multi_service {
                (&service.traffic, service.rollout_duration)
            } else {
                (&sc.traffic, sc.rollout_duration)
            };
            let latest = service.revisions.end - 1;
            let groups = traffic_groups(traffic, Some(&sc.revisions[latest].name))
                .expect("a latest revision is given");
            let rollout = Rollout::build(&groups);
            let splits = effective_splits(&groups, &rollout);
            routes.push(Route {
                traffic: traffic.clone(),
                rollout_annotation: annotation,
                rollout,
                splits,
                latest_ready: RevId(latest as u16),
                ingress_ready_at: None,
                wakeup: None,
                deleted: false,
            });
        }
        self.dynamic = Some(Box::new(Dynamic {
            network: sc.network.clone(),
            deployment: sc.deployment.clone(),
            streams,
            routes,
        }));
        // With several Services the ingress keeps the splits it was loaded
        // with until a Service's route changes, so a timeline of ConfigMap
        // changes alone leaves routing exactly as it was.
        if !sc.multi_service {
            self.apply_splits(0);
        }
        for (i, st) in sc.timeline.iter().enumerate() {
            self.q.schedule(st.at, Event::Timeline { step: i as u32 });
        }
    }

    /// Revision `i`'s name within its Service (the engine prefixes the
    /// Service's name when there are several).
    fn plain_name(&self, i: usize) -> &str {
        let name = &self.revs[i].name;
        if self.sc.multi_service {
            let svc = &self.sc.services[self.services.of(RevId(i as u16))].name;
            name.strip_prefix(svc.as_str())
                .and_then(|n| n.strip_prefix('/'))
                .unwrap_or(name)
        } else {
            name
        }
    }

    /// Revisions of Service `svc`, in creation order.
    fn revs_of(&self, svc: usize) -> impl Iterator<Item = usize> + use<'_, 'a> {
        (0..self.revs.len()).filter(move |&i| self.services.of(RevId(i as u16)) == svc)
    }

    fn route_mut(&mut self, svc: usize) -> &mut Route {
        &mut self.dyn_mut().routes[svc]
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
        let svc = sc.timeline[step].service;
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
                    // config-network's rollout-duration reaches every route.
                    for s in 0..sc.services.len() {
                        self.route_reconcile(s);
                    }
                }
                TimelineAction::CreateRevision(spec) => self.create_revision(svc, spec),
                TimelineAction::Traffic {
                    targets,
                    rollout_duration,
                } => {
                    let route = self.route_mut(svc);
                    route.traffic = targets.clone();
                    route.rollout_annotation = *rollout_duration;
                    self.route_reconcile(svc);
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
                TimelineAction::DeleteService => self.delete_service(svc),
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

    fn create_revision(&mut self, svc: usize, spec: &RevisionSpec) {
        let now = self.now;
        let r = RevId(self.revs.len() as u16);
        let streams = self.dyn_mut().streams.clone();
        let initial = self.add_revision(spec, r, svc, &streams, true);
        self.services.add_revision(svc);
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

    /// Deletes revision `r`'s Deployment: every pod is terminated and drains.
    fn drop_revision(&mut self, r: RevId) {
        // The autoscaler keeps its last reachability: nothing consults it
        // for a deleted revision.
        let rev = &mut self.revs[r.idx()];
        rev.deleted = true;
        rev.routing = Routing::Reserve;
        self.set_replicas(r, 0);
    }

    fn delete_revision(&mut self, r: RevId) {
        self.drop_revision(r);
        let svc = self.services.of(r);
        if self.dyn_mut().routes[svc].latest_ready == r {
            let alive: Vec<usize> = self
                .revs_of(svc)
                .filter(|&i| !self.revs[i].deleted)
                .collect();
            let fallback = alive
                .iter()
                .rev()
                .find(|&&i| self.scalers[i].initialized())
                .or(alive.last())
                .copied()
                .expect("the newest revision is never deleted");
            self.route_mut(svc).latest_ready = RevId(fallback as u16);
        }
        self.route_reconcile(svc);
    }

    /// Deleting a Service deletes its Route (the ingress answers its
    /// requests 404 from now on) and, through owner references, its
    /// Configuration and every revision.
    fn delete_service(&mut self, svc: usize) {
        let route = self.route_mut(svc);
        route.deleted = true;
        route.traffic.clear();
        route.splits.clear();
        route.wakeup = None;
        route.ingress_ready_at = None;
        self.ingress.program(svc, Vec::new(), BTreeMap::new());
        let alive: Vec<usize> = self
            .revs_of(svc)
            .filter(|&i| !self.revs[i].deleted)
            .collect();
        for i in alive {
            self.drop_revision(RevId(i as u16));
        }
    }

    /// A revision became ready; if it is newer than the latest ready one,
    /// the Configuration points its latestRevision targets at it.
    pub(super) fn revision_ready(&mut self, r: RevId) {
        let now = self.now;
        if self.revs[r.idx()].deleted {
            return;
        }
        let svc = self.services.of(r);
        let route = self.route_mut(svc);
        if r > route.latest_ready {
            route.latest_ready = r;
            self.q
                .schedule(now, Event::RouteReconcile { svc: svc as u16 });
        }
    }

    /// The route reconciler: resolves the traffic block, steps a gradual
    /// rollout (`reconcileRollout`), programs the ingress and relabels
    /// revisions' routing state.
    pub(super) fn route_reconcile(&mut self, svc: usize) {
        let now = self.now;
        let latest_name = {
            let d = self.dynamic.as_deref().expect("timeline state");
            if d.routes[svc].deleted {
                return;
            }
            self.plain_name(d.routes[svc].latest_ready.idx())
                .to_string()
        };
        let d = self.dyn_mut();
        let network_rd = d.network.rollout_duration;
        let route = &mut d.routes[svc];
        let Some(groups) = traffic_groups(&route.traffic, Some(&latest_name)) else {
            return;
        };
        let cur = Rollout::build(&groups);
        let rd = match route.rollout_annotation {
            Some(a) if a > SimDuration::ZERO => a,
            _ => network_rd,
        };
        let rd_secs = rd.as_nanos() / 1_000_000_000;
        let mut wake = None;
        let eff = if rd_secs == 0 {
            cur
        } else {
            let mut prev = route.rollout.clone();
            if route.ingress_ready_at.is_some_and(|t| now >= t) {
                prev.observe_ready(now, rd_secs as f64);
                route.ingress_ready_at = None;
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
        route.rollout = eff;
        let changed = splits != route.splits;
        let mut wakeups = Vec::new();
        if changed {
            route.splits = splits;
            if rd_secs > 0 {
                let t = now + super::routing::INGRESS_READY_DELAY;
                route.ingress_ready_at = Some(t);
                wakeups.push(t);
            }
        }
        if let Some(t) = wake {
            if route.wakeup != Some(t) {
                route.wakeup = Some(t);
                wakeups.push(t.max(now));
            }
        }
        for t in wakeups {
            self.q
                .schedule(t, Event::RouteReconcile { svc: svc as u16 });
        }
        if changed {
            self.apply_splits(svc);
        }
        let mine: Vec<usize> = self.revs_of(svc).collect();
        for i in mine {
            if self.revs[i].deleted {
                continue;
            }
            let is_ref = referenced.contains(self.plain_name(i));
            let routing = match (is_ref, self.revs[i].routing) {
                (true, _) => Routing::Active,
                (false, Routing::Active) => Routing::Reserve,
                (false, other) => other,
            };
            self.revs[i].routing = routing;
            self.set_reachable(RevId(i as u16), routing != Routing::Reserve);
        }
    }

    /// Programs the ingress for Service `svc`: its default split and one
    /// split per tag, and each tagged source's fast path.
    fn apply_splits(&mut self, svc: usize) {
        let index: BTreeMap<&str, RevId> = self
            .revs_of(svc)
            .filter(|&i| !self.revs[i].deleted)
            .map(|i| (self.plain_name(i), RevId(i as u16)))
            .collect();
        let cum = |split: &[(String, u32)]| {
            let mut c = 0;
            split
                .iter()
                .filter_map(|(n, p)| {
                    let r = *index.get(n.as_str())?;
                    c += p;
                    Some((c, r))
                })
                .collect::<Vec<_>>()
        };
        let d = self.dynamic.as_deref().expect("timeline state");
        let splits = &d.routes[svc].splits;
        let default = splits.get("").map(|s| cum(s)).unwrap_or_default();
        let tags: BTreeMap<String, Split> = splits
            .iter()
            .filter(|(t, _)| !t.is_empty())
            .map(|(t, s)| (t.clone(), cum(s)))
            .collect();
        self.ingress.program(svc, default, tags);
    }
}
