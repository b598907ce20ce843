//! Experiments: a scenario from `scenarios/validation/` with `--set`-style
//! overrides, run over independent seeds, measured from per-request records
//! after a warm-up cut-off, and compared with closed forms.

use super::stats::Estimate;
use super::theory::{self, ScaleToZeroParams};
use crate::model::{simulate, RequestOutcome, RequestRecord, TimeseriesRow, TimeseriesSink};
use crate::scenario::{load_scenario_str, Override, Scenario, ScenarioError};
use crate::sim::SimTime;
use rayon::prelude::*;
use std::path::Path;

/// The validation scenarios, compiled in so that the library does no I/O;
/// the same files run with `knsim run scenarios/validation/<file>`.
pub const SCENARIO_FILES: &[(&str, &str)] = &[
    (
        "mmc.toml",
        include_str!("../../scenarios/validation/mmc.toml"),
    ),
    (
        "md1.toml",
        include_str!("../../scenarios/validation/md1.toml"),
    ),
    (
        "mginf.toml",
        include_str!("../../scenarios/validation/mginf.toml"),
    ),
    (
        "mm1k.toml",
        include_str!("../../scenarios/validation/mm1k.toml"),
    ),
    (
        "scale-to-zero.toml",
        include_str!("../../scenarios/validation/scale-to-zero.toml"),
    ),
    (
        "hpa-steady.toml",
        include_str!("../../scenarios/validation/hpa-steady.toml"),
    ),
    (
        "eventing-retry.toml",
        include_str!("../../scenarios/validation/eventing-retry.toml"),
    ),
];

/// Where the scenario files live, relative to the repository root.
pub const SCENARIO_DIR: &str = "scenarios/validation";

/// What a check measures in each replication.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Measure {
    /// Mean time from arrival to service start of successful requests.
    MeanWait,
    /// Fraction of successful requests that waited longer than `t_s`.
    WaitTail {
        /// Threshold, seconds.
        t_s: f64,
    },
    /// Fraction of arrivals answered 503.
    Blocking,
    /// Time-average number of requests in the system.
    MeanInSystem,
    /// Fraction of requests that waited on a cold start.
    ColdFraction,
    /// Time-average of the Deployment's replicas (timeseries).
    MeanReplicas,
    /// Time-average CPU utilization of the ready pods, percent of their
    /// request (timeseries).
    MeanCpuUtilization,
    /// Attempts per finished event of the first Trigger (whole run).
    AttemptsPerEvent,
    /// Fraction of the first Trigger's finished events that were
    /// dead-lettered (whole run).
    DeadLetterFraction,
}

impl Measure {
    /// Short name for tables.
    pub fn label(&self) -> String {
        match self {
            Measure::MeanWait => "mean wait E[W] (s)".into(),
            Measure::WaitTail { t_s } => format!("P(W > {t_s} s)"),
            Measure::Blocking => "P(503)".into(),
            Measure::MeanInSystem => "mean in flight L".into(),
            Measure::ColdFraction => "cold-start fraction".into(),
            Measure::MeanReplicas => "mean replicas".into(),
            Measure::MeanCpuUtilization => "mean CPU utilization (%)".into(),
            Measure::AttemptsPerEvent => "attempts per event".into(),
            Measure::DeadLetterFraction => "P(dead-lettered)".into(),
        }
    }

    /// Whether the value is a mean (held to the 2 % relative-error target)
    /// rather than a probability.
    pub fn is_mean(&self) -> bool {
        matches!(
            self,
            Measure::MeanWait
                | Measure::MeanInSystem
                | Measure::MeanReplicas
                | Measure::MeanCpuUtilization
                | Measure::AttemptsPerEvent
        )
    }
}

/// One comparison of a measured quantity with a closed form.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// What is measured.
    pub measure: Measure,
    /// The closed form's value.
    pub theory: f64,
    /// Which closed form (e.g. `Erlang C`).
    pub formula: String,
    /// False for rows that show a known deviation (a reference the
    /// configuration is not expected to meet, e.g. M/M/c under subsetting).
    pub expect_match: bool,
}

