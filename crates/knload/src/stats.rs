//! What a run measured: latency histograms, status and error counts, classes
//! and schedule lag, kept per connection and merged exactly at the end.

use super::error::{ErrorKind, RequestError};
use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::time::Duration;

/// Significant decimal digits of every latency histogram.
const SIGFIG: u8 = 3;

/// A latency histogram in microseconds that grows with the largest value
/// seen, so memory stays small and constant whatever the run's length.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(SIGFIG).expect("3 significant digits is valid")
}

/// Records a duration in whole microseconds (at least 1).
pub fn record(h: &mut Histogram<u64>, d: Duration) {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
    // `record` grows an auto-resizing histogram; `saturating_record` would
    // clamp to its current top instead.
    if h.record(us).is_err() {
        h.saturating_record(us);
    }
}

/// Encodes a histogram as base64 of HdrHistogram's compressed V2 format, the
/// form HdrHistogram's own tools read.
pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .expect("serializing into memory does not fail");
    base64::engine::general_purpose::STANDARD.encode(buf)
}

/// Decodes what [`encode_histogram`] wrote.
pub fn decode_histogram(s: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| format!("histogram is not base64: {e}"))?;
    let mut h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram does not decode: {e:?}"))?;
    h.auto(true);
    Ok(h)
}

/// How far behind schedule the sender fell (open loop only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lag {
    /// Requests whose schedule says they were due.
    pub sent: u64,
    /// Requests sent more than [`LATE_THRESHOLD`] after they were due.
    pub late: u64,
    /// Largest lag, nanoseconds.
    pub max_ns: u64,
    /// Sum of all lags, nanoseconds (for the mean).
    pub sum_ns: u128,
}

/// A send this much after its due time counts as late.
pub const LATE_THRESHOLD: Duration = Duration::from_millis(1);

impl Lag {
    fn add(&mut self, o: &Lag) {
        self.sent += o.sent;
        self.late += o.late;
        self.max_ns = self.max_ns.max(o.max_ns);
        self.sum_ns += o.sum_ns;
    }
}

/// Everything counted during a run (or a part of it, per connection).
#[derive(Debug, Clone)]
pub struct Stats {
    /// Latency of every response (any status), microseconds.
    pub latency: Histogram<u64>,
    /// Responses per HTTP status code.
    pub status: BTreeMap<u16, u64>,
    /// Failed requests per kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// The first message seen for each error kind.
    pub error_examples: BTreeMap<ErrorKind, String>,
    /// Latency histogram per response class (its length is the count).
    pub classes: BTreeMap<String, Histogram<u64>>,
    /// Responses that a classifier could not place in a class.
    pub unclassified: u64,
    /// Schedule lag.
    pub lag: Lag,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            latency: new_histogram(),
            status: BTreeMap::new(),
            errors: BTreeMap::new(),
            error_examples: BTreeMap::new(),
            classes: BTreeMap::new(),
            unclassified: 0,
            lag: Lag::default(),
        }
    }
}

/// The outcome of one request as the executor records it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A complete response.
    Response {
        /// HTTP status code.
        status: u16,
        /// The class, when a classifier is set and found one.
        class: Option<String>,
    },
    /// A failed request.
    Error(RequestError),
}

impl Stats {
    /// Records one request. `classified` tells whether a classifier is in
    /// use, so that a response without class counts as unclassified.
    pub fn record(&mut self, latency: Duration, outcome: &Outcome, classified: bool) {
        match outcome {
            Outcome::Response { status, class } => {
                record(&mut self.latency, latency);
                *self.status.entry(*status).or_insert(0) += 1;
                match class {
                    Some(c) => {
                        let h = match self.classes.get_mut(c) {
                            Some(h) => h,
                            None => self.classes.entry(c.clone()).or_insert_with(new_histogram),
                        };
                        record(h, latency);
                    }
                    None if classified => self.unclassified += 1,
                    None => {}
                }
            }
            Outcome::Error(e) => {
                let kind = e.kind();
                *self.errors.entry(kind).or_insert(0) += 1;
                self.error_examples
                    .entry(kind)
                    .or_insert_with(|| e.to_string());
            }
        }
    }

