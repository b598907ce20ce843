//! The measurement window, the per-request CSV and the decision log
//! (issue 19): each output checked against what it must agree with.

use assert_cmd::Command;
use hdrhistogram::Histogram;
use knsim::model::{simulate, NoTimeseries, Summary};
use knsim::scenario::{load_scenario_str, Override, Scenario};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

fn knsim() -> Command {
    Command::cargo_bin("knsim").unwrap()
}

fn scenario(text: &str, overrides: &[&str]) -> Scenario {
    let o: Vec<Override> = overrides.iter().map(|s| s.parse().unwrap()).collect();
    load_scenario_str(text, Path::new("test.toml"), "test", Path::new("."), &o)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Four pods at most, CC 1, ρ = 0.7 at four pods: the autoscaler wants more
/// than four, so the steady state is four pods whichever way the run starts.
/// Pods take about 10 s to start, so the start-up transient is long.
const FOUR_PODS: &str = r#"
duration = "40m"
[autoscaler]
allow-zero-initial-scale = true
[cluster.pod-startup]
image-pull = { distribution = "constant", value = "10s" }
[[revision]]
name = "r"
containerConcurrency = 1
service-time = { distribution = "exponential", mean = "100ms" }
[revision.annotations]
"autoscaling.knative.dev/initial-scale" = "0"
"autoscaling.knative.dev/max-scale" = "4"
[[workload]]
arrival = { process = "poisson", rate = 28.0 }
"#;

fn within(a: &Summary, b: &Summary, what: &str) -> Result<(), String> {
    let (wa, wb) = (
        &a.window.as_ref().unwrap().batch_means,
        &b.window.as_ref().unwrap().batch_means,
    );
    let pick = |m: &knsim::model::BatchMeans| match what {
        "mean" => m.mean_ms,
        "p50" => m.p50_ms,
        _ => m.p99_ms,
    };
    let (ia, ib) = (pick(wa).unwrap(), pick(wb).unwrap());
    let allowed = (ia.half_width.powi(2) + ib.half_width.powi(2)).sqrt();
    let diff = (ia.estimate - ib.estimate).abs();
    if diff <= allowed {
        Ok(())
    } else {
        Err(format!(
            "{what}: {:.2} vs {:.2} ms differ by {diff:.2}, more than {allowed:.2}",
            ia.estimate, ib.estimate
        ))
    }
}

#[test]
fn a_windowed_run_from_zero_matches_the_same_run_started_warm() {
    let warmup = ["warmup=5m"];
    let cold = scenario(FOUR_PODS, &warmup);
    let warm_text = FOUR_PODS.replace(
        r#""autoscaling.knative.dev/initial-scale" = "0""#,
        r#""autoscaling.knative.dev/initial-scale" = "4"
"autoscaling.knative.dev/min-scale" = "4""#,
    );
    assert_ne!(warm_text, FOUR_PODS);
    let warm = scenario(&warm_text, &warmup);
    let c = simulate(&cold, 3, &mut NoTimeseries);
    let w = simulate(&warm, 3, &mut NoTimeseries);
    assert_eq!(c.max_ready_pods, 4);
    let bm = &c.window.as_ref().unwrap().batch_means;
    assert_eq!(bm.batches, 20, "{bm:?}");
    for what in ["mean", "p50", "p99"] {
        within(&c, &w, what).unwrap();
    }
    // The window is what makes them agree: counted from the start, the run
    // from zero carries its cold starts (requests held ~10 s by the
    // activator) and its mean lies far outside the warm run's interval.
    let whole = simulate(&scenario(FOUR_PODS, &["warmup=0s"]), 3, &mut NoTimeseries);
    assert!(whole.requests.waited_on_cold_start > 100);
    assert_eq!(c.requests.waited_on_cold_start, 0);
    let mean = |s: &Summary| s.window.as_ref().unwrap().batch_means.mean_ms.unwrap();
    let (mc, mw) = (mean(&c), mean(&w));
    let tolerance = (mc.half_width.powi(2) + mw.half_width.powi(2)).sqrt();
    assert!(
        (whole.latency.mean_ms - mw.estimate).abs() > 5.0 * tolerance,
        "whole run {} ms vs warm {} ± {tolerance} ms",
        whole.latency.mean_ms,
        mw.estimate
    );
    // Its batch means see the transient too: the first batch stands out and
    // the interval is many times wider.
    assert!(mean(&whole).half_width > 10.0 * mw.half_width);
}

#[test]
fn the_window_counts_requests_by_arrival_and_keeps_late_answers() {
    // One pod answering in 2 s; requests every second from 10 s to 30 s.
    let text = r#"
duration = "60s"
warmup = "20s"
measure = "5s"
[autoscaler]
target-burst-capacity = 0
[[revision]]
name = "r"
containerConcurrency = 0
service-time = { distribution = "constant", value = "2s" }
[revision.annotations]
"autoscaling.knative.dev/min-scale" = "1"
"autoscaling.knative.dev/max-scale" = "1"
[[workload]]
arrival = { process = "constant", rate = 1.0 }
start = "10s"
end = "30s"
"#;
    let s = simulate(&scenario(text, &[]), 1, &mut NoTimeseries);
    let w = s.window.as_ref().unwrap();
    assert_eq!((w.start_s, w.end_s), (20.0, 25.0));
    // Arrivals at 20, 21, 22, 23, 24 s; the one at 24 s ends at 26 s, after
    // the window, and still counts.
    assert_eq!(s.requests.arrived, 5);
    assert_eq!(s.requests.completed, 5);
    assert!((s.latency.mean_ms - 2000.0).abs() < 2.0);
    let whole = simulate(
        &scenario(text, &["warmup=0s", "measure=60s"]),
        1,
        &mut NoTimeseries,
    );
    assert_eq!(whole.requests.arrived, 20);
    // Too few requests for batch means: no interval, and it says why.
    assert_eq!(w.batch_means.batches, 0);
    assert!(w.batch_means.mean_ms.is_none());
}

#[test]
fn no_window_no_window_field() {
    let s = simulate(&scenario(FOUR_PODS, &["duration=1m"]), 1, &mut NoTimeseries);
    assert!(s.window.is_none());
    let json = knsim::output::summary_json(&s);
    assert!(!json.contains("window"), "{json}");
}

#[test]
fn window_bounds_are_checked_against_the_duration() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("s.toml");
    fs::write(&sc, FOUR_PODS).unwrap();
    let sc = sc.to_str().unwrap();
    for (args, field) in [
        (vec!["--warmup", "40m"], "warmup"),
        (vec!["--warmup", "30m", "--measure", "11m"], "measure"),
        (vec!["--measure", "0s"], "measure"),
        (vec!["--warmup", "soon"], "warmup"),
    ] {
        let out = knsim()
            .args(["run", sc, "--out"])
            .arg(dir.path().join("o"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(field), "{args:?}: {err}");
    }
    for bad in ["0", "1.5", "x"] {
        let out = knsim()
            .args([
                "run",
                sc,
                "--requests-csv",
                "/dev/null",
                "--requests-sample",
                bad,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "sample {bad}");
    }
}

// ------------------------------------------------------------ requests.csv

/// Overload of one CC-1 pod (503s and 504s) and a tag that the timeline
/// removes at 60 s (404s).
const ERRORS: &str = r#"
name = "errors"
duration = "90s"
traffic = [{ revisionName = "r1", percent = 100, tag = "t" }]
[autoscaler]
target-burst-capacity = 0
[[revision]]
name = "r1"
containerConcurrency = 1
timeoutSeconds = 3
service-time = { distribution = "exponential", mean = "500ms" }
[revision.annotations]
"autoscaling.knative.dev/min-scale" = "1"
"autoscaling.knative.dev/max-scale" = "1"
[[timeline]]
at = "60s"
traffic = [{ revisionName = "r1", percent = 100 }]
[[workload]]
name = "main"
arrival = { process = "poisson", rate = 4.0 }
[[workload]]
name = "tagged"
tag = "t"
arrival = { process = "poisson", rate = 1.0 }
"#;

struct Run {
    summary: serde_json::Value,
    summary_text: String,
    timeseries: String,
    requests: Option<String>,
    decisions: Option<String>,
}

fn run_cli(scenario: &Path, out: &Path, extra: &[&str]) -> Run {
    let req = out.join("requests.csv");
    let mut cmd = knsim();
    cmd.arg("run")
        .arg(scenario)
        .arg("--quiet")
        .arg("--out")
        .arg(out)
        .args(extra);
    if extra.contains(&"--requests-csv") {
        cmd.arg(&req);
    }
    cmd.assert().success();
    let text = fs::read_to_string(out.join("summary.json")).unwrap();
    Run {
        summary: serde_json::from_str(&text).unwrap(),
        summary_text: text,
        timeseries: fs::read_to_string(out.join("timeseries.csv")).unwrap(),
        requests: fs::read_to_string(&req).ok(),
        decisions: fs::read_to_string(out.join("decisions.csv")).ok(),
    }
}

fn micros(s: &str) -> u64 {
    let (a, b) = s.split_once('.').unwrap();
    assert_eq!(b.len(), 6, "{s}");
    a.parse::<u64>().unwrap() * 1_000_000 + b.parse::<u64>().unwrap()
}

/// The rows of a requests.csv as maps from column to value.
fn rows(csv: &str) -> Vec<BTreeMap<&str, &str>> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &header[..4],
        ["timestamp_s", "latency_s", "status", "class"],
        "knload's columns first"
    );
    lines
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            assert_eq!(v.len(), header.len(), "{l}");
            header.iter().copied().zip(v).collect()
        })
        .collect()
}

