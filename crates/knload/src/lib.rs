//! knload: an HTTP load generator that measures the real thing knsim
//! predicts, and checks that a traffic split is what it claims.
//!
//! ```text
//!  schedule(i) --> [ connection loop 1 ] --HTTP/1.1 or h2c--> target
//!  (pure, from     [ connection loop 2 ] --keep-alive------->  (ingress ->
//!   one start)     [     ...           ]                        revisions)
//!                        |  record: latency from the intended send time,
//!                        v  status, error kind, response class
//!              per-connection HDR histograms --merge--> RunResult (JSON)
//!                                                   --> split check (chi-square)
//! ```
//!
//! Each connection loop takes the next request index from a shared counter;
//! in open loop it waits until `start + schedule(i)` and times the request
//! from then, so a stalled server shows as latency rather than as requests
//! that were never sent (coordinated omission).

mod addr;
mod cli;
mod error;
mod exec;
mod h1;
mod http;
mod result;
mod scenario;
mod sched;
mod schedule;
mod serve;
mod split;
mod stats;
mod tls;

pub use addr::{check_host, listen_addr, url_port};
pub use cli::{
    parse_header, Cli, Command, LoadArgs, MergeArgs, ServeArgs, LOAD_EXAMPLES, MERGE_EXAMPLES,
    SERVE_EXAMPLES,
};
pub use error::{clip, error_line, ErrorKind, KnloadError, RequestError};
pub use exec::{
    execute, Exchange, Executed, Live, Pacing, Plan, TraceRow, BACKOFF_FIRST, BACKOFF_MAX,
};
pub use http::{HttpExchange, Protocol, Target};
pub use result::{
    CheckSpec, ClassResult, LagSummary, LatencySummary, Mode, RunResult, RunSpec, TlsSpec,
    SCHEMA_VERSION,
};
pub use scenario::{
    parts as scenario_parts, plan as scenario_plan, run_scenario, Part, ScenarioOptions,
};
pub use sched::{Policy, Scheduling};
pub use schedule::{Ramp, RampPoint, Schedule, Think};
pub use serve::{ServeConfig, Server, ServiceTime};
pub use split::{wilson_interval, ClassCheck, Classifier, Expectation, SplitCheck, Verdict, POWER};
pub use stats::{decode_histogram, encode_histogram, Outcome, Stats};
pub use tls::{read_cacert, ClientTls, ServerTls, TlsOptions};

use bytes::Bytes;
use hyper::{HeaderMap, Method, Uri};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Longest wait for the reachability probe before a run.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// A validated load run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Target URL (http).
    pub url: Uri,
    /// Host header override.
    pub host: Option<String>,
    /// Method.
    pub method: Method,
    /// Extra request headers.
    pub headers: HeaderMap,
    /// Request body.
    pub body: Bytes,
    /// HTTP/2: h2c with prior knowledge, or by ALPN over TLS.
    pub http2: bool,
    /// Requests in flight on each connection (HTTP/2 streams; 1 for
    /// HTTP/1.1).
    pub h2_streams: usize,
    /// Certificate checks for an https URL.
    pub tls: TlsOptions,
    /// Connections.
    pub connections: usize,
    /// Threads running the connection loops (at most one per connection);
    /// `None` for one per core, or one fewer against a loopback target: the
    /// server then shares the machine, and a loop thread competing with it
    /// for a core costs more than it adds.
    pub threads: Option<usize>,
    /// OS scheduling policy of the threads that drive the load.
    pub scheduling: Scheduling,
    /// Send schedule.
    pub schedule: Schedule,
    /// `-q` as given (the constant rate, or the rate a ramp leads to).
    pub rate: Option<f64>,
    /// The ramp as given, for the result.
    pub ramp_text: Option<String>,
    /// Request limit.
    pub requests: Option<u64>,
    /// Duration limit.
    pub duration: Option<Duration>,
    /// Per-request timeout (also bounds connecting).
    pub timeout: Duration,
    /// Response classifier.
    pub classifier: Option<Classifier>,
    /// Expected split.
    pub expect: Option<Expectation>,
    /// Significance of the split check.
    pub alpha: f64,
    /// Effect size, points, the run should detect.
    pub min_effect_points: f64,
    /// Per-request CSV trace file.
    pub requests_csv: Option<PathBuf>,
    /// Live progress line (only on a terminal).
    pub progress: bool,
}

