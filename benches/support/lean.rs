//! `lean_data_plane`: a floor under what a simulator of Knative's data
//! plane pays per request of many Services, to tell how far knsim could go
//! by layout and code alone.
//!
//! It keeps what every request of such a model touches and nothing else,
//! in the plainest layout: one record per revision (its random stream, the
//! activator's throttler, its counters, its latency batch), one flat array
//! of pods indexed by revision and pod number, a request table with a free
//! list, and knsim's own event queue, so that the queue's cost is the same
//! as knsim's. Per request:
//! - the arrival draws the next one and enters the revision's throttler;
//! - the throttler takes a pod by round robin among those under their
//!   containerConcurrency (Knative's policy above a concurrency of 3), or
//!   queues the request;
//! - the activator's and the queue-proxy's time-weighted concurrency (what
//!   their stat reports average) are brought up to date at each change;
//! - the service time is drawn and the end scheduled;
//! - at the end the pod's, the throttler's and the revision's counts fall,
//!   the latency goes to the revision's batch for its histogram, and the
//!   throttler's first waiter is dispatched.
//!
//! Once a second one sweep does what Knative does on each pod's and each
//! revision's own tick, and what a timeseries row needs: every
//! queue-proxy's and activator's concurrency averaged over the second and
//! reset, summed per revision as the autoscaler's collector records both,
//! the pods that sum asks for at a target of 70 % of containerConcurrency,
//! and the second's median and 99th percentile latency. Arrivals and
//! service times draw from streams of their own, as knsim's do so that a
//! change to one leaves the other's draws alone.
//!
//! Left out, so that the floor is generous: the scrape's sampling, the
//! deciders' windows and panic mode, writing the rows, the routes' split,
//! timeouts, and every branch for pods that are not ready or are draining.

use super::{bare_mmc, exp, ArrivalWindow, GoalLine, Span, Xoshiro};
use hdrhistogram::Histogram;
use knsim::sim::{EventQueue, SimTime};
use std::collections::VecDeque;

/// Latencies held before they go to a histogram, as knsim batches them.
const BATCH: usize = 4096;

/// knsim's events are 12 bytes; these fit in 8, which flatters the floor.
#[derive(Clone, Copy)]
enum Ev {
    Arrival(u32),
    Done(u32),
    Second,
}

/// The reporting period of the queue-proxies and the activator, and the
/// timeseries' step, in nanoseconds.
const SECOND: u64 = 1_000_000_000;

/// What the activator and the engine keep of one revision.
struct Revision {
    /// The service times' stream; arrivals draw from their source's.
    rng: Xoshiro,
    /// Requests through the throttler and not yet ended.
    in_flight: u32,
    /// Where the throttler's round robin starts next.
    next_pod: u32,
    arrived: u64,
    completed: u64,
    /// The activator's concurrency integrated over time, and when it last
    /// changed.
    area: u64,
    changed: u64,
    waiting: VecDeque<u32>,
    /// The pods the last second's concurrency asked for.
    desired: f64,
    latencies: Vec<u64>,
    hist: Histogram<u64>,
    /// This second's latencies, for its row's quantiles.
    second: Vec<u64>,
    /// The last closed second's p50 and p99.
    quantiles: (u64, u64),
}

/// One pod, as the activator's tracker and its queue-proxy see it.
#[derive(Clone, Copy, Default)]
struct Pod {
    activator: u32,
    proxy: u32,
    area: u64,
    changed: u64,
}

#[derive(Clone, Copy)]
struct Req {
    arrival: u64,
    rev: u32,
    pod: u32,
}

/// `count` integrated up to `now`.
#[inline(always)]
fn integrate(area: &mut u64, changed: &mut u64, count: u32, now: u64) {
    *area = area.wrapping_add(u64::from(count) * (now - *changed));
    *changed = now;
}

