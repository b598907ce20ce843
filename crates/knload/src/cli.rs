//! Command-line arguments (raw, as clap parses them) and their validation
//! into the typed [`LoadConfig`] the run trusts.

use super::error::KnloadError;
use super::schedule::{Ramp, Schedule};
use super::serve::{ServeConfig, ServiceTime};
use super::split::{Classifier, Expectation};
use super::LoadConfig;
use bytes::Bytes;
use clap::{Args, Parser, Subcommand};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Method, Uri};
use knsim::sim::parse_go_duration;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// knload: an open-loop HTTP load generator that checks traffic splits.
#[derive(Debug, Parser)]
#[command(
    name = "knload",
    version,
    about,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    /// A subcommand; without one, knload loads URL.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of a load run.
    #[command(flatten)]
    pub load: LoadArgs,
}

/// Subcommands besides the load run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Combine the JSON results of several instances (histograms merge exactly).
    Merge(MergeArgs),
    /// Serve HTTP as an emulated Knative revision.
    Serve(ServeArgs),
}

/// Options of a load run.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Target URL (http:// only).
    #[arg(required = true)]
    pub url: Option<String>,
    /// Run for this long (Go duration: 10s, 1m30s).
    #[arg(short = 'z', long)]
    pub duration: Option<String>,
    /// Stop after this many requests [default: 200 unless -z or --ramp is given].
    #[arg(short = 'n', long)]
    pub requests: Option<u64>,
    /// Concurrent connections.
    #[arg(short = 'c', long, default_value_t = 50)]
    pub connections: usize,
    /// Total requests per second, open loop (closed loop without it).
    #[arg(short = 'q', long, conflicts_with = "ramp")]
    pub rate: Option<f64>,
    /// Open-loop rate schedule, linear between points: 0s:100,60s:1000,120s:1000.
    #[arg(long)]
    pub ramp: Option<String>,
    /// HTTP method.
    #[arg(short = 'm', long, default_value = "GET")]
    pub method: String,
    /// Extra request header "Name: value" (repeatable).
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Request body.
    #[arg(short = 'd', long = "body", conflicts_with = "body_file")]
    pub body: Option<String>,
    /// Request body from a file.
    #[arg(short = 'D', long = "body-file")]
    pub body_file: Option<PathBuf>,
    /// Host header (how Knative routes and tag addresses are reached through an ingress).
    #[arg(long)]
    pub host: Option<String>,
    /// HTTP/2 over cleartext with prior knowledge (h2c).
    #[arg(long)]
    pub http2: bool,
    /// Per-request timeout (Go duration).
    #[arg(short = 't', long, default_value = "20s")]
    pub timeout: String,
    /// Write the result as JSON to this file ("-" for stdout).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write one CSV row per request: timestamp_s,latency_s,status,class.
    #[arg(long = "requests-csv")]
    pub requests_csv: Option<PathBuf>,
    /// Threads running the connection loops [default: one per core, one
    /// fewer against a loopback target, which shares the machine].
    #[arg(long)]
    pub threads: Option<usize>,
    /// No live progress line (it is never shown when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// Classify responses: header:NAME or body:REGEX.
    #[arg(long)]
    pub classify: Option<String>,
    /// Expected split, CLASS=WEIGHT,... (needs --classify); FAIL exits with 1.
    #[arg(long, requires = "classify")]
    pub expect: Option<String>,
    /// Significance level of the split check.
    #[arg(long, default_value_t = 0.001)]
    pub alpha: f64,
    /// Smallest deviation (percentage points) the run should be able to detect.
    #[arg(long = "min-effect", default_value_t = 2.5)]
    pub min_effect: f64,
}