/// Re-aggregates `rows` arriving at or after `from_us` as the summary does
/// and compares with `summary` (its counts and latency fields exactly).
fn assert_reaggregates(rows: &[BTreeMap<&str, &str>], from_us: u64, summary: &serde_json::Value) {
    let mut h = Histogram::<u64>::new_with_bounds(1, 36_000_000_000, 3).unwrap();
    let mut by_status: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_rev: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut cold = 0;
    let mut n = 0;
    for r in rows.iter().filter(|r| micros(r["timestamp_s"]) >= from_us) {
        n += 1;
        *by_status.entry(r["status"]).or_default() += 1;
        cold += (r["cold_start"] == "1") as u64;
        if r["status"] != "404" {
            let e = by_rev.entry(r["revision"]).or_default();
            e.0 += 1;
            e.1 += (r["status"] == "200") as u64;
        }
        if r["status"] == "200" {
            h.record(micros(r["latency_s"]).max(1)).unwrap();
        }
    }
    let req = &summary["requests"];
    let u = |v: &serde_json::Value| v.as_u64().unwrap();
    let count = |s: &str| by_status.get(s).copied().unwrap_or(0);
    assert_eq!(n + u(&req["in_flight_at_end"]), u(&req["arrived"]));
    assert_eq!(count("200"), u(&req["completed"]));
    assert_eq!(count("503"), u(&req["status_503"]));
    assert_eq!(count("504"), u(&req["status_504"]));
    assert_eq!(count("404"), u(&req["status_404"]));
    assert_eq!(cold, u(&req["waited_on_cold_start"]));
    for rev in summary["revisions"].as_array().unwrap() {
        let name = rev["name"].as_str().unwrap();
        let (arrived, ok) = by_rev.get(name).copied().unwrap_or_default();
        let rq = &rev["requests"];
        assert_eq!(
            arrived + u(&rq["in_flight_at_end"]),
            u(&rq["arrived"]),
            "{name}"
        );
        assert_eq!(ok, u(&rq["completed"]), "{name}");
    }
    let l = &summary["latency"];
    let ms = |us: u64| us as f64 / 1000.0;
    let f = |k: &str| l[k].as_f64().unwrap();
    assert_eq!(ms(h.value_at_quantile(0.5)), f("p50_ms"));
    assert_eq!(ms(h.value_at_quantile(0.9)), f("p90_ms"));
    assert_eq!(ms(h.value_at_quantile(0.99)), f("p99_ms"));
    assert_eq!(ms(h.value_at_quantile(0.999)), f("p999_ms"));
    assert_eq!(ms(h.max()), f("max_ms"));
    // The summary merges per-revision histograms; the float sum of the
    // mean may then differ in its last bits.
    assert!((h.mean() / 1000.0 - f("mean_ms")).abs() <= 1e-9 * f("mean_ms"));
}

