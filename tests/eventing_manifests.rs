//! Eventing objects from Knative YAML: the same model as the `[eventing]`
//! table, `config-br-defaults` defaulting, and errors that name the file,
//! document, line and rule.

use assert_cmd::Command;
use knsim::model::{simulate, NoTimeseries};
use knsim::scenario::{load_scenario, Origin, Problem, ScenarioError};
use std::fs;
use std::path::{Path, PathBuf};

const SERVICES: &str = r#"
duration = "3m"
seed = 4
[autoscaler]
allow-zero-initial-scale = true
scale-to-zero-grace-period = "30s"
[cluster.pod-startup]
scheduling = { distribution = "constant", value = "500ms" }
image-pull = { distribution = "constant", value = "500ms" }
container-start = { distribution = "constant", value = "500ms" }
app-init = { distribution = "constant", value = "500ms" }
[[service]]
name = "billing"
[[service.revision]]
service-time = { distribution = "exponential", mean = "20ms" }
failure-probability = 0.2
annotations = { "autoscaling.knative.dev/initial-scale" = "0" }
[[service]]
name = "mailer"
[[service.revision]]
service-time = { distribution = "exponential", mean = "10ms" }
annotations = { "autoscaling.knative.dev/min-scale" = "1" }
"#;

const STREAM: &str = r#"
[eventing]
namespace = "shop"
clock-start = "2026-01-05T06:00:00Z"
broker-latency = { distribution = "lognormal", mean = "4ms", stddev = "2ms" }
[[eventing.source]]
name = "orders"
type = "com.example.order"
source = "/shop"
arrival = { process = "poisson", rate = 4.0 }
"#;

const TABLE_OBJECTS: &str = r#"
[eventing.broker]
name = "default"
delivery = { retry = 3, backoffPolicy = "exponential", backoffDelay = "PT0.2S", deadLetterSink = "dls" }
[[eventing.ping-source]]
name = "tick"
schedule = "* * * * *"
[[eventing.trigger]]
name = "bill"
subscriber = { ref = { apiVersion = "serving.knative.dev/v1", kind = "Service", name = "billing" } }
filter = { attributes = { type = "com.example.order" } }
[[eventing.trigger]]
name = "mail"
broker = "default"
subscriber = { ref = { apiVersion = "serving.knative.dev/v1", kind = "Service", name = "mailer" } }
delivery = { retry = 1, backoffPolicy = "linear", backoffDelay = "PT1S", timeout = "PT2S" }
"#;

const YAML_OBJECTS: &str = r#"apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: default
  namespace: shop
  annotations:
    eventing.knative.dev/broker.class: MTChannelBasedBroker
spec:
  delivery:
    retry: 3
    backoffPolicy: exponential
    backoffDelay: PT0.2S
    deadLetterSink: dls
---
apiVersion: sources.knative.dev/v1
kind: PingSource
metadata:
  name: tick
  namespace: shop
spec:
  schedule: "* * * * *"
  contentType: application/json
  data: '{"message": "tick"}'
  sink:
    ref:
      apiVersion: eventing.knative.dev/v1
      kind: Broker
      name: default
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: bill
  namespace: shop
spec:
  broker: default
  filter:
    attributes:
      type: com.example.order
  subscriber:
    ref:
      apiVersion: serving.knative.dev/v1
      kind: Service
      name: billing
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: mail
  namespace: shop
spec:
  broker: default
  subscriber:
    ref:
      apiVersion: serving.knative.dev/v1
      kind: Service
      name: mailer
  delivery:
    retry: 1
    backoffPolicy: linear
    backoffDelay: PT1S
    timeout: PT2S
"#;

/// `name.toml` (and `eventing.yaml` when given) in `dir`.
fn write(dir: &Path, name: &str, toml: &str, yaml: Option<&str>) -> PathBuf {
    let sub = dir.join(name);
    fs::create_dir_all(&sub).unwrap();
    if let Some(y) = yaml {
        fs::write(sub.join("eventing.yaml"), y).unwrap();
    }
    let path = sub.join("ev.toml");
    fs::write(&path, toml).unwrap();
    path
}

fn table_scenario() -> String {
    format!("name = \"ev\"\n{SERVICES}{STREAM}{TABLE_OBJECTS}")
}

fn yaml_scenario() -> String {
    format!("name = \"ev\"\nmanifests = [\"eventing.yaml\"]\n{SERVICES}{STREAM}")
}

