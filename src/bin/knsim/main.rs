//! `knsim`: simulate a Knative Service's autoscaling and traffic before
//! touching a cluster.

mod check;
mod compare;
mod fit;
mod gen_traces;
mod merge;
mod plot;
mod progress;
mod run;
mod stdout;
mod sweep;
mod validate_model;
mod values;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit code for bad input (unreadable or invalid scenario, bad flags).
pub const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "knsim",
    version,
    about = "Discrete-event simulator of Knative Serving's autoscaler (KPA), activator, queue-proxy and routes",
    long_about = None,
    after_help = "Examples:\n  knsim run scenarios/greeter-tutorial.toml\n  knsim run scenarios/burst-panic.toml --seed 7 --set autoscaler.stable-window=30s --out /tmp/burst\n  knsim validate scenarios/canary-90-10.toml\n  knsim sweep scenarios/slo-example.toml --vary autoscaler.stable-window=30s,60s --reps 3 --out /tmp/sweep\n  knsim check scenarios/slo-example.toml\n  knsim run scenarios/greeter-tutorial.toml --plot\n  knsim plot results/greeter-tutorial"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write summary.json and timeseries.csv.
    #[command(after_help = RUN_EXAMPLES)]
    Run(run::RunArgs),
    /// Check a scenario without running it: exit 0 if valid, 2 with every error otherwise.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate(run::ValidateArgs),
    /// Run a grid of variants (--vary) with replications; write runs.csv and summary.csv.
    #[command(after_help = SWEEP_EXAMPLES)]
    Sweep(sweep::SweepArgs),
    /// Combine sweep shards (--shard K/N) into the files one machine would write.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(merge::MergeArgs),
    /// Judge a scenario against its [slo] section and/or a baseline: exit 0 pass, 1 fail, 2 bad input.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(check::CheckArgs),
    /// Write the synthetic sample traces (per-request CSV, Azure 2019 and 2021 formats) into DIR.
    #[command(after_help = GEN_TRACES_EXAMPLES)]
    GenTraces(gen_traces::GenTracesArgs),
    /// Draw SVG charts and report.html for a run's (or a sweep's) result directory.
    #[command(after_help = PLOT_EXAMPLES)]
    Plot(plot::PlotArgs),
    /// Compare the model with queueing theory and write results/validation.md.
    #[command(after_help = VALIDATE_MODEL_EXAMPLES)]
    ValidateModel(validate_model::ValidateModelArgs),
    /// Fit service-time (or --cold-start) distributions to measured latencies; print the best as a scenario snippet.
    #[command(after_help = FIT_EXAMPLES)]
    Fit(fit::FitArgs),
    /// Compare a prediction (run or replications) with a knload measurement: exit 0 agree, 1 disagree, 2 bad input.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare(compare::CompareArgs),
}

// Examples shown by each subcommand's --help. tests/cli_output.rs runs every
// one of them, so they cannot drift from what the binary accepts.
const RUN_EXAMPLES: &str = "Examples:
  knsim run scenarios/greeter-tutorial.toml --out /tmp/greeter
  knsim run scenarios/burst-panic.toml --seed 7 --set autoscaler.stable-window=30s --out /tmp/burst
  knsim run scenarios/canary-90-10.toml --plot --quiet --warmup 1m --decisions --requests-csv /tmp/canary/requests.csv --requests-sample 0.1 --out /tmp/canary

  knsim run scenarios/cluster-small.toml --set cluster.node-pool.0.cpu=4 --plot --quiet --out /tmp/cluster
  knsim run scenarios/cluster-small.toml --set cluster.autoscaler.max-drain-parallelism=2 --set cluster.autoscaler.node-delete-delay-after-taint=10s --quiet --out /tmp/cluster-drain
With [[cluster.node-pool]] tables (node pools, the scheduler, the Cluster Autoscaler; see
docs/model.md) a run also writes cluster.csv and report.html gets a cluster page. The
autoscaler drains under-utilized nodes whose pods fit elsewhere ([cluster.autoscaler]
max-drain-parallelism, node-delete-delay-after-taint, max-graceful-termination-sec,
scale-down-delay-after-failure, unremovable-node-recheck-timeout); the summary's cluster
object counts nodes_drained, pods_evicted and eviction_cold_starts.";
const VALIDATE_EXAMPLES: &str = "Examples:
  knsim validate scenarios/canary-90-10.toml
  knsim validate scenarios/burst-panic.toml --set autoscaler.panic-threshold-percentage=150 --set duration=5m";
