//! Knative Eventing in front of the Service: event sources, the Broker's
//! dispatcher and its Triggers (the arithmetic is in
//! `crate::knative::eventing`).
//!
//! One delivery is one event on its way to one Trigger's subscriber. Each
//! attempt crosses the Broker (a latency drawn per attempt), reaches the
//! Service as an ordinary request and comes back with a status; the
//! dispatcher retries what `SelectiveRetry` retries, after the backoff of
//! `pkg/kncloudevents/retries.go`, and dead-letters (counts) the event after
//! the last attempt. Upstream bounds neither the deliveries in flight nor
//! the attempts, so neither does the model.
//!
//! Requests of deliveries carry a [`SourceId`] with the top bit set and the
//! delivery id below it, so the engine tells them from workload requests
//! without a field of its own in the request table.

use super::event::{ReqId, SourceId};
use crate::knative::eventing::filter::attributes_filter;
use crate::knative::eventing::{is_success, ping, selective_retry, AttemptResult};
use crate::model::report::{EventingSummary, LatencySummary, ServiceEventLoad, TriggerSummary};
use crate::scenario::eventing::{EventSourceKind, EventingSpec, TriggerSpec};
use crate::sim::{RngStreams, SimDuration, SimRng, SimTime, Stream};
use crate::workload::{ArrivalGen, Dist};
use rand::Rng;
use std::collections::HashMap;

/// Marks a request's source as a delivery attempt.
const DELIVERY_BIT: u32 = 1 << 31;

/// The delivery a request belongs to, if it is an event's attempt.
pub(crate) fn delivery_of(s: SourceId) -> Option<u32> {
    (s.0 & DELIVERY_BIT != 0).then_some(s.0 & !DELIVERY_BIT)
}

/// The source id a delivery's requests carry.
pub(crate) fn delivery_source(d: u32) -> SourceId {
    SourceId(d | DELIVERY_BIT)
}

/// The id of a new delivery, the first at or after `from` that is not
/// `in_use`, and where the next search starts. Ids have 31 bits (the top
/// bit of a source id marks deliveries), so a long run at a high event rate
/// wraps round. A freed id is handed out again only once the counter has
/// gone round all 2^31 ids: a timer of its earlier holder would have to
/// stay pending that long to reach the new one.
fn take_id(from: u32, in_use: impl Fn(u32) -> bool) -> (u32, u32) {
    let mut id = from & !DELIVERY_BIT;
    while in_use(id) {
        id = id.wrapping_add(1) & !DELIVERY_BIT;
    }
    (id, id.wrapping_add(1) & !DELIVERY_BIT)
}

enum Emitter {
    Stream(ArrivalGen),
    Ping {
        schedule: crate::knative::eventing::CronSchedule,
        /// UTC seconds of the pending fire (before its jitter).
        next_fire: Option<i64>,
    },
}

struct Src {
    emitter: Emitter,
    rng: SimRng,
    attributes: crate::knative::eventing::EventAttributes,
}

#[derive(Default)]
struct Stats {
    matched: u64,
    first_try: u64,
    after_retries: Vec<u64>,
    dead_lettered: u64,
    lost: u64,
    attempts: u64,
    attempts_of_finished: u64,
    latencies: Vec<u64>,
}

/// The request an attempt is waiting on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// Between the Broker and the subscriber, or waiting for a retry.
    No,
    /// Being admitted: its request id is not known yet.
    Admitting,
    /// This request (slot, generation).
    On(ReqId, u32),
}

struct Delivery {
    trigger: u16,
    /// The revision the latest attempt reached (`u16::MAX`: none yet).
    rev: u16,
    sent: SimTime,
    /// Attempts made so far.
    attempts: u32,
    waiting: Waiting,
    /// Requests of attempts that timed out and may still end.
    orphans: Vec<(ReqId, u32)>,
}

/// What the engine does after an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Nothing: the result belonged to no waiting attempt.
    Ignore,
    /// The event is finished (delivered or dead-lettered).
    Done,
    /// Start the next attempt at this time.
    RetryAt(SimTime),
}

/// Sources, Triggers and deliveries in flight.
pub(crate) struct Eventing {
    sources: Vec<Src>,
    triggers: Vec<TriggerSpec>,
    stats: Vec<Stats>,
    latency: Dist,
    latency_rng: SimRng,
    clock_start: i64,
    deliveries: HashMap<u32, Delivery>,
    next_id: u32,
    events_sent: u64,
    /// Per Service of the scenario: first attempts and retries it received.
    first_attempts: Vec<u64>,
    retries: Vec<u64>,
    /// Per revision, this second so far: first attempts, retries,
    /// delivered, dead-lettered.
    second: Vec<[u64; 4]>,
}

