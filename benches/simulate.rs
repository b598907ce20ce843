//! Speed of the simulator, in simulated requests per wall-clock second (the
//! throughput criterion reports as "elem/s"), and of the event queue.
//!
//! Run with `cargo bench --bench simulate`. Before criterion's groups it
//! prints, for 10, 1,000 and 10,000 pinned pods and for 1, 50 and 200
//! Services in steady state, knsim's simulated requests per CPU-second of
//! its thread beside those of three reference loops, and the ratios (and
//! the first ratio by the wall clock), and knsim's rate once more as a
//! sweep runs it, building no per-second rows. Two are one M/M/c over all the
//! servers: `bare_mmc` keeps only departure times in its heap and the next
//! arrival aside; `event_heap_mmc` puts both kinds of event in one
//! `(time, sequence)` heap, as knsim and most simulators do
//! (docs/performance.md, "The reference loops"). The third,
//! `bare_queues`, is the same system as the scenario: one M/M/c per
//! Service, each with a Poisson source of its own. A second table gives
//! `bare_queues` for 200 Services once more, writing to cache lines of
//! each queue's own state at every event, in any order or chained, to
//! tell what per-Service state costs from what knsim's own work does. A
//! third runs, for the rows of several Services, the least a model of the
//! same data plane does per request (`benches/support/lean.rs`), beside
//! knsim: how far layout and code alone could take knsim there.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use knsim::model::{simulate, NoTimeseries, TimeseriesRow, TimeseriesSink};
use knsim::scenario::{load_scenario, Override, Scenario};
use knsim::sim::{EventQueue, SimTime};
use std::path::Path;

#[path = "support/goal_line.rs"]
mod goal_line;
#[path = "support/lean.rs"]
mod lean;

use goal_line::GoalLine;

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

/// The reference loops' random stream.
type Xoshiro = rand_xoshiro::Xoshiro256PlusPlus;

/// An exponential draw of mean `mean` seconds, in nanoseconds: inverse
/// transform of one uniform, the same draw in every reference loop.
#[inline(always)]
fn exp(mean: f64, rng: &mut Xoshiro) -> u64 {
    use rand::Rng;
    (-(1.0 - rng.random::<f64>()).ln() * mean * 1e9) as u64
}

/// The span the reference loops time: from arrival `warm` to arrival
/// `warm + measured`, as knsim is timed over its steady state only.
struct ArrivalWindow {
    warm: u64,
    end: u64,
    arrived: u64,
    t0: Stamp,
}

impl ArrivalWindow {
    fn new(warm: u64, measured: u64) -> Self {
        ArrivalWindow {
            warm,
            end: warm + measured,
            arrived: 0,
            t0: Stamp::now(),
        }
    }

    /// Counts an arrival; false once the window is over, when the loop
    /// stops without taking it.
    #[inline(always)]
    fn arrive(&mut self) -> bool {
        if self.arrived == self.warm {
            self.t0 = Stamp::now();
        }
        if self.arrived == self.end {
            return false;
        }
        self.arrived += 1;
        true
    }

    fn elapsed(&self) -> Span {
        self.t0.elapsed()
    }
}

/// The reference: M/M/c with `servers` servers, Poisson `rate` and
/// exponential service of mean `mean_s`. One random stream, a binary heap of
/// departure times, a FIFO of waiting arrivals and no metrics but a checksum
/// that keeps the work from being optimised away. Returns the time from
/// arrival `warm` to arrival `warm + measured`, so that, as for knsim, only
/// the steady state is timed.
///
/// Never inlined: inlined into the bench's `main`, its speed moved by 3.5 %
/// whenever the simulator's code changed, though its own code had not.
#[inline(never)]
fn bare_mmc(servers: usize, rate: f64, mean_s: f64, warm: u64, measured: u64) -> Span {
    use rand::SeedableRng;
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, VecDeque};
    let mut rng = Xoshiro::seed_from_u64(1);
    let mut busy: BinaryHeap<Reverse<u64>> = BinaryHeap::with_capacity(servers);
    let mut waiting: VecDeque<u64> = VecDeque::new();
    let (mut next_arrival, mut sum) = (0u64, 0u64);
    let mut window = ArrivalWindow::new(warm, measured);
    loop {
        let next_departure = busy.peek().map(|r| r.0);
        match next_departure {
            Some(d) if d <= next_arrival => {
                busy.pop();
                if let Some(a) = waiting.pop_front() {
                    sum = sum.wrapping_add(d - a);
                    busy.push(Reverse(d + exp(mean_s, &mut rng)));
                }
            }
            _ => {
                if !window.arrive() {
                    std::hint::black_box(sum);
                    return window.elapsed();
                }
                let now = next_arrival;
                if busy.len() < servers {
                    busy.push(Reverse(now + exp(mean_s, &mut rng)));
                } else {
                    waiting.push_back(now);
                }
                next_arrival = now + exp(1.0 / rate, &mut rng);
            }
        }
    }
}

