//! The result of a run as written to JSON (schema in
//! `docs/knload-result.schema.json`), merging of several instances' results,
//! and the human-readable report.

use super::error::{clip, ErrorKind, KnloadError};
use super::split::{SplitCheck, Verdict};
use super::stats::{decode_histogram, encode_histogram, Lag, Stats, LATE_THRESHOLD};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Version of the JSON layout; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 2;

/// Closed or open loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// As fast as the connections allow.
    Closed,
    /// On a schedule (`--rate` or `--ramp`).
    Open,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencySummary {
    /// Number of values.
    pub count: u64,
    /// Smallest.
    pub min_ms: f64,
    /// Arithmetic mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p99_9_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl LatencySummary {
    /// Summarizes a microsecond histogram.
    pub fn of(h: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        let empty = h.is_empty();
        let q = |x: f64| {
            if empty {
                0.0
            } else {
                ms(h.value_at_quantile(x))
            }
        };
        LatencySummary {
            count: h.len(),
            min_ms: if empty { 0.0 } else { ms(h.min()) },
            mean_ms: if empty { 0.0 } else { h.mean() / 1000.0 },
            p50_ms: q(0.5),
            p90_ms: q(0.9),
            p99_ms: q(0.99),
            p99_9_ms: q(0.999),
            max_ms: if empty { 0.0 } else { ms(h.max()) },
        }
    }
}

/// How far behind schedule the sender fell (open loop).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LagSummary {
    /// Scheduled requests sent.
    pub sent: u64,
    /// Of those, sent more than `late_threshold_ms` after they were due.
    pub late: u64,
    /// Threshold for `late`.
    pub late_threshold_ms: f64,
    /// Largest lag.
    pub max_lag_ms: f64,
    /// Mean lag.
    pub mean_lag_ms: f64,
}

/// One response class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassResult {
    /// Responses in this class.
    pub count: u64,
    /// Share of all classified responses, 0..1.
    pub share: f64,
    /// This class's latency.
    pub latency: LatencySummary,
    /// This class's latency histogram (as `latency_hdr`).
    pub latency_hdr: String,
}

/// What was run: the options that shape the numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// Target URL.
    pub url: String,
    /// HTTP method.
    pub method: String,
    /// Host header override, if any.
    pub host: Option<String>,
    /// HTTP/2 instead of HTTP/1.1 (h2c in cleartext, by ALPN over TLS).
    pub http2: bool,
    /// Requests in flight per connection: HTTP/2 streams (`--h2-streams`),
    /// 1 for HTTP/1.1. Absent from results of earlier versions, read as 1.
    #[serde(default = "one")]
    pub h2_streams: u64,
    /// TLS settings of an https target; `None` for http (and in results of
    /// earlier versions).
    #[serde(default)]
    pub tls: Option<TlsSpec>,
    /// Closed or open loop.
    pub mode: Mode,
    /// Constant target rate (open loop with `--rate`).
    pub rate_rps: Option<f64>,
    /// Ramp schedule as given (open loop with `--ramp`).
    pub ramp: Option<String>,
    /// Connections (summed over merged instances).
    pub connections: u64,
    /// Request limit, if any (per instance).
    pub requests_limit: Option<u64>,
    /// Duration limit in seconds, if any.
    pub duration_s: Option<f64>,
    /// Per-request timeout in seconds.
    pub timeout_s: f64,
}

fn one() -> u64 {
    1
}

/// How an https target was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    /// Whether the certificate was verified (false with `--insecure`).
    pub verify: bool,
    /// The `--cacert` file trusted besides the Mozilla roots, if any.
    pub cacert: Option<String>,
    /// The name the certificate was checked against, sent as SNI (an IP
    /// address is checked but not sent).
    pub server_name: String,
    /// The protocol offered by ALPN: `h2` or `http/1.1`.
    pub alpn: String,
}

