//! GitHub-flavoured markdown for a pull request: a summary table, then each stack's details in
//! `<details>`. Every cell is escaped, so values cannot break the layout.

use std::collections::BTreeSet;
use std::io::{self, Write};

mod act_on;
mod details;

pub(crate) use details::stack_details;

use super::summary_line;
use crate::mask::Masked;
use crate::model::{Plan, PlanStatus, StackPlan};

/// Longest before/after value shown in a cell; the JSON plan has the whole value.
const MAX_VALUE_CHARS: usize = 200;

/// What a markdown plan includes; the pull-request comment leaves parts out to fit GitHub's size
/// limit.
#[derive(Debug, Clone)]
pub struct MarkdownOptions {
    /// Each change set linked to its page in the AWS console.
    pub console_links: bool,
    pub template_diffs: bool,
    pub property_values: bool,
    /// Stacks whose resource table is left out.
    pub without_tables: BTreeSet<String>,
    /// Per-stack details at all (the summary table is always there).
    pub details: bool,
    /// A hidden first line that identifies the comment.
    pub marker: Option<String>,
    /// Lines after everything else.
    pub footer: Option<String>,
    /// Rows of the summary table at most (the rest are counted in one line).
    pub max_rows: Option<usize>,
    /// Unchanged stacks named at most (the rest are counted).
    pub max_unchanged: Option<usize>,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            console_links: true,
            template_diffs: true,
            property_values: true,
            without_tables: BTreeSet::new(),
            details: true,
            marker: None,
            footer: None,
            max_rows: None,
            max_unchanged: None,
        }
    }
}

pub fn plan(out: &mut dyn Write, plan: &Masked<Plan>) -> io::Result<()> {
    plan_with(out, plan, &MarkdownOptions::default())
}

pub fn plan_with(
    out: &mut dyn Write,
    plan: &Masked<Plan>,
    options: &MarkdownOptions,
) -> io::Result<()> {
    let summary = plan.summary();
    if let Some(marker) = &options.marker {
        writeln!(out, "{marker}")?;
    }
    writeln!(out, "### cfdeploy plan")?;
    writeln!(out)?;
    writeln!(out, "**{}**", escape(&summary_line(&summary)))?;
    writeln!(out)?;
    if !plan.has_changes() && !plan.has_errors() {
        writeln!(out, "✅ Nothing to apply: every stack matches its config.")?;
        writeln!(out)?;
    }
    act_on::callouts(out, plan)?;

    let ordered = ordered(plan);
    let listed: Vec<&StackPlan> = ordered
        .iter()
        .copied()
        .filter(|s| s.status != PlanStatus::NoChanges)
        .collect();
    if !listed.is_empty() {
        writeln!(
            out,
            "| Stack | Region | Plan | Add | Modify | Replace | Remove |"
        )?;
        writeln!(out, "|---|---|---|--:|--:|--:|--:|")?;
        let shown = options.max_rows.unwrap_or(usize::MAX).min(listed.len());
        for s in &listed[..shown] {
            writeln!(out, "{}", summary_row(s))?;
        }
        if shown < listed.len() {
            writeln!(
                out,
                "| … {} more stacks: see the job summary | | | | | | |",
                listed.len() - shown
            )?;
        }
        writeln!(out)?;
    }
    let unchanged: Vec<&StackPlan> = ordered
        .iter()
        .copied()
        .filter(|s| s.status == PlanStatus::NoChanges)
        .collect();
    if !unchanged.is_empty() {
        let shown = options
            .max_unchanged
            .unwrap_or(usize::MAX)
            .min(unchanged.len());
        let mut names: Vec<String> = unchanged[..shown]
            .iter()
            .map(|s| format!("`{}`", code(&s.stack)))
            .collect();
        if shown < unchanged.len() {
            names.push(format!("and {} more", unchanged.len() - shown));
        }
        writeln!(out, "No changes: {}", names.join(", "))?;
        writeln!(out)?;
        // What an unchanged stack still has to say (drift, with --drift).
        for s in unchanged.iter().filter(|s| !s.warnings.is_empty()) {
            for warning in &s.warnings {
                writeln!(
                    out,
                    "> [!WARNING]\n> `{}`: {}\n",
                    code(&s.stack),
                    escape(warning)
                )?;
            }
        }
    }

    if options.details {
        for s in ordered.iter().filter(|s| s.status != PlanStatus::NoChanges) {
            stack_details(out, s, options)?;
        }
    }
    match &options.footer {
        Some(footer) => writeln!(out, "{footer}"),
        None => writeln!(
            out,
            "<sub>correlation id <code>{}</code></sub>",
            escape(&plan.correlation_id)
        ),
    }
}

