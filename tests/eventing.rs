//! Eventing as a workload: scenario validation, delivery outcomes and the
//! failure model's promise not to move other outputs.

use knsim::model::{simulate, NoTimeseries, Summary};
use knsim::scenario::{load_scenario_str, Origin, Override, Problem, Scenario, ScenarioError};
use std::path::Path;

const BASE: &str = r#"
name = "ev"
service = "sink"
duration = "3m"
[cluster.pod-startup]
scheduling = { distribution = "constant", value = "500ms" }
image-pull = { distribution = "constant", value = "500ms" }
container-start = { distribution = "constant", value = "500ms" }
app-init = { distribution = "constant", value = "500ms" }
[[revision]]
name = "sink-00001"
service-time = { distribution = "exponential", mean = "10ms" }
[revision.annotations]
"autoscaling.knative.dev/min-scale" = "3"
[eventing]
broker-latency = { distribution = "constant", value = "3ms" }
[[eventing.source]]
name = "stream"
type = "com.example.a"
source = "/test"
extensions = { region = "eu" }
arrival = { process = "poisson", rate = 10.0 }
[[eventing.trigger]]
name = "a"
subscriber = "sink"
filter = { attributes = { type = "com.example.a" } }
delivery = { retry = 2, backoffPolicy = "exponential", backoffDelay = "PT0.1S", deadLetterSink = "dls" }
[[eventing.trigger]]
name = "other-region"
subscriber = "sink"
filter = { attributes = { region = "us" } }
"#;

fn load(text: &str, set: &[&str]) -> Result<Scenario, ScenarioError> {
    let set: Vec<Override> = set.iter().map(|s| s.parse().unwrap()).collect();
    load_scenario_str(text, Path::new("ev.toml"), "ev", Path::new("."), &set)
}

fn run(set: &[&str], seed: u64) -> Summary {
    simulate(&load(BASE, set).unwrap(), seed, &mut NoTimeseries)
}

