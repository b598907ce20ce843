//! Several Knative Services in one scenario: loading (`[[service]]` tables,
//! multi-Service manifests, per-function trace replay), routing within a
//! Service, the per-Service outputs and the rule that a single-Service
//! scenario's outputs do not change shape.

use knsim::model::{simulate, Summary, TimeseriesRow};
use knsim::output::{summary_json, CsvTimeseries};
use knsim::scenario::{load_scenario, load_scenario_str, Override, Scenario, ScenarioError};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

const TWO: &str = r#"
seed = 3
duration = "2m"
[cluster]
activators = 2
[[service]]
name = "alpha"
[[service.revision]]
name = "v1"
containerConcurrency = 10
service-time = { distribution = "constant", value = "50ms" }
[[service.workload]]
name = "a"
arrival = { process = "poisson", rate = 40.0 }
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
"#;

fn load(text: &str, sets: &[&str]) -> Result<Scenario, ScenarioError> {
    let overrides: Vec<Override> = sets.iter().map(|s| s.parse().unwrap()).collect();
    load_scenario_str(
        text,
        Path::new("s.toml"),
        "s",
        &root().join("scenarios"),
        &overrides,
    )
}

fn run(sc: &Scenario) -> (Summary, Vec<TimeseriesRow>) {
    let mut rows = Vec::new();
    let s = simulate(sc, sc.seed, &mut rows);
    (s, rows)
}

