//! Scenario input defects found by feeding knsim what a new user (or a
//! fuzzer) would: durations, overrides of manifest revisions, absurd sizes,
//! follow-on errors, names and long values. Each test failed before its fix.

use knsim::manifest::parse_manifests;
use knsim::scenario::{
    load_scenario, load_scenario_str, Override, Problem, Scenario, ScenarioError, TimelineAction,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

const BASE: &str = r#"
name = "t"
duration = "2m"
[[revision]]
name = "r1"
service-time = { distribution = "exponential", mean = "20ms" }
[[workload]]
arrival = { process = "poisson", rate = 5.0 }
"#;

fn sets(set: &[&str]) -> Vec<Override> {
    set.iter().map(|s| s.parse().unwrap()).collect()
}

fn load(text: &str, set: &[&str]) -> Result<Scenario, ScenarioError> {
    load_scenario_str(text, Path::new("t.toml"), "t", Path::new("."), &sets(set))
}

/// Every problem of an invalid scenario.
fn problems(text: &str, set: &[&str]) -> Vec<Problem> {
    match load(text, set) {
        Ok(_) => panic!("expected problems"),
        Err(ScenarioError::Invalid { problems, .. }) => problems,
        Err(ScenarioError::Parse { problem, .. }) => vec![*problem],
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn one(text: &str, set: &[&str]) -> Problem {
    let ps = problems(text, set);
    assert_eq!(ps.len(), 1, "expected one problem: {ps:#?}");
    ps.into_iter().next().unwrap()
}

#[test]
fn durations_with_spaces_are_rejected_with_knatives_message() {
    let p = one(
        &format!("{BASE}[autoscaler]\nstable-window = \" 60s\"\n"),
        &[],
    );
    assert_eq!(p.field, "autoscaler.stable-window");
    assert_eq!(
        p.rule,
        "failed to parse \"stable-window\": time: invalid duration \" 60s\""
    );
    for key in [
        "window",
        "scale-down-delay",
        "scale-to-zero-pod-retention-period",
    ] {
        let text =
            format!("{BASE}[revision.annotations]\n\"autoscaling.knative.dev/{key}\" = \"10s \"\n");
        let p = one(&text, &[]);
        assert_eq!(p.rule, "invalid value: 10s ", "{key}");
    }
}

#[test]
fn aggregation_algorithm_is_checked_only_for_the_explicit_kpa_class() {
    let ann = "[revision.annotations]\n\"autoscaling.knative.dev/metric-aggregation-algorithm\" = \"median\"\n";
    assert!(load(&format!("{BASE}{ann}"), &[]).is_ok());
    let with_class =
        format!("{BASE}{ann}\"autoscaling.knative.dev/class\" = \"kpa.autoscaling.knative.dev\"\n");
    assert_eq!(one(&with_class, &[]).rule, "invalid value: median");
}

fn bundled() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// containerConcurrency of each revision, in creation order.
fn concurrencies(sc: &Scenario) -> Vec<(String, u32)> {
    let mut v: Vec<_> = sc
        .revisions
        .iter()
        .map(|r| (r.name.clone(), r.container_concurrency))
        .collect();
    for st in &sc.timeline {
        for a in &st.actions {
            if let TimelineAction::CreateRevision(r) = a {
                v.push((r.name.clone(), r.container_concurrency));
            }
        }
    }
    v
}

#[test]
fn set_reaches_revisions_by_name_and_index_in_every_bundled_scenario() {
    let files = bundled();
    assert!(files.len() >= 10, "{files:?}");
    for f in files {
        let sc = load_scenario(&f, &[]).unwrap_or_else(|e| panic!("{e}"));
        let revs = concurrencies(&sc);
        let (first, _) = revs.first().cloned().expect("a revision");
        let last = revs.len() - 1;
        for set in [
            format!("revision.{first}.containerConcurrency=7"),
            "revision.0.containerConcurrency=7".to_string(),
            format!("revision[{last}].containerConcurrency=7"),
        ] {
            let sc = load_scenario(&f, &sets(&[&set]))
                .unwrap_or_else(|e| panic!("{} --set {set}: {e}", f.display()));
            let got = concurrencies(&sc);
            let want = if set.contains(&format!("[{last}]")) {
                last
            } else {
                0
            };
            assert_eq!(got[want].1, 7, "{} --set {set}: {got:?}", f.display());
        }
    }
}

#[test]
fn set_of_a_revision_that_does_not_exist_lists_the_revisions() {
    let p = one(BASE, &["revision.nope.containerConcurrency=3"]);
    assert!(
        p.rule.contains("revisions, in order from 0, are: r1"),
        "{p}"
    );
    assert!(p.to_string().contains("--set revision.nope"), "{p}");
}

#[test]
fn plain_numbers_are_seconds_wherever_durations_are_read() {
    let text = BASE.replace("duration = \"2m\"", "duration = 90")
        + "[cluster]\nkubelet-probe-period = 5\n[[timeline]]\nat = 30\nautoscaler = { stable-window = \"30s\" }\n";
    let sc = load(&text, &[]).unwrap();
    assert_eq!(sc.duration.as_secs_f64(), 90.0);
    assert_eq!(sc.cluster.kubelet_probe_period.as_secs_f64(), 5.0);
    assert_eq!(sc.timeline[0].at.as_secs_f64(), 30.0);
    assert_eq!(
        load(BASE, &["duration=45.5"])
            .unwrap()
            .duration
            .as_secs_f64(),
        45.5
    );
}

#[test]
fn what_the_machine_cannot_hold_is_refused_naming_field_and_limit() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "cluster.activators=4294967295",
            "cluster.activators",
            "limits.max-activators",
        ),
        (
            "cluster.activators=65536",
            "cluster.activators",
            "limits.max-activators",
        ),
        (
            "workload.0.arrival.rate=9223372036854775807",
            "workload[0].arrival",
            "limits.max-events",
        ),
        (
            "workload.0.arrival.rate=1e300",
            "workload[0].arrival",
            "limits.max-events",
        ),
        (
            "load.rate-multiplier=4294967295",
            "workload[0].arrival",
            "limits.max-events",
        ),
        (
            "load.speedup=1e300",
            "workload[0].arrival",
            "limits.max-events",
        ),
        (
            "workload.0.arrival.rate=300000",
            "workload[0].arrival",
            "limits.max-requests-in-flight",
        ),
        (
            "autoscaler.min-scale=100000000",
            "autoscaler.min-scale",
            "limits.max-pods",
        ),
        (
            "autoscaler.initial-scale=20000",
            "autoscaler.initial-scale",
            "limits.max-pods",
        ),
    ];
    for (set, field, limit) in cases {
        let p = one(BASE, &[set]);
        assert_eq!(p.field, *field, "{set}: {p}");
        assert!(p.rule.contains(limit), "{set}: {p}");
    }
    // Without load, the length of the run is what costs.
    let p = one(BASE, &["duration=1e12", "workload.0.arrival.rate=0"]);
    assert_eq!(p.field, "duration", "{p}");
    assert!(p.rule.contains("limits.max-events"), "{p}");
    let p = one(BASE, &["duration=1e8", "workload.0.arrival.rate=0"]);
    assert_eq!(p.field, "duration", "{p}");
    assert!(p.rule.contains("limits.max-timeseries-rows"), "{p}");
    let ann = "[revision.annotations]\n\"autoscaling.knative.dev/min-scale\" = \"100000000\"\n";
    let p = one(&format!("{BASE}{ann}"), &[]);
    assert!(p.field.ends_with("min-scale\""), "{p}");
    assert!(p.rule.contains("limits.max-pods"), "{p}");
    // A machine that can take more says so.
    let sc = load(
        BASE,
        &[
            "workload.0.arrival.rate=10000000",
            "limits.max-events=1e12",
            "limits.max-requests-in-flight=1e12",
        ],
    )
    .unwrap();
    assert_eq!(sc.limits.max_events, 1e12);
    assert_eq!(sc.cluster.max_replicas, 10_000);
    assert_eq!(one(BASE, &["limits.max-pods=0"]).field, "limits.max-pods");
}

