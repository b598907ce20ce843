//! Reading both sides: the prediction's result directories and the
//! measurement (knload's per-request CSV or its JSON result).

use super::CompareError;
use crate::fit::measured;
use crate::model::{Summary, TimeseriesRow};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One or more simulated runs of the same scenario.
#[derive(Clone, Debug)]
pub struct Prediction {
    /// Result directories, in name order.
    pub dirs: Vec<PathBuf>,
    /// Their summaries.
    pub summaries: Vec<Summary>,
    /// Per replication: requests in the system at the end of each second,
    /// summed over revisions.
    pub in_flight: Vec<Vec<f64>>,
    /// Per replication: the mean of `in_flight`.
    pub mean_in_flight: Vec<f64>,
}

impl Prediction {
    /// The replications' latency CDF points `(quantile, ms)`, each
    /// quantile's latency averaged over replications.
    pub fn pooled_quantiles(&self) -> Vec<(f64, f64)> {
        let with: Vec<&Summary> = self
            .summaries
            .iter()
            .filter(|s| !s.latency_distribution.is_empty())
            .collect();
        let Some(first) = with.first() else {
            return Vec::new();
        };
        first
            .latency_distribution
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let x = with
                    .iter()
                    .filter_map(|s| s.latency_distribution.get(i))
                    .map(|q| q.latency_ms)
                    .sum::<f64>()
                    / with.len() as f64;
                (p.quantile, x)
            })
            .collect()
    }

    /// Simulated seconds (of the first replication).
    pub fn seconds(&self) -> f64 {
        self.summaries.first().map_or(0.0, |s| s.simulated_seconds)
    }
}

fn bad(path: &Path, detail: impl Into<String>) -> CompareError {
    CompareError::BadInput {
        path: path.display().to_string(),
        detail: detail.into(),
    }
}

fn read_run(dir: &Path) -> Result<(Summary, Vec<f64>), CompareError> {
    let sp = dir.join("summary.json");
    let text = std::fs::read_to_string(&sp).map_err(|e| bad(&sp, e.to_string()))?;
    let summary: Summary = serde_json::from_str(&text)
        .map_err(|e| bad(&sp, format!("line {} column {}: {e}", e.line(), e.column())))?;
    let tp = dir.join("timeseries.csv");
    let mut per_second: BTreeMap<u64, f64> = BTreeMap::new();
    if tp.exists() {
        let mut rdr = csv::Reader::from_path(&tp).map_err(|e| bad(&tp, e.to_string()))?;
        for row in rdr.deserialize::<TimeseriesRow>() {
            let row = row.map_err(|e| bad(&tp, e.to_string()))?;
            *per_second.entry(row.time_s).or_default() += row.in_flight as f64;
        }
    }
    Ok((summary, per_second.into_values().collect()))
}

/// Reads `dir/summary.json`, or else every `dir/*/summary.json` (one per
/// replication, as `knsim compare --reps` writes them), with the
/// `timeseries.csv` beside each when present.
pub fn load_prediction(dir: &Path) -> Result<Prediction, CompareError> {
    let mut dirs = Vec::new();
    if dir.join("summary.json").is_file() {
        dirs.push(dir.to_path_buf());
    } else {
        let entries = std::fs::read_dir(dir).map_err(|e| bad(dir, e.to_string()))?;
        for e in entries {
            let p = e.map_err(|e| bad(dir, e.to_string()))?.path();
            if p.join("summary.json").is_file() {
                dirs.push(p);
            }
        }
        dirs.sort();
    }
    if dirs.is_empty() {
        return Err(bad(
            dir,
            "no summary.json here or in a subdirectory (write one with knsim run --out, or give --scenario and --reps)",
        ));
    }
    let mut p = Prediction {
        dirs: Vec::new(),
        summaries: Vec::new(),
        in_flight: Vec::new(),
        mean_in_flight: Vec::new(),
    };
    for d in dirs {
        let (s, conc) = read_run(&d)?;
        if let Some(first) = p.summaries.first() {
            if first.scenario != s.scenario {
                return Err(bad(
                    &d,
                    format!(
                        "replication of scenario `{}`, but {} is of `{}`",
                        s.scenario,
                        p.dirs[0].display(),
                        first.scenario
                    ),
                ));
            }
        }
        if !conc.is_empty() {
            p.mean_in_flight
                .push(conc.iter().sum::<f64>() / conc.len() as f64);
        }
        p.in_flight.push(conc);
        p.summaries.push(s);
        p.dirs.push(d);
    }
    Ok(p)
}

