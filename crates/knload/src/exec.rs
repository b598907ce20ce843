//! The executor: one loop per connection takes the next request index from a
//! shared counter, waits for that request's due time (open loop), sends it and
//! records the outcome. The schedule alone decides when; the executor only
//! carries it out, the same way for closed and open loops.

use super::error::RequestError;
use super::sched::Policy;
use super::schedule::Schedule;
use super::stats::{Outcome, Stats};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

/// One connection's way of making a request: send it, read the whole
/// response, classify it. Implemented over hyper for real targets and by
/// test doubles for deterministic tests under paused time.
pub trait Exchange: Send + 'static {
    /// Makes one request and waits for its complete outcome. A dropped call
    /// (timeout, interrupt) must leave the value usable for the next call.
    fn exchange(&mut self) -> impl Future<Output = Outcome> + Send;
}

/// First wait of a connection loop after a failed connect; each further
/// failure in a row doubles it, up to [`BACKOFF_MAX`]. Reconnecting at once
/// would turn a dead target into a busy loop of refusals.
pub const BACKOFF_FIRST: Duration = Duration::from_millis(10);

/// Longest wait between two connection attempts of one loop: a target that
/// comes back is used again within this time.
pub const BACKOFF_MAX: Duration = Duration::from_millis(500);

/// A connection loop's state after connecting failed.
struct Backoff {
    /// No new connection attempt before this.
    until: Instant,
    /// The wait that led to `until`.
    wait: Duration,
    /// The failure, counted again for open-loop requests due meanwhile.
    error: RequestError,
}

/// What the executor is to do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// When requests are due.
    pub schedule: Schedule,
    /// Stop after this many requests.
    pub requests: Option<u64>,
    /// Stop starting requests this long after the start.
    pub duration: Option<Duration>,
    /// Per-request timeout, from the actual send.
    pub timeout: Duration,
    /// Whether a classifier is set (responses without class are counted).
    pub classified: bool,
    /// How the open loop waits for due times.
    pub pacing: Pacing,
    /// The OS scheduling policy of the pacer thread ([`Pacing::Thread`]),
    /// the connection loops' own.
    pub scheduling: Policy,
    /// Runtimes to spread the connections over, round robin; empty for the
    /// current one. A single-threaded runtime per core keeps each
    /// connection's wake-ups on one thread, as wrk's event loops do.
    pub runtimes: Vec<tokio::runtime::Handle>,
    /// Loops per connection (HTTP/2 streams, else 1): consecutive loops of
    /// one connection run on the same runtime, where it is driven.
    pub streams: usize,
}

/// How the open-loop pacer waits for the next due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// A dedicated OS thread sleeping with the system's fine-grained timer
    /// (tens of microseconds); for real runs.
    Thread,
    /// A tokio task; tokio's timer has 1 ms granularity, but it follows
    /// paused time, so tests are exact and instant.
    Task,
}

/// One row of the per-request trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceRow {
    /// Request index (0-based, in schedule order).
    pub index: u64,
    /// Intended send time, seconds from the start.
    pub timestamp_s: f64,
    /// Latency from the intended send time, seconds.
    pub latency_s: f64,
    /// HTTP status, 0 for a failed request.
    pub status: u16,
    /// Response class, or the error kind for a failed request.
    pub class: String,
}

/// Live counters and per-connection stats, readable while the run goes on.
#[derive(Debug)]
pub struct Live {
    /// Start of the run.
    pub start: Instant,
    /// One slot per runtime the loops run on: the loops of one thread take
    /// turns, so the lock is uncontended except when the progress line
    /// reads it. One histogram per thread rather than per connection keeps
    /// the counters that every response touches in the cache (50
    /// connections' histograms are about 2 MB).
    pub parts: Vec<Mutex<Stats>>,
}

impl Live {
    /// Merges every connection's stats.
    pub fn snapshot(&self) -> Stats {
        let mut total = Stats::default();
        for p in &self.parts {
            total.merge(&p.lock().expect("stats lock is never poisoned"));
        }
        total
    }
}

/// What the executor hands back.
#[derive(Debug)]
pub struct Executed {
    /// Everything recorded.
    pub stats: Stats,
    /// From the start to the last completion.
    pub elapsed: Duration,
    /// Whether the run was interrupted.
    pub interrupted: bool,
    /// Requests in flight when interrupted, not recorded.
    pub abandoned: u64,
}

