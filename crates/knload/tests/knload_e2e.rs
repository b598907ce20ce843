//! knload end to end against in-process servers on 127.0.0.1: exact counts,
//! status and error classification, timeouts, the open-loop stall, h2c, the
//! Host header, the JSON schema, merge and the command line.

mod common;
use bytes::Bytes;
use common::{knload_cmd, run, Noise};
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use knload::{self, ErrorKind, Mode, RunResult, ServeConfig, Server, Verdict};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// How the test server answers request number `n` (1-based), received `at`
/// after the server started, with the request's Host header.
type Behave = dyn Fn(u64, Duration, &str) -> (u16, Duration, String) + Send + Sync;

/// A hyper server that answers as `behave` says; HTTP/1.1 or h2c.
async fn test_server(behave: Arc<Behave>) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let c = count.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (behave, c) = (behave.clone(), c.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let n = c.fetch_add(1, Ordering::SeqCst) + 1;
                    let host = req
                        .headers()
                        .get("host")
                        .map(|h| h.to_str().unwrap_or("").to_string())
                        .or_else(|| req.uri().authority().map(|a| a.to_string()))
                        .unwrap_or_default();
                    let (status, delay, body) = behave(n, started.elapsed(), &host);
                    async move {
                        tokio::time::sleep(delay).await;
                        let mut r = Response::new(Full::new(Bytes::from(body)));
                        *r.status_mut() = StatusCode::from_u16(status).unwrap();
                        Ok::<_, Infallible>(r)
                    }
                });
                let mut preface = [0u8; 3];
                let h2 = matches!(stream.peek(&mut preface).await, Ok(3) if &preface == b"PRI");
                let io = TokioIo::new(stream);
                if h2 {
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, svc)
                        .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, svc)
                        .await;
                }
            });
        }
    });
    (addr, count)
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_counts_are_exact() {
    let server = Server::start(ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServeConfig::default()
    })
    .await
    .unwrap();
    let u = url(server.local_addr());
    let r = run(&["-n", "1000", "-c", "7", &u]).await;
    assert_eq!(r.requests, 1000);
    assert_eq!(r.responses, 1000);
    assert_eq!(r.status_codes[&200], 1000);
    assert_eq!(server.served(), 1000);
    assert_eq!(r.latency.count, 1000);
    assert!(r.latency.p50_ms > 0.0 && r.latency.p50_ms <= r.latency.p99_ms);
    assert_eq!(r.spec.mode, Mode::Closed);
    assert!(r.schedule_lag.is_none());
    // The emulator speaks h2c too.
    let r = run(&["-n", "500", "-c", "3", "--http2", &u]).await;
    assert_eq!(r.status_codes[&200], 500, "{:?}", r.error_examples);
    assert!(r.spec.http2);
    assert_eq!(server.served(), 1500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_codes_are_counted_per_code() {
    let (addr, _) = test_server(Arc::new(|n, _, _| {
        let s = match n % 4 {
            0 => 503,
            1 => 404,
            _ => 200,
        };
        (s, Duration::ZERO, "x".into())
    }))
    .await;
    let r = run(&["-n", "400", "-c", "3", &url(addr)]).await;
    assert_eq!(r.status_codes[&200], 200);
    assert_eq!(r.status_codes[&404], 100);
    assert_eq!(r.status_codes[&503], 100);
    assert_eq!(r.errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_fire_and_are_counted() {
    let (addr, _) = test_server(Arc::new(|n, _, _| {
        let d = if n % 2 == 0 {
            Duration::from_secs(3)
        } else {
            Duration::ZERO
        };
        (200, d, "x".into())
    }))
    .await;
    let t0 = Instant::now();
    let r = run(&["-n", "20", "-c", "2", "-t", "200ms", &url(addr)]).await;
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert_eq!(r.requests, 20);
    let timeouts = r
        .error_counts
        .get(&ErrorKind::Timeout)
        .copied()
        .unwrap_or(0);
    assert!(timeouts >= 5, "{:?}", r.error_counts);
    assert_eq!(r.responses + timeouts, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_are_classified() {
    // A server that accepts and resets every connection at once.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                // Reset only once a request arrived: knload's reachability
                // probe connects and closes without sending anything.
                let mut buf = [0u8; 1024];
                loop {
                    if s.readable().await.is_err() {
                        return;
                    }
                    match s.try_read(&mut buf) {
                        Ok(0) => return,
                        Ok(_) => break,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                        Err(_) => return,
                    }
                }
                s.set_zero_linger().unwrap();
                drop(s);
            });
        }
    });
    let r = run(&["-n", "50", "-c", "2", &url(addr)]).await;
    assert_eq!(r.requests, 50);
    assert_eq!(r.responses, 0);
    let resets = r.error_counts.get(&ErrorKind::Reset).copied().unwrap_or(0);
    let closed = r.error_counts.get(&ErrorKind::Closed).copied().unwrap_or(0);
    assert!(resets > 0, "{:?}", r.error_counts);
    assert_eq!(resets + closed, 50, "{:?}", r.error_counts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dying_server_still_gives_the_full_report() {
    let server = Server::start(ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        service_time: knload::ServiceTime::Constant(Duration::from_millis(1)),
        ..ServeConfig::default()
    })
    .await
    .unwrap();
    let u = url(server.local_addr());
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(server);
    });
    let r = run(&["-z", "1s", "-c", "4", "-t", "500ms", &u]).await;
    killer.await.unwrap();
    assert!(r.responses > 50, "{}", r.responses);
    let refused = r.error_counts[&ErrorKind::ConnectRefused];
    // On a loaded machine a connect can also outlast the 500 ms timeout
    // (the runtime was not scheduled in time); that is a connection failure
    // too.
    let timed_out = r
        .error_counts
        .get(&ErrorKind::ConnectTimeout)
        .copied()
        .unwrap_or(0);
    // Both are connection failures, apart from the requests sent.
    assert_eq!(
        r.connect_errors,
        refused + timed_out,
        "{:?}",
        r.error_counts
    );
    assert_eq!(
        r.errors + r.connect_errors,
        r.error_counts.values().sum::<u64>()
    );
    // Each of the 4 loops backs off (10 ms doubling, at most 500 ms) over the
    // 700 ms left: about 7 attempts each, not a busy loop of thousands.
    assert!(
        refused + timed_out <= 4 * 10,
        "{} connection attempts",
        refused + timed_out
    );
    assert_eq!(r.requests, r.responses + r.errors);
    assert_eq!(r.status_codes.values().sum::<u64>(), r.responses);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_shows_a_one_second_stall_in_the_latencies() {
    // The server stalls for the second that begins 1 s after its first
    // request arrived (knload's start, whatever the set-up took): requests
    // arriving then wait until it ends.
    let first = Arc::new(std::sync::OnceLock::new());
    let (addr, _) = test_server(Arc::new(move |_, at, _| {
        let at = at.saturating_sub(*first.get_or_init(|| at));
        let (a, b) = (Duration::from_millis(1000), Duration::from_millis(2000));
        let d = if at >= a && at < b {
            b - at
        } else {
            Duration::ZERO
        };
        (200, d, "x".into())
    }))
    .await;
    let csv = tempfile::NamedTempFile::new().unwrap();
    let path = csv.path().to_str().unwrap().to_string();
    let noise = Noise::start();
    let r = run(&[
        "-q",
        "200",
        "-z",
        "3s",
        "-c",
        "300",
        "--requests-csv",
        &path,
        &url(addr),
    ])
    .await;
    // Bounds that depend on the scheduler grow with the delay it added
    // during this run (a few wake-ups lie between a due time and a
    // response); on an idle machine that is about a millisecond.
    let slack_ms = 4.0 * noise.worst_ms();
    assert_eq!(r.requests, 600);
    assert_eq!(r.errors, 0);
    // A third of the requests fall in the stall, uniformly delayed 0..1 s:
    // p50 stays small, p90 is about 0.7 s, the max about 1 s.
    assert!(
        r.latency.p50_ms < 100.0 + slack_ms,
        "{:?} {slack_ms}",
        r.latency
    );
    assert!(r.latency.p90_ms > 500.0, "{:?}", r.latency);
    assert!(
        r.latency.max_ms > 900.0 && r.latency.max_ms < 1500.0 + slack_ms,
        "{:?} {slack_ms}",
        r.latency
    );
    // The stall holds connections, not the sender: with 300 connections
    // the open loop keeps its schedule through it.
    let lag = r.schedule_lag.as_ref().unwrap();
    assert!(lag.max_lag_ms < 250.0 + slack_ms, "{lag:?} {slack_ms}");
    // The trace: one row per request, in order, timestamps i/200.
    let text = std::fs::read_to_string(csv.path()).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("timestamp_s,latency_s,status,class"));
    let rows: Vec<(f64, f64)> = lines
        .enumerate()
        .map(|(i, l)| {
            let row: Vec<&str> = l.split(',').collect();
            let t: f64 = row[0].parse().unwrap();
            assert!((t - i as f64 / 200.0).abs() < 1e-5, "row {i}: {t}");
            assert_eq!(row[2], "200");
            (t, row[1].parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 600);
    // The first request caught by the stall was due when it began, 1 s
    // after the first request arrived (which took at most request 0's
    // latency), and waits the whole second.
    let slack_s = slack_ms / 1e3;
    let (due, lat) = *rows.iter().find(|(_, l)| *l > 0.5).unwrap();
    assert!(
        (0.99 - slack_s..1.01 + rows[0].1 + slack_s).contains(&due),
        "{due} {:?} {slack_s}",
        rows[0]
    );
    assert!((0.9..1.5 + slack_s).contains(&lat), "{lat} {slack_s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_and_host_header_reach_the_server() {
    let (addr, count) = test_server(Arc::new(|_, _, host| {
        (200, Duration::ZERO, host.to_string())
    }))
    .await;
    for h2 in [false, true] {
        let mut args = vec![
            "-n",
            "100",
            "-c",
            "4",
            "--host",
            "greeter.default.example.com",
        ];
        args.extend(["--classify", "body:^(.*)$"]);
        if h2 {
            args.push("--http2");
        }
        let u = url(addr);
        args.push(&u);
        let r = run(&args).await;
        assert_eq!(r.responses, 100, "h2={h2}: {:?}", r.error_counts);
        assert_eq!(
            r.classes["greeter.default.example.com"].count,
            100,
            "h2={h2}: {:?}",
            r.classes.keys()
        );
    }
    // A Host given with -H is kept when --host is not set.
    let u = url(addr);
    let r = run(&[
        "-n",
        "10",
        "-c",
        "1",
        "-H",
        "Host: tag-greeter.example.com",
        "--classify",
        "body:^(.*)$",
        &u,
    ])
    .await;
    assert_eq!(
        r.classes["tag-greeter.example.com"].count,
        10,
        "{:?}",
        r.classes.keys()
    );
    assert_eq!(count.load(Ordering::SeqCst), 210);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_check_against_two_emulated_revisions() {
    // The test server alternates between two bodies: an exact 50/50 split.
    let (addr, _) = test_server(Arc::new(|n, _, _| {
        let msg = if n % 2 == 0 {
            "Hi host 1"
        } else {
            "Namaste host 2"
        };
        (200, Duration::ZERO, msg.into())
    }))
    .await;
    let u = url(addr);
    let r = run(&[
        "-n",
        "1000",
        "-c",
        "1",
        "--classify",
        "body:^(Hi|Namaste)",
        "--expect",
        "Hi=50,Namaste=50",
        &u,
    ])
    .await;
    assert_eq!(r.verdict(), Some(Verdict::Pass));
    assert_eq!(r.classes["Hi"].count, 500);
    let r = run(&[
        "-n",
        "1000",
        "-c",
        "1",
        "--classify",
        "body:^(Hi|Namaste)",
        "--expect",
        "Hi=80,Namaste=20",
        &u,
    ])
    .await;
    assert_eq!(r.verdict(), Some(Verdict::Fail));
    let r = run(&[
        "-n",
        "100",
        "-c",
        "1",
        "--classify",
        "body:^(Hi)",
        "--expect",
        "Hi=100",
        &u,
    ])
    .await;
    assert_eq!(r.unclassified, 50);
    assert_eq!(r.verdict(), Some(Verdict::Fail));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_limits_concurrency_like_the_queue_proxy() {
    // CC 1: one runs, 10 wait, the rest get 503 at once.
    let server = Server::start(ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        container_concurrency: 1,
        service_time: knload::ServiceTime::Constant(Duration::from_millis(150)),
        ..ServeConfig::default()
    })
    .await
    .unwrap();
    let u = url(server.local_addr());
    let r = run(&["-n", "30", "-c", "30", &u]).await;
    assert_eq!(r.requests, 30);
    assert_eq!(r.status_codes[&200], 11);
    assert_eq!(r.status_codes[&503], 19);
    assert_eq!(server.rejected(), 19);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_waits_for_its_startup_delay() {
    let server = Server::start(ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        startup_delay: Duration::from_millis(500),
        ..ServeConfig::default()
    })
    .await
    .unwrap();
    let u = url(server.local_addr());
    let r = run(&["-n", "1", "-c", "1", &u]).await;
    assert_eq!(r.responses, 1);
    assert!(r.latency.max_ms >= 400.0, "{:?}", r.latency);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_two_results_equals_the_totals() {
    let server = Server::start(ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        header: Some(("x-rev".parse().unwrap(), "v1".parse().unwrap())),
        ..ServeConfig::default()
    })
    .await
    .unwrap();
    let u = url(server.local_addr());
    let a = run(&[
        "-n",
        "300",
        "-c",
        "3",
        "--classify",
        "header:X-Rev",
        "--expect",
        "v1=100",
        &u,
    ])
    .await;
    let b = run(&[
        "-n",
        "500",
        "-c",
        "5",
        "--classify",
        "header:X-Rev",
        "--expect",
        "v1=100",
        &u,
    ])
    .await;
    let m = RunResult::merge(&[("a".into(), a.clone()), ("b".into(), b.clone())]).unwrap();
    assert_eq!(m.instances, 2);
    assert_eq!(m.requests, 800);
    assert_eq!(m.status_codes[&200], 800);
    assert_eq!(m.spec.connections, 8);
    assert_eq!(m.classes["v1"].count, 800);
    assert_eq!(m.split_check.as_ref().unwrap().tested_responses, 800);
    let mut h = knload::decode_histogram(&a.latency_hdr).unwrap();
    h.add(knload::decode_histogram(&b.latency_hdr).unwrap())
        .unwrap();
    let mh = knload::decode_histogram(&m.latency_hdr).unwrap();
    assert_eq!(mh, h);
    assert_eq!(m.latency.max_ms, a.latency.max_ms.max(b.latency.max_ms));
    assert!((m.elapsed_s - a.elapsed_s.max(b.elapsed_s)).abs() < 1e-12);
    // A result merged with nothing is itself.
    let one = RunResult::merge(&[("a".into(), a.clone())]).unwrap();
    assert_eq!(one, a);
}

fn schema_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/knload-result.schema.json"
    ))
    .expect("schema file");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema is valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_matches_the_documented_schema() {
    let (addr, _) = test_server(Arc::new(|n, _, _| {
        let body = if n % 3 == 0 { "v2" } else { "v1" };
        (
            if n % 7 == 0 { 503 } else { 200 },
            Duration::ZERO,
            body.into(),
        )
    }))
    .await;
    let v = schema_validator();
    let u = url(addr);
    let closed = run(&["-n", "200", "-c", "2", &u]).await;
    let open = run(&[
        "-q",
        "500",
        "-n",
        "200",
        "-c",
        "2",
        "--classify",
        "body:^(v[0-9])",
        "--expect",
        "v1=2,v2=1",
        &u,
    ])
    .await;
    for r in [&closed, &open] {
        let json = serde_json::to_value(r).unwrap();
        let errors: Vec<String> = v
            .iter_errors(&json)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        // And it reads back to the same result.
        let back: RunResult = serde_json::from_value(json).unwrap();
        assert_eq!(&back, r);
    }
    // The schema rejects what it should: a missing field, a wrong type.
    let mut bad = serde_json::to_value(&open).unwrap();
    bad.as_object_mut().unwrap().remove("latency");
    assert!(!v.is_valid(&bad));
    let mut bad = serde_json::to_value(&open).unwrap();
    bad["requests"] = serde_json::json!("many");
    assert!(!v.is_valid(&bad));
}

#[test]
fn bad_input_exits_with_2_and_a_clear_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["not a url"], "URL"),
        (&["ftp://127.0.0.1/"], "http://"),
        (&["-H", "no-colon", "http://127.0.0.1:1/"], "header"),
        (&["--rate=-5", "http://127.0.0.1:1/"], "--rate"),
        (&["--ramp", "5s:10", "http://127.0.0.1:1/"], "--ramp"),
        (&["-z", "ten", "http://127.0.0.1:1/"], "--duration"),
        (
            &["--classify", "cookie:a", "http://127.0.0.1:1/"],
            "--classify",
        ),
        (
            &[
                "--classify",
                "header:x",
                "--expect",
                "a=b",
                "http://127.0.0.1:1/",
            ],
            "--expect",
        ),
        (&["--bogus", "http://127.0.0.1:1/"], "--bogus"),
    ];
    for (args, needle) in cases {
        knload_cmd()
            .args(*args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(*needle));
    }
}

