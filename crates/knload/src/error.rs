//! Error types: what can go wrong with one request, and what can stop a run.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why one request failed. Counted per [`ErrorKind`] in the report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The target actively refused the TCP connection.
    #[error("connection refused")]
    ConnectRefused,
    /// Connecting took longer than the per-request timeout.
    #[error("connect timed out")]
    ConnectTimeout,
    /// The TCP connection could not be set up for another reason.
    #[error("connect failed: {detail}")]
    Connect {
        /// The operating system's message.
        detail: String,
    },
    /// The TLS handshake failed: the certificate is not trusted or not for
    /// this name, no common protocol version, or no HTTP/2 by ALPN.
    #[error("TLS handshake failed: {detail}")]
    Tls {
        /// rustls' message.
        detail: String,
    },
    /// The request did not complete within the per-request timeout.
    #[error("timed out")]
    Timeout,
    /// The peer reset the connection.
    #[error("connection reset")]
    Reset,
    /// The connection closed before the response was complete.
    #[error("connection closed before the response was complete")]
    Closed,
    /// The peer broke the HTTP protocol (malformed response, bad frame).
    #[error("protocol error: {detail}")]
    Protocol {
        /// hyper's message.
        detail: String,
    },
    /// Anything else, with the underlying message.
    #[error("{detail}")]
    Other {
        /// The underlying message.
        detail: String,
    },
}

impl RequestError {
    /// The kind this error is counted under.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RequestError::ConnectRefused => ErrorKind::ConnectRefused,
            RequestError::ConnectTimeout => ErrorKind::ConnectTimeout,
            RequestError::Connect { .. } => ErrorKind::Connect,
            RequestError::Tls { .. } => ErrorKind::ConnectTls,
            RequestError::Timeout => ErrorKind::Timeout,
            RequestError::Reset => ErrorKind::Reset,
            RequestError::Closed => ErrorKind::Closed,
            RequestError::Protocol { .. } => ErrorKind::Protocol,
            RequestError::Other { .. } => ErrorKind::Other,
        }
    }

    /// Classifies an I/O error from connecting or talking to the target.
    pub fn from_io(e: &std::io::Error, connecting: bool) -> Self {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::ConnectionRefused => RequestError::ConnectRefused,
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => RequestError::Reset,
            K::TimedOut => RequestError::Timeout,
            K::UnexpectedEof => RequestError::Closed,
            _ if connecting => RequestError::Connect {
                detail: e.to_string(),
            },
            _ => RequestError::Other {
                detail: e.to_string(),
            },
        }
    }

    /// Classifies an error from hyper, looking through its source chain for an
    /// I/O cause, since hyper wraps resets and refusals.
    pub fn from_hyper(e: &hyper::Error) -> Self {
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                return RequestError::from_io(io, false);
            }
            source = s.source();
        }
        if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
            RequestError::Closed
        } else if e.is_timeout() {
            RequestError::Timeout
        } else if e.is_parse() || e.is_user() {
            RequestError::Protocol {
                detail: e.to_string(),
            }
        } else {
            let text = e.to_string();
            // h2 reports a peer's RST_STREAM or GOAWAY only in its message.
            if text.contains("reset") || text.contains("GOAWAY") {
                RequestError::Reset
            } else {
                RequestError::Other { detail: text }
            }
        }
    }
}

/// The kinds errors are counted under; serialized in snake case
/// (`connect_refused`, `timeout`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`RequestError::ConnectRefused`].
    ConnectRefused,
    /// See [`RequestError::ConnectTimeout`].
    ConnectTimeout,
    /// See [`RequestError::Connect`].
    Connect,
    /// See [`RequestError::Tls`].
    ConnectTls,
    /// See [`RequestError::Timeout`].
    Timeout,
    /// See [`RequestError::Reset`].
    Reset,
    /// See [`RequestError::Closed`].
    Closed,
    /// See [`RequestError::Protocol`].
    Protocol,
    /// See [`RequestError::Other`].
    Other,
}

