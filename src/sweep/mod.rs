//! Parameter sweeps: a grid of scenario overrides, each configuration
//! replicated with common random numbers, run in parallel, written as
//! `runs.csv` and `summary.csv`.
//!
//! ```text
//!  --vary axes ─► Plan (configs × reps, run = config·reps + rep)
//!                   │   seed of rep r = base + r for every config
//!                   ▼
//!  pending runs (not in runs.csv, in this shard) ─► rayon pool ─► simulate
//!                   │                                                │
//!                   │             runs.csv ◄── append as each finishes
//!                   ▼
//!  all runs ─► runs.csv rewritten in run order ─► summary.csv (mean, 95 % CI,
//!                                                  Pareto mark)
//! ```
//!
//! Every output is a function of the plan and the per-run results alone, so
//! the files are byte-identical whatever the thread count, however often the
//! sweep was interrupted and resumed, and whether it ran in one piece or as
//! merged shards.

mod files;
mod grid;
mod metrics;
mod stats;

pub use files::{
    fingerprint, read_runs, runs_header, summary_header, write_runs, write_summary, Manifest,
    RunsAppender, MANIFEST_FILE, RUNS_FILE, SUMMARY_FILE,
};
pub use grid::{Axis, Plan, RunSpec, Shard, MAX_AXIS_VALUES, MAX_RUNS};
pub use metrics::{
    format_number, metric_index, metric_names, metric_values, Direction, MetricDef, METRICS,
};
pub use stats::{
    mean_ci, pareto_front, summarize, t_interval, t_quantile, ConfigSummary, MeanCi, TInterval,
    CONFIDENCE,
};

use crate::model::{simulate, NoTimeseries};
use crate::scenario::{load_scenario_str, Override, Scenario, ScenarioError};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Metric of the cost axis of the Pareto view.
pub const COST_METRIC: &str = "pod_seconds";

/// Default latency metric of the Pareto view.
pub const DEFAULT_PARETO_LATENCY: &str = "latency_p99_ms";

/// Why a sweep, a merge or a check could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// A `--vary` argument is malformed.
    #[error("--vary {spec}: {rule}")]
    BadVary {
        /// The argument as given.
        spec: String,
        /// What is wrong with it.
        rule: String,
    },
    /// A `--shard` argument is malformed.
    #[error("--shard {spec}: {rule}")]
    BadShard {
        /// The argument as given.
        spec: String,
        /// What is wrong with it.
        rule: String,
    },
    /// The axes, replications or options do not make a sweep.
    #[error("{rule}")]
    BadPlan {
        /// What is wrong.
        rule: String,
    },
    /// The base scenario does not load.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// One configuration of the grid does not load.
    #[error("configuration {values}")]
    Config {
        /// The configuration's values, `key=value, ...`.
        values: String,
        /// Why it does not load.
        #[source]
        source: ScenarioError,
    },
    /// An existing sweep file cannot be used.
    #[error("{}: {rule}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        rule: String,
    },
    /// Directories given to merge do not hold one whole sweep.
    #[error("cannot merge: {rule}")]
    Merge {
        /// What is wrong.
        rule: String,
    },
    /// The worker threads could not be started.
    #[error("cannot start {jobs} worker threads: {rule}")]
    Threads {
        /// Threads asked for.
        jobs: usize,
        /// Why not.
        rule: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl SweepError {
    /// True when the error is in the user's input (arguments, scenario,
    /// existing files) rather than a failure to read or write.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, SweepError::Io { .. } | SweepError::Threads { .. })
    }
}

/// The metrics of one finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Run index.
    pub run: usize,
    /// Configuration index.
    pub config: usize,
    /// Replication.
    pub rep: usize,
    /// Seed used.
    pub seed: u64,
    /// The configuration's values, one per axis.
    pub values: Vec<String>,
    /// One value per metric, in [`METRICS`] order.
    pub metrics: Vec<f64>,
}

/// What to sweep.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    /// Scenario file.
    pub scenario: PathBuf,
    /// Overrides applied to every run (`--set`).
    pub set: Vec<Override>,
    /// The axes (`--vary`), in order.
    pub vary: Vec<Axis>,
    /// Replications per configuration (`--reps`).
    pub reps: usize,
    /// Seed of replication 0; default: the scenario's seed after `--set`.
    pub seed: Option<u64>,
    /// Latency metric of the Pareto view; default [`DEFAULT_PARETO_LATENCY`].
    pub pareto_latency: Option<String>,
}

/// How to run a sweep.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExecOptions {
    /// Worker threads; 0 = one per available core.
    pub jobs: usize,
    /// Run only this shard's runs.
    pub shard: Option<Shard>,
    /// Run at most this many pending runs, then stop (the rest is left for a
    /// later invocation, which resumes).
    pub max_runs: Option<usize>,
}

