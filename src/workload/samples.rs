//! Synthetic sample traces in every supported file format, with the real
//! column layouts, so that scenarios can replay them without downloading
//! anything. `knsim gen-traces DIR` calls [`generate`]; the files shipped in
//! `scenarios/traces/` are its output for [`SAMPLE_SEED`].

use super::{
    build_workloads, ArrivalGen, ArrivalSpec, Dist, DurationValue, LoadOptionsSpec, WorkloadError,
    WorkloadSpec,
};
use crate::sim::{SimRng, SimTime};
use rand::{Rng, SeedableRng};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The seed of the sample files shipped in `scenarios/traces/`.
pub const SAMPLE_SEED: u64 = 2019;

/// Per-request trace, 5 minutes of bursty traffic with durations.
pub const REQUESTS_FILE: &str = "requests.csv";
/// Per-request trace, 2 minutes, with a `tag` column.
pub const REQUESTS_TAGGED_FILE: &str = "requests-tagged.csv";
/// A request log as knload writes it (`timestamp_s,latency_s,status,class`),
/// 1 minute.
pub const KNLOAD_FILE: &str = "knload-requests.csv";
/// Azure Functions 2019 layout: per-minute counts of 16 functions over a day.
pub const AZURE_2019_FILE: &str = "azure2019-sample.csv";
/// Azure Functions 2021 layout: 20 minutes of invocations of 6 functions.
pub const AZURE_2021_FILE: &str = "azure2021-sample.csv";

/// Writes the sample traces into `dir` (created if missing) and returns the
/// paths written. The same seed always gives byte-identical files.
pub fn generate(dir: &Path, seed: u64) -> Result<Vec<PathBuf>, WorkloadError> {
    let io = |file: &Path| {
        let file = file.to_path_buf();
        move |source| WorkloadError::Io {
            path: "gen-traces".into(),
            file,
            source,
        }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let files = [
        (REQUESTS_FILE, requests(seed, false)),
        (REQUESTS_TAGGED_FILE, requests(seed, true)),
        (KNLOAD_FILE, knload_log(seed)),
        (AZURE_2019_FILE, azure_2019(seed)),
        (AZURE_2021_FILE, azure_2021(seed)),
    ];
    let mut written = Vec::new();
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::write(&path, content?).map_err(io(&path))?;
        written.push(path);
    }
    Ok(written)
}

