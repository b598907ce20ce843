//! One Broker fanning out to several Services: each Trigger's deliveries
//! follow its own subscriber's route, and each Service's event load and
//! retry share are its own.

use knsim::model::{simulate, NoTimeseries, Summary};
use knsim::scenario::{load_scenario_str, Origin, Problem, Scenario, ScenarioError};
use std::path::Path;

const FANOUT: &str = r#"
name = "fanout"
duration = "4m"
[cluster.pod-startup]
scheduling = { distribution = "constant", value = "500ms" }
image-pull = { distribution = "constant", value = "500ms" }
container-start = { distribution = "constant", value = "500ms" }
app-init = { distribution = "constant", value = "500ms" }

[[service]]
name = "billing"
[[service.revision]]
service-time = { distribution = "exponential", mean = "10ms" }
failure-probability = 0.3
annotations = { "autoscaling.knative.dev/min-scale" = "2" }

[[service]]
name = "mailer"
[[service.revision]]
service-time = { distribution = "exponential", mean = "10ms" }
annotations = { "autoscaling.knative.dev/min-scale" = "2" }
[[service.workload]]
name = "direct"
arrival = { process = "constant", rate = 5.0 }

[eventing]
broker-latency = { distribution = "constant", value = "3ms" }
[[eventing.source]]
name = "orders"
type = "com.example.order"
source = "/shop"
arrival = { process = "poisson", rate = 8.0 }
[[eventing.trigger]]
name = "to-billing"
subscriber = { ref = { apiVersion = "serving.knative.dev/v1", kind = "Service", name = "billing" } }
filter = { attributes = { type = "com.example.order" } }
delivery = { retry = 3, backoffPolicy = "linear", backoffDelay = "PT0.1S", deadLetterSink = "dls" }
[[eventing.trigger]]
name = "to-mailer"
subscriber = "mailer"
filter = { attributes = { type = "com.example.order" } }
delivery = { retry = 3, backoffPolicy = "linear", backoffDelay = "PT0.1S" }
"#;

fn load(text: &str) -> Result<Scenario, ScenarioError> {
    load_scenario_str(
        text,
        Path::new("fanout.toml"),
        "fanout",
        Path::new("."),
        &[],
    )
}

fn run(seed: u64) -> Summary {
    simulate(&load(FANOUT).unwrap(), seed, &mut NoTimeseries)
}

