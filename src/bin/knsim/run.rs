//! `knsim run` and `knsim validate`.

use crate::stdout::{out, outln};
use anyhow::Context;
use clap::Args;
use knsim::model::simulate;
use knsim::output::{
    format_speed, format_summary, summary_json, write_atomic, CsvTimeseries, DecisionsCsv,
    RequestsCsv, RunOutputs, Speed,
};
use knsim::scenario::{load_scenario, Override};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options shared by every command that loads a scenario.
#[derive(Args, Clone, Debug)]
pub struct ScenarioArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Override a scenario value by its dotted path; repeatable. A list entry
    /// is named by index or name, `*` means every entry.
    /// e.g. --set autoscaler.stable-window=30s --set revision.0.containerConcurrency=10
    /// --set 'service.*.revision.*.annotations."autoscaling.knative.dev/target"=50'
    /// (several Services)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<Override>,
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Output directory [default: results/<scenario name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Master seed (overrides the scenario's `seed`).
    #[arg(long, allow_negative_numbers = true, value_parser = crate::values::seed)]
    pub seed: Option<u64>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also draw SVG charts and report.html into the output directory.
    #[arg(long)]
    pub plot: bool,
    /// Count in the summary only requests arriving after this much simulated
    /// time (the scenario's `warmup`), e.g. --warmup 5m.
    #[arg(long, value_name = "DURATION")]
    pub warmup: Option<String>,
    /// Stop counting requests this long after the warm-up (the scenario's
    /// `measure`), e.g. --measure 30m.
    #[arg(long, value_name = "DURATION")]
    pub measure: Option<String>,
    /// Write one row per request to FILE (columns as knload's --requests-csv, then more).
    #[arg(long, value_name = "FILE")]
    pub requests_csv: Option<PathBuf>,
    /// Write each request to --requests-csv with probability P (a seeded sample).
    #[arg(long, value_name = "P", requires = "requests_csv", allow_negative_numbers = true,
          value_parser = crate::values::fraction)]
    pub requests_sample: Option<f64>,
    /// Also write decisions.csv: every decider run and PodAutoscaler reconcile.
    #[arg(long)]
    pub decisions: bool,
}

impl RunArgs {
    /// The scenario overrides, with --warmup and --measure as `warmup=`
    /// and `measure=` (so they are checked and reported like the file's).
    fn overrides(&self) -> Vec<Override> {
        let mut set = self.scenario.set.clone();
        for (key, v) in [("warmup", &self.warmup), ("measure", &self.measure)] {
            if let Some(v) = v {
                set.push(Override {
                    key: key.to_string(),
                    value: v.clone(),
                });
            }
        }
        set
    }
}

#[derive(Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

pub fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let sc = load_scenario(&a.scenario.scenario, &a.overrides())?;
    let seed = a.seed.unwrap_or(sc.seed);
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&sc.name));
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create output directory {}", out.display()))?;
    let ts_path = out.join("timeseries.csv");
    let timeseries = CsvTimeseries::create(&ts_path)
        .with_context(|| format!("cannot create {}", ts_path.display()))?;
    let requests = match &a.requests_csv {
        Some(p) => Some({
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create directory {}", dir.display()))?;
            }
            RequestsCsv::create(p, &sc, seed, a.requests_sample.unwrap_or(1.0))
                .with_context(|| format!("cannot create {}", p.display()))?
        }),
        None => None,
    };
    let dec_path = out.join("decisions.csv");
    let decisions = if a.decisions {
        Some(
            DecisionsCsv::create(&dec_path, &sc)
                .with_context(|| format!("cannot create {}", dec_path.display()))?,
        )
    } else {
        None
    };
    let mut outputs = RunOutputs {
        timeseries,
        requests,
        decisions,
    };
    let mut sink = crate::progress::SimTimeProgress::new(
        &mut outputs,
        sc.duration.as_secs_f64().ceil() as u64,
        a.quiet,
    );
    // Speed is measured here, not in the model, so summary.json stays a pure
    // function of scenario and seed; it is printed and never written.
    let wall = std::time::Instant::now();
    let summary = simulate(&sc, seed, &mut sink);
    let speed = Speed::of(&summary, wall.elapsed());
    sink.finish();
    let RunOutputs {
        timeseries,
        requests,
        decisions,
    } = outputs;
    timeseries
        .finish()
        .with_context(|| format!("cannot write {}", ts_path.display()))?;
    let mut extra = Vec::new();
    if let (Some(r), Some(p)) = (requests, &a.requests_csv) {
        let rows = r.finish().with_context(|| {
            format!(
                "cannot write {} (the rows written so far are in its .tmp file)",
                p.display()
            )
        })?;
        extra.push(format!("{} ({rows} requests)", p.display()));
    }
    if let Some(d) = decisions {
        let rows = d.finish().with_context(|| {
            format!(
                "cannot write {} (the rows written so far are in its .tmp file)",
                dec_path.display()
            )
        })?;
        extra.push(format!("{} ({rows} decisions)", dec_path.display()));
    }
    let sum_path = out.join("summary.json");
    write_atomic(&sum_path, summary_json(&summary).as_bytes())
        .with_context(|| format!("cannot write {}", sum_path.display()))?;
    if let Some(c) = &summary.cluster {
        let names: Vec<String> = c.pools.iter().map(|p| p.name.clone()).collect();
        let path = out.join("cluster.csv");
        let csv = knsim::model::cluster::cluster_csv(&names, &summary.cluster_rows);
        write_atomic(&path, csv.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !a.quiet {
        out!("{}", format_summary(&summary))?;
        out!("{}", format_speed(&summary, &speed))?;
        outln!(
            "wrote      {} and {}",
            sum_path.display(),
            ts_path.display()
        )?;
        for e in &extra {
            outln!("wrote      {e}")?;
        }
    }
    if a.plot {
        return crate::plot::after_run(&out, a.quiet);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn validate(a: ValidateArgs) -> anyhow::Result<ExitCode> {
    let sc = load_scenario(&a.scenario.scenario, &a.scenario.set)?;
    outln!(
        "{}: valid ({} revision(s), {} workload source(s), {} simulated)",
        a.scenario.scenario.display(),
        sc.revisions.len(),
        sc.workloads.sources.len(),
        sc.duration
    )?;
    Ok(ExitCode::SUCCESS)
}
