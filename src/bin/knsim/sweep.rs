//! `knsim sweep`: run a grid of scenario variants with replications.

use crate::run::ScenarioArgs;
use crate::stdout::{out, outln};
use clap::Args;
use indicatif::ProgressBar;
use knsim::sweep::{
    metric_index, Axis, ConfigSummary, ExecOptions, Progress, RunRecord, Shard, Sweep, SweepSpec,
    COST_METRIC, DEFAULT_PARETO_LATENCY, METRICS, RUNS_FILE, SUMMARY_FILE,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Vary a scenario value (same dotted keys as --set): KEY=V1,V2,... or
    /// KEY=START..END:STEP (END included; exact decimal steps; a shared unit
    /// is allowed, e.g. autoscaler.stable-window=30s..120s:30s). Repeatable;
    /// every combination is run.
    #[arg(long = "vary", value_name = "KEY=VALUES")]
    pub vary: Vec<Axis>,
    /// Replications per configuration; replication r uses seed base+r for
    /// every configuration (common random numbers).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = crate::values::count)]
    pub reps: usize,
    /// Worker threads [default: one per core].
    #[arg(long, short, allow_negative_numbers = true, value_parser = crate::values::number)]
    pub jobs: Option<usize>,
    /// Output directory (runs.csv, summary.csv, sweep.json). Rerunning the
    /// same command resumes an interrupted sweep.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of replication 0 [default: the scenario's seed].
    #[arg(long, allow_negative_numbers = true, value_parser = crate::values::seed)]
    pub seed: Option<u64>,
    /// Run only shard K of N (K = 0..N-1, runs whose index is K mod N);
    /// combine the shards' directories with `knsim merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Latency metric of the Pareto view (cost is pod_seconds).
    #[arg(long, value_name = "METRIC", default_value = DEFAULT_PARETO_LATENCY)]
    pub pareto: String,
    /// Stop after this many runs (a later invocation resumes).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = crate::values::number)]
    pub max_runs: Option<usize>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A progress bar on stderr when it is a terminal, and the counts an
/// interrupt handler reports.
struct Bar(Option<ProgressBar>, Arc<Counts>);

/// Runs this invocation set out to do and has finished, shared with the
/// Ctrl-C handler.
#[derive(Default)]
struct Counts {
    pending: AtomicUsize,
    done: AtomicUsize,
}

impl Bar {
    fn new(quiet: bool, counts: Arc<Counts>) -> Bar {
        Bar(
            crate::progress::bar(
                quiet,
                0,
                "{wide_bar} {pos}/{len} runs, {elapsed} elapsed, ETA {eta}",
            ),
            counts,
        )
    }

    fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn start(&self, pending: usize) {
        self.1.pending.store(pending, Ordering::SeqCst);
        if let Some(b) = &self.0 {
            b.set_length(pending as u64);
            b.reset_eta();
        }
    }

    fn run_done(&self, _record: &RunRecord) {
        // Called after the run's row is flushed to runs.csv.
        self.1.done.fetch_add(1, Ordering::SeqCst);
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }
}

pub fn sweep(a: SweepArgs) -> anyhow::Result<ExitCode> {
    let spec = SweepSpec {
        scenario: a.scenario.scenario.clone(),
        set: a.scenario.set.clone(),
        vary: a.vary.clone(),
        reps: a.reps,
        seed: a.seed,
        pareto_latency: Some(a.pareto.clone()),
    };
    let checking = crate::progress::bar(
        a.quiet,
        0,
        "{wide_bar} {pos}/{len} configurations checked, {elapsed} elapsed, ETA {eta}",
    );
    let sweep = Sweep::prepare_with_progress(&spec, &|done, total| {
        if let Some(b) = &checking {
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    });
    if let Some(b) = &checking {
        b.finish_and_clear();
    }
    let sweep = sweep?;
    let plan = sweep.plan();
    let opts = ExecOptions {
        jobs: a.jobs.unwrap_or(0),
        shard: a.shard,
        max_runs: a.max_runs,
    };
    let runs = a.out.join(RUNS_FILE);
    let scope = match a.shard {
        Some(s) => format!(" (shard {s})"),
        None => String::new(),
    };
    if !a.quiet {
        // Printed (and flushed) before the runs, so that an interrupted
        // sweep still says what it was doing and where.
        outln!(
            "sweep {}: {} configuration(s) x {} rep(s) = {} runs{scope}; rows go to {}",
            sweep.scenario_name(),
            plan.configs(),
            plan.reps(),
            plan.runs(),
            runs.display()
        )?;
        let _ = std::io::stdout().flush();
    }
    let counts = Arc::new(Counts::default());
    on_interrupt(counts.clone(), runs.clone());
    let bar = Bar::new(a.quiet, counts);
    let outcome = sweep.execute(&a.out, &opts, &bar);
    bar.finish();
    let outcome = outcome?;
    if a.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "runs       {} already done, {} run now, {} left",
        outcome.resumed,
        outcome.ran,
        outcome.remaining
    )?;
    match &outcome.summaries {
        Some(s) => {
            out!("{}", pareto_table(sweep.plan().axes(), s, &a.pareto))?;
            outln!(
                "wrote      {} and {}",
                runs.display(),
                a.out.join(SUMMARY_FILE).display()
            )?;
        }
        None if outcome.remaining > 0 => {
            outln!(
                "wrote      {}; rerun the same command to continue",
                runs.display()
            )?;
        }
        None => outln!(
            "wrote      {}; combine the shards with `knsim merge DIR... --out DIR`",
            runs.display()
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Exit code of a sweep stopped by Ctrl-C (128 + SIGINT, as shells report).
const EXIT_INTERRUPTED: i32 = 130;

/// On Ctrl-C, says what was kept and how to resume, then exits. Every
/// finished run's row is already flushed to `runs.csv` (a row being written
/// at that instant may be cut short; the next invocation drops it).
fn on_interrupt(counts: Arc<Counts>, runs: PathBuf) {
    let installed = ctrlc::set_handler(move || {
        let done = counts.done.load(Ordering::SeqCst);
        let pending = counts.pending.load(Ordering::SeqCst);
        eprintln!(
            "\ninterrupted: {done} of this invocation's {pending} run(s) finished and are kept in {}, \
             with any earlier ones; rerun the same command to resume from there",
            runs.display()
        );
        std::process::exit(EXIT_INTERRUPTED);
    });
    // Without a handler (one was installed already, or the platform refused)
    // Ctrl-C still stops the sweep and the rows stay on disk; only the
    // message is lost, so this is not worth failing the sweep for.
    let _ = installed;
}

/// A compact number for tables.
pub fn fmt_num(x: f64) -> String {
    if x == 0.0 || x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.4}")
    }
}

fn fmt_ci(s: &ConfigSummary, m: usize) -> String {
    let v = s.metric(m);
    match v.half_width {
        Some(h) => format!("{} ± {}", fmt_num(v.mean), fmt_num(h)),
        None => fmt_num(v.mean),
    }
}

/// The Pareto front as a table, cheapest first.
pub fn pareto_table(axes: &[Axis], summaries: &[ConfigSummary], latency: &str) -> String {
    let cost = metric_index(COST_METRIC).expect("cost metric exists");
    let lat = metric_index(latency).expect("checked when the sweep was prepared");
    let mut front: Vec<&ConfigSummary> = summaries.iter().filter(|s| s.pareto).collect();
    front.sort_by(|a, b| {
        a.metric(cost)
            .mean
            .total_cmp(&b.metric(cost).mean)
            .then(a.config.cmp(&b.config))
    });
    let mut header: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
    header.push(METRICS[cost].name.into());
    header.push(METRICS[lat].name.into());
    let rows: Vec<Vec<String>> = front
        .iter()
        .map(|s| {
            let mut r = s.values.clone();
            r.push(fmt_ci(s, cost));
            r.push(fmt_ci(s, lat));
            r
        })
        .collect();
    let mut out = format!(
        "Pareto front: {} of {} configuration(s) unbeaten on both {} and {} (mean ± 95% CI half-width)\n",
        front.len(),
        summaries.len(),
        METRICS[cost].name,
        METRICS[lat].name
    );
    out.push_str(&table(&header, &rows));
    out
}

/// Left-aligned columns separated by two spaces.
pub fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let s = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ");
        format!("{}\n", s.trim_end())
    };
    let mut out = line(header);
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

/// Used by `knsim merge` to print what it wrote.
pub fn report_written(out: &Path) -> String {
    format!(
        "wrote      {} and {}",
        out.join(RUNS_FILE).display(),
        out.join(SUMMARY_FILE).display()
    )
}
