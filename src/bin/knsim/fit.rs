//! `knsim fit`: service-time (or cold-start) distributions from measured
//! latencies, written as a scenario snippet.

use crate::stdout::{out, outln};
use anyhow::Context;
use clap::Args;
use knsim::fit::{self, measured, FitError};
use knsim::output::write_atomic;
use knsim::workload::TimeUnit;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct FitArgs {
    /// Measured per-request CSV files (knload --requests-csv, or any CSV with
    /// a header and a latency column). For a service time, measure at low
    /// load, where queueing is negligible; the files' rows are pooled.
    #[arg(required = true, value_name = "MEASURED.csv")]
    pub files: Vec<PathBuf>,
    /// Fit the cold-start time instead: each file is one run that started
    /// with no pod; its first request's latency less the median of the rest
    /// is one sample.
    #[arg(long)]
    pub cold_start: bool,
    /// Latency column.
    #[arg(long, default_value = "latency_s")]
    pub column: String,
    /// Unit of the latency column: s, ms, us or ns.
    #[arg(long, default_value = "s", value_parser = unit)]
    pub unit: TimeUnit,
    /// Leave out requests sent in the first SECONDS of each file (warm-up).
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    pub skip: f64,
    /// A family whose KS p-value is below this is not chosen (the empirical
    /// distribution is, when no family passes).
    #[arg(long, default_value_t = 0.01)]
    pub alpha: f64,
    /// Multiply the chosen distribution by this factor before writing it
    /// (a what-if: 0.5 is half the measured service time).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Write the snippet to this file (and, for an empirical fit, the
    /// samples next to it as FILE.samples.csv) [default: print it].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn unit(s: &str) -> Result<TimeUnit, String> {
    match s {
        "s" => Ok(TimeUnit::S),
        "ms" => Ok(TimeUnit::Ms),
        "us" => Ok(TimeUnit::Us),
        "ns" => Ok(TimeUnit::Ns),
        _ => Err(format!("`{s}` is not one of s, ms, us, ns")),
    }
}

pub fn fit(a: FitArgs) -> anyhow::Result<ExitCode> {
    if !(a.alpha > 0.0 && a.alpha < 1.0) {
        return Err(FitError::Value {
            path: "--alpha".into(),
            line: 0,
            column: "alpha".into(),
            rule: format!("{} is not in (0, 1)", a.alpha),
        }
        .into());
    }
    if !(a.skip.is_finite() && a.skip >= 0.0) {
        return Err(FitError::Value {
            path: "--skip".into(),
            line: 0,
            column: "skip".into(),
            rule: format!("{} is not a non-negative number of seconds", a.skip),
        }
        .into());
    }
    if !(a.scale.is_finite() && a.scale > 0.0) {
        return Err(FitError::Value {
            path: "--scale".into(),
            line: 0,
            column: "scale".into(),
            rule: format!("{} is not a positive number", a.scale),
        }
        .into());
    }
    let cols = measured::Columns {
        latency: a.column.clone(),
        unit_secs: a.unit.secs(),
    };
    let mut runs = Vec::new();
    for f in &a.files {
        let rows: Vec<measured::Row> = measured::read_rows(f, &cols)?
            .into_iter()
            .filter(|r| r.timestamp_s >= a.skip)
            .collect();
        runs.push((f.display().to_string(), rows));
    }
    let (samples, what, key) = if a.cold_start {
        (
            fit::cold_start_samples(&runs)?,
            "cold starts (one per file)",
            "app-init",
        )
    } else {
        let s: Vec<f64> = runs
            .iter()
            .flat_map(|(_, rows)| rows.iter())
            .filter(|r| (200..300).contains(&r.status))
            .map(|r| r.latency_s)
            .collect();
        (s, "successful requests", "service-time")
    };
    let fits = fit::fit_all(&samples, what)?;
    let best = fit::best(&fits, a.alpha);
    let samples_file = a.out.as_ref().map(|o| {
        let mut p = o.clone().into_os_string();
        p.push(".samples.csv");
        PathBuf::from(p)
    });
    let samples_name = samples_file
        .as_ref()
        .and_then(|p| p.file_name())
        .map_or("samples.csv".into(), |n| n.to_string_lossy().into_owned());
    let mut snippet = String::new();
    let _ = writeln!(
        snippet,
        "# knsim fit: {} to {} {what} from {}",
        best.family.name(),
        samples.iter().filter(|v| **v > 0.0).count(),
        a.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        snippet,
        "# KS D {:.4}, p {:.4}; AIC {}",
        best.ks_d,
        best.ks_p,
        best.aic.map_or("-".into(), |v| format!("{v:.1}"))
    );
    if a.scale != 1.0 {
        let _ = writeln!(snippet, "# scaled by {} (--scale)", a.scale);
    }
    let line = best.family.scaled(a.scale).toml(&samples_name);
    if a.cold_start {
        // The whole cold start goes to one phase; the others are zeroed so
        // that the cluster's defaults do not add to it.
        snippet.push_str("[cluster.pod-startup]\n");
        for phase in ["scheduling", "image-pull", "container-start"] {
            let _ = writeln!(
                snippet,
                "{phase} = {{ distribution = \"constant\", value = \"0s\" }}"
            );
        }
    } else {
        snippet.push_str("# under a [[revision]] or [app]:\n");
    }
    let _ = writeln!(snippet, "{key} = {line}");
    eprint!("{}", fit::table(&fits, best));
    match &a.out {
        Some(out) => {
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            write_atomic(out, snippet.as_bytes())
                .with_context(|| format!("cannot write {}", out.display()))?;
            let mut written = out.display().to_string();
            if best.family == fit::Family::Empirical {
                let path = samples_file.expect("set with --out");
                let mut text = String::from("seconds\n");
                for v in samples.iter().filter(|v| **v > 0.0) {
                    let _ = writeln!(text, "{}", v * a.scale);
                }
                write_atomic(&path, text.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                written = format!("{written} and {}", path.display());
            }
            outln!("wrote {written}")?;
        }
        None => out!("{snippet}")?,
    }
    Ok(ExitCode::SUCCESS)
}
