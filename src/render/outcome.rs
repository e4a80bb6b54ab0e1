//! Rendering of apply / rollback results and of diagnoses: a table of outcomes with a summary
//! line, and for each failed stack its root cause first, the tail of its events, its final status
//! and what to do next.

use std::io::{self, Write};

use comfy_table::Cell;
use serde_json::{json, Value};

use super::{fit_column, new_table, paint, visible_width, wrap, Fit, Style, BOLD, GREEN, RED_BOLD};
use crate::mask::Masked;
use crate::model::{Diagnosis, Family, Outcome, OutcomeKind, StackEvent, StackOutputs};

mod rows;

use rows::outcome_rows;

/// The table of outcomes, each failure's diagnosis, and the summary line.
/// What makes two diagnoses the same failure: the final status and the root causes (resource,
/// type, status, reason with the stack's own name taken out); `None` without a root cause.
fn same_cause_key(d: &Diagnosis) -> Option<String> {
    if d.root_causes.is_empty() {
        return None;
    }
    let causes: Vec<String> = d
        .root_causes
        .iter()
        .map(|e| {
            format!(
                "{}|{}|{}|{}",
                e.logical_id,
                e.resource_type,
                e.status,
                e.reason.as_deref().unwrap_or("").replace(&d.stack, "\u{0}")
            )
        })
        .collect();
    Some(format!("{}\n{}", d.status, causes.join("\n")))
}

pub fn outcomes(
    out: &mut dyn Write,
    outcomes: &Masked<Vec<Outcome>>,
    style: Style,
) -> io::Result<()> {
    // A failure that repeats across a fleet is explained once, then the other stacks it hit are
    // named under it.
    let diagnoses: Vec<&Diagnosis> = outcomes
        .iter()
        .filter_map(|o| o.diagnosis.as_ref())
        .collect();
    let keys: Vec<Option<String>> = diagnoses.iter().map(|d| same_cause_key(d)).collect();
    for (i, d) in diagnoses.iter().enumerate() {
        if keys[i].is_some() && keys[..i].contains(&keys[i]) {
            continue;
        }
        diagnosis_text(out, d, style)?;
        let same: Vec<&str> = (i + 1..diagnoses.len())
            .filter(|&j| keys[i].is_some() && keys[j] == keys[i])
            .map(|j| diagnoses[j].stack.as_str())
            .collect();
        if !same.is_empty() {
            let text = format!(
                "The same root cause failed {} more stack{}: {} (`cfdeploy events STACK` shows each).",
                same.len(),
                if same.len() == 1 { "" } else { "s" },
                same.join(", ")
            );
            writeln!(out, "{}", wrap(&text, style.width, 0))?;
        }
        writeln!(out)?;
    }
    outcome_rows(out, outcomes, style)?;
    let with_outputs = outcomes.map(|all| {
        all.iter()
            .filter(|o| !o.outputs.is_empty())
            .map(|o| StackOutputs {
                stack: o.stack.clone(),
                region: o.region.clone(),
                outputs: o.outputs.clone(),
                error: None,
            })
            .collect::<Vec<_>>()
    });
    if !with_outputs.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", paint(style, BOLD, "Outputs"))?;
        super::outputs::table(out, &with_outputs, style)?;
        writeln!(out)?;
    }
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
pub fn diagnosis(out: &mut dyn Write, d: &Masked<Diagnosis>, style: Style) -> io::Result<()> {
    diagnosis_text(out, d, style)
}

