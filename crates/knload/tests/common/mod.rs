//! Helpers shared by knload's integration tests. Each test file uses a
//! different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use assert_cmd::Command;
use clap::Parser;
use knload::{Cli, LoadConfig, RunResult};
use std::time::Duration;
use tokio::sync::watch;

/// The knload binary, bounded so a hung run fails the test instead of CI.
pub fn knload_cmd() -> Command {
    let mut c = Command::cargo_bin("knload").unwrap();
    c.timeout(Duration::from_secs(60));
    c
}

/// A load configuration parsed and validated as the command line would.
pub fn config(args: &[&str]) -> LoadConfig {
    let mut argv = vec!["knload", "--no-progress"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).expect("test arguments parse");
    cli.load.validate().expect("test arguments are valid")
}

/// Runs a load in process, never interrupted.
pub async fn run(args: &[&str]) -> RunResult {
    let (_tx, rx) = watch::channel(false);
    knload::run_load(config(args), rx)
        .await
        .expect("run succeeds")
}

/// How late a sleeping thread wakes up on this machine while a timed test
/// runs. On a loaded machine every wake-up of the run (the pacer's, a
/// connection loop's, the test server's) waits about as long for a core, so
/// timing bounds are widened by a multiple of this measured delay instead of
/// being loosened for every machine alike.
pub struct Noise {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    probe: std::thread::JoinHandle<Duration>,
}

impl Noise {
    /// Starts measuring: a thread sleeps 1 ms again and again and keeps the
    /// largest overshoot.
    pub fn start() -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let probe = std::thread::spawn(move || {
            let step = Duration::from_millis(1);
            let mut worst = Duration::ZERO;
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                let t = std::time::Instant::now();
                std::thread::sleep(step);
                worst = worst.max(t.elapsed().saturating_sub(step));
            }
            worst
        });
        Noise { stop, probe }
    }

    /// Stops measuring; the largest wake-up delay seen, in milliseconds.
    pub fn worst_ms(self) -> f64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.probe
            .join()
            .expect("the probe does not panic")
            .as_secs_f64()
            * 1e3
    }
}
