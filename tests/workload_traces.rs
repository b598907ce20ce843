//! Trace replay: exact reproduction of per-request traces and Azure minute
//! counts, malformed files, and the shipped sample traces.

use knsim::sim::{RngStreams, SimDuration, SimTime, Stream};
use knsim::workload::{
    build_workloads, samples, Arrival, ArrivalGen, LoadOptionsSpec, SourceKind, WorkloadError,
    WorkloadSpec,
};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    #[serde(default)]
    workload: Vec<WorkloadSpec>,
    #[serde(default)]
    load: LoadOptionsSpec,
}

fn build(
    toml_src: &str,
    dir: &Path,
    horizon_s: u64,
) -> Result<knsim::workload::Workloads, Vec<WorkloadError>> {
    let d: Doc = toml::from_str(toml_src).expect("parses");
    build_workloads(&d.workload, &d.load, dir, SimTime::from_secs(horizon_s))
}

fn replay(toml_src: &str, dir: &Path, horizon_s: u64, seed: u64) -> (Vec<Arrival>, Vec<String>) {
    let w = build(toml_src, dir, horizon_s).unwrap_or_else(|e| panic!("{e:?}"));
    let g = ArrivalGen::new(
        &w.sources[0],
        RngStreams::new(seed).get(Stream::Arrivals, 0),
    )
    .expect("open loop");
    let names = g.tag_names().to_vec();
    (g.collect(), names)
}

fn one_error(toml_src: &str, dir: &Path) -> WorkloadError {
    let mut errs = build(toml_src, dir, 100_000).expect_err("an error");
    assert_eq!(errs.len(), 1, "{errs:?}");
    errs.remove(0)
}

fn trace_toml(file: &str, extra: &str) -> String {
    format!("[[workload]]\narrival = {{ process = \"trace\", file = \"{file}\"{extra} }}\n")
}

/// A random trace written with nanosecond timestamps, and what it holds.
fn random_trace(dir: &Path, seed: u64) -> (Vec<u64>, Vec<Option<u64>>, Vec<Option<&'static str>>) {
    let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut t, mut times, mut durs, mut tags) = (0u64, Vec::new(), Vec::new(), Vec::new());
    let mut body = String::from("timestamp_s,duration_s,tag\n");
    for _ in 0..5000 {
        // Gaps from 0 (ties) to ~0.2 s, with nanosecond detail.
        t += if r.random::<f64>() < 0.05 {
            0
        } else {
            r.random_range(1..200_000_000)
        };
        let d = (r.random::<f64>() < 0.9).then(|| r.random_range(0..3_000_000_000u64));
        let tag = [None, Some("blue"), Some("green")][r.random_range(0..3)];
        body.push_str(&format!("{}.{:09},", t / 1_000_000_000, t % 1_000_000_000));
        if let Some(d) = d {
            body.push_str(&format!("{}.{:09}", d / 1_000_000_000, d % 1_000_000_000));
        }
        body.push_str(&format!(",{}\n", tag.unwrap_or("")));
        times.push(t);
        durs.push(d);
        tags.push(tag);
    }
    std::fs::write(dir.join("trace.csv"), body).unwrap();
    (times, durs, tags)
}

#[test]
fn request_trace_replays_times_durations_and_tags_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for seed in [1, 2, 3] {
        let (times, durs, tags) = random_trace(dir.path(), seed);
        let horizon = times.last().unwrap() / 1_000_000_000 + 1;
        let (got, names) = replay(&trace_toml("trace.csv", ""), dir.path(), horizon, seed);
        assert_eq!(got.len(), times.len());
        for (i, a) in got.iter().enumerate() {
            assert_eq!(a.time, SimTime(times[i]), "row {i}");
            assert_eq!(a.duration, durs[i].map(SimDuration), "row {i}");
            assert_eq!(
                a.tag.map(|t| names[t as usize].as_str()),
                tags[i],
                "row {i}"
            );
        }
        // Without durations and tags the times are the same.
        let (plain, names) = replay(
            &trace_toml("trace.csv", ", use-durations = false, use-tags = false"),
            dir.path(),
            horizon,
            seed,
        );
        assert!(names.is_empty());
        assert!(plain
            .iter()
            .all(|a| a.duration.is_none() && a.tag.is_none()));
        assert_eq!(plain.iter().map(|a| a.time.0).collect::<Vec<_>>(), times);
    }
}