/// A configuration run over several seeds and the checks made on it.
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    /// Stable identifier, e.g. `mmc-c2-rho0.80`.
    pub id: String,
    /// The textbook model, e.g. `M/M/c`.
    pub model: String,
    /// Human-readable parameters.
    pub params: String,
    /// Scenario file name in [`SCENARIO_DIR`].
    pub scenario: &'static str,
    /// Overrides applied to the file.
    pub overrides: Vec<Override>,
    /// Requests arriving before this many seconds are not measured.
    pub warmup_s: f64,
    /// Requests arriving in the last this many seconds are not measured (so
    /// every measured request has ended).
    pub tail_margin_s: f64,
    /// Seeds, one replication each.
    pub seeds: Vec<u64>,
    /// Comparisons.
    pub checks: Vec<Check>,
}

/// How long and how many replications to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// The published table (release build: a few minutes on two cores).
    Full,
    /// Short runs for CI tests and `--quick`.
    Quick,
}

fn ov(key: &str, value: impl std::fmt::Display) -> Override {
    Override {
        key: key.to_string(),
        value: value.to_string(),
    }
}

fn ann(key: &str, value: impl std::fmt::Display) -> Override {
    ov(
        &format!("revision.0.annotations.\"autoscaling.knative.dev/{key}\""),
        format!("\"{value}\""),
    )
}

fn seeds(n: usize) -> Vec<u64> {
    (1..=n as u64).collect()
}

/// The M/M/c experiment through the activator with `activators` replicas.
fn mmc(
    c: u32,
    lambda: f64,
    mu: f64,
    activators: u32,
    minutes: u32,
    reps: usize,
    tails: &[f64],
) -> Experiment {
    let rho = lambda / (c as f64 * mu);
    let mut checks = Vec::new();
    let subsetting = activators > 1;
    let pods_per_act = c / activators.max(1);
    if subsetting && pods_per_act == 1 && c % activators == 0 {
        // Each activator gets every k-th arrival and owns one pod.
        checks.push(Check {
            measure: Measure::MeanWait,
            theory: theory::erlang_k_m1_mean_wait(lambda, mu, activators),
            formula: format!("E{activators}/M/1 per activator"),
            expect_match: true,
        });
    }
    if subsetting && pods_per_act > 1 && c % activators == 0 {
        checks.push(Check {
            measure: Measure::MeanWait,
            theory: theory::erlang_k_m_c_mean_wait(lambda, mu, pods_per_act, activators, 600),
            formula: format!("E{activators}/M/{pods_per_act} per activator (numerical)"),
            expect_match: true,
        });
        // Each activator owns c/k pods but sees every k-th arrival, which is
        // more regular than a Poisson split: a bound from above.
        checks.push(Check {
            measure: Measure::MeanWait,
            theory: theory::mmc_mean_wait(lambda / activators as f64, mu, pods_per_act),
            formula: format!("Erlang C, M/M/{pods_per_act} at λ/{activators}"),
            expect_match: false,
        });
    }
    checks.push(Check {
        measure: Measure::MeanWait,
        theory: theory::mmc_mean_wait(lambda, mu, c),
        formula: "Erlang C".into(),
        expect_match: !subsetting,
    });
    if !subsetting {
        for &t in tails {
            checks.push(Check {
                measure: Measure::WaitTail { t_s: t },
                theory: theory::mmc_wait_tail(lambda, mu, c, t),
                formula: "C·e^{−(cμ−λ)t}".into(),
                expect_match: true,
            });
        }
    }
    Experiment {
        id: format!("mmc-c{c}-rho{rho:.2}-act{activators}"),
        model: if subsetting {
            format!("M/M/{c} setup, {activators} activators")
        } else {
            format!("M/M/{c}")
        },
        params: format!(
            "c={c}, λ={lambda}/s, E[S]={} ms exp, ρ={rho:.2}, activators={activators}",
            1000.0 / mu
        ),
        scenario: "mmc.toml",
        overrides: vec![
            ov("duration", format!("\"{minutes}m\"")),
            ov("cluster.activators", activators),
            ov("workload.0.arrival.rate", lambda),
            ov(
                "revision.0.service-time.mean",
                format!("\"{}ms\"", 1000.0 / mu),
            ),
            ann("min-scale", c),
            ann("max-scale", c),
            ann("initial-scale", c),
        ],
        warmup_s: 30.0,
        tail_margin_s: 30.0,
        seeds: seeds(reps),
        checks,
    }
}

