//! Per-Service books of a scenario with several Services: which Service
//! each revision belongs to, its sources' 404s, and the seconds in which
//! any of its revisions panicked or had the activator in path. Off (and
//! free) for a single-Service scenario, whose outputs do not name Services.

use super::event::RevId;
use crate::model::report::{RevisionSummary, ServiceSummary};

#[derive(Clone, Default)]
struct Books {
    not_found: u64,
    panic_seconds: u64,
    proxy_seconds: u64,
    max_ready: u32,
    // This second so far.
    panic: bool,
    proxy: bool,
    ready: u32,
}

/// The books of every Service.
pub(crate) struct Services {
    on: bool,
    of_rev: Vec<u16>,
    books: Vec<Books>,
}

impl Services {
    /// `n` Services; `on` for a scenario written with several.
    pub(crate) fn new(n: usize, on: bool) -> Self {
        Services {
            on,
            of_rev: Vec::new(),
            books: vec![Books::default(); if on { n } else { 0 }],
        }
    }

    /// Whether outputs name Services.
    #[inline]
    pub(crate) fn on(&self) -> bool {
        self.on
    }

    /// The next revision belongs to Service `svc`.
    pub(crate) fn add_revision(&mut self, svc: usize) {
        self.of_rev.push(svc as u16);
    }

    /// The Service of revision `r`.
    #[inline]
    pub(crate) fn of(&self, r: RevId) -> usize {
        self.of_rev.get(r.idx()).map_or(0, |&s| s as usize)
    }

    /// A request of a source of Service `svc` had no route (404).
    #[inline]
    pub(crate) fn not_found(&mut self, svc: usize) {
        if self.on {
            self.books[svc].not_found += 1;
        }
    }

    /// Revision `r`'s state at the end of the second.
    pub(crate) fn revision_second(&mut self, r: RevId, panic: bool, proxy: bool, ready: u32) {
        let svc = self.of(r);
        let b = &mut self.books[svc];
        b.panic |= panic;
        b.proxy |= proxy;
        b.ready += ready;
    }

    /// Every revision's state of the second is in.
    pub(crate) fn end_second(&mut self) {
        for b in &mut self.books {
            b.panic_seconds += b.panic as u64;
            b.proxy_seconds += b.proxy as u64;
            b.max_ready = b.max_ready.max(b.ready);
            (b.panic, b.proxy, b.ready) = (false, false, 0);
        }
    }

    /// Each Service's summary from its revisions' (`revisions` in revision
    /// order) and the merged latency of each Service's revisions.
    pub(crate) fn summary(
        &self,
        names: &[String],
        revisions: &[RevisionSummary],
        latency: impl Fn(&[RevId]) -> crate::model::report::LatencySummary,
    ) -> Vec<ServiceSummary> {
        if !self.on {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(names.len());
        for (svc, (name, b)) in names.iter().zip(&self.books).enumerate() {
            let ids: Vec<RevId> = (0..revisions.len())
                .filter(|&i| self.of_rev[i] as usize == svc)
                .map(|i| RevId(i as u16))
                .collect();
            let mut s = ServiceSummary {
                name: name.clone(),
                latency: latency(&ids),
                max_ready_pods: b.max_ready,
                panic_seconds: b.panic_seconds,
                activator_in_path_seconds: b.proxy_seconds,
                ..ServiceSummary::default()
            };
            let routed: u64 = ids
                .iter()
                .map(|r| revisions[r.idx()].requests.arrived)
                .sum();
            for r in &ids {
                let mut rev = revisions[r.idx()].clone();
                let c = &rev.requests;
                s.requests.add(c);
                s.cold_starts += rev.cold_starts;
                s.pod_seconds += rev.pod_seconds;
                rev.observed_share = if routed > 0 {
                    c.arrived as f64 / routed as f64
                } else {
                    0.0
                };
                s.revisions.push(rev);
            }
            s.requests.status_404 = b.not_found;
            s.requests.arrived += b.not_found;
            out.push(s);
        }
        out
    }
}
