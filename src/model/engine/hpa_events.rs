//! The HPA's own events: metrics-server scraping the pods of an HPA-class
//! revision, and the HPA controller's sync. Like `mod.rs`, this calls across
//! components (pods, resources, queue-proxies, the autoscaler).

use super::event::{Event, RevId};
use super::Sim;
use crate::scenario::{RevisionSpec, Scenario, TimelineAction};

/// Whether any revision, at the start or created by the timeline, uses the
/// resource model (first) or is HPA-class (second).
pub(super) fn resource_columns(sc: &Scenario) -> (bool, bool) {
    let mut specs: Vec<&RevisionSpec> = sc.revisions.iter().collect();
    for step in &sc.timeline {
        for a in &step.actions {
            if let TimelineAction::CreateRevision(spec) = a {
                specs.push(spec);
            }
        }
    }
    let hpa = specs.iter().any(|s| s.annotations.is_hpa());
    (hpa || specs.iter().any(|s| s.usage.is_some()), hpa)
}

impl Sim<'_> {
    /// metrics-server scrapes the running pods of HPA-class revision `r`.
    pub(super) fn on_metrics_scrape(&mut self, r: RevId) {
        if self.revs[r.idx()].deleted {
            return;
        }
        let now = self.now;
        self.q.schedule(
            now + self.sc.hpa.metric_resolution,
            Event::MetricsScrape { rev: r },
        );
        let view = self.pods.hpa_view(r, now);
        let (res, proxies) = (&self.resources, &self.proxies[r.idx()]);
        let running = view.iter().filter(|p| !p.pending).map(|p| {
            let cpu = res.cpu_seconds(r.idx(), p.id, now);
            (p.id, cpu, res.working_set(r.idx(), proxies.in_flight(p.id)))
        });
        if let Some(h) = self.scalers[r.idx()].hpa_mut() {
            h.scrape_metrics(now, running);
        }
    }

    /// The HPA controller syncs the HPA of revision `r` and writes the
    /// Deployment's replicas if they change.
    pub(super) fn on_hpa_sync(&mut self, r: RevId) {
        if self.revs[r.idx()].deleted {
            return;
        }
        let now = self.now;
        self.q
            .schedule(now + self.sc.hpa.sync_period, Event::HpaSync { rev: r });
        let view = self.pods.hpa_view(r, now);
        let current = self.pods.replicas(r);
        let request = self.resources.request_milli(r.idx());
        let Some(h) = self.scalers[r.idx()].hpa_mut() else {
            return;
        };
        if let Some(n) = h.sync(now, current, &view, request) {
            self.set_replicas(r, n);
            // The PodAutoscaler sees the Deployment change.
            self.reconcile(r);
        }
    }
}
