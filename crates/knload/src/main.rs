//! The knload command: parses arguments, runs, prints the report.

use anyhow::Context;
use clap::Parser;
use knload::{self, Cli, Command, KnloadError, RunResult};
use std::process::ExitCode;

/// Exit code of a run stopped with Ctrl-C (128 + SIGINT, as shells report it).
const INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = Cli::try_parse().unwrap_or_else(|e| parse_failed(e));
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("knload: error: {}", knload::error_line(e.chain()));
            let code = e
                .chain()
                .find_map(|c| c.downcast_ref::<KnloadError>())
                .map_or(1, KnloadError::exit_code);
            ExitCode::from(code)
        }
    }
}

/// Prints clap's error and exits, cutting huge values that clap would echo
/// whole (a 5000-digit count would bury the message).
fn parse_failed(e: clap::Error) -> ! {
    let long: Vec<String> = std::env::args()
        .flat_map(|a| {
            let value = a.split_once('=').map(|(_, v)| v.to_string());
            [Some(a), value]
        })
        .flatten()
        .filter(|a| a.chars().count() > 80)
        .collect();
    if long.is_empty() || !e.use_stderr() {
        e.exit()
    }
    let mut text = e.render().to_string();
    for a in long {
        text = text.replace(&a, &knload::clip(&a));
    }
    eprint!("{text}");
    std::process::exit(e.exit_code())
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
            let (merged, warnings) = knload::merge_files(&m.files, m.strict)?;
            for w in &warnings {
                eprintln!("knload: {w}");
            }
            if let Some(p) = &m.json {
                knload::write_json(&merged, p)?;
            }
            if m.json.as_deref() != Some(std::path::Path::new("-")) {
                knload::print_stdout(&merged.render())?;
            }
            Ok(outcome_code(&merged, false))
        }
        Some(Command::Serve(s)) => {
            let cfg = s.validate()?;
            runtime()?.block_on(async {
                let server = knload::Server::start(cfg).await?;
                let url = server.url();
                match (server.certificate_pem(), &s.tls_cert_out) {
                    (Some(pem), Some(path)) => {
                        std::fs::write(path, pem).map_err(|e| KnloadError::Io {
                            path: path.display().to_string(),
                            source: e,
                        })?;
                        knload::print_stdout(&format!(
                            "listening on {url} (certificate in {})\n",
                            path.display()
                        ))?;
                    }
                    (Some(pem), None) => {
                        knload::print_stdout(&format!("listening on {url}\n{}\n", pem.trim_end()))?
                    }
                    (None, _) => knload::print_stdout(&format!("listening on {url}\n"))?,
                }
                tokio::signal::ctrl_c()
                    .await
                    .context("waiting for Ctrl-C")?;
                eprintln!(
                    "served {} requests, rejected {}; {} connections, at most {} requests in flight on one",
                    server.served(),
                    server.rejected(),
                    server.connections(),
                    server.peak_in_flight_per_connection()
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
            let scenario = match cli.load.scenario_options()? {
                Some(opts) => {
                    let (sc, parts) = knload::scenario_plan(&opts, &cfg)?;
                    for p in &parts {
                        eprintln!(
                            "scenario {}: {} to {}{}",
                            sc.name,
                            p.sources.join(", "),
                            p.url.as_ref().map_or(String::new(), |u| u.to_string()),
                            p.host
                                .as_ref()
                                .map_or(String::new(), |h| format!(" (Host {h})"))
                        );
                    }
                    Some(parts)
                }
                None => None,
            };
            let result = runtime()?.block_on(async {
                let (tx, rx) = tokio::sync::watch::channel(false);
                tokio::spawn(async move {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        let _ = tx.send(true);
                    }
                });
                match scenario {
                    Some(parts) => knload::run_scenario(cfg, parts, rx).await,
                    None => knload::run_load(cfg, rx).await,
                }
            })?;
            // With --json - stdout is the JSON alone (for collection from
            // many instances); `knload merge` renders it later. The report
            // comes first so that a failing JSON write does not hide it.
            if json.as_deref() != Some(std::path::Path::new("-")) {
                knload::print_stdout(&result.render())?;
            }
            if let Some(p) = &json {
                knload::write_json(&result, p)?;
            }
            Ok(outcome_code(&result, true))
        }
    }
}

/// 130 for a run stopped with Ctrl-C (what was done is still reported), 1
/// when the split check failed or nothing got a response, else 0.
fn outcome_code(r: &RunResult, ran_here: bool) -> ExitCode {
    if ran_here && r.interrupted {
        return ExitCode::from(INTERRUPTED);
    }
    match r.failure() {
        Some(why) => {
            eprintln!("knload: {why}");
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    }
}