fn md1(lambda: f64, d_ms: f64, minutes: u32, reps: usize) -> Experiment {
    let d = d_ms / 1000.0;
    let rho = lambda * d;
    Experiment {
        id: format!("md1-rho{rho:.2}"),
        model: "M/D/1".into(),
        params: format!("c=1, λ={lambda}/s, S={d_ms} ms const, ρ={rho:.2}"),
        scenario: "md1.toml",
        overrides: vec![
            ov("duration", format!("\"{minutes}m\"")),
            ov("workload.0.arrival.rate", lambda),
            ov("revision.0.service-time.value", format!("\"{d_ms}ms\"")),
        ],
        warmup_s: 30.0,
        tail_margin_s: 30.0,
        seeds: seeds(reps),
        checks: vec![Check {
            measure: Measure::MeanWait,
            theory: theory::md1_mean_wait(lambda, d),
            formula: "Pollaczek–Khinchine".into(),
            expect_match: true,
        }],
    }
}

fn mginf(lambda: f64, mean_ms: f64, sd_ms: f64, minutes: u32, reps: usize) -> Experiment {
    Experiment {
        id: format!("mginf-l{lambda}"),
        model: "M/G/∞".into(),
        params: format!("CC=0, 2 pods, λ={lambda}/s, S lognormal mean {mean_ms} ms sd {sd_ms} ms"),
        scenario: "mginf.toml",
        overrides: vec![
            ov("duration", format!("\"{minutes}m\"")),
            ov("workload.0.arrival.rate", lambda),
            ov("revision.0.service-time.mean", format!("\"{mean_ms}ms\"")),
            ov("revision.0.service-time.stddev", format!("\"{sd_ms}ms\"")),
        ],
        warmup_s: 30.0,
        tail_margin_s: 30.0,
        seeds: seeds(reps),
        checks: vec![Check {
            measure: Measure::MeanInSystem,
            theory: theory::mginf_mean_in_system(lambda, mean_ms / 1000.0),
            formula: "λ·E[S]".into(),
            expect_match: true,
        }],
    }
}

fn mm1k(lambda: f64, mu: f64, minutes: u32, reps: usize) -> Experiment {
    let rho = lambda / mu;
    Experiment {
        id: format!("mm1k-rho{rho:.2}"),
        model: "M/M/1/K".into(),
        params: format!(
            "1 pod, CC=1, direct path, K=11, λ={lambda}/s, E[S]={} ms exp, ρ={rho:.2}",
            1000.0 / mu
        ),
        scenario: "mm1k.toml",
        overrides: vec![
            ov("duration", format!("\"{minutes}m\"")),
            ov("workload.0.arrival.rate", lambda),
            ov(
                "revision.0.service-time.mean",
                format!("\"{}ms\"", 1000.0 / mu),
            ),
        ],
        warmup_s: 30.0,
        tail_margin_s: 30.0,
        seeds: seeds(reps),
        checks: vec![Check {
            measure: Measure::Blocking,
            theory: theory::mm1k_blocking(lambda, mu, 11),
            formula: "(1−ρ)ρ^K/(1−ρ^{K+1})".into(),
            expect_match: true,
        }],
    }
}

/// `exact` is false where the derivation's neglected terms (of order λ times
/// the few seconds of start-up, reporting and tick delays, relative to the
/// stable window) are no longer small.
fn scale_to_zero(
    window_s: u32,
    mean_gap_s: u32,
    hours: u32,
    reps: usize,
    exact: bool,
) -> Experiment {
    let lambda = 1.0 / mean_gap_s as f64;
    let p = ScaleToZeroParams {
        lambda,
        stable_window: window_s as f64,
        startup: 2.0,
        service: 0.001,
        bucket: 1.0,
        tick: 2.0,
    };
    Experiment {
        id: format!("s2z-w{window_s}-gap{mean_gap_s}"),
        model: "scale to zero".into(),
        params: format!("λ=1/{mean_gap_s} s, stable window {window_s} s, start-up 2 s, S=1 ms"),
        scenario: "scale-to-zero.toml",
        overrides: vec![
            ov("duration", format!("\"{hours}h\"")),
            ov("autoscaler.stable-window", format!("\"{window_s}s\"")),
            ov("workload.0.arrival.rate", format!("{lambda:.12}")),
        ],
        warmup_s: 0.0,
        tail_margin_s: 10.0,
        seeds: seeds(reps),
        checks: vec![
            Check {
                measure: Measure::ColdFraction,
                theory: theory::cold_start_fraction(&p),
                formula: "idle-gap renewal (docs/validation.md)".into(),
                expect_match: exact,
            },
            Check {
                measure: Measure::ColdFraction,
                theory: (-lambda * window_s as f64).exp(),
                formula: "naive e^{−λW}".into(),
                expect_match: false,
            },
        ],
    }
}