#[test]
fn knload_request_logs_replay_directly() {
    // knload writes timestamp_s,latency_s,status,class and quotes classes
    // that hold commas, quotes or line breaks.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("knload.csv"),
        "timestamp_s,latency_s,status,class\n\
         0.000000,0.012000,200,rev-1\n\
         0.010000,0.250000,200,\"a, \"\"quoted\"\" class\"\n\
         \n\
         0.020000,1.500000,503,\"two\nlines\"\n\
         0.030000,0.020000,200,rev-2\n",
    )
    .unwrap();
    let (got, names) = replay(&trace_toml("knload.csv", ""), dir.path(), 10, 1);
    let ms = 1_000_000u64;
    assert_eq!(
        got.iter().map(|a| a.time.0).collect::<Vec<_>>(),
        [0, 10 * ms, 20 * ms, 30 * ms]
    );
    assert!(got.iter().all(|a| a.duration.is_none() && a.tag.is_none()) && names.is_empty());
    // Measured latencies as service times, classes as tags.
    let (got, names) = replay(
        &trace_toml(
            "knload.csv",
            ", duration-column = \"latency_s\", tag-column = \"class\"",
        ),
        dir.path(),
        10,
        1,
    );
    let durs: Vec<u64> = got.iter().map(|a| a.duration.unwrap().0).collect();
    assert_eq!(durs, [12 * ms, 250 * ms, 1500 * ms, 20 * ms]);
    assert_eq!(
        names,
        ["rev-1", "a, \"quoted\" class", "two\nlines", "rev-2"]
    );
    // An error after the multi-line record still names the right line.
    std::fs::write(
        dir.path().join("knload-bad.csv"),
        "timestamp_s,latency_s,status,class\n0.1,0.01,200,\"x\ny\"\n0.05,0.01,200,z\n",
    )
    .unwrap();
    let e = one_error(&trace_toml("knload-bad.csv", ""), dir.path());
    assert_eq!(format_error(&e).1, 4, "{e}");
}

#[test]
fn trace_window_start_origin_offset_and_speedup() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.csv"),
        "timestamp_s\n100\n100.5\n101\n103\n110\n130\n",
    )
    .unwrap();
    let times = |extra: &str, pre: &str, horizon| {
        let src = format!("{pre}[[workload]]\nstart = \"2s\"\nend = \"20s\"\narrival = {{ process = \"trace\", file = \"t.csv\"{extra} }}\n");
        replay(&src, dir.path(), horizon, 1)
            .0
            .iter()
            .map(|a| a.time.as_secs_f64())
            .collect::<Vec<_>>()
    };
    // Origin "first": 100 s -> the source's start (2 s); the 130 s row is
    // past the source's end (20 s).
    assert_eq!(
        times(", origin = \"first\"", "", 60),
        [2.0, 2.5, 3.0, 5.0, 12.0]
    );
    // Offset skips trace time before it.
    assert_eq!(
        times(", origin = \"first\", offset = \"1s\"", "", 60),
        [2.0, 4.0, 11.0]
    );
    // Origin "zero": everything is beyond the window.
    let e = one_error(
        "[[workload]]\nend = \"20s\"\narrival = { process = \"trace\", file = \"t.csv\" }\n",
        dir.path(),
    );
    assert!(e.to_string().contains("no requests fall inside"), "{e}");
    // Speedup 2 halves trace time, not the start; the horizon cuts at 10 s.
    assert_eq!(
        times(", origin = \"first\"", "[load]\nspeedup = 2\n", 10),
        [2.0, 2.25, 2.5, 3.5, 7.0]
    );
}

#[test]
fn rate_multiplier_replicates_or_thins_trace_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (times, _, _) = random_trace(dir.path(), 4);
    let horizon = times.last().unwrap() / 1_000_000_000 + 1;
    let src = |m: f64| {
        format!(
            "[load]\nrate-multiplier = {m}\n{}",
            trace_toml("trace.csv", "")
        )
    };
    let (tripled, _) = replay(&src(3.0), dir.path(), horizon, 1);
    let want: Vec<u64> = times.iter().flat_map(|t| [*t; 3]).collect();
    assert_eq!(tripled.iter().map(|a| a.time.0).collect::<Vec<_>>(), want);
    // Thinning keeps a random subset, in order; 5000 rows at p = 0.4 give
    // 2000 ± 35 (1 sd).
    for seed in [1, 2, 3] {
        let (thin, _) = replay(&src(0.4), dir.path(), horizon, seed);
        assert!(
            (thin.len() as f64 - 2000.0).abs() < 6.0 * 34.7,
            "{}",
            thin.len()
        );
        let mut it = times.iter();
        assert!(
            thin.iter().all(|a| it.any(|t| *t == a.time.0)),
            "not a subsequence"
        );
    }
    // 1.5: every row once, about half twice.
    let (more, _) = replay(&src(1.5), dir.path(), horizon, 1);
    assert!(
        (more.len() as f64 - 7500.0).abs() < 6.0 * 35.4,
        "{}",
        more.len()
    );
}

