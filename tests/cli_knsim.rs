//! The `knsim` binary end to end: outputs, determinism and error reporting.

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;
use std::path::Path;

fn knsim() -> Command {
    Command::cargo_bin("knsim").unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

const SMALL: &str = r#"
name = "small"
duration = "90s"
[[revision]]
name = "r1"
service-time = { distribution = "exponential", mean = "20ms" }
[[workload]]
arrival = { process = "poisson", rate = 30.0 }
"#;

#[test]
fn run_writes_summary_and_timeseries() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "small.toml", SMALL);
    let out = dir.path().join("out");
    knsim()
        .args(["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("scenario small (seed 1)"))
        .stdout(predicate::str::contains("latency    p50"));
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in [
        "scenario",
        "seed",
        "simulated_seconds",
        "requests",
        "latency",
        "cold_starts",
        "pod_seconds",
        "max_ready_pods",
        "panic_seconds",
        "activator_in_path_seconds",
        "revisions",
        "performance",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    for key in [
        "arrived",
        "completed",
        "status_503",
        "status_504",
        "in_flight_at_end",
        "waited_on_cold_start",
    ] {
        assert!(
            summary["requests"].get(key).is_some(),
            "requests lacks {key}"
        );
    }
    for key in ["p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms"] {
        assert!(
            summary["latency"][key].as_f64().unwrap() > 0.0,
            "latency {key}"
        );
    }
    assert_eq!(summary["revisions"][0]["observed_share"], 1.0);
    let ts = fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let header = ts.lines().next().unwrap();
    for col in [
        "time_s",
        "revision",
        "arrivals",
        "completed",
        "in_flight",
        "activator_queue",
        "stable_concurrency",
        "panic_concurrency",
        "desired_pods",
        "ready_pods",
        "pending_pods",
        "terminating_pods",
        "panic",
        "activator_in_path",
        "excess_burst_capacity",
    ] {
        assert!(
            header.split(',').any(|c| c == col),
            "timeseries lacks {col}"
        );
    }
    assert_eq!(ts.lines().count(), 1 + 90, "one row per simulated second");
    assert!(!out.join("timeseries.csv.tmp").exists());
}

fn strip_performance(json: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    v.as_object_mut().unwrap().remove("performance");
    v
}

#[test]
fn same_seed_gives_byte_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "small.toml", SMALL);
    let mut outputs = Vec::new();
    for run in ["a", "b"] {
        let out = dir.path().join(run);
        knsim()
            .args([
                "run",
                sc.to_str().unwrap(),
                "--seed",
                "99",
                "-q",
                "--out",
                out.to_str().unwrap(),
            ])
            .assert()
            .success()
            .stdout("");
        outputs.push((
            fs::read(out.join("timeseries.csv")).unwrap(),
            fs::read_to_string(out.join("summary.json")).unwrap(),
        ));
    }
    assert_eq!(outputs[0].0, outputs[1].0);
    assert_eq!(
        strip_performance(&outputs[0].1),
        strip_performance(&outputs[1].1)
    );
    assert_eq!(strip_performance(&outputs[0].1)["seed"], 99);
}

#[test]
fn set_overrides_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "small.toml", SMALL);
    let out = dir.path().join("o");
    knsim()
        .args([
            "run",
            sc.to_str().unwrap(),
            "-q",
            "--out",
            out.to_str().unwrap(),
        ])
        .args([
            "--set",
            "workload.0.arrival.rate=0.5",
            "--set",
            "duration=20s",
        ])
        .assert()
        .success();
    let s: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["simulated_seconds"], 20.0);
    assert!(s["requests"]["arrived"].as_u64().unwrap() < 30);
}

#[test]
fn bundled_scenarios_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut n = 0;
    for entry in fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            knsim()
                .args(["validate", p.to_str().unwrap()])
                .assert()
                .success();
            n += 1;
        }
    }
    assert!(n >= 4);
}

fn expect_bad_input(text: &str, set: &[&str], needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "bad.toml", text);
    let mut cmd = knsim();
    cmd.args(["validate", sc.to_str().unwrap()]);
    for s in set {
        cmd.args(["--set", s]);
    }
    let assert = cmd.assert().code(2);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("bad.toml"),
        "error does not name the file: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "error lacks {n:?}: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn missing_file_is_bad_input() {
    knsim()
        .args(["run", "/nonexistent/scenario.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/scenario.toml"));
}

#[test]
fn toml_syntax_error_names_line_and_column() {
    expect_bad_input("duration = \"1m\"\n[autoscaler\n", &[], &["bad.toml:2:"]);
}

