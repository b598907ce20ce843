//! Timeline actions in a scenario with several Services: each names the
//! Service it changes, and changes only that Service's revisions and route.

use assert_cmd::Command;
use knsim::model::{simulate, Summary, TimeseriesRow};
use knsim::scenario::{load_scenario_str, Scenario, TimelineAction};
use std::path::Path;

/// alpha splits 80/20 between two warm revisions; beta routes everything to
/// its v1 and keeps v2 out of its route.
const SPLIT: &str = r#"
seed = 11
duration = "3m"
[[service]]
name = "alpha"
[[service.revision]]
name = "v1"
containerConcurrency = 10
service-time = { distribution = "constant", value = "50ms" }
annotations = { "autoscaling.knative.dev/min-scale" = "1" }
[[service.revision]]
name = "v2"
containerConcurrency = 10
service-time = { distribution = "constant", value = "50ms" }
annotations = { "autoscaling.knative.dev/min-scale" = "1" }
[[service.traffic]]
revisionName = "v1"
percent = 80
[[service.traffic]]
revisionName = "v2"
percent = 20
[[service.workload]]
name = "a"
arrival = { process = "poisson", rate = 100.0 }
[[service]]
name = "beta"
[[service.revision]]
name = "v1"
containerConcurrency = 10
service-time = { distribution = "constant", value = "50ms" }
[[service.revision]]
name = "v2"
containerConcurrency = 10
service-time = { distribution = "constant", value = "50ms" }
[[service.traffic]]
revisionName = "v1"
percent = 100
[[service.workload]]
name = "b"
arrival = { process = "poisson", rate = 100.0 }
"#;

/// Two Services with one revision each, every request to the latest one
/// (no split draw), beta at a constant rate.
const PLAIN: &str = r#"
seed = 5
duration = "3m"
[[service]]
name = "alpha"
[[service.revision]]
name = "alpha-v1"
containerConcurrency = 10
service-time = { distribution = "constant", value = "50ms" }
[[service.workload]]
name = "a"
arrival = { process = "poisson", rate = 50.0 }
[[service]]
name = "beta"
[[service.revision]]
name = "beta-v1"
containerConcurrency = 10
service-time = { distribution = "constant", value = "50ms" }
[[service.workload]]
name = "b"
arrival = { process = "constant", rate = 10.0 }
"#;

fn load_in(text: &str, dir: &Path) -> Scenario {
    load_scenario_str(text, Path::new("s.toml"), "s", dir, &[]).unwrap()
}

fn load(text: &str) -> Scenario {
    load_in(text, Path::new(env!("CARGO_MANIFEST_DIR")))
}

fn run(sc: &Scenario) -> (Summary, Vec<TimeseriesRow>) {
    let mut rows = Vec::new();
    let s = simulate(sc, sc.seed, &mut rows);
    (s, rows)
}

/// Arrivals at revision `rev` (engine name) in seconds `from..to`.
fn arrivals(rows: &[TimeseriesRow], rev: &str, from: u64, to: u64) -> u64 {
    rows.iter()
        .filter(|r| r.revision == rev && (from..to).contains(&r.time_s))
        .map(|r| r.arrivals)
        .sum()
}

/// Share of `b` in the arrivals at `a` and `b`, with the bound that a
/// binomial share with probability `p` stays within (four standard
/// deviations of the measured count).
fn share(rows: &[TimeseriesRow], a: &str, b: &str, from: u64, to: u64, p: f64) -> (f64, f64) {
    let (na, nb) = (arrivals(rows, a, from, to), arrivals(rows, b, from, to));
    let n = (na + nb) as f64;
    assert!(n > 1000.0, "too few requests to measure a share: {n}");
    (nb as f64 / n, 4.0 * (p * (1.0 - p) / n).sqrt())
}

fn rows_of<'a>(rows: &'a [TimeseriesRow], svc: &str) -> Vec<&'a TimeseriesRow> {
    let mine: Vec<_> = rows
        .iter()
        .filter(|r| r.service.as_deref() == Some(svc))
        .collect();
    assert!(!mine.is_empty(), "no rows of Service {svc}");
    mine
}

#[test]
fn a_traffic_shift_moves_only_its_services_split() {
    let text = format!(
        "{SPLIT}{}",
        r#"[[timeline]]
at = "60s"
service = "beta"
traffic = [ { revisionName = "v1", percent = 50 }, { revisionName = "v2", percent = 50 } ]
"#
    );
    let sc = load(&text);
    assert_eq!(sc.timeline.len(), 1);
    assert_eq!(sc.timeline[0].service, 1);
    let (_, rows) = run(&sc);
    // Before the shift beta/v2 is out of the route; after, it has half.
    assert_eq!(arrivals(&rows, "beta/v2", 0, 60), 0);
    let (got, bound) = share(&rows, "beta/v1", "beta/v2", 61, 180, 0.5);
    assert!(
        (got - 0.5).abs() < bound,
        "beta/v2 share {got} (bound {bound})"
    );
    // alpha's 80/20 is the same before and after.
    for (from, to) in [(0, 60), (61, 180)] {
        let (got, bound) = share(&rows, "alpha/v1", "alpha/v2", from, to, 0.2);
        assert!(
            (got - 0.2).abs() < bound,
            "alpha/v2 share {got} in {from}..{to} (bound {bound})"
        );
    }
}