/// Writes an Azure 2019 file with random counts; returns the rows.
fn azure_2019_file(dir: &Path, seed: u64, minutes: usize) -> Vec<(String, String, Vec<u32>)> {
    let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut body = String::from("HashOwner,HashApp,HashFunction,Trigger");
    for m in 1..=minutes {
        body.push_str(&format!(",{m}"));
    }
    body.push('\n');
    let mut rows = Vec::new();
    for f in 0..6 {
        let trigger = if f % 3 == 2 { "timer" } else { "http" };
        let func = format!("f{f:02}{:016x}", r.random::<u64>());
        let scale = [50, 5, 1, 200, 0, 20][f];
        let counts: Vec<u32> = (0..minutes).map(|_| r.random_range(0..=scale)).collect();
        body.push_str(&format!("owner{},app{},{func},{trigger}", f % 2, f % 3));
        for c in &counts {
            body.push_str(&format!(",{c}"));
        }
        body.push('\n');
        rows.push((func, trigger.to_string(), counts));
    }
    std::fs::write(dir.join("azure.csv"), body).unwrap();
    rows
}

fn per_minute(arrivals: &[Arrival], minute: f64, minutes: usize) -> Vec<u32> {
    let mut c = vec![0u32; minutes];
    for a in arrivals {
        c[(a.time.0 as f64 / (minute * 1e9)) as usize] += 1;
    }
    c
}

#[test]
fn azure_2019_replays_each_minutes_count_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let rows = azure_2019_file(dir.path(), 5, 1440);
    let horizon = 86_400;
    for spread in ["uniform", "even"] {
        for seed in [1, 2] {
            let src = format!(
                "[[workload]]\narrival = {{ process = \"azure-2019\", file = \"azure.csv\", function = \"{}\", spread = \"{spread}\" }}\n",
                rows[0].0
            );
            let (got, _) = replay(&src, dir.path(), horizon, seed);
            assert!(got.windows(2).all(|w| w[0].time <= w[1].time));
            assert_eq!(per_minute(&got, 60.0, 1440), rows[0].2, "{spread}");
        }
    }
    // The two busiest http functions (f03 and f00), minutes 600..=719, two
    // times as heavy and 60 times as fast: minute m becomes second m - 600.
    let src = r#"
        [load]
        speedup = 60
        rate-multiplier = 2
        [[workload]]
        arrival = { process = "azure-2019", file = "azure.csv", trigger = "http", top = 2, from-minute = 600, to-minute = 719 }
    "#;
    let (got, _) = replay(src, dir.path(), 120, 3);
    let want: Vec<u32> = (599..719)
        .map(|m| 2 * (rows[3].2[m] + rows[0].2[m]))
        .collect();
    assert_eq!(per_minute(&got, 1.0, 120), want);
}

#[test]
fn azure_2019_poisson_spread_varies_around_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    let rows = azure_2019_file(dir.path(), 6, 1440);
    let src = format!(
        "[[workload]]\narrival = {{ process = \"azure-2019\", file = \"azure.csv\", function = \"{}\", spread = \"poisson\" }}\n",
        rows[3].0
    );
    let want: u32 = rows[3].2.iter().sum();
    let (got, _) = replay(&src, dir.path(), 86_400, 1);
    let n = got.len() as f64;
    assert!(
        (n - f64::from(want)).abs() < 6.0 * f64::from(want).sqrt(),
        "{n} vs {want}"
    );
    assert_ne!(
        per_minute(&got, 60.0, 1440),
        rows[3].2,
        "poisson spread should not be exact"
    );
}

