//! Speed of the simulator, in simulated requests per wall-clock second (the
//! throughput criterion reports as "elem/s"), and of the event queue.
//!
//! Run with `cargo bench --bench simulate`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use knsim::model::{simulate, NoTimeseries};
use knsim::scenario::{load_scenario, Override, Scenario};
use knsim::sim::{EventQueue, SimTime};
use std::path::Path;

fn bench_scenario(minutes: u32) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench-poisson.toml");
    let o: Override = format!("duration={minutes}m").parse().unwrap();
    load_scenario(&path, &[o]).expect("bench scenario is valid")
}

fn one_revision_poisson(c: &mut Criterion) {
    let sc = bench_scenario(10);
    let requests = simulate(&sc, 1, &mut NoTimeseries).requests.arrived;
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    g.throughput(Throughput::Elements(requests));
    g.bench_function("bench-poisson 10 min (1000 req/s)", |b| {
        b.iter(|| simulate(&sc, 1, &mut NoTimeseries))
    });
    g.finish();
}

/// Replays a per-request trace (Poisson 1000 req/s with recorded durations,
/// written once into a temporary directory) through the same revision.
fn trace_replay(c: &mut Criterion) {
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!("knsim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("trace.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&trace).unwrap());
    writeln!(f, "timestamp_s,duration_s").unwrap();
    let (mut t, mut x) = (0.0f64, 0x2545_F491_4F6C_DD1Du64);
    let mut uniform = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    while t < 600.0 {
        t += -(1.0 - uniform()).ln() / 1000.0;
        let d = -(1.0 - uniform()).ln() * 0.1;
        writeln!(f, "{t:.6},{d:.6}").unwrap();
    }
    drop(f);
    let scenario = "name = \"bench-trace\"\nduration = \"10m\"\n[[revision]]\nname = \"r1\"\nservice-time = { distribution = \"exponential\", mean = \"100ms\" }\n[[workload]]\narrival = { process = \"trace\", file = \"trace.csv\" }\n".to_string();
    let path = dir.join("bench-trace.toml");
    std::fs::write(&path, scenario).unwrap();
    let sc = load_scenario(&path, &[]).expect("trace scenario is valid");
    let requests = simulate(&sc, 1, &mut NoTimeseries).requests.arrived;
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    g.throughput(Throughput::Elements(requests));
    g.bench_function("trace replay 10 min (1000 req/s)", |b| {
        b.iter(|| simulate(&sc, 1, &mut NoTimeseries))
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

fn event_queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue");
    for size in [1_000u64, 100_000] {
        g.throughput(Throughput::Elements(size));
        g.bench_function(format!("push+pop {size}"), |b| {
            b.iter_batched(
                EventQueue::<u32>::new,
                |mut q| {
                    let mut x = 0x9E37_79B9u64;
                    for i in 0..size {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        q.schedule(SimTime(x % 1_000_000_000), i as u32);
                    }
                    while q.pop().is_some() {}
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, one_revision_poisson, trace_replay, event_queue);
criterion_main!(benches);