impl LoadConfig {
    /// The run's planned number of requests, when it can be known up front.
    pub fn planned_requests(&self) -> Option<u64> {
        let by_time = self.duration.and_then(|d| {
            let secs = d.as_secs_f64();
            match &self.schedule {
                Schedule::Closed | Schedule::ClosedThink(_) => None,
                Schedule::Constant { rate } => Some((rate * secs).ceil() as u64),
                Schedule::Times(t) => Some(t.partition_point(|d| d.as_secs_f64() < secs) as u64),
                Schedule::Ramp(_) => {
                    // The first index due at or after the end, by bisection.
                    let (mut lo, mut hi) = (0u64, 1u64 << 40);
                    while lo < hi {
                        let mid = lo + (hi - lo) / 2;
                        match self.schedule.due(mid) {
                            Some(t) if t.as_secs_f64() < secs => lo = mid + 1,
                            _ => hi = mid,
                        }
                    }
                    Some(lo)
                }
            }
        });
        match (self.requests, by_time) {
            (Some(n), Some(m)) => Some(n.min(m)),
            (Some(n), None) => Some(n),
            (None, m) => m,
        }
    }

    /// Lines to print before the run: how many requests the split check
    /// needs, and a warning when the run is planned smaller.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(e) = &self.expect {
            match e.required_requests(self.alpha, POWER, self.min_effect_points) {
                Some(need) => {
                    notes.push(format!(
                        "split check: {need} requests detect a {} point deviation with {:.0}% power at alpha {}",
                        self.min_effect_points,
                        POWER * 100.0,
                        self.alpha
                    ));
                    if let Some(planned) = self.planned_requests().filter(|&p| p < need) {
                        notes.push(format!(
                            "WARNING: only {planned} requests are planned; a {} point deviation may go unnoticed (use -n {need})",
                            self.min_effect_points
                        ));
                    }
                }
                None => notes.push(
                    "split check: one weighted class; any response from another class fails".into(),
                ),
            }
        }
        notes
    }

    fn spec(&self, tls: Option<&ClientTls>) -> RunSpec {
        RunSpec {
            url: self.url.to_string(),
            method: self.method.to_string(),
            host: self.host.clone(),
            http2: self.http2,
            h2_streams: self.h2_streams as u64,
            tls: tls.map(|t| TlsSpec {
                verify: t.verify,
                cacert: self
                    .tls
                    .cacert
                    .as_ref()
                    .filter(|_| t.verify)
                    .map(|p| p.display().to_string()),
                server_name: t.server_name.to_str().into_owned(),
                alpn: if t.h2 { "h2" } else { "http/1.1" }.into(),
            }),
            mode: if self.schedule.is_open() {
                Mode::Open
            } else {
                Mode::Closed
            },
            rate_rps: self.rate,
            ramp: self.ramp_text.clone(),
            connections: self.connections as u64,
            requests_limit: self.requests,
            duration_s: self.duration.map(|d| d.as_secs_f64()),
            timeout_s: self.timeout.as_secs_f64(),
        }
    }
}

