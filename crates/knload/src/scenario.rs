//! `knload --scenario`: the workload of a knsim scenario, sent to a real
//! service. Arrival times come from knsim's own generators
//! ([`knsim::workload::Workloads::arrivals`]) with the same seed, so the
//! measurement and the prediction see the same requests at the same
//! intended times.
//!
//! ```text
//!  scenario ──knsim::workload──▶ arrivals per source ──group by address──▶ Schedule::Times per target ─┐
//!           closed-loop source ─────────────────────────────────────────▶ Schedule::ClosedThink ──────┼─▶ run_load each, concurrently
//!                                                                                                       └─▶ merged result + CSV (target column)
//! ```

use super::error::{clip, KnloadError};
use super::schedule::{Schedule, Think};
use super::{run_load, LoadConfig, RunResult};
use hyper::Uri;
use knsim::scenario::{load_scenario, Scenario};
use knsim::sim::RngStreams;
use knsim::workload::SourceKind;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How to follow a scenario.
#[derive(Debug, Clone)]
pub struct ScenarioOptions {
    /// Scenario file.
    pub path: PathBuf,
    /// Knative Service name for Host headers [default: the scenario's].
    pub service: Option<String>,
    /// Domain for Host headers built from the service name
    /// (`NAME.DOMAIN`, tags `TAG-NAME.DOMAIN`).
    pub domain: Option<String>,
    /// Master seed [default: the scenario's].
    pub seed: Option<u64>,
    /// Time compression: every offset, duration and think time divided by it.
    pub speedup: f64,
    /// A URL per tag.
    pub tag_urls: BTreeMap<String, String>,
}

/// One group of requests with one address and one schedule.
#[derive(Debug, Clone)]
pub struct Part {
    /// Tag, or empty for the main route.
    pub target: String,
    /// Workload source names in the part.
    pub sources: Vec<String>,
    /// Where to send.
    pub url: Option<Uri>,
    /// Host header.
    pub host: Option<String>,
    /// When the part starts (closed loops start at their `start`).
    pub offset: Duration,
    /// Its schedule.
    pub schedule: Schedule,
    /// Connections: the clients of a closed loop; `None` for the run's -c.
    pub connections: Option<usize>,
    /// Closed loops: how long clients send.
    pub duration: Option<Duration>,
}

/// Every part of a scenario's workload, by target (main route first, then
/// tags in name order), then the closed-loop sources in scenario order.
pub fn parts(sc: &Scenario, seed: u64, speedup: f64) -> Vec<Part> {
    let streams = RngStreams::new(seed);
    let mut open: BTreeMap<String, (Vec<String>, Vec<Duration>)> = BTreeMap::new();
    let mut closed = Vec::new();
    let scale = |ns: u64| Duration::from_secs_f64(ns as f64 / 1e9 / speedup);
    for (i, src) in sc.workloads.sources.iter().enumerate() {
        let own = src.tag.clone().unwrap_or_default();
        match &src.kind {
            SourceKind::Open(_) => {
                let Some(gen) = sc.workloads.arrivals(i, &streams) else {
                    continue;
                };
                let names = gen.tag_names().to_vec();
                for a in gen {
                    let target = a
                        .tag
                        .and_then(|t| names.get(t as usize).cloned())
                        .unwrap_or_else(|| own.clone());
                    let e = open.entry(target).or_default();
                    if !e.0.contains(&src.name) {
                        e.0.push(src.name.clone());
                    }
                    e.1.push(scale(a.time.as_nanos()));
                }
            }
            SourceKind::Closed {
                clients,
                think,
                start,
                end,
            } => closed.push(Part {
                target: own,
                sources: vec![src.name.clone()],
                url: None,
                host: None,
                offset: scale(start.as_nanos()),
                schedule: Schedule::ClosedThink(Think {
                    // Think times were divided by the scenario's own
                    // speedup when it was loaded; --speedup divides again.
                    dist: think.scaled(1.0 / speedup),
                    seed: seed.wrapping_add(i as u64),
                }),
                connections: Some(*clients as usize),
                duration: Some(scale(
                    end.as_nanos().min(sc.duration.0) - start.as_nanos().min(sc.duration.0),
                )),
            }),
        }
    }
    let mut out: Vec<Part> = open
        .into_iter()
        .map(|(target, (sources, mut times))| {
            // Sources interleave; a stable sort keeps each one's order.
            times.sort();
            Part {
                target,
                sources,
                url: None,
                host: None,
                offset: Duration::ZERO,
                schedule: Schedule::Times(Arc::from(times)),
                connections: None,
                duration: None,
            }
        })
        .collect();
    out.extend(closed);
    out
}

