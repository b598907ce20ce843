//! Progress bars on stderr, shown only when stderr is a terminal and the
//! user did not ask for quiet output, so that pipes, files and CI logs stay
//! clean.

use indicatif::{ProgressBar, ProgressStyle};
use knsim::model::{DecisionRecord, RequestRecord, RequestSender, TimeseriesRow, TimeseriesSink};
use knsim::sim::SimTime;
use std::io::IsTerminal;

/// A bar of `len` steps with `template`'s layout, or `None` when progress
/// should not be shown.
pub fn bar(quiet: bool, len: u64, template: &str) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(len);
    bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
    Some(bar)
}

/// A timeseries sink that passes everything on and moves a bar along by
/// simulated time, at the close of each simulated second.
pub struct SimTimeProgress<'a, S: TimeseriesSink> {
    inner: &'a mut S,
    bar: Option<ProgressBar>,
}

impl<'a, S: TimeseriesSink> SimTimeProgress<'a, S> {
    /// Wraps `inner` for a run of `seconds` simulated seconds.
    pub fn new(inner: &'a mut S, seconds: u64, quiet: bool) -> Self {
        let bar = bar(
            quiet,
            seconds,
            "{wide_bar} {pos}/{len} simulated s, {elapsed} elapsed, ETA {eta}",
        );
        SimTimeProgress { inner, bar }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl<S: TimeseriesSink> TimeseriesSink for SimTimeProgress<'_, S> {
    fn row(&mut self, row: &TimeseriesRow) {
        self.inner.row(row);
    }

    fn second_closed(&mut self, time_s: u64) {
        if let Some(b) = &self.bar {
            b.set_position(time_s);
        }
        self.inner.second_closed(time_s);
    }

    fn wants_rows(&self) -> bool {
        self.inner.wants_rows()
    }

    fn wants_requests(&self) -> bool {
        self.inner.wants_requests()
    }

    fn request(&mut self, record: &RequestRecord) {
        self.inner.request(record);
    }

    fn not_found(&mut self, source: RequestSender, at: SimTime) {
        self.inner.not_found(source, at);
    }

    fn wants_decisions(&self) -> bool {
        self.inner.wants_decisions()
    }

    fn decision(&mut self, record: &DecisionRecord) {
        self.inner.decision(record);
    }
}