#[test]
fn azure_2021_arrivals_are_end_minus_duration() {
    let dir = tempfile::tempdir().unwrap();
    // Ordered by end time, as in the real trace; arrivals are not.
    std::fs::write(
        dir.path().join("inv.csv"),
        "app,func,end_timestamp,duration\n\
         a1,f1,10.5,0.5\n\
         a1,f2,11.0,3.25\n\
         a2,f3,11.2,0.1\n\
         a1,f1,12.0,0.001\n\
         a1,f1,15.75,6.0\n",
    )
    .unwrap();
    let times = |extra: &str| {
        let src = format!(
            "[[workload]]\narrival = {{ process = \"azure-2021\", file = \"inv.csv\"{extra} }}\n"
        );
        replay(&src, dir.path(), 100, 1)
            .0
            .iter()
            .map(|a| (a.time.0, a.duration.map(|d| d.0)))
            .collect::<Vec<_>>()
    };
    let s = 1_000_000_000u64;
    let ms = 1_000_000u64;
    assert_eq!(
        times(", origin = \"zero\""),
        [
            (7_750 * ms, Some(3_250 * ms)),
            (9_750 * ms, Some(6 * s)),
            (10 * s, Some(500 * ms)),
            (11_100 * ms, Some(100 * ms)),
            (11_999 * ms, Some(ms)),
        ]
    );
    // Default origin is the earliest arrival; f1 alone.
    assert_eq!(
        times(", app = \"a1\", function = \"f1\", use-durations = false"),
        [(0, None), (250 * ms, None), (2_249 * ms, None)]
    );
    // The busiest function is f1 (3 requests).
    assert_eq!(times(", top = 1").len(), 3);
}

fn format_error(e: &WorkloadError) -> (PathBuf, u64, Option<usize>) {
    match e {
        WorkloadError::Format {
            file, line, column, ..
        } => (file.clone(), *line, *column),
        other => panic!("expected a format error, got {other}"),
    }
}

#[test]
fn malformed_traces_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    // (file, content, process, line, column, words of the rule)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        u64,
        Option<usize>,
        &'static str,
    );
    let cases: [Case; 9] = [
        (
            "bad-header.csv",
            "time,duration\n1,2\n",
            "trace",
            1,
            None,
            "bad header: no timestamp_s column",
        ),
        (
            "twice.csv",
            "timestamp_s,duration_s,timestamp_s\n1,2,3\n",
            "trace",
            1,
            Some(3),
            "appears twice",
        ),
        (
            "nonnum.csv",
            "timestamp_s,duration_s\n1,0.1\n2,abc\n",
            "trace",
            3,
            Some(2),
            "not a number: \"abc\"",
        ),
        (
            "unsorted.csv",
            "timestamp_s\n1\n2\n\n1.5\n",
            "trace",
            5,
            Some(1),
            "must be sorted",
        ),
        (
            "short.csv",
            "timestamp_s,duration_s\n1,2\n3\n",
            "trace",
            3,
            None,
            "expected 2 fields",
        ),
        (
            "az19-header.csv",
            "HashOwner,HashApp,Function,Trigger,1,2\no,a,f,http,1,2\n",
            "azure-2019",
            1,
            Some(3),
            "bad header",
        ),
        (
            "az19-minutes.csv",
            "HashOwner,HashApp,HashFunction,Trigger,1,3\no,a,f,http,1,2\n",
            "azure-2019",
            1,
            Some(6),
            "minute column \"2\"",
        ),
        (
            "az19-count.csv",
            "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,1,2\no,a,g,http,1,-2\n",
            "azure-2019",
            3,
            Some(6),
            "non-negative integer",
        ),
        (
            "az21.csv",
            "app,func,end_timestamp,duration\na,f,10,1\na,f,x,1\n",
            "azure-2021",
            3,
            Some(3),
            "not a number",
        ),
    ];
    for (name, body, process, line, column, rule) in cases {
        std::fs::write(dir.path().join(name), body).unwrap();
        let select = if process == "azure-2019" {
            ", top = 5"
        } else {
            ""
        };
        let e = one_error(
            &format!("[[workload]]\narrival = {{ process = \"{process}\", file = \"{name}\"{select} }}\n"),
            dir.path(),
        );
        let (file, l, c) = format_error(&e);
        assert_eq!(file, dir.path().join(name), "{name}");
        assert_eq!((l, c), (line, column), "{name}: {e}");
        assert_eq!(e.path(), "workload[0].arrival.file");
        let text = e.to_string();
        assert!(text.contains(rule), "{name}: {text}");
        let loc = match c {
            Some(c) => format!("{name}:{l}:{c}: "),
            None => format!("{name}:{l}: "),
        };
        assert!(text.contains(&loc), "{name}: {text}");
    }
    // A named column must exist.
    let e = one_error(
        &trace_toml("nonnum.csv", ", tag-column = \"class\""),
        dir.path(),
    );
    assert!(e.to_string().contains("no column named \"class\""), "{e}");
    // A quote left open runs to the end of the file.
    std::fs::write(
        dir.path().join("open-quote.csv"),
        "timestamp_s,tag\n1,a\n2,\"b\n3,c\n",
    )
    .unwrap();
    let e = one_error(&trace_toml("open-quote.csv", ""), dir.path());
    assert_eq!(format_error(&e).1, 3, "{e}");
    assert!(e.to_string().contains("never closed"), "{e}");
    // The unsorted case says which earlier row it conflicts with.
    let e = one_error(&trace_toml("unsorted.csv", ""), dir.path());
    assert!(
        e.to_string().contains("1.5 is earlier than 2 on line 3"),
        "{e}"
    );
    // Empty files and missing files.
    std::fs::write(dir.path().join("empty.csv"), "").unwrap();
    assert!(one_error(&trace_toml("empty.csv", ""), dir.path())
        .to_string()
        .contains("empty"));
    std::fs::write(dir.path().join("header-only.csv"), "timestamp_s\n").unwrap();
    assert!(one_error(&trace_toml("header-only.csv", ""), dir.path())
        .to_string()
        .contains("no requests"));
    assert!(matches!(
        one_error(&trace_toml("missing.csv", ""), dir.path()),
        WorkloadError::Io { .. }
    ));
}