/// The machine-readable result of a run (or of several merged runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunResult {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// knload's version.
    pub knload_version: String,
    /// What was run.
    pub spec: RunSpec,
    /// How many instances' results are merged in this one (1 for a run).
    pub instances: u64,
    /// Wall time from start to the last completion (longest instance).
    pub elapsed_s: f64,
    /// Whether the run was interrupted (Ctrl-C).
    pub interrupted: bool,
    /// Requests in flight at the interrupt, counted nowhere else.
    pub abandoned: u64,
    /// Requests sent: responses plus errors.
    pub requests: u64,
    /// Complete responses (any status).
    pub responses: u64,
    /// Requests sent that failed (timeouts, resets, ...).
    pub errors: u64,
    /// Requests never sent because no connection could be opened (kinds
    /// `connect_*` in `error_counts`); not part of `requests`. Absent from
    /// version 1 files, which `merge` then refuses by their version.
    #[serde(default)]
    pub connect_errors: u64,
    /// `requests / elapsed_s`.
    pub throughput_rps: f64,
    /// Responses per status code.
    pub status_codes: BTreeMap<u16, u64>,
    /// Errors per kind.
    pub error_counts: BTreeMap<ErrorKind, u64>,
    /// The first message seen per error kind.
    pub error_examples: BTreeMap<ErrorKind, String>,
    /// Latency of all responses, from the intended send time in open loop.
    pub latency: LatencySummary,
    /// The latency histogram in microseconds: base64 of HdrHistogram's
    /// compressed V2 encoding; `merge` adds these exactly.
    pub latency_hdr: String,
    /// Schedule lag (open loop only).
    pub schedule_lag: Option<LagSummary>,
    /// Per response class (with `--classify`).
    pub classes: BTreeMap<String, ClassResult>,
    /// Responses that could not be classified (with `--classify`).
    pub unclassified: u64,
    /// The split check (with `--expect`).
    pub split_check: Option<SplitCheck>,
}

/// Parameters of the split check carried into the result.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    /// Expected weights.
    pub expect: super::split::Expectation,
    /// Significance.
    pub alpha: f64,
    /// Effect size the run is sized for, in points.
    pub min_effect_points: f64,
}

impl RunResult {
    /// Builds the result from what was recorded.
    pub fn new(
        spec: RunSpec,
        stats: &Stats,
        elapsed_s: f64,
        interrupted: bool,
        abandoned: u64,
        check: Option<&CheckSpec>,
    ) -> Self {
        let classified: u64 = stats.classes.values().map(Histogram::len).sum();
        let classes = stats
            .classes
            .iter()
            .map(|(c, h)| {
                (
                    c.clone(),
                    ClassResult {
                        count: h.len(),
                        share: h.len() as f64 / classified.max(1) as f64,
                        latency: LatencySummary::of(h),
                        latency_hdr: encode_histogram(h),
                    },
                )
            })
            .collect();
        let schedule_lag = (spec.mode == Mode::Open).then(|| lag_summary(&stats.lag));
        let split_check = check.map(|c| {
            SplitCheck::evaluate(
                &c.expect,
                &stats.class_counts(),
                stats.unclassified,
                c.alpha,
                c.min_effect_points,
            )
        });
        RunResult {
            schema_version: SCHEMA_VERSION,
            knload_version: env!("CARGO_PKG_VERSION").to_string(),
            spec,
            instances: 1,
            elapsed_s,
            interrupted,
            abandoned,
            requests: stats.total(),
            responses: stats.responses(),
            errors: stats.error_count(),
            connect_errors: stats.connect_error_count(),
            throughput_rps: if elapsed_s > 0.0 {
                stats.total() as f64 / elapsed_s
            } else {
                0.0
            },
            status_codes: stats.status.clone(),
            error_counts: stats.errors.clone(),
            error_examples: stats.error_examples.clone(),
            latency: LatencySummary::of(&stats.latency),
            latency_hdr: encode_histogram(&stats.latency),
            schedule_lag,
            classes,
            unclassified: stats.unclassified,
            split_check,
        }
    }

    /// Rebuilds the recorded stats (exactly, from the histograms).
    pub fn stats(&self) -> Result<Stats, String> {
        let mut classes = BTreeMap::new();
        for (c, r) in &self.classes {
            classes.insert(c.clone(), decode_histogram(&r.latency_hdr)?);
        }
        let lag = self.schedule_lag.as_ref().map_or(Lag::default(), |l| Lag {
            sent: l.sent,
            late: l.late,
            max_ns: (l.max_lag_ms * 1e6).round() as u64,
            sum_ns: (l.mean_lag_ms * 1e6 * l.sent as f64).round() as u128,
        });
        Ok(Stats {
            latency: decode_histogram(&self.latency_hdr)?,
            status: self.status_codes.clone(),
            errors: self.error_counts.clone(),
            error_examples: self.error_examples.clone(),
            classes,
            unclassified: self.unclassified,
            lag,
        })
    }