fn problems(text: &str, sets: &[&str]) -> String {
    match load(text, sets) {
        Ok(_) => panic!("the scenario should not load"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn services_own_their_revisions_and_names_repeat_across_services() {
    let sc = load(TWO, &[]).unwrap();
    assert!(sc.multi_service);
    let names: Vec<&str> = sc.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert_eq!(sc.services[0].revisions, 0..1);
    assert_eq!(sc.services[1].revisions, 1..3);
    assert_eq!(sc.services[0].sources, 0..1);
    assert_eq!(sc.services[1].sources, 1..1);
    // Both Services may call a revision "v1"; beta's route names its own.
    assert_eq!(sc.revisions[1].name, "v1");
    assert_eq!(sc.services[1].route.default, vec![("v1".to_string(), 100)]);
}

#[test]
fn a_source_reaches_only_its_own_service_and_outputs_name_services() {
    let sc = load(TWO, &[]).unwrap();
    let (s, rows) = run(&sc);
    let revs: Vec<&str> = s.revisions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(revs, ["alpha/v1", "beta/v1", "beta/v2"]);
    assert!(s.revisions[0].requests.arrived > 3_000);
    assert_eq!(s.revisions[1].requests.arrived, 0);
    assert_eq!(s.revisions[2].requests.arrived, 0);
    assert_eq!(s.services.len(), 2);
    assert_eq!(s.services[0].name, "alpha");
    assert_eq!(
        s.services[0].requests.arrived,
        s.revisions[0].requests.arrived
    );
    assert_eq!(s.services[0].revisions[0].observed_share, 1.0);
    assert_eq!(s.services[1].requests.arrived, 0);
    assert_eq!(s.services[1].revisions.len(), 2);
    // The per-Service latency merges only that Service's requests.
    assert_eq!(s.services[0].latency, s.revisions[0].latency);
    // One row per revision per second, each naming its Service.
    let r = rows.iter().find(|r| r.revision == "beta/v2").unwrap();
    assert_eq!(r.service.as_deref(), Some("beta"));
    assert_eq!(rows.len(), 3 * 120);
}

#[test]
fn beta_with_its_own_workload_splits_by_its_own_traffic_block() {
    let text = format!(
        "{TWO}{}",
        r#"[[service.traffic]]
revisionName = "v2"
percent = 0
tag = "next"
[[service.workload]]
name = "b"
arrival = { process = "poisson", rate = 20.0 }
[[service.workload]]
name = "b-next"
tag = "next"
arrival = { process = "constant", rate = 5.0 }
"#
    );
    let sc = load(&text, &[]).unwrap();
    let (s, _) = run(&sc);
    let b1 = s.revisions[1].requests.arrived;
    let b2 = s.revisions[2].requests.arrived;
    assert!(b1 > 2_000, "{b1}");
    // The tagged source reaches beta's v2 only: 5 req/s for 120 s.
    assert!((595..=600).contains(&b2), "{b2}");
    assert!(s.revisions[0].requests.arrived > 3_000);
}

#[test]
fn a_tag_of_another_service_is_not_a_route() {
    let text = format!(
        "{TWO}{}",
        r#"[[service.workload]]
name = "b"
tag = "nope"
arrival = { process = "constant", rate = 5.0 }
"#
    );
    let msg = problems(&text, &[]);
    assert!(msg.contains("service[1].workload[0].tag"), "{msg}");
    assert!(
        msg.contains("no traffic target of Service \"beta\""),
        "{msg}"
    );
}

#[test]
fn rules_of_several_services_are_located() {
    // A duplicate revision name within one Service, with its line.
    let text = TWO.replace("name = \"v2\"", "name = \"v1\"");
    let msg = problems(&text, &[]);
    assert!(msg.contains("service[1].revision[1].name"), "{msg}");
    assert!(msg.contains("duplicate revision name"), "{msg}");
    assert!(msg.contains("s.toml:"), "{msg}");
    // A traffic target naming a revision of another Service.
    let msg = problems(
        &TWO.replace("revisionName = \"v1\"", "revisionName = \"v9\""),
        &[],
    );
    assert!(msg.contains("service[1].traffic[0].revisionName"), "{msg}");
    // Top-level revisions next to [[service]] tables.
    let text = format!(
        "{TWO}{}",
        "[[revision]]\nservice-time = { distribution = \"constant\", value = \"1s\" }\n"
    );
    let msg = problems(&text, &[]);
    assert!(msg.contains("belongs to a [[service]] table"), "{msg}");
    // Duplicate and badly formed Service names.
    let msg = problems(&TWO.replace("\"beta\"", "\"alpha\""), &[]);
    assert!(
        msg.contains("service[1].name: duplicate Service name"),
        "{msg}"
    );
    let msg = problems(&TWO.replace("\"beta\"", "\"Beta\""), &[]);
    assert!(msg.contains("service[1].name"), "{msg}");
    assert!(msg.contains("DNS-1035"), "{msg}");
    // A timeline is refused, not ignored.
    let text = format!("{TWO}[[timeline]]\nat = \"1m\"\ndelete-revision = \"v2\"\n");
    let msg = problems(&text, &[]);
    assert!(msg.contains("timeline"), "{msg}");
}

#[test]
fn set_with_a_star_changes_every_service_and_a_name_only_one() {
    let key = "annotations.\"autoscaling.knative.dev/max-scale\"";
    let all = load(TWO, &[&format!("service.*.revision.*.{key}=2")]).unwrap();
    assert!(all
        .revisions
        .iter()
        .all(|r| r.annotations.max_scale == Some(2)));
    let one = load(TWO, &[&format!("service.beta.revision.v2.{key}=2")]).unwrap();
    let got: Vec<Option<i32>> = one
        .revisions
        .iter()
        .map(|r| r.annotations.max_scale)
        .collect();
    assert_eq!(got, [None, None, Some(2)]);
    let msg = match load(TWO, &["service.*.bogus=1"]) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("bogus key accepted"),
    };
    assert!(
        msg.contains("service[0].bogus (from --set service.*.bogus=1)"),
        "{msg}"
    );
    assert!(msg.contains("service[1].bogus"), "{msg}");
}

#[test]
fn a_multi_service_manifest_gives_one_service_per_name() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: config-autoscaler
  namespace: knative-serving
data:
  stable-window: "30s"
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: front
spec:
  template:
    spec:
      containerConcurrency: 5
      containers:
        - image: example.com/front
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: back
spec:
  template:
    metadata:
      name: back-blue
    spec:
      containers:
        - image: example.com/back
"#;
    std::fs::write(dir.path().join("all.yaml"), yaml).unwrap();
    let text = r#"
duration = "1m"
manifests = ["all.yaml"]
[app]
service-time = { distribution = "constant", value = "20ms" }
[[service]]
name = "back"
[[service.workload]]
name = "to-back"
arrival = { process = "constant", rate = 10.0 }
"#;
    let sc = load_scenario_str(text, Path::new("m.toml"), "m", dir.path(), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = sc.services.iter().map(|s| s.name.as_str()).collect();
    // Tables first, then manifest Services without a table.
    assert_eq!(names, ["back", "front"]);
    let revs: Vec<&str> = sc.revisions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(revs, ["back-blue", "front-00001"]);
    assert_eq!(sc.revisions[1].container_concurrency, 5);
    // The ConfigMap is cluster-wide.
    assert_eq!(sc.autoscaler.stable_window.as_secs_f64(), 30.0);
    let (s, _) = run(&sc);
    assert_eq!(s.services[0].requests.arrived, 600);
    assert_eq!(s.services[1].requests.arrived, 0);
}

#[test]
fn per_function_services_replay_exactly_their_functions() {
    let window = "from-minute = 541\nto-minute = 545\nspread = \"uniform\"\n";
    let per_fn = format!(
        r#"
duration = "5m"
[[service]]
name = "fn"
per-function = true
[[service.revision]]
service-time = {{ distribution = "constant", value = "10ms" }}
[[service.workload]]
name = "az"
[service.workload.arrival]
process = "azure-2019"
file = "traces/azure2019-sample.csv"
trigger = "http"
top = 3
{window}"#
    );
    let sc = load(&per_fn, &[]).unwrap();
    let names: Vec<&str> = sc.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["fn-1", "fn-2", "fn-3"]);
    let (s, _) = run(&sc);
    let per: Vec<u64> = s.services.iter().map(|v| v.requests.arrived).collect();
    // Busiest first.
    assert!(per[0] >= per[1] && per[1] >= per[2], "{per:?}");
    // The three Services together replay what one source replays for the
    // same three functions.
    let one = format!(
        r#"
duration = "5m"
[[revision]]
service-time = {{ distribution = "constant", value = "10ms" }}
[[workload]]
[workload.arrival]
process = "azure-2019"
file = "traces/azure2019-sample.csv"
trigger = "http"
top = 3
{window}"#
    );
    let (single, _) = run(&load(&one, &[]).unwrap());
    assert_eq!(per.iter().sum::<u64>(), single.requests.arrived);
    // Copies multiply the Services, each with the same minute counts.
    let sc = load(
        &per_fn.replace("per-function = true", "per-function = true\ncopies = 2"),
        &[],
    )
    .unwrap();
    let names: Vec<&str> = sc.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["fn-1-1", "fn-1-2", "fn-2-1", "fn-2-2", "fn-3-1", "fn-3-2"]
    );
    let (s, _) = run(&sc);
    assert_eq!(
        s.services[0].requests.arrived,
        s.services[1].requests.arrived
    );
    assert_eq!(s.services[0].requests.arrived, per[0]);
}