fn problems(text: &str) -> Vec<Problem> {
    match load(text, &[]) {
        Err(ScenarioError::Invalid { problems, .. }) => problems,
        Err(ScenarioError::Parse { problem, .. }) => vec![*problem],
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn every_matched_event_is_accounted_for() {
    let s = run(&[], 3);
    let ev = s.eventing.expect("an eventing scenario reports eventing");
    let a = &ev.triggers[0];
    assert!(a.matched > 1_000, "{a:?}");
    let finished =
        a.delivered_first_try + a.delivered_after_retries.iter().sum::<u64>() + a.dead_lettered;
    assert_eq!(
        finished + a.failed_without_sink + a.in_flight_at_end,
        a.matched
    );
    // A healthy warm Service answers everything at once.
    assert_eq!(a.delivered_first_try, finished);
    assert_eq!(a.attempts, a.matched);
    assert_eq!(ev.services[0].event_retries, 0);
    // The filter on a missing-value extension drops everything.
    assert_eq!(ev.triggers[1].matched, 0);
    assert_eq!(ev.events_sent, a.matched);
    // Broker latency 3 ms plus a 10 ms mean service time.
    assert!(a.delivery_latency.p50_ms >= 3.0 && a.delivery_latency.p50_ms < 30.0);
}

#[test]
fn failures_are_retried_and_dead_lettered() {
    let s = run(&["revision.0.failure-probability=0.5"], 3);
    let ev = s.eventing.unwrap();
    let a = &ev.triggers[0];
    assert!(
        a.dead_lettered > 0 && a.delivered_after_retries.len() == 2,
        "{a:?}"
    );
    assert!(a.attempts > a.matched);
    let svc = &ev.services[0];
    assert_eq!(svc.event_first_attempts + svc.event_retries, a.attempts);
    assert_eq!(svc.requests, s.requests.arrived);
    assert!(svc.retry_share > 0.2 && svc.retry_share < 0.6, "{svc:?}");
    // Every failed attempt is a 500; an event still in flight may have one
    // attempt not yet answered.
    let delivered = a.delivered_first_try + a.delivered_after_retries.iter().sum::<u64>();
    let failed = a.attempts - delivered;
    assert!(s.requests.status_500 <= failed);
    assert!(s.requests.status_500 + a.in_flight_at_end >= failed);
}

#[test]
fn broker_default_delivery_applies_and_failures_without_a_sink_are_lost() {
    // Trigger "a" without its own delivery gets the Broker's, which is
    // config-br-defaults' (retry 10, no sink): every finished event made
    // 11 attempts and was lost.
    let text = BASE.replace(
        "delivery = { retry = 2, backoffPolicy = \"exponential\", backoffDelay = \"PT0.1S\", deadLetterSink = \"dls\" }\n",
        "",
    );
    let sc = load(
        &text,
        &["revision.0.failure-probability=1", "duration=\"6m\""],
    )
    .unwrap();
    let s = simulate(&sc, 2, &mut NoTimeseries);
    let a = &s.eventing.unwrap().triggers[0];
    assert!(a.failed_without_sink > 100, "{a:?}");
    assert_eq!(a.dead_lettered, 0);
    assert_eq!(a.attempts_of_finished, 11 * a.failed_without_sink);
    // The last 204.6 s of events are still being retried.
    assert!(a.in_flight_at_end > 1_500, "{a:?}");
}

#[test]
fn same_seed_same_summary() {
    let a = serde_json::to_string(&run(&["revision.0.failure-probability=0.3"], 9)).unwrap();
    let b = serde_json::to_string(&run(&["revision.0.failure-probability=0.3"], 9)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn zero_failure_probability_draws_nothing() {
    let explicit = serde_json::to_string(&run(&["revision.0.failure-probability=0"], 4)).unwrap();
    let absent = serde_json::to_string(&run(&[], 4)).unwrap();
    assert_eq!(explicit, absent);
    assert!(!absent.contains("status_500"));
}

#[test]
fn invalid_delivery_names_field_position_and_rule() {
    let text = BASE.replace("backoffDelay = \"PT0.1S\"", "backoffDelay = \"100ms\"");
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].field, "eventing.trigger[0].delivery.backoffDelay");
    assert!(p[0].rule.contains("must start with 'P'"), "{}", p[0].rule);
    assert!(
        matches!(p[0].origin, Origin::Position { line, .. } if line == 27),
        "{:?}",
        p[0].origin
    );
}

#[test]
fn invalid_objects_are_each_reported() {
    let text =
        BASE.replace(
            "backoffPolicy = \"exponential\"",
            "backoffPolicy = \"fibonacci\"",
        )
        .replace(
            "subscriber = \"sink\"\nfilter = { attributes = { region",
            "subscriber = \"nope\"\nfilter = { attributes = { region",
        ) + "[[eventing.ping-source]]\nname = \"tick\"\nschedule = \"*/5 * * *\"\n";
    let p = problems(&text);
    let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
    assert!(
        fields.contains(&"eventing.trigger[0].delivery.backoffPolicy"),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"eventing.trigger[1].subscriber"),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"eventing.ping-source[0].schedule"),
        "{fields:?}"
    );
    let cron = p.iter().find(|p| p.field.ends_with("schedule")).unwrap();
    assert!(
        cron.rule.contains("expected 5 to 6 fields, found 4"),
        "{}",
        cron.rule
    );
}

#[test]
fn ping_source_fires_on_schedule() {
    // Every minute from 00:00:00 for three minutes: fires at 0, 60 and 120 s
    // (each after its jitter), one event each.
    let text = BASE.replace(
        "[[eventing.source]]\nname = \"stream\"",
        "[[eventing.ping-source]]\nname = \"tick\"\nschedule = \"* * * * *\"\n[[eventing.source]]\nname = \"stream\"",
    );
    let text = text.replace("rate = 10.0", "rate = 0.0001");
    let text = text.replace(
        "filter = { attributes = { type = \"com.example.a\" } }",
        "filter = { attributes = { type = \"dev.knative.sources.ping\" } }",
    );
    let s = simulate(&load(&text, &[]).unwrap(), 1, &mut NoTimeseries);
    let ev = s.eventing.unwrap();
    assert_eq!(ev.triggers[0].matched, 3, "{:?}", ev.triggers[0]);
}
