//! Invalid manifests and timelines are rejected with Knative's rules, and
//! every error names the file, the document, the field and the rule.

use assert_cmd::Command;
use knsim::scenario::{load_scenario_str, Origin, Problem, ScenarioError};
use std::path::Path;

const SERVICE: &str = "apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: greeter
spec:
  template:
    metadata:
      name: greeter-v1
      annotations:
        autoscaling.knative.dev/min-scale: \"1\"
    spec:
      containers:
        - image: greeter:1
  traffic:
    - tag: current
      revisionName: greeter-v1
      percent: 50
    - tag: latest
      latestRevision: true
      percent: 50
";

const CONFIG_MAP: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: config-autoscaler
  namespace: knative-serving
data:
  stable-window: \"60s\"
";

const SCENARIO: &str = r#"
duration = "2m"
manifests = ["svc.yaml"]
[app]
service-time = { distribution = "constant", value = "10ms" }
[[workload]]
name = "w"
arrival = { process = "poisson", rate = 5.0 }
"#;

/// Loads SCENARIO (plus `extra` TOML) with `svc.yaml` = `yaml` and
/// `v2.yaml` = `v2`, returning the problems.
fn problems(yaml: &str, extra: &str, v2: &str) -> Vec<Problem> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("svc.yaml"), yaml).unwrap();
    std::fs::write(dir.path().join("v2.yaml"), v2).unwrap();
    let text = format!("{SCENARIO}{extra}");
    match load_scenario_str(&text, Path::new("s.toml"), "s", dir.path(), &[]) {
        Ok(_) => Vec::new(),
        Err(ScenarioError::Invalid { problems, .. }) => problems,
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn one(ps: &[Problem]) -> &Problem {
    assert_eq!(ps.len(), 1, "expected one problem, got {ps:#?}");
    &ps[0]
}

fn in_manifest(p: &Problem, file: &str, document: usize) {
    match &p.origin {
        Origin::Manifest {
            file: f,
            document: d,
            ..
        } => assert_eq!((f.as_path(), *d), (Path::new(file), document), "{p}"),
        other => panic!("expected a manifest origin, got {other:?}: {p}"),
    }
}

#[test]
fn the_valid_manifest_loads() {
    assert!(problems(SERVICE, "", SERVICE).is_empty());
}

#[test]
fn percents_must_sum_to_100() {
    let ps = problems(
        &SERVICE.replace(
            "percent: 50\n    - tag: latest",
            "percent: 40\n    - tag: latest",
        ),
        "",
        SERVICE,
    );
    let p = one(&ps);
    in_manifest(p, "svc.yaml", 1);
    assert_eq!(p.field, "spec.traffic");
    assert_eq!(p.rule, "Traffic targets sum to 90, want 100");
    assert_eq!(
        p.to_string(),
        "svc.yaml:14 (document 1): spec.traffic: Traffic targets sum to 90, want 100"
    );
}

#[test]
fn tags_must_be_unique() {
    let ps = problems(&SERVICE.replace("tag: latest", "tag: current"), "", SERVICE);
    let p = one(&ps);
    in_manifest(p, "svc.yaml", 1);
    assert_eq!(p.field, "spec.traffic[1].tag");
    assert!(
        p.rule.starts_with("Multiple definitions for \"current\""),
        "{p}"
    );
}

#[test]
fn revision_name_with_latest_revision_true_is_rejected() {
    let yaml = SERVICE.replace(
        "revisionName: greeter-v1\n",
        "revisionName: greeter-v1\n      latestRevision: true\n",
    );
    let p = one(&problems(&yaml, "", SERVICE)).clone();
    assert_eq!(p.field, "spec.traffic[0].latestRevision");
    assert_eq!(
        p.rule,
        "may not set revisionName \"greeter-v1\" when latestRevision is true"
    );
}

#[test]
fn annotation_values_follow_knative_bounds_in_the_document_they_are_in() {
    // A ConfigMap first, so the Service is the second document.
    let yaml = format!(
        "{CONFIG_MAP}---\n{}",
        SERVICE.replace(
            "autoscaling.knative.dev/min-scale: \"1\"",
            "autoscaling.knative.dev/window: \"5s\""
        )
    );
    let ps = problems(&yaml, "", SERVICE);
    let p = one(&ps);
    in_manifest(p, "svc.yaml", 2);
    assert_eq!(
        p.field,
        "spec.template.metadata.annotations.\"autoscaling.knative.dev/window\""
    );
    assert_eq!(p.rule, "expected 6s <= 5s <= 1h0m0s");
}

#[test]
fn unknown_kinds_and_api_versions_are_rejected() {
    let ps = problems(
        &format!("{SERVICE}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n"),
        "",
        SERVICE,
    );
    let p = one(&ps);
    in_manifest(p, "svc.yaml", 2);
    assert_eq!(p.field, "kind");
    assert!(p.rule.contains("unsupported kind \"Deployment\""), "{p}");
    let ps = problems(
        &SERVICE.replace("serving.knative.dev/v1", "serving.knative.dev/v1beta1"),
        "",
        SERVICE,
    );
    assert_eq!(one(&ps).field, "apiVersion");
}

#[test]
fn config_maps_from_manifests_are_validated_like_the_toml_tables() {
    let yaml = format!(
        "{}---\n{SERVICE}",
        CONFIG_MAP.replace("\"60s\"", "\"60 seconds\"")
    );
    let ps = problems(&yaml, "", SERVICE);
    assert!(!ps.is_empty());
    assert!(
        ps.iter().any(|p| p.field.contains("stable-window")),
        "{ps:#?}"
    );
}

#[test]
fn a_changed_template_needs_a_new_name() {
    // v2.yaml changes the image but keeps the revision name greeter-v1.
    let v2 = SERVICE.replace("greeter:1", "greeter:2");
    let ps = problems(
        SERVICE,
        "[[timeline]]\nat = \"1m\"\napply = \"v2.yaml\"\n",
        &v2,
    );
    let p = one(&ps);
    in_manifest(p, "v2.yaml", 1);
    assert_eq!(p.field, "spec.template.metadata.name");
    assert!(p.rule.contains("already exists"), "{p}");
    // Without a name, Knative generates one from the generation.
    let unnamed = v2.replace("      name: greeter-v1\n", "");
    assert!(problems(
        SERVICE,
        "[[timeline]]\nat = \"1m\"\napply = \"v2.yaml\"\n",
        &unnamed
    )
    .is_empty());
}

#[test]
fn timeline_actions_are_checked_against_the_state_at_their_time() {
    let step = |body: &str| format!("[[timeline]]\nat = \"1m\"\n{body}\n");
    // A revision that does not exist yet.
    let ps = problems(
        SERVICE,
        &step("traffic = [{ revisionName = \"greeter-v9\", percent = 100 }]"),
        SERVICE,
    );
    assert_eq!(one(&ps).field, "timeline[0].traffic[0].revisionName");
    // Bad traffic in TOML uses the same webhook rules.
    let ps = problems(
        SERVICE,
        &step("traffic = [{ revisionName = \"greeter-v1\", percent = 60 }]"),
        SERVICE,
    );
    assert_eq!(one(&ps).rule, "Traffic targets sum to 60, want 100");
    // The newest revision cannot be deleted (the Configuration recreates it).
    let ps = problems(SERVICE, &step("delete-revision = \"greeter-v1\""), SERVICE);
    assert!(one(&ps).rule.contains("newest revision"));
    // Annotations are checked with the ConfigMaps in effect.
    let ps = problems(
        SERVICE,
        &step("annotate = { revision = \"greeter-v1\", annotations = { \"autoscaling.knative.dev/window\" = \"5s\" } }"),
        SERVICE,
    );
    assert_eq!(one(&ps).rule, "expected 6s <= 5s <= 1h0m0s");
    // After the end of the run.
    let ps = problems(
        SERVICE,
        "[[timeline]]\nat = \"5m\"\ntraffic = []\n",
        SERVICE,
    );
    assert_eq!(one(&ps).field, "timeline[0].at");
}

#[test]
fn knsim_run_exits_2_and_names_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("svc.yaml"),
        SERVICE.replace("tag: latest", "tag: current"),
    )
    .unwrap();
    std::fs::write(dir.path().join("s.toml"), SCENARIO).unwrap();
    Command::cargo_bin("knsim")
        .unwrap()
        .arg("run")
        .arg(dir.path().join("s.toml"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "svc.yaml:14 (document 1): spec.traffic[1].tag: Multiple definitions",
        ));
}