    /// Combines results of instances that ran side by side: counts and
    /// histograms add up, the elapsed time is the longest, connections and
    /// rates add up; the split check is redone on the merged counts.
    pub fn merge(parts: &[(String, RunResult)]) -> Result<RunResult, KnloadError> {
        let ((first_path, first), rest) = parts
            .split_first()
            .ok_or_else(|| KnloadError::usage("merge", "no result files given"))?;
        let bad = |path: &str, detail: String| KnloadError::BadResult {
            path: path.to_string(),
            detail,
        };
        let mut stats = first.stats().map_err(|e| bad(first_path, e))?;
        let mut spec = first.spec.clone();
        let (mut elapsed, mut instances, mut interrupted, mut abandoned) = (
            first.elapsed_s,
            first.instances,
            first.interrupted,
            first.abandoned,
        );
        for (path, r) in parts {
            if r.schema_version != SCHEMA_VERSION {
                return Err(bad(
                    path,
                    format!(
                        "written with result schema version {}; this knload reads version {SCHEMA_VERSION}",
                        r.schema_version
                    ),
                ));
            }
        }
        for (path, r) in rest {
            if r.spec.mode != spec.mode {
                return Err(bad(path, "mixes open and closed loop runs".into()));
            }
            stats.merge(&r.stats().map_err(|e| bad(path, e))?);
            spec.connections += r.spec.connections;
            spec.rate_rps = spec.rate_rps.zip(r.spec.rate_rps).map(|(a, b)| a + b);
            elapsed = elapsed.max(r.elapsed_s);
            instances += r.instances;
            interrupted |= r.interrupted;
            abandoned += r.abandoned;
        }
        let check = first
            .split_check
            .as_ref()
            .map(|c| {
                c.expectation().map(|expect| CheckSpec {
                    expect,
                    alpha: c.alpha,
                    min_effect_points: c.min_effect_points,
                })
            })
            .transpose()?;
        let mut merged = RunResult::new(
            spec,
            &stats,
            elapsed,
            interrupted,
            abandoned,
            check.as_ref(),
        );
        merged.instances = instances;
        Ok(merged)
    }

    /// Why results to be merged are not of the same target: one line per
    /// file whose URL, Host or method differs from the first file's.
    pub fn target_differences(parts: &[(String, RunResult)]) -> Vec<String> {
        let Some(((first_path, first), rest)) = parts.split_first() else {
            return Vec::new();
        };
        let target = |r: &RunResult| {
            let s = &r.spec;
            format!(
                "{} {}{}",
                s.method,
                clip(&s.url),
                s.host
                    .as_deref()
                    .map(|h| format!(" (Host: {})", clip(h)))
                    .unwrap_or_default()
            )
        };
        let want = target(first);
        rest.iter()
            .filter(|(_, r)| target(r) != want)
            .map(|(path, r)| {
                format!(
                    "{path} loaded {}, but {first_path} loaded {want}",
                    target(r)
                )
            })
            .collect()
    }

    /// Why the run counts as failed, if it does: the split check said FAIL,
    /// or requests were due and none got a response.
    pub fn failure(&self) -> Option<String> {
        if self.verdict() == Some(Verdict::Fail) {
            return Some("the split check failed".into());
        }
        let attempted = self.requests + self.connect_errors;
        if self.responses == 0 && attempted > 0 {
            return Some(format!(
                "no request got a response ({} failed after being sent, {} could not connect)",
                self.errors, self.connect_errors
            ));
        }
        None
    }

    /// The verdict of the split check, if there was one.
    pub fn verdict(&self) -> Option<Verdict> {
        self.split_check.as_ref().map(|c| c.verdict)
    }