/// `services` revisions of `pods` pods of containerConcurrency `cc`, each
/// fed at `rate` req/s with exponential service of mean `mean_s`, timed
/// from arrival `warm` to arrival `warm + measured` over all Services.
/// Never inlined, as the other reference loops.
#[inline(never)]
fn lean_data_plane(
    services: usize,
    pods: u32,
    cc: u32,
    rate: f64,
    mean_s: f64,
    warm: u64,
    measured: u64,
) -> Span {
    use rand::SeedableRng;
    let mut revs: Vec<Revision> = (0..services as u64)
        .map(|r| Revision {
            rng: Xoshiro::seed_from_u64(r + 1),
            in_flight: 0,
            next_pod: 0,
            arrived: 0,
            completed: 0,
            area: 0,
            changed: 0,
            waiting: VecDeque::new(),
            desired: 0.0,
            latencies: Vec::with_capacity(BATCH),
            hist: Histogram::new_with_bounds(1, 36_000_000_000, 3).expect("valid bounds"),
            second: Vec::new(),
            quantiles: (0, 0),
        })
        .collect();
    // Each Service's arrival stream, apart from its revision's.
    let mut sources: Vec<Xoshiro> = (0..services as u64)
        .map(|s| Xoshiro::seed_from_u64(!s))
        .collect();
    let mut pod_table = vec![Pod::default(); services * pods as usize];
    let mut reqs: Vec<Req> = Vec::new();
    let mut free: Vec<u32> = Vec::new();
    let mut q: EventQueue<Ev> = EventQueue::new();
    let gap = 1.0 / rate;
    for (r, source) in sources.iter_mut().enumerate() {
        q.schedule(SimTime(exp(gap, source)), Ev::Arrival(r as u32));
    }
    q.schedule(SimTime(SECOND), Ev::Second);
    let capacity = pods * cc;
    let target = 0.7 * f64::from(cc);
    let mut window = ArrivalWindow::new(warm, measured);
    // Sends request `id` of revision `r` to a pod; the throttler has room.
    let dispatch = |id: u32,
                    r: u32,
                    now: u64,
                    rev: &mut Revision,
                    pod_table: &mut [Pod],
                    reqs: &mut [Req],
                    q: &mut EventQueue<Ev>| {
        let base = (r * pods) as usize;
        let mut p = rev.next_pod;
        while pod_table[base + p as usize].activator >= cc {
            p = if p + 1 == pods { 0 } else { p + 1 };
        }
        rev.next_pod = if p + 1 == pods { 0 } else { p + 1 };
        integrate(&mut rev.area, &mut rev.changed, rev.in_flight, now);
        rev.in_flight += 1;
        let pod = &mut pod_table[base + p as usize];
        pod.activator += 1;
        integrate(&mut pod.area, &mut pod.changed, pod.proxy, now);
        pod.proxy += 1;
        reqs[id as usize].pod = p;
        let end = now + exp(mean_s, &mut rev.rng);
        q.schedule(SimTime(end), Ev::Done(id));
    };
    while let Some((t, ev)) = q.pop() {
        let now = t.0;
        match ev {
            Ev::Arrival(r) => {
                if !window.arrive() {
                    break;
                }
                let next = now + exp(gap, &mut sources[r as usize]);
                let rev = &mut revs[r as usize];
                q.schedule_arrival(SimTime(next), Ev::Arrival(r));
                rev.arrived += 1;
                let req = Req {
                    arrival: now,
                    rev: r,
                    pod: u32::MAX,
                };
                let id = match free.pop() {
                    Some(id) => {
                        reqs[id as usize] = req;
                        id
                    }
                    None => {
                        reqs.push(req);
                        reqs.len() as u32 - 1
                    }
                };
                if rev.in_flight < capacity {
                    dispatch(id, r, now, rev, &mut pod_table, &mut reqs, &mut q);
                } else {
                    rev.waiting.push_back(id);
                }
            }
            Ev::Done(id) => {
                let req = reqs[id as usize];
                let rev = &mut revs[req.rev as usize];
                let pod = &mut pod_table[(req.rev * pods + req.pod) as usize];
                integrate(&mut pod.area, &mut pod.changed, pod.proxy, now);
                pod.proxy -= 1;
                pod.activator -= 1;
                integrate(&mut rev.area, &mut rev.changed, rev.in_flight, now);
                rev.in_flight -= 1;
                rev.completed += 1;
                let latency = (now - req.arrival) / 1_000;
                rev.latencies.push(latency);
                rev.second.push(latency);
                if rev.latencies.len() == BATCH {
                    for &v in &rev.latencies {
                        rev.hist.saturating_record(v);
                    }
                    rev.latencies.clear();
                }
                free.push(id);
                if let Some(w) = rev.waiting.pop_front() {
                    dispatch(w, req.rev, now, rev, &mut pod_table, &mut reqs, &mut q);
                }
            }
            Ev::Second => {
                q.schedule(SimTime(now + SECOND), Ev::Second);
                let per_second = |area: u64| area as f64 / SECOND as f64;
                for (rev, pods) in revs.iter_mut().zip(pod_table.chunks_mut(pods as usize)) {
                    integrate(&mut rev.area, &mut rev.changed, rev.in_flight, now);
                    let mut observed = per_second(rev.area);
                    rev.area = 0;
                    for pod in pods {
                        integrate(&mut pod.area, &mut pod.changed, pod.proxy, now);
                        observed += per_second(pod.area);
                        pod.area = 0;
                    }
                    rev.desired = (observed / target).ceil();
                    let n = rev.second.len();
                    if n > 0 {
                        let at = |q: f64| ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
                        let (_, &mut p50, _) = rev.second.select_nth_unstable(at(0.5));
                        let (_, &mut p99, _) = rev.second.select_nth_unstable(at(0.99));
                        rev.quantiles = (p50, p99);
                        rev.second.clear();
                    }
                }
            }
        }
    }
    std::hint::black_box((&revs, &pod_table));
    window.elapsed()
}