/// Trigger retries against a subscriber that answers 500 with probability
/// `p`, independently per attempt, with at most `r` retries.
fn eventing_retry(p: f64, r: u32, minutes: u32, reps: usize) -> Experiment {
    Experiment {
        id: format!("eventing-p{p:.2}-r{r}"),
        model: "Bernoulli retries".into(),
        params: format!("λ=20 events/s, 4 warm pods, p={p}, retry={r}, linear PT0.1S"),
        scenario: "eventing-retry.toml",
        overrides: vec![
            ov("duration", format!("\"{minutes}m\"")),
            ov("revision.0.failure-probability", p),
            ov("eventing.trigger.0.delivery.retry", r),
            // Events still being retried when the run ends would be left out,
            // and they are the ones with more attempts: the source stops
            // 10 s early so that every event finishes (a delivery with three
            // retries takes well under a second here).
            ov(
                "eventing.source.0.end",
                format!("\"{}s\"", minutes * 60 - 10),
            ),
        ],
        warmup_s: 0.0,
        tail_margin_s: 0.0,
        seeds: seeds(reps),
        checks: vec![
            Check {
                measure: Measure::AttemptsPerEvent,
                theory: theory::retry_attempts_per_event(p, r),
                formula: "(1−p^{r+1})/(1−p)".into(),
                expect_match: true,
            },
            Check {
                measure: Measure::DeadLetterFraction,
                theory: theory::dead_letter_probability(p, r),
                formula: "p^{r+1}".into(),
                expect_match: true,
            },
        ],
    }
}

/// The experiments of a profile, in table order. Experiment `k` uses the
/// seeds `1000·k + 1 ..`, so no two experiments share random numbers (with
/// common seeds the rows' errors would be correlated).
pub fn experiments(profile: Profile) -> Vec<Experiment> {
    let mut v = profile_experiments(profile);
    for (k, e) in v.iter_mut().enumerate() {
        let n = e.seeds.len();
        e.seeds = seed_block(k, n);
    }
    v
}

/// `n` seeds of experiment number `k` (see [`experiments`]).
pub fn seed_block(k: usize, n: usize) -> Vec<u64> {
    let base = 1000 * k as u64;
    (base + 1..=base + n as u64).collect()
}

fn profile_experiments(profile: Profile) -> Vec<Experiment> {
    match profile {
        Profile::Full => vec![
            mmc(1, 7.0, 10.0, 1, 60, 40, &[0.1, 0.3]),
            mmc(2, 16.0, 10.0, 1, 60, 40, &[0.1, 0.3, 0.6]),
            mmc(4, 30.0, 10.0, 1, 60, 40, &[0.1, 0.3]),
            md1(7.0, 100.0, 60, 40),
            md1(9.0, 100.0, 60, 100),
            mginf(50.0, 200.0, 300.0, 30, 40),
            mm1k(9.0, 10.0, 60, 40),
            mm1k(15.0, 10.0, 60, 40),
            scale_to_zero(60, 60, 240, 40, true),
            scale_to_zero(60, 30, 120, 40, true),
            scale_to_zero(6, 30, 120, 20, false),
            scale_to_zero(6, 6, 24, 20, false),
            mmc(2, 16.0, 10.0, 2, 60, 40, &[]),
            mmc(4, 30.0, 10.0, 2, 60, 40, &[]),
            super::hpa::hpa_steady(95.0, 20.0, 50, 20, 20),
            eventing_retry(0.3, 3, 20, 40),
            eventing_retry(0.5, 2, 20, 40),
        ],
        Profile::Quick => vec![
            mmc(2, 16.0, 10.0, 1, 20, 12, &[0.1, 0.3, 0.6]),
            md1(8.0, 100.0, 60, 24),
            mginf(50.0, 200.0, 300.0, 5, 8),
            mm1k(12.0, 10.0, 20, 8),
            scale_to_zero(60, 60, 40, 8, true),
            mmc(2, 16.0, 10.0, 2, 20, 8, &[]),
            super::hpa::hpa_steady(95.0, 20.0, 50, 20, 8),
            eventing_retry(0.3, 3, 5, 8),
        ],
    }
}