#[test]
fn per_function_needs_an_azure_replay() {
    let text = r#"
duration = "1m"
[[service]]
name = "fn"
per-function = true
[[service.revision]]
service-time = { distribution = "constant", value = "10ms" }
[[service.workload]]
arrival = { process = "poisson", rate = 1.0 }
"#;
    let msg = problems(text, &[]);
    assert!(msg.contains("service[0].workload[0].arrival"), "{msg}");
    assert!(msg.contains("azure-2019"), "{msg}");
}

fn outputs(sc: &Scenario, seed: u64) -> (String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timeseries.csv");
    let mut ts = CsvTimeseries::create(&path).unwrap();
    let s = simulate(sc, seed, &mut ts);
    ts.finish().unwrap();
    (summary_json(&s), std::fs::read(&path).unwrap())
}

#[test]
fn the_bundled_services_example_is_deterministic_and_names_services() {
    let path = root().join("scenarios/cluster-services.toml");
    let sc = load_scenario(&path, &["duration=2m".parse().unwrap()]).unwrap();
    let (a, ta) = outputs(&sc, 5);
    let (b, tb) = outputs(&sc, 5);
    assert_eq!(a, b);
    assert_eq!(ta, tb);
    assert!(a.contains("\"services\": ["), "{a}");
    let header = String::from_utf8_lossy(&ta)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(header.starts_with("time_s,service,revision,"), "{header}");
}

