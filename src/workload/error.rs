//! Errors raised while validating workload configuration and reading trace
//! files. Every variant names where the problem is: the dotted field path in
//! the scenario, and for files also the file, line and column.

use std::fmt;
use std::path::PathBuf;

/// Why a workload, distribution or trace could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkloadError {
    /// A configuration value breaks a rule (e.g. a negative mean).
    #[error("{path}: {rule}")]
    Invalid {
        /// Dotted field path, e.g. `workload[0].arrival.rate`.
        path: String,
        /// The rule that was broken, phrased for the user.
        rule: String,
    },
    /// A file named by the configuration could not be opened or read.
    #[error("{path}: cannot read {}: {source}", file.display())]
    Io {
        /// Dotted field path of the setting that names the file.
        path: String,
        /// The file as resolved on disk.
        file: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A trace or sample file has content that cannot be used.
    #[error("{}", FormatDisplay { file, line: *line, column: *column, column_name: column_name.as_deref(), path, rule })]
    Format {
        /// Dotted field path of the setting that names the file.
        path: String,
        /// The file as resolved on disk.
        file: PathBuf,
        /// 1-based line number (0 when the problem is not tied to a line,
        /// e.g. an empty file).
        line: u64,
        /// 1-based column (field) number within the line, if known.
        column: Option<usize>,
        /// Header name of that column, if known.
        column_name: Option<String>,
        /// What is wrong, phrased for the user.
        rule: String,
    },
}

struct FormatDisplay<'a> {
    file: &'a PathBuf,
    line: u64,
    column: Option<usize>,
    column_name: Option<&'a str>,
    path: &'a str,
    rule: &'a str,
}

impl fmt::Display for FormatDisplay<'_> {
    // `file:line:column: rule` is the form editors and terminals link to.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        write!(f, ": {}", self.rule)?;
        match (self.line > 0, self.column, self.column_name) {
            (true, Some(c), Some(n)) => write!(f, " (line {}, column {c} `{n}`", self.line)?,
            (true, Some(c), None) => write!(f, " (line {}, column {c}", self.line)?,
            (true, None, _) => write!(f, " (line {}", self.line)?,
            (false, _, _) => write!(f, " (")?,
        }
        if self.line > 0 {
            write!(f, "; ")?;
        }
        write!(f, "file set by {})", self.path)
    }
}

impl WorkloadError {
    /// Shorthand for [`WorkloadError::Invalid`].
    pub fn invalid(path: impl Into<String>, rule: impl Into<String>) -> Self {
        WorkloadError::Invalid {
            path: path.into(),
            rule: rule.into(),
        }
    }

    /// The dotted field path the error belongs to.
    pub fn path(&self) -> &str {
        match self {
            WorkloadError::Invalid { path, .. }
            | WorkloadError::Io { path, .. }
            | WorkloadError::Format { path, .. } => path,
        }
    }
}