fn traces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/traces")
}

#[test]
fn shipped_samples_are_the_generators_output() {
    let dir = tempfile::tempdir().unwrap();
    let written = samples::generate(dir.path(), samples::SAMPLE_SEED).unwrap();
    assert_eq!(written.len(), 5);
    let bless = std::env::var_os("KNSIM_BLESS_SAMPLES").is_some();
    for path in written {
        let name = path.file_name().unwrap();
        let shipped = traces_dir().join(name);
        let fresh = std::fs::read(&path).unwrap();
        if bless {
            std::fs::write(&shipped, &fresh).unwrap();
        }
        let old = std::fs::read(&shipped).unwrap_or_default();
        assert!(
            old == fresh,
            "{} differs from `knsim gen-traces` output; rerun with KNSIM_BLESS_SAMPLES=1 to update",
            shipped.display()
        );
    }
    // Same seed, same bytes; another seed, other bytes.
    let again = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    samples::generate(again.path(), samples::SAMPLE_SEED).unwrap();
    samples::generate(other.path(), samples::SAMPLE_SEED + 1).unwrap();
    for name in [
        samples::REQUESTS_FILE,
        samples::AZURE_2019_FILE,
        samples::AZURE_2021_FILE,
    ] {
        let a = std::fs::read(dir.path().join(name)).unwrap();
        assert_eq!(a, std::fs::read(again.path().join(name)).unwrap());
        assert_ne!(a, std::fs::read(other.path().join(name)).unwrap());
    }
}

/// The workload part of a whole scenario file.
#[derive(serde::Deserialize)]
struct Lenient {
    workload: Vec<WorkloadSpec>,
    #[serde(default)]
    load: LoadOptionsSpec,
}

fn data_rows(file: &Path) -> usize {
    std::fs::read_to_string(file).unwrap().lines().count() - 1
}

