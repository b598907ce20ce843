//! `knsim check` end to end: SLO verdicts, baselines and exit codes.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/slo-example.toml")
}

fn check(args: &[&str]) -> Command {
    let mut c = Command::cargo_bin("knsim").unwrap();
    c.arg("check").arg(scenario()).args(args);
    c
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).to_string()
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).to_string()
}

/// The result column of the row that starts with `key`.
fn verdict(out: &str, key: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("no row {key} in\n{out}"));
    line.split_whitespace().last().unwrap().to_string()
}

#[test]
fn the_example_meets_its_slo() {
    let a = check(&["--reps", "2"]).assert().code(0);
    let out = stdout(&a);
    for key in [
        "p99-latency",
        "max-error-fraction",
        "max-cold-start-wait-fraction",
        "max-pod-seconds",
    ] {
        assert_eq!(verdict(&out, key), "PASS", "{out}");
    }
    assert!(out.contains("4 of 4 objective(s) met"), "{out}");
}

#[test]
fn a_missed_objective_fails_with_exit_1() {
    let a = check(&["--set", "slo.p99-latency=50ms"]).assert().code(1);
    let out = stdout(&a);
    assert_eq!(verdict(&out, "p99-latency"), "FAIL", "{out}");
    assert_eq!(verdict(&out, "max-error-fraction"), "PASS", "{out}");
    assert!(out.contains("FAILED"), "{out}");

    // Lower bounds on any metric: more completed requests than arrived is impossible.
    let a = check(&["--set", "slo.min.requests_completed=1000000"])
        .assert()
        .code(1);
    assert_eq!(verdict(&stdout(&a), "min.requests_completed"), "FAIL");
    let a = check(&["--set", "slo.max.requests_status_504=0"])
        .assert()
        .code(0);
    assert_eq!(verdict(&stdout(&a), "max.requests_status_504"), "PASS");
}

#[test]
fn baselines_catch_regressions_beyond_the_tolerance() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("baseline.json");
    let base_s = base.to_str().unwrap();
    check(&["--reps", "2", "--write-baseline", base_s])
        .assert()
        .code(0);
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    assert_eq!(recorded["reps"], 2);
    assert!(recorded["metrics"]["latency_p99_ms"].as_f64().unwrap() > 0.0);

    // Same scenario, same seeds: identical, so it passes at zero tolerance.
    let a = check(&["--baseline", base_s, "--tolerance", "0%"])
        .assert()
        .code(0);
    let out = stdout(&a);
    assert_eq!(verdict(&out, "latency_p99_ms"), "PASS", "{out}");
    assert!(out.contains("+0.00%"), "{out}");

    // A slower application is a latency regression.
    let slower = "revision.0.service-time.mean=160ms";
    let a = check(&["--baseline", base_s, "--set", slower])
        .assert()
        .code(1);
    let out = stdout(&a);
    assert_eq!(verdict(&out, "latency_p50_ms"), "FAIL", "{out}");
    assert_eq!(verdict(&out, "latency_mean_ms"), "FAIL", "{out}");
    // ... unless the tolerance allows it.
    check(&[
        "--baseline",
        base_s,
        "--set",
        slower,
        "--metric",
        "latency_p50_ms",
        "--tolerance",
        "200%",
    ])
    .assert()
    .code(0);
    // A faster one is no regression of latency.
    check(&[
        "--baseline",
        base_s,
        "--set",
        "revision.0.service-time.mean=40ms",
        "--metric",
        "latency_p50_ms",
        "--metric",
        "latency_mean_ms",
        "--tolerance",
        "0%",
    ])
    .assert()
    .code(0);
}

#[test]
fn a_run_summary_serves_as_a_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    Command::cargo_bin("knsim")
        .unwrap()
        .arg("run")
        .arg(scenario())
        .args(["--seed", "5", "--quiet", "--out"])
        .arg(tmp.path())
        .assert()
        .success();
    let summary = tmp.path().join("summary.json");
    let summary_s = summary.to_str().unwrap();
    // The check takes the run's seed and matches it exactly, metric by metric.
    let a = check(&[
        "--baseline",
        summary_s,
        "--tolerance",
        "0%",
        "--metric",
        "requests_arrived",
        "--metric",
        "latency_p99_ms",
        "--metric",
        "pod_seconds",
    ])
    .assert()
    .code(0);
    let out = stdout(&a);
    assert!(out.contains("seed 5"), "{out}");
    assert_eq!(verdict(&out, "requests_arrived"), "PASS", "{out}");
    // Another seed is other traffic: the arrival count moves.
    check(&[
        "--baseline",
        summary_s,
        "--seed",
        "6",
        "--tolerance",
        "0%",
        "--metric",
        "requests_arrived",
    ])
    .assert()
    .code(1);
}

#[test]
fn bad_input_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let a = check(&["--set", "slo.p99-latency=5"]).assert().code(2);
    assert!(stderr(&a).contains("slo.p99-latency"), "{}", stderr(&a));
    let a = check(&["--set", "slo.p42-latency=1s"]).assert().code(2);
    assert!(stderr(&a).contains("unknown objective"), "{}", stderr(&a));
    check(&["--baseline", tmp.path().join("none.json").to_str().unwrap()])
        .assert()
        .code(2);
    let garbage = tmp.path().join("garbage.json");
    std::fs::write(&garbage, "{\"not\": \"a baseline\"}").unwrap();
    check(&["--baseline", garbage.to_str().unwrap()])
        .assert()
        .code(2);
    check(&["--tolerance", "lots"]).assert().code(2);
    let unused = tmp.path().join("unused.json");
    check(&[
        "--metric",
        "nonsense",
        "--write-baseline",
        unused.to_str().unwrap(),
    ])
    .assert()
    .code(2);
    assert!(!unused.exists());
    // Nothing to check: no [slo] and no baseline.
    let bare = tmp.path().join("bare.toml");
    let text = std::fs::read_to_string(scenario()).unwrap();
    std::fs::write(&bare, &text[..text.find("\n[slo]").unwrap()]).unwrap();
    let a = Command::cargo_bin("knsim")
        .unwrap()
        .arg("check")
        .arg(&bare)
        .assert()
        .code(2);
    assert!(stderr(&a).contains("nothing to check"), "{}", stderr(&a));
}

/// `--write-baseline` into a folder that does not exist yet creates it.
#[test]
fn write_baseline_creates_missing_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("ci/nested/baseline.json");
    let a = check(&["--write-baseline", base.to_str().unwrap()])
        .assert()
        .success();
    assert!(stdout(&a).contains("wrote      baseline"), "{}", stdout(&a));
    let text = std::fs::read_to_string(&base).unwrap();
    assert!(text.contains("\"reps\""), "{text}");
}

/// An unwritable destination is reported before the simulation runs: with a
/// thousand replications the run itself would take far longer than the
/// timeout.
#[test]
fn unwritable_baseline_fails_before_simulating() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain-file");
    std::fs::write(&file, "not a folder").unwrap();
    let base = file.join("baseline.json");
    let a = check(&["--reps", "1000", "--write-baseline", base.to_str().unwrap()])
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(1);
    let err = stderr(&a);
    assert!(err.contains("plain-file"), "{err}");
    assert!(stdout(&a).is_empty(), "{}", stdout(&a));
}
