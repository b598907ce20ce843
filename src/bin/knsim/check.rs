//! `knsim check`: judge a scenario against its `[slo]` section and, with
//! `--baseline`, against a recorded result.

use crate::run::ScenarioArgs;
use crate::stdout::out;
use crate::sweep::{fmt_num, table};
use anyhow::Context;
use clap::Args;
use knsim::gate::{
    default_gate_metrics, metric_indexes, Baseline, Bound, Comparison, GateError, Tolerance,
    ValueFormat, Verdict,
};
use knsim::sweep::{MeanCi, Sweep, SweepSpec, METRICS};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Replications (seeds base..base+N-1); objectives are judged on the mean
    /// [default: the baseline's, else 1].
    #[arg(long, allow_negative_numbers = true, value_parser = crate::values::count)]
    pub reps: Option<usize>,
    /// Worker threads [default: one per core].
    #[arg(long, short, allow_negative_numbers = true, value_parser = crate::values::number)]
    pub jobs: Option<usize>,
    /// Seed of replication 0 [default: the baseline's, else the scenario's].
    #[arg(long, allow_negative_numbers = true, value_parser = crate::values::seed)]
    pub seed: Option<u64>,
    /// Compare with a baseline written by --write-baseline (or a `knsim run`
    /// summary.json); fail on a regression beyond --tolerance.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Allowed relative worsening against the baseline, e.g. 5% or 0.05.
    #[arg(long, default_value = "5%", allow_hyphen_values = true)]
    pub tolerance: Tolerance,
    /// Metric to compare with the baseline; repeatable [default: latency
    /// percentiles and mean, error and cold-start-wait fractions, cold starts,
    /// pod-seconds, max ready pods].
    #[arg(long = "metric", value_name = "METRIC")]
    pub metrics: Vec<String>,
    /// Record this run's means as a baseline file.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Print only failures and errors.
    #[arg(long, short)]
    pub quiet: bool,
}

fn show(format: ValueFormat, unit: &str, x: f64) -> String {
    match format {
        ValueFormat::Millis => format!("{} ms", fmt_num(x)),
        ValueFormat::Fraction => format!("{:.3}%", 100.0 * x),
        ValueFormat::Plain if unit.is_empty() => fmt_num(x),
        ValueFormat::Plain => format!("{} {unit}", fmt_num(x)),
    }
}

fn show_measured(format: ValueFormat, unit: &str, m: &MeanCi) -> String {
    match m.half_width {
        Some(h) => format!("{} ± {}", show(format, unit, m.mean), show(format, unit, h)),
        None => show(format, unit, m.mean),
    }
}

fn verdict_row(v: &Verdict) -> Vec<String> {
    let o = &v.objective;
    let unit = METRICS[o.metric].unit;
    let limit = match o.bound {
        Bound::AtMost(l) => format!("<= {}", show(o.format, unit, l)),
        Bound::AtLeast(l) => format!(">= {}", show(o.format, unit, l)),
    };
    vec![
        o.key.clone(),
        limit,
        show_measured(o.format, unit, &v.measured),
        if v.pass { "PASS" } else { "FAIL" }.into(),
    ]
}

fn comparison_row(c: &Comparison, tolerance: Tolerance) -> Vec<String> {
    let def = &METRICS[c.metric];
    let change = match c.change() {
        Some(ch) => format!("{:+.2}%", 100.0 * ch),
        None if c.current == c.baseline => "0%".into(),
        None => "new".into(),
    };
    let allowed = if c.two_sided {
        format!("±{tolerance}")
    } else {
        format!("+{tolerance}")
    };
    vec![
        def.name.into(),
        fmt_num(c.baseline),
        fmt_num(c.current),
        change,
        allowed,
        if c.pass { "PASS" } else { "FAIL" }.into(),
    ]
}

