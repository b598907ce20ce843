//! `knload --scenario` against `knload serve` on 127.0.0.1: the intended
//! send times in the per-request CSV are exactly the arrival times knsim
//! draws for the same scenario and seed, per address; tags reach their
//! Host or their own URL; closed loops think between requests.

mod common;
use clap::Parser;
use knload::{Cli, ServeConfig, Server};
use knsim::scenario::load_scenario;
use knsim::sim::RngStreams;
use std::collections::BTreeMap;
use std::path::Path;
use tokio::sync::watch;

/// Twenty simulated seconds of every synthetic open-loop process, one of
/// them at a tag, and a tagged trace, all at 1.5 times the volume; played 4x
/// faster.
const SCENARIO: &str = r#"
name = "knload-scenario-test"
service = "shop"
seed = 3
duration = "20s"

[[revision]]
name = "shop-1"
service-time = { distribution = "constant", value = "2ms" }

[[revision]]
name = "shop-2"
service-time = { distribution = "constant", value = "2ms" }

[[traffic]]
revisionName = "shop-1"
percent = 100

[[traffic]]
tag = "canary"
revisionName = "shop-2"
percent = 0

[load]
rate-multiplier = 1.5

[[workload]]
name = "poisson"
arrival = { process = "poisson", rate = 15.0 }

[[workload]]
name = "constant"
arrival = { process = "constant", rate = 4.0 }

[[workload]]
name = "sinusoid"
arrival = { process = "sinusoid", mean = 8, amplitude = 6, period = "10s" }

[[workload]]
name = "on-off"
[workload.arrival]
process = "on-off"
on-rate = 20
mean-on-time = "2s"
mean-off-time = "3s"

[[workload]]
name = "ramp-to-canary"
tag = "canary"
arrival = { process = "schedule", interpolation = "linear", points = [["0s", 0], ["10s", 20], ["20s", 5]] }

[[workload]]
name = "replay"
arrival = { process = "trace", file = "trace.csv" }
"#;

/// A per-request trace, every third row at the canary tag.
fn write_trace(dir: &Path) {
    let mut s = String::from("timestamp_s,duration_s,tag\n");
    for i in 0..60 {
        let tag = if i % 3 == 0 { "canary" } else { "" };
        s.push_str(&format!("{:.6},0.010000,{tag}\n", i as f64 * 0.31));
    }
    std::fs::write(dir.join("trace.csv"), s).unwrap();
}

fn csv_times(path: &Path) -> BTreeMap<String, Vec<f64>> {
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut rdr = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        ["timestamp_s", "latency_s", "status", "class", "target"]
    );
    for rec in rdr.records() {
        let rec = rec.unwrap();
        assert_eq!(&rec[2], "200", "{rec:?}");
        out.entry(rec[4].to_string())
            .or_default()
            .push(rec[0].parse().unwrap());
    }
    out
}

