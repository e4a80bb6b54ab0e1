//! The pull-request comment: the plan as markdown, under a hidden marker that identifies it, cut
//! down in steps when it would exceed GitHub's size limit. Pure: posting is `github`'s job.

use std::collections::BTreeSet;

use crate::mask::Masked;
use crate::model::{Plan, PlanStatus, StackPlan};
use crate::render::markdown::{self, MarkdownOptions};

/// GitHub rejects a comment body longer than this many characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// The hidden first line of cfdeploy's comment for one config: one comment per pull request and
/// config, found again by this exact line.
pub fn marker(config: &str) -> String {
    // Only `--`, `<` and `>` could end the HTML comment early.
    let config = config.replace("--", "__").replace(['<', '>'], "_");
    format!("<!-- cfdeploy-plan config={config} -->")
}

/// What the footer says about where the plan came from and how it is applied.
#[derive(Debug, Clone, Default)]
pub struct Footer {
    pub commit: Option<String>,
    /// The command that applies the plan after merge.
    pub apply_command: String,
    /// The deploy order as Mermaid, when the fleet's stacks depend on each other.
    pub graph: Option<String>,
}

impl Footer {
    /// The footer of the comment for `config`, planned at `commit`.
    pub fn new(config: &str, commit: Option<String>) -> Footer {
        Footer {
            commit,
            apply_command: format!("cfdeploy apply --config {config}"),
            graph: None,
        }
    }
}

/// The comment body, at most `limit` characters, for a fleet of any size. Over the limit it
/// degrades in steps, each stated in the body: template diffs go, then property values, then the
/// resource tables of the largest stacks, then every stack's details, then the summary table is
/// cut to the rows that fit (the rest counted). The full plan is in the job summary. Each step is
/// a constant number of renderings, so the work grows linearly with the plan.
pub fn body(plan: &Masked<Plan>, config: &str, footer: &Footer, limit: usize) -> String {
    let mut options = MarkdownOptions {
        marker: Some(marker(config)),
        ..MarkdownOptions::default()
    };
    let mut left_out: Vec<String> = Vec::new();
    let render = |options: &mut MarkdownOptions, left_out: &[String]| {
        options.footer = Some(footer_text(plan, footer, left_out));
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = markdown::plan_with(&mut out, plan, options);
        String::from_utf8_lossy(&out).into_owned()
    };
    let length = |text: &str| text.chars().count();

    let text = render(&mut options, &left_out);
    if length(&text) <= limit {
        return text;
    }
    // What goes first is what the comment can best do without (said only when there were any).
    options.console_links = false;
    if length(&render(&mut options, &left_out)) < length(&text) {
        left_out.push("links to the console".to_string());
        let text = render(&mut options, &left_out);
        if length(&text) <= limit {
            return text;
        }
    }
    options.template_diffs = false;
    left_out.push("template diffs".to_string());
    let text = render(&mut options, &left_out);
    if length(&text) <= limit {
        return text;
    }
    options.property_values = false;
    left_out.push("property values".to_string());
    let text = render(&mut options, &left_out);
    if length(&text) <= limit {
        return text;
    }

    // What leaving out each stack's resource table saves, measured once per stack.
    let details_length = |s: &StackPlan, options: &MarkdownOptions| {
        let mut out = Vec::new();
        let _ = markdown::stack_details(&mut out, s, options);
        String::from_utf8_lossy(&out).chars().count()
    };
    let mut savings: Vec<(usize, &str)> = plan
        .stacks
        .iter()
        .filter(|s| !s.changes.is_empty())
        .map(|s| {
            let without = MarkdownOptions {
                without_tables: BTreeSet::from([s.stack.clone()]),
                ..options.clone()
            };
            (
                details_length(s, &options).saturating_sub(details_length(s, &without)),
                s.stack.as_str(),
            )
        })
        .collect();
    savings.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    // Room for the note that names them.
    let mut over = length(&text).saturating_sub(limit) + 500;
    // Largest first, which is also the order they are named in.
    let mut dropped: Vec<String> = Vec::new();
    for (saving, stack) in savings {
        if over == 0 {
            break;
        }
        dropped.push(stack.to_string());
        over = over.saturating_sub(saving);
    }
    if !dropped.is_empty() {
        options.without_tables = dropped.iter().cloned().collect();
        let mut notes = left_out.clone();
        notes.push(format!("the resource tables of {}", list(&dropped)));
        let text = render(&mut options, &notes);
        if length(&text) <= limit {
            return text;
        }
    }
    options.details = false;
    options.without_tables = BTreeSet::new();
    left_out.push("the details of every stack".to_string());
    let text = render(&mut options, &left_out);
    if length(&text) <= limit {
        return text;
    }

    // The summary itself is too long: keep the rows that fit, first those a reviewer must see.
    left_out.push("the rows of the summary past those shown".to_string());
    options.max_rows = Some(0);
    options.max_unchanged = Some(0);
    let base = length(&render(&mut options, &left_out));
    let mut room = limit.saturating_sub(base + 200);
    let ordered = markdown::ordered(plan);
    let mut rows = 0;
    for s in ordered.iter().filter(|s| s.status != PlanStatus::NoChanges) {
        let row = markdown::summary_row(s).chars().count() + 1;
        if row > room {
            break;
        }
        room -= row;
        rows += 1;
    }
    let mut unchanged = 0;
    for s in ordered.iter().filter(|s| s.status == PlanStatus::NoChanges) {
        let name = s.stack.chars().count() + 4;
        if name > room {
            break;
        }
        room -= name;
        unchanged += 1;
    }
    options.max_rows = Some(rows);
    options.max_unchanged = Some(unchanged);
    render(&mut options, &left_out)
}

/// Stack names for a note, counted past the first ten.
fn list(names: &[String]) -> String {
    let mut shown: Vec<String> = names.iter().take(10).map(|n| format!("`{n}`")).collect();
    if names.len() > 10 {
        shown.push(format!("and {} more stacks", names.len() - 10));
    }
    shown.join(", ")
}

fn footer_text(plan: &Plan, footer: &Footer, left_out: &[String]) -> String {
    let mut text = String::new();
    if !left_out.is_empty() {
        text.push_str(&format!(
            "> [!NOTE]\n> Left out to fit GitHub's {GITHUB_COMMENT_LIMIT}-character comment limit: {}. The full plan is in this run's job summary.\n\n",
            left_out.join("; ")
        ));
    }
    if let Some(graph) = &footer.graph {
        text.push_str(&format!(
            "<details><summary>Deploy order</summary>\n\n```mermaid\n{graph}```\n\n</details>\n\n"
        ));
    }
    let commit = footer
        .commit
        .as_deref()
        .map(|c| {
            format!(
                "commit <code>{}</code> · ",
                markdown::escape(&c[..c.len().min(12)])
            )
        })
        .unwrap_or_default();
    text.push_str(&format!(
        "<sub>{commit}correlation id <code>{}</code> · applied after merge with <code>{}</code>; change sets of this plan are checked against the stacks before they run</sub>",
        markdown::escape(&plan.correlation_id),
        markdown::escape(&footer.apply_command)
    ));
    text
}

#[cfg(test)]
mod tests;
