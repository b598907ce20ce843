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
