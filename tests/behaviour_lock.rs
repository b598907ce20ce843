//! Locks the simulator's outputs: every bundled scenario at several seeds must
//! reproduce the recorded `summary.json` byte for byte, and a timeseries
//! whose FNV-1a digest and row count are recorded.
//!
//! Restructuring the engine must not change a single output. A change that is
//! meant to alter results re-records the lock with
//! `KNSIM_BLESS=1 cargo test --test behaviour_lock` and says why in its commit.

use knsim::model::{simulate, NoTimeseries};
use knsim::output::{summary_json, CsvTimeseries};
use knsim::scenario::{load_scenario, Override, Scenario};
use std::path::{Path, PathBuf};

const SEEDS: [u64; 3] = [1, 7, 42];

/// Scenarios and the overrides that keep them short enough for a debug build.
fn cases() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("scenarios/bench-poisson.toml", vec!["duration=2m"]),
        ("scenarios/burst-panic.toml", vec![]),
        ("scenarios/canary-90-10.toml", vec![]),
        ("scenarios/canary-rollout.toml", vec![]),
        ("scenarios/cluster-small.toml", vec![]),
        ("scenarios/cluster-azure.toml", vec!["duration=15m"]),
        ("scenarios/cluster-rollout.toml", vec![]),
        ("scenarios/cluster-services.toml", vec![]),
        ("scenarios/eventing-fanout.toml", vec![]),
        ("scenarios/eventing-retries.toml", vec![]),
        ("scenarios/kpa-vs-hpa.toml", vec!["duration=10m"]),
        ("scenarios/greeter-split.toml", vec![]),
        ("scenarios/greeter-tutorial.toml", vec![]),
        ("scenarios/scale-from-zero.toml", vec![]),
        ("scenarios/slo-example.toml", vec![]),
        (
            "scenarios/traces/replay-azure2019.toml",
            vec!["duration=20m"],
        ),
        ("scenarios/traces/replay-azure2021.toml", vec![]),
        ("scenarios/traces/replay-knload.toml", vec![]),
        ("scenarios/traces/replay-requests-tagged.toml", vec![]),
        ("scenarios/traces/replay-requests.toml", vec![]),
        ("scenarios/validation/md1.toml", vec!["duration=5m"]),
        ("scenarios/validation/mginf.toml", vec!["duration=5m"]),
        ("scenarios/validation/mm1k.toml", vec!["duration=5m"]),
        ("scenarios/validation/mmc.toml", vec!["duration=5m"]),
        ("scenarios/validation/hpa-steady.toml", vec!["duration=5m"]),
        (
            "scenarios/validation/eventing-retry.toml",
            vec!["duration=5m"],
        ),
        (
            "scenarios/validation/scale-to-zero.toml",
            vec!["duration=2h"],
        ),
    ]
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn lock_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lock")
}

/// The scenario of one case.
fn load_case(path: &str, sets: &[&str]) -> Scenario {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let overrides: Vec<Override> = sets.iter().map(|s| s.parse().unwrap()).collect();
    load_scenario(&root.join(path), &overrides)
        .unwrap_or_else(|e| panic!("{path} does not load: {e}"))
}

/// Runs one case and returns (summary JSON, timeseries digest line).
fn run_case(path: &str, sets: &[&str], seed: u64) -> (String, String) {
    let sc = load_case(path, sets);
    let dir = tempfile::tempdir().unwrap();
    let ts_path = dir.path().join("timeseries.csv");
    let mut ts = CsvTimeseries::create(&ts_path).unwrap();
    let summary = simulate(&sc, seed, &mut ts);
    ts.finish().unwrap();
    let csv = std::fs::read(&ts_path).unwrap();
    let rows = csv.iter().filter(|b| **b == b'\n').count();
    let digest = format!("{:016x} {rows}", fnv1a(&csv));
    (summary_json(&summary), digest)
}

fn case_name(path: &str, seed: u64) -> String {
    let stem = path
        .trim_start_matches("scenarios/")
        .trim_end_matches(".toml")
        .replace('/', "_");
    format!("{stem}__seed{seed}")
}

#[test]
fn every_bundled_scenario_reproduces_its_locked_outputs() {
    let bless = std::env::var_os("KNSIM_BLESS").is_some();
    let dir = lock_dir();
    let digests_path = dir.join("timeseries.digests");
    let mut digests = String::new();
    let mut failures = Vec::new();
    for (path, sets) in cases() {
        for seed in SEEDS {
            let name = case_name(path, seed);
            let (summary, digest) = run_case(path, &sets, seed);
            digests.push_str(&format!("{name} {digest}\n"));
            let file = dir.join(format!("{name}.summary.json"));
            if bless {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&file, &summary).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if want != summary {
                let line = want
                    .lines()
                    .zip(summary.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                failures.push(format!(
                    "{name}: summary differs at line {}: want {:?}, got {:?}",
                    line + 1,
                    want.lines().nth(line).unwrap_or(""),
                    summary.lines().nth(line).unwrap_or("")
                ));
            }
        }
    }
    if bless {
        std::fs::write(&digests_path, &digests).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&digests_path).unwrap();
    for (w, g) in want.lines().zip(digests.lines()) {
        if w != g {
            failures.push(format!("timeseries: want {w}, got {g}"));
        }
    }
    assert_eq!(want.lines().count(), digests.lines().count());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A sink that wants no rows (as a sweep's) gets none built, and the
/// summary must not notice: every case at seed 1 gives the locked
/// `summary.json`, panic and activator seconds, windows, Services' books,
/// resource utilisation and Eventing included.
#[test]
fn a_run_without_rows_gives_the_locked_summaries() {
    if std::env::var_os("KNSIM_BLESS").is_some() {
        return;
    }
    let mut failures = Vec::new();
    for (path, sets) in cases() {
        let sc = load_case(path, &sets);
        let got = summary_json(&simulate(&sc, 1, &mut NoTimeseries));
        let file = lock_dir().join(format!("{}.summary.json", case_name(path, 1)));
        let want = std::fs::read_to_string(&file).unwrap();
        if got != want {
            failures.push(path);
        }
    }
    assert!(
        failures.is_empty(),
        "summaries differ without rows: {failures:?}"
    );
}
