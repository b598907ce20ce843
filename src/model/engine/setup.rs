//! Setting up a revision: each component gets its state for it, in the
//! order (and with the random streams) the engine has always used.

use super::autoscaler::{Autoscaler, Class};
use super::event::{Event, RevId};
use super::queue_proxy::RevisionProxies;
use super::routing::Routing;
use super::{Revision, Sim};
use crate::scenario::RevisionSpec;
use crate::sim::{RngStreams, SimDuration, Stream};
use rand::Rng;

impl Sim<'_> {
    /// Gives every component its state for revision `r` (the next one, of
    /// Service `svc`) and returns the replicas its Deployment is created with.
    pub(super) fn add_revision(
        &mut self,
        spec: &RevisionSpec,
        r: RevId,
        svc: usize,
        streams: &RngStreams,
        reachable: bool,
    ) -> u32 {
        let idx = r.0 as u64;
        let scaling = &spec.scaling;
        // Names are unique within a Service only, so outputs of a scenario
        // with several Services name a revision `service/revision`.
        let name = if self.sc.multi_service {
            format!("{}/{}", self.sc.services[svc].name, spec.name)
        } else {
            spec.name.clone()
        };
        self.activators.add_revision(
            &name,
            spec.container_concurrency,
            streams.get(Stream::LoadBalancing, idx),
        );
        self.revs.push(Revision {
            name,
            annotations: spec.annotations.clone(),
            routing: if reachable {
                Routing::Active
            } else {
                Routing::Reserve
            },
            deleted: false,
            cc: spec.container_concurrency,
        });
        let scaler = Class::new(
            &spec.annotations,
            scaling,
            reachable,
            streams.get(Stream::Scraper, idx),
            self.now,
            &self.sc.hpa,
        );
        self.activators.set_subset_size(r, scaler.activators());
        self.scalers.push(scaler);
        self.proxies.push(RevisionProxies::new(
            spec.container_concurrency,
            spec.timeout,
            spec.service_time.clone(),
            spec.slowdown,
            streams.get(Stream::ServiceTime, idx),
            (spec.failure_probability > 0.0)
                .then(|| (spec.failure_probability, streams.get(Stream::Failure, idx))),
        ));
        self.pods
            .add_revision(spec.startup.clone(), streams.get(Stream::ColdStart, idx));
        self.pods.set_request(
            r,
            spec.resources.request(),
            spec.resources.request_nonzero(),
        );
        let hpa = spec.annotations.is_hpa();
        let usage = match (&spec.usage, hpa) {
            (Some(u), _) => Some(u.clone()),
            (None, true) => Some(Default::default()),
            (None, false) => None,
        };
        let mut rng = streams.get(Stream::Resources, idx);
        if hpa {
            // metrics-server scrapes at its own phase; the HPA controller
            // first syncs one period after the HPA is created.
            let res = self.sc.hpa.metric_resolution.as_nanos();
            let phase = SimDuration(rng.random_range(0..res));
            self.q
                .schedule(self.now + phase, Event::MetricsScrape { rev: r });
            self.q.schedule(
                self.now + self.sc.hpa.sync_period,
                Event::HpaSync { rev: r },
            );
        }
        let slowdown = !matches!(spec.slowdown, crate::workload::Slowdown::None);
        self.resources
            .add_revision(usage.as_ref(), &spec.resources, slowdown, rng);
        self.ingress.add_revision();
        self.books.add_revision();
        if reachable {
            scaling.initial_scale.max(0) as u32
        } else {
            0
        }
    }
}
