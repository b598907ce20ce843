//! Per-Service books of a scenario with several Services: which Service
//! each revision belongs to, its sources' 404s, and the seconds in which
//! any of its revisions panicked or had the activator in path (in the
//! measurement window when there is one). Off (and free) for a
//! single-Service scenario, whose outputs do not name Services.

use super::event::RevId;
use crate::model::report::{RevisionSummary, ServiceSummary};
use crate::scenario::window::Window;
use crate::sim::SimTime;

#[derive(Clone, Default)]
struct Books {
    // In the window when there is one, as the run's and the revisions'.
    not_found: u64,
    panic_seconds: u64,
    proxy_seconds: u64,
    // Over the whole run, as the revisions' pods are.
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
    window: Option<Window>,
}

impl Services {
    /// `n` Services; `on` for a scenario written with several. With a
    /// measurement `window` the summary counts what falls in it, as the
    /// revisions' and the run's do.
    pub(crate) fn new(n: usize, on: bool, window: Option<Window>) -> Self {
        Services {
            on,
            of_rev: Vec::new(),
            books: vec![Books::default(); if on { n } else { 0 }],
            window,
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

    /// A request of a source of Service `svc` arriving at `now` had no
    /// route (404).
    #[inline]
    pub(crate) fn not_found(&mut self, svc: usize, now: SimTime) {
        if self.on && self.window.is_none_or(|w| w.contains(now)) {
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

    /// Every revision's state of the second ending at `now` is in.
    pub(crate) fn end_second(&mut self, now: SimTime) {
        let counted = self.window.is_none_or(|w| w.has_second(now));
        for b in &mut self.books {
            if counted {
                b.panic_seconds += b.panic as u64;
                b.proxy_seconds += b.proxy as u64;
            }
            b.max_ready = b.max_ready.max(b.ready);
            (b.panic, b.proxy, b.ready) = (false, false, 0);
        }
    }

    /// Each Service's summary from its revisions' (`revisions` in revision
    /// order, windowed as the run is) and `latency`, the merged latency of
    /// several revisions.
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
                latency: match ids.as_slice() {
                    // Merged alone, a revision's histogram gives back its
                    // own summary.
                    [r] => revisions[r.idx()].latency.clone(),
                    _ => latency(&ids),
                },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::report::LatencySummary;

    fn at(s: u64) -> SimTime {
        SimTime::from_secs(s)
    }

    /// Two Services of one revision each; Service 0 panics with the
    /// activator in path in seconds 1 to 3, and has a 404 at 0.5 s and at
    /// 2.5 s.
    fn books(window: Option<Window>) -> Services {
        let mut s = Services::new(2, true, window);
        s.add_revision(0);
        s.add_revision(1);
        s.not_found(0, SimTime::from_secs_f64(0.5));
        s.not_found(0, SimTime::from_secs_f64(2.5));
        for second in 1..=4 {
            s.revision_second(RevId(0), second <= 3, second <= 3, 1);
            s.revision_second(RevId(1), false, false, 2);
            s.end_second(at(second));
        }
        s
    }

    fn summary(s: &Services) -> Vec<ServiceSummary> {
        let revisions = vec![RevisionSummary::default(); 2];
        s.summary(&["a".into(), "b".into()], &revisions, |_| {
            unreachable!("a Service of one revision has its revision's latency")
        })
    }

    #[test]
    fn without_a_window_a_service_counts_the_whole_run() {
        let s = summary(&books(None));
        assert_eq!(s[0].panic_seconds, 3);
        assert_eq!(s[0].activator_in_path_seconds, 3);
        assert_eq!(s[0].requests.status_404, 2);
        assert_eq!(s[0].requests.arrived, 2);
        assert_eq!((s[0].max_ready_pods, s[1].max_ready_pods), (1, 2));
    }

    #[test]
    fn a_window_counts_seconds_ending_in_it_and_404s_arriving_in_it() {
        // From 2 s to 4 s: the seconds ending at 3 and 4 s, and the 404 at 2.5 s.
        let w = Window {
            start: at(2),
            end: at(4),
        };
        let s = summary(&books(Some(w)));
        assert_eq!(s[0].panic_seconds, 1);
        assert_eq!(s[0].activator_in_path_seconds, 1);
        assert_eq!(s[0].requests.status_404, 1);
        assert_eq!(s[0].requests.arrived, 1);
        assert_eq!(s[1].panic_seconds, 0);
        // Ready pods stay a whole-run figure.
        assert_eq!(s[0].max_ready_pods, 1);
    }

    #[test]
    fn several_revisions_take_the_merged_latency() {
        let mut s = Services::new(1, true, None);
        s.add_revision(0);
        s.add_revision(0);
        let revisions = vec![RevisionSummary::default(); 2];
        let merged = LatencySummary {
            p50_ms: 7.0,
            ..LatencySummary::default()
        };
        let out = s.summary(&["a".into()], &revisions, |revs| {
            assert_eq!(revs, [RevId(0), RevId(1)]);
            merged.clone()
        });
        assert_eq!(out[0].latency, merged);
    }
}