/// The same M/M/c as [`bare_mmc`], written the way a discrete-event
/// simulation usually is: arrivals and departures are both events in one
/// binary heap keyed by `(time, sequence)`, so equal times come out first
/// in, first out, as knsim's do. Same random stream, same draws in the same
/// order, same measured span. Never inlined, as [`bare_mmc`].
#[inline(never)]
fn event_heap_mmc(servers: usize, rate: f64, mean_s: f64, warm: u64, measured: u64) -> Span {
    use rand::SeedableRng;
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, VecDeque};
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Ev {
        Arrival,
        Departure,
    }
    let mut rng = Xoshiro::seed_from_u64(1);
    let mut heap: BinaryHeap<Reverse<(u64, u64, Ev)>> = BinaryHeap::with_capacity(servers + 1);
    let mut waiting: VecDeque<u64> = VecDeque::new();
    let (mut seq, mut busy, mut sum) = (0u64, 0usize, 0u64);
    heap.push(Reverse((0, seq, Ev::Arrival)));
    let mut window = ArrivalWindow::new(warm, measured);
    while let Some(Reverse((now, _, ev))) = heap.pop() {
        seq += 1;
        match ev {
            Ev::Departure => match waiting.pop_front() {
                Some(a) => {
                    sum = sum.wrapping_add(now - a);
                    heap.push(Reverse((now + exp(mean_s, &mut rng), seq, Ev::Departure)));
                }
                None => busy -= 1,
            },
            Ev::Arrival => {
                if !window.arrive() {
                    break;
                }
                if busy < servers {
                    busy += 1;
                    heap.push(Reverse((now + exp(mean_s, &mut rng), seq, Ev::Departure)));
                } else {
                    waiting.push_back(now);
                }
                seq += 1;
                heap.push(Reverse((now + exp(1.0 / rate, &mut rng), seq, Ev::Arrival)));
            }
        }
    }
    std::hint::black_box(sum);
    window.elapsed()
}

/// `queues` M/M/c systems of `servers` servers each, every one fed by a
/// Poisson source of its own at `rate` req/s, as separate Services are:
/// one random stream, and one binary heap holding each source's next arrival
/// and each busy server's departure, keyed by time and then by queue and
/// kind, so that ties come out in a fixed order. With one queue it is
/// [`event_heap_mmc`] without the sequence numbers. Same measured span as
/// the others: arrivals over all queues from `warm` to `warm + measured`.
/// At each arrival and departure it writes to `LINES` cache lines of its
/// queue's own state, none with `LINES` 0, so that the cost of state that
/// many queues keep apart can be told from the rest. With `CHASE` each line
/// holds the index of the next, which the loop reads before it can touch
/// that line, as a simulator reads a record's header before its data.
/// Never inlined, as [`bare_mmc`].
#[inline(never)]
fn bare_queues<const LINES: usize, const CHASE: bool>(
    queues: usize,
    servers: u32,
    rate: f64,
    mean_s: f64,
    warm: u64,
    measured: u64,
) -> Span {
    use rand::SeedableRng;
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, VecDeque};
    let mut rng = Xoshiro::seed_from_u64(1);
    // The low bit of an entry's code marks a departure; the rest is the queue.
    let mut heap: BinaryHeap<Reverse<(u64, u32)>> =
        BinaryHeap::with_capacity(queues * (servers as usize + 1));
    let mut busy = vec![0u32; queues];
    let mut waiting: Vec<VecDeque<u64>> = vec![VecDeque::new(); queues];
    let mut lines = [StateLine([0; 8]); LINES];
    for (j, line) in lines.iter_mut().enumerate() {
        line.0[0] = ((j + 1) % LINES) as u64;
    }
    let mut state = vec![lines; queues];
    for q in 0..queues as u32 {
        heap.push(Reverse((exp(1.0 / rate, &mut rng), q << 1)));
    }
    let mut sum = 0u64;
    let mut window = ArrivalWindow::new(warm, measured);
    while let Some(Reverse((now, code))) = heap.pop() {
        let q = (code >> 1) as usize;
        let word = 1 + now as usize % 7;
        if CHASE {
            let mut j = 0;
            for _ in 0..LINES {
                let line = &mut state[q][j];
                line.0[word] = line.0[word].wrapping_add(now);
                j = line.0[0] as usize;
            }
        } else {
            for line in &mut state[q] {
                line.0[word] = line.0[word].wrapping_add(now);
            }
        }
        if code & 1 == 1 {
            match waiting[q].pop_front() {
                Some(a) => {
                    sum = sum.wrapping_add(now - a);
                    heap.push(Reverse((now + exp(mean_s, &mut rng), code)));
                }
                None => busy[q] -= 1,
            }
            continue;
        }
        if !window.arrive() {
            break;
        }
        if busy[q] < servers {
            busy[q] += 1;
            heap.push(Reverse((now + exp(mean_s, &mut rng), code | 1)));
        } else {
            waiting[q].push_back(now);
        }
        heap.push(Reverse((now + exp(1.0 / rate, &mut rng), code)));
    }
    std::hint::black_box((sum, &state));
    window.elapsed()
}

