//! Reading trace files: per-request CSV (`timestamp_s[,duration_s][,tag]`),
//! Azure Functions 2019 per-minute invocation counts and the Azure Functions
//! 2021 per-invocation trace. Everything is read once, at validation time,
//! into compact arrays, so that errors surface before a run starts and the
//! generators only index memory.

use super::WorkloadError;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Marks a row without its own duration in [`TraceData::durations`].
pub(crate) const NO_DURATION: u64 = u64::MAX;
/// Marks a row without its own tag in [`TraceData::tags`].
pub(crate) const NO_TAG: u16 = u16::MAX;

const NANOS: u64 = 1_000_000_000;

/// A comma-separated file with a header row, read record by record with the
/// `csv` crate, that knows how to phrase errors about itself. Line numbers
/// are physical lines (a record's first line; blank lines count), fields are
/// trimmed, and a quoted field may hold commas, doubled quotes and line
/// breaks (as knload writes response classes). One record buffer is reused,
/// so reading does not allocate per row.
pub(crate) struct CsvSource {
    reader: csv::Reader<QuoteCount<BufReader<File>>>,
    file: PathBuf,
    path: String,
    headers: Vec<String>,
    record: csv::StringRecord,
    /// First line of the current record.
    record_line: u64,
    /// Line number of the header row (after any leading blank lines).
    pub(crate) header_line: u64,
}

/// Watches the bytes the csv crate reads. It counts quote characters, so
/// that a quote left open at the end of the file (which the crate reads as a
/// field running to the end) can be reported, since well-formed quoting uses
/// an even number; and it notes where line breaks are, because the crate's
/// own line numbers skip blank lines.
struct QuoteCount<R> {
    inner: R,
    quotes: u64,
    /// Bytes read so far.
    offset: u64,
    /// Offsets of line feeds not yet behind a finished record.
    newlines: std::collections::VecDeque<u64>,
    /// Line feeds behind finished records.
    lines_done: u64,
}

