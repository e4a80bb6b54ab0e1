//! The pull-request comment: the plan as markdown, under a hidden marker that identifies it, cut
//! down in steps when it would exceed GitHub's size limit. Pure: posting is `github`'s job.

use std::collections::BTreeSet;

use crate::mask::Masked;
use crate::model::Plan;
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
}

impl Footer {
    /// The footer of the comment for `config`, planned at `commit`.
    pub fn new(config: &str, commit: Option<String>) -> Footer {
        Footer {
            commit,
            apply_command: format!("cfdeploy apply --config {config}"),
        }
    }
}

/// The comment body, at most `limit` characters. Over the limit it degrades in steps: template
/// diffs go, then property values, then the resource tables of the largest stacks, one by one;
/// the summary table always stays whole, and the body says what was left out and where the full
/// plan is.
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
    let fits = |text: &str| text.chars().count() <= limit;

    let text = render(&mut options, &left_out);
    if fits(&text) {
        return text;
    }
    options.template_diffs = false;
    left_out.push("template diffs".to_string());
    let text = render(&mut options, &left_out);
    if fits(&text) {
        return text;
    }
    options.property_values = false;
    left_out.push("property values".to_string());
    let text = render(&mut options, &left_out);
    if fits(&text) {
        return text;
    }
    let mut largest: Vec<_> = plan
        .stacks
        .iter()
        .filter(|s| !s.changes.is_empty())
        .collect();
    largest.sort_by(|a, b| {
        b.changes
            .len()
            .cmp(&a.changes.len())
            .then(a.stack.cmp(&b.stack))
    });
    let mut dropped = BTreeSet::new();
    for stack in largest {
        dropped.insert(stack.stack.clone());
        options.without_tables = dropped.clone();
        let mut notes = left_out.clone();
        notes.push(format!("the resource tables of {}", list(&dropped)));
        let text = render(&mut options, &notes);
        if fits(&text) {
            return text;
        }
    }
    options.details = false;
    left_out.push("the details of every stack".to_string());
    render(&mut options, &left_out)
}

fn list(names: &BTreeSet<String>) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn footer_text(plan: &Plan, footer: &Footer, left_out: &[String]) -> String {
    let mut text = String::new();
    if !left_out.is_empty() {
        text.push_str(&format!(
            "> [!NOTE]\n> Left out to fit GitHub's {GITHUB_COMMENT_LIMIT}-character comment limit: {}. The full plan is in this run's job summary.\n\n",
            left_out.join("; ")
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
