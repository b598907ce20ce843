//! The files of a sweep directory: `sweep.json` (what was swept), `runs.csv`
//! (one row per run, appended as runs finish, rewritten in run order at the
//! end) and `summary.csv` (one row per configuration).

use super::grid::{Axis, Plan, Shard};
use super::metrics::{format_number, METRICS};
use super::stats::ConfigSummary;
use super::{RunRecord, SweepError};
use crate::output::write_atomic;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Name of the manifest in a sweep directory.
pub const MANIFEST_FILE: &str = "sweep.json";
/// Name of the per-run table.
pub const RUNS_FILE: &str = "runs.csv";
/// Name of the per-configuration table.
pub const SUMMARY_FILE: &str = "summary.csv";

/// Columns of `runs.csv` before the axes.
const RUN_ID_COLUMNS: [&str; 4] = ["run", "config", "rep", "seed"];

/// What a sweep directory holds: enough to resume it, to merge shards and to
/// rebuild the plan without the scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// knsim version that wrote the directory.
    pub knsim_version: String,
    /// Scenario file as given on the command line.
    pub scenario: String,
    /// Scenario name.
    pub scenario_name: String,
    /// FNV-1a 64 hash of the scenario file's bytes (hex), to refuse resuming
    /// or merging runs of a different scenario.
    pub scenario_hash: String,
    /// `--set` overrides applied to every run.
    pub set: Vec<String>,
    /// The axes.
    pub vary: Vec<Axis>,
    /// Replications per configuration.
    pub reps: usize,
    /// Seed of replication 0; replication r uses `seed + r`.
    pub seed: u64,
    /// Latency metric of the Pareto view.
    pub pareto_latency: String,
    /// Configurations in the grid.
    pub configs: usize,
    /// Runs in the whole sweep (all shards).
    pub runs: usize,
    /// The shard this directory holds, if any (`K/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
}

impl Manifest {
    /// The plan this manifest describes.
    pub fn plan(&self) -> Result<Plan, SweepError> {
        Plan::new(self.vary.clone(), self.reps, self.seed)
    }

    /// What must agree for runs of two manifests to belong to one sweep
    /// (the scenario path and the shard may differ).
    pub fn same_sweep(&self, other: &Manifest) -> bool {
        self.scenario_hash == other.scenario_hash
            && self.set == other.set
            && self.vary == other.vary
            && self.reps == other.reps
            && self.seed == other.seed
    }