/// The open loop's gate: the pacer adds one permit per request when it is
/// due; a free connection takes a permit, then the next request index. When
/// the schedule ends, `end` is set and one more permit per connection lets
/// every loop see it and stop.
struct Gate {
    permits: Semaphore,
    end: AtomicU64,
}

/// What the pacer does next.
enum Step {
    /// Release request `i` now (it is due).
    Release,
    /// Wait until this offset from the start.
    WaitUntil(Duration),
    /// No more requests.
    Done,
}

/// The pacer's decision for request `i` at `now` (offset from the start):
/// the schedule alone says when, the limits say whether.
fn step(plan: &Plan, i: u64, now: Duration) -> Step {
    if plan.requests.is_some_and(|n| i >= n) {
        return Step::Done;
    }
    match plan.schedule.due(i) {
        None => Step::Done,
        Some(t) if plan.duration.is_some_and(|d| t >= d) => Step::Done,
        Some(t) if t > now => Step::WaitUntil(t),
        Some(_) => Step::Release,
    }
}

impl Gate {
    fn finish(&self, released: u64, connections: usize) {
        self.end.store(released, Ordering::SeqCst);
        self.permits.add_permits(connections);
    }
}

fn pace_on_thread(
    plan: Arc<Plan>,
    gate: Arc<Gate>,
    start: Instant,
    connections: usize,
    cancel: watch::Receiver<bool>,
) {
    let start = start.into_std();
    let mut i = 0;
    while !*cancel.borrow() {
        match step(&plan, i, start.elapsed()) {
            Step::Release => {
                gate.permits.add_permits(1);
                i += 1;
            }
            // Short sleeps so that an interrupt is seen within 50 ms.
            Step::WaitUntil(t) => std::thread::sleep(
                t.saturating_sub(start.elapsed())
                    .min(Duration::from_millis(50)),
            ),
            Step::Done => break,
        }
    }
    gate.finish(i, connections);
}

async fn pace_on_task(
    plan: Arc<Plan>,
    gate: Arc<Gate>,
    start: Instant,
    connections: usize,
    mut cancel: watch::Receiver<bool>,
) {
    let mut i = 0;
    loop {
        match step(&plan, i, start.elapsed()) {
            Step::Release => {
                gate.permits.add_permits(1);
                i += 1;
            }
            Step::WaitUntil(t) => tokio::select! {
                _ = tokio::time::sleep_until(start + t) => {}
                _ = cancel.wait_for(|c| *c) => break,
            },
            Step::Done => break,
        }
    }
    gate.finish(i, connections);
}

/// Runs `plan` over `exchanges` (one per connection). `cancel` turning true
/// interrupts the run: requests in flight are abandoned, the rest is kept.
/// `on_start` gets the live state once the clock has started. Each completed
/// request is also sent to `trace`, if given.
pub async fn execute<E: Exchange>(
    plan: Plan,
    exchanges: Vec<E>,
    cancel: watch::Receiver<bool>,
    trace: Option<std::sync::mpsc::Sender<TraceRow>>,
    on_start: impl FnOnce(Arc<Live>),
) -> Executed {
    let connections = exchanges.len();
    let live = Arc::new(Live {
        start: Instant::now(),
        parts: (0..plan.runtimes.len().max(1))
            .map(|_| Mutex::new(Stats::default()))
            .collect(),
    });
    on_start(live.clone());
    let plan = Arc::new(plan);
    let gate = plan.schedule.is_open().then(|| {
        Arc::new(Gate {
            permits: Semaphore::new(0),
            end: AtomicU64::new(u64::MAX),
        })
    });
    let pacer = gate.as_ref().map(|g| {
        let (plan, g, start, c) = (plan.clone(), g.clone(), live.start, cancel.clone());
        match plan.pacing {
            Pacing::Thread => Pacer::Thread(std::thread::spawn(move || {
                // Under SCHED_BATCH, a pacer left on the ordinary policy
                // would still preempt the server at every release.
                plan.scheduling.apply_or_warn();
                pace_on_thread(plan, g, start, connections, c)
            })),
            Pacing::Task => Pacer::Task(tokio::spawn(pace_on_task(plan, g, start, connections, c))),
        }
    });
    let next = Arc::new(AtomicU64::new(0));
    let abandoned = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(connections);
    for (slot, ex) in exchanges.into_iter().enumerate() {
        let part = match plan.runtimes.len() {
            0 => 0,
            n => (slot / plan.streams.max(1)) % n,
        };
        let w = Worker {
            slot,
            part,
            plan: plan.clone(),
            gate: gate.clone(),
            live: live.clone(),
            next: next.clone(),
            abandoned: abandoned.clone(),
            trace: trace.clone(),
        };
        tasks.push(match plan.runtimes.get(part) {
            None => tokio::spawn(w.run(ex)),
            Some(rt) => rt.spawn(w.run(ex)),
        });
    }
    drop(trace);
    // An interrupt aborts the loops where they wait: they do not poll the
    // cancellation themselves, which would cost a waiter registration on
    // every wake-up of every request.
    let mut cancelled = cancel.clone();
    let finished = async {
        for t in &mut tasks {
            joined(t.await);
        }
    };
    let interrupt = async {
        // Without a sender no interrupt can come: wait for the loops.
        let gone = cancelled.wait_for(|c| *c).await.is_err();
        if gone {
            std::future::pending::<()>().await;
        }
    };
    let interrupted = tokio::select! {
        biased;
        _ = finished => false,
        _ = interrupt => true,
    };
    if interrupted {
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            joined(t.await);
        }
    }
    let elapsed = live.start.elapsed();
    match pacer {
        Some(Pacer::Thread(h)) => h.join().expect("the pacer does not panic"),
        Some(Pacer::Task(h)) => h.await.expect("the pacer does not panic"),
        None => {}
    }
    Executed {
        stats: live.snapshot(),
        elapsed,
        interrupted: *cancel.borrow(),
        abandoned: abandoned.load(Ordering::Relaxed),
    }
}

