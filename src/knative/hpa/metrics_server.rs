//! The resource metrics the HPA reads, as metrics-server produces them: it
//! scrapes each pod's cumulative CPU counter and working set every
//! resolution (15 s in the upstream release manifest), reports CPU as the
//! rate between its two latest scrapes, stamped with the newer one and
//! with their distance as the window, and memory as the latest working
//! set. A pod needs two scrapes before it has a CPU value, so new pods are
//! "missing" for up to two resolutions.

use std::collections::BTreeMap;

use super::replica_calc::PodMetric;
use crate::sim::{SimDuration, SimTime};

/// The manifest's `--metric-resolution`.
pub const DEFAULT_RESOLUTION_S: f64 = 15.0;

#[derive(Clone, Copy, Debug, PartialEq)]
struct Scrape {
    at: SimTime,
    cpu_seconds: f64,
    working_set_bytes: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct PodScrapes {
    prev: Option<Scrape>,
    last: Option<Scrape>,
}

/// Scrape history of the pods of one revision, keyed by pod name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsServer {
    pods: BTreeMap<String, PodScrapes>,
}

impl MetricsServer {
    /// Records a scrape of `pod` at `at`: its cumulative CPU time and its
    /// current working set.
    pub fn scrape(&mut self, pod: &str, at: SimTime, cpu_seconds: f64, working_set_bytes: i64) {
        let e = self.pods.entry(pod.to_string()).or_default();
        e.prev = e.last;
        e.last = Some(Scrape {
            at,
            cpu_seconds,
            working_set_bytes,
        });
    }

    /// Forgets every pod `keep` refuses (pods that are gone).
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.pods.retain(|name, _| keep(name));
    }

    /// Forgets a deleted pod.
    pub fn remove(&mut self, pod: &str) {
        self.pods.remove(pod);
    }

    /// CPU usage of every pod with two scrapes, in millicores.
    pub fn cpu(&self) -> BTreeMap<String, PodMetric> {
        self.pods
            .iter()
            .filter_map(|(name, s)| {
                let (p, l) = (s.prev?, s.last?);
                let window = l.at - p.at;
                let secs = window.as_secs_f64();
                if secs <= 0.0 {
                    return None;
                }
                let rate = (l.cpu_seconds - p.cpu_seconds).max(0.0) / secs;
                Some((
                    name.clone(),
                    PodMetric {
                        value_milli: (rate * 1000.0).round() as i64,
                        timestamp: l.at,
                        window,
                    },
                ))
            })
            .collect()
    }

    /// Working set of every scraped pod, in milli-bytes (the unit the
    /// controller compares memory targets in).
    pub fn memory(&self) -> BTreeMap<String, PodMetric> {
        self.pods
            .iter()
            .filter_map(|(name, s)| {
                let l = s.last?;
                let window = s.prev.map_or(SimDuration(0), |p| l.at - p.at);
                Some((
                    name.clone(),
                    PodMetric {
                        value_milli: l.working_set_bytes.saturating_mul(1000),
                        timestamp: l.at,
                        window,
                    },
                ))
            })
            .collect()
    }
}

/// A pod's working set: a baseline plus an amount per in-flight request.
pub fn working_set_bytes(baseline: i64, per_in_flight: i64, in_flight: u32) -> i64 {
    baseline.saturating_add(per_in_flight.saturating_mul(i64::from(in_flight)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: f64) -> SimTime {
        SimTime::from_secs_f64(s)
    }

    #[test]
    fn cpu_is_the_rate_between_the_two_latest_scrapes() {
        let mut m = MetricsServer::default();
        m.scrape("a", at(15.0), 1.0, 0);
        assert!(m.cpu().is_empty(), "one scrape gives no rate");
        m.scrape("a", at(30.0), 7.0, 0);
        // 6 CPU-seconds over 15 s = 0.4 cores.
        let c = m.cpu()["a"];
        assert_eq!(c.value_milli, 400);
        assert_eq!(c.timestamp, at(30.0));
        assert_eq!(c.window, SimDuration::from_secs_f64(15.0));
        m.scrape("a", at(45.0), 7.0, 0);
        assert_eq!(
            m.cpu()["a"].value_milli,
            0,
            "only the latest interval counts"
        );
        m.remove("a");
        assert!(m.cpu().is_empty());
    }

    #[test]
    fn memory_is_the_latest_working_set_in_milli_bytes() {
        let mut m = MetricsServer::default();
        let ws = working_set_bytes(100 << 20, 1 << 20, 3);
        assert_eq!(ws, 103 << 20);
        m.scrape("a", at(15.0), 0.0, ws);
        assert_eq!(m.memory()["a"].value_milli, (103i64 << 20) * 1000);
    }
}