impl Eventing {
    /// `services` is the number of the scenario's Services.
    pub(crate) fn new(spec: &EventingSpec, services: usize, streams: &RngStreams) -> Self {
        let sources = spec
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let rng = streams.get(Stream::Eventing, i as u64);
                let emitter = match &s.kind {
                    EventSourceKind::Stream(src) => Emitter::Stream(
                        ArrivalGen::new(src, rng.clone()).expect("validated open-loop source"),
                    ),
                    EventSourceKind::Ping(schedule) => Emitter::Ping {
                        schedule: schedule.clone(),
                        next_fire: None,
                    },
                };
                Src {
                    emitter,
                    // Jitter draws from a stream apart from the arrivals'.
                    rng: streams.get(Stream::Eventing, (1 << 32) + i as u64),
                    attributes: s.attributes.clone(),
                }
            })
            .collect();
        Eventing {
            sources,
            triggers: spec.triggers.clone(),
            stats: spec.triggers.iter().map(|_| Stats::default()).collect(),
            latency: spec.broker_latency.clone(),
            latency_rng: streams.get(Stream::Eventing, u64::MAX),
            clock_start: spec.clock_start,
            deliveries: HashMap::new(),
            next_id: 0,
            events_sent: 0,
            first_attempts: vec![0; services],
            retries: vec![0; services],
            second: Vec::new(),
        }
    }

    /// Number of sources.
    pub(crate) fn source_count(&self) -> usize {
        self.sources.len()
    }

    /// When source `s` next sends an event after `now`, if before `end`.
    pub(crate) fn next_emit(&mut self, s: usize, now: SimTime, end: SimTime) -> Option<SimTime> {
        let clock_start = self.clock_start;
        let src = &mut self.sources[s];
        let t = match &mut src.emitter {
            Emitter::Stream(gen) => gen.next()?.time,
            Emitter::Ping {
                schedule,
                next_fire,
            } => {
                let end_unix = clock_start + (end - SimTime::ZERO).as_secs_f64().ceil() as i64;
                // A fire exactly at time zero counts.
                let after = next_fire.unwrap_or(clock_start - 1);
                let fire = schedule.next_after(after, end_unix)?;
                *next_fire = Some(fire);
                let jitter = src.rng.random_range(0..ping::JITTER_MS);
                SimTime::ZERO
                    + SimDuration::from_secs((fire - clock_start) as u64)
                    + SimDuration::from_millis(jitter)
            }
        };
        (t < end && t >= now).then_some(t)
    }

    /// Source `s` sends an event now: one delivery per Trigger whose filter
    /// lets it through. Returns the new deliveries.
    pub(crate) fn emit(&mut self, s: usize, now: SimTime) -> Vec<u32> {
        self.events_sent += 1;
        let attrs = &self.sources[s].attributes;
        let mut out = Vec::new();
        for (t, trig) in self.triggers.iter().enumerate() {
            if !attributes_filter(trig.filter.as_ref(), attrs).dispatches() {
                continue;
            }
            self.stats[t].matched += 1;
            let deliveries = &self.deliveries;
            let (id, next) = take_id(self.next_id, |d| deliveries.contains_key(&d));
            self.next_id = next;
            self.deliveries.insert(
                id,
                Delivery {
                    trigger: t as u16,
                    rev: u16::MAX,
                    sent: now,
                    attempts: 0,
                    waiting: Waiting::No,
                    orphans: Vec::new(),
                },
            );
            out.push(id);
        }
        out
    }

    /// One crossing of the Broker, drawn per attempt.
    pub(crate) fn broker_latency(&mut self) -> SimDuration {
        SimDuration::from_secs_f64(self.latency.sample(&mut self.latency_rng))
    }

    /// Attempt of delivery `d` reaches the subscriber: its number (1 = first),
    /// the per-attempt timeout (`None` if unbounded) and the subscriber's
    /// Service, or `None` if the delivery is gone.
    pub(crate) fn begin_attempt(&mut self, d: u32) -> Option<(u32, Option<SimDuration>, usize)> {
        let del = self.deliveries.get_mut(&d)?;
        del.attempts += 1;
        del.waiting = Waiting::Admitting;
        del.rev = u16::MAX;
        let t = del.trigger as usize;
        self.stats[t].attempts += 1;
        let svc = self.triggers[t].service;
        if del.attempts == 1 {
            self.first_attempts[svc] += 1;
        } else {
            self.retries[svc] += 1;
        }
        let timeout = self.triggers[t].retry.request_timeout;
        Some((
            del.attempts,
            (timeout > 0).then_some(SimDuration(timeout as u64)),
            svc,
        ))
    }

    /// The latest attempt of `d` was routed to revision `rev`.
    pub(crate) fn routed(&mut self, d: u32, rev: usize) {
        let Some(del) = self.deliveries.get_mut(&d) else {
            return;
        };
        del.rev = rev as u16;
        if self.second.len() <= rev {
            self.second.resize(rev + 1, [0; 4]);
        }
        self.second[rev][(del.attempts > 1) as usize] += 1;
    }

    /// Revision `rev`'s counts of the second that ends, for the timeseries:
    /// first attempts, retries, delivered, dead-lettered.
    pub(crate) fn take_second(&mut self, rev: usize) -> [u64; 4] {
        self.second
            .get_mut(rev)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    fn count_end(&mut self, rev: u16, column: usize) {
        if let Some(c) = self.second.get_mut(rev as usize) {
            c[column] += 1;
        }
    }

    /// The attempt of `d` now waits on request `id` (generation `gen`),
    /// unless it already ended while it was admitted.
    pub(crate) fn bind(&mut self, d: u32, id: ReqId, gen: u32) {
        if let Some(del) = self.deliveries.get_mut(&d) {
            if del.waiting == Waiting::Admitting {
                del.waiting = Waiting::On(id, gen);
            }
        }
    }

    /// Request `id` of delivery `d` ended with `result` at `now`.
    pub(crate) fn request_done(
        &mut self,
        d: u32,
        id: ReqId,
        gen: u32,
        result: AttemptResult,
        now: SimTime,
    ) -> Next {
        let Some(del) = self.deliveries.get_mut(&d) else {
            return Next::Ignore;
        };
        if let Some(i) = del.orphans.iter().position(|&o| o == (id, gen)) {
            del.orphans.swap_remove(i);
            if del.orphans.is_empty() && del.attempts == u32::MAX {
                self.deliveries.remove(&d);
            }
            return Next::Ignore;
        }
        match del.waiting {
            Waiting::Admitting => {}
            Waiting::On(i, g) if (i, g) == (id, gen) => {}
            _ => return Next::Ignore,
        }
        self.attempt_ended(d, result, now)
    }

    /// The Trigger whose delivery `d` is, while it is in flight.
    pub(crate) fn trigger_of(&self, d: u32) -> Option<u16> {
        self.deliveries.get(&d).map(|del| del.trigger)
    }

    /// The attempt of `d` being admitted found no route (`result` is the
    /// ingress's 404).
    pub(crate) fn attempt_404(&mut self, d: u32, result: AttemptResult, now: SimTime) -> Next {
        match self.deliveries.get(&d) {
            Some(del) if del.waiting == Waiting::Admitting => self.attempt_ended(d, result, now),
            _ => Next::Ignore,
        }
    }

    /// The timer of attempt `attempt` of `d` fired at `now`.
    pub(crate) fn attempt_timeout(&mut self, d: u32, attempt: u32, now: SimTime) -> Next {
        let Some(del) = self.deliveries.get_mut(&d) else {
            return Next::Ignore;
        };
        if del.attempts != attempt {
            return Next::Ignore;
        }
        match del.waiting {
            Waiting::On(id, gen) => del.orphans.push((id, gen)),
            Waiting::Admitting => {}
            Waiting::No => return Next::Ignore,
        }
        self.attempt_ended(d, AttemptResult::TransportError, now)
    }

    fn attempt_ended(&mut self, d: u32, result: AttemptResult, now: SimTime) -> Next {
        let del = self.deliveries.get_mut(&d).expect("checked by the caller");
        del.waiting = Waiting::No;
        let t = del.trigger as usize;
        let rc = self.triggers[t].retry;
        let made = del.attempts;
        let rev = del.rev;
        if is_success(result) {
            self.count_end(rev, 2);
        } else if !(selective_retry(result) && made <= rc.retry_max)
            && self.triggers[t].dead_letter_sink.is_some()
        {
            self.count_end(rev, 3);
        }
        let del = self.deliveries.get_mut(&d).expect("checked by the caller");
        let st = &mut self.stats[t];
        if is_success(result) {
            if made == 1 {
                st.first_try += 1;
            } else {
                let n = (made - 1) as usize;
                if st.after_retries.len() < n {
                    st.after_retries.resize(n, 0);
                }
                st.after_retries[n - 1] += 1;
            }
            st.latencies.push((now - del.sent).as_nanos());
        } else if selective_retry(result) && made <= rc.retry_max {
            // Retry k (k = made) waits Backoff(k - 1).
            let wait = SimDuration(rc.wait_before_retry(made).max(0) as u64);
            return Next::RetryAt(now + wait);
        } else if self.triggers[t].dead_letter_sink.is_some() {
            st.dead_lettered += 1;
        } else {
            st.lost += 1;
        }
        st.attempts_of_finished += made as u64;
        if del.orphans.is_empty() {
            self.deliveries.remove(&d);
        } else {
            // Kept so that its orphans' ends are recognised; no more attempts.
            del.attempts = u32::MAX;
        }
        Next::Done
    }

    /// The eventing part of the summary. `services` holds each Service's
    /// name and the requests that reached it in all; only subscriber
    /// Services are reported.
    pub(crate) fn summary(&self, services: &[(String, u64)]) -> EventingSummary {
        let mut in_flight = vec![0u64; self.triggers.len()];
        for del in self.deliveries.values() {
            if del.attempts != u32::MAX {
                in_flight[del.trigger as usize] += 1;
            }
        }
        let triggers = self
            .triggers
            .iter()
            .zip(&self.stats)
            .zip(in_flight)
            .map(|((t, s), in_flight)| TriggerSummary {
                name: t.name.clone(),
                subscriber: t.subscriber.clone(),
                matched: s.matched,
                delivered_first_try: s.first_try,
                delivered_after_retries: s.after_retries.clone(),
                dead_lettered: s.dead_lettered,
                failed_without_sink: s.lost,
                in_flight_at_end: in_flight,
                attempts_of_finished: s.attempts_of_finished,
                attempts: s.attempts,
                delivery_latency: latency_summary(&s.latencies),
            })
            .collect();
        EventingSummary {
            events_sent: self.events_sent,
            triggers,
            services: services
                .iter()
                .enumerate()
                .filter(|(i, _)| self.triggers.iter().any(|t| t.service == *i))
                .map(|(i, (name, requests))| ServiceEventLoad {
                    name: name.clone(),
                    requests: *requests,
                    event_first_attempts: self.first_attempts[i],
                    event_retries: self.retries[i],
                    retry_share: if *requests == 0 {
                        0.0
                    } else {
                        self.retries[i] as f64 / *requests as f64
                    },
                })
                .collect(),
        }
    }
}