/// What was measured.
#[derive(Clone, Debug, Default)]
pub struct Measurement {
    /// Requests sent.
    pub requests: u64,
    /// Latency quantiles of successful requests, ms.
    pub p50_ms: Option<f64>,
    /// 90th percentile.
    pub p90_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// Mean.
    pub mean_ms: Option<f64>,
    /// Sorted latencies of successful requests, ms (CSV only).
    pub latencies_ms: Option<Vec<f64>>,
    /// Share of requests answered 503, percent.
    pub pct_503: Option<f64>,
    /// Share answered 504, percent.
    pub pct_504: Option<f64>,
    /// Time-averaged requests in flight over the prediction's horizon (CSV
    /// only).
    pub mean_concurrency: Option<f64>,
    /// Requests in flight, averaged over each second (CSV only).
    pub concurrency: Option<Vec<f64>>,
    /// Share of successful classified responses per class (0..1).
    pub shares: BTreeMap<String, f64>,
    /// Cold starts counted on the cluster (given on the command line).
    pub cold_starts: Option<f64>,
}

/// Value at quantile `q` of sorted samples (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted[rank - 1]
}

/// Reads a knload JSON result (`--json`) or per-request CSV
/// (`--requests-csv`), by extension. `horizon_s` is the prediction's length,
/// over which the measured concurrency is averaged.
pub fn load_measurement(path: &Path, horizon_s: f64) -> Result<Measurement, CompareError> {
    let is_json = path.extension().is_some_and(|e| e == "json");
    if is_json {
        return load_json(path);
    }
    let rows = measured::read_rows(path, &measured::Columns::default())?;
    if rows.is_empty() {
        return Err(bad(path, "no requests"));
    }
    let mut m = Measurement {
        requests: rows.len() as u64,
        ..Measurement::default()
    };
    let mut ok: Vec<f64> = rows
        .iter()
        .filter(|r| (200..300).contains(&r.status))
        .map(|r| r.latency_s * 1e3)
        .collect();
    ok.sort_by(f64::total_cmp);
    if !ok.is_empty() {
        m.p50_ms = Some(quantile(&ok, 0.5));
        m.p90_ms = Some(quantile(&ok, 0.9));
        m.p99_ms = Some(quantile(&ok, 0.99));
        m.mean_ms = Some(ok.iter().sum::<f64>() / ok.len() as f64);
    }
    m.latencies_ms = Some(ok);
    let n = rows.len() as f64;
    m.pct_503 = Some(100.0 * rows.iter().filter(|r| r.status == 503).count() as f64 / n);
    m.pct_504 = Some(100.0 * rows.iter().filter(|r| r.status == 504).count() as f64 / n);
    let secs = horizon_s.ceil().max(1.0) as usize;
    let mut bins = vec![0.0; secs];
    for r in &rows {
        let (a, b) = (r.timestamp_s, r.timestamp_s + r.latency_s);
        let mut s = a.floor().max(0.0) as usize;
        while s < secs && (s as f64) < b {
            let lo = a.max(s as f64);
            let hi = b.min(s as f64 + 1.0);
            bins[s] += (hi - lo).max(0.0);
            s += 1;
        }
    }
    m.mean_concurrency = Some(bins.iter().sum::<f64>() / secs as f64);
    m.concurrency = Some(bins);
    let mut classes: BTreeMap<String, u64> = BTreeMap::new();
    for r in rows.iter().filter(|r| (200..300).contains(&r.status)) {
        if !r.class.is_empty() {
            *classes.entry(r.class.clone()).or_default() += 1;
        }
    }
    let total: u64 = classes.values().sum();
    for (c, k) in classes {
        m.shares.insert(c, k as f64 / total as f64);
    }
    Ok(m)
}

