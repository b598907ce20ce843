//! knload's command line as a user meets it: exit codes of a run against
//! a server that is gone, ports out of range, negative values, help, error
//! messages, and merging results of different targets. Only 127.0.0.1 is
//! used, and every run is bounded.

mod common;
use common::knload_cmd;
use knload::{ErrorKind, Mode, RunResult};
use std::time::{Duration, Instant};

fn schema_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/knload-result.schema.json"
    ))
    .expect("schema file");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema is valid")
}

#[test]
fn a_server_gone_after_the_probe_fails_the_run_without_a_busy_loop() {
    // Accept knload's reachability probe, then go away: every later connect
    // is refused. Nothing but 127.0.0.1 is used; the run lasts 1.5 s.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let gone = std::thread::spawn(move || {
        let probe = listener.accept();
        drop(listener);
        drop(probe);
    });
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let t0 = Instant::now();
    let out = knload_cmd()
        .args(["-z", "1500ms", "-c", "4", "--no-progress", "--json"])
        .arg(&json)
        .arg(format!("http://127.0.0.1:{port}/"))
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("no request got a response"))
        .stdout(predicates::str::contains("Not sent:"))
        .stdout(predicates::str::contains(
            "Latency ms:  none (no responses)",
        ));
    gone.join().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(10));
    let text = std::fs::read_to_string(&json).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let errors: Vec<String> = schema_validator()
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let r: RunResult = serde_json::from_value(value).unwrap();
    assert_eq!(r.responses, 0);
    let refused = r.error_counts[&ErrorKind::ConnectRefused];
    assert!(refused >= 4, "{:?}", r.error_counts);
    // Refusals are not requests: not in `requests`, not in the rate.
    assert_eq!(r.connect_errors, refused);
    assert_eq!(r.requests, r.errors);
    // 4 loops over 1.5 s with waits of 10 ms doubling to 500 ms: about 8
    // attempts each. A busy loop makes tens of thousands.
    assert!(refused <= 4 * 12, "{refused} connection attempts");
    let _ = out;
}

#[test]
fn ports_out_of_range_are_rejected_before_any_connection() {
    for port in ["99999", "65536", "165616", "0"] {
        let t0 = Instant::now();
        knload_cmd()
            .args(["-n", "5", &format!("http://127.0.0.1:{port}/")])
            .timeout(Duration::from_secs(10))
            .assert()
            .code(2)
            .stderr(predicates::str::contains(format!(
                "port {port} is out of range (1-65535)"
            )));
        // The probe of a wrong address would take up to 5 s; a usage error
        // comes before anything is opened.
        assert!(t0.elapsed() < Duration::from_secs(3), "port {port}");
    }
    knload_cmd()
        .args([
            "-n",
            "5",
            "--host",
            "a.example.com:70000",
            "http://127.0.0.1:1/",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("invalid --host"))
        .stderr(predicates::str::contains("port 70000 is out of range"));
    knload_cmd()
        .args([
            "-n",
            "5",
            "-H",
            "Host: a.example.com:65536",
            "http://127.0.0.1:1/",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("port 65536 is out of range"));
    knload_cmd()
        .args(["serve", "--listen", "127.0.0.1:99999"])
        .timeout(Duration::from_secs(10))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "port 99999 is out of range (0-65535)",
        ));
}

#[test]
fn negative_values_get_a_clear_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["-c", "-1", "http://127.0.0.1:1/"], "--connections"),
        (&["-n", "-5", "http://127.0.0.1:1/"], "--requests"),
        (&["--threads", "-2", "http://127.0.0.1:1/"], "--threads"),
        (&["-q", "-3", "http://127.0.0.1:1/"], "--rate"),
        (&["--alpha", "-0.1", "http://127.0.0.1:1/"], "--alpha"),
        (
            &["serve", "--container-concurrency", "-3"],
            "--container-concurrency",
        ),
    ];
    for (args, option) in cases {
        let out = knload_cmd().args(*args).assert().code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
        assert!(err.contains(option), "{args:?}: {err}");
        assert!(
            err.contains("or more, not -") || err.contains("positive") || err.contains("not in"),
            "{args:?}: {err}"
        );
    }
    knload_cmd()
        .args(["-c", "0", "http://127.0.0.1:1/"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("must be 1 or more, not 0"));
}