#[test]
fn an_unreachable_target_fails_fast_and_clearly() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t0 = Instant::now();
    knload_cmd()
        .args(["-n", "10", &format!("http://127.0.0.1:{port}/")])
        .timeout(Duration::from_secs(10))
        .assert()
        .code(1)
        .stderr(
            predicates::str::contains("cannot reach").and(predicates::str::contains("refused")),
        );
    assert!(t0.elapsed() < Duration::from_secs(5));
}

#[test]
fn cli_runs_merges_and_exits_1_on_a_failed_split() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (addr, _) = rt.block_on(test_server(Arc::new(|_, _, _| {
        (200, Duration::ZERO, "Hi there".into())
    })));
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let u = url(addr);
    for p in [&a, &b] {
        knload_cmd()
            .args([
                "-n",
                "100",
                "-c",
                "2",
                "--classify",
                "body:^(Hi|Namaste)",
                "--expect",
                "Hi=100",
                "--json",
            ])
            .arg(p)
            .arg(&u)
            .assert()
            .success()
            .stdout(predicates::str::contains("Verdict:     PASS"));
    }
    let out = knload_cmd()
        .args(["merge", "--json", "-"])
        .arg(&a)
        .arg(&b)
        .assert()
        .success();
    let merged: RunResult = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(merged.requests, 200);
    assert_eq!(merged.instances, 2);
    knload_cmd()
        .args([
            "-n",
            "100",
            "-c",
            "2",
            "--classify",
            "body:^(Hi|Namaste)",
            "--expect",
            "Hi=50,Namaste=50",
            &u,
        ])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("Verdict:     FAIL"));
    knload_cmd()
        .args(["merge"])
        .arg(dir.path().join("missing.json"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("missing.json"));
}