const SWEEP_EXAMPLES: &str = "Examples:
  knsim sweep scenarios/slo-example.toml --vary autoscaler.stable-window=30s,60s --reps 3 --out /tmp/sweep
  knsim sweep scenarios/slo-example.toml --vary autoscaler.target-burst-capacity=0..200:100 --shard 0/2 --out /tmp/shard0
  knsim sweep scenarios/slo-example.toml --vary autoscaler.target-burst-capacity=0..200:100 --shard 1/2 --out /tmp/shard1";
const MERGE_EXAMPLES: &str = "Examples:
  knsim merge /tmp/shard0 /tmp/shard1 --out /tmp/merged
  knsim merge /tmp/shard0 /tmp/shard1 --out /tmp/merged-quiet --quiet";
const CHECK_EXAMPLES: &str = "Examples:
  knsim check scenarios/slo-example.toml
  knsim check scenarios/slo-example.toml --reps 3 --write-baseline /tmp/ci/baseline.json
  knsim check scenarios/slo-example.toml --baseline /tmp/ci/baseline.json --tolerance 5%";
const GEN_TRACES_EXAMPLES: &str = "Examples:
  knsim gen-traces /tmp/traces
  knsim gen-traces /tmp/traces-seed3 --seed 3";
const PLOT_EXAMPLES: &str = "Examples:
  knsim plot /tmp/greeter
  knsim plot /tmp/sweep --latency latency_p50_ms_mean";
const VALIDATE_MODEL_EXAMPLES: &str = "Examples:
  knsim validate-model --quick --out /tmp/validation.md
  knsim validate-model --quick --only mginf --out /tmp/mginf.md";

const FIT_EXAMPLES: &str = "Examples:
  knsim fit results/loop-example/low-load.csv
  knsim fit results/loop-example/low-load.csv --skip 1 --out /tmp/service-time.toml
  knsim fit results/loop-example/low-load.csv --scale 0.5 --out /tmp/half.toml";
const COMPARE_EXAMPLES: &str = "Examples:
  knsim compare results/loop-example/predicted results/loop-example/measured.csv
  knsim compare results/loop-example/predicted results/loop-example/measured.json --tolerance 30%
  knsim compare /tmp/predicted results/loop-example/measured.csv --scenario results/loop-example/scenario-fitted.toml --reps 3 --plot";

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_INPUT } else { 0 };
            if let Some(hint) = negative_value_hint(&e) {
                eprintln!("error: {hint}");
            } else {
                let _ = e.print();
            }
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Run(a) => run::run(a),
        Command::Validate(a) => run::validate(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Merge(a) => merge::merge(a),
        Command::Check(a) => check::check(a),
        Command::GenTraces(a) => gen_traces::gen_traces(a),
        Command::Plot(a) => plot::plot(a),
        Command::ValidateModel(a) => validate_model::run(a),
        Command::Fit(a) => fit::fit(a),
        Command::Compare(a) => compare::compare(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code_for(&e))
        }
    }
}

/// A clear message when clap rejected something like `-1` as an unknown
/// option.
fn negative_value_hint(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    match e.get(ContextKind::InvalidArg)? {
        ContextValue::String(arg) => values::negative_number_hint(arg),
        _ => None,
    }
}

/// Bad input exits 2; anything else (I/O failures writing results) exits 1.
pub fn exit_code_for(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| {
        c.downcast_ref::<knsim::scenario::ScenarioError>().is_some()
            || c.downcast_ref::<knsim::sweep::SweepError>()
                .is_some_and(|s| s.is_bad_input())
            || c.downcast_ref::<knsim::gate::GateError>()
                .is_some_and(|g| g.is_bad_input())
            || c.downcast_ref::<knsim::fit::FitError>().is_some()
            || c.downcast_ref::<knsim::compare::CompareError>()
                .is_some_and(|e| e.is_bad_input())
    }) {
        EXIT_BAD_INPUT
    } else {
        1
    }
}
