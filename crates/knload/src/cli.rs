//! Command-line arguments (raw, as clap parses them) and their validation
//! into the typed [`LoadConfig`] the run trusts.

use super::addr::{check_host, listen_addr};
use super::error::{clip, clip_in, KnloadError};
use super::scenario::ScenarioOptions;
use super::sched::Scheduling;
use super::schedule::{Ramp, Schedule};
use super::serve::{ServeConfig, ServiceTime};
use super::split::{Classifier, Expectation};
use super::tls::TlsOptions;
use super::LoadConfig;
use bytes::Bytes;
use clap::{Args, Parser, Subcommand};
use hyper::header::{HeaderName, HeaderValue, HOST};
use hyper::{HeaderMap, Method, Uri};
use knsim::sim::parse_go_duration;
use std::path::PathBuf;
use std::time::Duration;

/// Examples under `knload --help`; a test runs each through the parser.
pub const LOAD_EXAMPLES: &str = "\
Examples:
  knload -z 10s -c 50 http://127.0.0.1:8080/
      closed loop: 50 connections as fast as they go, for 10 s
  knload -z 60s -q 2000 --ramp 0s:5%,30s:100% http://127.0.0.1:8080/
      open loop: ramp up to 2000 req/s over 30 s, then hold it until 60 s
  knload -n 10000 --host greeter.default.example.com --classify 'body:^(Hi|Namaste)' --expect Hi=50,Namaste=50 http://127.0.0.1:8080/
      check a 50/50 traffic split through an ingress (exit 1 on FAIL)
  knload -z 30s -q 5000 -c 4 --h2-streams 32 --cacert ca.pem --host greeter.default.example.com https://127.0.0.1:8443/
      HTTPS through an ingress whose certificate a private CA signed: 4 HTTP/2 connections, 32 streams each
  knload --scenario scenarios/greeter-tutorial.toml --domain default.example.com --speedup 10 --requests-csv m.csv http://127.0.0.1:8080/
      a knsim scenario's workload, same arrival times as knsim's for its seed, 10x faster; tags by Host latest-greeter...";

/// Examples under `knload merge --help`.
pub const MERGE_EXAMPLES: &str = "\
Examples:
  knload merge a.json b.json
      print the report of both instances together
  knload merge --json all.json a.json b.json c.json
      also write the merged result
  knload merge --strict a.json b.json
      refuse results of different targets instead of warning";

/// Examples under `knload serve --help`.
pub const SERVE_EXAMPLES: &str = "\
Examples:
  knload serve --listen 127.0.0.1:8081 --message Hi
      answer \"Hi <hostname> <counter>\" at once
  knload serve --listen 127.0.0.1:0 --service-time exp:20ms --container-concurrency 1
      one request at a time, exponential service, 503 when 10 are waiting
  knload serve --listen 127.0.0.1:8082 --message Namaste --startup-delay 2s
      a cold start: connections are accepted after 2 s
  knload serve --listen 127.0.0.1:8443 --tls --tls-name '*.default.example.com' --tls-cert-out ca.pem
      HTTPS (HTTP/2 or HTTP/1.1 by ALPN) with a generated certificate; knload --cacert ca.pem trusts it";

/// Load an HTTP target, report latency and errors, check a traffic split.
#[derive(Debug, Parser)]
#[command(
    name = "knload",
    version,
    about = "Load an HTTP target open or closed loop, report latency and errors, check a traffic split",
    after_help = LOAD_EXAMPLES,
    allow_negative_numbers = true,
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
    /// Merge the --json results of instances that ran side by side (histograms add exactly).
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),
    /// Serve HTTP as a stand-in for a Knative revision (service time, containerConcurrency).
    #[command(after_help = SERVE_EXAMPLES, allow_negative_numbers = true)]
    Serve(ServeArgs),
}

/// A whole number of at least `min`; a negative number gets a message of
/// its own rather than clap's "unexpected argument".
fn whole<T: TryFrom<u128>>(s: &str, min: u128) -> Result<T, String> {
    let t = s.trim();
    if let Some(n) = t
        .strip_prefix('-')
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("must be {min} or more, not -{}", clip(n)));
    }
    let n: u128 = t
        .parse()
        .map_err(|_| format!("`{}` is not a whole number", clip(t)))?;
    if n < min {
        return Err(format!("must be {min} or more, not {n}"));
    }
    T::try_from(n).map_err(|_| format!("{} is too large", clip(t)))
}

/// A count of at least 1 (connections, requests, threads).
fn at_least_one<T: TryFrom<u128>>(s: &str) -> Result<T, String> {
    whole(s, 1)
}

/// A count that may be 0.
fn non_negative<T: TryFrom<u128>>(s: &str) -> Result<T, String> {
    whole(s, 0)
}

