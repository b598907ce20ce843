//! Writing results: atomic files, an incrementally flushed timeseries CSV and
//! the human-readable summary. The only module of the simulator that touches
//! the file system for outputs.

pub mod decisions;
pub mod requests;
mod rows;
mod timeseries;

pub use decisions::{DecisionsCsv, DECISIONS_HEADER};
pub use requests::{RequestsCsv, REQUESTS_HEADER};
pub use timeseries::CsvTimeseries;

use crate::model::{
    DecisionRecord, RequestRecord, RequestSender, Summary, TimeseriesRow, TimeseriesSink,
};
use crate::scenario::{Scenario, TimelineAction};
use crate::sim::SimTime;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a
/// rename, so readers never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = tmp_path(path);
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|s| s.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Serialises a summary as pretty JSON with a trailing newline.
pub fn summary_json(summary: &Summary) -> String {
    let mut s = serde_json::to_string_pretty(summary).expect("summary serialises");
    s.push('\n');
    s
}

/// The names of every revision a run of `sc` can have, in the engine's
/// order: the scenario's, then those its timeline creates. With several
/// Services they are `service/revision`, as in the other outputs.
pub fn revision_names(sc: &Scenario) -> Vec<String> {
    let name = |svc: usize, n: &str| {
        if sc.multi_service {
            format!("{}/{n}", sc.services[svc].name)
        } else {
            n.to_string()
        }
    };
    let mut names: Vec<String> = sc
        .revisions
        .iter()
        .enumerate()
        .map(|(i, r)| name(sc.service_of_revision(i), &r.name))
        .collect();
    for step in &sc.timeline {
        for a in &step.actions {
            if let TimelineAction::CreateRevision(r) = a {
                names.push(name(step.service, &r.name));
            }
        }
    }
    names
}

/// The sink of `knsim run`: the timeseries, and the per-request and
/// decision files when they were asked for. Without them a request costs
/// one branch here and no allocation.
pub struct RunOutputs {
    /// `timeseries.csv`.
    pub timeseries: CsvTimeseries,
    /// `requests.csv`, if asked for.
    pub requests: Option<RequestsCsv>,
    /// `decisions.csv`, if asked for.
    pub decisions: Option<DecisionsCsv>,
}

impl TimeseriesSink for RunOutputs {
    fn row(&mut self, row: &TimeseriesRow) {
        self.timeseries.row(row);
    }

    fn wants_requests(&self) -> bool {
        self.requests.is_some()
    }

    fn request(&mut self, record: &RequestRecord) {
        if let Some(r) = &mut self.requests {
            r.record(record);
        }
    }

    fn not_found(&mut self, source: RequestSender, at: SimTime) {
        if let Some(r) = &mut self.requests {
            r.not_found(source, at);
        }
    }

    fn wants_decisions(&self) -> bool {
        self.decisions.is_some()
    }

    fn decision(&mut self, record: &DecisionRecord) {
        if let Some(d) = &mut self.decisions {
            d.record(record);
        }
    }
}

/// A short human summary of a run.
pub fn format_summary(s: &Summary) -> String {
    let r = &s.requests;
    let l = &s.latency;
    let mut out = String::new();
    let pct = |n: u64| {
        if r.arrived > 0 {
            100.0 * n as f64 / r.arrived as f64
        } else {
            0.0
        }
    };
    out.push_str(&format!(
        "scenario {} (seed {}): {:.0} simulated seconds\n",
        s.scenario, s.seed, s.simulated_seconds
    ));
    if let Some(w) = &s.window {
        out.push_str(&format!(
            "window     requests arriving from {:.0} s to {:.0} s (pods and pod-seconds: whole run)\n",
            w.start_s, w.end_s
        ));
    }
    out.push_str(&format!(
        "requests   {} arrived, {} ok, {} 503 ({:.2}%), {} 504 ({:.2}%), {} 404, {} in flight at end\n",
        r.arrived,
        r.completed,
        r.status_503,
        pct(r.status_503),
        r.status_504,
        pct(r.status_504),
        r.status_404,
        r.in_flight_at_end
    ));
    if r.completed == 0 {
        // Latency quantiles cover successful requests only; zeros would read
        // as instant answers.
        out.push_str("latency    none: no request completed successfully\n");
    } else {
        out.push_str(&format!(
            "latency    p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms, mean {:.1} ms\n",
            l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms, l.mean_ms
        ));
    }
    if let Some(w) = &s.window {
        out.push_str(&batch_means_line(&w.batch_means));
    }
    out.push_str(&format!(
        "pods       {} cold starts, {} requests waited on one ({:.2}%), max {} ready, {:.0} pod-seconds\n",
        s.cold_starts,
        r.waited_on_cold_start,
        pct(r.waited_on_cold_start),
        s.max_ready_pods,
        s.pod_seconds
    ));
    out.push_str(&format!(
        "autoscaler {} s in panic, {} s with the activator in path\n",
        s.panic_seconds, s.activator_in_path_seconds
    ));
    for rev in &s.revisions {
        if let Some(h) = &rev.hpa {
            let unit = if h.metric == "cpu" { "%" } else { " MiB" };
            out.push_str(&format!(
                "hpa        {}: {} target {}{unit}, {} syncs, {} scale-ups, {} scale-downs, max desired {}, mean CPU utilization {:.1}%\n",
                rev.name,
                h.metric,
                h.target,
                h.syncs,
                h.scale_ups,
                h.scale_downs,
                h.max_desired_replicas,
                h.mean_cpu_utilization
            ));
        }
    }
    if s.revisions.len() > 1 {
        out.push_str("revision                 share    p99 ms  cold  max ready  pod-s\n");
        for rev in &s.revisions {
            let p99 = if rev.requests.completed == 0 {
                "-".to_string()
            } else {
                format!("{:.1}", rev.latency.p99_ms)
            };
            out.push_str(&format!(
                "{:<24} {:>5.1}% {:>9} {:>5} {:>10} {:>6.0}\n",
                rev.name,
                100.0 * rev.observed_share,
                p99,
                rev.cold_starts,
                rev.max_ready_pods,
                rev.pod_seconds
            ));
        }
    }
    if r.status_500 > 0 {
        out.push_str(&format!(
            "app 500s   {} ({:.2}%) from the revisions' failure probability\n",
            r.status_500,
            pct(r.status_500)
        ));
    }
    if let Some(ev) = &s.eventing {
        out.push_str(&format_eventing(ev));
    }
    out
}