    /// The human-readable report.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let s = &self.spec;
        let mode = match (s.mode, s.rate_rps, &s.ramp) {
            (Mode::Closed, ..) => "closed loop".to_string(),
            (Mode::Open, Some(q), Some(r)) => {
                format!("open loop, ramp {r}, then {q} req/s")
            }
            (Mode::Open, Some(r), None) => format!("open loop at {r} req/s"),
            (Mode::Open, None, Some(r)) => format!("open loop, ramp {r}"),
            (Mode::Open, None, None) => "open loop".to_string(),
        };
        let _ = writeln!(
            o,
            "Target:      {} {}{}",
            s.method,
            s.url,
            s.host
                .as_ref()
                .map(|h| format!(" (Host: {h})"))
                .unwrap_or_default()
        );
        let streams = if s.h2_streams > 1 {
            format!(", {} streams each", s.h2_streams)
        } else {
            String::new()
        };
        let protocol = match (s.http2, &s.tls) {
            (false, None) => String::new(),
            (true, None) => format!(", h2c{streams}"),
            (h2, Some(t)) => format!(
                ", {} over TLS ({}, server name {}){streams}",
                if h2 { "HTTP/2" } else { "HTTP/1.1" },
                match (t.verify, &t.cacert) {
                    (false, _) => "certificate NOT verified: --insecure".to_string(),
                    (true, None) => "certificate verified".to_string(),
                    (true, Some(ca)) => format!("certificate verified, also trusting {ca}"),
                },
                t.server_name
            ),
        };
        let _ = writeln!(
            o,
            "Load:        {mode}, {} connections{}{}",
            s.connections,
            protocol,
            if self.instances > 1 {
                format!(", {} instances merged", self.instances)
            } else {
                String::new()
            }
        );
        if self.interrupted {
            let _ = writeln!(
                o,
                "Interrupted: yes ({} requests in flight were abandoned)",
                self.abandoned
            );
        }
        let _ = writeln!(
            o,
            "Requests:    {} sent in {:.3} s = {:.1} req/s ({} responses, {} errors)",
            self.requests, self.elapsed_s, self.throughput_rps, self.responses, self.errors
        );
        if self.connect_errors > 0 {
            let _ = writeln!(
                o,
                "Not sent:    {} (no connection could be opened; each loop retried with a backoff)",
                self.connect_errors
            );
        }
        let l = &self.latency;
        if l.count == 0 {
            let _ = writeln!(o, "Latency ms:  none (no responses)");
        } else {
            let _ = writeln!(
                o,
                "Latency ms:  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}  mean {:.3}",
                l.p50_ms, l.p90_ms, l.p99_ms, l.p99_9_ms, l.max_ms, l.mean_ms
            );
        }
        if let Some(g) = &self.schedule_lag {
            if g.late > 0 {
                let _ = writeln!(
                    o,
                    "Schedule:    BEHIND: {} of {} requests sent more than {} ms late (max {:.3} ms, mean {:.3} ms); latencies include the wait",
                    g.late, g.sent, g.late_threshold_ms, g.max_lag_ms, g.mean_lag_ms
                );
            } else {
                let _ = writeln!(o, "Schedule:    kept (max lag {:.3} ms)", g.max_lag_ms);
            }
        }
        let codes: Vec<String> = self
            .status_codes
            .iter()
            .map(|(c, n)| format!("{c}: {n}"))
            .collect();
        let _ = writeln!(
            o,
            "Status:      {}",
            if codes.is_empty() {
                "none".into()
            } else {
                codes.join(", ")
            }
        );
        for (k, n) in &self.error_counts {
            let ex = self.error_examples.get(k).map(String::as_str).unwrap_or("");
            let _ = writeln!(o, "Error:       {k}: {n} ({ex})");
        }
        if !self.classes.is_empty() || self.unclassified > 0 {
            let _ = writeln!(
                o,
                "Classes:     {:<16} {:>9} {:>8} {:>10} {:>10}",
                "class", "count", "share", "p50 ms", "p99 ms"
            );
            for (c, r) in &self.classes {
                let _ = writeln!(
                    o,
                    "             {:<16} {:>9} {:>7.2}% {:>10.3} {:>10.3}",
                    c,
                    r.count,
                    100.0 * r.share,
                    r.latency.p50_ms,
                    r.latency.p99_ms
                );
            }
            let _ = writeln!(
                o,
                "             {:<16} {:>9}",
                "(unclassified)", self.unclassified
            );
        }
        if let Some(c) = &self.split_check {
            let _ = writeln!(
                o,
                "Split check: chi-square {:.3}, df {}, p = {:.4}, alpha {}",
                c.chi_square, c.degrees_of_freedom, c.p_value, c.alpha
            );
            for (cl, k) in &c.classes {
                let _ = writeln!(
                    o,
                    "             {:<16} expected {:>6.2}%  observed {:>6.2}% ({}), 95% CI {:.2}%..{:.2}%",
                    cl,
                    100.0 * k.expected_share,
                    100.0 * k.observed_share,
                    k.observed,
                    100.0 * k.wilson_low,
                    100.0 * k.wilson_high
                );
            }
            let v = match c.verdict {
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
            };
            let _ = writeln!(o, "Verdict:     {v}");
            for r in &c.reasons {
                let _ = writeln!(o, "             - {r}");
            }
        }
        o
    }
}

fn lag_summary(l: &Lag) -> LagSummary {
    LagSummary {
        sent: l.sent,
        late: l.late,
        late_threshold_ms: LATE_THRESHOLD.as_secs_f64() * 1000.0,
        max_lag_ms: l.max_ns as f64 / 1e6,
        mean_lag_ms: if l.sent > 0 {
            l.sum_ns as f64 / l.sent as f64 / 1e6
        } else {
            0.0
        },
    }
}
