//! The greeter tutorial as a timeline: the revisions, tags and traffic
//! shares each stage must produce.

use knsim::knative::route::compute_traffic;
use knsim::model::{simulate, TimeseriesRow};
use knsim::scenario::{load_scenario, load_scenario_str, Scenario, TimelineAction};
use knsim::sim::SimTime;
use std::path::{Path, PathBuf};

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn tutorial() -> Scenario {
    load_scenario(&scenarios().join("greeter-tutorial.toml"), &[]).expect("tutorial loads")
}

/// Arrivals per revision over seconds `from..=to` (rows close each second).
fn arrivals(rows: &[TimeseriesRow], rev: &str, from: u64, to: u64) -> u64 {
    rows.iter()
        .filter(|r| r.revision == rev && (from..=to).contains(&r.time_s))
        .map(|r| r.arrivals)
        .sum()
}

fn first_ready(rows: &[TimeseriesRow], rev: &str) -> u64 {
    rows.iter()
        .find(|r| r.revision == rev && r.ready_pods > 0)
        .map(|r| r.time_s)
        .expect("the revision becomes ready")
}

/// `observed` is within `k` standard deviations of a binomial share `p` of `n`.
fn within_binomial(observed: u64, n: u64, p: f64, k: f64) -> bool {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt().max(1.0);
    (observed as f64 - mean).abs() <= k * sd
}

#[test]
fn each_stage_has_the_expected_revisions_tags_and_split() {
    let sc = tutorial();
    assert_eq!(sc.service, "greeter");
    let names: Vec<&str> = sc.revisions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["greeter-v1"]);
    assert_eq!(sc.revisions[0].message.as_deref(), Some("Hi"));
    assert_eq!(sc.route.default, vec![("greeter-v1".to_string(), 100)]);
    let at: Vec<SimTime> = sc.timeline.iter().map(|s| s.at).collect();
    assert_eq!(
        at,
        [
            SimTime::from_secs(120),
            SimTime::from_secs(240),
            SimTime::from_secs(360)
        ]
    );

    // 2m: applying service-v2.yaml stamps greeter-v2 and routes 100 % to the
    // latest ready revision.
    let s = &sc.timeline[0].actions;
    assert_eq!(s.len(), 2);
    let TimelineAction::CreateRevision(v2) = &s[0] else {
        panic!("expected a new revision first, got {:?}", s[0])
    };
    assert_eq!(v2.name, "greeter-v2");
    assert_eq!(v2.message.as_deref(), Some("Namaste"));
    let TimelineAction::Traffic { targets, .. } = &s[1] else {
        panic!("expected a traffic change")
    };
    let r = compute_traffic(targets, Some("greeter-v2")).unwrap();
    assert_eq!(r.default, vec![("greeter-v2".to_string(), 100)]);

    // 4m: the pinned manifest has the same template, so no new revision.
    let s = &sc.timeline[1].actions;
    assert_eq!(
        s.len(),
        1,
        "an unchanged template must not stamp a revision"
    );
    let TimelineAction::Traffic { targets, .. } = &s[0] else {
        panic!("expected a traffic change")
    };
    let r = compute_traffic(targets, Some("greeter-v2")).unwrap();
    assert_eq!(r.default, vec![("greeter-v1".to_string(), 100)]);
    assert_eq!(r.tags["current"], "greeter-v1");
    assert_eq!(r.tags["prev"], "greeter-v2");
    assert_eq!(r.tags["latest"], "greeter-v2");

    // 6m: 50/50, tags kept.
    let TimelineAction::Traffic { targets, .. } = &sc.timeline[2].actions[0] else {
        panic!("expected a traffic change")
    };
    let r = compute_traffic(targets, Some("greeter-v2")).unwrap();
    assert_eq!(
        r.default,
        vec![
            ("greeter-v1".to_string(), 50),
            ("greeter-v2".to_string(), 50)
        ]
    );
    assert_eq!(r.tags.len(), 3);
}