/// Loads the scenario and addresses every part: a tag goes to its
/// `--tag-url`, else to the main URL with Host `TAG-HOST`.
pub fn plan(
    opts: &ScenarioOptions,
    base: &LoadConfig,
) -> Result<(Scenario, Vec<Part>), KnloadError> {
    if !(opts.speedup.is_finite() && opts.speedup > 0.0) {
        return Err(KnloadError::usage(
            "--speedup",
            format!("{} is not a positive number", opts.speedup),
        ));
    }
    let sc = load_scenario(&opts.path, &[])
        .map_err(|e| KnloadError::usage("--scenario", format!("{}: {e}", opts.path.display())))?;
    let seed = opts.seed.unwrap_or(sc.seed);
    let service = opts.service.clone().unwrap_or_else(|| sc.service.clone());
    let main_host = base
        .host
        .clone()
        .or_else(|| opts.domain.as_ref().map(|d| format!("{service}.{d}")));
    let mut parts = parts(&sc, seed, opts.speedup);
    for p in &mut parts {
        if p.target.is_empty() {
            p.url = Some(base.url.clone());
            p.host = main_host.clone();
            continue;
        }
        if let Some(u) = opts.tag_urls.get(&p.target) {
            let url: Uri = u
                .parse()
                .map_err(|e| KnloadError::usage("--tag-url", format!("`{}`: {e}", clip(u))))?;
            super::addr::url_port(&url)?;
            p.url = Some(url);
            p.host = None;
            continue;
        }
        match &main_host {
            Some(h) => {
                p.url = Some(base.url.clone());
                p.host = Some(format!("{}-{h}", p.target));
            }
            None => {
                return Err(KnloadError::usage(
                    "--scenario",
                    format!(
                        "workload {} sends to tag `{}`, which has no address: give --tag-url {}=URL, or --host (or --domain) so that its Host is {}-HOST",
                        p.sources.join(", "),
                        p.target,
                        p.target,
                        p.target
                    ),
                ))
            }
        }
    }
    for tag in opts.tag_urls.keys() {
        if !parts.iter().any(|p| &p.target == tag) {
            return Err(KnloadError::usage(
                "--tag-url",
                format!("no workload of the scenario sends to tag `{tag}`"),
            ));
        }
    }
    if parts.is_empty() {
        return Err(KnloadError::usage(
            "--scenario",
            format!("{}: the workload sends no requests", opts.path.display()),
        ));
    }
    Ok((sc, parts))
}

fn part_csv(csv: &Path, k: usize) -> PathBuf {
    let mut p = csv.as_os_str().to_owned();
    p.push(format!(".part{k}"));
    PathBuf::from(p)
}

/// Runs every part at once, each with its own connections, and merges the
/// results; the per-request CSV gets a `target` column (the tag, empty for
/// the main route) and timestamps from the common start.
pub async fn run_scenario(
    base: LoadConfig,
    parts: Vec<Part>,
    cancel: watch::Receiver<bool>,
) -> Result<RunResult, KnloadError> {
    let mut handles = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        let mut cfg = base.clone();
        cfg.url = p.url.clone().expect("plan() addresses every part");
        cfg.host = p.host.clone();
        cfg.schedule = p.schedule.clone();
        cfg.connections = p.connections.unwrap_or(base.connections);
        cfg.requests = None;
        cfg.duration = p.duration;
        cfg.rate = None;
        cfg.ramp_text = None;
        cfg.requests_csv = base.requests_csv.as_ref().map(|c| part_csv(c, k));
        let offset = p.offset;
        let mut cancel = cancel.clone();
        handles.push(tokio::spawn(async move {
            if !offset.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(offset) => {}
                    _ = cancel.wait_for(|c| *c) => {}
                }
            }
            run_load(cfg, cancel).await
        }));
    }
    let mut results = Vec::new();
    for (h, p) in handles.into_iter().zip(&parts) {
        let r = h.await.expect("a scenario part does not panic")?;
        let name = if p.target.is_empty() {
            "main route".to_string()
        } else {
            format!("tag {}", p.target)
        };
        results.push((format!("{name} ({})", p.sources.join(", ")), r));
    }
    if let Some(csv) = &base.requests_csv {
        merge_csv(csv, &parts)?;
    }
    // Parts of a scenario may mix open and closed loops; the merged
    // result counts them together as one open-loop run.
    let mode = results[0].1.spec.mode;
    for (_, r) in &mut results {
        r.spec.mode = mode;
    }
    RunResult::merge(&results)
}