impl<R: Read> Read for QuoteCount<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, b) in buf[..n].iter().enumerate() {
            match b {
                b'"' => self.quotes += 1,
                b'\n' => self.newlines.push_back(self.offset + i as u64),
                _ => {}
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R> QuoteCount<R> {
    /// The first line of a record that ends at byte `end` (after its
    /// terminator) and holds `inner` line feeds inside quoted fields.
    fn record_line(&mut self, end: u64, inner: u64) -> u64 {
        let mut last = None;
        while self.newlines.front().is_some_and(|&p| p < end) {
            last = self.newlines.pop_front();
            self.lines_done += 1;
        }
        let terminated = last.is_some_and(|p| p + 1 == end);
        (self.lines_done + 1).saturating_sub(u64::from(terminated) + inner)
    }
}

impl CsvSource {
    /// Opens `file` and reads its header row. `path` is the config field that
    /// named the file.
    pub(crate) fn open(file: &Path, path: &str) -> Result<CsvSource, WorkloadError> {
        let f = File::open(file).map_err(|source| WorkloadError::Io {
            path: path.to_string(),
            file: file.to_path_buf(),
            source,
        })?;
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(QuoteCount {
                inner: BufReader::with_capacity(1 << 16, f),
                quotes: 0,
                offset: 0,
                newlines: std::collections::VecDeque::new(),
                lines_done: 0,
            });
        let mut src = CsvSource {
            reader,
            file: file.to_path_buf(),
            path: path.to_string(),
            headers: Vec::new(),
            record: csv::StringRecord::new(),
            record_line: 0,
            header_line: 0,
        };
        if !src.read_record()? {
            return Err(src.error(0, None, "the file is empty; expected a header row".into()));
        }
        src.header_line = src.record_line;
        src.headers = src.record.iter().map(str::to_string).collect();
        Ok(src)
    }

    /// Reads the next record that is not blank; false at the end.
    fn read_record(&mut self) -> Result<bool, WorkloadError> {
        loop {
            let more = self.reader.read_record(&mut self.record).map_err(|e| {
                let line = e.position().map_or(self.record_line + 1, |p| p.line());
                let rule = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "the line is not valid UTF-8".to_string(),
                    _ => format!("read error: {e}"),
                };
                self.error(line, None, rule)
            })?;
            if !more {
                if self.reader.get_ref().quotes % 2 == 1 {
                    return Err(self.error(
                        self.record_line,
                        None,
                        "a quoted field is never closed".into(),
                    ));
                }
                return Ok(false);
            }
            let end = self.reader.position().byte();
            let inner = self
                .record
                .iter()
                .map(|f| f.bytes().filter(|b| *b == b'\n').count() as u64)
                .sum();
            self.record_line = self.reader.get_mut().record_line(end, inner);
            // A line of spaces is one empty field once trimmed.
            if self.record.len() == 1 && self.record[0].is_empty() {
                continue;
            }
            self.unquote_spaced_fields();
            return Ok(true);
        }
    }

    /// The csv crate reads a quote after a space as text, so ` "a""b" `
    /// arrives as `"a""b"` once trimmed; such a field is unquoted here.
    fn unquote_spaced_fields(&mut self) {
        let quoted = |f: &str| f.len() >= 2 && f.starts_with('"') && f.ends_with('"');
        if !self.record.iter().any(quoted) {
            return;
        }
        let fields: Vec<String> = self
            .record
            .iter()
            .map(|f| {
                if quoted(f) {
                    f[1..f.len() - 1].replace("\"\"", "\"")
                } else {
                    f.to_string()
                }
            })
            .collect();
        self.record = csv::StringRecord::from(fields);
    }

    /// Field `i` (0-based) of the current record, or "" if there is none.
    pub(crate) fn get(&self, i: usize) -> &str {
        self.record.get(i).unwrap_or("")
    }

    /// 0-based index of the column named `name`.
    pub(crate) fn column_index(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// Header name of column `i` (0-based).
    pub(crate) fn header(&self, i: usize) -> &str {
        self.headers.get(i).map(String::as_str).unwrap_or("")
    }

    /// The header names, for error messages.
    pub(crate) fn header_list(&self) -> String {
        let shown: Vec<&str> = self.headers.iter().take(8).map(String::as_str).collect();
        let more = if self.headers.len() > 8 { ",..." } else { "" };
        format!("{}{more}", shown.join(","))
    }

    /// An error at `line` (1-based; 0 for the whole file) and optionally a
    /// column (0-based index and name).
    pub(crate) fn error(
        &self,
        line: u64,
        column: Option<(usize, String)>,
        rule: String,
    ) -> WorkloadError {
        let (column, column_name) = match column {
            Some((i, n)) => (Some(i + 1), Some(n)),
            None => (None, None),
        };
        WorkloadError::Format {
            path: self.path.clone(),
            file: self.file.clone(),
            line,
            column,
            column_name,
            rule,
        }
    }

    /// Error for cell `col` (0-based) on `line`.
    pub(crate) fn cell_error(&self, line: u64, col: usize, rule: String) -> WorkloadError {
        self.error(line, Some((col, self.header(col).to_string())), rule)
    }

    /// Reads the next data line (its fields via [`CsvSource::get`]); returns
    /// its line number, or `None` at the end of the file. A line with a
    /// different number of fields than the header is an error.
    pub(crate) fn next_record(&mut self) -> Result<Option<u64>, WorkloadError> {
        if !self.read_record()? {
            return Ok(None);
        }
        if self.record.len() != self.headers.len() {
            return Err(self.error(
                self.record_line,
                None,
                format!(
                    "expected {} fields like the header, found {}",
                    self.headers.len(),
                    self.record.len()
                ),
            ));
        }
        Ok(Some(self.record_line))
    }
}

/// Parses a non-negative decimal number of seconds into nanoseconds exactly
/// (no binary floating-point rounding for plain decimals, so a replay
/// reproduces the written times to the nanosecond; digits past the ninth
/// decimal are rounded).
pub(crate) fn parse_secs_ns(s: &str) -> Result<u64, String> {
    let bad = || format!("not a number: {s:?}");
    if s.starts_with('-') {
        return Err(format!("{s} is negative"));
    }
    let t = s.strip_prefix('+').unwrap_or(s);
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    let plain = !(int.is_empty() && frac.is_empty())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    if !plain {
        // Exponent forms and the like: fall back to floating point.
        let x: f64 = t.parse().map_err(|_| bad())?;
        if !x.is_finite() {
            return Err(bad());
        }
        if x < 0.0 {
            return Err(format!("{s} is negative"));
        }
        let n = (x * NANOS as f64).round();
        if n >= u64::MAX as f64 {
            return Err(format!("{s} is too large"));
        }
        return Ok(n as u64);
    }
    let too_large = || format!("{s} is too large");
    let mut whole: u64 = 0;
    for b in int.bytes() {
        whole = whole
            .checked_mul(10)
            .and_then(|w| w.checked_add(u64::from(b - b'0')))
            .ok_or_else(too_large)?;
    }
    let mut nanos: u64 = 0;
    let fb = frac.as_bytes();
    for i in 0..9 {
        nanos = nanos * 10 + fb.get(i).map(|b| u64::from(b - b'0')).unwrap_or(0);
    }
    if fb.get(9).is_some_and(|b| *b >= b'5') {
        nanos += 1;
    }
    whole
        .checked_mul(NANOS)
        .and_then(|w| w.checked_add(nanos))
        .ok_or_else(too_large)
}

/// Parses a non-negative finite float.
pub(crate) fn parse_nonneg_f64(s: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|_| format!("not a number: {s:?}"))?;
    if !x.is_finite() {
        return Err(format!("not a finite number: {s:?}"));
    }
    if x < 0.0 {
        return Err(format!("{s} is negative"));
    }
    Ok(x)
}

/// Where trace time zero is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Timestamp 0 of the file is the source's start.
    Zero,
    /// The earliest request of the file is the source's start.
    First,
}