/// Runs a load test on the current tokio runtime. `cancel` turning true ends
/// it early with the report of what was done.
pub async fn run_load(
    cfg: LoadConfig,
    cancel: watch::Receiver<bool>,
) -> Result<RunResult, KnloadError> {
    let target = Arc::new(
        Target::new(
            &cfg.url,
            cfg.host.as_deref(),
            cfg.method.clone(),
            cfg.headers.clone(),
            cfg.body.clone(),
            &Protocol {
                http2: cfg.http2,
                tls: cfg.tls.clone(),
            },
            cfg.classifier.clone(),
        )
        .await?,
    );
    // Fail fast and clearly instead of running a whole test of refusals
    // (or of connect timeouts, against an address that drops packets, or
    // of certificate errors).
    target.probe(cfg.timeout.min(PROBE_TIMEOUT)).await?;
    let threads = cfg.threads.unwrap_or_else(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if target.addr.ip().is_loopback() {
            cores.saturating_sub(1).max(1)
        } else {
            cores
        }
    });
    // Due times and think times need prompt wake-ups; a plain closed loop
    // needs only throughput (see `sched`).
    let timed = !matches!(cfg.schedule, Schedule::Closed);
    let scheduling = cfg.scheduling.resolve(timed);
    let runtimes = LoopThreads::start(threads.min(cfg.connections), scheduling)?;
    let trace = cfg
        .requests_csv
        .as_ref()
        .map(|p| TraceWriter::start(p.clone()))
        .transpose()?;
    // One loop per stream; the loops of one connection share its thread,
    // where its driver runs.
    let streams = cfg.h2_streams.max(1);
    let handles = runtimes.handles();
    let plan = Plan {
        schedule: cfg.schedule.clone(),
        requests: cfg.requests,
        duration: cfg.duration,
        timeout: cfg.timeout,
        classified: cfg.classifier.is_some(),
        pacing: Pacing::Thread,
        scheduling,
        runtimes: handles,
        streams,
    };
    let exchanges: Vec<HttpExchange> = (0..cfg.connections)
        .flat_map(|_| HttpExchange::streams(target.clone(), cfg.timeout, streams))
        .collect();
    let show_progress = cfg.progress && std::io::stderr().is_terminal();
    let mut progress = None;
    let out = execute(
        plan,
        exchanges,
        cancel,
        trace.as_ref().map(|t| t.tx.clone()),
        |live| {
            if show_progress {
                progress = Some(tokio::spawn(progress_line(live)));
            }
        },
    )
    .await;
    if let Some(p) = progress {
        p.abort();
        eprint!("\r\x1b[2K");
    }
    if let Some(t) = trace {
        t.finish()?;
    }
    runtimes.stop();
    let check = cfg.expect.clone().map(|expect| CheckSpec {
        expect,
        alpha: cfg.alpha,
        min_effect_points: cfg.min_effect_points,
    });
    Ok(RunResult::new(
        cfg.spec(target.tls.as_ref()),
        &out.stats,
        out.elapsed.as_secs_f64(),
        out.interrupted,
        out.abandoned,
        check.as_ref(),
    ))
}

/// Single-threaded tokio runtimes, each on its own thread, for the
/// connection loops.
struct LoopThreads {
    handles: Vec<tokio::runtime::Handle>,
    stop: Vec<tokio::sync::oneshot::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl LoopThreads {
    fn start(threads: usize, scheduling: Policy) -> Result<Self, KnloadError> {
        let n = threads.max(1);
        let mut lt = LoopThreads {
            handles: Vec::new(),
            stop: Vec::new(),
            threads: Vec::new(),
        };
        for k in 0..n {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| KnloadError::Io {
                    path: "tokio runtime".into(),
                    source: e,
                })?;
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            lt.handles.push(rt.handle().clone());
            lt.stop.push(tx);
            let thread = std::thread::Builder::new()
                .name(format!("knload-loop-{k}"))
                .spawn(move || {
                    scheduling.apply_or_warn();
                    let _ = rt.block_on(rx);
                })
                .map_err(|e| KnloadError::Io {
                    path: "thread".into(),
                    source: e,
                })?;
            lt.threads.push(thread);
        }
        Ok(lt)
    }

    fn handles(&self) -> Vec<tokio::runtime::Handle> {
        self.handles.clone()
    }

    fn stop(self) {
        for tx in self.stop {
            let _ = tx.send(());
        }
        for t in self.threads {
            let _ = t.join();
        }
    }
}

async fn progress_line(live: Arc<Live>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let mut last = 0;
    loop {
        tick.tick().await;
        let now = live.snapshot();
        let (done, errors) = (now.total(), now.error_count());
        let p99 = now.latency.value_at_quantile(0.99) as f64 / 1000.0;
        let unsent = now.connect_error_count();
        eprint!(
            "\r\x1b[2K{:>6.1}s  {:>10} requests  {:>9} req/s  {:>7} errors  p99 {:.3} ms{}",
            live.start.elapsed().as_secs_f64(),
            done,
            done.saturating_sub(last),
            errors,
            p99,
            if unsent > 0 {
                format!("  {unsent} not sent (cannot connect)")
            } else {
                String::new()
            }
        );
        let _ = std::io::stderr().flush();
        last = done;
    }
}