    /// Reads `dir/sweep.json`, or `None` when there is none.
    pub fn read(dir: &Path) -> Result<Option<Manifest>, SweepError> {
        let path = dir.join(MANIFEST_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(SweepError::Io { path, source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| SweepError::BadFile {
                path,
                rule: e.to_string(),
            })
    }

    /// Writes `dir/sweep.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), SweepError> {
        let mut s = serde_json::to_string_pretty(self).expect("manifest serialises");
        s.push('\n');
        let path = dir.join(MANIFEST_FILE);
        write_atomic(&path, s.as_bytes()).map_err(|source| SweepError::Io { path, source })
    }
}

/// FNV-1a, 64 bits: a stable fingerprint of the scenario text (not for
/// security; it only has to notice edits).
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The header of `runs.csv` for these axes.
pub fn runs_header(axes: &[Axis]) -> Vec<String> {
    RUN_ID_COLUMNS
        .iter()
        .map(|s| s.to_string())
        .chain(axes.iter().map(|a| a.key.clone()))
        .chain(METRICS.iter().map(|m| m.name.to_string()))
        .collect()
}

fn run_row(r: &RunRecord) -> Vec<String> {
    [r.run, r.config, r.rep]
        .iter()
        .map(|n| n.to_string())
        .chain(std::iter::once(r.seed.to_string()))
        .chain(r.values.iter().cloned())
        .chain(r.metrics.iter().map(|x| format_number(*x)))
        .collect()
}

fn csv_bytes(header: &[String], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for row in rows {
        w.write_record(&row).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// Writes `runs.csv` with `records` in run order, atomically.
pub fn write_runs(path: &Path, plan: &Plan, records: &[RunRecord]) -> Result<(), SweepError> {
    let mut sorted: Vec<&RunRecord> = records.iter().collect();
    sorted.sort_by_key(|r| r.run);
    let bytes = csv_bytes(&runs_header(plan.axes()), sorted.into_iter().map(run_row));
    write_atomic(path, &bytes).map_err(|source| SweepError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads the runs of `plan` from a `runs.csv`. A last line without its
/// newline (a run being written when the process died) is dropped. Rows are
/// matched to the plan by their axis values, replication and seed, so a
/// sweep extended with more values or replications keeps its earlier runs;
/// a row that belongs to no run of the plan is an error.
pub fn read_runs(path: &Path, plan: &Plan) -> Result<Vec<RunRecord>, SweepError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(SweepError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let complete = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(i) => &bytes[..=i],
        None => &[][..],
    };
    if complete.is_empty() {
        return Ok(Vec::new());
    }
    let bad = |rule: String| SweepError::BadFile {
        path: path.to_path_buf(),
        rule,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(complete);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .map(String::from)
        .collect();
    if header != runs_header(plan.axes()) {
        return Err(bad(
            "its columns differ from this sweep's (other --vary keys or another knsim version); \
             use another --out directory"
                .into(),
        ));
    }
    let index = plan.config_index();
    let n_axes = plan.axes().len();
    let first_metric = RUN_ID_COLUMNS.len() + n_axes;
    let mut seen = BTreeMap::new();
    for (line, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let row = line + 2;
        let field = |i: usize| rec.get(i).unwrap_or_default();
        let rep: usize = field(2)
            .parse()
            .map_err(|_| bad(format!("row {row}: rep {:?} is not a number", field(2))))?;
        let seed: u64 = field(3)
            .parse()
            .map_err(|_| bad(format!("row {row}: seed {:?} is not a number", field(3))))?;
        let values: Vec<String> = (0..n_axes).map(|i| field(4 + i).to_string()).collect();
        let foreign = || {
            bad(format!(
                "row {row} ({}rep {rep}, seed {seed}) is not a run of this sweep; \
                 use another --out directory",
                values
                    .iter()
                    .zip(plan.axes())
                    .map(|(v, a)| format!("{}={v}, ", a.key))
                    .collect::<String>()
            ))
        };
        let config = *index.get(&values).ok_or_else(foreign)?;
        if rep >= plan.reps() || seed != plan.seed(rep) {
            return Err(foreign());
        }
        let metrics = (first_metric..rec.len())
            .map(|i| {
                field(i).parse::<f64>().map_err(|_| {
                    bad(format!(
                        "row {row}: {} {:?} is not a number",
                        header[i],
                        field(i)
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let record = RunRecord {
            run: config * plan.reps() + rep,
            config,
            rep,
            seed,
            values,
            metrics,
        };
        match seen.get(&record.run) {
            Some(prev) if prev != &record => {
                return Err(bad(format!(
                    "row {row} repeats run {} with different results",
                    record.run
                )))
            }
            Some(_) => {}
            None => {
                seen.insert(record.run, record);
            }
        }
    }
    Ok(seen.into_values().collect())
}

/// Appends rows to `runs.csv` as runs finish, each flushed at once so a
/// crash keeps every finished run.
pub struct RunsAppender {
    file: File,
    path: PathBuf,
}

impl RunsAppender {
    /// Opens `path` for appending (it must already hold the header).
    pub fn open(path: &Path) -> Result<Self, SweepError> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|source| SweepError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(RunsAppender {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one row with a single write.
    pub fn append(&mut self, r: &RunRecord) -> Result<(), SweepError> {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        w.write_record(run_row(r)).expect("writing to memory");
        let line = w.into_inner().expect("writing to memory");
        self.file
            .write_all(&line)
            .and_then(|_| self.file.flush())
            .map_err(|source| SweepError::Io {
                path: self.path.clone(),
                source,
            })
    }
}

/// The header of `summary.csv`: the axes, `runs`, `pareto`, then for each
/// metric its mean and the ends of its 95 % confidence interval.
pub fn summary_header(axes: &[Axis]) -> Vec<String> {
    let mut h: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
    h.push("runs".into());
    h.push("pareto".into());
    for m in METRICS {
        h.push(format!("{}_mean", m.name));
        h.push(format!("{}_ci95_low", m.name));
        h.push(format!("{}_ci95_high", m.name));
    }
    h
}

/// Writes `summary.csv` atomically. Interval ends are empty for
/// configurations with a single run.
pub fn write_summary(
    path: &Path,
    axes: &[Axis],
    summaries: &[ConfigSummary],
) -> Result<(), SweepError> {
    let opt = |x: Option<f64>| x.map(format_number).unwrap_or_default();
    let rows = summaries.iter().map(|s| {
        let mut row = s.values.clone();
        row.push(s.runs.to_string());
        row.push(u8::from(s.pareto).to_string());
        for m in &s.metrics {
            row.push(format_number(m.mean));
            row.push(opt(m.low()));
            row.push(opt(m.high()));
        }
        row
    });
    let bytes = csv_bytes(&summary_header(axes), rows);
    write_atomic(path, &bytes).map_err(|source| SweepError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Builds the manifest of a shard (or of the whole sweep with `None`).
pub(super) fn with_shard(mut m: Manifest, shard: Option<Shard>) -> Manifest {
    m.shard = shard.map(|s| s.to_string());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan::new(vec!["a=1,2".parse().unwrap()], 2, 5).unwrap()
    }

    fn rec(plan: &Plan, run: usize, x: f64) -> RunRecord {
        let s = plan.spec(run);
        RunRecord {
            run,
            config: s.config,
            rep: s.rep,
            seed: s.seed,
            values: plan
                .values(s.config)
                .into_iter()
                .map(String::from)
                .collect(),
            metrics: vec![x; METRICS.len()],
        }
    }

    #[test]
    fn runs_round_trip_and_a_torn_last_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RUNS_FILE);
        let p = plan();
        let recs = vec![rec(&p, 2, 0.1 + 0.2), rec(&p, 0, 1.0 / 3.0)];
        write_runs(&path, &p, &recs).unwrap();
        let mut back = read_runs(&path, &p).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0], recs[1]);
        assert_eq!(back[1], recs[0]);
        // A row cut short by a crash is ignored.
        let mut a = RunsAppender::open(&path).unwrap();
        a.append(&rec(&p, 3, 7.0)).unwrap();
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() - 5]).unwrap();
        back = read_runs(&path, &p).unwrap();
        assert_eq!(back.len(), 2);
        std::fs::write(&path, &full).unwrap();
        assert_eq!(read_runs(&path, &p).unwrap().len(), 3);
    }

    #[test]
    fn rows_of_another_sweep_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RUNS_FILE);
        let p = plan();
        write_runs(&path, &p, &[rec(&p, 1, 1.0)]).unwrap();
        let other_values = Plan::new(vec!["a=3,4".parse().unwrap()], 2, 5).unwrap();
        assert!(read_runs(&path, &other_values).is_err());
        let other_seed = Plan::new(vec!["a=1,2".parse().unwrap()], 2, 6).unwrap();
        assert!(read_runs(&path, &other_seed).is_err());
        let other_key = Plan::new(vec!["b=1,2".parse().unwrap()], 2, 5).unwrap();
        assert!(read_runs(&path, &other_key).is_err());
        // More values and replications keep the earlier runs, re-indexed.
        let wider = Plan::new(vec!["a=0,1,2".parse().unwrap()], 3, 5).unwrap();
        let back = read_runs(&path, &wider).unwrap();
        assert_eq!((back[0].run, back[0].config, back[0].rep), (4, 1, 1));
    }

    #[test]
    fn fingerprint_is_stable() {
        assert_eq!(fingerprint(b""), "cbf29ce484222325");
        assert_eq!(fingerprint(b"a"), "af63dc4c8601ec8c");
    }
}