#[test]
fn the_request_rows_reaggregate_to_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("errors.toml");
    fs::write(&sc, ERRORS).unwrap();
    let run = run_cli(&sc, &dir.path().join("all"), &["--requests-csv"]);
    let rs = rows(run.requests.as_deref().unwrap());
    for status in ["200", "503", "504", "404"] {
        assert!(rs.iter().any(|r| r["status"] == status), "no {status} row");
    }
    assert_reaggregates(&rs, 0, &run.summary);
    // Components of a latency add up to it (each truncated to the µs).
    for r in rs.iter().filter(|r| r["status"] == "200") {
        let parts = micros(r["activator_queue_s"])
            + micros(r["queue_proxy_queue_s"])
            + micros(r["service_s"]);
        let total = micros(r["latency_s"]);
        assert!(total >= parts && total <= parts + 3, "{r:?}");
        assert_eq!(r["class"], r["revision"]);
    }
    assert!(rs
        .iter()
        .any(|r| r["source"] == "tagged" && r["tag"] == "t"));
    // With a warm-up, the summary is that of the rows arriving after it.
    let run = run_cli(
        &sc,
        &dir.path().join("warm"),
        &["--warmup", "30s", "--requests-csv"],
    );
    assert_reaggregates(
        &rows(run.requests.as_deref().unwrap()),
        30_000_000,
        &run.summary,
    );
}

