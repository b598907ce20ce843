//! The workload's sources and the ingress in front of the revisions.
//!
//! Open-loop sources hand one pending arrival at a time to the event queue;
//! closed-loop clients send again after a think time. The ingress follows
//! the route's traffic split (`pkg/reconciler/route/traffic/traffic.go`, as
//! programmed into Kourier or Istio: a weighted random revision per request;
//! a tag's host goes to that tag's split) and answers 404 where no target
//! exists. On the direct path (SKS Serve) it spreads requests over the
//! revision's ready pods round robin, as the private Kubernetes service
//! does.
//!
//! The split draws from one random stream shared by all sources; think times
//! and arrivals draw from each source's own streams.

use super::event::{PodId, RevId, SourceId};
use crate::scenario::Scenario;
use crate::sim::{RngStreams, SimDuration, SimRng, SimTime, Stream};
use crate::workload::{Arrival, ArrivalGen, Dist, SourceKind};
use rand::Rng;
use std::collections::BTreeMap;

struct Source {
    gen: Option<ArrivalGen>,
    /// The revision a tagged source reaches when its tag routes to exactly
    /// one revision (always, without a timeline).
    tag_rev: Option<RevId>,
    tag: Option<String>,
    trace_tags: Vec<Option<RevId>>,
    trace_tag_names: Vec<String>,
    think: Option<Dist>,
    end: SimTime,
    rng: SimRng,
    pending: Option<Arrival>,
    /// The Service it sends to (an index into the per-Service splits).
    svc: usize,
}

/// A traffic split as cumulative percents.
pub(crate) type Split = Vec<(u32, RevId)>;

/// The sources and the ingress.
pub(crate) struct Ingress {
    sources: Vec<Source>,
    /// Each Service's default split: a request looks up only its own
    /// Service's, so routing costs the same whatever the number of Services.
    default_split: Vec<Split>,
    /// Each Service's tag splits, once its route was programmed.
    tag_splits: Vec<BTreeMap<String, Split>>,
    /// Per Service: the route reconciler programs its splits (a timeline
    /// changed its route).
    programmed: Vec<bool>,
    rng: SimRng,
    direct_rr: Vec<usize>,
}

