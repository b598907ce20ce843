//! The HPA class in the engine: Knative's treatment of HPA-class revisions
//! (no scale to zero, min/max-scale as the HPA's bounds, the activator only
//! while no pod is ready), the resource model's outputs, and the class as a
//! sweep dimension.

use assert_cmd::Command;
use knsim::model::{simulate, Summary, TimeseriesRow};
use knsim::scenario::load_scenario_str;
use std::path::Path;

const HPA: &str = r#"
service = "app"
seed = 3
duration = "10m"
[[revision]]
name = "app-00001"
containerConcurrency = 0
service-time = { distribution = "constant", value = "10ms" }
[revision.resources]
requests = { cpu = "475m" }
[revision.annotations]
"autoscaling.knative.dev/class" = "hpa.autoscaling.knative.dev"
"autoscaling.knative.dev/target" = "50"
"#;

fn run(text: &str, sets: &[(&str, &str)]) -> (Summary, Vec<TimeseriesRow>) {
    let ov: Vec<_> = sets
        .iter()
        .map(|(k, v)| knsim::scenario::Override {
            key: k.to_string(),
            value: v.to_string(),
        })
        .collect();
    let sc = load_scenario_str(text, Path::new("h.toml"), "h", Path::new("."), &ov)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut rows = Vec::new();
    let s = simulate(&sc, sc.seed, &mut rows);
    (s, rows)
}

/// 95 req/s for 4 minutes, then nothing.
fn on_then_off() -> String {
    format!(
        "{HPA}[[workload]]\nname = \"w\"\narrival = {{ process = \"schedule\", interpolation = \"step\", points = [[\"0s\", 95], [\"240s\", 0]] }}\n"
    )
}

#[test]
fn the_hpa_scales_with_cpu_and_never_to_zero() {
    let (s, rows) = run(&on_then_off(), &[]);
    // 95 req/s × 10 ms = 0.95 cores; at 50 % of 0.5 core (475m + 25m):
    // 3.8 pods, so 4 (at 47.5 %; 3 or 5 would be outside the band).
    let at = |t: u64| rows.iter().find(|r| r.time_s == t).unwrap();
    assert_eq!(at(230).replicas, 4, "{:?}", at(230));
    let u = at(230).cpu_utilization.flatten().unwrap();
    assert!((45.0..=55.0).contains(&u), "utilization {u}");
    // Idle for six minutes: the KPA would be at zero; the HPA keeps one.
    assert_eq!(at(600).replicas, 1);
    assert!(rows.iter().all(|r| r.replicas >= 1));
    let h = s.revisions[0].hpa.as_ref().expect("an HPA summary");
    assert_eq!(h.metric, "cpu");
    assert_eq!(h.target, 50.0);
    assert!(h.scale_ups >= 1 && h.scale_downs >= 1, "{h:?}");
    assert_eq!(h.max_desired_replicas, 4);
    // The activator is in the path only before the first pod is ready.
    assert!(s.activator_in_path_seconds <= 10, "{s:?}");
    assert_eq!(s.panic_seconds, 0);
}

#[test]
fn min_and_max_scale_bound_the_hpa() {
    let text = on_then_off();
    let (_, rows) = run(
        &text,
        &[
            (
                "revision.0.annotations.\"autoscaling.knative.dev/min-scale\"",
                "2",
            ),
            (
                "revision.0.annotations.\"autoscaling.knative.dev/max-scale\"",
                "3",
            ),
        ],
    );
    assert!(rows.iter().all(|r| r.replicas <= 3));
    assert_eq!(rows.iter().map(|r| r.replicas).max(), Some(3));
    assert_eq!(rows.last().unwrap().replicas, 2, "min-scale holds at idle");
}

#[test]
fn a_cpu_limit_slows_requests_on_a_saturated_pod() {
    // One pod pinned at 0.95 cores of demand against a 250m limit.
    let text = format!(
        "{HPA}[[workload]]\nname = \"w\"\narrival = {{ process = \"poisson\", rate = 95.0 }}\n"
    );
    let pin = [
        (
            "revision.0.annotations.\"autoscaling.knative.dev/max-scale\"",
            "1",
        ),
        ("duration", "2m"),
    ];
    let (free, _) = run(&text, &pin);
    let mut limited = pin.to_vec();
    limited.push(("revision.0.resources.limits.cpu", "\"250m\""));
    limited.push(("revision.0.resources.requests.cpu", "\"225m\""));
    let (slow, rows) = run(&text, &limited);
    assert!(
        slow.latency.p50_ms > 2.0 * free.latency.p50_ms,
        "{} vs {}",
        slow.latency.p50_ms,
        free.latency.p50_ms
    );
    // The throttled pod uses no more than its limit: 250m of a 250m request.
    let u = rows[60].cpu_utilization.flatten().unwrap();
    assert!(u <= 101.0, "{u}");
}