/// Writes the per-request CSV on its own thread, putting rows back in request
/// order with a buffer no larger than the requests in flight.
struct TraceWriter {
    tx: std::sync::mpsc::Sender<TraceRow>,
    handle: std::thread::JoinHandle<Result<(), KnloadError>>,
}

impl TraceWriter {
    fn start(path: PathBuf) -> Result<Self, KnloadError> {
        let io = |path: &PathBuf, e: std::io::Error| KnloadError::Io {
            path: path.display().to_string(),
            source: e,
        };
        let file = std::fs::File::create(&path).map_err(|e| io(&path, e))?;
        let (tx, rx) = std::sync::mpsc::channel::<TraceRow>();
        let handle = std::thread::spawn(move || {
            let mut w = std::io::BufWriter::new(file);
            let mut pending = std::collections::BTreeMap::new();
            let mut next = 0u64;
            let e = |e| io(&path, e);
            writeln!(w, "timestamp_s,latency_s,status,class").map_err(e)?;
            for row in rx {
                pending.insert(row.index, row);
                while let Some(r) = pending.remove(&next) {
                    write_row(&mut w, &r).map_err(e)?;
                    next += 1;
                }
            }
            // Rows after a request abandoned at an interrupt wait here.
            for r in pending.into_values() {
                write_row(&mut w, &r).map_err(e)?;
            }
            w.flush().map_err(e)
        });
        Ok(TraceWriter { tx, handle })
    }

    fn finish(self) -> Result<(), KnloadError> {
        drop(self.tx);
        self.handle.join().expect("the trace writer does not panic")
    }
}

fn write_row(w: &mut impl Write, r: &TraceRow) -> std::io::Result<()> {
    // Classes come from response headers or bodies; keep the CSV parseable.
    let class = if r.class.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", r.class.replace('"', "\"\""))
    } else {
        r.class.clone()
    };
    writeln!(
        w,
        "{:.6},{:.6},{},{}",
        r.timestamp_s, r.latency_s, r.status, class
    )
}

/// Reads result files and merges them. Results of different targets (URL,
/// Host, method) are merged with a warning each, or refused with `strict`.
pub fn merge_files(
    files: &[PathBuf],
    strict: bool,
) -> Result<(RunResult, Vec<String>), KnloadError> {
    let mut parts = Vec::with_capacity(files.len());
    for f in files {
        let path = f.display().to_string();
        let text = std::fs::read_to_string(f).map_err(|e| KnloadError::Io {
            path: path.clone(),
            source: e,
        })?;
        let r: RunResult = serde_json::from_str(&text).map_err(|e| KnloadError::BadResult {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        parts.push((path, r));
    }
    let differences = RunResult::target_differences(&parts);
    if strict && !differences.is_empty() {
        return Err(KnloadError::usage(
            "merge --strict",
            format!("results of different targets: {}", differences.join("; ")),
        ));
    }
    let warnings = differences
        .into_iter()
        .map(|d| format!("warning: merging results of different targets: {d}"))
        .collect();
    Ok((RunResult::merge(&parts)?, warnings))
}

/// Writes `text` to standard output. A reader that went away (`knload … |
/// head`) closed the pipe: that ends the printing, not the command, so the
/// JSON file and the exit code still follow. Other write failures are
/// errors.
pub fn print_stdout(text: &str) -> Result<(), KnloadError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|e| KnloadError::Io {
            path: "standard output".into(),
            source: e,
        }),
    }
}

/// Writes a result as pretty JSON to a file, or to stdout for "-".
pub fn write_json(r: &RunResult, path: &std::path::Path) -> Result<(), KnloadError> {
    let text = serde_json::to_string_pretty(r).expect("a result always serializes") + "\n";
    if path.as_os_str() == "-" {
        return print_stdout(&text);
    }
    std::fs::write(path, text).map_err(|e| KnloadError::Io {
        path: path.display().to_string(),
        source: e,
    })
}