#[test]
fn the_split_check_warns_when_the_run_is_too_small() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (addr, _) = rt.block_on(test_server(Arc::new(|n, _, _| {
        (
            200,
            Duration::ZERO,
            if n % 2 == 0 { "a" } else { "b" }.into(),
        )
    })));
    knload_cmd()
        .args([
            "-n",
            "100",
            "-c",
            "1",
            "--classify",
            "body:^(a|b)",
            "--expect",
            "a=50,b=50",
            &url(addr),
        ])
        .assert()
        .success()
        .stderr(
            predicates::str::contains("WARNING: only 100 requests are planned")
                .and(predicates::str::contains("use -n 8362")),
        );
}

use predicates::prelude::PredicateBooleanExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ramp_sends_the_integral_of_its_rate() {
    let server = Server::start(ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServeConfig::default()
    })
    .await
    .unwrap();
    // 0 -> 400/s over 1 s: 200 requests, due at sqrt(i/200) s; the run
    // ends at the last point.
    let r = run(&[
        "--ramp",
        "0s:0,1s:400",
        "-c",
        "10",
        &url(server.local_addr()),
    ])
    .await;
    assert_eq!(r.requests, 200);
    assert_eq!(server.served(), 200);
    assert_eq!(r.spec.mode, Mode::Open);
    assert!(r.elapsed_s >= 0.99 && r.elapsed_s < 1.5, "{}", r.elapsed_s);
    assert_eq!(r.schedule_lag.as_ref().unwrap().sent, 200);
}