/// Requests of a replayed trace, relative to the source's start, already
/// divided by the speedup.
pub(crate) struct TraceData {
    /// Arrival offsets in nanoseconds, non-decreasing.
    pub times: Vec<u64>,
    /// Per-row service time in ns ([`NO_DURATION`] if the row has none);
    /// `None` if the trace carries no durations or they are not used.
    pub durations: Option<Vec<u64>>,
    /// Per-row index into `tag_names` ([`NO_TAG`] if none); `None` if the
    /// trace carries no tags or they are not used.
    pub tags: Option<Vec<u16>>,
    /// Distinct tag names in order of first appearance.
    pub tag_names: Vec<String>,
}

impl fmt::Debug for TraceData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceData")
            .field("requests", &self.times.len())
            .field("durations", &self.durations.is_some())
            .field("tags", &self.tag_names)
            .finish()
    }
}

/// What part of a trace to keep and how to map it onto simulated time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub origin: Origin,
    /// Trace time (after the origin shift) that maps to the source's start;
    /// earlier requests are dropped.
    pub offset_ns: u64,
    /// Time compression.
    pub speedup: f64,
    /// Source length in simulated ns; later requests are not kept.
    pub length_ns: u64,
}

impl Window {
    /// Maps a trace time (after the origin shift) to an offset from the
    /// source's start, or `None` if it falls outside the window.
    fn map(&self, t: u64) -> Option<u64> {
        let t = t.checked_sub(self.offset_ns)?;
        let scaled = scale_ns(t, self.speedup);
        (scaled < self.length_ns).then_some(scaled)
    }

    /// True if trace time `t` is already past the window.
    fn past(&self, t: u64) -> bool {
        t >= self.offset_ns && scale_ns(t - self.offset_ns, self.speedup) >= self.length_ns
    }
}

fn scale_ns(t: u64, speedup: f64) -> u64 {
    if speedup == 1.0 {
        t
    } else {
        (t as f64 / speedup).round() as u64
    }
}

fn empty_window_error(src: &CsvSource, what: &str) -> WorkloadError {
    src.error(
        0,
        None,
        format!("no {what} fall inside the replayed window (check offset, start and end)"),
    )
}