#[test]
fn an_unknown_scheduling_policy_is_refused_with_the_choices() {
    knload_cmd()
        .args(["--sched", "fifo", "http://127.0.0.1:1/"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--sched"))
        .stderr(predicates::str::contains("auto, batch, normal"));
}

#[test]
fn help_starts_with_knloads_purpose_and_has_examples() {
    let out = knload_cmd().arg("--help").assert().success();
    let help = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(help.starts_with("Load an HTTP target"), "{help}");
    assert!(!help.contains("simulator"), "{help}");
    assert!(help.contains("Examples:\n  knload -z 10s"), "{help}");
    for (sub, purpose, examples) in [
        ("merge", "Merge the --json results", 3),
        ("serve", "Serve HTTP", 4),
    ] {
        let out = knload_cmd().args([sub, "--help"]).assert().success();
        let help = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(help.starts_with(purpose), "{help}");
        assert_eq!(
            help.matches(&format!("\n  knload {sub} ")).count(),
            examples,
            "{help}"
        );
    }
}

#[test]
fn an_os_error_is_shown_once_and_huge_values_are_cut() {
    let out = knload_cmd()
        .args(["-n", "1", "-D", "/nonexistent/body", "http://127.0.0.1:1/"])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(err.contains("/nonexistent/body"), "{err}");
    let out = knload_cmd()
        .args(["merge", "/nonexistent/a.json"])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    // A 5000-character value is cut in the message.
    let huge = format!("X-Big: {}", "v".repeat(5000)).replace(':', "");
    let out = knload_cmd()
        .args(["-H", &huge, "http://127.0.0.1:1/"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.len() < 400, "{} bytes: {err}", err.len());
    assert!(err.contains("(5006 characters)"), "{err}");
    // Values that clap itself rejects are cut too.
    let digits = "9".repeat(5000);
    for args in [["-c", &digits[..]], ["--timeout", &digits[..]]] {
        let out = knload_cmd()
            .args(args)
            .arg("http://127.0.0.1:1/")
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(err.len() < 600, "{} bytes: {err}", err.len());
    }
}

fn result_for(url: &str) -> RunResult {
    let mut r = RunResult::new(
        knload::RunSpec {
            url: url.into(),
            method: "GET".into(),
            host: None,
            http2: false,
            h2_streams: 1,
            tls: None,
            mode: Mode::Closed,
            rate_rps: None,
            ramp: None,
            connections: 2,
            requests_limit: Some(10),
            duration_s: None,
            timeout_s: 20.0,
        },
        &knload::Stats::default(),
        1.0,
        false,
        0,
        None,
    );
    r.instances = 1;
    r
}

#[test]
fn merging_results_of_different_urls_warns_or_with_strict_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a.json"),
        dir.path().join("b.json"),
        dir.path().join("c.json"),
    );
    knload::write_json(&result_for("http://127.0.0.1:8080/"), &a).unwrap();
    knload::write_json(&result_for("http://127.0.0.1:8080/"), &b).unwrap();
    knload::write_json(&result_for("http://127.0.0.1:9090/other"), &c).unwrap();
    // Same target: no warning.
    knload_cmd()
        .arg("merge")
        .args([&a, &b])
        .assert()
        .success()
        .stderr(predicates::str::is_empty());
    // Different targets: merged, with a warning naming the file and both URLs.
    knload_cmd()
        .arg("merge")
        .args([&a, &c])
        .assert()
        .success()
        .stdout(predicates::str::contains("2 instances merged"))
        .stderr(predicates::str::contains(
            "warning: merging results of different targets",
        ))
        .stderr(predicates::str::contains(
            "c.json loaded GET http://127.0.0.1:9090/other",
        ));
    knload_cmd()
        .args(["merge", "--strict"])
        .args([&a, &c])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("different targets"));
    // A result of schema version 1 (refusals counted as requests) is refused
    // by its version, not with a missing field.
    let old = dir.path().join("old.json");
    let mut v = serde_json::to_value(result_for("http://127.0.0.1:8080/")).unwrap();
    v["schema_version"] = serde_json::json!(1);
    v.as_object_mut().unwrap().remove("connect_errors");
    std::fs::write(&old, v.to_string()).unwrap();
    knload_cmd()
        .arg("merge")
        .args([&a, &old])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("result schema version 1"));
    // A version 2 result written before h2_streams and tls were recorded is
    // still merged (and still valid against the schema), read as 1 and null.
    let earlier = dir.path().join("earlier.json");
    let mut v = serde_json::to_value(result_for("http://127.0.0.1:8080/")).unwrap();
    let spec = v["spec"].as_object_mut().unwrap();
    assert!(spec.remove("h2_streams").is_some() && spec.remove("tls").is_some());
    assert_eq!(schema_validator().iter_errors(&v).count(), 0);
    std::fs::write(&earlier, v.to_string()).unwrap();
    let out = knload_cmd()
        .args(["merge", "--json", "-"])
        .args([&earlier, &a])
        .assert()
        .success();
    let merged: RunResult = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!((merged.spec.h2_streams, merged.spec.tls), (1, None));
}

/// `knload … --json FILE | head` closes standard output before the report
/// is printed: the JSON file is still written, the exit code still tells
/// the verdict, and nothing panics.
#[test]
fn a_closed_standard_output_still_writes_the_json_file() {
    use std::process::Stdio;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt
        .block_on(knload::Server::start(knload::ServeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..knload::ServeConfig::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("knload"))
        .args(["-n", "20", "-c", "1", "--no-progress", "--json"])
        .arg(&json)
        .arg(server.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let res = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(res.status.code(), Some(0), "{err}");
    let r: RunResult = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(r.requests, 20);
}