/// A row of several Services for [`floor_table`]: the main table's case
/// and knsim's rate in it.
pub struct FloorCase {
    pub label: String,
    pub services: usize,
    /// Slots over all Services, at containerConcurrency 10.
    pub slots: usize,
    /// Requests per second over all Services.
    pub rate: f64,
    /// Arrivals before the timing starts.
    pub warm_arrivals: u64,
    /// knsim's simulated requests per CPU-second in the main table.
    pub knsim: f64,
}

/// [`lean_data_plane`], the least a model of the same data plane does per
/// request, for each of `cases` against `bare_mmc` (best of three,
/// alternating) and against knsim's rate, with the goal line it would get.
pub fn floor_table(cases: &[FloorCase], goal: f64) {
    const REQUESTS: u64 = 3_000_000;
    const CC: u32 = 10;
    println!("the least a data-plane model does per request (M req/s, ratios):");
    println!(
        "{:>13} {:>12} {:>12} {:>7} {:>12} {:>7}",
        "case", "bare M/M/c", "lean model", "ratio", "knsim", "/ lean"
    );
    let mut line = GoalLine::new(goal);
    for c in cases {
        let pods = (c.slots / c.services) as u32 / CC;
        let (mut b, mut l) = (Span::NONE, Span::NONE);
        for _ in 0..3 {
            b = b.min(bare_mmc(c.slots, c.rate, 0.1, c.warm_arrivals, REQUESTS));
            l = l.min(lean_data_plane(
                c.services,
                pods,
                CC,
                c.rate / c.services as f64,
                0.1,
                c.warm_arrivals,
                REQUESTS,
            ));
        }
        let (br, lr) = (REQUESTS as f64 / b.cpu, REQUESTS as f64 / l.cpu);
        println!(
            "{:>13} {:>8.2} M/s {:>8.2} M/s {:>7.2} {:>8.2} M/s {:>7.2}",
            c.label,
            br / 1e6,
            lr / 1e6,
            lr / br,
            c.knsim / 1e6,
            c.knsim / lr
        );
        line.add(&c.label, lr / br);
    }
    line.print(&format!(
        "the goal for the lean model, lean / bare M/M/c >= {goal}:"
    ));
}