/// Receives progress while a sweep runs (called from worker threads).
pub trait Progress: Sync {
    /// Before the first run: how many runs this invocation will do.
    fn start(&self, _pending: usize) {}
    /// After each run's row is on disk.
    fn run_done(&self, _record: &RunRecord) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {}

/// What an invocation of [`Sweep::execute`] did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Runs found already done in `runs.csv`.
    pub resumed: usize,
    /// Runs done by this invocation.
    pub ran: usize,
    /// Runs of this shard (or of the sweep) still to do.
    pub remaining: usize,
    /// Configuration summaries, when `runs.csv` holds every run of the
    /// sweep (then `summary.csv` was written too).
    pub summaries: Option<Vec<ConfigSummary>>,
}

/// A validated sweep, ready to run: the scenario text, the plan and the
/// manifest.
#[derive(Clone, Debug)]
pub struct Sweep {
    text: String,
    path: PathBuf,
    name: String,
    base_dir: PathBuf,
    set: Vec<Override>,
    plan: Plan,
    manifest: Manifest,
    cost: usize,
    latency: usize,
    slo: Option<crate::scenario::slo::Slo>,
    window: Option<crate::scenario::window::Window>,
}

impl Sweep {
    /// Reads the scenario, checks the axes and loads every configuration
    /// once, so a bad value fails before any run starts.
    pub fn prepare(spec: &SweepSpec) -> Result<Sweep, SweepError> {
        Self::prepare_with_progress(spec, &|_, _| {})
    }