impl Experiment {
    /// The scenario file text.
    pub fn scenario_text(&self) -> &'static str {
        SCENARIO_FILES
            .iter()
            .find(|(n, _)| *n == self.scenario)
            .map(|(_, t)| *t)
            .expect("experiment names a compiled-in scenario")
    }

    /// The scenario with this experiment's overrides applied.
    pub fn load(&self) -> Result<Scenario, ScenarioError> {
        let path = Path::new(SCENARIO_DIR).join(self.scenario);
        let stem = self.scenario.trim_end_matches(".toml");
        load_scenario_str(
            self.scenario_text(),
            &path,
            stem,
            Path::new(SCENARIO_DIR),
            &self.overrides,
        )
    }

    /// The `knsim run` command that reproduces replication `seed`.
    pub fn command(&self, seed: u64) -> String {
        let mut s = format!("knsim run {SCENARIO_DIR}/{} --seed {seed}", self.scenario);
        for o in &self.overrides {
            s.push_str(&format!(" --set '{o}'"));
        }
        s
    }
}

/// Collects every request record of a run.
#[derive(Default)]
pub struct RecordSink {
    /// Records in order of end time.
    pub records: Vec<RequestRecord>,
    /// Timeseries rows, kept only when `keep_rows` is set.
    pub rows: Vec<TimeseriesRow>,
    /// Keep the rows (the HPA checks read them).
    pub keep_rows: bool,
}

impl TimeseriesSink for RecordSink {
    fn row(&mut self, row: &TimeseriesRow) {
        if self.keep_rows {
            self.rows.push(row.clone());
        }
    }
    fn wants_rows(&self) -> bool {
        self.keep_rows
    }
    fn wants_requests(&self) -> bool {
        true
    }
    fn request(&mut self, record: &RequestRecord) {
        self.records.push(*record);
    }
}

/// The value of `measure` over the requests that arrived in
/// `[from, to)` (and, for [`Measure::MeanInSystem`], over that interval of
/// time).
pub fn measure(records: &[RequestRecord], m: Measure, from: SimTime, to: SimTime) -> f64 {
    let in_window = |r: &&RequestRecord| r.arrival >= from && r.arrival < to;
    let waits = || {
        records
            .iter()
            .filter(in_window)
            .filter(|r| r.outcome == RequestOutcome::Ok)
            .map(|r| {
                let s = r.service_start.expect("a completed request was served");
                (s - r.arrival).as_secs_f64()
            })
    };
    let frac = |n: usize, d: usize| {
        if d == 0 {
            f64::NAN
        } else {
            n as f64 / d as f64
        }
    };
    match m {
        Measure::MeanWait => {
            let (n, sum) = waits().fold((0usize, 0.0), |(n, s), w| (n + 1, s + w));
            if n == 0 {
                f64::NAN
            } else {
                sum / n as f64
            }
        }
        Measure::WaitTail { t_s } => {
            let (n, k) = waits().fold((0usize, 0usize), |(n, k), w| {
                (n + 1, k + (w > t_s) as usize)
            });
            frac(k, n)
        }
        Measure::Blocking => {
            let (n, k) = records.iter().filter(in_window).fold((0, 0), |(n, k), r| {
                (n + 1, k + (r.outcome == RequestOutcome::Overflow) as usize)
            });
            frac(k, n)
        }
        Measure::ColdFraction => {
            let (n, k) = records
                .iter()
                .filter(in_window)
                .fold((0, 0), |(n, k), r| (n + 1, k + r.cold as usize));
            frac(k, n)
        }
        Measure::MeanInSystem => {
            // Time-average of the number in system over [from, to): every
            // request's residence overlapping the interval, integrated.
            let (a, b) = (from.as_nanos(), to.as_nanos());
            let ns: u128 = records
                .iter()
                .map(|r| {
                    let s = r.arrival.as_nanos().max(a);
                    let e = r.end.as_nanos().min(b);
                    e.saturating_sub(s) as u128
                })
                .sum();
            ns as f64 / (b - a) as f64
        }
        // Timeseries measures: see `super::hpa::measure_rows`.
        Measure::MeanReplicas | Measure::MeanCpuUtilization => f64::NAN,
        // Event-level measures come from the run's summary, not the records.
        Measure::AttemptsPerEvent | Measure::DeadLetterFraction => f64::NAN,
    }
}

