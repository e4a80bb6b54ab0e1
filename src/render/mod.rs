//! Pure renderers from the model to a writer. Colour and width are decided once by the caller
//! and passed in, so the same plan always renders the same bytes.

pub mod deletion;
pub mod json;
pub mod markdown;
pub mod outcome;
pub mod outputs;
pub mod table;
mod text;

pub use text::{change_lines, cut_pair, new_table, one_line, truncate};
pub(crate) use text::{fit_column, visible_width, wrap, Fit, MAX_UNBROKEN_WORD};

use std::io::{self, Write};

use crate::mask::Masked;
use crate::model::{Plan, PlanSummary};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Markdown,
    Json,
}

pub(crate) const BOLD: anstyle::Style = anstyle::Style::new().bold();
pub(crate) const GREEN: anstyle::Style = anstyle::AnsiColor::Green.on_default();
pub(crate) const YELLOW: anstyle::Style = anstyle::AnsiColor::Yellow.on_default();
pub(crate) const RED: anstyle::Style = anstyle::AnsiColor::Red.on_default();
pub(crate) const RED_BOLD: anstyle::Style = anstyle::AnsiColor::Red.on_default().bold();
pub(crate) const DIM: anstyle::Style = anstyle::Style::new().dimmed();

/// `text` in `ansi` when the output takes colour; as it is otherwise.
pub(crate) fn paint(style: Style, ansi: anstyle::Style, text: &str) -> String {
    if style.color {
        format!("{}{text}{}", ansi.render(), ansi.render_reset())
    } else {
        text.to_string()
    }
}

/// How to draw for the current output: colour or not, and the width to fit (None: do not wrap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub color: bool,
    pub width: Option<u16>,
}

pub fn plan(
    out: &mut dyn Write,
    plan: &Masked<Plan>,
    format: Format,
    style: Style,
) -> io::Result<()> {
    match format {
        Format::Table => table::plan(out, plan, style),
        Format::Markdown => markdown::plan(out, plan),
        Format::Json => json::plan(out, plan),
    }
}

/// `3 stacks to change · 2 unchanged · 1 failed — 4 to add, 2 to modify, 1 to replace, 1 to remove`
pub fn summary_line(s: &PlanSummary) -> String {
    let mut stacks = Vec::new();
    let plural = |n: usize| if n == 1 { "stack" } else { "stacks" };
    if s.to_change > 0 || (s.unchanged == 0 && s.failed == 0 && s.busy == 0) {
        stacks.push(format!("{} {} to change", s.to_change, plural(s.to_change)));
    }
    if s.unchanged > 0 {
        stacks.push(format!("{} unchanged", s.unchanged));
    }
    if s.busy > 0 {
        stacks.push(format!("{} busy", s.busy));
    }
    if s.waiting > 0 {
        stacks.push(format!("{} waiting for an upstream", s.waiting));
    }
    if s.deleted > 0 {
        stacks.push(format!("{} left the config, to delete", s.deleted));
    }
    if s.not_in_config > 0 {
        stacks.push(format!(
            "{} not in config (plan --prune to delete)",
            s.not_in_config
        ));
    }
    if s.failed > 0 {
        stacks.push(format!("{} failed", s.failed));
    }
    let mut line = stacks.join(" · ");
    if s.to_change > 0 {
        let mut resources = vec![
            format!("{} to add", s.add),
            format!("{} to modify", s.modify),
            format!("{} to replace", s.replace),
            format!("{} to remove", s.remove),
        ];
        if s.import > 0 {
            resources.push(format!("{} to import", s.import));
        }
        line.push_str(" — ");
        line.push_str(&resources.join(", "));
        if s.destructive > 0 {
            line.push_str(&format!(" · ⚠ {} destructive", s.destructive));
        }
    }
    if s.warnings > 0 {
        line.push_str(&format!(
            " · {} warning{}",
            s.warnings,
            if s.warnings == 1 { "" } else { "s" }
        ));
    }
    line
}

/// A property value for a person: CloudFormation's marker for a value it learns while the change
/// set runs reads as what it means. (The JSON plan keeps the marker.)
pub fn shown_value(value: &str) -> String {
    if value == crate::model::KNOWN_AFTER_APPLY {
        "(known after apply)".to_string()
    } else {
        one_line(value)
    }
}

/// What happens to the old resource, in words (`PolicyAction`).
pub fn policy_words(action: &str) -> String {
    match action {
        "Delete" => "the resource is deleted".to_string(),
        "Retain" => "the resource is retained (kept, outside the stack)".to_string(),
        "Snapshot" => "a snapshot is taken, then the resource is deleted".to_string(),
        "ReplaceAndDelete" => "replaced; the old resource is deleted".to_string(),
        "ReplaceAndRetain" => "replaced; the old resource is retained".to_string(),
        "ReplaceAndSnapshot" => {
            "replaced; the old resource is snapshotted, then deleted".to_string()
        }
        other => format!("policy {other}"),
    }
}

/// One line per packaged artifact that changed, then how many did not.
pub fn artifact_lines(artifacts: &[crate::package::Artifact]) -> Vec<String> {
    let mut lines: Vec<String> = artifacts
        .iter()
        .filter(|a| a.changed)
        .map(|a| {
            format!(
                "artifact {} ({} {}) changed → {}",
                a.path, a.resource, a.property, a.location
            )
        })
        .collect();
    let unchanged = artifacts.iter().filter(|a| !a.changed).count();
    if unchanged > 0 {
        lines.push(format!(
            "{unchanged} artifact{} unchanged",
            if unchanged == 1 { "" } else { "s" }
        ));
    }
    lines
}

/// What a stack of a fleet that left the config is, for a reviewer.
pub fn left_note(s: &crate::model::StackPlan) -> Option<String> {
    use crate::model::PlanStatus;
    match s.status {
        PlanStatus::NotInConfig => Some(format!(
            "deployed as part of the fleet of {}, but no file of the config declares it any more; `plan --prune` plans its deletion",
            s.source
        )),
        PlanStatus::Delete => Some(format!(
            "left the config (fleet of {}): apply deletes the whole stack",
            s.source
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_each_kind_of_stack_and_resource() {
        let s = PlanSummary {
            to_change: 3,
            unchanged: 2,
            failed: 1,
            add: 4,
            modify: 2,
            replace: 1,
            remove: 1,
            ..PlanSummary::default()
        };
        assert_eq!(
            summary_line(&s),
            "3 stacks to change · 2 unchanged · 1 failed — 4 to add, 2 to modify, 1 to replace, 1 to remove"
        );
        let nothing = PlanSummary {
            unchanged: 4,
            ..PlanSummary::default()
        };
        assert_eq!(summary_line(&nothing), "4 unchanged");
    }
}

#[cfg(test)]
pub(crate) mod tests_snapshots;
