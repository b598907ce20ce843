use std::path::PathBuf;

/// Why a chart or report could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A CSV file is malformed or does not match the expected columns.
    #[error("{}: {source}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: csv::Error,
    },
    /// `summary.json` is malformed.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A column a chart needs is not in the table.
    #[error("no column {column:?} (columns: {available})")]
    MissingColumn {
        /// The column asked for.
        column: String,
        /// The columns the table has, comma-separated.
        available: String,
    },
    /// A cell that should hold a number does not.
    #[error("row {row}, column {column:?}: {value:?} is not a number")]
    NotANumber {
        /// Data row, counting from 1.
        row: usize,
        /// Column name.
        column: String,
        /// The cell's text.
        value: String,
    },
    /// The input holds nothing to draw.
    #[error("nothing to plot: {0}")]
    NoData(String),
    /// The drawing library failed (a bug rather than bad input).
    #[error("drawing {chart}: {message}")]
    Draw {
        /// File name of the chart being drawn.
        chart: String,
        /// The library's message.
        message: String,
    },
}

impl PlotError {
    /// True for errors caused by the input files rather than by drawing or
    /// writing (the CLI exits 2 for these).
    pub fn is_bad_input(&self) -> bool {
        match self {
            PlotError::Csv { .. }
            | PlotError::Json { .. }
            | PlotError::MissingColumn { .. }
            | PlotError::NotANumber { .. }
            | PlotError::NoData(_) => true,
            PlotError::Io { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
            PlotError::Draw { .. } => false,
        }
    }
}

/// Maps a `plotters` error into [`PlotError::Draw`] for the chart `chart`.
pub(crate) fn draw_err<E: std::fmt::Display>(chart: &str) -> impl Fn(E) -> PlotError + '_ {
    move |e| PlotError::Draw {
        chart: chart.to_string(),
        message: e.to_string(),
    }
}