/// The stacks in the order a reviewer must act on them: those that could not be planned, then
/// destructive changes, then replacements, then the rest.
pub(crate) fn ordered(plan: &Plan) -> Vec<&StackPlan> {
    let mut ordered: Vec<&StackPlan> = plan.stacks.iter().collect();
    ordered.sort_by_key(|s| match s.status {
        PlanStatus::Error | PlanStatus::Busy => 0,
        _ if s.destructive() > 0 => 1,
        _ if s.replacements() > 0 => 2,
        PlanStatus::Delete => 3,
        PlanStatus::Create | PlanStatus::Update => 4,
        PlanStatus::NotInConfig => 5,
        PlanStatus::Waiting => 6,
        PlanStatus::NoChanges => 7,
    });
    ordered
}

/// One row of the summary table.
pub(crate) fn summary_row(s: &StackPlan) -> String {
    let replace = s.replacements();
    format!(
        "| {} | {} | {} | {} | {} | {} | {} |",
        escape(&s.stack),
        escape(&s.region),
        status_label(s),
        s.count(&crate::model::Action::Add),
        s.count(&crate::model::Action::Modify) - replace,
        if replace > 0 {
            format!("**{replace}**")
        } else {
            "0".to_string()
        },
        s.count(&crate::model::Action::Remove),
    )
}

fn status_label(s: &StackPlan) -> &'static str {
    if s.destructive() > 0 {
        return match s.status {
            PlanStatus::Create => "⚠️ create (destructive)",
            PlanStatus::Delete => "⚠️ delete (destructive)",
            _ => "⚠️ update (destructive)",
        };
    }
    match s.status {
        PlanStatus::Create => "create",
        PlanStatus::Update => "update",
        PlanStatus::NoChanges => "no changes",
        PlanStatus::Busy => "⚠️ busy",
        PlanStatus::Error => "❌ error",
        PlanStatus::Waiting => "⏳ planned after its upstream is applied",
        PlanStatus::NotInConfig => "👻 not in config",
        PlanStatus::Delete => "🗑️ delete (left the config)",
    }
}
/// Text for a table cell or prose, made inert: table syntax, HTML, backticks and newlines are
/// escaped, and nothing GitHub would turn live can form — no @mention, no #123 or GH-123
/// reference, no link, image or autolinked URL (a word joiner, U+2060, breaks each).
pub fn escape(text: &str) -> String {
    const JOIN: char = '\u{2060}';
    let mut out = String::with_capacity(text.len());
    let mut previous = ' ';
    for ch in text.chars() {
        // `https://`, `www.`: break the scheme or the `www` so no autolink forms.
        if ch == '/' && previous == ':' || ch == '.' && out.ends_with("www") {
            out.push(JOIN);
        }
        previous = ch;
        match ch {
            '@' | '#' => {
                out.push(ch);
                out.push(JOIN);
            }
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '!' => out.push_str("\\!"),
            '-' if out.ends_with("GH") || out.ends_with("gh") => {
                out.push(JOIN);
                out.push('-');
            }
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' => out.push_str("\\`"),
            '*' => out.push_str("\\*"),
            '_' => out.push_str("\\_"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Text for inside a backtick code span in a table cell: a code span cannot hold a backtick or a
/// newline, and GitHub still splits cells on `|` inside one.
fn code(text: &str) -> String {
    text.replace('`', "'")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// A fenced block whose fence is longer than any backtick run in the content, so the content
/// cannot close it.
pub fn fenced(content: &str, info: &str) -> String {
    let longest = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let body = content.trim_end_matches('\n');
    format!("{fence}{info}\n{body}\n{fence}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(escape("a|b<script>`x`"), "a\\|b&lt;script&gt;\\`x\\`");
        assert_eq!(escape("two\nlines"), "two<br>lines");
    }

    #[test]
    fn a_fence_outlasts_backticks_in_the_content() {
        let f = fenced("```\nnot the end\n````", "diff");
        assert!(f.starts_with("`````diff\n"), "{f}");
        assert!(f.ends_with("\n`````\n"), "{f}");
    }
}
