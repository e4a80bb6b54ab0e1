//! Rendering of apply / rollback results and of diagnoses: a table of outcomes with a summary
//! line, and for each failed stack its root cause first, the tail of its events, its final status
//! and what to do next.

use std::io::{self, Write};

use comfy_table::Cell;
use serde_json::{json, Value};

use super::{new_table, paint, Style, BOLD, DIM, GREEN, RED_BOLD};
use crate::mask::Masker;
use crate::model::{Diagnosis, Outcome, OutcomeKind, StackEvent};

fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// The table of outcomes, each failure's diagnosis, and the summary line.
pub fn outcomes(
    out: &mut dyn Write,
    outcomes: &[Outcome],
    masker: &Masker,
    style: Style,
) -> io::Result<()> {
    for o in outcomes {
        if let Some(d) = &o.diagnosis {
            diagnosis(out, d, masker, style)?;
            writeln!(out)?;
        }
    }
    let mut table = new_table(style.width);
    let notes = outcomes.iter().any(|o| o.message.is_some());
    let headers: &[&str] = if notes {
        &["Stack", "Result", "Status", "Duration", "Note"]
    } else {
        &["Stack", "Result", "Status", "Duration"]
    };
    table.set_header(headers.iter().map(|h| Cell::new(paint(style, BOLD, h))));
    for o in outcomes {
        let result = if o.kind.succeeded() {
            paint(style, GREEN, o.kind.label())
        } else if o.kind == OutcomeKind::NotStarted {
            o.kind.label().to_string()
        } else {
            paint(style, RED_BOLD, o.kind.label())
        };
        let mut row = vec![
            o.stack.clone(),
            result,
            o.status.clone().unwrap_or_else(|| "-".to_string()),
            duration(o.seconds),
        ];
        if notes {
            row.push(
                o.message
                    .as_deref()
                    .map(|m| masker.scrub(m))
                    .unwrap_or_default(),
            );
        }
        table.add_row(row);
    }
    writeln!(out, "{table}")?;
    writeln!(out, "{}", summary_line(outcomes))
}

/// `2 created · 1 updated · 1 failed and rolled back`
pub fn summary_line(outcomes: &[Outcome]) -> String {
    let mut counts: Vec<(OutcomeKind, usize)> = Vec::new();
    for o in outcomes {
        match counts.iter_mut().find(|(k, _)| *k == o.kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((o.kind, 1)),
        }
    }
    if counts.is_empty() {
        return "nothing to do".to_string();
    }
    counts
        .iter()
        .map(|(k, n)| format!("{n} {}", k.label()))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// One stack's diagnosis: root cause first, then the tail of this operation's events.
pub fn diagnosis(
    out: &mut dyn Write,
    d: &Diagnosis,
    masker: &Masker,
    style: Style,
) -> io::Result<()> {
    let failed = d.status.contains("FAILED") || d.status.contains("ROLLBACK");
    let mark = if failed {
        paint(style, RED_BOLD, &format!("✗ {}", d.stack))
    } else {
        paint(style, GREEN, &format!("✓ {}", d.stack))
    };
    writeln!(out, "{mark} {}", d.status)?;
    if d.root_causes.is_empty() {
        if failed {
            writeln!(out, "  No failed resource in this operation's events.")?;
        }
    } else {
        writeln!(out, "  {}", paint(style, BOLD, "Root cause"))?;
        for e in &d.root_causes {
            let physical = e
                .physical_id
                .as_deref()
                .map(|p| format!(", {p}"))
                .unwrap_or_default();
            writeln!(
                out,
                "    {} ({}{physical}) {}",
                e.logical_id, e.resource_type, e.status
            )?;
            if let Some(reason) = &e.reason {
                writeln!(out, "      {}", masker.scrub(reason))?;
            }
        }
    }
    for nested in &d.nested {
        writeln!(out, "  Nested stack {}:", nested.stack)?;
        for e in &nested.root_causes {
            writeln!(
                out,
                "    {} ({}) {}: {}",
                e.logical_id,
                e.resource_type,
                e.status,
                e.reason
                    .as_deref()
                    .map(|r| masker.scrub(r))
                    .unwrap_or_default()
            )?;
        }
    }
    if !d.tail.is_empty() {
        writeln!(
            out,
            "  {}",
            paint(
                style,
                BOLD,
                &format!("Last {} events of this operation", d.tail.len())
            )
        )?;
        let mut table = new_table(style.width.map(|w| w.saturating_sub(2)));
        table.set_header(
            ["Time", "Logical ID", "Type", "Status", "Reason"]
                .map(|h| Cell::new(paint(style, BOLD, h))),
        );
        for e in &d.tail {
            table.add_row([
                e.timestamp.get(11..19).unwrap_or(&e.timestamp).to_string(),
                e.logical_id.clone(),
                e.resource_type.clone(),
                if e.is_failure() {
                    paint(style, RED_BOLD, &e.status)
                } else {
                    e.status.clone()
                },
                e.reason
                    .as_deref()
                    .map(|r| masker.scrub(r))
                    .unwrap_or_default(),
            ]);
        }
        for line in table.to_string().lines() {
            writeln!(out, "  {line}")?;
        }
    }
    writeln!(
        out,
        "  {} {}",
        paint(style, BOLD, "Next:"),
        paint(style, DIM, &d.next_step)
    )?;
    Ok(())
}

fn event_json(e: &StackEvent, masker: &Masker) -> Value {
    json!({
        "timestamp": e.timestamp,
        "logical_id": e.logical_id,
        "physical_id": e.physical_id,
        "resource_type": e.resource_type,
        "status": e.status,
        "reason": e.reason.as_deref().map(|r| masker.scrub(r)),
    })
}

pub fn diagnosis_json(d: &Diagnosis, masker: &Masker) -> Value {
    json!({
        "stack": d.stack,
        "status": d.status,
        "root_causes": d.root_causes.iter().map(|e| event_json(e, masker)).collect::<Vec<_>>(),
        "events": d.tail.iter().map(|e| event_json(e, masker)).collect::<Vec<_>>(),
        "nested": d.nested.iter().map(|n| diagnosis_json(n, masker)).collect::<Vec<_>>(),
        "next_step": d.next_step,
    })
}

/// The JSON document of an apply or rollback run (schema version 1, in the README).
pub fn outcomes_json(
    kind: &str,
    correlation_id: &str,
    outcomes: &[Outcome],
    exit_code: u8,
    masker: &Masker,
) -> Value {
    json!({
        "version": 1,
        "kind": kind,
        "correlation_id": correlation_id,
        "stacks": outcomes.iter().map(|o| json!({
            "stack": o.stack,
            "region": o.region,
            "result": o.kind.key(),
            "status": o.status,
            "duration_seconds": (o.seconds * 10.0).round() / 10.0,
            "message": o.message.as_deref().map(|m| masker.scrub(m)),
            "diagnosis": o.diagnosis.as_ref().map(|d| diagnosis_json(d, masker)),
        })).collect::<Vec<_>>(),
        "summary": summary_line(outcomes),
        "exit_code": exit_code,
    })
}