/// Whether and where to read an optional column of a request trace.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ColumnChoice<'a> {
    /// Not read.
    Off,
    /// Read if a column of this name exists.
    Default(&'a str),
    /// Read this column, which must exist.
    Named(&'a str),
}

/// Reads a per-request trace: a header row naming `timestamp_s` and
/// optionally a duration and a tag column (other columns are ignored), then
/// one row per request, sorted by timestamp.
pub(crate) fn load_request_trace(
    file: &Path,
    path: &str,
    win: Window,
    durations: ColumnChoice<'_>,
    tags: ColumnChoice<'_>,
) -> Result<TraceData, WorkloadError> {
    let src = CsvSource::open(file, path)?;
    let find = |name: &str| -> Result<Option<usize>, WorkloadError> {
        let mut hits = src.headers.iter().enumerate().filter(|(_, h)| *h == name);
        let first = hits.next().map(|(i, _)| i);
        if let Some((i, _)) = hits.next() {
            return Err(src.error(
                src.header_line,
                Some((i, name.to_string())),
                format!("bad header: column {name:?} appears twice"),
            ));
        }
        Ok(first)
    };
    let ts_col = find("timestamp_s")?.ok_or_else(|| {
        src.error(
            src.header_line,
            None,
            format!(
                "bad header: no timestamp_s column (found {:?}); a request trace has the columns timestamp_s[,duration_s][,tag]",
                src.header_list()
            ),
        )
    })?;
    let pick = |choice: ColumnChoice<'_>| -> Result<Option<usize>, WorkloadError> {
        match choice {
            ColumnChoice::Off => Ok(None),
            ColumnChoice::Default(name) => find(name),
            ColumnChoice::Named(name) => find(name)?.map(Some).ok_or_else(|| {
                src.error(
                    src.header_line,
                    None,
                    format!(
                        "bad header: no column named {name:?} (found {:?})",
                        src.header_list()
                    ),
                )
            }),
        }
    };
    let dur_col = pick(durations)?;
    let tag_col = pick(tags)?;
    let mut src = src;

    let mut data = TraceData {
        times: Vec::new(),
        durations: dur_col.map(|_| Vec::new()),
        tags: tag_col.map(|_| Vec::new()),
        tag_names: Vec::new(),
    };
    let mut tag_index: BTreeMap<String, u16> = BTreeMap::new();
    let mut prev: Option<(u64, u64)> = None;
    let mut first: Option<u64> = None;
    while let Some(line) = src.next_record()? {
        let cell = src.get(ts_col);
        let raw = parse_secs_ns(cell).map_err(|r| src.cell_error(line, ts_col, r))?;
        if let Some((p, pline)) = prev {
            if raw < p {
                return Err(src.cell_error(
                    line,
                    ts_col,
                    format!(
                        "timestamps must be sorted: {cell} is earlier than {} on line {pline}",
                        fmt_ns(p)
                    ),
                ));
            }
        }
        prev = Some((raw, line));
        let origin = match win.origin {
            Origin::Zero => 0,
            Origin::First => *first.get_or_insert(raw),
        };
        let t = raw - origin;
        if win.past(t) {
            break;
        }
        let Some(at) = win.map(t) else { continue };
        if let (Some(c), Some(d)) = (dur_col, data.durations.as_mut()) {
            let cell = src.get(c);
            d.push(if cell.is_empty() {
                NO_DURATION
            } else {
                parse_secs_ns(cell).map_err(|r| src.cell_error(line, c, r))?
            });
        }
        if let (Some(c), Some(tags)) = (tag_col, data.tags.as_mut()) {
            let cell = src.get(c);
            tags.push(if cell.is_empty() {
                NO_TAG
            } else if let Some(i) = tag_index.get(cell) {
                *i
            } else {
                let i = data.tag_names.len();
                if i >= NO_TAG as usize {
                    return Err(src.cell_error(
                        line,
                        c,
                        format!("more than {} distinct tags", NO_TAG),
                    ));
                }
                tag_index.insert(cell.to_string(), i as u16);
                // Quoted cells keep doubled quotes; the name gets them undoubled.
                data.tag_names.push(cell.replace("\"\"", "\""));
                i as u16
            });
        }
        data.times.push(at);
    }
    if prev.is_none() {
        return Err(src.error(0, None, "the trace has a header but no requests".into()));
    }
    if data.times.is_empty() {
        return Err(empty_window_error(&src, "requests"));
    }
    Ok(data)
}

fn fmt_ns(ns: u64) -> String {
    let s = format!("{}.{:09}", ns / NANOS, ns % NANOS);
    let s = s.trim_end_matches('0');
    s.strip_suffix('.').unwrap_or(s).to_string()
}

/// Which functions of an Azure trace to replay.
#[derive(Clone, Debug, Default)]
pub(crate) struct AzureSelect {
    pub owner: Option<String>,
    pub app: Option<String>,
    pub function: Option<String>,
    pub trigger: Option<String>,
    /// Keep only the N busiest matching functions.
    pub top: Option<u32>,
}