#[test]
fn shipped_workload_files_replay_the_samples() {
    // Each scenarios/traces/*.toml is a scenario; only its [[workload]] and
    // [load] tables are checked here.
    let mut seen = 0;
    let mut entries: Vec<_> = std::fs::read_dir(traces_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        let src = std::fs::read_to_string(path).unwrap();
        let doc: Lenient =
            toml::from_str(&src).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let w = build_workloads(
            &doc.workload,
            &doc.load,
            &traces_dir(),
            SimTime::from_secs(86_400),
        )
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        for (i, s) in w.sources.iter().enumerate() {
            let g = ArrivalGen::new(s, RngStreams::new(1).get(Stream::Arrivals, i as u64));
            if let Some(g) = g {
                assert!(
                    g.count() > 0,
                    "{}: {} sends nothing",
                    path.display(),
                    s.name
                );
            }
            seen += 1;
        }
    }
    assert!(seen >= 5, "expected replay scenarios in scenarios/traces");
    // The per-request sample replays row for row.
    let requests = traces_dir().join(samples::REQUESTS_FILE);
    let (got, _) = replay(
        &trace_toml(samples::REQUESTS_FILE, ""),
        &traces_dir(),
        300,
        1,
    );
    assert_eq!(got.len(), data_rows(&requests));
    assert!(got.iter().all(|a| a.duration.is_some()));
    let tagged = traces_dir().join(samples::REQUESTS_TAGGED_FILE);
    let (got, names) = replay(
        &trace_toml(samples::REQUESTS_TAGGED_FILE, ""),
        &traces_dir(),
        300,
        1,
    );
    assert_eq!(got.len(), data_rows(&tagged));
    assert_eq!(names, ["canary"]);
    assert!(got.iter().any(|a| a.tag == Some(0)) && got.iter().any(|a| a.tag.is_none()));
    // The knload log replays its arrivals, with latencies on request.
    let log = traces_dir().join(samples::KNLOAD_FILE);
    let (got, _) = replay(
        &trace_toml(samples::KNLOAD_FILE, ", duration-column = \"latency_s\""),
        &traces_dir(),
        60,
        1,
    );
    assert_eq!(got.len(), data_rows(&log));
    assert!(
        got[0].duration.unwrap() > SimDuration::from_secs(2),
        "cold start at the front"
    );
    // The Azure 2021 sample replays every invocation.
    let (got, _) = replay(
        &format!(
            "[[workload]]\narrival = {{ process = \"azure-2021\", file = \"{}\" }}\n",
            samples::AZURE_2021_FILE
        ),
        &traces_dir(),
        3600,
        1,
    );
    assert_eq!(
        got.len(),
        data_rows(&traces_dir().join(samples::AZURE_2021_FILE))
    );
}

#[test]
fn closed_loop_sources_have_no_generator() {
    let w = build(
        "[[workload]]\narrival = { process = \"closed-loop\", clients = 4 }\n",
        Path::new("."),
        10,
    )
    .unwrap();
    assert!(matches!(
        w.sources[0].kind,
        SourceKind::Closed { clients: 4, .. }
    ));
    assert!(ArrivalGen::new(&w.sources[0], RngStreams::new(1).get(Stream::Arrivals, 0)).is_none());
}

/// Every TOML example in docs/workloads.md parses and validates: fenced
/// blocks with `[[workload]]` as whole scenario fragments, and every
/// `= { distribution = ... }` line as a distribution.
#[test]
fn documentation_examples_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/workloads.md")).unwrap();
    let mut blocks = 0;
    let mut dists = 0;
    let mut in_block = false;
    let mut block = String::new();
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            if in_block && (block.contains("[[workload]]") || block.contains("[load]")) {
                build(&block, &root.join("scenarios"), 86_400)
                    .unwrap_or_else(|e| panic!("docs example does not validate: {e:?}\n{block}"));
                blocks += 1;
            }
            in_block = line.trim() == "```toml";
            block.clear();
            continue;
        }
        if !in_block {
            continue;
        }
        block.push_str(line);
        block.push('\n');
        if let Some((_, rhs)) = line.split_once("= { distribution") {
            let table = format!("d = {{ distribution{rhs}");
            #[derive(serde::Deserialize)]
            struct D {
                d: knsim::workload::DistSpec,
            }
            let d: D = toml::from_str(&table).unwrap_or_else(|e| panic!("{line}: {e}"));
            d.d.build("d", &root.join("scenarios"))
                .unwrap_or_else(|e| panic!("{line}: {e}"));
            dists += 1;
        }
        if let Some((_, rhs)) = line.split_once("slowdown = {") {
            #[derive(serde::Deserialize)]
            struct S {
                s: knsim::workload::SlowdownSpec,
            }
            let s: S =
                toml::from_str(&format!("s = {{{rhs}")).unwrap_or_else(|e| panic!("{line}: {e}"));
            s.s.build("s").unwrap_or_else(|e| panic!("{line}: {e}"));
            dists += 1;
        }
    }
    assert!(
        blocks >= 8 && dists >= 9,
        "found {blocks} blocks, {dists} distributions"
    );
}
