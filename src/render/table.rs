//! The terminal rendering: a header and a resource table per stack, the parameter and template
//! diffs, and one summary line.

use std::io::{self, Write};

use super::{paint, summary_line, Style, BOLD, DIM, GREEN, RED, RED_BOLD, YELLOW};
use crate::mask::Masked;
use crate::model::{Plan, PlanStatus, StackPlan};

mod resources;

use resources::{changes_stacked, resource_table, table_fits};

pub fn plan(out: &mut dyn Write, plan: &Masked<Plan>, style: Style) -> io::Result<()> {
    for stack in &plan.stacks {
        stack_section(out, stack, style)?;
        writeln!(out)?;
    }
    let summary = plan.summary();
    let line = super::wrap(
        &format!("{} {}", paint(style, BOLD, "Plan:"), summary_line(&summary)),
        style.width,
        2,
    );
    writeln!(out, "{line}")?;
    writeln!(
        out,
        "{}",
        paint(
            style,
            DIM,
            &format!("correlation id {}", plan.correlation_id)
        )
    )
}

fn warnings(out: &mut dyn Write, stack: &StackPlan, style: Style) -> io::Result<()> {
    for warning in &stack.warnings {
        let text = format!("  ⚠ {warning}");
        writeln!(
            out,
            "{}",
            paint(style, YELLOW, &super::wrap(&text, style.width, 4))
        )?;
    }
    Ok(())
}

fn stack_section(out: &mut dyn Write, stack: &StackPlan, style: Style) -> io::Result<()> {
    let (label, color) = match stack.status {
        PlanStatus::Create => ("CREATE", GREEN),
        PlanStatus::Update => ("UPDATE", YELLOW),
        PlanStatus::NoChanges => ("no changes", DIM),
        PlanStatus::Busy => ("busy", RED),
        PlanStatus::Error => ("error", RED_BOLD),
        PlanStatus::Waiting => ("waiting", YELLOW),
        PlanStatus::NotInConfig => ("not in config", YELLOW),
        PlanStatus::Delete => ("DELETE (left the config)", RED),
    };
    writeln!(
        out,
        "{}  {}  {}",
        paint(style, BOLD, &stack.stack),
        stack.region,
        paint(style, color, label)
    )?;
    if let Some(error) = &stack.error {
        // An error may hold lines of its own (a hint under the cause); each is wrapped.
        for line in error.lines() {
            let wrapped = super::wrap(&format!("  {line}"), style.width, 4);
            let color = if stack.status == PlanStatus::Waiting {
                YELLOW
            } else {
                RED
            };
            writeln!(out, "{}", paint(style, color, &wrapped))?;
        }
        writeln!(
            out,
            "  {}",
            paint(style, DIM, &format!("in {}", stack.source))
        )?;
        return Ok(());
    }
    if let Some(note) = super::left_note(stack) {
        let wrapped = super::wrap(&format!("  {note}"), style.width, 4);
        writeln!(out, "{}", paint(style, YELLOW, &wrapped))?;
    }
    if !stack.status.has_changes() {
        // An unchanged stack can still have something to say (drift, with --drift).
        return warnings(out, stack, style);
    }
    if let Some(name) = &stack.change_set_name {
        writeln!(
            out,
            "  {}",
            paint(style, DIM, &format!("change set {name}"))
        )?;
    }
    for line in super::artifact_lines(&stack.artifacts) {
        writeln!(
            out,
            "{}",
            paint(
                style,
                DIM,
                &super::wrap(&format!("  {line}"), style.width, 4)
            )
        )?;
    }
    for c in &stack.changes {
        if let Some(drift) = &c.drift {
            let text = format!(
                "  ≠ drifted: {} {drift}; its before-values are the template's, not what is deployed",
                c.logical_id
            );
            writeln!(
                out,
                "{}",
                paint(style, YELLOW, &super::wrap(&text, style.width, 4))
            )?;
        }
    }
    warnings(out, stack, style)?;
    for reason in stack
        .changes
        .iter()
        .filter_map(|c| c.destructive.as_deref())
    {
        let allowed = if stack.allow_destructive {
            " (allowed for this stack)"
        } else {
            ""
        };
        let text = super::wrap(
            &format!("  ⚠ destructive: {reason}{allowed}"),
            style.width,
            4,
        );
        for line in text.lines() {
            writeln!(out, "{}", paint(style, RED_BOLD, line))?;
        }
    }
    if !stack.changes.is_empty() && !table_fits(&stack.changes, style) {
        changes_stacked(out, &stack.changes, style)?;
    } else if !stack.changes.is_empty() {
        let (table, moved) = resource_table(stack, style);
        writeln!(out, "{table}")?;
        if !moved.is_empty() {
            // Physical ids that did not fit the table, whole, under it.
            writeln!(out, "  {}", paint(style, BOLD, "Physical IDs"))?;
            let width = moved
                .iter()
                .map(|(id, _)| id.chars().count())
                .max()
                .unwrap_or(0);
            for (logical, physical) in &moved {
                writeln!(out, "    {logical:width$}  {physical}")?;
            }
        }
    } else if !stack.tags.is_empty() && stack.parameters.is_empty() {
        writeln!(out, "  no resource changes (stack tags only)")?;
    } else {
        writeln!(
            out,
            "  no resource changes (parameters, tags or outputs only)"
        )?;
    }
    if !stack.parameters.is_empty() {
        writeln!(out, "  {}", paint(style, BOLD, "Parameters"))?;
        let width = stack
            .parameters
            .iter()
            .map(|p| p.key.len())
            .max()
            .unwrap_or(0);
        for p in &stack.parameters {
            let old = p.old.as_deref().unwrap_or("(none)");
            let new = p.new.as_deref().unwrap_or("(removed)");
            writeln!(out, "    {:width$}  {old} → {new}", p.key)?;
        }
    }
    if !stack.tags.is_empty() {
        writeln!(out, "  {}", paint(style, BOLD, "Stack tags"))?;
        let width = stack.tags.iter().map(|t| t.key.len()).max().unwrap_or(0);
        for t in &stack.tags {
            let old = t.old.as_deref().unwrap_or("(none)");
            let new = t.new.as_deref().unwrap_or("(removed)");
            writeln!(out, "    {:width$}  {old} → {new}", t.key)?;
        }
    }
    if let Some(diff) = &stack.template_diff {
        writeln!(out, "  {}", paint(style, BOLD, "Template"))?;
        for line in diff.lines() {
            let colored = if line.starts_with("+++") || line.starts_with("---") {
                paint(style, BOLD, line)
            } else if line.starts_with('+') {
                paint(style, GREEN, line)
            } else if line.starts_with('-') {
                paint(style, RED, line)
            } else if line.starts_with("@@") {
                paint(style, DIM, line)
            } else {
                line.to_string()
            };
            writeln!(out, "    {colored}")?;
        }
    }
    Ok(())
}
