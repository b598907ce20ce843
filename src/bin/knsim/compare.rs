//! `knsim compare`: a prediction side by side with a measurement, one
//! verdict per metric; exit 0 when all agree, 1 when one differs.

use crate::stdout::{out, outln};
use anyhow::Context;
use clap::Args;
use knsim::compare::{self, CompareError, Tolerances};
use knsim::model::simulate;
use knsim::output::{summary_json, write_atomic, CsvTimeseries};
use knsim::scenario::{load_scenario, Override};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CompareArgs {
    /// A `knsim run --out` directory (summary.json), or a directory of
    /// replications, one subdirectory each (as --reps writes them).
    pub predicted: PathBuf,
    /// What knload measured: its --requests-csv file (.csv; enables the KS
    /// test, concurrency and per-class shares) or its --json result (.json).
    pub measured: PathBuf,
    /// Run this scenario first, --reps seeds, writing PREDICTED/seed-N/.
    #[arg(long, requires = "reps")]
    pub scenario: Option<PathBuf>,
    /// Replications to run with --scenario (seeds SEED, SEED+1, ...).
    #[arg(long, value_parser = crate::values::count, requires = "scenario")]
    pub reps: Option<usize>,
    /// First seed of the replications [default: the scenario's].
    #[arg(long, allow_negative_numbers = true, value_parser = crate::values::seed)]
    pub seed: Option<u64>,
    /// Override a scenario value (with --scenario); repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<Override>,
    /// Relative widening of every predicted interval, e.g. 25%.
    #[arg(long, default_value = "25%", value_parser = percent)]
    pub tolerance: f64,
    /// Absolute widening of latency intervals, milliseconds.
    #[arg(long = "latency-tolerance-ms", default_value_t = 2.0, value_parser = non_negative)]
    pub latency_ms: f64,
    /// Absolute widening of error-rate and share intervals, percentage points.
    #[arg(long = "error-tolerance", default_value_t = 1.0, value_parser = non_negative)]
    pub error_points: f64,
    /// Largest acceptable two-sample Kolmogorov-Smirnov statistic D.
    #[arg(long = "ks-max", default_value_t = 0.15, value_parser = non_negative)]
    pub ks_max: f64,
    /// Cold starts counted on the cluster during the measurement.
    #[arg(long = "cold-starts", value_parser = non_negative)]
    pub cold_starts: Option<f64>,
    /// Write compare.json (and with --plot the charts) here
    /// [default with --plot: PREDICTED/compare].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Draw latency-cdf.svg and concurrency.svg.
    #[arg(long)]
    pub plot: bool,
}

fn percent(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n, 100.0),
        None => (t, 1.0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{t}` is not a number or percentage (25%, 0.25)"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("`{t}` must not be negative"));
    }
    Ok(v / scale)
}

fn non_negative(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("`{s}` must be a non-negative number"))
    }
}

pub fn compare(a: CompareArgs) -> anyhow::Result<ExitCode> {
    if let (Some(path), Some(reps)) = (&a.scenario, a.reps) {
        let sc = load_scenario(path, &a.set)?;
        let base = a.seed.unwrap_or(sc.seed);
        for r in 0..reps {
            let seed = base.wrapping_add(r as u64);
            let dir = a.predicted.join(format!("seed-{seed}"));
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let ts_path = dir.join("timeseries.csv");
            let mut ts = CsvTimeseries::create(&ts_path)
                .with_context(|| format!("cannot create {}", ts_path.display()))?;
            let summary = simulate(&sc, seed, &mut ts);
            ts.finish()
                .with_context(|| format!("cannot write {}", ts_path.display()))?;
            let sp = dir.join("summary.json");
            write_atomic(&sp, summary_json(&summary).as_bytes())
                .with_context(|| format!("cannot write {}", sp.display()))?;
        }
    }
    let p = compare::load_prediction(&a.predicted)?;
    let mut m = compare::load_measurement(&a.measured, p.seconds())?;
    m.cold_starts = a.cold_starts;
    let tol = Tolerances {
        relative: a.tolerance,
        latency_ms: a.latency_ms,
        error_points: a.error_points,
        ks_d: a.ks_max,
    };
    let c = compare::compare(&p, &m, &tol);
    out!("{}", c.render())?;
    let out = a
        .out
        .clone()
        .or_else(|| a.plot.then(|| a.predicted.join("compare")));
    if let Some(out) = out {
        std::fs::create_dir_all(&out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        let jp = out.join("compare.json");
        let text = serde_json::to_string_pretty(&c).expect("a comparison serializes") + "\n";
        write_atomic(&jp, text.as_bytes()).map_err(|e| CompareError::Write {
            path: jp.display().to_string(),
            detail: e.to_string(),
        })?;
        let mut written = vec![jp];
        if a.plot {
            written.extend(compare::chart::write_charts(&out, &p, &m)?);
        }
        for w in written {
            outln!("wrote {}", w.display())?;
        }
    }
    Ok(if c.agrees() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
