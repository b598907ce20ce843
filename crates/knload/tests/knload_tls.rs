//! HTTPS and HTTP/2 streams against `knload serve` on 127.0.0.1: the
//! certificate is verified by default and trusted with --cacert or skipped
//! with --insecure, SNI and Host name what --host says, HTTP/2 is chosen by
//! ALPN, and --h2-streams N puts N requests in flight on one connection,
//! still timed from their intended send times. Every run is bounded.

mod common;
use common::{config, knload_cmd, run, Noise};
use knload::{RunResult, ServeConfig, Server, ServiceTime};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;

async fn serve(tls: bool, service: Duration, names: &[&str]) -> Server {
    Server::start(ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        service_time: ServiceTime::Constant(service),
        tls,
        tls_names: names.iter().map(|n| n.to_string()).collect(),
        ..ServeConfig::default()
    })
    .await
    .unwrap()
}

/// Writes the server's certificate where --cacert can read it.
fn cacert(server: &Server, dir: &tempfile::TempDir) -> PathBuf {
    let p = dir.path().join("ca.pem");
    std::fs::write(&p, server.certificate_pem().expect("a TLS server")).unwrap();
    p
}

fn schema_errors(value: &serde_json::Value) -> Vec<String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/knload-result.schema.json"
    ))
    .expect("schema file");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    let v = jsonschema::validator_for(&schema).expect("schema is valid");
    v.iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn a_self_signed_certificate_is_refused_by_default_and_trusted_with_cacert_or_insecure() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(serve(true, Duration::ZERO, &[]));
    let url = server.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let port = server.local_addr().port();

    // Verification on by default: the run stops before it starts, exit 1,
    // with what failed and what to do about it.
    let out = knload_cmd()
        .args(["-n", "20", "-c", "2", "--no-progress", &url])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains(&format!(
            "TLS handshake with 127.0.0.1:{port} (server name 127.0.0.1) failed: invalid peer certificate: UnknownIssuer"
        )),
        "{err}"
    );
    assert!(
        err.contains("--cacert FILE") && err.contains("--insecure"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(server.served(), 0);
    assert_eq!(server.connections(), 0, "no handshake may complete");

    // Trusted with --cacert: every request is answered over TLS.
    let dir = tempfile::tempdir().unwrap();
    let ca = cacert(&server, &dir);
    let json = dir.path().join("r.json");
    knload_cmd()
        .args(["-n", "20", "-c", "2", "--no-progress", "--json"])
        .arg(&json)
        .arg("--cacert")
        .arg(&ca)
        .arg(&url)
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "HTTP/1.1 over TLS (certificate verified, also trusting",
        ));
    assert_eq!(server.served(), 20);
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(schema_errors(&value), Vec::<String>::new());
    let r: RunResult = serde_json::from_value(value).unwrap();
    assert_eq!(r.responses, 20);
    let tls = r.spec.tls.expect("an https run records its TLS settings");
    assert!(tls.verify);
    assert_eq!(tls.cacert.as_deref(), Some(&*ca.display().to_string()));
    assert_eq!(tls.server_name, "127.0.0.1");
    assert_eq!(tls.alpn, "http/1.1");

    // Skipped with --insecure (and -k), and said so in the report.
    for flag in ["--insecure", "-k"] {
        knload_cmd()
            .args(["-n", "10", "-c", "1", "--no-progress", flag, &url])
            .assert()
            .success()
            .stdout(predicates::str::contains("certificate NOT verified"));
    }
    assert_eq!(server.served(), 40);
}