fn problems(path: &Path) -> Vec<Problem> {
    match load_scenario(path, &[]) {
        Err(ScenarioError::Invalid { problems, .. }) => problems,
        other => panic!("expected problems, got {other:?}"),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn yaml_and_table_build_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "table", &table_scenario(), None);
    let b = write(dir.path(), "yaml", &yaml_scenario(), Some(YAML_OBJECTS));
    let mut outs = Vec::new();
    for (sc, out) in [(&a, "out-a"), (&b, "out-b")] {
        let out = dir.path().join(out);
        Command::cargo_bin("knsim")
            .unwrap()
            .arg("run")
            .arg(sc)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        outs.push(out);
    }
    let mut names: Vec<_> = fs::read_dir(&outs[0])
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.iter().any(|n| n == "summary.json"), "{names:?}");
    for n in &names {
        let x = fs::read(outs[0].join(n)).unwrap();
        let y = fs::read(outs[1].join(n)).unwrap_or_default();
        assert!(x == y, "{n:?} differs between the table and the YAML");
    }
    // The run is a real one: both Triggers delivered, the PingSource fired.
    let s: serde_json::Value =
        serde_json::from_slice(&fs::read(outs[0].join("summary.json")).unwrap()).unwrap();
    let t = &s["eventing"]["triggers"];
    assert!(t[0]["matched"].as_u64().unwrap() > 400, "{t}");
    assert!(t[1]["matched"].as_u64().unwrap() > t[0]["matched"].as_u64().unwrap());
}

#[test]
fn config_br_defaults_gives_a_broker_without_delivery_its_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-br-defaults\n  namespace: knative-eventing\ndata:\n  default-br-config: |\n    clusterDefault:\n      brokerClass: MTChannelBasedBroker\n      delivery:\n        retry: 2\n        backoffPolicy: linear\n        backoffDelay: PT0.5S\n        deadLetterSink: dls\n        timeout: PT9S\n---\n";
    let no_delivery = YAML_OBJECTS.replacen(
        "spec:\n  delivery:\n    retry: 3\n    backoffPolicy: exponential\n    backoffDelay: PT0.2S\n    deadLetterSink: dls\n",
        "",
        1,
    );
    assert_ne!(no_delivery, YAML_OBJECTS);
    let with_cm = write(
        dir.path(),
        "cm",
        &yaml_scenario(),
        Some(&format!("{cm}{no_delivery}")),
    );
    // Upstream copies retry, policy, delay and sink, not the timeout.
    let explicit = YAML_OBJECTS.replace(
        "    retry: 3\n    backoffPolicy: exponential\n    backoffDelay: PT0.2S\n",
        "    retry: 2\n    backoffPolicy: linear\n    backoffDelay: PT0.5S\n",
    );
    let explicit = write(dir.path(), "explicit", &yaml_scenario(), Some(&explicit));
    let shipped = write(dir.path(), "shipped", &yaml_scenario(), Some(&no_delivery));
    let run = |p: &Path| {
        let sc = load_scenario(p, &[]).unwrap();
        let s = simulate(&sc, 6, &mut NoTimeseries);
        serde_json::to_string(&s).unwrap()
    };
    let (a, b, c) = (run(&with_cm), run(&explicit), run(&shipped));
    assert_eq!(a, b);
    // Without the ConfigMap the shipped default (retry 10, no sink) applies.
    assert_ne!(a, c);
    let s: serde_json::Value = serde_json::from_str(&c).unwrap();
    assert_eq!(s["eventing"]["triggers"][0]["dead_lettered"], 0);
}

#[test]
fn an_unknown_subscriber_in_yaml_names_file_document_line_and_services() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = YAML_OBJECTS.replace("name: mailer", "name: mailr");
    let sc = write(dir.path(), "bad", &yaml_scenario(), Some(&yaml));
    let p = problems(&sc);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].field, "spec.subscriber.ref.name");
    assert!(
        p[0].rule.contains("no Service named \"mailr\"")
            && p[0].rule.contains("\"billing\", \"mailer\""),
        "{}",
        p[0].rule
    );
    let want = line_of(&yaml, "name: mailr");
    match &p[0].origin {
        Origin::Manifest {
            file,
            document,
            line,
        } => {
            assert_eq!(file, Path::new("eventing.yaml"));
            assert_eq!((*document, *line), (4, want));
        }
        o => panic!("{o:?}"),
    }
    // The CLI says it with exit code 2.
    let a = Command::cargo_bin("knsim")
        .unwrap()
        .arg("validate")
        .arg(&sc)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains(&format!("eventing.yaml:{want}")), "{err}");
}