/// One cache line of a queue's state in [`bare_queues`].
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct StateLine([u64; 8]);

/// A moment on two clocks: the wall clock and this thread's CPU clock.
#[derive(Clone, Copy)]
struct Stamp {
    wall: std::time::Instant,
    cpu: f64,
}

/// The time between two [`Stamp`]s, in seconds on each clock.
#[derive(Clone, Copy)]
struct Span {
    wall: f64,
    cpu: f64,
}

impl Span {
    const NONE: Span = Span {
        wall: f64::INFINITY,
        cpu: f64::INFINITY,
    };

    /// The shorter of two spans on each clock separately.
    fn min(self, o: Span) -> Span {
        Span {
            wall: self.wall.min(o.wall),
            cpu: self.cpu.min(o.cpu),
        }
    }
}

impl Stamp {
    fn now() -> Stamp {
        Stamp {
            wall: std::time::Instant::now(),
            cpu: thread_cpu_now(),
        }
    }

    fn elapsed(self) -> Span {
        let cpu = thread_cpu_now();
        Span {
            wall: self.wall.elapsed().as_secs_f64(),
            cpu: cpu - self.cpu,
        }
    }
}

/// This thread's CPU time in seconds, to the nanosecond: the goal's
/// measure is requests per CPU-second, which time spent waiting for a core
/// a neighbour holds does not move. NaN where the clock is missing, so the
/// table shows it rather than a wall-clock figure under the CPU heading.
#[cfg(target_os = "linux")]
fn thread_cpu_now() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to write.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc == 0 {
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    } else {
        f64::NAN
    }
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_now() -> f64 {
    f64::NAN
}

/// A sink that times the simulated seconds after `warm`, from the close of
/// second `warm` to the close of the run, taking the per-second rows if
/// `rows` (as `knsim run` does) or none (as a sweep does). The arrivals
/// come from the summaries (see [`pinned_ratio`]). Timing lives in the
/// bench only; model outputs never see it.
struct SteadyClock {
    rows: bool,
    warm: u64,
    end: u64,
    t0: Option<Stamp>,
    elapsed: Span,
}

impl SteadyClock {
    /// The CPU and wall time of `sc`'s seconds after `warm`, and its
    /// summary's arrivals.
    fn time(sc: &Scenario, rows: bool, warm: u64, end: u64) -> (Span, u64) {
        let mut clock = SteadyClock {
            rows,
            warm,
            end,
            t0: None,
            elapsed: Span::NONE,
        };
        let arrived = simulate(sc, 1, &mut clock).requests.arrived;
        (clock.elapsed, arrived)
    }
}

impl TimeseriesSink for SteadyClock {
    fn row(&mut self, _row: &TimeseriesRow) {}

    fn wants_rows(&self) -> bool {
        self.rows
    }

    fn second_closed(&mut self, time_s: u64) {
        if time_s == self.warm {
            self.t0 = Some(Stamp::now());
        }
        if time_s == self.end {
            self.elapsed = self.t0.expect("warm-up ends first").elapsed();
        }
    }
}