/// A finite number above 0 (a rate).
fn positive_number(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{}` is not a number", clip(s)))?;
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(format!("must be a positive number, not {}", clip(s.trim())))
    }
}

/// Options of a load run.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Target URL, http:// or https:// (the port, if given, 1-65535).
    #[arg(required = true)]
    pub url: Option<String>,
    /// Run for this long (Go duration: 10s, 1m30s).
    #[arg(short = 'z', long)]
    pub duration: Option<String>,
    /// Stop after this many requests [default: 200 unless -z or --ramp is given].
    #[arg(short = 'n', long, value_parser = at_least_one::<u64>)]
    pub requests: Option<u64>,
    /// Concurrent connections.
    #[arg(short = 'c', long, default_value_t = 50, value_parser = at_least_one::<usize>)]
    pub connections: usize,
    /// Total requests per second, open loop (closed loop without it and
    /// without --ramp). With --ramp: the rate the ramp leads to, held after
    /// its last point, and what a ramp rate written as N% is a percentage of.
    #[arg(short = 'q', long, value_parser = positive_number)]
    pub rate: Option<f64>,
    /// Open-loop rate schedule, linear between points: 0s:100,60s:1000,120s:1000
    /// (with -q 1000 also 0s:10%,60s:100%); the first point is at 0s.
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
    /// HTTP/2: over cleartext with prior knowledge (h2c), over TLS by ALPN.
    #[arg(long)]
    pub http2: bool,
    /// Requests in flight on each connection, as HTTP/2 streams (like
    /// h2load's -m); more than 1 implies --http2.
    #[arg(long = "h2-streams", value_name = "N", default_value_t = 1, value_parser = at_least_one::<usize>)]
    pub h2_streams: usize,
    /// https: also trust the CA certificates in this PEM file (a private
    /// CA, or a self-signed certificate itself), besides the bundled roots.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub cacert: Option<PathBuf>,
    /// https: do not verify the certificate (chain, expiry, name).
    #[arg(short = 'k', long)]
    pub insecure: bool,
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
    #[arg(long, value_parser = at_least_one::<usize>)]
    pub threads: Option<usize>,
    /// OS scheduling of the load threads. batch (Linux's SCHED_BATCH): a
    /// thread woken by a response does not preempt the server when the two
    /// share a core, so both work through many requests per turn, but a
    /// timed send can be late on a busy core; normal: the system's ordinary
    /// policy; auto: batch for a closed loop, normal for an open loop or a
    /// scenario.
    #[arg(long, value_enum, default_value_t)]
    pub sched: Scheduling,
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
    /// Send a knsim scenario's workload: its requests at the times knsim
    /// draws them for the same seed (URL is the main route; -c connections
    /// per address).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["duration", "requests", "rate", "ramp", "expect"])]
    pub scenario: Option<PathBuf>,
    /// With --scenario: the Knative Service's name for Host headers built
    /// with --domain [default: the scenario's service].
    #[arg(long, value_name = "NAME", requires = "scenario")]
    pub service: Option<String>,
    /// With --scenario: Host NAME.DOMAIN for the main route and
    /// TAG-NAME.DOMAIN for tags (Knative's default templates), e.g.
    /// default.example.com.
    #[arg(
        long,
        value_name = "DOMAIN",
        requires = "scenario",
        conflicts_with = "host"
    )]
    pub domain: Option<String>,
    /// With --scenario: seed of the arrivals [default: the scenario's].
    #[arg(long, requires = "scenario", value_parser = non_negative::<u64>)]
    pub seed: Option<u64>,
    /// With --scenario: play the scenario this many times faster (every
    /// time and think time divided by it).
    #[arg(long, requires = "scenario", default_value_t = 1.0, value_parser = positive_number)]
    pub speedup: f64,
    /// With --scenario: send a tag's requests to this URL (repeatable);
    /// without it a tag's Host is TAG-HOST (HOST from --host or --domain).
    #[arg(long = "tag-url", value_name = "TAG=URL", requires = "scenario")]
    pub tag_urls: Vec<String>,
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
    /// Refuse (exit 2) results of different targets (URL, Host, method)
    /// instead of warning and merging them.
    #[arg(long)]
    pub strict: bool,
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
    #[arg(long = "container-concurrency", default_value_t = 0, value_parser = non_negative::<usize>)]
    pub container_concurrency: usize,
    /// Wait this long before accepting connections (a cold start).
    #[arg(long = "startup-delay", default_value = "0s")]
    pub startup_delay: String,
    /// Seed of the service-time stream.
    #[arg(long, default_value_t = 1, value_parser = non_negative::<u64>)]
    pub seed: u64,
    /// Serve HTTPS (HTTP/2 or HTTP/1.1 by ALPN) with a self-signed
    /// certificate generated at start for localhost, 127.0.0.1 and ::1; its
    /// PEM is printed after the address unless --tls-cert-out is given.
    #[arg(long)]
    pub tls: bool,
    /// A further name for the certificate, e.g. greeter.default.example.com
    /// or *.default.example.com (repeatable).
    #[arg(long = "tls-name", value_name = "NAME", requires = "tls")]
    pub tls_names: Vec<String>,
    /// Write the certificate (PEM) to this file, for knload --cacert.
    #[arg(long = "tls-cert-out", value_name = "FILE", requires = "tls")]
    pub tls_cert_out: Option<PathBuf>,
}

fn duration(what: &str, s: &str) -> Result<Duration, KnloadError> {
    parse_go_duration(s)
        .map(|d| Duration::from_nanos(d.0))
        .map_err(|e| KnloadError::usage(what, format!("`{}`: {}", clip(s), clip_in(e, s))))
}

/// Parses "Name: value" into a header.
pub fn parse_header(s: &str) -> Result<(HeaderName, HeaderValue), KnloadError> {
    let bad = |d: &str| KnloadError::usage("header", format!("`{}`: {d}", clip(s)));
    let (k, v) = s
        .split_once(':')
        .ok_or_else(|| bad("expected Name: value"))?;
    let k = HeaderName::from_bytes(k.trim().as_bytes()).map_err(|_| bad("bad header name"))?;
    let v = HeaderValue::from_str(v.trim()).map_err(|_| bad("bad header value"))?;
    Ok((k, v))
}

impl LoadArgs {
    /// The `--scenario` options, if one is given.
    pub fn scenario_options(&self) -> Result<Option<ScenarioOptions>, KnloadError> {
        let Some(path) = &self.scenario else {
            return Ok(None);
        };
        let mut tag_urls = std::collections::BTreeMap::new();
        for t in &self.tag_urls {
            let (tag, url) = t.split_once('=').ok_or_else(|| {
                KnloadError::usage("--tag-url", format!("`{}` is not TAG=URL", clip(t)))
            })?;
            if tag_urls
                .insert(tag.trim().to_string(), url.trim().to_string())
                .is_some()
            {
                return Err(KnloadError::usage(
                    "--tag-url",
                    format!("tag `{}` given twice", clip(tag)),
                ));
            }
        }
        if let Some(d) = &self.domain {
            check_host("--domain", d)?;
        }
        Ok(Some(ScenarioOptions {
            path: path.clone(),
            service: self.service.clone(),
            domain: self.domain.clone(),
            seed: self.seed,
            speedup: self.speedup,
            tag_urls,
        }))
    }

    /// Validates the arguments into a run configuration (reads the body file).
    pub fn validate(&self) -> Result<LoadConfig, KnloadError> {
        let url_s = self
            .url
            .as_deref()
            .ok_or_else(|| KnloadError::usage("URL", "missing"))?;
        let url: Uri = url_s
            .parse()
            .map_err(|e| KnloadError::usage("URL", format!("`{}`: {e}", clip(url_s))))?;
        if url.scheme().is_none() || url.authority().is_none() {
            return Err(KnloadError::usage(
                "URL",
                format!("`{}` is not an absolute http:// URL", clip(url_s)),
            ));
        }
        let https = match url.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => {
                return Err(KnloadError::usage(
                    "URL",
                    format!("`{}` must start with http:// or https://", clip(url_s)),
                ))
            }
        };
        // Certificate options on a cleartext URL are a mistake worth
        // stopping for: the user meant to check a certificate.
        if !https && (self.insecure || self.cacert.is_some()) {
            let what = if self.insecure {
                "--insecure"
            } else {
                "--cacert"
            };
            return Err(KnloadError::usage(
                what,
                format!("only applies to an https:// URL, not `{}`", clip(url_s)),
            ));
        }
        super::addr::url_port(&url)?;
        if let Some(h) = &self.host {
            check_host("--host", h)?;
        }
        if self.threads == Some(0) {
            return Err(KnloadError::usage("--threads", "must be at least 1"));
        }
        if self.connections == 0 {
            return Err(KnloadError::usage("--connections", "must be at least 1"));
        }
        let method = Method::from_bytes(self.method.as_bytes())
            .map_err(|_| KnloadError::usage("--method", format!("`{}`", clip(&self.method))))?;
        let mut headers = HeaderMap::new();
        for h in &self.headers {
            let (k, v) = parse_header(h)?;
            if k == HOST {
                check_host("header", v.to_str().unwrap_or_default())?;
            }
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
            (Some(rate), Some(r)) => Schedule::Ramp(Ramp::parse_towards(r, rate)?),
            (Some(rate), None) => Schedule::Constant { rate },
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
            http2: self.http2 || self.h2_streams > 1,
            h2_streams: self.h2_streams,
            tls: TlsOptions {
                insecure: self.insecure,
                cacert: self.cacert.clone(),
            },
            connections: self.connections,
            threads: self.threads,
            scheduling: self.sched,
            schedule,
            rate: self.rate,
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
        let listen = listen_addr(&self.listen)?;
        let mut cfg = ServeConfig {
            listen,
            message: self.message.clone(),
            header: self.header.as_deref().map(parse_header).transpose()?,
            service_time: ServiceTime::parse(&self.service_time)?,
            container_concurrency: self.container_concurrency,
            startup_delay: duration("--startup-delay", &self.startup_delay)?,
            seed: self.seed,
            tls: self.tls,
            tls_names: self.tls_names.clone(),
            ..ServeConfig::default()
        };
        if let Some(h) = &self.hostname {
            cfg.hostname = h.clone();
        }
        Ok(cfg)
    }
}