#[test]
fn a_new_revision_of_one_service_cold_starts_and_takes_its_traffic() {
    let text = format!(
        "{PLAIN}{}",
        r#"[[timeline]]
at = "60s"
service = "beta"
revision = { name = "beta-v2", containerConcurrency = 10, service-time = { distribution = "constant", value = "50ms" } }
"#
    );
    let sc = load(&text);
    let (summary, rows) = run(&sc);
    let beta = rows_of(&rows, "beta");
    let v2: Vec<_> = beta
        .iter()
        .filter(|r| r.revision == "beta/beta-v2")
        .collect();
    assert_eq!(
        v2.first().map(|r| r.time_s),
        Some(60),
        "rows begin at creation"
    );
    // Traffic stays on v1 until v2's first pod is ready, then moves.
    let first = v2
        .iter()
        .find(|r| r.arrivals > 0)
        .expect("beta-v2 gets traffic")
        .time_s;
    assert!(
        first > 60,
        "beta-v2 had traffic before its cold start: {first}"
    );
    assert!(arrivals(&rows, "beta/beta-v1", 60, first) > 0);
    assert_eq!(arrivals(&rows, "beta/beta-v1", first + 1, 180), 0);
    assert!(arrivals(&rows, "beta/beta-v2", first + 1, 180) > 1000);
    let s = &summary.services[1];
    assert_eq!(s.name, "beta");
    let names: Vec<&str> = s.revisions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["beta/beta-v1", "beta/beta-v2"]);
    assert!(s.revisions[1].cold_starts >= 1);
    // alpha is untouched: its rows are those of the run without the change.
    let (_, base) = run(&load(PLAIN));
    assert_eq!(rows_of(&rows, "alpha"), rows_of(&base, "alpha"));
}

#[test]
fn a_deleted_services_requests_get_404_and_its_pods_drain() {
    let text = format!("{PLAIN}[[timeline]]\nat = \"60s\"\ndelete-service = \"beta\"\n");
    let sc = load(&text);
    assert!(matches!(
        sc.timeline[0].actions[..],
        [TimelineAction::DeleteService]
    ));
    let (summary, rows) = run(&sc);
    let beta = &summary.services[1];
    // Every request from the deletion on is answered 404 at the ingress.
    let expected = (10.0 * (180.0 - 60.0)) as u64;
    let got = beta.requests.status_404;
    assert!(
        got.abs_diff(expected) <= 1,
        "404s {got}, expected {expected}"
    );
    assert_eq!(arrivals(&rows, "beta/beta-v1", 61, 180), 0);
    let last = rows.iter().rfind(|r| r.revision == "beta/beta-v1").unwrap();
    assert_eq!((last.replicas, last.ready_pods), (0, 0), "pods drained");
    assert_eq!(summary.services[0].requests.status_404, 0);
    let (_, base) = run(&load(PLAIN));
    assert_eq!(rows_of(&rows, "alpha"), rows_of(&base, "alpha"));
}

#[test]
fn an_apply_may_change_several_services_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let doc = |svc: &str| {
        format!(
            "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: {svc}\n\
             spec:\n  template:\n    metadata:\n      name: {svc}-v2\n    spec:\n      \
             containerConcurrency: 10\n"
        )
    };
    std::fs::write(
        dir.path().join("both.yaml"),
        format!("{}---\n{}", doc("alpha"), doc("beta")),
    )
    .unwrap();
    let text = format!(
        "{PLAIN}[app]\nservice-time = {{ distribution = \"constant\", value = \"50ms\" }}\n\
         [[timeline]]\nat = \"60s\"\napply = \"both.yaml\"\n"
    );
    let sc = load_in(&text, dir.path());
    let services: Vec<usize> = sc.timeline.iter().map(|s| s.service).collect();
    assert_eq!(services, [0, 1]);
    let (summary, _) = run(&sc);
    for (i, svc) in ["alpha", "beta"].iter().enumerate() {
        let names: Vec<&str> = summary.services[i]
            .revisions
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(
            names,
            [format!("{svc}/{svc}-v1"), format!("{svc}/{svc}-v2")]
        );
        let v2 = &summary.services[i].revisions[1];
        assert!(v2.requests.arrived > 0, "{svc}-v2 took no traffic");
    }
}