/// One row of [`pinned_ratio`]: a scenario and what the reference loops
/// simulate in its place.
struct RatioCase {
    label: String,
    sc: Scenario,
    /// Slots (pods × containerConcurrency) over all Services.
    slots: usize,
    /// Requests per second over all Services.
    rate: f64,
    /// Simulated seconds before the timing starts.
    warm: u64,
    /// Services, each with an equal share of the slots and the rate.
    services: usize,
    /// A row of several Services, for which the lean model runs too.
    lean: bool,
}

/// knsim against the bare loop at 10, 1,000 and 10,000 pinned pods, and
/// with 1, 50 and 200 Services sharing 2,000 pinned pods and 2,000 req/s
/// (and 200 Services at 100,000 req/s, "200 S, 100k/s"), in steady state:
/// the pinned pods cold-start at t = 0 and the backlog of that start-up
/// drains within 10 simulated seconds, so knsim is timed from second 12 on
/// (16 at 1,000 and 10,000 pods, where the activator leaves the path at
/// about second 14, once the panic window has forgotten the backlog, and
/// at 100,000 req/s, whose 400,000 requests in flight at second 4 are
/// down to 10,000 by second 9) and the reference loops from the same number
/// of arrivals on (same arrival rate, same exponential 100 ms service, same
/// number of slots in total, same measured arrivals; `bare_queues` splits
/// the slots and the rate evenly over the Services). knsim and the loops
/// are timed alternately so a busy neighbour slows them alike; best of
/// three. Rates are per CPU-second of the running thread, the issue's
/// measure, which a neighbour holding the core does not move; the "wall"
/// column is the knsim / `bare_mmc` ratio by the wall clock, for comparison
/// with the figures of earlier rounds. "no rows" is knsim run as a sweep
/// runs it, with a sink that takes no per-second rows, so that none are
/// built.
fn pinned_ratio(_c: &mut Criterion) {
    println!(
        "pinned pods, steady state: simulated requests per CPU-second (best of 3, alternating)"
    );
    println!("knsim built {}", knsim::BUILD_PROFILE);
    println!(
        "{:>13} {:>10} {:>12} {:>12} {:>7} {:>12} {:>7} {:>7} {:>12} {:>7} {:>12} {:>7}",
        "case",
        "requests",
        "knsim",
        "bare M/M/c",
        "ratio",
        "event heap",
        "ratio",
        "wall",
        "bare queues",
        "ratio",
        "no rows",
        "ratio"
    );
    const WARM: u64 = 12;
    let mut cases: Vec<RatioCase> = Vec::new();
    for (pods, warm, measured_s) in [(10u32, WARM, 600u64), (1_000, 16, 20), (10_000, 16, 4)] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("scenarios/bench-pinned-{pods}.toml"));
        let o: Override = format!("duration={}s", warm + measured_s).parse().unwrap();
        let sc = load_scenario(&path, &[o]).expect("bench scenario is valid");
        cases.push(RatioCase {
            label: format!("{pods} pods"),
            sc,
            slots: pods as usize * 10,
            rate: pods as f64 * 50.0,
            warm,
            services: 1,
            lean: false,
        });
    }
    for services in [1u32, 50, 200] {
        let sc = services_scenario(services, 2_000, 2_000.0, &format!("{}s", WARM + 300));
        cases.push(RatioCase {
            label: match services {
                1 => "1 Service".to_string(),
                n => format!("{n} Services"),
            },
            sc,
            slots: 20_000,
            rate: 2_000.0,
            warm: WARM,
            services: services as usize,
            lean: true,
        });
    }
    // The 10-pod case 200 times over: each Service's pods half busy, as in
    // the pinned rows, instead of the 1 % of the rows above, so that
    // per-revision periodic work is spread over 50 times the requests.
    let sc = services_scenario(200, 2_000, 100_000.0, "26s");
    cases.push(RatioCase {
        label: "200 S, 100k/s".to_string(),
        sc,
        slots: 20_000,
        rate: 100_000.0,
        warm: 16,
        services: 200,
        lean: true,
    });
    // The goal: at least half of the bare loop's requests per
    // CPU-second.
    const GOAL: f64 = 0.5;
    let (mut with_rows, mut rowless) = (GoalLine::new(GOAL), GoalLine::new(GOAL));
    let mut floor_cases: Vec<lean::FloorCase> = Vec::new();
    for RatioCase {
        label,
        sc,
        slots: servers,
        rate,
        warm,
        services: queues,
        lean,
    } in &cases
    {
        let end = sc.duration.as_nanos() / 1_000_000_000;
        let warm_arrivals = (rate * *warm as f64) as u64;
        let (mut k, mut b, mut e, mut q) = (Span::NONE, Span::NONE, Span::NONE, Span::NONE);
        let mut s = Span::NONE;
        // The arrivals timed: the run's total less those of a run that ends
        // at the warm-up's end, whose arrivals are the same.
        let mut until_warm = sc.clone();
        until_warm.duration = knsim::sim::SimDuration::from_secs(*warm);
        let warm_arrived = simulate(&until_warm, 1, &mut NoTimeseries).requests.arrived;
        let mut requests = 0;
        for _ in 0..3 {
            let (with_rows, arrived) = SteadyClock::time(sc, true, *warm, end);
            k = k.min(with_rows);
            requests = arrived - warm_arrived;
            let (without_rows, _) = SteadyClock::time(sc, false, *warm, end);
            s = s.min(without_rows);
            b = b.min(bare_mmc(*servers, *rate, 0.1, warm_arrivals, requests));
            e = e.min(event_heap_mmc(
                *servers,
                *rate,
                0.1,
                warm_arrivals,
                requests,
            ));
            q = q.min(bare_queues::<0, false>(
                *queues,
                (*servers / *queues) as u32,
                *rate / *queues as f64,
                0.1,
                warm_arrivals,
                requests,
            ));
        }
        let n = requests as f64;
        let (kr, br, er, qr) = (n / k.cpu, n / b.cpu, n / e.cpu, n / q.cpu);
        let sr = n / s.cpu;
        if *lean {
            floor_cases.push(lean::FloorCase {
                label: label.clone(),
                services: *queues,
                slots: *servers,
                rate: *rate,
                warm_arrivals,
                knsim: kr,
            });
        }
        println!(
            "{label:>13} {requests:>10} {:>10.2} M/s {:>8.2} M/s {:>7.2} {:>8.2} M/s {:>7.2} {:>7.2} {:>8.2} M/s {:>7.2} {:>8.2} M/s {:>7.2}",
            kr / 1e6,
            br / 1e6,
            kr / br,
            er / 1e6,
            kr / er,
            b.wall / k.wall,
            qr / 1e6,
            kr / qr,
            sr / 1e6,
            sr / br
        );
        with_rows.add(label, kr / br);
        rowless.add(label, sr / br);
    }
    with_rows.print(&format!("goal, knsim / bare M/M/c >= {GOAL}:"));
    rowless.print("the same without rows, as a sweep runs:");
    state_lines();
    lean::floor_table(&floor_cases, GOAL);
}