#[test]
fn traffic_shares_per_stage() {
    let sc = tutorial();
    let mut rows: Vec<TimeseriesRow> = Vec::new();
    let summary = simulate(&sc, sc.seed, &mut rows);
    assert_eq!(summary.requests.status_404, 0);

    // Stage 1: only greeter-v1 exists.
    assert!(rows
        .iter()
        .all(|r| r.revision == "greeter-v1" || r.time_s >= 120));
    assert!(arrivals(&rows, "greeter-v1", 1, 120) > 2000);

    // Stage 2: greeter-v1 keeps everything until greeter-v2 is ready, then
    // nothing (latestRevision moves at once without a rollout duration).
    let ready = first_ready(&rows, "greeter-v2");
    assert!((121..140).contains(&ready), "greeter-v2 ready at {ready}");
    assert_eq!(arrivals(&rows, "greeter-v2", 121, ready - 1), 0);
    assert_eq!(arrivals(&rows, "greeter-v1", ready + 1, 240), 0);
    assert!(arrivals(&rows, "greeter-v2", ready + 1, 240) > 1500);

    // Stage 3: the main address is pinned to greeter-v1; only the
    // latest-checks (0.5/s through the latest tag) reach greeter-v2.
    let v2 = arrivals(&rows, "greeter-v2", 242, 360);
    let v1 = arrivals(&rows, "greeter-v1", 242, 360);
    let poisson = |n: u64, mean: f64| (n as f64 - mean).abs() <= 5.0 * mean.sqrt();
    assert!(poisson(v2, 0.5 * 119.0), "latest-checks {v2}");
    assert!(poisson(v1, 20.0 * 119.0), "main {v1}");

    // Stage 4: 50/50 of the main traffic (20/s) plus the latest-checks on v2.
    let v1 = arrivals(&rows, "greeter-v1", 362, 600);
    let v2 = arrivals(&rows, "greeter-v2", 362, 600);
    let p = 0.5 * 20.0 / 20.5;
    assert!(
        within_binomial(v1, v1 + v2, p, 5.0),
        "v1 {v1} of {}: expected share {p}",
        v1 + v2
    );
}

/// Runs the tutorial with one tagged client (5/s from 4m) instead of its
/// workloads.
fn only_tag(tag: &str) -> Vec<TimeseriesRow> {
    let text = std::fs::read_to_string(scenarios().join("greeter-tutorial.toml")).unwrap();
    let cut = text.find("[[workload]]").expect("tutorial has workloads");
    let text = format!(
        "{}[[workload]]\nname = \"{tag}-checks\"\ntag = \"{tag}\"\narrival = {{ process = \"schedule\", \
         interpolation = \"step\", points = [[\"0s\", 0], [\"4m\", 5]] }}\n",
        &text[..cut]
    );
    let sc = load_scenario_str(&text, Path::new("tagged.toml"), "tagged", &scenarios(), &[])
        .expect("scenario loads");
    let mut rows = Vec::new();
    let s = simulate(&sc, 9, &mut rows);
    assert_eq!(s.requests.status_404, 0, "tag {tag} must resolve");
    assert!(s.requests.arrived > 1000);
    rows
}

#[test]
fn tag_addresses_send_everything_to_their_revision() {
    // From 4m to the end, through both the pinned and the 50/50 stage.
    for (tag, rev, other) in [
        ("current", "greeter-v1", "greeter-v2"),
        ("prev", "greeter-v2", "greeter-v1"),
        ("latest", "greeter-v2", "greeter-v1"),
    ] {
        let rows = only_tag(tag);
        assert!(arrivals(&rows, rev, 241, 600) > 1500, "{tag}");
        assert_eq!(
            arrivals(&rows, other, 241, 600),
            0,
            "{tag} leaked to {other}"
        );
    }
}

#[test]
fn same_seed_same_results() {
    let sc = tutorial();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut sa = simulate(&sc, 3, &mut a);
    let mut sb = simulate(&sc, 3, &mut b);
    sa.performance = Default::default();
    sb.performance = Default::default();
    assert_eq!(
        serde_json::to_string(&sa).unwrap(),
        serde_json::to_string(&sb).unwrap()
    );
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

#[test]
fn knsim_run_accepts_the_shipped_timeline_scenarios() {
    let out = tempfile::tempdir().unwrap();
    for name in ["greeter-tutorial", "canary-rollout"] {
        let dir = out.path().join(name);
        assert_cmd::Command::cargo_bin("knsim")
            .unwrap()
            .arg("run")
            .arg(scenarios().join(format!("{name}.toml")))
            .arg("--out")
            .arg(&dir)
            .assert()
            .success();
        let csv = std::fs::read_to_string(dir.join("timeseries.csv")).unwrap();
        // Both scenarios create a second revision mid-run.
        let revisions: std::collections::BTreeSet<&str> = csv
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').nth(1))
            .collect();
        assert_eq!(revisions.len(), 2, "{name}: {revisions:?}");
    }
}