/// `knsim validate` of `SPLIT` with one timeline entry: exit code 2, and
/// the message names the file, the line and column of `key` from the
/// entry's `[[timeline]]` header on (a missing field is reported at its
/// table), and `rule`.
fn refused(entry: &str, key: &str, rule: &str) {
    let text = format!("{SPLIT}[[timeline]]\nat = \"30s\"\n{entry}\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, &text).unwrap();
    let out = Command::cargo_bin("knsim")
        .unwrap()
        .args(["validate", path.to_str().unwrap()])
        .assert()
        .code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    let (line, col) = text
        .lines()
        .enumerate()
        .skip_while(|(_, l)| *l != "[[timeline]]")
        .find_map(|(n, l)| l.find(key).map(|c| (n + 1, c + 1)))
        .expect("the key is in the entry");
    let at = format!("bad.toml:{line}:{col}");
    assert!(err.contains(&at), "no {at} in: {err}");
    assert!(err.contains(rule), "no {rule:?} in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn each_timeline_error_names_file_line_column_and_rule() {
    refused(
        "traffic = [ { revisionName = \"v2\", percent = 100 } ]",
        "timeline",
        "timeline[0].service: is required with several Services: which Service `traffic` \
         changes (Services: \"alpha\", \"beta\")",
    );
    refused(
        "service = \"gamma\"\ndelete-revision = \"v1\"",
        "service",
        "timeline[0].service: no Service is named \"gamma\" (Services: \"alpha\", \"beta\")",
    );
    refused(
        "service = \"beta\"\ntraffic = [ { revisionName = \"v9\", percent = 100 } ]",
        "traffic",
        "Service \"beta\" has no revision \"v9\" at this time",
    );
    refused(
        "delete-service = \"gamma\"",
        "delete-service",
        "no Service is named \"gamma\"",
    );
}

#[test]
fn the_bundled_rollout_moves_catalog_gradually_and_leaves_the_others_alone() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let text = std::fs::read_to_string(root.join("cluster-rollout.toml")).unwrap();
    let sc = load_in(&text, &root);
    let (_, rows) = run(&sc);
    let (v1, v2) = ("catalog/catalog-v1", "catalog/catalog-v2");
    // A gradual rollout: a small share first, all of it once it ends.
    let early = arrivals(&rows, v2, 60, 75) as f64;
    let early_all = early + arrivals(&rows, v1, 60, 75) as f64;
    assert!(
        early > 0.0 && early / early_all < 0.2,
        "{early} of {early_all}"
    );
    let mid = arrivals(&rows, v2, 110, 130) as f64;
    let mid_all = mid + arrivals(&rows, v1, 110, 130) as f64;
    assert!((0.2..0.8).contains(&(mid / mid_all)), "{mid} of {mid_all}");
    assert_eq!(arrivals(&rows, v1, 200, 360), 0);
    assert!(arrivals(&rows, v2, 200, 360) > 20_000);
    // checkout and search run as they do without the timeline.
    let cut = text.find("[[timeline]]").unwrap();
    let (_, base) = run(&load_in(&text[..cut], &root));
    for svc in ["checkout", "search"] {
        assert_eq!(rows_of(&rows, svc), rows_of(&base, svc), "{svc} changed");
    }
}

#[test]
fn a_workload_may_use_a_tag_that_a_later_traffic_block_of_its_service_defines() {
    let text = format!(
        "{}{}",
        SPLIT.replace("name = \"b\"\n", "name = \"b\"\ntag = \"later\"\n"),
        r#"[[timeline]]
at = "30s"
service = "beta"
traffic = [ { revisionName = "v1", percent = 100 }, { revisionName = "v2", percent = 0, tag = "later" } ]
"#
    );
    let (summary, rows) = run(&load(&text));
    // 404 until the tag exists, then every request reaches its revision.
    let not_found = summary.services[1].requests.status_404 as f64;
    let expected = 100.0 * 30.0;
    assert!(
        (not_found - expected).abs() < 4.0 * expected.sqrt(),
        "{not_found} 404s"
    );
    assert_eq!(arrivals(&rows, "beta/v2", 0, 30), 0);
    assert!(arrivals(&rows, "beta/v2", 31, 180) > 10_000);
    assert_eq!(arrivals(&rows, "beta/v1", 0, 180), 0);
    // A tag no traffic block ever defines is still an error.
    let never = SPLIT.replace("name = \"b\"\n", "name = \"b\"\ntag = \"never\"\n");
    let err = load_scenario_str(&never, Path::new("s.toml"), "s", Path::new("."), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("has tag \"never\""), "{err}");
}

#[test]
fn requests_csv_names_timeline_revisions_with_their_service() {
    let text = format!(
        "{PLAIN}[[timeline]]\nat = \"60s\"\nservice = \"beta\"\n\
         revision = {{ name = \"beta-v2\", service-time = {{ distribution = \"constant\", value = \"50ms\" }} }}\n"
    );
    let names = knsim::output::revision_names(&load(&text));
    assert_eq!(names, ["alpha/alpha-v1", "beta/beta-v1", "beta/beta-v2"]);
}