/// The eventing lines of [`format_summary`]: per Trigger what happened to
/// its events, per Service how much of its load was retries.
pub fn format_eventing(ev: &crate::model::EventingSummary) -> String {
    let mut out = format!("events     {} sent to the Broker\n", ev.events_sent);
    out.push_str(
        "trigger              matched  1st try  retried  dead-letter  lost  in flight  attempts/event  p50 ms  p99 ms\n",
    );
    for t in &ev.triggers {
        let retried: u64 = t.delivered_after_retries.iter().sum();
        let finished = t.delivered_first_try + retried + t.dead_lettered + t.failed_without_sink;
        let per_event = if finished == 0 {
            "-".to_string()
        } else {
            format!("{:.3}", t.attempts_of_finished as f64 / finished as f64)
        };
        out.push_str(&format!(
            "{:<20} {:>7} {:>8} {:>8} {:>12} {:>5} {:>10} {:>15} {:>7.1} {:>7.1}\n",
            t.name,
            t.matched,
            t.delivered_first_try,
            retried,
            t.dead_lettered,
            t.failed_without_sink,
            t.in_flight_at_end,
            per_event,
            t.delivery_latency.p50_ms,
            t.delivery_latency.p99_ms
        ));
    }
    for svc in &ev.services {
        out.push_str(&format!(
            "service    {}: {} requests, {} event first attempts, {} retries ({:.1}% of its load)\n",
            svc.name,
            svc.requests,
            svc.event_first_attempts,
            svc.event_retries,
            100.0 * svc.retry_share
        ));
    }
    out
}

fn batch_means_line(b: &crate::model::BatchMeans) -> String {
    match (b.mean_ms, b.p50_ms, b.p99_ms) {
        (Some(m), Some(p50), Some(p99)) => format!(
            "95% CI     over {} batches of {:.0} s: mean {:.1} ± {:.1} ms, p50 {:.1} ± {:.1} ms, p99 {:.1} ± {:.1} ms{}\n",
            b.batches,
            b.batch_seconds,
            m.estimate,
            m.half_width,
            p50.estimate,
            p50.half_width,
            p99.estimate,
            p99.half_width,
            match b.lag1_autocorrelation {
                Some(r) if r > 0.3 => format!(
                    " (batch means correlated, lag-1 {r:.2}: run longer)"
                ),
                _ => String::new(),
            }
        ),
        _ => format!(
            "95% CI     none: a batch of {:.0} s had only {} successful requests (need 100 in each of 5 or more batches)\n",
            b.batch_seconds, b.min_batch_completed
        ),
    }
}

/// Wall-clock speed of one run, measured by the caller around
/// [`crate::model::simulate`]. Kept out of [`Summary`] so that a run's outputs
/// are the same bytes every time; it is printed, never written beside them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Speed {
    /// Wall-clock seconds the simulation took.
    pub wall_seconds: f64,
    /// Simulated requests per wall-clock second (0 if no time was measured).
    pub simulated_requests_per_wall_second: f64,
}

impl Speed {
    /// The speed of a run that produced `summary` in `wall`.
    pub fn of(summary: &Summary, wall: std::time::Duration) -> Self {
        let secs = wall.as_secs_f64();
        Speed {
            wall_seconds: secs,
            simulated_requests_per_wall_second: if secs > 0.0 {
                summary.requests.arrived as f64 / secs
            } else {
                0.0
            },
        }
    }
}

/// The human line reporting a run's work and speed.
pub fn format_speed(s: &Summary, speed: &Speed) -> String {
    format!(
        "speed      {} events in {:.3} s wall, {:.2} M simulated requests per wall second\n",
        s.performance.events_processed,
        speed.wall_seconds,
        speed.simulated_requests_per_wall_second / 1e6
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn speed_divides_requests_by_wall_time() {
        let mut s = Summary::default();
        s.requests.arrived = 3_000_000;
        s.performance.events_processed = 42;
        let v = Speed::of(&s, Duration::from_millis(1500));
        assert_eq!(v.wall_seconds, 1.5);
        assert_eq!(v.simulated_requests_per_wall_second, 2_000_000.0);
        let line = format_speed(&s, &v);
        assert!(line.contains("42 events in 1.500 s wall, 2.00 M"), "{line}");
        assert_eq!(
            Speed::of(&s, Duration::ZERO).simulated_requests_per_wall_second,
            0.0
        );
    }

    #[test]
    fn summary_text_has_no_wall_clock() {
        let s = Summary::default();
        assert!(!format_summary(&s).contains("wall"));
    }
}
