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

/// A timeseries sink that passes rows on and moves a bar along by simulated
/// time: the model emits a row per revision per simulated second, which is
/// the only progress signal it gives.
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
        if let Some(b) = &self.bar {
            if row.time_s > b.position() {
                b.set_position(row.time_s);
            }
        }
        self.inner.row(row);
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