#[test]
fn every_bundled_scenario_is_within_the_default_limits() {
    // The large-cluster benchmarks raise max-requests-in-flight on purpose:
    // their worst-case estimate (every request of the run queued at once)
    // is far above what a pinned, provisioned cluster ever holds.
    let mut raised = Vec::new();
    for f in bundled() {
        let sc = load_scenario(&f, &[]).unwrap_or_else(|e| panic!("{e}"));
        if sc.limits != knsim::scenario::Limits::default() {
            raised.push(f.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert_eq!(
        raised,
        ["bench-pinned-1000.toml", "bench-pinned-10000.toml"]
    );
}

#[test]
fn one_mistake_gives_one_error() {
    let p = one(BASE, &["duration=abc"]);
    assert_eq!(p.field, "duration");
    let text = format!("{BASE}[[traffic]]\nrevisionName = \"r1\"\npercent = 100\n");
    let p = one(&text, &["revision.0.containerConcurrency=-3"]);
    assert!(p.field.ends_with("containerConcurrency"), "{p}");
}

#[test]
fn a_typo_in_a_manifest_is_one_error_with_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    std::fs::create_dir(dir.path().join("greeter")).unwrap();
    for f in ["service-v1.yaml", "service-v2.yaml", "service-pinned.yaml"] {
        std::fs::copy(
            root.join("greeter").join(f),
            dir.path().join("greeter").join(f),
        )
        .unwrap();
    }
    let sc = dir.path().join("g.toml");
    std::fs::copy(root.join("greeter-tutorial.toml"), &sc).unwrap();
    let v1 = dir.path().join("greeter/service-v1.yaml");
    let good = std::fs::read_to_string(&v1).unwrap();
    for (from, to, needle) in [
        (
            "metadata:\n  name: greeter",
            "metadat:\n  name: greeter",
            "did you mean \"metadata\"",
        ),
        (
            "  name: greeter\n",
            "  name greeter\n",
            "expected a mapping",
        ),
        ("  template:", "  templat:", "did you mean \"template\""),
    ] {
        std::fs::write(&v1, good.replacen(from, to, 1)).unwrap();
        let ps = match load_scenario(&sc, &[]) {
            Err(ScenarioError::Invalid { problems, .. }) => problems,
            other => panic!("{to}: expected problems, got {other:?}"),
        };
        assert_eq!(ps.len(), 1, "{to}: {ps:#?}");
        let msg = ps[0].to_string();
        assert!(msg.contains(needle), "{msg}");
        assert!(msg.contains("service-v1.yaml:"), "no line: {msg}");
        assert!(!msg.contains("Raw"), "{msg}");
    }
}

#[test]
fn every_type_error_is_reported_at_once() {
    let text = "name = \"x\"\nduraton = \"1m\"\nseed = \"abc\"\n[cluster]\nactivators = \"two\"\n\
                [[revision]]\nservice-time = 5\n[[workload]]\narrival = { process = \"poisson\", rate = 1.0 }\n";
    let ps = problems(text, &[]);
    let fields: Vec<&str> = ps.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "duraton",
            "seed",
            "cluster.activators",
            "revision[0].service-time"
        ],
        "{ps:#?}"
    );
    assert!(ps[3].rule.contains("a distribution table"), "{}", ps[3]);
    assert!(!ps[3].rule.contains("DistSpec"), "{}", ps[3]);
}

