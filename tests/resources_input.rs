//! Container resources: requests and limits from the scenario file and from
//! manifests, and the queue-proxy sidecar that Knative adds to every pod.

use knsim::kubernetes::resources::PodRequest;
use knsim::scenario::{load_scenario, load_scenario_str, Override, Scenario, ScenarioError};
use std::path::Path;

const BASE: &str = r#"
name = "t"
duration = "1m"
[[revision]]
name = "r1"
service-time = { distribution = "exponential", mean = "20ms" }
[[workload]]
arrival = { process = "poisson", rate = 5.0 }
"#;

fn load(text: &str, set: &[&str]) -> Result<Scenario, ScenarioError> {
    let set: Vec<Override> = set.iter().map(|s| s.parse().unwrap()).collect();
    load_scenario_str(text, Path::new("t.toml"), "t", Path::new("."), &set)
}

fn messages(r: Result<Scenario, ScenarioError>) -> Vec<String> {
    match r {
        Err(ScenarioError::Invalid { problems, .. }) => {
            problems.iter().map(|p| p.to_string()).collect()
        }
        Err(e) => vec![e.to_string()],
        Ok(_) => panic!("expected problems"),
    }
}

#[test]
fn without_resources_a_pod_requests_the_queue_proxys_25m() {
    let sc = load(BASE, &[]).unwrap();
    let pod = sc.revisions[0].resources;
    assert_eq!(
        pod.request(),
        PodRequest {
            cpu_milli: 25,
            memory_bytes: 0
        }
    );
    assert_eq!(pod.request_nonzero().cpu_milli, 125);
}

#[test]
fn scenario_resources_and_config_deployment_add_up() {
    let text = format!(
        "{BASE}\n[deployment]\nqueue-sidecar-memory-request = \"64Mi\"\n"
    )
    .replace(
        "name = \"r1\"",
        "name = \"r1\"\nresources = { requests = { cpu = \"500m\", memory = \"256Mi\" }, limits = { cpu = 2 } }",
    );
    let sc = load(&text, &[]).unwrap();
    assert_eq!(
        sc.revisions[0].resources.request(),
        PodRequest {
            cpu_milli: 525,
            memory_bytes: (256 + 64) << 20
        }
    );
    assert_eq!(sc.revisions[0].resources.user.limits.cpu_milli, Some(2000));
    // --set reaches the same field.
    let sc = load(&text, &["revision.r1.resources.requests.cpu=\"1\""]).unwrap();
    assert_eq!(sc.revisions[0].resources.request().cpu_milli, 1025);
}

#[test]
fn bad_quantities_and_request_above_limit_name_their_field() {
    let bad = BASE.replace(
        "name = \"r1\"",
        "name = \"r1\"\nresources = { requests = { cpu = \"half\" } }",
    );
    let m = messages(load(&bad, &[]));
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].contains("resources.requests.cpu"), "{m:?}");
    assert!(m[0].contains("not a Kubernetes quantity"), "{m:?}");
    let above = BASE.replace(
        "name = \"r1\"",
        "name = \"r1\"\nresources = { requests = { memory = \"2Gi\" }, limits = { memory = \"1Gi\" } }",
    );
    let m = messages(load(&above, &[]));
    assert!(m[0].contains("less than or equal to memory limit"), "{m:?}");
    let cm = format!("{BASE}\n[deployment]\nqueue-sidecar-cpu-request = \"-1\"\n");
    let m = messages(load(&cm, &[]));
    assert!(m[0].contains("queue-sidecar-cpu-request"), "{m:?}");
    let ann = BASE.replace(
        "name = \"r1\"",
        "name = \"r1\"\nannotations = { \"queue.sidecar.serving.knative.dev/resource-percentage\" = \"500\" }",
    );
    let m = messages(load(&ann, &[]));
    assert!(m[0].contains("resource-percentage"), "{m:?}");
}

#[test]
fn manifest_container_resources_reach_the_revision() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("svc.yaml"),
        r#"apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: app
spec:
  template:
    metadata:
      annotations:
        queue.sidecar.serving.knative.dev/cpu-resource-request: "50m"
    spec:
      containers:
        - image: example/app
          resources:
            requests:
              cpu: 1
              memory: 512Mi
"#,
    )
    .unwrap();
    let sc = dir.path().join("s.toml");
    std::fs::write(
        &sc,
        r#"name = "m"
duration = "1m"
manifests = ["svc.yaml"]
[app]
service-time = { distribution = "exponential", mean = "20ms" }
[[workload]]
arrival = { process = "poisson", rate = 5.0 }
"#,
    )
    .unwrap();
    let s = load_scenario(&sc, &[]).unwrap();
    assert_eq!(
        s.revisions[0].resources.request(),
        PodRequest {
            cpu_milli: 1050,
            memory_bytes: 512 << 20
        }
    );
}

#[test]
fn config_defaults_fill_what_the_container_leaves_unset_before_limits_do() {
    // revision-cpu-request applies before the API server would copy the
    // limit into the request.
    let text = BASE.replace(
        "name = \"r1\"",
        "name = \"r1\"\nresources = { limits = { cpu = \"2\", memory = \"1Gi\" } }",
    )
        + "\n[defaults]\nrevision-cpu-request = \"300m\"\nrevision-memory-limit = \"4Gi\"\n";
    let sc = load(&text, &[]).unwrap();
    let user = sc.revisions[0].resources.user;
    assert_eq!(user.requests.cpu_milli, Some(300));
    assert_eq!(user.requests.memory_bytes, Some(1 << 30));
    assert_eq!(user.limits.memory_bytes, Some(1 << 30));
    let bad = BASE.to_string() + "\n[defaults]\nrevision-memory-request = \"lots\"\n";
    let m = messages(load(&bad, &[]));
    assert!(m[0].contains("revision-memory-request"), "{m:?}");
}
