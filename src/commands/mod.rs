//! One function per subcommand: the context and its arguments in, an operation, a rendering,
//! and an exit status out.

pub mod apply;
pub mod comment;
pub mod definitions;
pub mod delete;
pub mod engine;
pub mod events;
pub mod graph;
pub mod outputs;
pub mod plan;
pub mod rollback;
pub mod show;
pub mod validate;

use std::io::{self, Write};
use std::sync::Arc;

use anyhow::Result;

use crate::context::Context;
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

/// A saved plan, read through the strict, bounded reader, narrowed to the stacks `--stack`
/// selects; an empty result is an error that says what to `verb`.
pub fn saved_plan(ctx: &Context, path: &std::path::Path, verb: &str) -> Result<crate::model::Plan> {
    let mut plan = crate::planfile::read(path)?;
    let patterns: Vec<glob::Pattern> = ctx
        .global
        .stacks
        .iter()
        .map(|s| {
            glob::Pattern::new(s)
                .map_err(|e| anyhow::anyhow!("--stack `{s}` is not a valid glob: {e}"))
        })
        .collect::<Result<_>>()?;
    plan.stacks
        .retain(|s| patterns.is_empty() || patterns.iter().any(|p| p.matches(&s.stack)));
    if plan.stacks.is_empty() {
        anyhow::bail!(
            "{}: no stack to {verb} (the plan is empty or --stack matched none of it)",
            path.display()
        );
    }
    Ok(plan)
}

/// `1 stack` / `3 stacks`.
pub fn stacks(n: usize) -> String {
    format!("{n} stack{}", if n == 1 { "" } else { "s" })
}

/// The outcomes of a run that changes stacks (`rollback`, `delete`) on stdout: the JSON document
/// with `kind`, or the diagnoses and results table.
pub fn report_outcomes(
    ctx: &Context,
    kind: &str,
    format: crate::cli::ReportFormat,
    outcomes: &crate::mask::Masked<Vec<crate::model::Outcome>>,
    exit: Exit,
) -> Result<()> {
    use crate::render::outcome;
    write_stdout(|out| match format {
        crate::cli::ReportFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&outcome::outcomes_json(
                kind,
                &ctx.run.correlation_id,
                outcomes,
                exit.code(),
            ))
            .unwrap_or_default()
        ),
        crate::cli::ReportFormat::Table => outcome::outcomes(out, outcomes, ctx.stdout),
    })
}

/// Asks `question` on the terminal; only `yes` is yes.
pub fn confirm(question: &str) -> Result<bool> {
    use std::io::BufRead;
    let mut err = std::io::stderr().lock();
    write!(err, "{question} Only 'yes' confirms: ")?;
    err.flush()?;
    drop(err);
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}