impl AzureSelect {
    fn matches(&self, owner: &str, app: &str, function: &str, trigger: &str) -> bool {
        fn ok(want: &Option<String>, have: &str) -> bool {
            want.as_deref().is_none_or(|w| w == have)
        }
        ok(&self.owner, owner)
            && ok(&self.app, app)
            && ok(&self.function, function)
            && ok(&self.trigger, trigger)
    }
}

/// Column layout of the Azure Functions 2019 invocation-count files.
pub(crate) const AZURE_2019_KEYS: [&str; 4] = ["HashOwner", "HashApp", "HashFunction", "Trigger"];

/// Reads an Azure Functions 2019 `invocations_per_function` file and returns
/// the per-minute request counts, summed over the selected functions, for
/// minutes `from..=to` (1-based, as in the header).
pub(crate) fn load_azure_2019(
    file: &Path,
    path: &str,
    select: &AzureSelect,
    from: u32,
    to: Option<u32>,
) -> Result<Vec<u32>, WorkloadError> {
    let mut src = CsvSource::open(file, path)?;
    for (i, want) in AZURE_2019_KEYS.iter().enumerate() {
        if src.header(i) != *want {
            return Err(src.error(
                src.header_line,
                Some((i, src.header(i).to_string())),
                format!(
                    "bad header: expected {want:?} here; an Azure 2019 file starts HashOwner,HashApp,HashFunction,Trigger,1,2,...,1440"
                ),
            ));
        }
    }
    let minutes = src.headers.len() - AZURE_2019_KEYS.len();
    if minutes == 0 {
        return Err(src.error(
            src.header_line,
            None,
            "bad header: no minute columns after Trigger".into(),
        ));
    }
    for m in 0..minutes {
        let col = AZURE_2019_KEYS.len() + m;
        if src.header(col) != (m + 1).to_string() {
            return Err(src.error(
                src.header_line,
                Some((col, src.header(col).to_string())),
                format!("bad header: expected minute column \"{}\"", m + 1),
            ));
        }
    }
    let to = to.unwrap_or(minutes as u32);
    if from < 1 || from > to || to as usize > minutes {
        return Err(WorkloadError::invalid(
            path,
            format!("minutes {from}..={to} are not within the file's minutes 1..={minutes}"),
        ));
    }
    let (lo, hi) = (from as usize - 1, to as usize);

    let mut total = vec![0u64; hi - lo];
    // With `top`, keep the best rows so far: (total, file order, counts).
    let mut best: Vec<(u64, u64, Vec<u32>)> = Vec::new();
    let mut matched = 0u64;
    let mut row = vec![0u32; minutes];
    while let Some(line) = src.next_record()? {
        let key = |i: usize| src.get(i);
        if !select.matches(key(0), key(1), key(2), key(3)) {
            continue;
        }
        let mut sum = 0u64;
        for (m, slot) in row.iter_mut().enumerate() {
            let col = AZURE_2019_KEYS.len() + m;
            let cell = src.get(col);
            *slot = cell.parse::<u32>().map_err(|_| {
                src.cell_error(
                    line,
                    col,
                    format!("invocation count must be a non-negative integer, got {cell:?}"),
                )
            })?;
            if (lo..hi).contains(&m) {
                sum += u64::from(*slot);
            }
        }
        matched += 1;
        match select.top {
            None => {
                for (t, c) in total.iter_mut().zip(&row[lo..hi]) {
                    *t += u64::from(*c);
                }
            }
            Some(n) => {
                // Ties keep the row that came first in the file.
                best.push((sum, matched, row[lo..hi].to_vec()));
                best.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                best.truncate(n as usize);
            }
        }
    }
    if matched == 0 {
        return Err(src.error(
            0,
            None,
            "no function matches the selection (owner/app/function/trigger)".into(),
        ));
    }
    for (_, _, counts) in &best {
        for (t, c) in total.iter_mut().zip(counts) {
            *t += u64::from(*c);
        }
    }
    total
        .into_iter()
        .map(u32::try_from)
        .collect::<Result<Vec<u32>, _>>()
        .map_err(|_| {
            src.error(
                0,
                None,
                "a minute holds more than 4294967295 requests".into(),
            )
        })
}

/// Column layout of the Azure Functions 2021 invocation trace.
pub(crate) const AZURE_2021_HEADER: [&str; 4] = ["app", "func", "end_timestamp", "duration"];