#[test]
fn timeline_revisions_are_named_and_the_rows_reaggregate() {
    let dir = tempfile::tempdir().unwrap();
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/greeter-tutorial.toml");
    let run = run_cli(&sc, dir.path(), &["--requests-csv"]);
    let rs = rows(run.requests.as_deref().unwrap());
    assert!(rs.iter().any(|r| r["revision"] == "greeter-v2"));
    assert_reaggregates(&rs, 0, &run.summary);
}

#[test]
fn a_sample_moves_no_other_output_and_is_a_subset() {
    let dir = tempfile::tempdir().unwrap();
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/greeter-tutorial.toml");
    let plain = run_cli(&sc, &dir.path().join("plain"), &[]);
    let full = run_cli(&sc, &dir.path().join("full"), &["--requests-csv"]);
    let a = run_cli(
        &sc,
        &dir.path().join("a"),
        &["--requests-sample", "0.25", "--requests-csv"],
    );
    let b = run_cli(
        &sc,
        &dir.path().join("b"),
        &["--requests-sample", "0.25", "--requests-csv"],
    );
    for r in [&full, &a] {
        assert_eq!(r.summary_text, plain.summary_text);
        assert_eq!(r.timeseries, plain.timeseries);
    }
    let (full, a) = (full.requests.unwrap(), a.requests.unwrap());
    assert_eq!(a, b.requests.unwrap(), "the sample is seeded");
    let all: std::collections::BTreeSet<&str> = full.lines().collect();
    let n = full.lines().count() as f64 - 1.0;
    let k = a.lines().count() as f64 - 1.0;
    assert!(
        a.lines().all(|l| all.contains(l)),
        "every sampled row is a row"
    );
    // Binomial(n, 0.25): five standard deviations either way.
    let sd = (n * 0.25 * 0.75).sqrt();
    assert!((k - n * 0.25).abs() < 5.0 * sd, "{k} of {n}");
}

// ----------------------------------------------------------- decisions.csv

#[test]
fn the_decision_log_reproduces_desired_pods_every_second() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["greeter-tutorial", "burst-panic", "scale-from-zero"] {
        let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml"));
        let plain = run_cli(&sc, &dir.path().join(format!("{name}-plain")), &[]);
        let run = run_cli(&sc, &dir.path().join(name), &["--decisions"]);
        assert_eq!(run.summary_text, plain.summary_text, "{name}");
        assert_eq!(run.timeseries, plain.timeseries, "{name}");
        let dec = run.decisions.unwrap();
        let mut lines = dec.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = |c: &str| header.iter().position(|h| *h == c).unwrap();
        let (t, rev, kind, desired) = (col("time_s"), col("revision"), col("kind"), col("desired"));
        // Per revision: (time in ns, desired) of every tick, in order.
        let mut ticks: BTreeMap<String, Vec<(u64, i64)>> = BTreeMap::new();
        let mut kinds = BTreeMap::new();
        for l in lines {
            let v: Vec<&str> = l.split(',').collect();
            assert_eq!(v.len(), header.len(), "{name}: {l}");
            *kinds.entry(v[kind].to_string()).or_insert(0) += 1;
            if v[kind] == "tick" {
                let (s, ns) = v[t].split_once('.').unwrap();
                let at = s.parse::<u64>().unwrap() * 1_000_000_000 + ns.parse::<u64>().unwrap();
                ticks
                    .entry(v[rev].to_string())
                    .or_default()
                    .push((at, v[desired].parse().unwrap()));
            }
        }
        assert!(kinds.contains_key("tick") && kinds.contains_key("reconcile"));
        let mut ts = run.timeseries.lines();
        let th: Vec<&str> = ts.next().unwrap().split(',').collect();
        let tcol = |c: &str| th.iter().position(|h| *h == c).unwrap();
        let (tt, tr, td) = (tcol("time_s"), tcol("revision"), tcol("desired_pods"));
        let mut checked = 0;
        for l in ts {
            let v: Vec<&str> = l.split(',').collect();
            let at = v[tt].parse::<u64>().unwrap() * 1_000_000_000;
            let want: i64 = v[td].parse().unwrap();
            let got = ticks
                .get(v[tr])
                .and_then(|d| d.iter().take_while(|(t, _)| *t <= at).last())
                .map_or(-1, |(_, d)| *d);
            assert_eq!(got, want, "{name}: {} at {} s", v[tr], v[tt]);
            checked += 1;
        }
        assert!(checked >= 480, "{name}: {checked} seconds");
    }
}