#[test]
fn kpa_only_runs_have_no_resource_columns() {
    let text = on_then_off().replace(
        "\"autoscaling.knative.dev/class\" = \"hpa.autoscaling.knative.dev\"\n",
        "",
    );
    let (s, rows) = run(&text, &[("duration", "1m")]);
    assert!(s.revisions[0].hpa.is_none());
    assert!(rows
        .iter()
        .all(|r| r.cpu_utilization.is_none() && r.hpa_desired_replicas.is_none()));
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("\"hpa\""));
}

#[test]
fn the_class_is_a_sweep_dimension() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::cargo_bin("knsim")
        .unwrap()
        .current_dir(root)
        .args([
            "sweep",
            "scenarios/kpa-vs-hpa.toml",
            "--set",
            "duration=10m",
            "--vary",
            "revision.0.annotations.\"autoscaling.knative.dev/class\"=kpa.autoscaling.knative.dev,hpa.autoscaling.knative.dev",
            "--quiet",
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .success();
    let csv = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2);
    let kpa = rows.iter().find(|r| r[0].starts_with("kpa")).unwrap();
    let hpa = rows.iter().find(|r| r[0].starts_with("hpa")).unwrap();
    let f = |r: &Vec<&str>, c: &str| r[col(c)].parse::<f64>().unwrap();
    // Same traffic, different autoscalers.
    assert_eq!(
        f(kpa, "requests_arrived_mean"),
        f(hpa, "requests_arrived_mean")
    );
    assert_ne!(f(kpa, "pod_seconds_mean"), f(hpa, "pod_seconds_mean"));
    // The KPA's panic mode and activator buffering do not exist for the HPA.
    assert!(f(kpa, "activator_in_path_seconds_mean") > 100.0);
    assert!(f(hpa, "activator_in_path_seconds_mean") < 10.0);
    assert_eq!(f(hpa, "panic_seconds_mean"), 0.0);
}

#[test]
fn usage_alone_adds_columns_but_changes_nothing_else() {
    let kpa = on_then_off().replace(
        "\"autoscaling.knative.dev/class\" = \"hpa.autoscaling.knative.dev\"\n",
        "",
    );
    let set = [("duration", "3m")];
    let (plain, plain_rows) = run(&kpa, &set);
    // The table belongs to the revision: it goes before the workload.
    let with = kpa.replacen(
        "[[workload]]",
        "[revision.usage]\nmemory-baseline = \"64Mi\"\n[[workload]]",
        1,
    );
    let (used, used_rows) = run(&with, &set);
    assert_eq!(plain, used, "summaries differ");
    assert_eq!(plain_rows.len(), used_rows.len());
    for (a, b) in plain_rows.iter().zip(&used_rows) {
        assert!(b.cpu_utilization.is_some());
        let b = TimeseriesRow {
            cpu_utilization: None,
            ..b.clone()
        };
        assert_eq!(*a, b);
    }
    // 95 req/s × 10 ms = 0.95 cores over the ready pods' 0.5-core requests.
    let busy: f64 = used_rows[60..170]
        .iter()
        .map(|r| r.cpu_utilization.flatten().unwrap() * r.ready_pods as f64 * 0.5 / 100.0)
        .sum::<f64>()
        / 110.0;
    assert!((0.85..1.05).contains(&busy), "{busy} cores");
}

#[test]
fn bad_usage_is_reported_with_its_field() {
    let text = on_then_off().replacen(
        "[[workload]]",
        "[revision.usage]\nmemory-per-request = \"lots\"\n[[workload]]",
        1,
    );
    let err = load_scenario_str(&text, Path::new("h.toml"), "h", Path::new("."), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("usage.memory-per-request"), "{err}");
    assert!(err.contains("quantity"), "{err}");
}

#[test]
fn controller_flags_are_scenario_settings() {
    let text = on_then_off();
    let (s15, _) = run(&text, &[]);
    let (s30, _) = run(&text, &[("hpa.sync-period", "\"30s\"")]);
    let syncs = |s: &Summary| s.revisions[0].hpa.as_ref().unwrap().syncs;
    // 10 minutes: a sync at 15 s, 30 s, … 585 s (the one due at the end
    // itself does not run), or every 30 s up to 570 s.
    assert_eq!(syncs(&s15), 39);
    assert_eq!(syncs(&s30), 19);
    let bad = format!("{text}[hpa]\ntolerance = 1.5\nsync-period = \"0s\"\n");
    let err = load_scenario_str(&bad, Path::new("h.toml"), "h", Path::new("."), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("hpa.tolerance"), "{err}");
    assert!(err.contains("hpa.sync-period"), "{err}");
}