/// A connection loop's end: done, or aborted at an interrupt; a panic in a
/// loop is passed on.
fn joined(r: Result<(), tokio::task::JoinError>) {
    if let Err(e) = r {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// Counts the request in flight as abandoned if the loop is dropped (aborted
/// at an interrupt) before the request completes.
struct InFlight<'a> {
    abandoned: &'a AtomicU64,
    done: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.abandoned.fetch_add(1, Ordering::Relaxed);
        }
    }
}

enum Pacer {
    Thread(std::thread::JoinHandle<()>),
    Task(tokio::task::JoinHandle<()>),
}

struct Worker {
    slot: usize,
    /// Index of the runtime it runs on, and of its stats in `Live::parts`.
    part: usize,
    plan: Arc<Plan>,
    gate: Option<Arc<Gate>>,
    live: Arc<Live>,
    next: Arc<AtomicU64>,
    abandoned: Arc<AtomicU64>,
    trace: Option<std::sync::mpsc::Sender<TraceRow>>,
}

impl Worker {
    async fn run<E: Exchange>(self, mut ex: E) {
        let start = self.live.start;
        let deadline = self.plan.duration.map(|d| start + d);
        // One timer per loop, polled again and again: cheaper than a new
        // timer entry for each request. Request deadlines only grow, so the
        // timer is re-armed lazily: when it fires before the current
        // request's deadline it is moved to that deadline, about once per
        // timeout instead of once per request. An interrupt aborts the loop
        // (see `execute`), so nothing here waits for it.
        let timer = tokio::time::sleep(self.plan.timeout);
        tokio::pin!(timer);
        let mut backoff: Option<Backoff> = None;
        // A scenario's closed-loop client waits a think time after each
        // response, as the simulated one does.
        let mut think = match &self.plan.schedule {
            Schedule::ClosedThink(t) => Some((t.clone(), t.rng(self.slot))),
            _ => None,
        };
        loop {
            // Closed loop: wait out a backoff before the next attempt (but
            // not past the end of the run).
            if let (None, Some(b)) = (&self.gate, &backoff) {
                let until = deadline.map_or(b.until, |d| b.until.min(d));
                if until > Instant::now() {
                    tokio::time::sleep_until(until).await;
                }
            }
            if let Some(gate) = &self.gate {
                gate.permits
                    .acquire()
                    .await
                    .expect("the gate is never closed")
                    .forget();
            }
            let i = self.next.fetch_add(1, Ordering::SeqCst);
            let due = match &self.gate {
                Some(gate) => {
                    if i >= gate.end.load(Ordering::SeqCst) {
                        return;
                    }
                    let offset = self
                        .plan
                        .schedule
                        .due(i)
                        .expect("the pacer released only due requests");
                    Some(start + offset)
                }
                None => None,
            };
            let sent = Instant::now();
            let deadline_of_request = sent + self.plan.timeout;
            if due.is_none()
                && (self.plan.requests.is_some_and(|n| i >= n)
                    || deadline.is_some_and(|d| sent >= d))
            {
                return;
            }
            // Open loop: a request that comes due while this loop backs off
            // is not sent; it fails as the last connection attempt did.
            let skipped = match &backoff {
                Some(b) if due.is_some() && sent < b.until => Some(b.error.clone()),
                _ => None,
            };
            let outcome = match skipped.clone() {
                Some(e) => Outcome::Error(e),
                None => {
                    let mut in_flight = InFlight {
                        abandoned: &self.abandoned,
                        done: false,
                    };
                    let exchange = ex.exchange();
                    tokio::pin!(exchange);
                    let outcome = loop {
                        tokio::select! {
                            biased;
                            r = &mut exchange => break r,
                            _ = &mut timer => {
                                if Instant::now() >= deadline_of_request {
                                    break Outcome::Error(RequestError::Timeout);
                                }
                                timer.as_mut().reset(deadline_of_request);
                            }
                        }
                    };
                    in_flight.done = true;
                    outcome
                }
            };
            match &outcome {
                _ if skipped.is_some() => {}
                Outcome::Error(e) if e.kind().is_connect() => {
                    let wait = backoff
                        .as_ref()
                        .map_or(BACKOFF_FIRST, |b| (b.wait * 2).min(BACKOFF_MAX));
                    backoff = Some(Backoff {
                        until: Instant::now() + wait,
                        wait,
                        error: e.clone(),
                    });
                }
                _ => backoff = None,
            }
            let intended = due.unwrap_or(sent);
            let latency = Instant::now().saturating_duration_since(intended);
            {
                let mut s = self.live.parts[self.part]
                    .lock()
                    .expect("stats lock is never poisoned");
                s.record(latency, &outcome, self.plan.classified);
                if due.is_some() && skipped.is_none() {
                    s.record_lag(sent.saturating_duration_since(intended));
                }
            }
            if let Some(tx) = &self.trace {
                let (status, class) = match outcome {
                    Outcome::Response { status, class } => (status, class.unwrap_or_default()),
                    Outcome::Error(e) => (0, e.kind().name().to_string()),
                };
                // A closed writer means the trace file failed; the run goes on.
                let _ = tx.send(TraceRow {
                    index: i,
                    timestamp_s: intended.saturating_duration_since(start).as_secs_f64(),
                    latency_s: latency.as_secs_f64(),
                    status,
                    class,
                });
            }
            if let Some((t, rng)) = &mut think {
                let until = Instant::now() + t.draw(rng);
                let until = deadline.map_or(until, |d| until.min(d));
                tokio::time::sleep_until(until).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// A backend that answers after a fixed service time, except during a
    /// stall window (offsets from the start), when answers wait for its end.
    struct Fake {
        start: Instant,
        service: Duration,
        stall: Option<(Duration, Duration)>,
        status: u16,
    }

    impl Exchange for Fake {
        fn exchange(&mut self) -> impl Future<Output = Outcome> + Send {
            let now = Instant::now().duration_since(self.start);
            let mut wait = self.service;
            if let Some((from, to)) = self.stall {
                if now >= from && now < to {
                    wait += to - now;
                }
            }
            let status = self.status;
            async move {
                tokio::time::sleep(wait).await;
                Outcome::Response {
                    status,
                    class: None,
                }
            }
        }
    }

    fn fakes(n: usize, service_ms: u64, stall: Option<(u64, u64)>) -> Vec<Fake> {
        let start = Instant::now();
        (0..n)
            .map(|_| Fake {
                start,
                service: Duration::from_millis(service_ms),
                stall: stall.map(|(a, b)| (Duration::from_millis(a), Duration::from_millis(b))),
                status: 200,
            })
            .collect()
    }

    fn plan(schedule: Schedule, requests: Option<u64>, duration_ms: Option<u64>) -> Plan {
        Plan {
            schedule,
            requests,
            duration: duration_ms.map(Duration::from_millis),
            timeout: Duration::from_secs(30),
            classified: false,
            pacing: Pacing::Task,
            scheduling: Policy::Normal,
            runtimes: Vec::new(),
            streams: 1,
        }
    }

    fn no_cancel() -> watch::Receiver<bool> {
        let (tx, rx) = watch::channel(false);
        std::mem::forget(tx);
        rx
    }

    #[tokio::test(start_paused = true)]
    async fn closed_loop_count_is_exact_and_latency_is_service_time() {
        let out = execute(
            plan(Schedule::Closed, Some(1000), None),
            fakes(4, 2, None),
            no_cancel(),
            None,
            |_| {},
        )
        .await;
        assert_eq!(out.stats.total(), 1000);
        assert_eq!(out.stats.status[&200], 1000);
        // 4 connections x 2 ms each: 250 rounds = 500 ms.
        assert_eq!(out.elapsed, Duration::from_millis(500));
        assert_eq!(out.stats.latency.value_at_quantile(0.99), 2000);
        assert_eq!(out.stats.lag.sent, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn open_loop_sends_on_schedule() {
        // 100/s for 2 s with a 1 ms service: exactly 200 requests, none late.
        let (tx, rx) = std::sync::mpsc::channel();
        let out = execute(
            plan(Schedule::Constant { rate: 100.0 }, None, Some(2000)),
            fakes(3, 1, None),
            no_cancel(),
            Some(tx),
            |_| {},
        )
        .await;
        assert_eq!(out.stats.total(), 200);
        assert_eq!(out.stats.lag.late, 0);
        assert_eq!(out.stats.latency.max(), 1000);
        let mut rows: Vec<TraceRow> = rx.try_iter().collect();
        rows.sort_by_key(|r| r.index);
        assert_eq!(rows.len(), 200);
        for r in &rows {
            assert!((r.timestamp_s - r.index as f64 / 100.0).abs() < 1e-9);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stall_shows_up_as_latency_not_as_missing_requests() {
        // 100/s for 3 s over 200 connections; the server stalls from 1 s to
        // 2 s. Every request is still sent on time; the one due at 1.0 s waits
        // the whole second, the one due at 1.5 s half of it.
        let (tx, rx) = std::sync::mpsc::channel();
        let out = execute(
            plan(Schedule::Constant { rate: 100.0 }, None, Some(3000)),
            fakes(200, 1, Some((1000, 2000))),
            no_cancel(),
            Some(tx),
            |_| {},
        )
        .await;
        assert_eq!(out.stats.total(), 300);
        assert_eq!(out.stats.lag.late, 0);
        let rows: Vec<TraceRow> = rx.try_iter().collect();
        let lat = |i: u64| rows.iter().find(|r| r.index == i).unwrap().latency_s;
        assert!((lat(100) - 1.001).abs() < 1e-9, "{}", lat(100));
        assert!((lat(150) - 0.501).abs() < 1e-9);
        assert!((lat(250) - 0.001).abs() < 1e-9);
        // A third of the requests fall in the stall: p50 is normal, p99 is not.
        assert_eq!(out.stats.latency.value_at_quantile(0.5), 1000);
        assert!(out.stats.latency.value_at_quantile(0.99) > 900_000);
    }

    #[tokio::test(start_paused = true)]
    async fn too_few_connections_make_the_sender_fall_behind_and_latency_counts_it() {
        // One connection, 10 ms service, 200/s due: it can do only 100/s.
        let out = execute(
            plan(Schedule::Constant { rate: 200.0 }, Some(100), None),
            fakes(1, 10, None),
            no_cancel(),
            None,
            |_| {},
        )
        .await;
        assert_eq!(out.stats.total(), 100);
        assert_eq!(out.elapsed, Duration::from_millis(1000));
        // Request 99 is due at 495 ms, sent at 990 ms, done at 1000 ms.
        assert_eq!(out.stats.lag.max_ns, 495_000_000);
        assert!((out.stats.latency.max() as f64 - 505_000.0).abs() < 505.0);
        assert!(out.stats.lag.late >= 98);
    }

    #[tokio::test(start_paused = true)]
    async fn timeouts_fire_and_are_counted() {
        let mut p = plan(Schedule::Closed, Some(6), None);
        p.timeout = Duration::from_millis(50);
        let out = execute(p, fakes(2, 80, None), no_cancel(), None, |_| {}).await;
        assert_eq!(
            out.stats.errors[&super::super::error::ErrorKind::Timeout],
            6
        );
        assert_eq!(out.stats.responses(), 0);
        assert_eq!(out.elapsed, Duration::from_millis(150));
    }

    /// A target that refuses connections (each refusal takes 1 ms, tokio's
    /// timer step) until `up_at`, then answers after 1 ms.
    struct Flaky {
        start: Instant,
        up_at: Duration,
        attempts: Arc<AtomicU64>,
    }

    impl Exchange for Flaky {
        fn exchange(&mut self) -> impl Future<Output = Outcome> + Send {
            let up = Instant::now().duration_since(self.start) >= self.up_at;
            if !up {
                self.attempts.fetch_add(1, Ordering::SeqCst);
            }
            async move {
                if up {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    Outcome::Response {
                        status: 200,
                        class: None,
                    }
                } else {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    Outcome::Error(RequestError::ConnectRefused)
                }
            }
        }
    }

    fn flaky(n: usize, up_at_ms: u64) -> (Vec<Flaky>, Arc<AtomicU64>) {
        let start = Instant::now();
        let attempts = Arc::new(AtomicU64::new(0));
        let f = (0..n)
            .map(|_| Flaky {
                start,
                up_at: Duration::from_millis(up_at_ms),
                attempts: attempts.clone(),
            })
            .collect();
        (f, attempts)
    }

    #[tokio::test(start_paused = true)]
    async fn a_dead_target_is_retried_with_backoff_not_in_a_busy_loop() {
        // Closed loop, 4 connections, 2 s, nothing ever answers. Each loop
        // tries at 0, 11, 32, 73, 154, 315, 636, 1137 and 1638 ms (1 ms per
        // refusal, then waits of 10 ms doubling up to 500 ms): 9 attempts,
        // not 2 s / 1 ms = 2000.
        let (f, attempts) = flaky(4, u64::MAX / 2);
        let out = execute(
            plan(Schedule::Closed, None, Some(2000)),
            f,
            no_cancel(),
            None,
            |_| {},
        )
        .await;
        assert_eq!(attempts.load(Ordering::SeqCst), 36);
        assert_eq!(out.stats.connect_error_count(), 36);
        // Nothing was sent: no requests, no errors of sent requests.
        assert_eq!(out.stats.total(), 0);
        assert_eq!(out.stats.error_count(), 0);
        assert_eq!(out.elapsed, Duration::from_millis(2000));
    }

    #[tokio::test(start_paused = true)]
    async fn open_loop_counts_requests_due_during_a_backoff_as_not_sent() {
        // 1000/s for 2 s against a dead target: all 2000 due requests are
        // accounted for as connection failures, with few real attempts.
        let (f, attempts) = flaky(4, u64::MAX / 2);
        let out = execute(
            plan(Schedule::Constant { rate: 1000.0 }, None, Some(2000)),
            f,
            no_cancel(),
            None,
            |_| {},
        )
        .await;
        assert_eq!(out.stats.connect_error_count(), 2000);
        assert_eq!(out.stats.total(), 0);
        let a = attempts.load(Ordering::SeqCst);
        assert!((4..=40).contains(&a), "{a} connection attempts");
        assert!(
            out.elapsed < Duration::from_millis(2010),
            "{:?}",
            out.elapsed
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_target_that_comes_back_is_used_at_full_speed_again() {
        // Down for the first 300 ms: each loop fails at 0, 11, 32, 73 and
        // 154 ms, its attempt at 315 ms succeeds, and from then on it sends
        // back to back (1 ms each) until 1 s: 685 responses.
        let (f, attempts) = flaky(2, 300);
        let out = execute(
            plan(Schedule::Closed, None, Some(1000)),
            f,
            no_cancel(),
            None,
            |_| {},
        )
        .await;
        assert_eq!(attempts.load(Ordering::SeqCst), 2 * 5);
        assert_eq!(out.stats.connect_error_count(), 10);
        assert_eq!(out.stats.responses(), 2 * 685);
    }

    #[tokio::test(start_paused = true)]
    async fn an_interrupt_keeps_what_was_done() {
        let (tx, rx) = watch::channel(false);
        let fired = Arc::new(AtomicBool::new(false));
        let f = fired.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1005)).await;
            f.store(true, Ordering::SeqCst);
            tx.send(true).unwrap();
        });
        let out = execute(
            plan(Schedule::Closed, None, Some(60_000)),
            fakes(2, 10, None),
            rx,
            None,
            |_| {},
        )
        .await;
        assert!(fired.load(Ordering::SeqCst));
        assert!(out.interrupted);
        assert_eq!(out.stats.total(), 200);
        assert_eq!(out.abandoned, 2);
        assert_eq!(out.elapsed, Duration::from_millis(1005));
    }
}