/// Reads an Azure Functions 2021 invocation trace (`app,func,end_timestamp,duration`
/// in seconds); each request arrives at `end_timestamp - duration`.
pub(crate) fn load_azure_2021(
    file: &Path,
    path: &str,
    select: &AzureSelect,
    win: Window,
    use_durations: bool,
) -> Result<TraceData, WorkloadError> {
    let check_header = |src: &CsvSource| -> Result<(), WorkloadError> {
        if src.headers.len() != AZURE_2021_HEADER.len() {
            return Err(src.error(
                src.header_line,
                None,
                format!(
                    "bad header {:?}: an Azure 2021 trace has exactly the columns app,func,end_timestamp,duration",
                    src.header_list()
                ),
            ));
        }
        for (i, want) in AZURE_2021_HEADER.iter().enumerate() {
            if src.header(i) != *want {
                return Err(src.error(
                    src.header_line,
                    Some((i, src.header(i).to_string())),
                    format!("bad header: expected {want:?}; an Azure 2021 trace has the columns app,func,end_timestamp,duration"),
                ));
            }
        }
        Ok(())
    };
    let parse_row = |src: &CsvSource, line: u64| -> Result<(i128, u64), WorkloadError> {
        let end = parse_secs_ns(src.get(2)).map_err(|r| src.cell_error(line, 2, r))?;
        let dur = parse_secs_ns(src.get(3)).map_err(|r| src.cell_error(line, 3, r))?;
        Ok((i128::from(end) - i128::from(dur), dur))
    };

    // Pass 1: validate every row, count requests per function (for `top`) and
    // find the earliest arrival (for origin = "first").
    let mut src = CsvSource::open(file, path)?;
    check_header(&src)?;
    // Per function: (requests, earliest arrival).
    let mut counts: BTreeMap<(String, String), (u64, i128)> = BTreeMap::new();
    let mut rows = 0u64;
    while let Some(line) = src.next_record()? {
        rows += 1;
        let (arrival, _) = parse_row(&src, line)?;
        let (app, func) = (src.get(0), src.get(1));
        if !select.matches("", app, func, "") {
            continue;
        }
        if win.origin == Origin::Zero && arrival < 0 {
            return Err(src.error(
                line,
                None,
                "the request arrives before time zero (end_timestamp < duration); set origin = \"first\"".into(),
            ));
        }
        let e = counts
            .entry((app.to_string(), func.to_string()))
            .or_insert((0, arrival));
        e.0 += 1;
        e.1 = e.1.min(arrival);
    }
    if rows == 0 {
        return Err(src.error(0, None, "the trace has a header but no requests".into()));
    }
    if counts.is_empty() {
        return Err(src.error(
            0,
            None,
            "no function matches the selection (app/function)".into(),
        ));
    }
    if let Some(n) = select.top {
        let mut v: Vec<_> = std::mem::take(&mut counts).into_iter().collect();
        // Busiest first; ties in name order, which is deterministic.
        v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        v.truncate(n as usize);
        counts = v.into_iter().collect();
    }
    let origin = match win.origin {
        Origin::Zero => 0,
        Origin::First => counts.values().map(|c| c.1).min().unwrap_or(0),
    };

    // Pass 2: keep the selected requests inside the window.
    let mut src = CsvSource::open(file, path)?;
    check_header(&src)?;
    let mut reqs: Vec<(u64, u64)> = Vec::new();
    while let Some(line) = src.next_record()? {
        let (app, func) = (src.get(0), src.get(1));
        // The BTreeMap key needs owned strings; rows are few enough per
        // function that this lookup is not the bottleneck next to parsing.
        if !counts.contains_key(&(app.to_string(), func.to_string())) {
            continue;
        }
        let (arrival, dur) = parse_row(&src, line)?;
        let t = (arrival - origin) as u64;
        if let Some(at) = win.map(t) {
            reqs.push((at, dur));
        }
    }
    if reqs.is_empty() {
        return Err(empty_window_error(&src, "requests"));
    }
    // The file is ordered by end time, not arrival; a stable sort keeps file
    // order among equal arrivals.
    reqs.sort_by_key(|r| r.0);
    Ok(TraceData {
        times: reqs.iter().map(|r| r.0).collect(),
        durations: use_durations.then(|| reqs.iter().map(|r| r.1).collect()),
        tags: None,
        tag_names: Vec::new(),
    })
}

#[cfg(test)]
mod tests;