#[test]
fn a_single_service_scenario_keeps_its_output_shape() {
    let path = root().join("scenarios/canary-90-10.toml");
    let sc = load_scenario(&path, &["duration=30s".parse().unwrap()]).unwrap();
    assert!(!sc.multi_service);
    assert_eq!(sc.services.len(), 1);
    let (summary, ts) = outputs(&sc, 1);
    assert!(!summary.contains("\"services\""));
    let header = String::from_utf8_lossy(&ts)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(header.starts_with("time_s,revision,"), "{header}");
    assert!(!header.contains("service"), "{header}");
}

#[test]
fn the_azure_cluster_expands_to_64_services() {
    let path = root().join("scenarios/cluster-azure.toml");
    let sc = load_scenario(&path, &[]).unwrap();
    assert_eq!(sc.services.len(), 64);
    assert_eq!(sc.workloads.sources.len(), 64);
    assert_eq!(sc.services[63].name, "fn-16-4");
}

#[test]
fn the_report_has_a_services_page_only_with_several_services() {
    use knsim::plot::{run_charts, RunData};
    let sc = load(TWO, &[]).unwrap();
    let (summary, rows) = run(&sc);
    let charts = run_charts(&RunData { summary, rows }).unwrap();
    let svc = charts
        .iter()
        .find(|c| c.file_name == "services.svg")
        .expect("a services chart");
    // One small chart per Service, titled with its name.
    assert!(svc.svg.contains("alpha: "), "no alpha panel");
    assert!(svc.svg.contains("beta: 0 req"), "no beta panel");
    let path = root().join("scenarios/canary-90-10.toml");
    let one = load_scenario(&path, &["duration=30s".parse().unwrap()]).unwrap();
    let (summary, rows) = run(&one);
    let charts = run_charts(&RunData { summary, rows }).unwrap();
    assert!(charts.iter().all(|c| c.file_name != "services.svg"));
}

#[test]
fn a_timeline_annotation_names_its_service_and_changes_only_that_revision() {
    let text = format!(
        "{TWO}{}",
        r#"[[timeline]]
at = "60s"
annotate = { service = "alpha", revision = "v1", annotations = { "autoscaling.knative.dev/min-scale" = "20" } }
[[timeline]]
at = "60s"
autoscaler = { stable-window = "30s" }
"#
    );
    let sc = load(&text, &[]).unwrap();
    assert_eq!(sc.timeline.len(), 2);
    let (_, rows) = run(&sc);
    let ready = |rev: &str, t: u64| {
        rows.iter()
            .find(|r| r.revision == rev && r.time_s == t)
            .unwrap()
            .ready_pods
    };
    assert!(ready("alpha/v1", 55) < 20, "{}", ready("alpha/v1", 55));
    assert_eq!(ready("alpha/v1", 115), 20);
    // beta's v1 (same revision name, other Service) keeps its own settings.
    assert!(ready("beta/v1", 115) < 20);
}

#[test]
fn timeline_rules_with_several_services() {
    let step = |body: &str| format!("{TWO}[[timeline]]\nat = \"30s\"\n{body}\n");
    let ann = "annotations = { \"autoscaling.knative.dev/min-scale\" = \"2\" }";
    let msg = problems(
        &step(&format!("annotate = {{ revision = \"v1\", {ann} }}")),
        &[],
    );
    assert!(msg.contains("timeline[0].annotate.service"), "{msg}");
    assert!(msg.contains("is required"), "{msg}");
    let msg = problems(
        &step(&format!(
            "annotate = {{ service = \"alpha\", revision = \"v2\", {ann} }}"
        )),
        &[],
    );
    assert!(
        msg.contains("Service \"alpha\" has no revision \"v2\""),
        "{msg}"
    );
    let msg = problems(
        &step(&format!(
            "annotate = {{ service = \"gamma\", revision = \"v1\", {ann} }}"
        )),
        &[],
    );
    assert!(msg.contains("no Service is named \"gamma\""), "{msg}");
    // Changes to a Service's revisions or route say which Service.
    let msg = problems(&step("delete-revision = \"v2\""), &[]);
    assert!(msg.contains("timeline[0].service"), "{msg}");
    assert!(msg.contains("is required"), "{msg}");
    // With one Service, naming another is an error.
    let path = root().join("scenarios/canary-90-10.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = format!("{text}\n[[timeline]]\nat = \"1m\"\nannotate = {{ service = \"nope\", revision = \"shop-00001\", {ann} }}\n");
    let msg = problems(&text, &[]);
    assert!(
        msg.contains("the scenario has one Service, \"shop\""),
        "{msg}"
    );
}