/// Picks from cumulative percents; one entry needs no draw.
fn pick_split(split: &[(u32, RevId)], rng: &mut SimRng) -> Option<RevId> {
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

impl Ingress {
    /// The scenario's sources and its route as loaded.
    pub(crate) fn new(sc: &Scenario, streams: &RngStreams) -> Self {
        // Revision names are unique within a Service only.
        let rev_index = |svc: usize, name: &str| {
            let range = sc.services[svc].revisions.clone();
            sc.revisions[range.clone()]
                .iter()
                .position(|r| r.name == name)
                .map(|i| RevId((range.start + i) as u16))
        };
        let mut default_split = Vec::with_capacity(sc.services.len());
        for (svc, service) in sc.services.iter().enumerate() {
            let mut split = Vec::new();
            let mut cum = 0u32;
            for (name, pct) in &service.route.default {
                if *pct > 0 {
                    cum += pct;
                    split.push((cum, rev_index(svc, name).expect("validated route")));
                }
            }
            default_split.push(split);
        }
        let mut sources = Vec::new();
        for (i, src) in sc.workloads.sources.iter().enumerate() {
            let svc = sc.service_of_source(i);
            let tags = &sc.services[svc].route.tags;
            let tag_rev = src
                .tag
                .as_ref()
                .and_then(|t| tags.get(t))
                .map(|n| rev_index(svc, n).expect("validated tag"));
            let gen = sc.workloads.arrivals(i, streams);
            let tag_names = gen
                .as_ref()
                .map(|g| g.tag_names().to_vec())
                .unwrap_or_default();
            let trace_tags = tag_names
                .iter()
                .map(|t| tags.get(t).and_then(|n| rev_index(svc, n)))
                .collect();
            let (think, end) = match &src.kind {
                SourceKind::Closed { think, end, .. } => (Some(think.clone()), *end),
                _ => (None, SimTime::MAX),
            };
            sources.push(Source {
                gen,
                tag_rev,
                tag: src.tag.clone(),
                trace_tags,
                trace_tag_names: tag_names,
                think,
                end,
                rng: streams.get(Stream::WorkloadExtra, i as u64),
                pending: None,
                svc,
            });
        }
        Ingress {
            sources,
            default_split,
            tag_splits: vec![BTreeMap::new(); sc.services.len()],
            programmed: vec![false; sc.services.len()],
            rng: streams.get(Stream::Routing, 0),
            direct_rr: Vec::new(),
        }
    }

    /// The Service source `s` sends to.
    #[inline]
    pub(crate) fn service_of(&self, s: SourceId) -> usize {
        self.sources[s.idx()].svc
    }

    /// Adds the next revision.
    pub(crate) fn add_revision(&mut self) {
        self.direct_rr.push(0);
    }

    /// Draws source `s`'s next arrival; returns its time if it falls before
    /// `end` (it is then pending until [`Ingress::arrival`]).
    #[inline]
    pub(crate) fn next_arrival(&mut self, s: SourceId, end: SimTime) -> Option<SimTime> {
        let src = &mut self.sources[s.idx()];
        let a = src.gen.as_mut()?.next()?;
        if a.time < end {
            src.pending = Some(a);
            Some(a.time)
        } else {
            None
        }
    }

    /// Source `s`'s pending arrival is due: the revision it reaches (`None`
    /// = 404) and its service time from a trace in ns (0 = none).
    #[inline(always)]
    pub(crate) fn arrival(&mut self, s: SourceId) -> (Option<RevId>, u64) {
        let a = self.sources[s.idx()]
            .pending
            .take()
            .expect("arrival event without a pending arrival");
        let svc = self.sources[s.idx()].svc;
        let rev = match a.tag {
            Some(t) if self.programmed[svc] => {
                let name = self.sources[s.idx()]
                    .trace_tag_names
                    .get(t as usize)
                    .cloned();
                name.and_then(|n| self.pick_tagged(svc, &n))
            }
            Some(t) => self.sources[s.idx()]
                .trace_tags
                .get(t as usize)
                .copied()
                .flatten(),
            None => self.route(s),
        };
        (rev, a.duration.map(|d| d.as_nanos().max(1)).unwrap_or(0))
    }

    /// The revision a request of source `s` reaches; `None` = no route (404).
    #[inline(always)]
    pub(crate) fn route(&mut self, s: SourceId) -> Option<RevId> {
        let src = &self.sources[s.idx()];
        if let Some(r) = src.tag_rev {
            return Some(r);
        }
        let svc = src.svc;
        match src.tag.clone() {
            None => self.pick_default(svc),
            Some(tag) => self.pick_tagged(svc, &tag),
        }
    }

    /// The revision a request to Service `svc`'s own URL reaches (an
    /// event's subscriber); `None` = no route (404).
    #[inline]
    pub(crate) fn route_service(&mut self, svc: usize) -> Option<RevId> {
        self.pick_default(svc)
    }

    #[inline]
    fn pick_default(&mut self, svc: usize) -> Option<RevId> {
        match self.default_split[svc].as_slice() {
            [] => None,
            [(_, r)] => Some(*r),
            split => {
                let u = self.rng.random_range(0..100u32);
                let r = split.iter().find(|(c, _)| u < *c).map(|(_, r)| *r);
                Some(r.expect("route percents sum to 100"))
            }
        }
    }

    /// A tagged request: the tag's split, or `None` (404) for an unknown tag.
    #[inline]
    fn pick_tagged(&mut self, svc: usize, tag: &str) -> Option<RevId> {
        let split = self.tag_splits[svc].get(tag)?;
        pick_split(split, &mut self.rng)
    }

    /// A closed-loop client of `s` got its answer at `now`: when it sends
    /// next, if before its own end and the run's `end`.
    #[inline]
    pub(crate) fn think(&mut self, s: SourceId, now: SimTime, end: SimTime) -> Option<SimTime> {
        let src = &mut self.sources[s.idx()];
        let think = src.think.as_ref()?;
        let t = now + SimDuration::from_secs_f64(think.sample(&mut src.rng));
        (t < src.end && t < end).then_some(t)
    }

    /// The ready pod of `r` the direct path sends the next request to.
    #[inline]
    pub(crate) fn direct_pod(&mut self, r: RevId, ready: &[PodId]) -> PodId {
        let rr = &mut self.direct_rr[r.idx()];
        let pod = ready[*rr % ready.len()];
        *rr = rr.wrapping_add(1);
        pod
    }

    /// The route reconciler programs Service `svc`'s new default split and
    /// tag splits; empty ones (a deleted Service) answer every request 404.
    pub(crate) fn program(&mut self, svc: usize, default: Split, tags: BTreeMap<String, Split>) {
        self.programmed[svc] = true;
        self.default_split[svc] = default;
        for src in self.sources.iter_mut().filter(|s| s.svc == svc) {
            src.tag_rev = src
                .tag
                .as_ref()
                .and_then(|t| tags.get(t))
                .and_then(|s| (s.len() == 1).then(|| s[0].1));
        }
        self.tag_splits[svc] = tags;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_scenario;
    use std::path::Path;

    /// shop-00001 90 %, shop-00002 10 % and tag "canary"; source 0
    /// untagged, source 1 tagged.
    fn canary() -> Ingress {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/canary-90-10.toml");
        let sc = load_scenario(&path, &[]).unwrap();
        let mut i = Ingress::new(&sc, &RngStreams::new(5));
        i.add_revision();
        i.add_revision();
        i
    }

    #[test]
    fn untagged_requests_follow_the_split_and_tagged_ones_their_tag() {
        let mut i = canary();
        let n = 10_000;
        let canary = (0..n)
            .filter(|_| i.route(SourceId(0)) == Some(RevId(1)))
            .count();
        assert!((canary as f64 / n as f64 - 0.1).abs() < 0.015, "{canary}");
        assert!((0..100).all(|_| i.route(SourceId(1)) == Some(RevId(1))));
    }

    #[test]
    fn a_reprogrammed_route_moves_traffic_and_drops_unknown_tags() {
        let mut i = canary();
        i.program(0, vec![(100, RevId(1))], BTreeMap::new());
        assert_eq!(i.route(SourceId(0)), Some(RevId(1)));
        assert_eq!(i.route(SourceId(1)), None, "the tag is gone: 404");
    }

    #[test]
    fn the_direct_path_spreads_requests_round_robin() {
        let mut i = canary();
        let ready = [PodId(2), PodId(5), PodId(7)];
        let got: Vec<PodId> = (0..4).map(|_| i.direct_pod(RevId(0), &ready)).collect();
        assert_eq!(got, [PodId(2), PodId(5), PodId(7), PodId(2)]);
    }

    #[test]
    fn arrivals_after_the_end_are_not_pending() {
        let mut i = canary();
        let t = i.next_arrival(SourceId(1), SimTime::from_secs(60)).unwrap();
        assert!(t < SimTime::from_secs(60));
        let (rev, duration) = i.arrival(SourceId(1));
        assert_eq!((rev, duration), (Some(RevId(1)), 0));
        assert_eq!(i.next_arrival(SourceId(1), SimTime::ZERO), None);
    }

    #[test]
    fn a_single_target_needs_no_draw() {
        let mut rng = RngStreams::new(1).get(Stream::Routing, 0);
        let before = rng.clone().random::<u64>();
        assert_eq!(pick_split(&[(100, RevId(4))], &mut rng), Some(RevId(4)));
        assert_eq!(rng.random::<u64>(), before);
        assert_eq!(pick_split(&[], &mut rng), None);
    }

    #[test]
    fn split_follows_its_percents() {
        let mut rng = RngStreams::new(1).get(Stream::Routing, 0);
        let split = [(90, RevId(0)), (100, RevId(1))];
        let n = 20_000;
        let ones = (0..n)
            .filter(|_| pick_split(&split, &mut rng) == Some(RevId(1)))
            .count();
        let share = ones as f64 / n as f64;
        assert!((share - 0.1).abs() < 0.01, "{share}");
    }
}