#[test]
fn unknown_key_names_the_key_and_line() {
    let text = SMALL.replace("name = \"r1\"", "name = \"r1\"\ncontainer-concurrency = 3");
    expect_bad_input(
        &text,
        &[],
        &["unknown field `container-concurrency`", "bad.toml:6:1"],
    );
}

#[test]
fn invalid_value_names_the_field_line_and_rule() {
    let text = format!("{SMALL}\n[autoscaler]\nstable-window = \"5s\"\n");
    expect_bad_input(
        &text,
        &[],
        &[
            "bad.toml:11:1: autoscaler.stable-window",
            "[6s; 1h0m0s] range",
        ],
    );
}

#[test]
fn invalid_annotation_names_the_annotation() {
    let text = format!(
        "{SMALL}\n[revision.annotations]\n\"autoscaling.knative.dev/panic-threshold-percentage\" = \"100\"\n"
    );
    expect_bad_input(
        &text,
        &[],
        &["bad.toml:11:1", "panic-threshold-percentage", "110"],
    );
}

#[test]
fn invalid_override_says_it_came_from_set() {
    expect_bad_input(
        SMALL,
        &["autoscaler.max-scale-down-rate=1"],
        &["from --set autoscaler.max-scale-down-rate=1"],
    );
}

#[test]
fn traffic_rules_follow_knative() {
    let text = format!("{SMALL}\n[[traffic]]\nrevisionName = \"r1\"\npercent = 90\n");
    expect_bad_input(&text, &[], &["traffic", "100"]);
    let text = format!(
        "{SMALL}\n[[traffic]]\nrevisionName = \"r1\"\nlatestRevision = true\npercent = 100\n"
    );
    expect_bad_input(&text, &[], &["traffic[0].latestRevision"]);
}

#[test]
fn every_problem_is_reported_at_once() {
    let text =
        format!("{SMALL}\n[autoscaler]\nstable-window = \"5s\"\nmax-scale-up-rate = \"0.5\"\n");
    expect_bad_input(
        &text,
        &[],
        &[
            "2 invalid value(s) in",
            "stable-window",
            "max-scale-up-rate",
        ],
    );
}

/// The scenario shown in the README is valid, so the documentation cannot
/// drift from the format.
#[test]
fn readme_scenario_example_is_valid() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let block: String = readme
        .split("```toml\n")
        .nth(1)
        .expect("README has a toml example")
        .split("```")
        .next()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "readme.toml", &block);
    knsim()
        .args(["validate", sc.to_str().unwrap()])
        .assert()
        .success();
}

#[test]
fn validate_checks_slo_as_check_does() {
    expect_bad_input(
        &format!("{SMALL}\n[slo]\np99-latncy = \"500ms\"\n"),
        &[],
        &["slo.p99-latncy", "unknown objective"],
    );
    expect_bad_input(
        &format!("{SMALL}\n[slo]\np99-latency = true\n"),
        &[],
        &["bad.toml:11:1: slo.p99-latency", "must be a duration"],
    );
    expect_bad_input(
        SMALL,
        &["slo.max.nonsense=3"],
        &["from --set slo.max.nonsense=3"],
    );
}

#[test]
fn a_missing_file_shows_the_os_error_once() {
    let assert = knsim()
        .args(["validate", "/nonexistent/scenario.toml"])
        .assert()
        .code(2);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
}

#[test]
fn readme_set_examples_work_on_the_tutorial() {
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/greeter-tutorial.toml");
    for set in [
        "revision.greeter-v1.containerConcurrency=10",
        "revision.0.containerConcurrency=10",
        "revision.0.annotations.\"autoscaling.knative.dev/target\"=50",
    ] {
        knsim()
            .args(["validate", sc.to_str().unwrap(), "--set", set])
            .assert()
            .success();
    }
}

#[test]
fn invalid_utf8_is_one_error_with_its_position_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("bad.toml");
    fs::write(&sc, b"duration = \"1m\"\nname = \"ab\xff\"\n").unwrap();
    for cmd in ["validate", "run", "check"] {
        let assert = knsim().args([cmd, sc.to_str().unwrap()]).assert().code(2);
        let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert!(
            err.contains("bad.toml:2:11: (file): invalid UTF-8"),
            "{cmd}: {err}"
        );
        assert_eq!(err.matches("invalid UTF-8").count(), 1, "{cmd}: {err}");
        assert!(!err.contains("stream did not contain"), "{cmd}: {err}");
    }
}