pub fn check(a: CheckArgs) -> anyhow::Result<ExitCode> {
    let baseline = match &a.baseline {
        Some(p) => Some(Baseline::read(p)?),
        None => None,
    };
    let compare = if a.metrics.is_empty() {
        default_gate_metrics()
    } else {
        metric_indexes(&a.metrics)?
    };
    let reps = a.reps.or(baseline.as_ref().map(|b| b.reps)).unwrap_or(1);
    let sweep = Sweep::prepare(&SweepSpec {
        scenario: a.scenario.scenario.clone(),
        set: a.scenario.set.clone(),
        vary: Vec::new(),
        reps,
        seed: a.seed.or(baseline.as_ref().map(|b| b.seed)),
        pareto_latency: None,
    })?;
    let slo = sweep.slo().cloned();
    if slo.is_none() && baseline.is_none() && a.write_baseline.is_none() {
        return Err(GateError::NothingToCheck {
            path: a.scenario.scenario.clone(),
        }
        .into());
    }
    if let Some(path) = &a.write_baseline {
        // Fail before the simulation, not after it.
        prepare_output_file(path)?;
    }
    let plan = sweep.plan();
    let records = sweep.run_all(a.jobs.unwrap_or(0))?;
    let summary = sweep
        .summarize(&records)
        .into_iter()
        .next()
        .expect("one configuration");
    let seeds = if reps == 1 {
        format!("seed {}", plan.seed(0))
    } else {
        format!("seeds {}..{}", plan.seed(0), plan.seed(reps - 1))
    };
    let mut failures = 0usize;
    let mut out = String::new();
    out.push_str(&format!(
        "check {} ({} rep(s), {seeds}; means over replications ± 95% CI half-width)\n",
        sweep.scenario_name(),
        reps
    ));
    if let Some(w) = sweep.window() {
        out.push_str(&format!(
            "window     requests arriving from {:.0} s to {:.0} s (pods and pod-seconds: whole run)\n",
            w.start.as_secs_f64(),
            w.end.as_secs_f64()
        ));
    }
    if let Some(slo) = &slo {
        let verdicts = slo.evaluate(&summary);
        let failed = verdicts.iter().filter(|v| !v.pass).count();
        failures += failed;
        let header: Vec<String> = ["objective", "limit", "measured", "result"]
            .map(String::from)
            .to_vec();
        let rows: Vec<Vec<String>> = verdicts.iter().map(verdict_row).collect();
        out.push_str(&table(&header, &rows));
        out.push_str(&format!(
            "slo        {} of {} objective(s) met\n",
            verdicts.len() - failed,
            verdicts.len()
        ));
    }
    if let (Some(b), Some(path)) = (&baseline, &a.baseline) {
        if b.seed != plan.seed(0) || b.reps != reps {
            eprintln!(
                "warning: the baseline was recorded with seed {} and {} rep(s), this check uses seed {} and {}; differences include sampling noise",
                b.seed,
                b.reps,
                plan.seed(0),
                reps
            );
        }
        let comparisons = b.compare(path, &summary, &compare, a.tolerance)?;
        let failed = comparisons.iter().filter(|c| !c.pass).count();
        failures += failed;
        out.push_str(&format!(
            "baseline   {} (tolerance {})\n",
            path.display(),
            a.tolerance
        ));
        let header: Vec<String> = [
            "metric", "baseline", "current", "change", "allowed", "result",
        ]
        .map(String::from)
        .to_vec();
        let rows: Vec<Vec<String>> = comparisons
            .iter()
            .map(|c| comparison_row(c, a.tolerance))
            .collect();
        out.push_str(&table(&header, &rows));
        out.push_str(&format!(
            "baseline   {} of {} metric(s) within tolerance\n",
            comparisons.len() - failed,
            comparisons.len()
        ));
    }
    if let Some(path) = &a.write_baseline {
        Baseline::from_summary(sweep.scenario_name(), plan.seed(0), reps, &summary).write(path)?;
        out.push_str(&format!("wrote      baseline {}\n", path.display()));
    }
    if failures > 0 {
        out.push_str(&format!("FAILED     {failures} check(s) failed\n"));
    } else {
        out.push_str("PASSED\n");
    }
    if !a.quiet || failures > 0 {
        out!("{out}")?;
    }
    Ok(if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Creates the parent folder of `path` and checks that a file can be written
/// there, so that a long run does not end in an unwritable destination.
pub fn prepare_output_file(path: &Path) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "cannot create directory {} for {}",
            dir.display(),
            path.display()
        )
    })?;
    if path.is_dir() {
        anyhow::bail!("cannot write {}: it is a directory", path.display());
    }
    let probe = dir.join(format!(".knsim-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").with_context(|| {
        format!(
            "cannot write {} (directory {} is not writable)",
            path.display(),
            dir.display()
        )
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}
