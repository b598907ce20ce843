//! Configuration parsing and validation.

use super::*;
use crate::sim::RngStreams;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    #[serde(default)]
    workload: Vec<WorkloadSpec>,
    #[serde(default)]
    load: LoadOptionsSpec,
}

fn parse(src: &str) -> Result<Doc, toml::de::Error> {
    toml::from_str(src)
}

fn build(src: &str, horizon_s: u64) -> Result<Workloads, Vec<WorkloadError>> {
    let d = parse(src).expect("parses");
    build_workloads(
        &d.workload,
        &d.load,
        Path::new("."),
        SimTime::from_secs(horizon_s),
    )
}

fn times(src: &Source, seed: u64) -> Vec<u64> {
    let mut g = ArrivalGen::new(
        src,
        RngStreams::new(seed).get(crate::sim::Stream::Arrivals, 0),
    )
    .unwrap();
    std::iter::from_fn(|| g.next())
        .map(|a| a.time.as_nanos())
        .collect()
}

#[test]
fn every_process_parses() {
    let d = parse(
        r#"
        [load]
        speedup = 2
        rate-multiplier = 1.5

        [[workload]]
        arrival = { process = "constant", rate = 20 }
        [[workload]]
        tag = "canary"
        start = "10s"
        end = 60
        arrival = { process = "poisson", rate = 2.5 }
        [[workload]]
        arrival = { process = "schedule", points = [["0s", 10], ["60s", 100], ["120s", 100]], interpolation = "step", poisson = false }
        [[workload]]
        arrival = { process = "sinusoid", mean = 10, amplitude = 5, period = "1h", phase = "15m" }
        [[workload]]
        arrival = { process = "on-off", on-rate = 50, off-rate = 1, mean-on-time = "5s", mean-off-time = "1m", initial = "on" }
        [[workload]]
        arrival = { process = "closed-loop", clients = 8, think = { distribution = "exponential", mean = "1s" } }
        [[workload]]
        arrival = { process = "trace", file = "t.csv", origin = "first", offset = "5s", use-durations = false, use-tags = false }
        [[workload]]
        arrival = { process = "azure-2019", file = "a.csv", top = 3, trigger = "http", from-minute = 600, to-minute = 660, spread = "even" }
        [[workload]]
        arrival = { process = "azure-2021", file = "b.csv", app = "x", function = "y", origin = "zero" }
        "#,
    )
    .expect("parses");
    assert_eq!(d.workload.len(), 9);
    assert_eq!(d.load.speedup, Some(2.0));
    let names: Vec<_> = d
        .workload
        .iter()
        .map(|w| w.arrival.process_name())
        .collect();
    assert_eq!(
        names,
        [
            "constant",
            "poisson",
            "schedule",
            "sinusoid",
            "on-off",
            "closed-loop",
            "trace",
            "azure-2019",
            "azure-2021"
        ]
    );
    match &d.workload[2].arrival {
        ArrivalSpec::Schedule {
            points,
            interpolation,
            poisson,
        } => {
            assert_eq!(points[1], (DurationValue::from("60s"), 100.0));
            assert_eq!(*interpolation, Some(Interpolation::Step));
            assert_eq!(*poisson, Some(false));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unknown_keys_and_processes_are_rejected() {
    let e = parse("[[workload]]\narrival = { process = \"poisson\", rate = 1, burst = 2 }\n")
        .err()
        .unwrap();
    assert!(e.to_string().contains("burst"), "{e}");
    let e = parse("[[workload]]\narrival = { process = \"gaussian\", rate = 1 }\n")
        .err()
        .unwrap();
    assert!(e.to_string().contains("gaussian"), "{e}");
    let e = parse("[[workload]]\nrate = 3\narrival = { process = \"poisson\", rate = 1 }\n")
        .err()
        .unwrap();
    assert!(e.to_string().contains("rate"), "{e}");
    assert!(parse("[load]\nspeed = 2\n").is_err());
}

#[test]
fn validation_reports_every_problem_with_its_path() {
    let errs = build(
        r#"
        [load]
        speedup = 0
        [[workload]]
        arrival = { process = "poisson", rate = -1 }
        [[workload]]
        start = "2m"
        arrival = { process = "constant", rate = 1 }
        [[workload]]
        arrival = { process = "sinusoid", mean = 1, amplitude = 2 }
        [[workload]]
        arrival = { process = "schedule", points = [["10s", 1], ["5s", 1]] }
        [[workload]]
        name = "a"
        arrival = { process = "closed-loop", clients = 0 }
        [[workload]]
        name = "a"
        arrival = { process = "constant", rate = 1 }
        [[workload]]
        arrival = { process = "trace", file = "does-not-exist.csv" }
        "#,
        60,
    )
    .unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.path()).collect();
    assert_eq!(
        paths,
        [
            "load.speedup",
            "workload[0].arrival.rate",
            "workload[1].start",
            "workload[2].arrival.amplitude",
            "workload[3].arrival.points[1][0]",
            "workload[4].arrival.clients",
            "workload[5].name",
            "workload[6].arrival.file",
        ]
    );
    assert!(
        errs[2]
            .to_string()
            .contains("at or after the end of the scenario"),
        "{}",
        errs[2]
    );
    assert!(matches!(errs[7], WorkloadError::Io { .. }));
}

#[test]
fn constant_rate_is_evenly_spaced_from_the_start() {
    let w = build(
        "[[workload]]\nstart = \"1s\"\narrival = { process = \"constant\", rate = 4 }\n",
        3,
    )
    .unwrap();
    let t = times(&w.sources[0], 1);
    let want: Vec<u64> = (0..8).map(|i| 1_000_000_000 + i * 250_000_000).collect();
    assert_eq!(t, want);
}

#[test]
fn speedup_and_multiplier_scale_a_deterministic_schedule() {
    // 1 req/s for 10 s, then 3 req/s: 10 + 30 requests in 20 s.
    let base = r#"
        [[workload]]
        arrival = { process = "schedule", points = [["0s", 1], ["10s", 1], ["10s", 3]], poisson = false }
    "#;
    let w = build(base, 20).unwrap();
    let t = times(&w.sources[0], 1);
    assert_eq!(t.len(), 40);
    assert_eq!(t[9], 9_000_000_000);
    assert_eq!(t[10], 10_000_000_000);
    assert_eq!(t[11], 10_333_333_333);
    // Twice as fast: the same 40 requests in 10 s.
    let w = build(&format!("[load]\nspeedup = 2\n{base}"), 10).unwrap();
    let t2 = times(&w.sources[0], 1);
    assert_eq!(t2.len(), 40);
    assert_eq!(t2[10], 5_000_000_000);
    // Twice as heavy: 80 requests in 20 s.
    let w = build(&format!("[load]\nrate-multiplier = 2\n{base}"), 20).unwrap();
    assert_eq!(times(&w.sources[0], 1).len(), 80);
}

#[test]
fn linear_ramp_deterministic_spacing_follows_the_integral() {
    // Rate ramps 0 -> 10/s over 10 s: integral t^2 / 2, so request k
    // arrives at sqrt(2k).
    let w = build(
        "[[workload]]\narrival = { process = \"schedule\", points = [[0, 0], [10, 10]], poisson = false }\n",
        10,
    )
    .unwrap();
    let t = times(&w.sources[0], 1);
    assert_eq!(t.len(), 50);
    for (k, got) in t.iter().enumerate() {
        let want = (2.0 * k as f64).sqrt();
        assert!(
            (*got as f64 / 1e9 - want).abs() < 1e-6,
            "k={k} got {got} want {want}"
        );
    }
}

#[test]
fn closed_loop_scales_clients_and_think() {
    let w = build(
        "[load]\nspeedup = 4\nrate-multiplier = 2.5\n[[workload]]\narrival = { process = \"closed-loop\", clients = 3, think = { distribution = \"constant\", value = \"2s\" } }\n",
        60,
    )
    .unwrap();
    match &w.sources[0].kind {
        SourceKind::Closed {
            clients,
            think,
            start,
            end,
        } => {
            assert_eq!(*clients, 8);
            assert_eq!(think.mean(), 0.5);
            assert_eq!((*start, *end), (SimTime::ZERO, SimTime::from_secs(60)));
        }
        SourceKind::Open(_) => panic!("closed loop expected"),
    }
    assert!(ArrivalGen::new(
        &w.sources[0],
        RngStreams::new(1).get(crate::sim::Stream::Arrivals, 0)
    )
    .is_none());
}

#[test]
fn generators_are_reproducible_and_end_at_the_horizon() {
    let w = build(
        r#"
        [[workload]]
        end = "30s"
        arrival = { process = "on-off", on-rate = 100, mean-on-time = "1s", mean-off-time = "2s" }
        [[workload]]
        arrival = { process = "sinusoid", mean = 50, amplitude = 50, period = "10s" }
        "#,
        20,
    )
    .unwrap();
    for s in &w.sources {
        let a = times(s, 7);
        assert_eq!(a, times(s, 7));
        assert_ne!(a, times(s, 8));
        assert!(!a.is_empty());
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
        assert!(*a.last().unwrap() < 20_000_000_000);
    }
}