impl ErrorKind {
    /// The snake-case name used in JSON, CSV and the report.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::ConnectRefused => "connect_refused",
            ErrorKind::ConnectTimeout => "connect_timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::ConnectTls => "connect_tls",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Closed => "closed",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Other => "other",
        }
    }

    /// Whether no connection could be opened, so the request was never
    /// sent; such failures are counted apart from requests that were sent.
    pub fn is_connect(self) -> bool {
        matches!(
            self,
            ErrorKind::ConnectRefused
                | ErrorKind::ConnectTimeout
                | ErrorKind::Connect
                | ErrorKind::ConnectTls
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What stops knload from starting or finishing a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KnloadError {
    /// The command line or a file given on it is invalid (exit code 2).
    #[error("invalid {what}: {detail}")]
    Usage {
        /// Which option or argument.
        what: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The target cannot be reached at all (checked before the run starts).
    #[error("cannot reach {target}: {source}")]
    Unreachable {
        /// host:port that was tried.
        target: String,
        /// Why the connection failed.
        source: RequestError,
    },
    /// The target was reached but the TLS handshake failed (checked before
    /// the run starts), e.g. over a certificate that is not trusted.
    #[error("TLS handshake with {target} (server name {server_name}) failed: {detail}{hint}")]
    Tls {
        /// host:port that was tried.
        target: String,
        /// The name the certificate was checked against.
        server_name: String,
        /// rustls' message.
        detail: String,
        /// What to do about it, if anything is known, starting with "; ".
        hint: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A result file given to `merge` cannot be used.
    #[error("{path}: {detail}")]
    BadResult {
        /// The file.
        path: String,
        /// What is wrong with it.
        detail: String,
    },
}

impl KnloadError {
    /// Shorthand for a [`KnloadError::Usage`].
    pub fn usage(what: impl Into<String>, detail: impl Into<String>) -> Self {
        KnloadError::Usage {
            what: what.into(),
            detail: detail.into(),
        }
    }

    /// The process exit code this error maps to: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            KnloadError::Usage { .. } => 2,
            _ => 1,
        }
    }
}

/// Longest stretch of a user's value echoed in a message; a 5000-character
/// argument would otherwise bury the message itself.
const CLIP_CHARS: usize = 80;

/// A value as echoed in a message: cut after [`CLIP_CHARS`] characters,
/// saying how long it was.
pub fn clip(value: &str) -> String {
    let n = value.chars().count();
    if n <= CLIP_CHARS {
        return value.to_string();
    }
    let head: String = value.chars().take(CLIP_CHARS).collect();
    format!("{head}... ({n} characters)")
}

/// Another library's message about `value`, with every echo of a long
/// value cut as [`clip`] does.
pub fn clip_in(message: impl fmt::Display, value: &str) -> String {
    let text = message.to_string();
    if value.chars().count() > CLIP_CHARS {
        text.replace(value, &clip(value))
    } else {
        text
    }
}

/// An error and its causes on one line, `outer: cause: root`, leaving out a
/// cause whose text the line already holds: errors that show their source
/// in their own message would otherwise print it twice. `chain` is the error
/// followed by its sources (`anyhow::Error::chain`, or
/// `std::iter::successors(Some(e), |e| e.source())`).
pub fn error_line<'a>(
    chain: impl IntoIterator<Item = &'a (dyn std::error::Error + 'static)>,
) -> String {
    let mut line = String::new();
    for c in chain {
        let text = c.to_string();
        if line.is_empty() {
            line = text;
        } else if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(e: &(dyn std::error::Error + 'static)) -> String {
        error_line(std::iter::successors(Some(e), |e| e.source()))
    }

    #[test]
    fn an_os_error_in_the_message_and_as_source_is_printed_once() {
        let e = KnloadError::Io {
            path: "/x/body".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let text = line(&e);
        assert_eq!(text.matches("not found").count(), 1, "{text}");
        assert!(text.starts_with("/x/body: "), "{text}");
        let e = KnloadError::Unreachable {
            target: "127.0.0.1:1".into(),
            source: RequestError::ConnectRefused,
        };
        assert_eq!(line(&e), "cannot reach 127.0.0.1:1: connection refused");
    }

    #[test]
    fn a_cause_not_in_the_message_is_kept() {
        let e = anyhow::Error::new(std::io::Error::other("disk full")).context("writing r.json");
        assert_eq!(error_line(e.chain()), "writing r.json: disk full");
    }

    #[test]
    fn long_values_are_cut_with_their_length() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(5000);
        let c = clip(&long);
        assert!(c.ends_with("... (5000 characters)"), "{c}");
        assert_eq!(
            c.chars().count(),
            CLIP_CHARS + "... (5000 characters)".len()
        );
    }
}
