//! The per-second rows and the run's summary: the calls that gather what
//! every component counted and hand it to accounting and the sink.

use super::accounting::RevisionTotals;
use super::autoscaler::Autoscaler;
use super::event::RevId;
use super::Sim;
use crate::knative::kpa::SksMode;
use crate::model::report::{Summary, TimeseriesRow};

impl Sim<'_> {
    pub(super) fn record_second(&mut self) {
        let now = self.now;
        let mut any_panic = false;
        let mut any_proxy = false;
        for r in 0..self.revs.len() {
            let r = RevId(r as u16);
            let scaler = &self.scalers[r.idx()];
            let panic = scaler.in_panic();
            let proxy = scaler.sks_mode() == SksMode::Proxy;
            any_panic |= panic;
            any_proxy |= proxy;
            // What the summary takes from the second, row or no row.
            let ready = self.pods.ready(r).len() as u32;
            if self.services.on() {
                self.services.revision_second(r, panic, proxy, ready);
            }
            let events = self.eventing.as_mut().map(|e| e.take_second(r.idx()));
            let cpu_utilization = self
                .resource_columns
                .0
                .then(|| self.resources.close_second(r.idx(), now, ready as usize));
            if !self.books.keeps_rows() {
                self.books.count_second(r, now, panic, proxy);
                continue;
            }
            let (stable, panic_value) = scaler.observed();
            let (desired, ebc) = scaler.status();
            let census = self.pods.census(r);
            let name = &self.revs[r.idx()].name;
            let service = self
                .services
                .on()
                .then(|| self.sc.services[self.services.of(r)].name.clone());
            let row = TimeseriesRow {
                service,
                event_first_attempts: events.map(|c| c[0]),
                event_retries: events.map(|c| c[1]),
                events_delivered: events.map(|c| c[2]),
                events_dead_lettered: events.map(|c| c[3]),
                activator_queue: self.activators.queued(r),
                // Adding zero turns a negative zero into a positive one.
                stable_concurrency: stable + 0.0,
                panic_concurrency: panic_value + 0.0,
                desired_pods: desired,
                replicas: self.pods.replicas(r),
                ready_pods: ready,
                pending_pods: census.pending,
                unschedulable_pods: census.unschedulable,
                terminating_pods: census.terminating,
                excess_burst_capacity: ebc,
                num_activators: self.activators.subset_len(r),
                cpu_utilization,
                hpa_desired_replicas: self
                    .resource_columns
                    .1
                    .then(|| scaler.hpa().map(|_| desired)),
                ..self.books.close_second(r, now, name, panic, proxy)
            };
            self.sink.row(&row);
        }
        self.books.close_service_second(now, any_panic, any_proxy);
        self.sink.second_closed(now.whole_secs());
        let pending = self.pods.unschedulable_count();
        if let Some(nodes) = self.pods.nodes_mut() {
            nodes.record_second(now, pending);
        }
        if self.services.on() {
            self.services.end_second(now);
        }
    }

    pub(super) fn summary(&mut self) -> Summary {
        self.pods.close(self.end);
        let totals: Vec<RevisionTotals> = (0..self.revs.len())
            .map(|i| {
                let r = RevId(i as u16);
                RevisionTotals {
                    name: self.revs[i].name.clone(),
                    cold_starts: self.pods.cold_starts(r),
                    pod_seconds: self.pods.pod_seconds(r),
                    max_ready: self.pods.max_ready(r),
                }
            })
            .collect();
        let mut summary = self.books.summary(
            &self.sc.name,
            self.seed,
            self.sc.duration.as_secs_f64(),
            &totals,
            self.pods.max_ready_total(),
            self.events,
        );
        for (i, rev) in summary.revisions.iter_mut().enumerate() {
            if let Some(h) = self.scalers[i].hpa() {
                rev.hpa = Some(h.summary(self.resources.mean_utilization(i)));
            }
        }
        let names: Vec<String> = self.sc.services.iter().map(|s| s.name.clone()).collect();
        let books = &self.books;
        summary.services = self.services.summary(&names, &summary.revisions, |revs| {
            books.merged_latency(revs)
        });
        let end = self.end;
        if let Some(nodes) = self.pods.nodes_mut() {
            let (c, rows) = nodes.summary(end);
            summary.cluster = Some(c);
            summary.cluster_rows = rows;
        }
        if let Some(ev) = &self.eventing {
            // A single-Service run has no per-Service books: its totals are the Service's.
            let loads: Vec<(String, u64)> = if summary.services.is_empty() {
                vec![(self.sc.service.clone(), summary.requests.arrived)]
            } else {
                summary
                    .services
                    .iter()
                    .map(|s| (s.name.clone(), s.requests.arrived))
                    .collect()
            };
            summary.eventing = Some(ev.summary(&loads));
        }
        summary
    }
}
