//! Validation of the model against queueing theory.
//!
//! Each experiment configures knsim so that its request path reduces to a
//! textbook queue (M/M/c through the activator's throttler, M/D/1, M/G/∞
//! with containerConcurrency 0, M/M/1/K at the queue-proxy breaker, and the
//! cold-start fraction of a revision that scales to zero, and the HPA
//! class's steady state at a constant CPU load), runs it over
//! independent seeds and compares the replication mean and its 95 %
//! interval with the closed form. `knsim validate-model` prints the table;
//! `docs/validation.md` derives the formulas and explains the setups.

mod experiment;
mod hpa;
mod report;
mod stats;
pub mod theory;

pub use experiment::{
    experiments, measure, replicate, replication_count, run_experiments,
    run_experiments_with_progress, seed_block, Check, Experiment, Measure, Profile, RecordSink,
    RowResult, SCENARIO_DIR, SCENARIO_FILES,
};
pub use hpa::{measure_rows, steady_replicas};
pub use report::markdown_table;
pub use stats::{t_quantile, Estimate};