#[test]
fn yaml_rules_are_each_reported_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str, &str)] = &[
        // (replace, with, field, words in the rule)
        (
            "  broker: default\n  filter:",
            "  brokr: default\n  filter:",
            "spec.brokr",
            "unknown field `brokr`",
        ),
        (
            "    backoffDelay: PT1S",
            "    backoffDelay: 1s",
            "spec.delivery.backoffDelay",
            "must start with 'P'",
        ),
        (
            "  schedule: \"* * * * *\"",
            "  schedule: \"* * *\"",
            "spec.schedule",
            "expected 5 to 6 fields",
        ),
        (
            "      kind: Broker\n      name: default",
            "      kind: Broker\n      name: other",
            "spec.sink.ref.name",
            "no Broker named \"other\"",
        ),
        (
            "  namespace: shop\nspec:\n  broker",
            "  namespace: web\nspec:\n  broker",
            "metadata.namespace",
            "one namespace",
        ),
        (
            "      type: com.example.order",
            "      Type: com.example.order",
            "spec.filter.attributes.Type",
            "invalid key name",
        ),
        (
            "  broker: default\n  filter:",
            "  broker: default\n  filters: []\n  filter:",
            "spec.filters",
            "not modelled",
        ),
    ];
    for (from, to, field, words) in cases {
        assert!(YAML_OBJECTS.contains(from), "{from}");
        let yaml = YAML_OBJECTS.replacen(from, to, 1);
        let sc = write(dir.path(), "case", &yaml_scenario(), Some(&yaml));
        let p = problems(&sc);
        let hit = p.iter().find(|x| x.field == *field);
        let Some(hit) = hit else {
            panic!("{field}: {p:?}")
        };
        assert!(hit.rule.contains(words), "{field}: {}", hit.rule);
        let key = field.rsplit('.').next().unwrap();
        let want = yaml
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with(&format!("{key}:")))
            .map(|(i, _)| i + 1)
            .collect::<Vec<_>>();
        match &hit.origin {
            Origin::Manifest { line, .. } => assert!(
                want.contains(line),
                "{field}: line {line}, want one of {want:?}"
            ),
            o => panic!("{o:?}"),
        }
    }
}

#[test]
fn a_broker_in_both_places_or_applied_on_the_timeline_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let both = format!(
        "{}\n[eventing.broker]\nname = \"default\"\n",
        yaml_scenario()
    );
    let sc = write(dir.path(), "both", &both, Some(YAML_OBJECTS));
    let p = problems(&sc);
    assert!(
        p.iter()
            .any(|x| x.field == "metadata.name" && x.rule.contains("define it in one place")),
        "{p:?}"
    );
    let timeline = "name = \"ev\"\nduration = \"3m\"\n[[revision]]\nname = \"billing-00001\"\n\
        service-time = { distribution = \"constant\", value = \"10ms\" }\n[[workload]]\n\
        arrival = { process = \"poisson\", rate = 1.0 }\n[[timeline]]\nat = \"1m\"\napply = \"eventing.yaml\"\n";
    let sc = write(dir.path(), "timeline", timeline, Some(YAML_OBJECTS));
    let p = problems(&sc);
    assert_eq!(p.len(), 4, "one per Eventing document: {p:?}");
    assert!(
        p.iter().all(|x| x
            .rule
            .contains("applying them on the timeline is not modelled")),
        "{p:?}"
    );
}

/// With several Services the timeline refuses Eventing documents as the
/// single-Service timeline does.
#[test]
fn eventing_applied_on_a_several_services_timeline_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let timeline = "name = \"ev\"\nduration = \"3m\"\n\
        [[service]]\nname = \"a\"\n[[service.revision]]\nname = \"a-1\"\n\
        service-time = { distribution = \"constant\", value = \"10ms\" }\n\
        [[service.workload]]\narrival = { process = \"poisson\", rate = 1.0 }\n\
        [[service]]\nname = \"billing\"\n[[service.revision]]\nname = \"billing-00001\"\n\
        service-time = { distribution = \"constant\", value = \"10ms\" }\n\
        [[timeline]]\nat = \"1m\"\napply = \"eventing.yaml\"\n";
    let sc = write(dir.path(), "several", timeline, Some(YAML_OBJECTS));
    let p = problems(&sc);
    assert_eq!(p.len(), 4, "one per Eventing document: {p:?}");
    assert!(
        p.iter().all(|x| x
            .rule
            .contains("applying them on the timeline is not modelled")),
        "{p:?}"
    );
}

/// Every line of the bundled fan-out manifest deleted, or its value
/// replaced by something odd: loading gives a scenario or located
/// problems, never a panic.
#[test]
fn mangled_bundled_manifest_never_panics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let yaml = fs::read_to_string(root.join("eventing/fanout.yaml")).unwrap();
    let toml = fs::read_to_string(root.join("eventing-fanout.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sc = write(
        dir.path(),
        "m",
        &toml.replace("eventing/fanout.yaml", "eventing.yaml"),
        None,
    );
    let lines: Vec<&str> = yaml.lines().collect();
    let odd = ["", "-1", "{}", "null", "PT-1S"];
    let (mut ok, mut bad) = (0, 0);
    for i in 0..lines.len() {
        let mut variants = vec![lines
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, l)| *l)
            .collect::<Vec<_>>()
            .join("\n")];
        if let Some((key, _)) = lines[i].split_once(": ") {
            for o in odd {
                let mut v = lines.clone();
                let changed = format!("{key}: {o}");
                v[i] = &changed;
                variants.push(v.join("\n"));
            }
        }
        for text in variants {
            fs::write(sc.parent().unwrap().join("eventing.yaml"), &text).unwrap();
            match load_scenario(&sc, &[]) {
                Ok(_) => ok += 1,
                Err(ScenarioError::Invalid { problems, .. }) => {
                    assert!(!problems.is_empty());
                    bad += 1;
                }
                Err(e) => panic!("line {}: {e}", i + 1),
            }
        }
    }
    assert!(ok > 10 && bad > 100, "{ok} valid, {bad} invalid");
}
