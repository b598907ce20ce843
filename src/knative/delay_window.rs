//! The scale-down delay window: a port of
//! `pkg/autoscaler/aggregation/max/{window,timewindow}.go`, a sliding maximum
//! kept with the "ascending minima" trick (here descending, for maxima).

use crate::sim::{SimDuration, SimTime};

#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    index: i64,
    value: i32,
}

/// Maximum of the values recorded over the last `duration`, at
/// `granularity` resolution (`max.TimeWindow`).
#[derive(Clone, Debug)]
pub struct MaxTimeWindow {
    maxima: Vec<Entry>,
    first: usize,
    length: usize,
    granularity_secs: i64,
}

impl MaxTimeWindow {
    /// `NewTimeWindow(duration, granularity)`: `ceil(duration / granularity)`
    /// slots (at least one).
    pub fn new(duration: SimDuration, granularity: SimDuration) -> Self {
        let g = granularity.as_nanos().max(1);
        let size = (duration.as_nanos() as f64 / g as f64).ceil() as usize;
        MaxTimeWindow {
            maxima: vec![Entry::default(); size.max(1)],
            first: 0,
            length: 0,
            granularity_secs: ((g / 1_000_000_000) as i64).max(1),
        }
    }

    fn at(&self, i: usize) -> usize {
        i % self.maxima.len()
    }

    /// `Record`: index = whole seconds / granularity seconds.
    pub fn record(&mut self, now: SimTime, v: i32) {
        let index = now.whole_secs() as i64 / self.granularity_secs;
        let size = self.maxima.len() as i64;
        let mut v = v;
        // Smaller-or-equal older values can never be the maximum again.
        while self.length > 0 {
            if v < self.maxima[self.at(self.first + self.length - 1)].value {
                break;
            }
            self.length -= 1;
        }
        while self.length > 0 && index - self.maxima[self.first].index >= size {
            self.length -= 1;
            self.first = self.at(self.first + 1);
        }
        if self.length > 0 {
            let last = self.maxima[self.at(self.first + self.length - 1)];
            if last.index == index {
                v = v.max(last.value);
                self.length -= 1;
            }
        }
        let slot = self.at(self.first + self.length);
        self.maxima[slot] = Entry { index, value: v };
        self.length += 1;
        assert!(self.length <= self.maxima.len(), "max window overflow");
    }

    /// `Current`: the maximum over the window (0 before any record).
    pub fn current(&self) -> i32 {
        self.maxima[self.first].value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_the_maximum_for_the_window() {
        // 10 s delay at 2 s granularity = 5 slots.
        let mut w = MaxTimeWindow::new(SimDuration::from_secs(10), SimDuration::from_secs(2));
        assert_eq!(w.current(), 0);
        w.record(SimTime::from_secs(0), 5);
        assert_eq!(w.current(), 5);
        w.record(SimTime::from_secs(2), 3);
        assert_eq!(w.current(), 5);
        w.record(SimTime::from_secs(8), 1);
        assert_eq!(w.current(), 5);
        // Index 5 − index 0 ≥ 5: the 5 ages out, 3 (index 1) is the max.
        w.record(SimTime::from_secs(10), 1);
        assert_eq!(w.current(), 3);
        w.record(SimTime::from_secs(12), 1);
        assert_eq!(w.current(), 1);
        // Larger values take over at once.
        w.record(SimTime::from_secs(14), 7);
        assert_eq!(w.current(), 7);
    }

    #[test]
    fn same_index_keeps_the_larger_value() {
        let mut w = MaxTimeWindow::new(SimDuration::from_secs(4), SimDuration::from_secs(2));
        w.record(SimTime::from_secs(4), 6);
        w.record(SimTime::from_secs(5), 2);
        assert_eq!(w.current(), 6);
        w.record(SimTime::from_secs(8), 2);
        assert_eq!(w.current(), 2);
    }
}