/// One replication: the value of every check of `exp` under `seed`.
pub fn replicate(exp: &Experiment, sc: &Scenario, seed: u64) -> Vec<f64> {
    let mut sink = RecordSink {
        keep_rows: exp.checks.iter().any(|c| {
            matches!(
                c.measure,
                Measure::MeanReplicas | Measure::MeanCpuUtilization
            )
        }),
        ..Default::default()
    };
    let summary = simulate(sc, seed, &mut sink);
    let trigger = summary
        .eventing
        .as_ref()
        .and_then(|e| e.triggers.first())
        .cloned()
        .unwrap_or_default();
    let finished = (trigger.delivered_first_try
        + trigger.delivered_after_retries.iter().sum::<u64>()
        + trigger.dead_lettered
        + trigger.failed_without_sink) as f64;
    let from = SimTime::from_secs_f64(exp.warmup_s);
    let margin = crate::sim::SimDuration::from_secs_f64(exp.tail_margin_s);
    let to = SimTime::ZERO + (sc.duration - margin);
    exp.checks
        .iter()
        .map(|c| match c.measure {
            Measure::MeanReplicas | Measure::MeanCpuUtilization => {
                super::hpa::measure_rows(&sink.rows, c.measure, from, to)
            }
            Measure::AttemptsPerEvent => trigger.attempts_of_finished as f64 / finished,
            Measure::DeadLetterFraction => trigger.dead_lettered as f64 / finished,
            m => measure(&sink.records, m, from, to),
        })
        .collect()
}

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq)]
pub struct RowResult {
    /// Experiment id.
    pub experiment: String,
    /// Textbook model.
    pub model: String,
    /// Parameters.
    pub params: String,
    /// The check.
    pub check: Check,
    /// The simulated mean over replications with its 95 % interval.
    pub estimate: Estimate,
    /// Seeds used.
    pub seeds: Vec<u64>,
}

impl RowResult {
    /// `|sim − theory| / theory`.
    pub fn relative_error(&self) -> f64 {
        self.estimate.relative_error(self.check.theory)
    }

    /// The theory value lies in the simulated 95 % interval.
    pub fn inside_ci(&self) -> bool {
        self.estimate.contains(self.check.theory)
    }

    /// The target: theory inside the 95 % interval and, for means,
    /// relative error under 2 %.
    pub fn meets_target(&self) -> bool {
        self.inside_ci() && (!self.check.measure.is_mean() || self.relative_error() < 0.02)
    }
}

/// Runs every experiment (replications in parallel; results do not depend
/// on the number of threads) and returns one row per check, in order.
pub fn run_experiments(exps: &[Experiment]) -> Result<Vec<RowResult>, ScenarioError> {
    run_experiments_with_progress(exps, &|| {})
}

/// Total number of replications [`run_experiments`] will simulate.
pub fn replication_count(exps: &[Experiment]) -> usize {
    exps.iter().map(|e| e.seeds.len()).sum()
}

