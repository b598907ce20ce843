//! The loopback worked example (docs/loop.md) end to end, on 127.0.0.1
//! only, in bounded time: knload serve → knsim fit → knload --scenario →
//! knsim compare agrees; with half the service time compare flags it. Also
//! checks that the committed outputs in results/loop-example/ say the same.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The knload binary next to knsim's. A workspace `cargo test` builds it;
/// building it from here could wait forever on the lock the running cargo
/// holds, so a knsim-only run says what to do instead.
fn knload_bin() -> PathBuf {
    let knsim = PathBuf::from(env!("CARGO_BIN_EXE_knsim"));
    let knload = knsim.with_file_name(format!("knload{}", std::env::consts::EXE_SUFFIX));
    assert!(
        knload.exists(),
        "{} is missing: run the workspace's tests (cargo test), or cargo build -p knload first",
        knload.display()
    );
    knload
}

#[test]
fn the_loop_agrees_and_flags_half_the_service_time() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("loop");
    let started = Instant::now();
    let mut child = Command::new("bash")
        .arg(root().join("scripts/loop-example.sh"))
        .arg(&out)
        .env("KNSIM", env!("CARGO_BIN_EXE_knsim"))
        .env("KNLOAD", knload_bin())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // About a minute of load; the bound leaves room for a busy machine.
    let bound = Duration::from_secs(240);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > bound {
            let _ = child.kill();
            panic!("the loop example took longer than {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let o = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let agree: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare/compare.json")).unwrap())
            .unwrap();
    let half: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("compare-half/compare.json")).unwrap(),
    )
    .unwrap();
    let verdict = |v: &serde_json::Value, metric: &str| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == metric)
            .map(|r| r["verdict"].as_str().unwrap().to_string())
            .unwrap()
    };
    for m in [
        "latency p50 ms",
        "latency mean ms",
        "latency KS D",
        "requests",
    ] {
        assert_eq!(verdict(&agree, m), "agree", "{m}\n{text}");
    }
    for m in ["latency p50 ms", "latency mean ms", "latency KS D"] {
        assert_eq!(verdict(&half, m), "disagree", "{m}\n{text}");
    }
    // A parametric family fits knload serve's lognormal (plus the loopback
    // and client cost every measured latency carries).
    let fitted = std::fs::read_to_string(out.join("fitted.toml")).unwrap();
    assert!(fitted.contains("service-time = {"), "{fitted}");
    assert!(!fitted.contains("empirical"), "{fitted}");
    for f in [
        "compare/latency-cdf.svg",
        "compare/concurrency.svg",
        "measured.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
}

#[test]
fn committed_outputs_show_agreement_and_the_flag() {
    let dir = root().join("results/loop-example");
    let agree = std::fs::read_to_string(dir.join("compare.txt")).unwrap();
    let half = std::fs::read_to_string(dir.join("compare-half.txt")).unwrap();
    assert!(
        agree.contains("verdict: prediction and measurement agree"),
        "{agree}"
    );
    assert!(
        half.contains("verdict: prediction and measurement DIFFER"),
        "{half}"
    );
    for f in [
        "scenario.toml",
        "low-load.csv",
        "fitted.toml",
        "measured.csv",
        "measured.json",
        "compare/compare.json",
        "compare/latency-cdf.svg",
        "compare-half/latency-cdf.svg",
    ] {
        assert!(dir.join(f).is_file(), "results/loop-example/{f} missing");
    }
}
