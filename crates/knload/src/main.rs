//! The knload command: parses arguments, runs, prints the report.

use anyhow::Context;
use clap::Parser;
use knload::{self, Cli, Command, KnloadError, Verdict};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("knload: error: {e:#}");
            let code = e
                .chain()
                .find_map(|c| c.downcast_ref::<KnloadError>())
                .map_or(1, KnloadError::exit_code);
            ExitCode::from(code)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Merge(m)) => {
            let merged = knload::merge_files(&m.files)?;
            if let Some(p) = &m.json {
                knload::write_json(&merged, p)?;
            }
            if m.json.as_deref() != Some(std::path::Path::new("-")) {
                print!("{}", merged.render());
            }
            Ok(verdict_code(merged.verdict()))
        }
        Some(Command::Serve(s)) => {
            let cfg = s.validate()?;
            runtime()?.block_on(async {
                let server = knload::Server::start(cfg).await?;
                println!("listening on http://{}", server.local_addr());
                tokio::signal::ctrl_c()
                    .await
                    .context("waiting for Ctrl-C")?;
                eprintln!(
                    "served {} requests, rejected {}",
                    server.served(),
                    server.rejected()
                );
                Ok(ExitCode::SUCCESS)
            })
        }
        None => {
            let cfg = cli.load.validate()?;
            for note in cfg.notes() {
                eprintln!("{note}");
            }
            let json = cli.load.json.clone();
            let result = runtime()?.block_on(async {
                let (tx, rx) = tokio::sync::watch::channel(false);
                tokio::spawn(async move {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        let _ = tx.send(true);
                    }
                });
                knload::run_load(cfg, rx).await
            })?;
            // With --json - stdout is the JSON alone (for collection from
            // many instances); `knload merge` renders it later. The report
            // comes first so that a failing JSON write does not hide it.
            if json.as_deref() != Some(std::path::Path::new("-")) {
                print!("{}", result.render());
            }
            if let Some(p) = &json {
                knload::write_json(&result, p)?;
            }
            Ok(verdict_code(result.verdict()))
        }
    }
}

fn verdict_code(v: Option<Verdict>) -> ExitCode {
    match v {
        Some(Verdict::Fail) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}