fn rng(seed: u64, file: u64) -> SimRng {
    SimRng::seed_from_u64(seed ^ file.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Arrivals of one synthetic source, as seconds.
fn arrivals(arrival: ArrivalSpec, secs: u64, rng: SimRng) -> Result<Vec<f64>, WorkloadError> {
    let spec = WorkloadSpec {
        name: None,
        tag: None,
        start: None,
        end: None,
        arrival,
    };
    let w = build_workloads(
        &[spec],
        &LoadOptionsSpec::default(),
        Path::new("."),
        SimTime::from_secs(secs),
    )
    .map_err(|mut e| e.remove(0))?;
    let g = ArrivalGen::new(&w.sources[0], rng).expect("an open-loop source");
    Ok(g.map(|a| a.time.as_secs_f64()).collect())
}

fn lognormal(median_ms: f64, p99_ms: f64) -> Dist {
    let sigma = (p99_ms / median_ms).ln() / 2.326_347_874_040_841;
    Dist::Lognormal {
        mu: (median_ms / 1000.0).ln(),
        sigma,
    }
}

fn requests(seed: u64, tagged: bool) -> Result<String, WorkloadError> {
    let mut r = rng(seed, if tagged { 2 } else { 1 });
    let (secs, arrival) = if tagged {
        (120, ArrivalSpec::Poisson { rate: 10.0 })
    } else {
        // A ramp to a plateau with on/off bursts on top: something a fixed
        // rate would not reproduce.
        let base = ArrivalSpec::Schedule {
            points: vec![
                (DurationValue::from("0s"), 5.0),
                (DurationValue::from("60s"), 20.0),
                (DurationValue::from("240s"), 20.0),
                (DurationValue::from("300s"), 5.0),
            ],
            interpolation: None,
            poisson: None,
        };
        (300, base)
    };
    let mut times = arrivals(arrival, secs, SimRng::seed_from_u64(r.random()))?;
    if !tagged {
        let bursts = ArrivalSpec::OnOff {
            on_rate: 40.0,
            off_rate: None,
            mean_on_time: DurationValue::from("5s"),
            mean_off_time: DurationValue::from("40s"),
            initial: Some(super::OnOffInitial::Off),
        };
        times.extend(arrivals(bursts, secs, SimRng::seed_from_u64(r.random()))?);
        times.sort_by(f64::total_cmp);
    }
    let service = lognormal(80.0, 900.0);
    let mut out = String::from(if tagged {
        "timestamp_s,duration_s,tag\n"
    } else {
        "timestamp_s,duration_s\n"
    });
    for t in times {
        let d = service.sample(&mut r);
        write!(out, "{t:.6},{d:.6}").expect("writing to a String");
        if tagged {
            out.push(',');
            if r.random::<f64>() < 0.2 {
                out.push_str("canary");
            }
        }
        out.push('\n');
    }
    Ok(out)
}

fn knload_log(seed: u64) -> Result<String, WorkloadError> {
    let mut r = rng(seed, 5);
    let times = arrivals(
        ArrivalSpec::Poisson { rate: 5.0 },
        60,
        SimRng::seed_from_u64(r.random()),
    )?;
    let service = lognormal(60.0, 400.0);
    let mut out = String::from("timestamp_s,latency_s,status,class\n");
    for (i, t) in times.iter().enumerate() {
        // The first requests wait for a cold start, as in a measured run
        // from zero.
        let cold = if i < 5 { 2.5 - t.min(2.4) } else { 0.0 };
        let latency = service.sample(&mut r) + cold;
        let (status, class) = if r.random::<f64>() < 0.02 {
            (503, "")
        } else if r.random::<f64>() < 0.1 {
            (200, "greeter-00002")
        } else {
            (200, "greeter-00001")
        };
        writeln!(out, "{t:.6},{latency:.6},{status},{class}").expect("writing to a String");
    }
    Ok(out)
}

fn hash(r: &mut SimRng) -> String {
    let mut s = String::with_capacity(64);
    for _ in 0..4 {
        write!(s, "{:016x}", r.random::<u64>()).expect("writing to a String");
    }
    s
}

fn azure_2019(seed: u64) -> Result<String, WorkloadError> {
    let mut r = rng(seed, 3);
    let mut out = String::from("HashOwner,HashApp,HashFunction,Trigger");
    for m in 1..=1440 {
        write!(out, ",{m}").expect("writing to a String");
    }
    out.push('\n');
    let owners: Vec<String> = (0..5).map(|_| hash(&mut r)).collect();
    let apps: Vec<String> = (0..8).map(|_| hash(&mut r)).collect();
    // (trigger, pattern): daily-cycle http functions of several sizes, timers,
    // bursty queue consumers and rare events, as in the real data set.
    let kinds: [(&str, u32); 16] = [
        ("http", 0),
        ("http", 1),
        ("http", 2),
        ("http", 3),
        ("http", 4),
        ("http", 5),
        ("timer", 6),
        ("timer", 7),
        ("queue", 8),
        ("queue", 9),
        ("event", 10),
        ("storage", 11),
        ("orchestration", 12),
        ("http", 13),
        ("others", 14),
        ("http", 15),
    ];
    for (i, (trigger, k)) in kinds.iter().enumerate() {
        let app = i % apps.len();
        write!(
            out,
            "{},{},{},{trigger}",
            owners[app % owners.len()],
            apps[app],
            hash(&mut r)
        )
        .expect("writing to a String");
        let peak = [600.0, 120.0, 30.0, 8.0, 2.0, 0.3][(*k as usize).min(5)];
        for m in 0..1440u32 {
            let day = 0.5 - 0.5 * (std::f64::consts::TAU * (f64::from(m) / 1440.0)).cos();
            let c: u64 = match k {
                0..=5 | 13 | 15 => poisson(&mut r, peak * (0.15 + 0.85 * day)),
                6 => u64::from(m % 5 == 0),
                7 => 60 * u64::from(m % 60 == 0),
                8 | 9 => {
                    if r.random::<f64>() < 0.03 {
                        poisson(&mut r, 400.0)
                    } else {
                        poisson(&mut r, 0.5)
                    }
                }
                _ => poisson(&mut r, 0.05),
            };
            write!(out, ",{c}").expect("writing to a String");
        }
        out.push('\n');
    }
    Ok(out)
}

/// A Poisson count (inversion for small means, normal approximation above;
/// exactness does not matter for sample data, reproducibility does).
fn poisson(r: &mut SimRng, mean: f64) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 50.0 {
        let z: f64 = r.sample(rand_distr::StandardNormal);
        return (mean + z * mean.sqrt()).round().max(0.0) as u64;
    }
    let mut k = 0u64;
    let mut p = (-mean).exp();
    let mut cdf = p;
    let u: f64 = r.random();
    while u > cdf && k < 10_000 {
        k += 1;
        p *= mean / k as f64;
        cdf += p;
    }
    k
}

fn azure_2021(seed: u64) -> Result<String, WorkloadError> {
    let mut r = rng(seed, 4);
    let secs = 1200;
    // (rate per second, median ms, p99 ms, bursty)
    let funcs = [
        (1.0, 40.0, 400.0, false),
        (0.4, 250.0, 2500.0, false),
        (0.2, 900.0, 6000.0, true),
        (0.1, 20.0, 80.0, false),
        (0.05, 3000.0, 20000.0, false),
        (0.02, 100.0, 1000.0, true),
    ];
    let apps: Vec<String> = (0..4).map(|_| hash(&mut r)).collect();
    let mut rows: Vec<(u64, String)> = Vec::new();
    for (i, (rate, median, p99, bursty)) in funcs.iter().enumerate() {
        let app = &apps[i % apps.len()];
        let func = hash(&mut r);
        let arrival = if *bursty {
            ArrivalSpec::OnOff {
                on_rate: rate * 10.0,
                off_rate: None,
                mean_on_time: DurationValue::from("10s"),
                mean_off_time: DurationValue::from("90s"),
                initial: None,
            }
        } else {
            ArrivalSpec::Poisson { rate: *rate }
        };
        let service = lognormal(*median, *p99);
        for t in arrivals(arrival, secs, SimRng::seed_from_u64(r.random()))? {
            // Whole microseconds, so end - duration is an exact decimal.
            let start_us = (t * 1e6).round() as u64;
            let dur_us = ((service.sample(&mut r) * 1e6).round() as u64).max(1);
            let end_us = start_us + dur_us;
            rows.push((
                end_us,
                format!("{app},{func},{},{}\n", micros(end_us), micros(dur_us)),
            ));
        }
    }
    // The real trace is ordered by end time.
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut out = String::from("app,func,end_timestamp,duration\n");
    for (_, row) in rows {
        out.push_str(&row);
    }
    Ok(out)
}

fn micros(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}
