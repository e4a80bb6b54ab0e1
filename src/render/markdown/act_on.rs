//! The callouts at the top of a markdown plan: what a reviewer must act on before reading any
//! table — stacks that could not be planned, and destructive stacks with what `apply` will do
//! about them after merge.

use std::io::{self, Write};

use super::{code, escape};
use crate::model::{Plan, PlanStatus, Replacement, StackPlan};

/// What a reviewer must act on, before any table: the stacks that could not be planned, and the
/// destructive ones with what `apply` will do about them after merge and how to allow them.
pub(super) fn callouts(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    let failed: Vec<&StackPlan> = plan
        .stacks
        .iter()
        .filter(|s| matches!(s.status, PlanStatus::Error | PlanStatus::Busy))
        .collect();
    if !failed.is_empty() {
        writeln!(
            out,
            "> [!CAUTION]\n> **{} could not be planned**; `apply` will not change {}:",
            stacks_word(failed.len()),
            if failed.len() == 1 { "it" } else { "them" }
        )?;
        for s in failed.iter().take(MAX_NAMED) {
            let reason = s
                .error
                .as_deref()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("");
            writeln!(
                out,
                "> - `{}` ({}): {}",
                code(&s.stack),
                escape(&s.region),
                escape(&crate::render::truncate(reason, 160))
            )?;
        }
        more(out, failed.len())?;
        writeln!(out)?;
    }
    let destructive: Vec<&StackPlan> = plan.stacks.iter().filter(|s| s.destructive() > 0).collect();
    let (allowed, refused): (Vec<&StackPlan>, Vec<&StackPlan>) =
        destructive.iter().partition(|s| s.allow_destructive);
    if !refused.is_empty() {
        writeln!(
            out,
            "> [!WARNING]\n> **{} would remove or replace stateful resources.** After merge, `apply` refuses {} (exit 3) and executes nothing for {}:",
            stacks_word(refused.len()),
            if refused.len() == 1 { "this stack" } else { "these stacks" },
            if refused.len() == 1 { "it" } else { "them" },
        )?;
        for s in refused.iter().take(MAX_NAMED) {
            let what = s
                .changes
                .iter()
                .filter(|c| c.destructive.is_some())
                .map(|c| {
                    let verb = match (&c.action, &c.replacement) {
                        (crate::model::Action::Modify, Some(Replacement::True)) => "replace",
                        (crate::model::Action::Modify, _) => "may replace",
                        _ => "remove",
                    };
                    format!("{verb} {}", c.logical_id)
                })
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(
                out,
                "> - `{}`: {} (declared in `{}`)",
                code(&s.stack),
                escape(&crate::render::truncate(&what, 160)),
                code(&s.source)
            )?;
        }
        more(out, refused.len())?;
        writeln!(
            out,
            ">\n> If the data may go, allow it: `allow_destructive: true` on the stack in its config, or `--allow-destructive` for one apply. Otherwise keep the resource: `UpdateReplacePolicy: Retain` (for a replacement) or `DeletionPolicy: Retain` (for a removal)."
        )?;
        writeln!(out)?;
    }
    if !allowed.is_empty() {
        writeln!(
            out,
            "> [!WARNING]\n> Allowed by config, `apply` will remove or replace stateful resources of {}.",
            allowed
                .iter()
                .take(MAX_NAMED)
                .map(|s| format!("`{}`", code(&s.stack)))
                .collect::<Vec<_>>()
                .join(", ")
                + &if allowed.len() > MAX_NAMED {
                    format!(" and {} more", allowed.len() - MAX_NAMED)
                } else {
                    String::new()
                }
        )?;
        writeln!(out)?;
    }
    Ok(())
}

/// Stacks named at most in a callout; the rest are counted.
const MAX_NAMED: usize = 10;

fn more(out: &mut dyn Write, total: usize) -> io::Result<()> {
    if total > MAX_NAMED {
        writeln!(out, "> - and {} more (see the table)", total - MAX_NAMED)?;
    }
    Ok(())
}

fn stacks_word(n: usize) -> String {
    if n == 1 {
        "1 stack".to_string()
    } else {
        format!("{n} stacks")
    }
}