/// A [`bare_queues`] loop: queues, servers each, rate each, mean service
/// time, arrivals before the timing and arrivals timed.
type QueuesLoop = fn(usize, u32, f64, f64, u64, u64) -> Span;

/// What the state of many queues costs a loop that keeps no more than
/// that: `bare_queues` for the queues of the "200 Services" row (2,000
/// req/s over 20,000 slots, 200 queues), writing to 0, 8 or 16 cache lines
/// of the queue's own state at every event, in any order or each line's
/// index read from the one before, against `bare_mmc`; best of three,
/// alternating. Sixteen lines a queue are 200 kB in all, six times the
/// first-level data cache, and the two events of a request touch 32.
fn state_lines() {
    const QUEUES: usize = 200;
    const SLOTS: usize = 20_000;
    const RATE: f64 = 2_000.0;
    const REQUESTS: u64 = 3_000_000;
    // The pinned rows' warm-up, in arrivals.
    let warm = (RATE * 12.0) as u64;
    let per_queue = |f: QueuesLoop| {
        let servers = (SLOTS / QUEUES) as u32;
        f(QUEUES, servers, RATE / QUEUES as f64, 0.1, warm, REQUESTS)
    };
    // Lines a queue, the loop writing them in any order, and the one
    // chaining them.
    let rows: [(usize, QueuesLoop, Option<QueuesLoop>); 3] = [
        (0, bare_queues::<0, false>, None),
        (8, bare_queues::<8, false>, Some(bare_queues::<8, true>)),
        (16, bare_queues::<16, false>, Some(bare_queues::<16, true>)),
    ];
    let mut b = Span::NONE;
    let mut spans = [(Span::NONE, Span::NONE); 3];
    for _ in 0..3 {
        b = b.min(bare_mmc(SLOTS, RATE, 0.1, warm, REQUESTS));
        for ((free, chained), (_, f, g)) in spans.iter_mut().zip(&rows) {
            *free = free.min(per_queue(*f));
            if let Some(g) = g {
                *chained = chained.min(per_queue(*g));
            }
        }
    }
    let rate = |s: Span| {
        format!(
            "{:>8.2} M/s {:>7.2}",
            REQUESTS as f64 / s.cpu / 1e6,
            b.cpu / s.cpu
        )
    };
    println!("per-queue state written at each event, bare queues of 200 Services (M req/s, ratio to bare M/M/c):");
    println!(
        "{:>13} {:>12} {:>7} {:>12} {:>7}",
        "lines", "any order", "ratio", "chained", "ratio"
    );
    for ((lines, _, g), (free, chained)) in rows.iter().zip(spans) {
        let chained = if g.is_some() {
            rate(chained)
        } else {
            String::new()
        };
        let line = format!("{lines:>13} {} {chained}", rate(free));
        println!("{}", line.trim_end());
    }
}