fn load_json(path: &Path) -> Result<Measurement, CompareError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, e.to_string()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        bad(
            path,
            format!("line {} column {}: {e}", e.line(), e.column()),
        )
    })?;
    let num = |ptr: &str| v.pointer(ptr).and_then(serde_json::Value::as_f64);
    let requests = num("/requests").ok_or_else(|| {
        bad(
            path,
            "field `requests`: missing; is this a knload --json result?",
        )
    })? as u64;
    let latency =
        |f: &str| num(&format!("/latency/{f}")).filter(|_| num("/latency/count") != Some(0.0));
    let status = |code: &str| num(&format!("/status_codes/{code}")).unwrap_or(0.0);
    let pct = |code: &str| (requests > 0).then(|| 100.0 * status(code) / requests as f64);
    let mut shares = BTreeMap::new();
    if let Some(classes) = v.get("classes").and_then(|c| c.as_object()) {
        for (name, c) in classes {
            if let Some(s) = c.get("share").and_then(serde_json::Value::as_f64) {
                shares.insert(name.clone(), s);
            }
        }
    }
    Ok(Measurement {
        requests,
        p50_ms: latency("p50_ms"),
        p90_ms: latency("p90_ms"),
        p99_ms: latency("p99_ms"),
        mean_ms: latency("mean_ms"),
        pct_503: pct("503"),
        pct_504: pct("504"),
        shares,
        ..Measurement::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_measurement_quantiles_errors_and_concurrency() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.csv");
        // One request in flight from 0.5 s to 1.5 s, one 503, two classes.
        std::fs::write(
            &p,
            "timestamp_s,latency_s,status,class\n0.5,1.0,200,Hi\n2.0,0.010,503,\n2.5,0.020,200,Hi\n2.6,0.030,200,Namaste\n",
        )
        .unwrap();
        let m = load_measurement(&p, 3.0).unwrap();
        assert_eq!(m.requests, 4);
        assert_eq!(m.pct_503, Some(25.0));
        assert_eq!(m.p50_ms, Some(30.0));
        let c = m.concurrency.unwrap();
        assert_eq!(c.len(), 3);
        assert!(
            (c[0] - 0.5).abs() < 1e-9 && (c[1] - 0.5).abs() < 1e-9,
            "{c:?}"
        );
        assert!((c[2] - 0.06).abs() < 1e-9, "{c:?}");
        assert!((m.shares["Hi"] - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn json_measurement_reads_knloads_fields() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        std::fs::write(
            &p,
            r#"{"requests": 200, "status_codes": {"200": 190, "504": 10},
                "latency": {"count": 190, "p50_ms": 12.5, "p90_ms": 20.0, "p99_ms": 40.0, "mean_ms": 14.0},
                "classes": {"Hi": {"share": 0.5}}}"#,
        )
        .unwrap();
        let m = load_measurement(&p, 10.0).unwrap();
        assert_eq!(m.requests, 200);
        assert_eq!(m.pct_504, Some(5.0));
        assert_eq!(m.pct_503, Some(0.0));
        assert_eq!(m.p90_ms, Some(20.0));
        assert!(m.latencies_ms.is_none());
        assert_eq!(m.shares["Hi"], 0.5);
        std::fs::write(&p, "{}").unwrap();
        assert!(matches!(
            load_measurement(&p, 10.0),
            Err(CompareError::BadInput { .. })
        ));
    }
}
