//! What a source will ask of the simulator: how many requests it is expected
//! to send and how many it may have outstanding at once. `knsim validate`
//! checks these against the scenario's `[limits]` before a run starts.

use super::{OpenLoopSpec, Process, Source, SourceKind};

impl Source {
    /// Expected number of requests over the source's window (an upper
    /// estimate for bursty processes).
    pub fn expected_requests(&self) -> f64 {
        match &self.kind {
            SourceKind::Open(o) => o.expected_requests(),
            SourceKind::Closed {
                clients,
                think,
                start,
                end,
            } => {
                let span = end.saturating_since(*start).as_secs_f64();
                // A client's cycle lasts at least its think time; a floor of
                // a millisecond stands in for the service time, which
                // belongs to the revision and is not known here.
                f64::from(*clients) * span / think.mean().max(1e-3)
            }
        }
    }

    /// Most requests the source may have in the system at once, when each
    /// stays at most `lifetime_secs`.
    pub fn max_in_flight(&self, lifetime_secs: f64) -> f64 {
        match &self.kind {
            SourceKind::Open(o) => {
                let total = o.expected_requests();
                match o.peak_rate() {
                    Some(rate) => (rate * lifetime_secs).min(total),
                    // A replayed trace may send all its rows at once.
                    None => total,
                }
            }
            SourceKind::Closed { clients, .. } => f64::from(*clients),
        }
    }
}

impl OpenLoopSpec {
    fn span_secs(&self) -> f64 {
        self.end.saturating_since(self.start).as_secs_f64()
    }

    /// Expected number of arrivals in `[start, end)`.
    pub fn expected_requests(&self) -> f64 {
        let span = self.span_secs();
        match &self.process {
            Process::Constant { rate } | Process::Poisson { rate } => rate * span,
            Process::Schedule { segments, .. } => segments
                .iter()
                .filter(|s| s.t0 < span)
                .map(|s| {
                    let len = s.t1.min(span) - s.t0;
                    s.a * len + s.b * len * len / 2.0
                })
                .sum(),
            Process::Sinusoid {
                mean, amplitude, ..
            } => (mean + amplitude.abs()) * span,
            Process::OnOff { rates, .. } => rates[0].max(rates[1]) * span,
            Process::Trace { multiplier, .. } | Process::Azure2019 { multiplier, .. } => {
                self.trace_len().unwrap_or(0) as f64 * multiplier
            }
        }
    }

    /// Highest arrival rate of a synthetic process (None for traces).
    fn peak_rate(&self) -> Option<f64> {
        let span = self.span_secs();
        match &self.process {
            Process::Constant { rate } | Process::Poisson { rate } => Some(*rate),
            Process::Schedule { segments, .. } => Some(
                segments
                    .iter()
                    .filter(|s| s.t0 < span)
                    .map(|s| s.max)
                    .fold(0.0, f64::max),
            ),
            Process::Sinusoid {
                mean, amplitude, ..
            } => Some(mean + amplitude.abs()),
            Process::OnOff { rates, .. } => Some(rates[0].max(rates[1])),
            Process::Trace { .. } | Process::Azure2019 { .. } => None,
        }
    }
}