/// A cluster of `services` Services sharing `pods` pinned pods and
/// `rate` req/s (Poisson, split evenly), for `duration`.
fn services_scenario(services: u32, pods: u32, rate: f64, duration: &str) -> Scenario {
    use std::fmt::Write;
    let per_pods = pods / services;
    let per_rate = rate / f64::from(services);
    let mut t = format!("name = \"bench-services-{services}\"\nduration = \"{duration}\"\n");
    for i in 0..services {
        write!(
            t,
            "[[service]]\nname = \"s{i}\"\n[[service.revision]]\ncontainerConcurrency = 10\n\
             service-time = {{ distribution = \"exponential\", mean = \"100ms\" }}\n\
             [service.revision.annotations]\n\
             \"autoscaling.knative.dev/min-scale\" = \"{per_pods}\"\n\
             \"autoscaling.knative.dev/max-scale\" = \"{per_pods}\"\n\
             \"autoscaling.knative.dev/initial-scale\" = \"{per_pods}\"\n\
             [[service.workload]]\nname = \"w{i}\"\n\
             arrival = {{ process = \"poisson\", rate = {per_rate:?} }}\n"
        )
        .unwrap();
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    knsim::scenario::load_scenario_str(&t, Path::new("bench-services.toml"), "b", dir, &[])
        .expect("generated scenario is valid")
}

/// Simulated requests per CPU-second with 1, 50 and 200 Services sharing
/// 2,000 pinned pods and 2,000 req/s for one simulated hour
/// (`KNSIM_BENCH_SERVICES_DURATION` shortens it).
fn services_scaling(c: &mut Criterion) {
    let duration =
        std::env::var("KNSIM_BENCH_SERVICES_DURATION").unwrap_or_else(|_| "1h".to_string());
    println!("services: 2,000 pinned pods, Poisson 2,000 req/s in total, {duration} simulated");
    println!(
        "{:>9} {:>10} {:>9} {:>14}",
        "services", "requests", "CPU s", "req per CPU-s"
    );
    for n in [1u32, 50, 200] {
        let sc = services_scenario(n, 2_000, 2_000.0, &duration);
        let t0 = Stamp::now();
        let s = simulate(&sc, 1, &mut NoTimeseries);
        let cpu = t0.elapsed().cpu;
        let requests = s.requests.arrived;
        println!(
            "{n:>9} {requests:>10} {cpu:>9.2} {:>12.2} M",
            requests as f64 / cpu / 1e6
        );
    }
    let sc = services_scenario(200, 2_000, 2_000.0, "2m");
    let requests = simulate(&sc, 1, &mut NoTimeseries).requests.arrived;
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    g.throughput(Throughput::Elements(requests));
    g.bench_function("200 Services, 2,000 pods, 2 min (2000 req/s)", |b| {
        b.iter(|| simulate(&sc, 1, &mut NoTimeseries))
    });
    g.finish();
}

criterion_group!(
    benches,
    services_scaling,
    pinned_ratio,
    one_revision_poisson,
    trace_replay,
    event_queue
);
criterion_main!(benches);