/// Options of `knload merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Result files written with --json.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the merged result as JSON to this file ("-" for stdout).
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Options of `knload serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// First word of each answer ("Hi" for v1, "Namaste" for v2 in the tutorial).
    #[arg(long, default_value = "Hi")]
    pub message: String,
    /// Host name in each answer [default: $HOSTNAME or knload-serve].
    #[arg(long)]
    pub hostname: Option<String>,
    /// Extra response header "Name: value", e.g. "x-revision: v1".
    #[arg(long)]
    pub header: Option<String>,
    /// Service time: 5ms, exp:10ms, uniform:5ms..15ms, lognormal:10ms,0.5.
    #[arg(long = "service-time", default_value = "0s")]
    pub service_time: String,
    /// containerConcurrency (0: unlimited); beyond CC running and 10xCC waiting, 503.
    #[arg(long = "container-concurrency", default_value_t = 0)]
    pub container_concurrency: usize,
    /// Wait this long before accepting connections (a cold start).
    #[arg(long = "startup-delay", default_value = "0s")]
    pub startup_delay: String,
    /// Seed of the service-time stream.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn duration(what: &str, s: &str) -> Result<Duration, KnloadError> {
    parse_go_duration(s)
        .map(|d| Duration::from_nanos(d.0))
        .map_err(|e| KnloadError::usage(what, format!("`{s}`: {e}")))
}

/// Parses "Name: value" into a header.
pub fn parse_header(s: &str) -> Result<(HeaderName, HeaderValue), KnloadError> {
    let bad = |d: &str| KnloadError::usage("header", format!("`{s}`: {d}"));
    let (k, v) = s
        .split_once(':')
        .ok_or_else(|| bad("expected Name: value"))?;
    let k = HeaderName::from_bytes(k.trim().as_bytes()).map_err(|_| bad("bad header name"))?;
    let v = HeaderValue::from_str(v.trim()).map_err(|_| bad("bad header value"))?;
    Ok((k, v))
}

impl LoadArgs {
    /// Validates the arguments into a run configuration (reads the body file).
    pub fn validate(&self) -> Result<LoadConfig, KnloadError> {
        let url_s = self
            .url
            .as_deref()
            .ok_or_else(|| KnloadError::usage("URL", "missing"))?;
        let url: Uri = url_s
            .parse()
            .map_err(|e| KnloadError::usage("URL", format!("`{url_s}`: {e}")))?;
        if url.scheme().is_none() || url.authority().is_none() {
            return Err(KnloadError::usage(
                "URL",
                format!("`{url_s}` is not an absolute http:// URL"),
            ));
        }
        if self.threads == Some(0) {
            return Err(KnloadError::usage("--threads", "must be at least 1"));
        }
        if self.connections == 0 {
            return Err(KnloadError::usage("--connections", "must be at least 1"));
        }
        let method = Method::from_bytes(self.method.as_bytes())
            .map_err(|_| KnloadError::usage("--method", format!("`{}`", self.method)))?;
        let mut headers = HeaderMap::new();
        for h in &self.headers {
            let (k, v) = parse_header(h)?;
            headers.append(k, v);
        }
        let body = match (&self.body, &self.body_file) {
            (Some(b), _) => Bytes::from(b.clone()),
            (None, Some(p)) => Bytes::from(std::fs::read(p).map_err(|e| KnloadError::Io {
                path: p.display().to_string(),
                source: e,
            })?),
            (None, None) => Bytes::new(),
        };
        let duration_limit = self
            .duration
            .as_deref()
            .map(|d| duration("--duration", d))
            .transpose()?;
        if duration_limit.is_some_and(|d| d.is_zero()) {
            return Err(KnloadError::usage("--duration", "must be positive"));
        }
        let schedule = match (self.rate, &self.ramp) {
            (Some(r), _) if !(r.is_finite() && r > 0.0) => {
                return Err(KnloadError::usage(
                    "--rate",
                    format!("{r} is not a positive number"),
                ))
            }
            (Some(rate), _) => Schedule::Constant { rate },
            (None, Some(r)) => Schedule::Ramp(Ramp::parse(r)?),
            (None, None) => Schedule::Closed,
        };
        // A ramp without other limits ends at its last point.
        let duration_limit = match (&schedule, duration_limit, self.requests) {
            (Schedule::Ramp(r), None, None) => Some(r.end()),
            (_, d, _) => d,
        };
        let requests = match (self.requests, duration_limit) {
            (Some(0), _) => return Err(KnloadError::usage("--requests", "must be at least 1")),
            (Some(n), _) => Some(n),
            (None, Some(_)) => None,
            (None, None) => Some(200),
        };
        let timeout = duration("--timeout", &self.timeout)?;
        if timeout.is_zero() {
            return Err(KnloadError::usage("--timeout", "must be positive"));
        }
        let classifier = self
            .classify
            .as_deref()
            .map(Classifier::parse)
            .transpose()?;
        let expect = self.expect.as_deref().map(Expectation::parse).transpose()?;
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(KnloadError::usage(
                "--alpha",
                format!("{} is not in (0, 1)", self.alpha),
            ));
        }
        if !(self.min_effect > 0.0 && self.min_effect < 100.0) {
            return Err(KnloadError::usage(
                "--min-effect",
                format!("{} is not in (0, 100) points", self.min_effect),
            ));
        }
        Ok(LoadConfig {
            url,
            host: self.host.clone(),
            method,
            headers,
            body,
            http2: self.http2,
            connections: self.connections,
            threads: self.threads,
            schedule,
            ramp_text: self.ramp.clone(),
            requests,
            duration: duration_limit,
            timeout,
            classifier,
            expect,
            alpha: self.alpha,
            min_effect_points: self.min_effect,
            requests_csv: self.requests_csv.clone(),
            progress: !self.no_progress,
        })
    }
}

impl ServeArgs {
    /// Validates the arguments into a server configuration.
    pub fn validate(&self) -> Result<ServeConfig, KnloadError> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            KnloadError::usage("--listen", format!("`{}` is not IP:PORT", self.listen))
        })?;
        let mut cfg = ServeConfig {
            listen,
            message: self.message.clone(),
            header: self.header.as_deref().map(parse_header).transpose()?,
            service_time: ServiceTime::parse(&self.service_time)?,
            container_concurrency: self.container_concurrency,
            startup_delay: duration("--startup-delay", &self.startup_delay)?,
            seed: self.seed,
            ..ServeConfig::default()
        };
        if let Some(h) = &self.hostname {
            cfg.hostname = h.clone();
        }
        Ok(cfg)
    }
}