async fn run_scenario(args: &[&str]) -> knload::RunResult {
    let mut argv = vec!["knload", "--no-progress"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).expect("arguments parse");
    let cfg = cli.load.validate().expect("arguments are valid");
    let opts = cli
        .load
        .scenario_options()
        .unwrap()
        .expect("--scenario given");
    let (_, parts) = knload::scenario_plan(&opts, &cfg).expect("plan");
    let (_tx, rx) = watch::channel(false);
    knload::run_scenario(cfg, parts, rx).await.expect("run")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_times_are_knsims_arrival_times_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let sc_path = dir.path().join("s.toml");
    std::fs::write(&sc_path, SCENARIO).unwrap();
    write_trace(dir.path());
    let csv = dir.path().join("m.csv");
    let server = Server::start(ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServeConfig::default()
    })
    .await
    .unwrap();
    let url = server.url();
    let r = run_scenario(&[
        "--scenario",
        sc_path.to_str().unwrap(),
        "--seed",
        "9",
        "--speedup",
        "4",
        "--host",
        "shop.default.example.com",
        "-c",
        "8",
        "--requests-csv",
        csv.to_str().unwrap(),
        &url,
    ])
    .await;
    // knsim's arrivals for seed 9, drawn here on their own.
    let sc = load_scenario(&sc_path, &[]).unwrap();
    let streams = RngStreams::new(9);
    let mut want: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (i, src) in sc.workloads.sources.iter().enumerate() {
        let own = src.tag.clone().unwrap_or_default();
        let gen = sc.workloads.arrivals(i, &streams).unwrap();
        let names = gen.tag_names().to_vec();
        for a in gen {
            let key = a.tag.map_or(own.clone(), |t| names[t as usize].clone());
            want.entry(key)
                .or_default()
                .push(a.time.as_nanos() as f64 / 1e9 / 4.0);
        }
    }
    for v in want.values_mut() {
        v.sort_by(f64::total_cmp);
    }
    let got = csv_times(&csv);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (target, w) in &want {
        let g = &got[target];
        assert_eq!(g.len(), w.len(), "target {target:?}");
        for (x, y) in g.iter().zip(w) {
            // The CSV keeps microseconds.
            assert!((x - y).abs() < 1.5e-6, "target {target:?}: {x} vs {y}");
        }
    }
    let total: usize = want.values().map(Vec::len).sum();
    assert_eq!(r.requests, total as u64);
    // The tag's requests carried its Host.
    let hosts = server.hosts();
    assert_eq!(
        hosts.get("canary-shop.default.example.com").copied(),
        Some(want["canary"].len() as u64),
        "{hosts:?}"
    );
    // A different seed gives different times.
    let other = RngStreams::new(10);
    let first_other = sc.workloads.arrivals(0, &other).unwrap().next().unwrap();
    let first_nine = sc.workloads.arrivals(0, &streams).unwrap().next().unwrap();
    assert_ne!(first_other.time, first_nine.time);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_urls_and_closed_loops_with_think_time() {
    let dir = tempfile::tempdir().unwrap();
    let sc_path = dir.path().join("s.toml");
    std::fs::write(
        &sc_path,
        r#"
name = "closed"
duration = "4s"
[[revision]]
name = "r-1"
service-time = { distribution = "constant", value = "1ms" }
[[revision]]
name = "r-2"
service-time = { distribution = "constant", value = "1ms" }
[[traffic]]
revisionName = "r-1"
percent = 100
[[traffic]]
tag = "b"
revisionName = "r-2"
percent = 0
[[workload]]
name = "clients"
arrival = { process = "closed-loop", clients = 2, think = { distribution = "constant", value = "500ms" } }
[[workload]]
name = "checks"
tag = "b"
arrival = { process = "constant", rate = 5.0 }
"#,
    )
    .unwrap();
    let main = Server::start(ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServeConfig::default()
    })
    .await
    .unwrap();
    let tag = Server::start(ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServeConfig::default()
    })
    .await
    .unwrap();
    let tag_url = format!("b={}", tag.url());
    let url = main.url();
    let r = run_scenario(&[
        "--scenario",
        sc_path.to_str().unwrap(),
        "--tag-url",
        &tag_url,
        &url,
    ])
    .await;
    // 5/s for 4 s at the tag; two clients thinking 500 ms after each
    // (fast) response send about 8 each in 4 s.
    eprintln!("served: tag {}, main {}", tag.served(), main.served());
    assert_eq!(tag.served(), 20);
    let closed = main.served();
    assert!((14..=18).contains(&closed), "closed loop sent {closed}");
    assert_eq!(r.requests, 20 + closed);
}

#[test]
fn a_tag_without_an_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sc_path = dir.path().join("s.toml");
    std::fs::write(&sc_path, SCENARIO).unwrap();
    write_trace(dir.path());
    common::knload_cmd()
        .args([
            "--scenario",
            sc_path.to_str().unwrap(),
            "http://127.0.0.1:9/",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("tag `canary`"))
        .stderr(predicates::str::contains("--tag-url canary=URL"));
    common::knload_cmd()
        .args(["--scenario", "/nonexistent.toml", "http://127.0.0.1:9/"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("/nonexistent.toml"));
}
