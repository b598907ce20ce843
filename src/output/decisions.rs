//! `decisions.csv`: one row per decider run and per PodAutoscaler reconcile
//! of each revision, with what each saw and decided, to read beside the
//! timeseries when asking why the autoscaler scaled when it did.

use super::revision_names;
use super::rows::RowFile;
use crate::model::DecisionRecord;
use crate::scenario::Scenario;
use crate::sim::SimDuration;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// The header of `decisions.csv`. Tick rows fill the columns from `valid`
/// to `changed`, reconcile rows those from `want` on; `desired` is in both.
pub const DECISIONS_HEADER: &str = "time_s,revision,kind,ready_pods,desired,\
valid,metric,target,observed_stable,observed_panic,wanted_stable,wanted_panic,\
max_scale_up,max_scale_down,limited_stable,limited_panic,panic,panic_entered,panic_exited,\
excess_burst_capacity,changed,\
want,replicas_set,replicas,requeue_after_s,pa_state,pa_state_for_s,proxy_for_s,\
grace_period_s,retention_s,activation_timeout_s,sks_mode,activators";

/// Streams decision rows to `<path>.tmp`, renamed into place on
/// [`DecisionsCsv::finish`].
pub struct DecisionsCsv {
    file: RowFile,
    revisions: Vec<String>,
    line: String,
}

impl DecisionsCsv {
    /// Starts `path` for a run of `sc`.
    pub fn create(path: &Path, sc: &Scenario) -> io::Result<Self> {
        Ok(DecisionsCsv {
            file: RowFile::create(path, DECISIONS_HEADER, 8 << 10)?,
            revisions: revision_names(sc),
            line: String::new(),
        })
    }

    /// Writes one decision.
    pub fn record(&mut self, d: &DecisionRecord) {
        if self.file.failed() {
            return;
        }
        let l = &mut self.line;
        l.clear();
        let t = d.time.as_nanos();
        let rev = self.revisions.get(d.revision).map_or("", String::as_str);
        let _ = write!(l, "{}.{:09},{rev},", t / 1_000_000_000, t % 1_000_000_000);
        if let Some(k) = &d.tick {
            let _ = write!(
                l,
                "tick,{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                d.ready_pods,
                k.desired,
                k.valid as u8,
                k.metric,
                k.target,
                k.observed_stable,
                k.observed_panic,
                k.wanted_stable,
                k.wanted_panic,
                k.max_scale_up,
                k.max_scale_down,
                k.limited_stable,
                k.limited_panic,
                k.panic as u8,
                k.panic_entered as u8,
                k.panic_exited as u8,
                k.excess_burst_capacity,
                k.changed as u8,
            );
            l.push_str(",,,,,,,,,,,,\n");
        } else if let Some(c) = &d.reconcile {
            let _ = write!(l, "reconcile,{},{}", d.ready_pods, c.desired);
            l.push_str(",,,,,,,,,,,,,,,,");
            let opt = |v: Option<SimDuration>| v.map_or(String::new(), secs);
            let _ = writeln!(
                l,
                ",{},{},{},{},{},{},{},{},{},{},{},{}",
                c.want,
                c.replicas.map_or(String::new(), |r| r.to_string()),
                c.replicas_after,
                opt(c.requeue_after),
                c.state,
                secs(c.state_for),
                opt(c.proxy_for),
                secs(c.grace_period),
                secs(c.retention),
                secs(c.activation_timeout),
                c.sks_mode,
                c.activators,
            );
        }
        self.file.write_line(&self.line);
    }

    /// Flushes, syncs and renames the file into place; returns the rows
    /// written.
    pub fn finish(self) -> io::Result<u64> {
        self.file.finish()
    }
}

fn secs(d: SimDuration) -> String {
    let n = d.as_nanos();
    format!("{}.{:09}", n / 1_000_000_000, n % 1_000_000_000)
}
