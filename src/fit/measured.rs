//! Reading measured per-request rows: knload's `--requests-csv` format
//! (`timestamp_s,latency_s,status,class`, plus `target` when knload followed
//! a scenario), or any CSV with a header row and a latency column.

use super::FitError;
use std::path::Path;

/// One measured request.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Intended send time, seconds from the start of the run (0 if the file
    /// has no timestamp column).
    pub timestamp_s: f64,
    /// Latency, seconds.
    pub latency_s: f64,
    /// HTTP status (200 when the file has no status column; 0 = no response).
    pub status: u16,
    /// Which address the request went to (tag name, or empty for the main
    /// route), when the file says.
    pub target: String,
    /// Response class (knload --classify), empty if none.
    pub class: String,
}

/// Which columns to read.
#[derive(Clone, Debug)]
pub struct Columns {
    /// Latency column header.
    pub latency: String,
    /// Multiplier from the column's unit to seconds.
    pub unit_secs: f64,
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            latency: "latency_s".into(),
            unit_secs: 1.0,
        }
    }
}

/// Reads every row of a measured CSV file.
pub fn read_rows(path: &Path, cols: &Columns) -> Result<Vec<Row>, FitError> {
    let file = path.display().to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| FitError::Io {
            path: file.clone(),
            detail: e.to_string(),
        })?;
    let headers = rdr
        .headers()
        .map_err(|e| FitError::Io {
            path: file.clone(),
            detail: e.to_string(),
        })?
        .clone();
    let find = |name: &str| headers.iter().position(|h| h.trim() == name);
    let lat = find(&cols.latency).ok_or_else(|| FitError::NoColumn {
        path: file.clone(),
        column: cols.latency.clone(),
        found: headers.iter().collect::<Vec<_>>().join(","),
    })?;
    let (ts, status, target, class) = (
        find("timestamp_s"),
        find("status"),
        find("target"),
        find("class"),
    );
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        // Line 1 is the header.
        let line = i + 2;
        let rec = rec.map_err(|e| FitError::Io {
            path: file.clone(),
            detail: e.to_string(),
        })?;
        let num = |idx: usize, name: &str| -> Result<f64, FitError> {
            let cell = rec.get(idx).unwrap_or("").trim();
            match cell.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                _ => Err(FitError::Value {
                    path: file.clone(),
                    line,
                    column: name.to_string(),
                    rule: format!("`{cell}` is not a non-negative number"),
                }),
            }
        };
        let latency_s = num(lat, &cols.latency)? * cols.unit_secs;
        let timestamp_s = match ts {
            Some(t) => num(t, "timestamp_s")?,
            None => 0.0,
        };
        let status = match status {
            Some(s) => {
                let cell = rec.get(s).unwrap_or("").trim();
                cell.parse::<u16>().map_err(|_| FitError::Value {
                    path: file.clone(),
                    line,
                    column: "status".into(),
                    rule: format!("`{cell}` is not an HTTP status code"),
                })?
            }
            None => 200,
        };
        let text = |c: Option<usize>| c.and_then(|t| rec.get(t)).unwrap_or("").trim().to_string();
        rows.push(Row {
            timestamp_s,
            latency_s,
            status,
            target: text(target),
            class: text(class),
        });
    }
    Ok(rows)
}