// ------------------------------------------------------- sweeps and checks

/// FOUR_PODS for six minutes, judged on the requests that waited on a cold
/// start: every one of them arrives in the first minute.
fn short_with_slo(dir: &Path) -> std::path::PathBuf {
    let text = FOUR_PODS.replace("duration = \"40m\"", "duration = \"6m\"")
        + "[slo]\nmax-cold-start-wait-fraction = \"0.1%\"\n";
    let p = dir.join("slo.toml");
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn knsim_check_judges_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let sc = short_with_slo(dir.path());
    let whole = knsim().arg("check").arg(&sc).output().unwrap();
    assert_eq!(whole.status.code(), Some(1), "the cold start fails the SLO");
    let windowed = knsim()
        .arg("check")
        .arg(&sc)
        .args(["--set", "warmup=2m"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&windowed.stdout);
    assert_eq!(windowed.status.code(), Some(0), "{text}");
    assert!(
        text.contains("window     requests arriving from 120 s to 360 s"),
        "{text}"
    );
    assert!(!String::from_utf8_lossy(&whole.stdout).contains("window"));
}

#[test]
fn a_sweep_can_vary_the_warmup() {
    let dir = tempfile::tempdir().unwrap();
    let sc = short_with_slo(dir.path());
    let out = dir.path().join("sweep");
    knsim()
        .arg("sweep")
        .arg(&sc)
        .args(["--vary", "warmup=0s,2m", "--reps", "2", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let runs = fs::read_to_string(out.join("runs.csv")).unwrap();
    let mut lines = runs.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |c: &str| header.iter().position(|h| *h == c).unwrap();
    let (w, waited) = (col("warmup"), col("requests_waited_on_cold_start"));
    let mut seen = BTreeMap::new();
    for l in lines {
        let v: Vec<&str> = l.split(',').collect();
        let n: f64 = v[waited].parse().unwrap();
        seen.entry(v[w].to_string())
            .or_insert_with(Vec::new)
            .push(n);
    }
    assert!(seen["0s"].iter().all(|&n| n > 10.0), "{seen:?}");
    assert!(seen["2m"].iter().all(|&n| n == 0.0), "{seen:?}");
}

#[test]
fn the_report_charts_the_decision_log_and_lists_the_scaling_steps() {
    let dir = tempfile::tempdir().unwrap();
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/burst-panic.toml");
    let with = dir.path().join("with");
    let without = dir.path().join("without");
    run_cli(&sc, &with, &["--decisions", "--warmup", "30s", "--plot"]);
    run_cli(&sc, &without, &["--plot"]);
    assert!(!without.join("decisions.svg").exists());
    let svg = fs::read_to_string(with.join("decisions.svg")).unwrap();
    assert!(svg.contains("Autoscaler decisions") && svg.contains("<circle"));
    let html = fs::read_to_string(with.join("report.html")).unwrap();
    assert!(html.contains("Autoscaler decisions"));
    // burst-panic scales up in panic: its steps are listed with their inputs.
    let steps = html.split("Scaling steps").nth(1).unwrap();
    let n: usize = steps
        .split("<summary>")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    assert!(n >= 2, "{n} steps");
    assert!(steps.matches("<tr><td").count() >= 2);
    assert!(html.contains("arriving from 30 s"));
    assert!(html.contains("batch-means intervals over"));
    assert!(!fs::read_to_string(without.join("report.html"))
        .unwrap()
        .contains("Scaling steps"));
}

/// Eventing's delivery attempts are requests too: each gets a row, named
/// by its Trigger, as many as the summary counts attempts (this scenario
/// ends with none in flight and has no 404s).
#[test]
fn delivery_attempts_get_rows_named_by_their_trigger() {
    let dir = tempfile::tempdir().unwrap();
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/eventing-retries.toml");
    let run = run_cli(&sc, dir.path(), &["--requests-csv"]);
    let csv = run.requests.unwrap();
    let rows = rows(&csv);
    let triggers = run.summary["eventing"]["triggers"].as_array().unwrap();
    assert!(triggers.len() >= 2);
    let mut named = 0;
    for t in triggers {
        assert_eq!(t["in_flight_at_end"], 0);
        let name = t["name"].as_str().unwrap();
        let n = rows.iter().filter(|r| r["source"] == name).count();
        assert_eq!(n as u64, t["attempts"].as_u64().unwrap(), "trigger {name}");
        assert!(rows
            .iter()
            .filter(|r| r["source"] == name)
            .all(|r| r["tag"].is_empty()));
        named += n;
    }
    assert!(named > 0);
    let sent = run.summary["requests"]["arrived"].as_u64().unwrap();
    assert_eq!(rows.len() as u64, sent, "every request has a row");
}

/// A delivery attempt whose subscriber Service is gone is answered 404 at
/// the ingress. It has no request behind it, yet it gets a row, named by
/// its Trigger like every other attempt, and the 404 rows add up to the
/// summary's count.
#[test]
fn a_delivery_answered_404_gets_a_row_named_by_its_trigger() {
    let dir = tempfile::tempdir().unwrap();
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/eventing-retries.toml");
    let mut text = fs::read_to_string(base).unwrap();
    text.push_str("\n[[timeline]]\nat = \"10m\"\ndelete-service = \"orders\"\n");
    let sc = dir.path().join("deleted.toml");
    fs::write(&sc, text).unwrap();
    let run = run_cli(&sc, dir.path(), &["--requests-csv"]);
    let rows = rows(run.requests.as_deref().unwrap());
    let not_found = run.summary["requests"]["status_404"].as_u64().unwrap();
    assert!(
        not_found > 100,
        "the deletion must leave attempts without a route"
    );
    let rows_404: Vec<_> = rows.iter().filter(|r| r["status"] == "404").collect();
    assert_eq!(rows_404.len() as u64, not_found);
    let triggers = run.summary["eventing"]["triggers"].as_array().unwrap();
    let names: Vec<&str> = triggers
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(rows_404
        .iter()
        .all(|r| names.contains(&r["source"]) && r["tag"].is_empty()));
    // A 404 is retryable (the dispatcher's status rule), so once the
    // Service is gone every event takes its policy's 1 + retry attempts,
    // all 404s, and is then dead-lettered; events dead-lettered before the
    // deletion had no 404. Retries are the scenario's: the Broker's 5 for
    // "orders", 3 for "refunds", none for "report".
    for (t, retry) in triggers.iter().zip([5u64, 3, 0]) {
        let name = t["name"].as_str().unwrap();
        let n = rows.iter().filter(|r| r["source"] == name).count();
        assert_eq!(n as u64, t["attempts"].as_u64().unwrap(), "trigger {name}");
        let n_404 = rows_404.iter().filter(|r| r["source"] == name).count() as u64;
        let dead = t["dead_lettered"].as_u64().unwrap();
        assert!(
            retry * dead <= n_404 && n_404 <= (retry + 1) * dead,
            "trigger {name}: {n_404} 404s for {dead} dead-lettered events, retry {retry}"
        );
    }
    let first = rows_404
        .iter()
        .map(|r| micros(r["timestamp_s"]))
        .min()
        .unwrap();
    assert!(first >= 600_000_000, "no 404 before the deletion: {first}");
    let sent = run.summary["requests"]["arrived"].as_u64().unwrap();
    assert_eq!(rows.len() as u64, sent, "every request has a row");
}