fn merge_csv(csv: &Path, parts: &[Part]) -> Result<(), KnloadError> {
    let io = |p: &Path, e: String| KnloadError::Io {
        path: p.display().to_string(),
        source: std::io::Error::other(e),
    };
    let mut rows: Vec<(f64, csv::StringRecord, String)> = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        let path = part_csv(csv, k);
        let mut rdr = csv::Reader::from_path(&path).map_err(|e| io(&path, e.to_string()))?;
        for rec in rdr.records() {
            let rec = rec.map_err(|e| io(&path, e.to_string()))?;
            let t: f64 = rec.get(0).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            rows.push((t + p.offset.as_secs_f64(), rec, p.target.clone()));
        }
        std::fs::remove_file(&path).map_err(|e| io(&path, e.to_string()))?;
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut w = csv::Writer::from_path(csv).map_err(|e| io(csv, e.to_string()))?;
    w.write_record(["timestamp_s", "latency_s", "status", "class", "target"])
        .map_err(|e| io(csv, e.to_string()))?;
    for (t, rec, target) in rows {
        let ts = format!("{t:.6}");
        w.write_record([
            ts.as_str(),
            rec.get(1).unwrap_or(""),
            rec.get(2).unwrap_or(""),
            rec.get(3).unwrap_or(""),
            target.as_str(),
        ])
        .map_err(|e| io(csv, e.to_string()))?;
    }
    w.flush().map_err(|e| io(csv, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(text: &str) -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        std::fs::write(&p, text).unwrap();
        load_scenario(&p, &[]).unwrap()
    }

    const TWO: &str = r#"
name = "t"
duration = "20s"
seed = 5
[[revision]]
name = "r1"
service-time = { distribution = "constant", value = "10ms" }
[[workload]]
name = "a"
arrival = { process = "poisson", rate = 30.0 }
[[workload]]
name = "b"
arrival = { process = "constant", rate = 2.0 }
[[workload]]
name = "c"
arrival = { process = "closed-loop", clients = 3, think = { distribution = "constant", value = "1s" } }
"#;

    #[test]
    fn open_sources_merge_into_one_sorted_schedule_per_target() {
        let sc = scenario(TWO);
        let ps = parts(&sc, 5, 1.0);
        assert_eq!(ps.len(), 2);
        let Schedule::Times(t) = &ps[0].schedule else {
            panic!("{:?}", ps[0].schedule)
        };
        // The same generators, drawn independently here.
        let streams = RngStreams::new(5);
        let mut want: Vec<Duration> = (0..2)
            .flat_map(|i| sc.workloads.arrivals(i, &streams).unwrap())
            .map(|a| Duration::from_nanos(a.time.as_nanos()))
            .collect();
        want.sort();
        assert_eq!(&t[..], &want[..]);
        assert_eq!(ps[0].sources, vec!["a".to_string(), "b".to_string()]);
        assert!(matches!(ps[1].schedule, Schedule::ClosedThink(_)));
        assert_eq!(ps[1].connections, Some(3));
        assert_eq!(ps[1].duration, Some(Duration::from_secs(20)));
    }

    #[test]
    fn speedup_divides_every_time() {
        let sc = scenario(TWO);
        let slow = parts(&sc, 5, 1.0);
        let fast = parts(&sc, 5, 4.0);
        let (Schedule::Times(a), Schedule::Times(b)) = (&slow[0].schedule, &fast[0].schedule)
        else {
            panic!()
        };
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b.iter()) {
            assert!((x.as_secs_f64() / 4.0 - y.as_secs_f64()).abs() < 1e-9);
        }
        assert_eq!(fast[1].duration, Some(Duration::from_secs(5)));
    }
}