/// Nearest-rank quantiles of latencies in ns, in ms.
fn latency_summary(ns: &[u64]) -> LatencySummary {
    if ns.is_empty() {
        return LatencySummary::default();
    }
    let mut v = ns.to_vec();
    v.sort_unstable();
    let q = |p: f64| {
        let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1] as f64 / 1e6
    };
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64 / 1e6;
    LatencySummary {
        p50_ms: q(0.5),
        p90_ms: q(0.9),
        p99_ms: q(0.99),
        p999_ms: q(0.999),
        max_ms: *v.last().expect("not empty") as f64 / 1e6,
        mean_ms: mean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_round_trip_through_source_ids() {
        assert_eq!(delivery_of(delivery_source(7)), Some(7));
        assert_eq!(delivery_of(SourceId(7)), None);
    }

    #[test]
    fn delivery_ids_wrap_past_31_bits_and_skip_those_in_flight() {
        let last = DELIVERY_BIT - 1;
        assert_eq!(take_id(5, |_| false), (5, 6));
        assert_eq!(take_id(last, |_| false), (last, 0));
        let busy = [last, 0, 1];
        let (id, next) = take_id(last, |d| busy.contains(&d));
        assert_eq!((id, next), (2, 3));
        assert_eq!(delivery_of(delivery_source(id)), Some(2));
        assert_eq!(take_id(last - 1, |d| busy.contains(&d)), (last - 1, last));
    }

    #[test]
    fn nearest_rank_quantiles() {
        let ns: Vec<u64> = (1..=100).map(|ms| ms * 1_000_000).collect();
        let s = latency_summary(&ns);
        assert_eq!(
            (s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms),
            (50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(s.mean_ms, 50.5);
    }
}