fn diagnosis_text(out: &mut dyn Write, d: &Diagnosis, style: Style) -> io::Result<()> {
    // ✓ only for a stack whose last operation succeeded; ✗ for one that failed or rolled back;
    // a plain mark for one in progress, in review, deleted or unknown.
    let failed = d.status.is_failure() || d.status.family() == Family::RolledBack;
    let mark = if failed {
        paint(style, RED_BOLD, &format!("✗ {}", d.stack))
    } else if d.status.family() == Family::Complete {
        paint(style, GREEN, &format!("✓ {}", d.stack))
    } else {
        format!("• {}", d.stack)
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
            let header = format!(
                "    {} ({}{physical}) {}",
                e.logical_id, e.resource_type, e.status
            );
            writeln!(out, "{}", wrap(&header, style.width, 6))?;
            if let Some(reason) = &e.reason {
                // The reason starts at column 6 and wraps back to it.
                let text = format!("      {reason}");
                writeln!(out, "{}", wrap(&text, style.width, 6))?;
            }
        }
    }
    for nested in &d.nested {
        writeln!(out, "  Nested stack {} ({}):", nested.stack, nested.status)?;
        for e in &nested.root_causes {
            let text = format!(
                "    {} ({}) {}: {}",
                e.logical_id,
                e.resource_type,
                e.status,
                e.reason.as_deref().unwrap_or_default()
            );
            writeln!(out, "{}", wrap(&text, style.width, 6))?;
        }
        if nested.root_causes.is_empty() {
            writeln!(out, "    No failed resource in its events.")?;
        }
        writeln!(
            out,
            "{}",
            wrap(&format!("    {}", nested.next_step), style.width, 4)
        )?;
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
        let headers = ["Time", "Logical ID", "Type", "Status", "Reason"];
        let rows: Vec<[String; 5]> = d
            .tail
            .iter()
            .map(|e| {
                [
                    e.timestamp.get(11..19).unwrap_or(&e.timestamp).to_string(),
                    e.logical_id.clone(),
                    e.resource_type.clone(),
                    if e.is_failure() {
                        paint(style, RED_BOLD, e.status.as_str())
                    } else {
                        e.status.to_string()
                    },
                    e.reason.clone().unwrap_or_default(),
                ]
            })
            .collect();
        let widths: Vec<usize> = (0..4)
            .map(|i| {
                rows.iter()
                    .map(|r| visible_width(&r[i]))
                    .chain([headers[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        // Whole identifiers, a reason column of at least 20, borders and the indent.
        let boxed_width = widths.iter().map(|w| w + 3).sum::<usize>() + 20 + 4 + 2;
        let aligned_width = widths.iter().map(|w| w + 2).sum::<usize>() + 2;
        let width = style.width.map(usize::from);
        if width.is_some_and(|w| w < aligned_width) {
            events_stacked(out, &rows, style)?;
        } else if width.is_some_and(|w| w < boxed_width) {
            events_aligned(out, &headers, &rows, &widths, style)?;
        } else {
            let mut table = new_table(style.width.map(|w| w.saturating_sub(2)));
            table.set_header(headers.map(|h| Cell::new(paint(style, BOLD, h))));
            for row in &rows {
                table.add_row(row.clone());
            }
            for (i, header) in headers.iter().enumerate() {
                let cells: Vec<String> = rows.iter().map(|r| r[i].clone()).collect();
                let fit = if i == 4 {
                    Fit::BetweenWords { room: None }
                } else {
                    Fit::Whole
                };
                fit_column(&mut table, i, header, &cells, fit);
            }
            for line in table.to_string().lines() {
                writeln!(out, "  {line}")?;
            }
        }
    }
    let next = wrap(&format!("  Next: {}", d.next_step), style.width, 8);
    let next = next.replacen("Next:", &paint(style, BOLD, "Next:"), 1);
    writeln!(out, "{next}")?;
    Ok(())
}

/// The events one after the other, for a terminal too narrow even for aligned columns: each
/// event's time and status, then what it is about, then its reason, wrapped between words.
fn events_stacked(out: &mut dyn Write, rows: &[[String; 5]], style: Style) -> io::Result<()> {
    for row in rows {
        writeln!(
            out,
            "{}",
            wrap(&format!("  {}  {}", row[0], row[3]), style.width, 4)
        )?;
        let about = format!("    {} ({})", row[1], row[2]);
        writeln!(out, "{}", wrap(&about, style.width, 4))?;
        if !row[4].is_empty() {
            writeln!(out, "{}", wrap(&format!("    {}", row[4]), style.width, 4))?;
        }
    }
    Ok(())
}

/// The events as aligned columns without borders, each reason on its own indented line: for a
/// terminal too narrow for the boxed table, so that no identifier is split.
fn events_aligned(
    out: &mut dyn Write,
    headers: &[&str; 5],
    rows: &[[String; 5]],
    widths: &[usize],
    style: Style,
) -> io::Result<()> {
    let pad = |text: &str, width: usize| {
        let fill = width.saturating_sub(visible_width(text));
        format!("{text}{}", " ".repeat(fill))
    };
    let head: Vec<String> = (0..4).map(|i| pad(headers[i], widths[i])).collect();
    writeln!(out, "  {}", paint(style, BOLD, head.join("  ").trim_end()))?;
    for row in rows {
        let cells: Vec<String> = (0..4).map(|i| pad(&row[i], widths[i])).collect();
        writeln!(out, "  {}", cells.join("  ").trim_end())?;
        if !row[4].is_empty() {
            let indent = widths[0] + 4;
            let text = format!("{}{}", " ".repeat(indent), row[4]);
            writeln!(out, "{}", wrap(&text, style.width, indent))?;
        }
    }
    Ok(())
}

fn event_json(e: &StackEvent) -> Value {
    json!({
        "timestamp": e.timestamp,
        "logical_id": e.logical_id,
        "physical_id": e.physical_id,
        "resource_type": e.resource_type,
        "status": e.status.as_str(),
        "reason": e.reason,
    })
}

/// The JSON of one diagnosis (`events --format json`, and inside the outcomes).
pub fn diagnosis_json(d: &Masked<Diagnosis>) -> Value {
    diagnosis_value(d)
}

fn diagnosis_value(d: &Diagnosis) -> Value {
    json!({
        "stack": d.stack,
        "status": d.status.as_str(),
        "root_causes": d.root_causes.iter().map(event_json).collect::<Vec<_>>(),
        "events": d.tail.iter().map(event_json).collect::<Vec<_>>(),
        "nested": d.nested.iter().map(diagnosis_value).collect::<Vec<_>>(),
        "next_step": d.next_step,
    })
}

/// The JSON document of an apply or rollback run (schema version 1, in the README).
pub fn outcomes_json(
    kind: &str,
    correlation_id: &str,
    outcomes: &Masked<Vec<Outcome>>,
    exit_code: u8,
) -> Value {
    json!({
        "version": 1,
        "kind": kind,
        "correlation_id": correlation_id,
        "stacks": outcomes.iter().map(|o| json!({
            "stack": o.stack,
            "region": o.region,
            "result": o.kind.key(),
            "status": o.status.as_ref().map(|s| s.as_str()),
            "duration_seconds": (o.seconds * 10.0).round() / 10.0,
            "message": o.message,
            "diagnosis": o.diagnosis.as_ref().map(diagnosis_value),
            "outputs": o.outputs,
        })).collect::<Vec<_>>(),
        "summary": summary_line(outcomes),
        "exit_code": exit_code,
    })
}

#[cfg(test)]
mod tests;
