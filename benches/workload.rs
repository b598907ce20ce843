//! Cost of producing arrivals and duration samples. The simulator's target
//! is 2M requests per simulated-request-second of wall time, so a generator
//! must stay well under 100 ns per arrival.
//!
//! `cargo bench --bench workload`

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use knsim::sim::{RngStreams, SimTime, Stream};
use knsim::workload::{
    build_workloads, ArrivalGen, DistSpec, LoadOptionsSpec, Source, WorkloadSpec,
};
use std::path::Path;

#[derive(serde::Deserialize)]
struct Doc {
    workload: Vec<WorkloadSpec>,
    #[serde(default)]
    load: LoadOptionsSpec,
}

fn source(toml_src: &str, dir: &Path) -> Source {
    let d: Doc = toml::from_str(toml_src).expect("parses");
    let w =
        build_workloads(&d.workload, &d.load, dir, SimTime::from_secs(1_000_000)).expect("valid");
    w.sources.into_iter().next().expect("one source")
}

/// Rows of a per-request trace, ~1000 req/s with durations and two tags.
fn write_trace(dir: &Path, rows: u64) {
    use std::fmt::Write;
    let mut s = String::from("timestamp_s,duration_s,tag\n");
    for i in 0..rows {
        let t = i * 1_000_000 + (i * 7919) % 1_000_000;
        let tag = if i % 10 == 0 { "canary" } else { "" };
        writeln!(
            s,
            "{}.{:09},0.{:06},{tag}",
            t / 1_000_000_000,
            t % 1_000_000_000,
            1000 + i % 90_000
        )
        .unwrap();
    }
    std::fs::write(dir.join("bench-trace.csv"), s).unwrap();
}

/// Minute counts averaging ~5000 per minute.
fn write_azure(dir: &Path) {
    use std::fmt::Write;
    let mut s = String::from("HashOwner,HashApp,HashFunction,Trigger");
    for m in 1..=1440 {
        write!(s, ",{m}").unwrap();
    }
    s.push_str("\no,a,f,http");
    for m in 0..1440u32 {
        write!(s, ",{}", 2000 + (m * 37) % 6000).unwrap();
    }
    s.push('\n');
    std::fs::write(dir.join("bench-azure.csv"), s).unwrap();
}

fn generators(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    write_trace(dir.path(), 1_000_000);
    write_azure(dir.path());
    const N: usize = 100_000;
    let cases = [
        (
            "constant",
            r#"arrival = { process = "constant", rate = 1000 }"#,
        ),
        (
            "poisson",
            r#"arrival = { process = "poisson", rate = 1000 }"#,
        ),
        (
            "schedule-linear",
            r#"arrival = { process = "schedule", points = [["0s", 100], ["60s", 2000], ["120s", 500], ["180s", 1000]] }"#,
        ),
        (
            "schedule-deterministic",
            r#"arrival = { process = "schedule", points = [["0s", 100], ["60s", 2000], ["120s", 500], ["180s", 1000]], poisson = false }"#,
        ),
        (
            "sinusoid",
            r#"arrival = { process = "sinusoid", mean = 1000, amplitude = 800, period = "10m" }"#,
        ),
        (
            "on-off",
            r#"arrival = { process = "on-off", on-rate = 5000, off-rate = 100, mean-on-time = "2s", mean-off-time = "8s" }"#,
        ),
        (
            "trace-1m-rows",
            r#"arrival = { process = "trace", file = "bench-trace.csv" }"#,
        ),
        (
            "azure-2019-uniform",
            r#"arrival = { process = "azure-2019", file = "bench-azure.csv", top = 1 }"#,
        ),
        (
            "azure-2019-even",
            r#"arrival = { process = "azure-2019", file = "bench-azure.csv", top = 1, spread = "even" }"#,
        ),
    ];
    let mut g = c.benchmark_group("arrivals");
    g.throughput(Throughput::Elements(N as u64));
    for (name, arrival) in cases {
        let src = source(&format!("[[workload]]\n{arrival}\n"), dir.path());
        let rng = RngStreams::new(1).get(Stream::Arrivals, 0);
        g.bench_function(name, |b| {
            b.iter_batched(
                || ArrivalGen::new(&src, rng.clone()).unwrap(),
                |gen| {
                    let mut last = SimTime::ZERO;
                    for a in gen.take(N) {
                        last = a.time;
                    }
                    black_box(last)
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();

    let mut g = c.benchmark_group("trace-load");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1_000_000));
    g.bench_function("request-csv-1m-rows", |b| {
        b.iter(|| {
            source(
                "[[workload]]\narrival = { process = \"trace\", file = \"bench-trace.csv\" }\n",
                dir.path(),
            )
        })
    });
    g.finish();
}

fn distributions(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let samples: String = (0..10_000)
        .map(|i| format!("{}\n", (i * 7919) % 10_000))
        .collect();
    std::fs::write(dir.path().join("emp.csv"), format!("latency_ms\n{samples}")).unwrap();
    let cases = [
        ("constant", r#"{ distribution = "constant", value = "1s" }"#),
        (
            "exponential",
            r#"{ distribution = "exponential", mean = "50ms" }"#,
        ),
        (
            "uniform",
            r#"{ distribution = "uniform", min = "10ms", max = "30ms" }"#,
        ),
        (
            "normal",
            r#"{ distribution = "normal", mean = "100ms", stddev = "50ms" }"#,
        ),
        (
            "lognormal",
            r#"{ distribution = "lognormal", median = "80ms", p99 = "900ms" }"#,
        ),
        (
            "gamma",
            r#"{ distribution = "gamma", mean = "200ms", stddev = "100ms" }"#,
        ),
        (
            "weibull",
            r#"{ distribution = "weibull", shape = 1.5, scale = "200ms" }"#,
        ),
        (
            "pareto",
            r#"{ distribution = "pareto", shape = 2.5, scale = "10ms" }"#,
        ),
        (
            "empirical",
            r#"{ distribution = "empirical", file = "emp.csv", unit = "ms" }"#,
        ),
    ];
    #[derive(serde::Deserialize)]
    struct D {
        d: DistSpec,
    }
    const N: usize = 10_000;
    let mut g = c.benchmark_group("dist-sample");
    g.throughput(Throughput::Elements(N as u64));
    for (name, spec) in cases {
        let d: D = toml::from_str(&format!("d = {spec}")).unwrap();
        let dist = d.d.build("d", dir.path()).unwrap();
        let mut rng = RngStreams::new(1).get(Stream::ServiceTime, 0);
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut s = 0.0;
                for _ in 0..N {
                    s += dist.sample(&mut rng);
                }
                black_box(s)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, generators, distributions);
criterion_main!(benches);
