//! Helpers shared by the cluster tests: run a scenario text and read its
//! `cluster` object and `cluster.csv` rows.

use knsim::model::cluster::{ClusterRow, ClusterSummary};
use knsim::model::{simulate, Summary, TimeseriesRow};
use knsim::scenario::{load_scenario_str, Override, Scenario, ScenarioError};
use std::path::Path;

/// Loads a scenario text with `--set` overrides.
pub fn load(text: &str, set: &[&str]) -> Result<Scenario, ScenarioError> {
    let set: Vec<Override> = set.iter().map(|s| s.parse().unwrap()).collect();
    load_scenario_str(text, Path::new("t.toml"), "t", Path::new("."), &set)
}

/// Runs a scenario text at seed 1.
pub fn run(text: &str, set: &[&str]) -> (Summary, Vec<TimeseriesRow>) {
    let sc = load(text, set).unwrap_or_else(|e| panic!("{e}"));
    let mut rows = Vec::new();
    let s = simulate(&sc, 1, &mut rows);
    (s, rows)
}

/// The summary's `cluster` object.
pub fn cluster(s: &Summary) -> &ClusterSummary {
    s.cluster
        .as_ref()
        .expect("node pools give a cluster object")
}

/// The row closing second `t`.
pub fn at(s: &Summary, t: u64) -> &ClusterRow {
    s.cluster_rows
        .iter()
        .find(|r| r.time == t as f64)
        .unwrap_or_else(|| panic!("no row at {t} s"))
}
