//! `requests.csv`: one row per request, streamed as requests end. The first
//! four columns are knload's `--requests-csv` columns with the same meaning,
//! so a simulated and a measured run load into the same analysis.

use super::revision_names;
use super::rows::RowFile;
use crate::model::{RequestOutcome, RequestRecord, RequestSender};
use crate::scenario::Scenario;
use crate::sim::{SimRng, SimTime};
use rand::{Rng, SeedableRng};
use std::io;
use std::path::Path;

/// The header of `requests.csv`.
pub const REQUESTS_HEADER: &str = "timestamp_s,latency_s,status,class,revision,tag,source,\
activator,activator_queue_s,queue_proxy_queue_s,service_s,cold_start";

/// Salt of the sampling stream: it is derived from the master seed alone and
/// drawn from by nothing else, so sampling moves no other random stream.
const SAMPLE_SALT: u64 = 0x7265_7173_616d_706c;

/// Streams per-request rows to `<path>.tmp` through a buffer and renames it
/// into place on [`RequestsCsv::finish`]; a run that fails leaves only the
/// `.tmp` file, so a partial file is never taken for a whole one. Memory
/// does not grow with the number of requests.
pub struct RequestsCsv {
    file: RowFile,
    revisions: Vec<String>,
    sources: Vec<(String, String)>,
    /// Trigger names, for the rows of Eventing's delivery attempts.
    triggers: Vec<String>,
    sample: Option<(f64, SimRng)>,
    line: String,
}

impl RequestsCsv {
    /// Starts `path` for a run of `sc` with master seed `seed`, writing each
    /// request with probability `sample` (1 = every request).
    pub fn create(path: &Path, sc: &Scenario, seed: u64, sample: f64) -> io::Result<Self> {
        let sample = (sample < 1.0).then(|| (sample, SimRng::seed_from_u64(seed ^ SAMPLE_SALT)));
        Ok(RequestsCsv {
            file: RowFile::create(path, REQUESTS_HEADER, 1 << 16)?,
            revisions: revision_names(sc),
            sources: sc
                .workloads
                .sources
                .iter()
                .map(|s| (s.name.clone(), s.tag.clone().unwrap_or_default()))
                .collect(),
            triggers: sc
                .eventing
                .iter()
                .flat_map(|e| e.triggers.iter().map(|t| t.name.clone()))
                .collect(),
            sample,
            line: String::with_capacity(160),
        })
    }

    fn keep(&mut self) -> bool {
        if self.file.failed() {
            return false;
        }
        match &mut self.sample {
            None => true,
            Some((p, rng)) => rng.random::<f64>() < *p,
        }
    }

    /// Writes the row of a request that ended.
    pub fn record(&mut self, r: &RequestRecord) {
        if !self.keep() {
            return;
        }
        let status = match r.outcome {
            RequestOutcome::Ok => 200,
            RequestOutcome::Overflow => 503,
            RequestOutcome::Timeout => 504,
            RequestOutcome::AppError => 500,
        };
        let via = r.activator.is_some();
        let act_queue = match (via, r.to_pod) {
            (false, _) => 0,
            (true, Some(t)) => span(r.arrival, t),
            (true, None) => span(r.arrival, r.end),
        };
        let qp_queue = match (r.to_pod, r.service_start) {
            (Some(p), Some(s)) => span(p, s),
            (Some(p), None) => span(p, r.end),
            (None, _) => 0,
        };
        let service = r.service_start.map_or(0, |s| span(s, r.end));
        let rev = self.revisions.get(r.revision).map_or("", String::as_str);
        let (src, tag) = sender_names(&self.sources, &self.triggers, r.source);
        let l = &mut self.line;
        l.clear();
        secs(l, r.arrival.as_nanos());
        l.push(',');
        secs(l, span(r.arrival, r.end));
        l.push_str(&format!(",{status},{rev},{rev},{tag},{src},"));
        if let Some(a) = r.activator {
            l.push_str(&a.to_string());
        }
        l.push(',');
        secs(l, act_queue);
        l.push(',');
        secs(l, qp_queue);
        l.push(',');
        secs(l, service);
        l.push_str(if r.cold { ",1\n" } else { ",0\n" });
        self.write_line();
    }

    /// Writes the row of a request of `source` answered 404 at `at`.
    pub fn not_found(&mut self, source: RequestSender, at: SimTime) {
        if !self.keep() {
            return;
        }
        let (src, tag) = sender_names(&self.sources, &self.triggers, source);
        let l = &mut self.line;
        l.clear();
        secs(l, at.as_nanos());
        l.push_str(&format!(
            ",0.000000,404,,,{tag},{src},,0.000000,0.000000,0.000000,0\n"
        ));
        self.write_line();
    }

    fn write_line(&mut self) {
        self.file.write_line(&self.line);
    }

    /// Flushes, syncs and renames the file into place; returns the rows
    /// written.
    pub fn finish(self) -> io::Result<u64> {
        self.file.finish()
    }
}

fn span(from: SimTime, to: SimTime) -> u64 {
    to.as_nanos().saturating_sub(from.as_nanos())
}

/// The `source` and `tag` columns of a request's row: a workload's name and
/// tag, or a delivery attempt's Trigger name (empty once the engine no
/// longer tracks the delivery) with no tag.
fn sender_names<'a>(
    sources: &'a [(String, String)],
    triggers: &'a [String],
    sender: RequestSender,
) -> (&'a str, &'a str) {
    match sender {
        RequestSender::Workload(s) => {
            let (src, tag) = &sources[s as usize];
            (src, tag)
        }
        RequestSender::Delivery(t) => {
            let name = t.and_then(|t| triggers.get(t as usize));
            (name.map_or("", String::as_str), "")
        }
    }
}

/// Seconds with six decimals, truncated to the microsecond as the summary's
/// histograms truncate latencies, so that re-aggregating the file gives the
/// summary's quantiles exactly.
fn secs(out: &mut String, ns: u64) {
    use std::fmt::Write as _;
    let us = ns / 1_000;
    let _ = write!(out, "{}.{:06}", us / 1_000_000, us % 1_000_000);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_truncated_to_the_microsecond() {
        let mut s = String::new();
        secs(&mut s, 1_234_567_999);
        assert_eq!(s, "1.234567");
        s.clear();
        secs(&mut s, 999);
        assert_eq!(s, "0.000000");
    }
}