    /// Records how late a scheduled request was sent.
    pub fn record_lag(&mut self, lag: Duration) {
        let ns = u64::try_from(lag.as_nanos()).unwrap_or(u64::MAX);
        self.lag.sent += 1;
        if lag > LATE_THRESHOLD {
            self.lag.late += 1;
        }
        self.lag.max_ns = self.lag.max_ns.max(ns);
        self.lag.sum_ns += u128::from(ns);
    }

    /// Adds another part's counts; histograms merge exactly.
    pub fn merge(&mut self, o: &Stats) {
        self.latency
            .add(&o.latency)
            .expect("auto-resizing histograms merge");
        for (k, v) in &o.status {
            *self.status.entry(*k).or_insert(0) += v;
        }
        for (k, v) in &o.errors {
            *self.errors.entry(*k).or_insert(0) += v;
        }
        for (k, v) in &o.error_examples {
            self.error_examples.entry(*k).or_insert_with(|| v.clone());
        }
        for (k, h) in &o.classes {
            self.classes
                .entry(k.clone())
                .or_insert_with(new_histogram)
                .add(h)
                .expect("auto-resizing histograms merge");
        }
        self.unclassified += o.unclassified;
        self.lag.add(&o.lag);
    }

    /// Complete responses.
    pub fn responses(&self) -> u64 {
        self.latency.len()
    }

    /// Requests that were sent and failed (timeouts, resets, ...).
    pub fn error_count(&self) -> u64 {
        self.errors
            .iter()
            .filter(|(k, _)| !k.is_connect())
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests that were never sent because no connection could be opened.
    pub fn connect_error_count(&self) -> u64 {
        self.errors
            .iter()
            .filter(|(k, _)| k.is_connect())
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests sent: responses plus errors, without connection failures.
    pub fn total(&self) -> u64 {
        self.responses() + self.error_count()
    }

    /// Responses per class.
    pub fn class_counts(&self) -> BTreeMap<String, u64> {
        self.classes
            .iter()
            .map(|(k, h)| (k.clone(), h.len()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_round_trip_exactly() {
        let mut h = new_histogram();
        for us in [1u64, 17, 250, 1_000, 1_000_000, 60_000_000] {
            h.record(us).unwrap();
        }
        let back = decode_histogram(&encode_histogram(&h)).unwrap();
        assert_eq!(back.len(), h.len());
        assert_eq!(back.max(), h.max());
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
        assert!(decode_histogram("!!").is_err());
    }

    #[test]
    fn merging_adds_everything() {
        let mut a = Stats::default();
        let mut b = Stats::default();
        let ok = |c: &str| Outcome::Response {
            status: 200,
            class: Some(c.into()),
        };
        a.record(Duration::from_millis(2), &ok("v1"), true);
        b.record(Duration::from_millis(40), &ok("v2"), true);
        b.record(
            Duration::from_millis(1),
            &Outcome::Response {
                status: 503,
                class: None,
            },
            true,
        );
        b.record(Duration::ZERO, &Outcome::Error(RequestError::Timeout), true);
        b.record(
            Duration::ZERO,
            &Outcome::Error(RequestError::ConnectRefused),
            true,
        );
        a.record_lag(Duration::from_millis(5));
        b.record_lag(Duration::from_micros(10));
        a.merge(&b);
        assert_eq!(a.responses(), 3);
        assert_eq!(a.total(), 4);
        assert_eq!(a.status[&200], 2);
        assert_eq!(a.status[&503], 1);
        assert_eq!(a.errors[&ErrorKind::Timeout], 1);
        // A refused connection sent nothing: apart from the requests.
        assert_eq!(a.error_count(), 1);
        assert_eq!(a.connect_error_count(), 1);
        assert_eq!(a.unclassified, 1);
        assert_eq!(a.class_counts()["v2"], 1);
        assert_eq!(a.lag.sent, 2);
        assert_eq!(a.lag.late, 1);
        assert_eq!(a.lag.max_ns, 5_000_000);
        assert!(a.latency.max() >= 39_000);
    }
}
