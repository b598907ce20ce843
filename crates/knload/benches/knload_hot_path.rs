//! knload's per-request bookkeeping, which runs once per request on every
//! connection loop: the schedule, recording an outcome, and (once per run)
//! merging and encoding the histograms.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use knload::{encode_histogram, Outcome, Ramp, Schedule, Stats};
use std::time::Duration;

fn schedule(c: &mut Criterion) {
    let mut g = c.benchmark_group("schedule_due");
    g.throughput(Throughput::Elements(1000));
    let constant = Schedule::Constant { rate: 20_000.0 };
    let ramp =
        Schedule::Ramp(Ramp::parse("0s:100,60s:1000,120s:1000,180s:20000").expect("valid ramp"));
    for (name, s) in [("constant", constant), ("ramp_4_points", ramp)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                for i in 0..1000u64 {
                    black_box(s.due(black_box(i * 97)));
                }
            })
        });
    }
    g.finish();
}

fn record(c: &mut Criterion) {
    let mut g = c.benchmark_group("stats_record");
    g.throughput(Throughput::Elements(1000));
    let plain = Outcome::Response {
        status: 200,
        class: None,
    };
    let classed = Outcome::Response {
        status: 200,
        class: Some("v1".to_string()),
    };
    for (name, outcome, classified) in [
        ("unclassified", plain, false),
        ("classified", classed, true),
    ] {
        g.bench_function(name, |b| {
            let mut s = Stats::default();
            b.iter(|| {
                for i in 0..1000u64 {
                    s.record(Duration::from_micros(100 + i % 900), &outcome, classified);
                }
            })
        });
    }
    g.finish();
}

fn merge_and_encode(c: &mut Criterion) {
    let part = || {
        let mut s = Stats::default();
        let ok = Outcome::Response {
            status: 200,
            class: None,
        };
        for i in 0..100_000u64 {
            s.record(Duration::from_micros(50 + (i * 7919) % 20_000), &ok, false);
        }
        s
    };
    let parts: Vec<Stats> = (0..50).map(|_| part()).collect();
    c.bench_function("merge_50_connections", |b| {
        b.iter_batched(
            Stats::default,
            |mut total| {
                for p in &parts {
                    total.merge(p);
                }
                total
            },
            BatchSize::SmallInput,
        )
    });
    c.bench_function("encode_histogram", |b| {
        b.iter(|| encode_histogram(black_box(&parts[0].latency)))
    });
}

criterion_group!(benches, schedule, record, merge_and_encode);
criterion_main!(benches);
