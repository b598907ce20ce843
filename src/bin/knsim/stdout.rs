//! Standard output that tolerates a reader going away.
//!
//! `knsim run … | head` closes the pipe after a few lines, and `print!`
//! panics on the next write. The results are files, written atomically and
//! independent of what is printed, so a closed pipe only ends the printing:
//! the command carries on (plots still get written) and keeps its exit code.
//! Any other write failure, such as a full disk behind a redirection, is an
//! error like a failed file write.

use anyhow::Context;
use std::io::{self, Write};

/// Writes `text` to standard output; a closed pipe is ignored.
pub fn write(text: &str) -> anyhow::Result<()> {
    let mut s = io::stdout().lock();
    match s.write_all(text.as_bytes()).and_then(|()| s.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to standard output"),
    }
}

/// `print!` that returns an `anyhow::Result` instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write(&format!($($arg)*))
    };
}

/// `println!` that returns an `anyhow::Result` instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::stdout::write(&format!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};
