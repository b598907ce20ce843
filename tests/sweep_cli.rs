//! `knsim sweep` and `knsim merge` end to end: the final files depend only on
//! the sweep, not on threads, interruptions or sharding.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/slo-example.toml")
}

/// A 2 × 2 grid with 2 replications: 8 runs of 3 simulated minutes.
const GRID: &[&str] = &[
    "--vary",
    "autoscaler.stable-window=20s,60s",
    "--vary",
    "revision.0.annotations.\"autoscaling.knative.dev/target\"=5,10",
    "--reps",
    "2",
];

/// `knsim sweep SCENARIO ARGS --out OUT`.
fn sweep_cmd(args: &[&str], out: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("knsim"));
    c.arg("sweep")
        .arg(scenario())
        .args(args)
        .arg("--out")
        .arg(out);
    c
}

/// Sweeps [`GRID`] with `extra` arguments.
fn sweep(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    let args: Vec<&str> = GRID.iter().chain(extra).copied().collect();
    Command::from_std(sweep_cmd(&args, out)).assert()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

/// Asserts that two sweep directories hold byte-identical results.
fn assert_same_files(a: &Path, b: &Path) {
    for f in ["runs.csv", "summary.csv", "sweep.json"] {
        assert_eq!(read(a, f), read(b, f), "{f} differs");
    }
}

fn rows(csv: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

fn column(csv: &str, name: &str) -> Vec<String> {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let i = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    r.records().map(|rec| rec.unwrap()[i].to_string()).collect()
}

#[test]
fn one_and_two_threads_write_identical_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("j1"), tmp.path().join("j2"));
    sweep(&one, &["--jobs", "1"]).success();
    sweep(&two, &["--jobs", "2"]).success();
    assert_same_files(&one, &two);

    let runs = read(&one, "runs.csv");
    assert_eq!(rows(&runs).len(), 8);
    // Common random numbers: replication r has seed 21 + r in every configuration.
    let seeds = column(&runs, "seed");
    let reps = column(&runs, "rep");
    for (s, r) in seeds.iter().zip(&reps) {
        assert_eq!(s.parse::<u64>().unwrap(), 21 + r.parse::<u64>().unwrap());
    }
    // The overrides reach the simulation: configurations cost differently.
    let summary = read(&one, "summary.csv");
    assert_eq!(rows(&summary).len(), 4);
    let cost = column(&summary, "pod_seconds_mean");
    assert!(cost.iter().any(|c| c != &cost[0]), "{cost:?}");
    let pareto = column(&summary, "pareto");
    assert!(pareto.iter().any(|p| p == "1"), "{pareto:?}");
    // The summary agrees with the runs: with two replications the interval is
    // mean ± t(0.975, 1) · |x1 − x2| / 2, and t(0.975, 1) = 12.7062047.
    let per_run: Vec<f64> = column(&runs, "pod_seconds")
        .iter()
        .map(|x| x.parse().unwrap())
        .collect();
    let num = |name: &str, row: usize| -> f64 { column(&summary, name)[row].parse().unwrap() };
    for config in 0..4 {
        let (x1, x2) = (per_run[2 * config], per_run[2 * config + 1]);
        let mean = (x1 + x2) / 2.0;
        let half = 12.7062047 * (x1 - x2).abs() / 2.0;
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * (1.0 + b.abs());
        assert!(close(num("pod_seconds_mean", config), mean));
        assert!(close(num("pod_seconds_ci95_low", config), mean - half));
        assert!(close(num("pod_seconds_ci95_high", config), mean + half));
    }
    // Replication r sees the same arrivals in every configuration.
    let arrived = column(&runs, "requests_arrived");
    for (i, a) in arrived.iter().enumerate() {
        assert_eq!(a, &arrived[i % 2], "run {i}");
    }
    assert_ne!(arrived[0], arrived[1]);
}

#[test]
fn a_stopped_sweep_resumes_to_the_same_files() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    sweep(&whole, &[]).success();

    // Stopped after three runs, then a fourth row torn by a crash mid-write.
    let parts = tmp.path().join("parts");
    sweep(&parts, &["--max-runs", "3", "--jobs", "2"]).success();
    assert_eq!(rows(&read(&parts, "runs.csv")).len(), 3);
    assert!(!parts.join("summary.csv").exists());
    let mut torn = read(&parts, "runs.csv");
    torn.push_str("7,3,1,22,60s,10,180,35");
    std::fs::write(parts.join("runs.csv"), torn).unwrap();
    let out = sweep(&parts, &[]).success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("3 already done, 5 run now"), "{stdout}");
    assert_same_files(&whole, &parts);

    // runs.csv cut in the middle of a row, as a kill -9 during a write leaves it.
    let cut = tmp.path().join("cut");
    std::fs::create_dir(&cut).unwrap();
    let full = read(&whole, "runs.csv");
    let third_row_end = full.match_indices('\n').nth(3).unwrap().0;
    std::fs::write(cut.join("runs.csv"), &full[..third_row_end - 10]).unwrap();
    sweep(&cut, &["--jobs", "1"]).success();
    assert_same_files(&whole, &cut);

    // Rerunning a finished sweep runs nothing and changes nothing.
    let again = sweep(&whole, &[]).success();
    let stdout = String::from_utf8_lossy(&again.get_output().stdout).to_string();
    assert!(stdout.contains("8 already done, 0 run now"), "{stdout}");
    assert_same_files(&whole, &parts);
}

