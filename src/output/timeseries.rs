//! `timeseries.csv`: one row per revision per simulated second.
//!
//! Rows after the first go to csv's writer field by field rather than
//! through serde. With many Services the rows outnumber requests per
//! revision: at 200 Services a row cost about 6,900 instructions through
//! serde and costs about 5,700 now, a sixth of the run (docs/performance.md).
//! The columns, their order and the text of each value are those
//! `csv::Writer::serialize` gives (itoa for integers, ryu for floats, an
//! empty field for an absent value, csv's quoting for names); the tests
//! below hold the two to the same bytes.

use super::tmp_path;
use crate::model::{TimeseriesRow, TimeseriesSink};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Streams timeseries rows to `<path>.tmp`, flushing every 600 rows (every
/// simulated minute of a one-revision run), and renames it into place on
/// [`CsvTimeseries::finish`]. A run that dies midway leaves the `.tmp` file
/// with every row written so far.
pub struct CsvTimeseries {
    writer: csv::Writer<BufWriter<File>>,
    tmp: PathBuf,
    path: PathBuf,
    rows: u64,
    error: Option<io::Error>,
}

impl CsvTimeseries {
    /// Starts a timeseries file at `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        let tmp = tmp_path(path);
        let file = File::create(&tmp)?;
        Ok(CsvTimeseries {
            writer: csv::Writer::from_writer(BufWriter::new(file)),
            tmp,
            path: path.to_path_buf(),
            rows: 0,
            error: None,
        })
    }

    /// Flushes, syncs and renames the file into place.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.writer.flush()?;
        let inner = self.writer.into_inner().map_err(|e| e.into_error())?;
        inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&self.tmp, &self.path)
    }
}

impl TimeseriesSink for CsvTimeseries {
    fn row(&mut self, row: &TimeseriesRow) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = write_row(&mut self.writer, row, self.rows == 0) {
            self.error = Some(io::Error::other(e));
            return;
        }
        self.rows += 1;
        if self.rows % 600 == 0 {
            if let Err(e) = self.writer.flush() {
                self.error = Some(e);
            }
        }
    }
}

/// One record's fields, formatted as csv's serde serializer formats them.
struct Fields<'w, W: Write> {
    w: &'w mut csv::Writer<W>,
    ints: itoa::Buffer,
    floats: ryu::Buffer,
}

impl<W: Write> Fields<'_, W> {
    fn int(&mut self, v: impl itoa::Integer) -> csv::Result<()> {
        self.w.write_field(self.ints.format(v))
    }

    fn float(&mut self, v: f64) -> csv::Result<()> {
        self.w.write_field(self.floats.format(v))
    }

    fn text(&mut self, v: &str) -> csv::Result<()> {
        self.w.write_field(v)
    }

    /// An optional column: absent in runs without it, empty where the run
    /// has the column but this row has no value.
    fn opt<T>(
        &mut self,
        v: Option<Option<T>>,
        write: impl FnOnce(&mut Self, T) -> csv::Result<()>,
    ) -> csv::Result<()> {
        match v {
            None => Ok(()),
            Some(None) => self.w.write_field([]),
            Some(Some(v)) => write(self, v),
        }
    }
}