#[test]
fn names_are_checked_as_folder_names() {
    for bad in ["a\\u0000b", &"n".repeat(300), ".."] {
        let p = one(
            &BASE.replace("name = \"t\"", &format!("name = \"{bad}\"")),
            &[],
        );
        assert_eq!(p.field, "name");
        assert!(p.rule.contains("output folder"), "{p}");
    }
}

#[test]
fn long_values_are_cut_in_messages() {
    let text = BASE.replace("name = \"t\"", &format!("seed = {}.5", "9".repeat(300)));
    let p = one(&text, &[]);
    assert!(p.to_string().len() < 200, "{p}");
    assert!(p.rule.contains("characters)"), "{p}");
    let text = BASE.replace("name = \"t\"", &format!("seed = \"{}\"", "s ".repeat(2500)));
    let p = one(&text, &[]);
    assert!(p.to_string().len() < 600, "{p}");
    let text = BASE.replace("name = \"t\"", &format!("seed = \"{}\"", "s".repeat(5000)));
    let p = one(&text, &[]);
    assert!(p.to_string().len() < 200, "{p}");
}

#[test]
fn control_characters_and_invalid_utf8_give_a_position() {
    let p = one("duration = \"1m\"\n# a \u{0} comment\n", &[]);
    assert!(p.rule.contains("control characters"), "{p}");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("u.toml");
    std::fs::write(&f, b"duration = \"1m\"\nname = \"ab\xff\"\n").unwrap();
    let e = load_scenario(&f, &[]).unwrap_err().to_string();
    assert!(e.contains("u.toml:2:11: (file): invalid UTF-8"), "{e}");
    let e = load_scenario(&dir.path().join("missing.toml"), &[]).unwrap_err();
    let chain = format!("{:#}", anyhow::Error::from(e));
    assert_eq!(chain.matches("os error 2").count(), 1, "{chain}");
}

