//! The split check against real proxies: two emulated revisions behind nginx
//! (split_clients, weighted round robin) and HAProxy (`balance random(1)`),
//! each started with a generated config on free loopback ports and stopped
//! when the test ends. Without the proxy installed the test fails under CI
//! (env CI set) and is skipped loudly elsewhere.

use clap::Parser;
use knload::{self, Cli, RunResult, ServeConfig, Server, Verdict};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Finds an installed program; nginx lives in sbin, often not on PATH.
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"])
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.is_file());
    found
}

/// The tool, or `None` after a loud skip message outside CI.
fn require(name: &str, package: &str) -> Option<PathBuf> {
    if let Some(p) = find_tool(name) {
        return Some(p);
    }
    let msg = format!(
        "{name} is not installed: apt-get install {package} (or run .ci/knload-deps.sh) to run the real-ingress split tests"
    );
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!! SKIPPED: {msg} !!!!!!!!\n");
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A proxy child process with its config directory; killed on drop.
struct Proxy {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Proxy {
    fn start(
        program: PathBuf,
        args: impl Fn(&std::path::Path) -> Vec<String>,
        config: &str,
        port: u16,
    ) -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let conf = config.replace("@DIR@", dir.path().to_str().unwrap());
        std::fs::write(dir.path().join("proxy.conf"), conf).unwrap();
        let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let child = Command::new(&program)
            .args(args(dir.path()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
        let mut p = Proxy { child, port, dir };
        p.wait_ready();
        p
    }

    fn wait_ready(&mut self) {
        let t0 = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("proxy exited with {status}: {}", self.log());
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "proxy not listening after 5 s: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        let mut s = std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default();
        s += &std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
        s
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // SIGTERM lets nginx's master stop its workers; SIGKILL would leave
        // them running as orphans. SIGKILL only if it does not exit in time.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two emulated revisions: v1 says "Hi", v2 says "Namaste".
async fn revisions() -> (Server, Server) {
    let rev = |message: &str, host: &str| ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        message: message.into(),
        hostname: host.into(),
        ..ServeConfig::default()
    };
    (
        Server::start(rev("Hi", "greeter-v1")).await.unwrap(),
        Server::start(rev("Namaste", "greeter-v2")).await.unwrap(),
    )
}

fn nginx(upstreams_and_split: &str, pass_to: &str) -> Option<(PathBuf, String, u16)> {
    let program = require("nginx", "nginx")?;
    let port = free_port();
    let conf = format!(
        r#"
user root;
worker_processes 1;
daemon off;
pid @DIR@/nginx.pid;
error_log @DIR@/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path @DIR@/body;
    proxy_temp_path @DIR@/proxy;
    fastcgi_temp_path @DIR@/fastcgi;
    uwsgi_temp_path @DIR@/uwsgi;
    scgi_temp_path @DIR@/scgi;
    {upstreams_and_split}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://{pass_to};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"#
    );
    Some((program, conf, port))
}

fn start_nginx(program: PathBuf, conf: &str, port: u16) -> Proxy {
    Proxy::start(
        program,
        |dir| {
            let d = dir.to_str().unwrap().to_string();
            vec![
                "-p".into(),
                d.clone(),
                "-c".into(),
                format!("{d}/proxy.conf"),
                "-e".into(),
                format!("{d}/error.log"),
            ]
        },
        conf,
        port,
    )
}

async fn check(port: u16, requests: u64, expect: &str) -> RunResult {
    let url = format!("http://127.0.0.1:{port}/");
    let n = requests.to_string();
    let cli = Cli::try_parse_from([
        "knload",
        "--no-progress",
        "-n",
        &n,
        "-c",
        "20",
        "-t",
        "5s",
        "--classify",
        "body:^(Hi|Namaste)",
        "--expect",
        expect,
        &url,
    ])
    .unwrap();
    let cfg = cli.load.validate().unwrap();
    let (_tx, rx) = watch::channel(false);
    let r = knload::run_load(cfg, rx).await.unwrap();
    eprintln!("{}", r.render());
    assert_eq!(r.errors, 0, "{:?}", r.error_examples);
    assert_eq!(r.responses, requests);
    r
}

fn upstreams(p1: u16, p2: u16) -> String {
    format!(
        "upstream v1 {{ server 127.0.0.1:{p1}; keepalive 8; }}\n    upstream v2 {{ server 127.0.0.1:{p2}; keepalive 8; }}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_split_clients_50_50_passes() {
    let (a, b) = revisions().await;
    let split = format!(
        "{}\n    split_clients \"${{request_id}}\" $revision {{ 50% v1; * v2; }}",
        upstreams(a.local_addr().port(), b.local_addr().port())
    );
    let Some((prog, conf, port)) = nginx(&split, "$revision") else {
        return;
    };
    let _proxy = start_nginx(prog, &conf, port);
    let r = check(port, 2000, "Hi=50,Namaste=50").await;
    assert_eq!(r.verdict(), Some(Verdict::Pass));
    assert_eq!(a.served() + b.served(), 2000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_split_clients_90_10_passes() {
    let (a, b) = revisions().await;
    let split = format!(
        "{}\n    split_clients \"${{request_id}}\" $revision {{ 90% v1; * v2; }}",
        upstreams(a.local_addr().port(), b.local_addr().port())
    );
    let Some((prog, conf, port)) = nginx(&split, "$revision") else {
        return;
    };
    let _proxy = start_nginx(prog, &conf, port);
    let r = check(port, 2000, "Hi=90,Namaste=10").await;
    assert_eq!(r.verdict(), Some(Verdict::Pass));
    let hi = r.classes["Hi"].share;
    assert!((0.86..0.94).contains(&hi), "{hi}");
}

fn weighted(p1: u16, w1: u32, p2: u16, w2: u32) -> String {
    format!("upstream split {{ server 127.0.0.1:{p1} weight={w1}; server 127.0.0.1:{p2} weight={w2}; keepalive 8; }}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_weighted_round_robin_50_50_passes() {
    let (a, b) = revisions().await;
    let Some((prog, conf, port)) = nginx(
        &weighted(a.local_addr().port(), 1, b.local_addr().port(), 1),
        "split",
    ) else {
        return;
    };
    let _proxy = start_nginx(prog, &conf, port);
    let r = check(port, 2000, "Hi=50,Namaste=50").await;
    assert_eq!(r.verdict(), Some(Verdict::Pass));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_at_70_30_fails_a_50_50_expectation() {
    let (a, b) = revisions().await;
    let Some((prog, conf, port)) = nginx(
        &weighted(a.local_addr().port(), 7, b.local_addr().port(), 3),
        "split",
    ) else {
        return;
    };
    let _proxy = start_nginx(prog, &conf, port);
    let r = check(port, 2000, "Hi=50,Namaste=50").await;
    assert_eq!(r.verdict(), Some(Verdict::Fail));
    let c = r.split_check.unwrap();
    assert!(c.p_value < 1e-10, "{}", c.p_value);
    assert!((c.classes["Hi"].observed_share - 0.7).abs() < 0.01);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_balance_random_1_is_biased_and_fails() {
    let (a, b) = revisions().await;
    let Some(program) = require("haproxy", "haproxy") else {
        return;
    };
    let port = free_port();
    let conf = format!(
        r#"
global
    maxconn 2000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:{port}
    default_backend revisions
backend revisions
    balance random(1)
    server v1 127.0.0.1:{} weight 1
    server v2 127.0.0.1:{} weight 1
"#,
        a.local_addr().port(),
        b.local_addr().port()
    );
    let _proxy = Proxy::start(
        program,
        |dir| {
            vec![
                "-db".into(),
                "-f".into(),
                format!("{}/proxy.conf", dir.display()),
            ]
        },
        &conf,
        port,
    );
    let r = check(port, 10_000, "Hi=50,Namaste=50").await;
    assert_eq!(
        r.verdict(),
        Some(Verdict::Fail),
        "HAProxy's random(1) bias went unnoticed"
    );
    let c = r.split_check.unwrap();
    let hi = c.classes["Hi"].observed_share;
    assert!((hi - 0.5).abs() > 0.03, "share {hi}");
}