/// Writes `row`. The first row goes through serde, which writes the header
/// from the struct's field names (leaving out the optional columns this run
/// has not got); the fields of every later row follow that header.
pub(super) fn write_row<W: Write>(
    w: &mut csv::Writer<W>,
    row: &TimeseriesRow,
    first: bool,
) -> csv::Result<()> {
    if first {
        return w.serialize(row);
    }
    let mut f = Fields {
        w,
        ints: itoa::Buffer::new(),
        floats: ryu::Buffer::new(),
    };
    f.int(row.time_s)?;
    if let Some(s) = &row.service {
        f.text(s)?;
    }
    f.text(&row.revision)?;
    f.int(row.arrivals)?;
    f.int(row.completed)?;
    f.int(row.errors)?;
    f.float(row.p50_ms)?;
    f.float(row.p99_ms)?;
    f.int(row.in_flight)?;
    f.int(row.activator_queue)?;
    f.float(row.stable_concurrency)?;
    f.float(row.panic_concurrency)?;
    f.int(row.desired_pods)?;
    f.int(row.replicas)?;
    f.int(row.ready_pods)?;
    f.int(row.pending_pods)?;
    f.int(row.unschedulable_pods)?;
    f.int(row.terminating_pods)?;
    f.int(row.panic)?;
    f.int(row.activator_in_path)?;
    f.int(row.excess_burst_capacity)?;
    f.int(row.num_activators)?;
    f.opt(row.cpu_utilization, Fields::float)?;
    f.opt(row.hpa_desired_replicas, Fields::int)?;
    for count in [
        row.event_first_attempts,
        row.event_retries,
        row.events_delivered,
        row.events_dead_lettered,
    ] {
        f.opt(count.map(Some), Fields::int)?;
    }
    f.w.write_record(None::<&[u8]>)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(i: u64) -> TimeseriesRow {
        TimeseriesRow {
            time_s: i,
            revision: format!("rev-{i}"),
            arrivals: 500 + i,
            completed: 498,
            errors: i % 3,
            p50_ms: 101.25 + i as f64 / 7.0,
            p99_ms: 1e21 * i as f64,
            in_flight: 51,
            activator_queue: 0,
            stable_concurrency: 49.99999,
            panic_concurrency: 0.1 + 0.2,
            desired_pods: -1,
            replicas: 10,
            ready_pods: 9,
            pending_pods: 1,
            unschedulable_pods: 1,
            terminating_pods: 2,
            panic: (i % 2) as u8,
            activator_in_path: 1,
            excess_burst_capacity: -187,
            num_activators: 3,
            ..TimeseriesRow::default()
        }
    }

    /// The bytes serde's path gives for `rows` (one run) against ours.
    fn both(rows: &[TimeseriesRow]) -> (String, String) {
        let mut serde = csv::Writer::from_writer(Vec::new());
        let mut ours = csv::Writer::from_writer(Vec::new());
        for (i, r) in rows.iter().enumerate() {
            serde.serialize(r).unwrap();
            write_row(&mut ours, r, i == 0).unwrap();
        }
        let text = |w: csv::Writer<Vec<u8>>| String::from_utf8(w.into_inner().unwrap()).unwrap();
        (text(serde), text(ours))
    }

    #[test]
    fn a_one_service_run_writes_what_serde_writes() {
        let rows: Vec<_> = (0..4).map(base).collect();
        let (serde, ours) = both(&rows);
        assert_eq!(ours, serde);
        assert!(ours.starts_with("time_s,revision,arrivals,"), "{ours}");
        assert_eq!(ours.lines().count(), 5);
    }

    #[test]
    fn every_optional_column_present_empty_or_filled_matches_serde() {
        let rows: Vec<_> = (0..4)
            .map(|i| TimeseriesRow {
                service: Some(if i == 2 { "needs, \"quoting\"" } else { "shop" }.into()),
                cpu_utilization: Some((i % 2 == 0).then_some(87.5 / (i + 1) as f64)),
                hpa_desired_replicas: Some((i != 1).then_some(i as i32 - 2)),
                event_first_attempts: Some(i),
                event_retries: Some(2 * i),
                events_delivered: Some(0),
                events_dead_lettered: Some(u64::MAX - i),
                ..base(i)
            })
            .collect();
        let (serde, ours) = both(&rows);
        assert_eq!(ours, serde);
        assert!(ours.contains("\"needs, \"\"quoting\"\"\""), "{ours}");
        assert!(ours
            .lines()
            .next()
            .unwrap()
            .ends_with(",events_dead_lettered"));
    }

    #[test]
    fn each_optional_column_alone_matches_serde() {
        for k in 0..6 {
            let rows: Vec<_> = (0..2)
                .map(|i| {
                    let mut r = base(i);
                    match k {
                        0 => r.cpu_utilization = Some(None),
                        1 => r.hpa_desired_replicas = Some(Some(7)),
                        2 => r.event_first_attempts = Some(1),
                        3 => r.event_retries = Some(1),
                        4 => r.events_delivered = Some(1),
                        _ => r.events_dead_lettered = Some(1),
                    }
                    r
                })
                .collect();
            let (serde, ours) = both(&rows);
            assert_eq!(ours, serde, "optional column {k}");
        }
    }
}