#[test]
fn deep_nesting_in_a_manifest_is_refused_quickly() {
    let n = 40_000;
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-autoscaler\ndata:\n  env: {}{}\n",
        "[".repeat(n),
        "]".repeat(n)
    );
    let t = Instant::now();
    let e = parse_manifests(&text, Path::new("deep.yaml")).unwrap_err();
    assert!(t.elapsed().as_secs_f64() < 2.0, "{:?}", t.elapsed());
    assert!(e[0].rule.contains("nesting deeper than"), "{e:?}");
    assert_eq!(e[0].line, 6);
    // Ordinary flow collections still parse.
    assert!(parse_manifests(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config-autoscaler}\ndata: {a: \"[x]\"}\n",
        Path::new("ok.yaml")
    )
    .is_ok());
}

#[test]
fn the_largest_int64_of_seconds_does_not_overflow() {
    let big = i64::MAX;
    let text = format!(
        "{BASE}[defaults]\nmax-revision-timeout-seconds = {big}\n[network]\nrollout-duration = {big}\n"
    );
    let sc = load(&text, &["revision.0.timeoutSeconds=9223372036854775807"]).unwrap();
    assert!(sc.revisions[0].timeout.as_secs_f64() > 1e9);
}

#[test]
fn the_hpa_class_validates_per_revision_and_loads() {
    let p = one(
        BASE,
        &["autoscaler.pod-autoscaler-class=hpa.autoscaling.knative.dev"],
    );
    assert_eq!(p.field, "autoscaler.pod-autoscaler-class");
    assert!(p.rule.contains("not modelled"), "{p}");
    let class = "\"autoscaling.knative.dev/class\" = \"hpa.autoscaling.knative.dev\"";
    let text = format!("{BASE}[revision.annotations]\n{class}\n");
    let sc = load(&text, &[]).unwrap();
    assert!(sc.revisions[0].annotations.is_hpa());
    // A metric the HPA class cannot take is reported as such, not as the
    // class.
    let text = format!(
        "{BASE}[revision.annotations]\n{class}\n\"autoscaling.knative.dev/metric\" = \"rps\"\n"
    );
    let p = one(&text, &[]);
    assert!(
        p.field.ends_with("\"autoscaling.knative.dev/metric\""),
        "{p}"
    );
    assert!(p.rule.contains("use cpu or memory"), "{p}");
}

#[test]
fn container_concurrency_beyond_u32_is_refused_not_truncated() {
    let text = format!("{BASE}[defaults]\ncontainer-concurrency-max-limit = 9999999999\n");
    let p = one(&text, &["revision.0.containerConcurrency=4294967297"]);
    assert!(p.rule.contains("more than the simulator can hold"), "{p}");
    let sc = load(&text, &["revision.0.containerConcurrency=4294967295"]).unwrap();
    assert_eq!(sc.revisions[0].container_concurrency, u32::MAX);
}

#[test]
fn slo_is_typed_by_the_loader_and_its_mistakes_are_scenario_problems() {
    let ok = load(
        &format!("{BASE}[slo]\np99-latency = \"800ms\"\n[slo.min]\nrequests_completed = 10\n"),
        &[],
    )
    .unwrap();
    let slo = ok.slo.expect("an [slo] section gives a typed Slo");
    let keys: Vec<&str> = slo.objectives.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, ["p99-latency", "min.requests_completed"]);
    assert!(load(BASE, &[]).unwrap().slo.is_none());

    let p = one(&format!("{BASE}[slo]\np99-latncy = \"800ms\"\n"), &[]);
    assert_eq!(p.field, "slo.p99-latncy");
    assert!(p.rule.contains("unknown objective"), "{}", p.rule);
    let p = one(BASE, &["slo.max.no_such_metric=1"]);
    assert!(p.rule.contains("not a metric"), "{}", p.rule);
}
