//! What the `knsim` binary prints: summaries of degenerate runs, help text,
//! messages for values clap would misread, and progress output.

use assert_cmd::Command;
use std::fs;
use std::path::Path;

fn knsim() -> Command {
    Command::cargo_bin("knsim").unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).to_string()
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).to_string()
}

/// Requests that take ten minutes never finish in a 30 s run.
const NOTHING_COMPLETES: &str = r#"
name = "stuck"
duration = "30s"
[[revision]]
name = "r1"
service-time = { distribution = "constant", value = "10m" }
[[workload]]
arrival = { process = "poisson", rate = 5.0 }
"#;

#[test]
fn zero_completed_requests_say_so_instead_of_zero_latencies() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "stuck.toml", NOTHING_COMPLETES);
    let a = knsim()
        .arg("run")
        .arg(&sc)
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .success();
    let out = stdout(&a);
    assert!(out.contains(" 0 ok,"), "{out}");
    let latency = out.lines().find(|l| l.starts_with("latency")).unwrap();
    assert!(!latency.contains("0.0 ms"), "{latency}");
    assert!(latency.contains("no request completed"), "{latency}");
}
