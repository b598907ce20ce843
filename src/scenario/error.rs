//! What can be wrong with a scenario, and where: located problems, the
//! error type of loading, and `--set` overrides as given.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in the input an error was found.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// Line and column (1-based) in the scenario file.
    Position {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The value came from a `--set` override.
    Override(String),
    /// Not locatable (e.g. a missing key).
    Unknown,
    /// A document of a Knative YAML manifest.
    Manifest {
        /// The YAML file.
        file: PathBuf,
        /// 1-based document index.
        document: usize,
        /// 1-based line in the file, 0 when not known.
        line: usize,
    },
}

/// One problem in a scenario, located.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Dotted field path, e.g. `autoscaler.stable-window`.
    pub field: String,
    /// The rule that was broken.
    pub rule: String,
    /// Where.
    pub origin: Origin,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::Position { line, column } => {
                write!(f, "{line}:{column}: {}: {}", self.field, self.rule)
            }
            Origin::Override(s) => write!(f, " {} (from --set {s}): {}", self.field, self.rule),
            Origin::Unknown => write!(f, " {}: {}", self.field, self.rule),
            Origin::Manifest {
                file,
                document,
                line,
            } => write!(
                f,
                "{}{} (document {document}): {}: {}",
                file.display(),
                crate::manifest::at_line(*line),
                self.field,
                self.rule
            ),
        }
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read (the OS's reason is the error's source).
    #[error("cannot read scenario {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax error or a value of the wrong type / unknown key.
    #[error("{}:{problem}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The problem, located (boxed: errors travel in `Result`s a lot).
        problem: Box<Problem>,
    },
    /// A `--set` override could not be applied.
    #[error("--set {spec}: {rule}")]
    Override {
        /// The override as given.
        spec: String,
        /// What is wrong with it.
        rule: String,
    },
    /// One or more values break Knative's (or knsim's) rules.
    #[error("{} invalid value(s) in {}:\n{}", problems.len(), path.display(), list(path, problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

fn list(path: &Path, problems: &[Problem]) -> String {
    // `file:line:column: field: rule`, the form editors and terminals link to.
    problems
        .iter()
        .map(|p| match p.origin {
            // A manifest's problem names its own file.
            Origin::Manifest { .. } => format!("  {p}"),
            _ => format!("  {}:{p}", path.display()),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A `KEY=VALUE` override of a scenario value by its dotted path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Override {
    /// Dotted path, e.g. `autoscaler.stable-window` or `revision.0.containerConcurrency`.
    pub key: String,
    /// The value as text; parsed as a TOML value when it is one, else taken as a string.
    pub value: String,
}

impl std::str::FromStr for Override {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))?;
        let k = k.trim();
        if k.is_empty() {
            return Err(format!("empty key in {s:?}"));
        }
        Ok(Override {
            key: k.to_string(),
            value: v.trim().to_string(),
        })
    }
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// serde's messages name the Rust types behind the file; say instead what
/// the file should hold there.
pub(super) fn user_words(msg: &str) -> String {
    const UNTAGGED: &str = "data did not match any variant of untagged enum ";
    let what = |ty: &str| match ty {
        "DistSpec" => {
            "a distribution table, e.g. { distribution = \"exponential\", mean = \"50ms\" }"
        }
        "ArrivalSpec" => "an arrival table, e.g. { process = \"poisson\", rate = 10.0 }",
        "ConfigValue" => "a string, number or boolean",
        "OneOrMany" => "a file name or a list of file names",
        "DurationValue" => "a duration such as \"250ms\" or a number of seconds",
        _ => "a table",
    };
    let mut m = msg.to_string();
    for pat in [UNTAGGED, "internally tagged enum ", "struct ", "enum "] {
        while let Some(i) = m.find(pat) {
            let rest = &m[i + pat.len()..];
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let ty = rest[..len].to_string();
            if ty.is_empty() {
                break;
            }
            let words = if pat == UNTAGGED {
                format!("expected {}", what(&ty))
            } else {
                what(&ty).to_string()
            };
            m.replace_range(i..i + pat.len() + len, &words);
        }
    }
    m
}

/// Longest run of characters without a space echoed in a message (an
/// annotation key with its path fits).
const MAX_RUN: usize = 80;
/// Longest run in a field path: keys of long annotations stay whole.
const MAX_FIELD_RUN: usize = 200;
/// Longest message text.
const MAX_TEXT: usize = 400;

/// Shortens what a message echoes from the input: a run of more than
/// [`MAX_RUN`] characters without a space keeps its start and says how
/// long it was, and the whole text stops after [`MAX_TEXT`] characters.
pub fn clip(s: &str) -> String {
    clip_runs(s, MAX_RUN)
}

/// [`clip`] for a field path, whose runs may be longer.
pub fn clip_field(s: &str) -> String {
    clip_runs(s, MAX_FIELD_RUN)
}

fn clip_runs(s: &str, max_run: usize) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_TEXT + 16));
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, out: &mut String| {
        if run.len() > max_run {
            out.extend(&run[..max_run - 30]);
            out.push_str(&format!("… ({} characters)", run.len()));
        } else {
            out.extend(run.iter());
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_whitespace() {
            flush(&mut run, &mut out);
            out.push(c);
        } else {
            run.push(c);
        }
    }
    flush(&mut run, &mut out);
    if out.chars().count() > MAX_TEXT {
        let mut cut: String = out.chars().take(MAX_TEXT).collect();
        cut.push('…');
        return cut;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_and_texts_are_cut() {
        let long = format!("invalid value: {}", "9".repeat(300));
        let c = clip(&long);
        assert!(c.len() < 100, "{c}");
        assert!(c.ends_with("… (300 characters)"), "{c}");
        let words = "word ".repeat(200);
        assert_eq!(clip(&words).chars().count(), MAX_TEXT + 1);
        assert_eq!(clip("short text"), "short text");
    }
}
