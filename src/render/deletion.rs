//! What `cfdeploy delete` will do, before it does it: per stack, each resource that goes and
//! each that stays (and why), or why the stack will not be deleted.

use std::io::{self, Write};

use super::{paint, wrap, Style, BOLD, DIM, GREEN, RED, RED_BOLD};
use crate::delete::{self, Deletion, Fate};
use crate::mask::Masked;

pub fn plan(
    out: &mut dyn Write,
    deletions: &Masked<Vec<Deletion>>,
    style: Style,
) -> io::Result<()> {
    let going = deletions.iter().filter(|d| d.goes()).count();
    writeln!(
        out,
        "{}",
        paint(
            style,
            BOLD,
            &format!(
                "Delete {} of {} stack{}:",
                going,
                deletions.len(),
                if deletions.len() == 1 { "" } else { "s" }
            )
        )
    )?;
    for d in deletions.iter() {
        let status = d.status.as_ref().map(|s| s.as_str()).unwrap_or("absent");
        writeln!(
            out,
            "\n{} {}",
            paint(style, BOLD, &d.stack),
            paint(style, DIM, &format!("({}, {status})", d.region))
        )?;
        if !d.goes() {
            let why = delete::not_executed(d).message.unwrap_or_default();
            let mark = if d.refusal == Some(delete::Refusal::Absent) {
                paint(style, DIM, "· not deleted:")
            } else {
                paint(style, RED_BOLD, "✗ not deleted:")
            };
            writeln!(
                out,
                "  {}",
                wrap(&format!("{mark} {why}"), style.width, 4).trim_start()
            )?;
        }
        let width = d
            .resources
            .iter()
            .map(|r| r.logical_id.chars().count())
            .max()
            .unwrap_or(0);
        let type_width = d
            .resources
            .iter()
            .map(|r| r.resource_type.chars().count())
            .max()
            .unwrap_or(0);
        for r in &d.resources {
            let (mark, note) = match &r.fate {
                Fate::Deleted => (paint(style, RED, "-"), String::new()),
                Fate::Snapshot => (
                    paint(style, RED, "-"),
                    "deleted after a snapshot (DeletionPolicy Snapshot)".to_string(),
                ),
                Fate::Retained(policy) => (
                    paint(style, GREEN, "="),
                    format!("kept (DeletionPolicy {policy})"),
                ),
                Fate::KeptOnRequest => (paint(style, GREEN, "="), "kept (--retain)".to_string()),
            };
            let warn = r
                .destructive
                .as_ref()
                .map(|_| paint(style, RED_BOLD, "  ⚠ stateful"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {mark} {:width$}  {:type_width$}  {}{warn}",
                r.logical_id,
                r.resource_type,
                paint(style, DIM, &note)
            )?;
        }
        if d.goes() && d.resources.is_empty() {
            writeln!(out, "  (no resources)")?;
        }
    }
    Ok(())
}
