//! A CSV file written row by row as a run goes: through a buffer into
//! `<path>.tmp`, renamed into place only when the run finishes, so that a
//! run that fails never leaves a partial file under the final name.

use super::tmp_path;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The file behind a streamed CSV.
pub(super) struct RowFile {
    w: BufWriter<File>,
    tmp: PathBuf,
    path: PathBuf,
    rows: u64,
    /// The first write error; later rows are dropped and `finish` reports it.
    error: Option<io::Error>,
}

impl RowFile {
    /// Starts `<path>.tmp` with `header` and a buffer of `capacity` bytes.
    pub(super) fn create(path: &Path, header: &str, capacity: usize) -> io::Result<Self> {
        let tmp = tmp_path(path);
        let mut w = BufWriter::with_capacity(capacity, File::create(&tmp)?);
        writeln!(w, "{header}")?;
        Ok(RowFile {
            w,
            tmp,
            path: path.to_path_buf(),
            rows: 0,
            error: None,
        })
    }

    /// Whether a write has failed (further rows are pointless).
    pub(super) fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// Appends one row, `line` ending in a newline.
    pub(super) fn write_line(&mut self, line: &str) {
        if let Err(e) = self.w.write_all(line.as_bytes()) {
            self.error = Some(e);
        }
        self.rows += 1;
    }

    /// Flushes, syncs and renames the file into place; returns the rows
    /// written.
    pub(super) fn finish(mut self) -> io::Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.w.flush()?;
        self.w
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        std::fs::rename(&self.tmp, &self.path)?;
        Ok(self.rows)
    }
}