    /// [`Sweep::prepare`], calling `checked(done, total)` as the grid's
    /// configurations are validated (a large grid takes a while).
    pub fn prepare_with_progress(
        spec: &SweepSpec,
        checked: &dyn Fn(usize, usize),
    ) -> Result<Sweep, SweepError> {
        let text = crate::scenario::read_scenario_text(&spec.scenario)?;
        let name = spec
            .scenario
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
        let base_dir = spec
            .scenario
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        for a in &spec.vary {
            if a.key == "seed" {
                return Err(SweepError::BadPlan {
                    rule: "--vary seed: replications already use seeds base, base+1, ...; \
                           use --reps (and --seed for the base)"
                        .into(),
                });
            }
            if let Some(s) = spec.set.iter().find(|s| s.key == a.key) {
                return Err(SweepError::BadPlan {
                    rule: format!("{} is given both as --set {s} and as --vary", a.key),
                });
            }
        }
        let base = load_scenario_str(&text, &spec.scenario, &name, &base_dir, &spec.set)?;
        let plan = Plan::new(spec.vary.clone(), spec.reps, spec.seed.unwrap_or(base.seed))?;
        let pareto_latency = spec
            .pareto_latency
            .clone()
            .unwrap_or_else(|| DEFAULT_PARETO_LATENCY.to_string());
        let latency = metric_index(&pareto_latency).ok_or_else(|| SweepError::BadPlan {
            rule: format!(
                "--pareto {pareto_latency}: not a metric; one of {}",
                metric_names()
            ),
        })?;
        let sweep = Sweep {
            manifest: Manifest {
                knsim_version: env!("CARGO_PKG_VERSION").to_string(),
                scenario: spec.scenario.display().to_string(),
                scenario_name: base.name.clone(),
                scenario_hash: fingerprint(text.as_bytes()),
                set: spec.set.iter().map(|o| o.to_string()).collect(),
                vary: spec.vary.clone(),
                reps: spec.reps,
                seed: plan.base_seed(),
                pareto_latency,
                configs: plan.configs(),
                runs: plan.runs(),
                shard: None,
            },
            text,
            path: spec.scenario.clone(),
            name,
            base_dir,
            set: spec.set.clone(),
            plan,
            cost: metric_index(COST_METRIC).expect("cost metric exists"),
            latency,
            slo: base.slo.clone(),
            window: base.window,
        };
        if !spec.vary.is_empty() {
            let total = sweep.plan.configs();
            for c in 0..total {
                if c % 64 == 0 {
                    checked(c, total);
                }
                sweep
                    .load(&sweep.plan.spec(c * sweep.plan.reps()).overrides)
                    .map_err(|source| SweepError::Config {
                        values: sweep.describe(c),
                        source,
                    })?;
            }
            checked(total, total);
        }
        Ok(sweep)
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The manifest of the whole sweep.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The scenario file's text as read.
    pub fn scenario_text(&self) -> &str {
        &self.text
    }

    /// The scenario file.
    pub fn scenario_path(&self) -> &Path {
        &self.path
    }

    /// The scenario's name (after `--set`).
    pub fn scenario_name(&self) -> &str {
        &self.manifest.scenario_name
    }

    /// The `--set` overrides applied to every run.
    pub fn overrides(&self) -> &[Override] {
        &self.set
    }

    /// The `[slo]` section of the scenario (after `--set`), if any.
    pub fn slo(&self) -> Option<&crate::scenario::slo::Slo> {
        self.slo.as_ref()
    }

    /// The measurement window of the scenario (after `--set`), if any; a
    /// `--vary` of `warmup` or `measure` changes it per configuration.
    pub fn window(&self) -> Option<crate::scenario::window::Window> {
        self.window
    }

    /// `key=value, key=value` of configuration `config`.
    pub fn describe(&self, config: usize) -> String {
        self.plan
            .axes()
            .iter()
            .zip(self.plan.values(config))
            .map(|(a, v)| format!("{}={v}", a.key))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn load(&self, vary: &[Override]) -> Result<Scenario, ScenarioError> {
        let all: Vec<Override> = self.set.iter().chain(vary).cloned().collect();
        load_scenario_str(&self.text, &self.path, &self.name, &self.base_dir, &all)
    }

    /// Runs one simulation. The scenario is built inside the caller's thread.
    pub fn run_one(&self, spec: &RunSpec) -> Result<RunRecord, SweepError> {
        let sc = self
            .load(&spec.overrides)
            .map_err(|source| SweepError::Config {
                values: self.describe(spec.config),
                source,
            })?;
        let summary = simulate(&sc, spec.seed, &mut NoTimeseries);
        Ok(RunRecord {
            run: spec.run,
            config: spec.config,
            rep: spec.rep,
            seed: spec.seed,
            values: spec.overrides.iter().map(|o| o.value.clone()).collect(),
            metrics: metric_values(&summary),
        })
    }

    /// Runs `specs` on a pool of `jobs` threads (0 = one per core), calling
    /// `each` as every run finishes. Returns the records in run order.
    fn run_specs(
        &self,
        specs: &[RunSpec],
        jobs: usize,
        each: &(dyn Fn(&RunRecord) -> Result<(), SweepError> + Sync),
    ) -> Result<Vec<RunRecord>, SweepError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build()
            .map_err(|e| SweepError::Threads {
                jobs,
                rule: e.to_string(),
            })?;
        let done = Mutex::new(Vec::with_capacity(specs.len()));
        pool.install(|| {
            specs.par_iter().try_for_each(|spec| {
                let rec = self.run_one(spec)?;
                each(&rec)?;
                done.lock().expect("no worker panicked").push(rec);
                Ok::<(), SweepError>(())
            })
        })?;
        let mut done = done.into_inner().expect("no worker panicked");
        done.sort_by_key(|r| r.run);
        Ok(done)
    }

    /// Runs every run of the plan in memory (for `knsim check`) and returns
    /// the records in run order.
    pub fn run_all(&self, jobs: usize) -> Result<Vec<RunRecord>, SweepError> {
        let specs: Vec<RunSpec> = self.plan.specs().collect();
        self.run_specs(&specs, jobs, &|_| Ok(()))
    }

    /// Summarises records of this sweep (see [`summarize`]).
    pub fn summarize(&self, records: &[RunRecord]) -> Vec<ConfigSummary> {
        summarize(&self.plan, records, self.cost, self.latency)
    }

    /// Runs the sweep into `out`, resuming from whatever `out/runs.csv`
    /// already holds. Rows are appended as runs finish; at the end `runs.csv`
    /// is rewritten in run order and, when it holds every run of the sweep,
    /// `summary.csv` is written.
    pub fn execute(
        &self,
        out: &Path,
        opts: &ExecOptions,
        progress: &dyn Progress,
    ) -> Result<Outcome, SweepError> {
        std::fs::create_dir_all(out).map_err(|source| SweepError::Io {
            path: out.to_path_buf(),
            source,
        })?;
        if let Some(old) = Manifest::read(out)? {
            let why = if old.scenario_hash != self.manifest.scenario_hash {
                Some("the scenario file changed")
            } else if old.set != self.manifest.set {
                Some("--set differs")
            } else if old.seed != self.manifest.seed {
                Some("the seed differs")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(SweepError::BadFile {
                    path: out.join(MANIFEST_FILE),
                    rule: format!(
                        "holds another sweep ({why}); use another --out directory or delete it"
                    ),
                });
            }
        }
        let runs_path = out.join(RUNS_FILE);
        let existing = read_runs(&runs_path, &self.plan)?;
        files::with_shard(self.manifest.clone(), opts.shard).write(out)?;
        // Rewriting first drops a row torn by a crash before new rows follow it.
        write_runs(&runs_path, &self.plan, &existing)?;
        let summary_path = out.join(SUMMARY_FILE);
        remove_if_present(&summary_path)?;

        let mut have = vec![false; self.plan.runs()];
        for r in &existing {
            have[r.run] = true;
        }
        let mut todo: Vec<RunSpec> = self
            .plan
            .specs()
            .filter(|s| !have[s.run] && opts.shard.is_none_or(|sh| sh.contains(s.run)))
            .collect();
        let in_scope = todo.len();
        if let Some(max) = opts.max_runs {
            todo.truncate(max);
        }
        progress.start(todo.len());
        let appender = Mutex::new(RunsAppender::open(&runs_path)?);
        let new = self.run_specs(&todo, opts.jobs, &|rec| {
            appender.lock().expect("no worker panicked").append(rec)?;
            progress.run_done(rec);
            Ok(())
        })?;
        drop(appender);

        let ran = new.len();
        let mut all = existing;
        let resumed = all.len();
        all.extend(new);
        all.sort_by_key(|r| r.run);
        write_runs(&runs_path, &self.plan, &all)?;
        let summaries = if all.len() == self.plan.runs() {
            let s = self.summarize(&all);
            write_summary(&summary_path, self.plan.axes(), &s)?;
            Some(s)
        } else {
            None
        };
        Ok(Outcome {
            resumed,
            ran,
            remaining: in_scope - ran,
            summaries,
        })
    }
}

fn remove_if_present(path: &Path) -> Result<(), SweepError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(SweepError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// What [`merge`] produced.
#[derive(Clone, Debug)]
pub struct Merged {
    /// The merged manifest (no shard).
    pub manifest: Manifest,
    /// Runs merged.
    pub runs: usize,
    /// Configuration summaries.
    pub summaries: Vec<ConfigSummary>,
}

/// Combines the sweep directories `dirs` (typically one per shard) into
/// `out`, writing the same `sweep.json`, `runs.csv` and `summary.csv` that
/// one unsharded sweep would have written. Fails unless the directories hold
/// runs of one sweep that together cover all of it.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Merged, SweepError> {
    let Some(first) = dirs.first() else {
        return Err(SweepError::Merge {
            rule: "no directories given".into(),
        });
    };
    let mut manifests = Vec::new();
    for d in dirs {
        let m = Manifest::read(d)?.ok_or_else(|| SweepError::Merge {
            rule: format!("{} has no {MANIFEST_FILE}", d.display()),
        })?;
        manifests.push(m);
    }
    let base = manifests[0].clone();
    for (d, m) in dirs.iter().zip(&manifests).skip(1) {
        if !m.same_sweep(&base) {
            return Err(SweepError::Merge {
                rule: format!(
                    "{} and {} hold different sweeps (scenario, --set, --vary, --reps or seed differ)",
                    first.display(),
                    d.display()
                ),
            });
        }
    }
    let plan = base.plan()?;
    let mut slots: Vec<Option<RunRecord>> = vec![None; plan.runs()];
    for d in dirs {
        for r in read_runs(&d.join(RUNS_FILE), &plan)? {
            let i = r.run;
            match &slots[i] {
                Some(prev) if prev != &r => {
                    return Err(SweepError::Merge {
                        rule: format!(
                            "run {i} appears twice with different results (in {})",
                            d.display()
                        ),
                    })
                }
                _ => slots[i] = Some(r),
            }
        }
    }
    let missing: Vec<usize> = slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| i)
        .collect();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(10).map(|i| i.to_string()).collect();
        return Err(SweepError::Merge {
            rule: format!(
                "{} of {} runs are missing (runs {}{}); finish or add the shards that hold them",
                missing.len(),
                plan.runs(),
                shown.join(", "),
                if missing.len() > 10 { ", ..." } else { "" }
            ),
        });
    }
    let all: Vec<RunRecord> = slots.into_iter().flatten().collect();
    let latency = metric_index(&base.pareto_latency).ok_or_else(|| SweepError::BadFile {
        path: first.join(MANIFEST_FILE),
        rule: format!("pareto_latency {:?} is not a metric", base.pareto_latency),
    })?;
    let summaries = summarize(
        &plan,
        &all,
        metric_index(COST_METRIC).expect("cost metric exists"),
        latency,
    );
    std::fs::create_dir_all(out).map_err(|source| SweepError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let manifest = files::with_shard(base, None);
    manifest.write(out)?;
    write_runs(&out.join(RUNS_FILE), &plan, &all)?;
    write_summary(&out.join(SUMMARY_FILE), plan.axes(), &summaries)?;
    Ok(Merged {
        manifest,
        runs: all.len(),
        summaries,
    })
}
