//! One function per subcommand: the context and its arguments in, an operation, a rendering,
//! and an exit status out.

pub mod apply;
pub mod comment;
pub mod events;
pub mod plan;
pub mod rollback;

use std::io::{self, Write};
use std::sync::Arc;

use anyhow::Result;

use crate::exit::Exit;
use crate::progress::{Progress, ProgressMode};

/// Writes to stdout; a reader that went away (`| head`) is not an error.
pub fn write_stdout(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    match f(&mut lock).and_then(|()| lock.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Writes to stderr (for results that must keep stdout for NDJSON).
pub fn write_stderr(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let mut lock = io::stderr().lock();
    match f(&mut lock).and_then(|()| lock.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Keeps a live progress display ticking (elapsed times) until aborted.
pub fn redraw_ticker(progress: Arc<Progress>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if progress.mode() != ProgressMode::Live {
            return;
        }
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            progress.redraw();
        }
    })
}

/// A line for the person watching, on stderr. A closed or full stderr never stops cfdeploy or
/// changes what happens to stacks: the line is dropped.
pub fn say(line: &str) {
    let _ = writeln!(
        io::stderr().lock(),
        "{}",
        crate::logging::stderr_line("INFO", line)
    );
}

/// A usage error found after parsing (a combination of flags that cannot work): said like clap's
/// own, with exit 64.
pub fn usage(message: &str) -> Result<Exit> {
    say(&format!("error: {message}"));
    Ok(Exit::Usage)
}

/// `1 stack` / `3 stacks`.
pub fn stacks(n: usize) -> String {
    format!("{n} stack{}", if n == 1 { "" } else { "s" })
}