#[test]
fn ctrl_c_still_writes_the_report_and_the_json() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (addr, _) = rt.block_on(test_server(Arc::new(|_, _, _| {
        (200, Duration::from_millis(1), "x".into())
    })));
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("knload"))
        .args(["-z", "60s", "-c", "4", "--no-progress", "--json"])
        .arg(&json)
        .arg(url(addr))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let t0 = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(5));
    // Interrupted: 130, as a shell reports Ctrl-C, with the report kept.
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Interrupted: yes"), "{stdout}");
    let r: RunResult = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(r.interrupted);
    assert!(r.responses > 100, "{}", r.responses);
    assert_eq!(r.requests, r.responses + r.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_that_never_complete_are_connection_failures_with_a_backoff() {
    // A listener that never accepts, with a backlog of one: the probe fills
    // it, and every later connect hangs (its SYN is dropped).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let u = url(listener.local_addr().unwrap());
    let r = run(&["-z", "1500ms", "-c", "2", "-t", "200ms", &u]).await;
    drop(listener);
    assert_eq!(r.responses, 0);
    let timeouts = r.error_counts[&ErrorKind::ConnectTimeout];
    assert_eq!(r.connect_errors, timeouts, "{:?}", r.error_counts);
    // A loaded kernel may still queue a connection or two beyond the backlog;
    // a request sent on one times out as a request, never as a response.
    let request_timeouts = r
        .error_counts
        .get(&ErrorKind::Timeout)
        .copied()
        .unwrap_or(0);
    assert_eq!(r.requests, request_timeouts, "{:?}", r.error_counts);
    assert!(request_timeouts <= 4, "{:?}", r.error_counts);
    // Each loop: 200 ms per attempt plus a growing wait, about 6 attempts.
    assert!((2..=2 * 8).contains(&timeouts), "{timeouts} attempts");
}