fn problems(text: &str) -> Vec<Problem> {
    match load(text) {
        Err(ScenarioError::Invalid { problems, .. }) => problems,
        Err(ScenarioError::Parse { problem, .. }) => vec![*problem],
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn each_trigger_reaches_its_own_service() {
    let s = run(5);
    let ev = s.eventing.as_ref().unwrap();
    let (billing, mailer) = (&ev.triggers[0], &ev.triggers[1]);
    assert_eq!(
        (billing.subscriber.as_str(), mailer.subscriber.as_str()),
        ("billing", "mailer")
    );
    // Both Triggers match every event.
    assert_eq!(billing.matched, ev.events_sent);
    assert_eq!(mailer.matched, ev.events_sent);
    // Only billing fails, so only its Trigger retries and dead-letters.
    assert!(billing.attempts > billing.matched, "{billing:?}");
    assert!(billing.dead_lettered > 0, "{billing:?}");
    assert_eq!(mailer.attempts, mailer.matched, "{mailer:?}");
    assert!(mailer.delivered_after_retries.iter().all(|&n| n == 0));

    let svc = |n: &str| s.services.iter().find(|x| x.name == n).unwrap();
    let load = |n: &str| ev.services.iter().find(|x| x.name == n).unwrap();
    // Each Service's requests: its Trigger's attempts plus its own workload.
    assert_eq!(
        load("billing").event_first_attempts + load("billing").event_retries,
        billing.attempts
    );
    assert_eq!(load("billing").requests, svc("billing").requests.arrived);
    assert_eq!(svc("billing").requests.arrived, billing.attempts);
    assert_eq!(load("mailer").event_retries, 0);
    assert_eq!(load("mailer").retry_share, 0.0);
    assert_eq!(load("mailer").requests, svc("mailer").requests.arrived);
    assert!(svc("mailer").requests.arrived > mailer.attempts + 1_000);
    // p = 0.3 with three retries: retries are about 0.3 + 0.09 + 0.027
    // per event over 1.43 attempts, a share near 0.30.
    let share = load("billing").retry_share;
    assert!((share - 0.30).abs() < 0.04, "{share}");
    // Billing's 500s are its failed attempts (none are left unanswered at a
    // constant 3 ms latency and 10 ms service time, except in flight).
    assert!(svc("mailer").requests.status_500 == 0);
}

#[test]
fn fanout_is_deterministic() {
    let a = serde_json::to_string(&run(8)).unwrap();
    let b = serde_json::to_string(&run(8)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn an_unknown_subscriber_names_field_position_and_the_services() {
    let text = FANOUT.replace("name = \"billing\" } }", "name = \"biling\" } }");
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].field, "eventing.trigger[0].subscriber.ref.name");
    assert!(
        p[0].rule.contains("no Service named \"biling\"")
            && p[0].rule.contains("\"billing\", \"mailer\""),
        "{}",
        p[0].rule
    );
    let line = FANOUT
        .lines()
        .position(|l| l.contains("name = \"billing\" } }"))
        .unwrap()
        + 1;
    assert!(
        matches!(p[0].origin, Origin::Position { line: l, column } if l == line && column > 1),
        "{:?} (line {line})",
        p[0].origin
    );
}

#[test]
fn a_subscriber_ref_must_be_a_knative_service() {
    let text = FANOUT.replace(
        "kind = \"Service\", name = \"billing\"",
        "kind = \"Broker\", name = \"billing\"",
    );
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].field, "eventing.trigger[0].subscriber.ref.kind");
    let text = FANOUT.replace(
        "subscriber = \"mailer\"",
        "subscriber = { uri = \"http://x\" }",
    );
    let p = problems(&text);
    assert_eq!(p[0].field, "eventing.trigger[1].subscriber.uri");
    assert!(
        p[0].rule.contains("URI subscriber is not modelled"),
        "{}",
        p[0].rule
    );
}

#[test]
fn timeseries_columns_add_up_to_the_summary() {
    let sc = load(FANOUT).unwrap();
    let mut rows: Vec<knsim::model::TimeseriesRow> = Vec::new();
    let s = simulate(&sc, 5, &mut rows);
    let ev = s.eventing.unwrap();
    let col = |f: fn(&knsim::model::TimeseriesRow) -> Option<u64>, svc: &str| -> u64 {
        rows.iter()
            .filter(|r| r.service.as_deref() == Some(svc))
            .map(|r| f(r).expect("an eventing run has the columns"))
            .sum()
    };
    for t in &ev.triggers {
        let svc = t.subscriber.as_str();
        let first = col(|r| r.event_first_attempts, svc);
        let retries = col(|r| r.event_retries, svc);
        assert_eq!(first, t.matched, "{svc}");
        assert_eq!(first + retries, t.attempts, "{svc}");
        let delivered = t.delivered_first_try + t.delivered_after_retries.iter().sum::<u64>();
        assert_eq!(col(|r| r.events_delivered, svc), delivered, "{svc}");
        assert_eq!(
            col(|r| r.events_dead_lettered, svc),
            t.dead_lettered,
            "{svc}"
        );
    }
    assert!(col(|r| r.event_retries, "billing") > 0);
    // Without eventing the columns are absent.
    let plain = FANOUT[..FANOUT.find("[eventing]").unwrap()].to_string()
        + "[[service.workload]]\narrival = { process = \"constant\", rate = 1.0 }\n";
    let mut rows: Vec<knsim::model::TimeseriesRow> = Vec::new();
    simulate(&load(&plain).unwrap(), 5, &mut rows);
    assert!(rows
        .iter()
        .all(|r| r.event_first_attempts.is_none() && r.events_delivered.is_none()));
}