#[test]
fn a_services_counts_are_the_sum_of_its_revisions_including_500s() {
    // alpha's application fails a third of its requests; beta's never does.
    let sc = load(TWO, &["service.alpha.revision.0.failure-probability=0.3"]).unwrap();
    let (s, _) = run(&sc);
    let alpha = &s.services[0];
    let revs: Vec<_> = s
        .revisions
        .iter()
        .filter(|r| r.name.starts_with("alpha/"))
        .collect();
    let sum_500: u64 = revs.iter().map(|r| r.requests.status_500).sum();
    assert!(sum_500 > 0, "no 500s drawn");
    assert_eq!(alpha.requests.status_500, sum_500);
    assert_eq!(
        alpha.requests.completed,
        revs.iter().map(|r| r.requests.completed).sum::<u64>()
    );
    assert_eq!(s.services[1].requests.status_500, 0);
}

/// With a measurement window, a Service's summary covers the window as its
/// revisions' do: its seconds in panic and with the activator in path, and
/// its latency, which for one revision is that revision's and for several
/// is bounded by theirs. Both Services start from zero pods, so the cold
/// start's slow requests and the activator's seconds fall before the
/// window and would show in whole-run figures.
#[test]
fn a_window_applies_to_each_service_as_to_its_revisions() {
    let text = format!(
        "{TWO}{}",
        r#"[[service.workload]]
name = "b"
arrival = { process = "poisson", rate = 40.0 }
"#
    )
    .replace("revisionName = \"v1\"\npercent = 100", "revisionName = \"v1\"\npercent = 50\n[[service.traffic]]\nrevisionName = \"v2\"\npercent = 50");
    let whole = run(&load(&text, &[]).unwrap()).0;
    let windowed = run(&load(&text, &["warmup=1m"]).unwrap()).0;
    assert!(windowed.window.is_some());
    let (alpha, beta) = (&windowed.services[0], &windowed.services[1]);
    let rev = |name: &str| windowed.revisions.iter().find(|r| r.name == name).unwrap();
    assert_eq!(alpha.latency, rev("alpha/v1").latency);
    assert_eq!(alpha.panic_seconds, rev("alpha/v1").panic_seconds);
    assert_eq!(
        alpha.activator_in_path_seconds,
        rev("alpha/v1").activator_in_path_seconds
    );
    // The whole run had the activator in path at the start, outside the window.
    assert!(
        whole.services[0].activator_in_path_seconds > alpha.activator_in_path_seconds,
        "{} vs {}",
        whole.services[0].activator_in_path_seconds,
        alpha.activator_in_path_seconds
    );
    let (v1, v2) = (&rev("beta/v1").latency, &rev("beta/v2").latency);
    assert!(v1.max_ms > 0.0 && v2.max_ms > 0.0, "both revisions served");
    assert_eq!(beta.latency.max_ms, v1.max_ms.max(v2.max_ms));
    assert!(beta.latency.p50_ms >= v1.p50_ms.min(v2.p50_ms));
    assert!(beta.latency.p50_ms <= v1.p50_ms.max(v2.p50_ms));
    // The cold start's requests set the whole run's maximum.
    assert!(whole.services[1].latency.max_ms > beta.latency.max_ms);
    assert_eq!(
        beta.requests.arrived,
        rev("beta/v1").requests.arrived + rev("beta/v2").requests.arrived
    );
}