#[test]
fn a_killed_sweep_resumes_to_the_same_files() {
    // A larger grid, one thread, so the process is still running when killed.
    let grid = [
        "--vary",
        "autoscaler.stable-window=20s..60s:10s",
        "--vary",
        "revision.0.annotations.\"autoscaling.knative.dev/target\"=5,10",
        "--reps",
        "2",
        "--jobs",
        "1",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let (whole, killed) = (tmp.path().join("whole"), tmp.path().join("killed"));
    let mut child = sweep_cmd(&grid, &killed)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let runs = killed.join("runs.csv");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut rows_at_kill = 0;
    while Instant::now() < deadline {
        if let Ok(t) = std::fs::read_to_string(&runs) {
            rows_at_kill = t.lines().count().saturating_sub(1);
            if rows_at_kill >= 2 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(rows_at_kill >= 2, "the sweep never wrote a row");
    eprintln!("killed the sweep after {rows_at_kill} of 20 runs");

    Command::from_std(sweep_cmd(&grid, &killed))
        .assert()
        .success();
    Command::from_std(sweep_cmd(&grid, &whole))
        .assert()
        .success();
    assert_same_files(&whole, &killed);
    assert_eq!(rows(&read(&whole, "runs.csv")).len(), 20);
}

#[test]
fn merged_shards_equal_the_unsharded_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    sweep(&whole, &[]).success();
    let shards: Vec<PathBuf> = (0..3)
        .map(|k| tmp.path().join(format!("shard-{k}")))
        .collect();
    for (k, dir) in shards.iter().enumerate() {
        sweep(dir, &["--shard", &format!("{k}/3")]).success();
        assert!(!dir.join("summary.csv").exists());
    }
    // Round robin: 8 runs over 3 shards.
    let sizes: Vec<usize> = shards
        .iter()
        .map(|d| rows(&read(d, "runs.csv")).len())
        .collect();
    assert_eq!(sizes, [3, 3, 2]);

    let merged = tmp.path().join("merged");
    Command::cargo_bin("knsim")
        .unwrap()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_same_files(&whole, &merged);

    // A missing shard is an error that says how many runs are missing.
    let out = Command::cargo_bin("knsim")
        .unwrap()
        .arg("merge")
        .args(&shards[..2])
        .arg("--out")
        .arg(tmp.path().join("partial"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("2 of 8 runs are missing"), "{stderr}");
}

#[test]
fn bad_sweeps_are_refused_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    for bad in [
        vec!["--vary", "autoscaler.stable-window=20s..60s"],
        vec!["--vary", "revision.0.containerConcurrency=-5,5"],
        vec!["--vary", "seed=1,2"],
        vec!["--vary", "a=1", "--vary", "a=2"],
        vec!["--vary", "autoscaler.stable-window=20s", "--shard", "2/2"],
        vec![
            "--vary",
            "autoscaler.stable-window=20s",
            "--pareto",
            "nonsense",
        ],
    ] {
        Command::from_std(sweep_cmd(&bad, &out)).assert().code(2);
    }
    assert!(!out.join("runs.csv").exists());

    // Resuming into a directory that holds another sweep is refused.
    sweep(&out, &["--max-runs", "1"]).success();
    let refused = sweep(&out, &["--set", "duration=2m"]).code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(stderr.contains("another sweep"), "{stderr}");
}

#[test]
fn range_values_are_exact_decimals_in_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    Command::from_std(sweep_cmd(
        &[
            "--set",
            "duration=1m",
            "--vary",
            "autoscaler.max-scale-up-rate=1.7..2.0:0.1",
        ],
        &out,
    ))
    .assert()
    .success();
    assert_eq!(
        column(&read(&out, "summary.csv"), "autoscaler.max-scale-up-rate"),
        ["1.7", "1.8", "1.9", "2.0"]
    );
}

#[test]
fn a_sweep_extended_with_more_values_and_reps_keeps_its_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let short = ["--set", "duration=1m"];
    let small = [
        short[0],
        short[1],
        "--vary",
        "autoscaler.stable-window=20s,60s",
        "--reps",
        "2",
    ];
    let large = [
        short[0],
        short[1],
        "--vary",
        "autoscaler.stable-window=20s,40s,60s",
        "--reps",
        "3",
    ];
    let (grown, fresh) = (tmp.path().join("grown"), tmp.path().join("fresh"));
    Command::from_std(sweep_cmd(&small, &grown))
        .assert()
        .success();
    let a = Command::from_std(sweep_cmd(&large, &grown))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(stdout.contains("4 already done, 5 run now"), "{stdout}");
    Command::from_std(sweep_cmd(&large, &fresh))
        .assert()
        .success();
    assert_same_files(&grown, &fresh);
}