/// [`run_experiments`], calling `done` after each replication (from worker
/// threads, in no particular order) so that a caller can show progress.
pub fn run_experiments_with_progress(
    exps: &[Experiment],
    done: &(dyn Fn() + Sync),
) -> Result<Vec<RowResult>, ScenarioError> {
    let scenarios = exps
        .iter()
        .map(|e| e.load())
        .collect::<Result<Vec<_>, _>>()?;
    let jobs: Vec<(usize, u64)> = exps
        .iter()
        .enumerate()
        .flat_map(|(i, e)| e.seeds.iter().map(move |&s| (i, s)))
        .collect();
    let mut values: Vec<(usize, Vec<f64>)> = jobs
        .par_iter()
        .enumerate()
        .map(|(j, &(i, seed))| {
            let v = replicate(&exps[i], &scenarios[i], seed);
            done();
            (j, v)
        })
        .collect();
    values.sort_by_key(|(j, _)| *j);
    let mut rows = Vec::new();
    let mut next = 0;
    for e in exps {
        let reps: Vec<&Vec<f64>> = values[next..next + e.seeds.len()]
            .iter()
            .map(|(_, v)| v)
            .collect();
        next += e.seeds.len();
        for (k, c) in e.checks.iter().enumerate() {
            let xs: Vec<f64> = reps.iter().map(|v| v[k]).collect();
            rows.push(RowResult {
                experiment: e.id.clone(),
                model: e.model.clone(),
                params: e.params.clone(),
                check: c.clone(),
                estimate: Estimate::from_replications(&xs, 0.95),
                seeds: e.seeds.clone(),
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RequestSender;
    use crate::sim::SimDuration;

    fn rec(
        arrival_ms: u64,
        start_ms: Option<u64>,
        end_ms: u64,
        outcome: RequestOutcome,
    ) -> RequestRecord {
        let t = |ms: u64| SimTime::ZERO + SimDuration::from_millis(ms);
        RequestRecord {
            revision: 0,
            arrival: t(arrival_ms),
            service_start: start_ms.map(t),
            end: t(end_ms),
            outcome,
            cold: arrival_ms < 1000,
            activator: None,
            source: RequestSender::Workload(0),
            to_pod: start_ms.map(t),
        }
    }

    #[test]
    fn measures_on_hand_derived_records() {
        use RequestOutcome::*;
        let recs = [
            // Before the window: ignored except for time overlap.
            rec(500, Some(600), 1500, Ok),
            rec(1000, Some(1000), 1200, Ok),
            rec(1100, Some(1400), 1600, Ok),
            rec(1200, None, 1200, Overflow),
            rec(1300, Some(2000), 2100, Ok),
            // After the window.
            rec(3000, Some(3000), 3100, Ok),
        ];
        let (a, b) = (SimTime::from_secs(1), SimTime::from_secs(3));
        // Waits of the successful requests in [1 s, 3 s): 0, 0.3, 0.7.
        assert!((measure(&recs, Measure::MeanWait, a, b) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            measure(&recs, Measure::WaitTail { t_s: 0.5 }, a, b),
            1.0 / 3.0
        );
        assert_eq!(measure(&recs, Measure::Blocking, a, b), 0.25);
        assert_eq!(measure(&recs, Measure::ColdFraction, a, b), 0.0);
        // Residence inside [1 s, 3 s): 0.5 + 0.2 + 0.5 + 0 + 0.8 = 2.0 s over 2 s.
        assert!((measure(&recs, Measure::MeanInSystem, a, b) - 1.0).abs() < 1e-12);
        let all = (SimTime::ZERO, SimTime::from_secs(4));
        assert_eq!(
            measure(&recs, Measure::ColdFraction, all.0, all.1),
            1.0 / 6.0
        );
    }

    #[test]
    fn every_finished_request_reaches_the_sink() {
        let e = experiments(Profile::Quick)
            .into_iter()
            .find(|e| e.id.starts_with("mm1k"))
            .unwrap();
        let mut e = e;
        e.overrides.push(ov("duration", "\"2m\""));
        let sc = e.load().unwrap();
        let mut sink = RecordSink::default();
        let s = simulate(&sc, 5, &mut sink);
        let n = |o: RequestOutcome| sink.records.iter().filter(|r| r.outcome == o).count() as u64;
        assert_eq!(n(RequestOutcome::Ok), s.requests.completed);
        assert_eq!(n(RequestOutcome::Overflow), s.requests.status_503);
        assert_eq!(n(RequestOutcome::Timeout), s.requests.status_504);
        assert_eq!(
            sink.records.len() as u64 + s.requests.in_flight_at_end,
            s.requests.arrived
        );
        assert!(s.requests.status_503 > 0);
        // Records come in order of end time.
        assert!(sink.records.windows(2).all(|w| w[0].end <= w[1].end));
    }
}