#[test]
fn certificate_options_are_checked_before_anything_connects() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "hello\n").unwrap();
    let cases: [(&[&str], i32, &str); 5] = [
        (
            &["--insecure", "http://127.0.0.1:1/"],
            2,
            "invalid --insecure: only applies to an https:// URL",
        ),
        (
            &["--cacert", "x.pem", "http://127.0.0.1:1/"],
            2,
            "invalid --cacert: only applies to an https:// URL",
        ),
        (
            &["--cacert", "x.pem", "--insecure", "https://127.0.0.1:1/"],
            2,
            "cannot be used with",
        ),
        (
            &["--h2-streams", "0", "http://127.0.0.1:1/"],
            2,
            "must be 1 or more",
        ),
        (
            &["ftp://127.0.0.1:1/"],
            2,
            "must start with http:// or https://",
        ),
    ];
    for (args, code, needle) in cases {
        knload_cmd()
            .args(args)
            .assert()
            .code(code)
            .stderr(predicates::str::contains(needle));
    }
    // A --cacert file that cannot be read, or holds no certificate.
    knload_cmd()
        .args(["--cacert"])
        .arg(dir.path().join("missing.pem"))
        .arg("https://127.0.0.1:1/")
        .assert()
        .code(1)
        .stderr(predicates::str::contains("missing.pem"));
    knload_cmd()
        .args(["--cacert"])
        .arg(&garbage)
        .arg("https://127.0.0.1:1/")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "garbage.pem: no certificate in it",
        ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sni_and_host_name_what_host_says_and_the_certificate_must_match_it() {
    let server = serve(true, Duration::ZERO, &["greeter.default.example.com"]).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = cacert(&server, &dir);
    let ca = ca.to_str().unwrap();
    let url = server.url();
    let r = run(&[
        "-n",
        "30",
        "-c",
        "3",
        "--cacert",
        ca,
        "--host",
        "greeter.default.example.com",
        &url,
    ])
    .await;
    assert_eq!(r.responses, 30, "{:?}", r.error_examples);
    assert_eq!(
        r.spec.tls.as_ref().unwrap().server_name,
        "greeter.default.example.com"
    );
    // Three connections and knload's reachability probe, each one handshake.
    assert_eq!(
        server.server_names(),
        counts(&[("greeter.default.example.com", 3 + 1)])
    );
    assert_eq!(
        server.hosts(),
        counts(&[("greeter.default.example.com", 30)])
    );
    // A port in --host is part of Host but not of the server name.
    let r = run(&[
        "-n",
        "10",
        "-c",
        "1",
        "--http2",
        "--cacert",
        ca,
        "--host",
        "greeter.default.example.com:8443",
        &url,
    ])
    .await;
    assert_eq!(r.responses, 10, "{:?}", r.error_examples);
    assert_eq!(server.server_names()["greeter.default.example.com"], 4 + 2);
    assert_eq!(server.hosts()["greeter.default.example.com:8443"], 10);
    // Without --host the URL's host is the name: `localhost` is sent, an IP
    // address is checked against the certificate but not sent as SNI.
    let local = url.replace("127.0.0.1", "localhost");
    let r = run(&["-n", "5", "-c", "1", "--cacert", ca, &local]).await;
    assert_eq!(r.responses, 5, "{:?}", r.error_examples);
    let r = run(&["-n", "5", "-c", "1", "--cacert", ca, &url]).await;
    assert_eq!(r.responses, 5, "{:?}", r.error_examples);
    let names = server.server_names();
    assert_eq!(names["localhost"], 2, "{names:?}");
    assert_eq!(names[""], 2, "{names:?}");
    // A name the certificate does not carry is refused, even with --cacert.
    let (_tx, rx) = watch::channel(false);
    let e = knload::run_load(
        config(&[
            "-n",
            "5",
            "--cacert",
            ca,
            "--host",
            "other.example.com",
            &url,
        ]),
        rx,
    )
    .await
    .expect_err("a certificate for another name");
    let text = e.to_string();
    assert!(
        text.contains("(server name other.example.com)")
            && text.contains("not valid for name")
            && text.contains("set --host to a name it carries"),
        "{text}"
    );
    assert_eq!(e.exit_code(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_over_tls_is_chosen_by_alpn() {
    let server = serve(true, Duration::ZERO, &[]).await;
    let url = server.url();
    let r = run(&["-n", "40", "-c", "2", "--insecure", "--http2", &url]).await;
    assert_eq!(r.responses, 40, "{:?}", r.error_examples);
    assert_eq!(r.spec.tls.as_ref().unwrap().alpn, "h2");
    assert!(r.spec.http2);
    assert_eq!((server.connections(), server.h2_connections()), (2, 2));
    // Without --http2, HTTP/1.1 is offered and spoken.
    let r = run(&["-n", "40", "-c", "2", "--insecure", &url]).await;
    assert_eq!(r.responses, 40);
    assert_eq!((server.connections(), server.h2_connections()), (4, 2));
    assert_eq!(server.served(), 80);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_streams_put_n_requests_in_flight_on_one_connection() {
    // 20 ms per request: 160 requests take 3.2 s one at a time, 0.4 s with 8
    // in flight. The server counts requests in flight per connection.
    let server = serve(false, Duration::from_millis(20), &[]).await;
    let url = server.url();
    let r = run(&["-n", "160", "-c", "1", "--h2-streams", "8", &url]).await;
    assert_eq!(r.responses, 160, "{:?}", r.error_examples);
    assert_eq!(server.connections(), 1);
    assert_eq!(server.h2_connections(), 1, "--h2-streams implies HTTP/2");
    assert_eq!(server.peak_in_flight_per_connection(), 8);
    assert!(
        r.elapsed_s < 2.0,
        "{} s: requests were not concurrent",
        r.elapsed_s
    );
    assert_eq!(r.spec.h2_streams, 8);
    assert_eq!(r.spec.connections, 1);

    // Over TLS, on 2 connections with 4 streams each.
    let tls = serve(true, Duration::from_millis(20), &[]).await;
    let r = run(&[
        "-n",
        "120",
        "-c",
        "2",
        "--h2-streams",
        "4",
        "--insecure",
        &tls.url(),
    ])
    .await;
    assert_eq!(r.responses, 120, "{:?}", r.error_examples);
    assert_eq!((tls.connections(), tls.h2_connections()), (2, 2));
    assert_eq!(tls.peak_in_flight_per_connection(), 4);

    // The same load without streams keeps one request per connection.
    let plain = serve(false, Duration::from_millis(20), &[]).await;
    let r = run(&["-n", "20", "-c", "1", "--http2", &plain.url()]).await;
    assert_eq!(r.responses, 20);
    assert_eq!(plain.peak_in_flight_per_connection(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_on_streams_keeps_its_schedule_and_counts_the_wait_when_streams_run_out() {
    // 200 req/s at 20 ms each needs about 4 requests in flight: 8 streams
    // keep the schedule (requests leave within a millisecond or so of their
    // due time, plus whatever the machine's scheduler adds), and latency is
    // about the service time. Were the streams one at a time, the sender
    // would fall 3 s behind (mean lag 1.5 s).
    let server = serve(false, Duration::from_millis(20), &[]).await;
    let noise = Noise::start();
    let r = run(&[
        "-q",
        "200",
        "-n",
        "200",
        "-c",
        "1",
        "--h2-streams",
        "8",
        &server.url(),
    ])
    .await;
    // A due time and a send lie a wake-up or two apart, a response a few.
    let slack_ms = 4.0 * noise.worst_ms();
    assert_eq!(r.responses, 200, "{:?}", r.error_examples);
    let lag = r.schedule_lag.as_ref().unwrap();
    assert!(lag.mean_lag_ms < 2.0 + slack_ms, "{lag:?} {slack_ms}");
    assert!(lag.max_lag_ms < 20.0 + slack_ms, "{lag:?} {slack_ms}");
    assert!(
        r.latency.p50_ms >= 20.0 && r.latency.p50_ms < 100.0 + slack_ms,
        "{:?} {slack_ms}",
        r.latency
    );
    assert!(server.peak_in_flight_per_connection() >= 3);
    assert_eq!(server.connections(), 1);

    // 400 req/s at 50 ms needs 20 in flight, but 8 streams carry only 160
    // req/s: the 200 requests take 1.25 s instead of 0.5 s. The last one was
    // due at 0.4975 s and is answered at about 1.25 s; its latency counts
    // the wait for a stream, not just the 50 ms the server took.
    let slow = serve(false, Duration::from_millis(50), &[]).await;
    let r = run(&[
        "-q",
        "400",
        "-n",
        "200",
        "-c",
        "1",
        "--h2-streams",
        "8",
        &slow.url(),
    ])
    .await;
    assert_eq!(r.responses, 200, "{:?}", r.error_examples);
    assert_eq!(slow.peak_in_flight_per_connection(), 8);
    let lag = r.schedule_lag.as_ref().unwrap();
    assert!(lag.late > 150, "{lag:?}");
    assert!(r.latency.max_ms > 650.0, "{:?}", r.latency);
    assert!(r.elapsed_s > 1.2, "{}", r.elapsed_s);
}

#[test]
fn serve_tls_writes_its_certificate_for_cacert() {
    // `knload serve --tls --tls-cert-out FILE` as a user runs it; the test
    // reads the address from its first line and stops it afterwards.
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("serve.pem");
    let bin = assert_cmd::cargo::cargo_bin("knload");
    let mut child = std::process::Command::new(bin)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls",
            "--tls-name",
            "*.default.example.com",
            "--tls-cert-out",
        ])
        .arg(&cert)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .split_whitespace()
        .nth(2)
        .map(str::to_string)
        .unwrap_or_default();
    let result = std::panic::catch_unwind(|| {
        assert!(url.starts_with("https://127.0.0.1:"), "{first}");
        assert!(first.contains("certificate in"), "{first}");
        knload_cmd()
            .args([
                "-n",
                "10",
                "-c",
                "1",
                "--no-progress",
                "--http2",
                "--cacert",
            ])
            .arg(&cert)
            .arg(&url)
            .assert()
            .success()
            .stdout(predicates::str::contains("HTTP/2 over TLS"));
        // The wildcard name covers a route's host, not a name one level up.
        knload_cmd()
            .args(["-n", "10", "-c", "1", "--no-progress", "--cacert"])
            .arg(&cert)
            .args(["--host", "greeter.default.example.com", &url])
            .assert()
            .success()
            .stdout(predicates::str::contains(
                "server name greeter.default.example.com",
            ));
        knload_cmd()
            .args(["-n", "10", "-c", "1", "--no-progress", "--cacert"])
            .arg(&cert)
            .args(["--host", "default.example.com", &url])
            .assert()
            .code(1)
            .stderr(predicates::str::contains("not valid for name"));
    });
    let _ = child.kill();
    let _ = child.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_handshakes_during_a_run_are_not_sent_and_streams_share_one_attempt() {
    // The probe's handshake succeeds; every later connection is closed at
    // once, so each attempt fails its handshake. With 8 streams on one
    // connection, streams waiting for an attempt share its failure and back
    // off, instead of making 8 attempts each time.
    let tls = knload::ServerTls::generate("127.0.0.1".parse().unwrap(), &[]).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let count = accepted.clone();
    let server = tokio::spawn(async move {
        let (probe, _) = listener.accept().await.unwrap();
        let _kept = tls.acceptor.accept(probe).await;
        loop {
            let (s, _) = listener.accept().await.unwrap();
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(s);
        }
    });
    let r = run(&[
        "-z",
        "1s",
        "-c",
        "1",
        "--h2-streams",
        "8",
        "--insecure",
        &format!("https://{addr}/"),
    ])
    .await;
    server.abort();
    let attempts = accepted.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!((r.requests, r.responses), (0, 0));
    assert!(r.connect_errors >= attempts, "{r:?}");
    assert_eq!(
        r.error_counts.keys().map(|k| k.name()).collect::<Vec<_>>(),
        ["connect_tls"],
        "{:?}",
        r.error_examples
    );
    // Backoff from 10 ms doubling: about 7 rounds in 1 s; 8 separate
    // attempts per round would be over 50.
    assert!(
        (3..=20).contains(&attempts),
        "{attempts} connection attempts"
    );
    assert!(r.failure().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_against_a_tls_server_without_h2_is_refused_not_downgraded() {
    // TLS servers that speak only HTTP/1.1: one offers http/1.1 by ALPN
    // (and so refuses h2 with an alert), one knows no ALPN at all.
    for alpn in [vec![b"http/1.1".to_vec()], vec![]] {
        http1_only(alpn).await;
    }
}

async fn http1_only(alpn: Vec<Vec<u8>>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let mut server_config = rustls::ServerConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    )
    .unwrap();
    server_config.alpn_protocols = alpn;
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(server_config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(s).await else {
                    return;
                };
                let svc = hyper::service::service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(
                        http_body_util::Full::new(bytes::Bytes::from_static(b"ok")),
                    ))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    let url = format!("https://{addr}/");
    let (_tx, rx) = watch::channel(false);
    let e = knload::run_load(config(&["-n", "5", "--insecure", "--http2", &url]), rx)
        .await
        .expect_err("no h2 by ALPN");
    let text = e.to_string();
    assert!(
        text.contains("the server does not speak HTTP/2 over TLS: leave out --http2")
            && !text.contains("--cacert"),
        "{text}"
    );
    assert_eq!(e.exit_code(), 1);
    // HTTP/1.1 over the same server works.
    let r = run(&["-n", "5", "--insecure", &url]).await;
    assert_eq!(r.responses, 5, "{:?}", r.error_examples);
    server.abort();
}
