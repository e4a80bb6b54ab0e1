//! One stack's collapsible section in a markdown plan: its status, what to read first (errors,
//! drift, warnings, destructive changes), its resource changes, parameters, tags and template
//! diff.

use std::io::{self, Write};

use super::{code, escape, fenced, status_label, MarkdownOptions, MAX_VALUE_CHARS};
use crate::model::{Replacement, RequiresRecreation, StackPlan};

pub(crate) fn stack_details(
    out: &mut dyn Write,
    s: &StackPlan,
    options: &MarkdownOptions,
) -> io::Result<()> {
    // Open what a reviewer must read: a stack that failed to plan, a destructive change.
    let open = s.error.is_some() || (s.destructive() > 0 && !s.allow_destructive);
    writeln!(
        out,
        "<details{}><summary><b>{}</b> ({}) — {}</summary>",
        if open { " open" } else { "" },
        escape(&s.stack),
        escape(&s.region),
        status_label(s)
    )?;
    writeln!(out)?;
    if let Some(error) = &s.error {
        writeln!(out, "{}", fenced(error, ""))?;
        writeln!(out, "Declared in `{}`.", code(&s.source))?;
        writeln!(out)?;
        writeln!(out, "</details>")?;
        writeln!(out)?;
        return Ok(());
    }
    if let Some(note) = crate::render::left_note(s) {
        writeln!(out, "{}", escape(&note))?;
        writeln!(out)?;
        if !s.status.has_changes() {
            writeln!(out, "</details>")?;
            writeln!(out)?;
            return Ok(());
        }
    }
    let page = change_set_page(s).filter(|_| options.console_links);
    if let (Some(name), Some(url)) = (&s.change_set_name, page) {
        writeln!(out, "Change set [`{}`]({url})", code(name))?;
        writeln!(out)?;
    }
    let artifacts = crate::render::artifact_lines(&s.artifacts);
    if !artifacts.is_empty() {
        for line in artifacts {
            writeln!(out, "- {}", escape(&line))?;
        }
        writeln!(out)?;
    }
    for c in s.changes.iter().filter(|c| c.drift.is_some()) {
        writeln!(
            out,
            "> [!NOTE]\n> **Drifted:** `{}` {}; its before-values are the template's, not what is deployed.\n",
            escape(&c.logical_id),
            escape(c.drift.as_deref().unwrap_or_default())
        )?;
    }
    for warning in &s.warnings {
        writeln!(out, "> [!WARNING]\n> {}\n", escape(warning))?;
    }
    for reason in s.changes.iter().filter_map(|c| c.destructive.as_deref()) {
        let allowed = if s.allow_destructive {
            " (allowed for this stack)"
        } else {
            ""
        };
        writeln!(out, "⚠️ **Destructive:** {}{allowed}  ", escape(reason))?;
    }
    if s.destructive() > 0 {
        writeln!(out)?;
    }
    if options.without_tables.contains(&s.stack) {
        writeln!(
            out,
            "{} resource change{} (table left out to fit; see the job summary).",
            s.changes.len(),
            if s.changes.len() == 1 { "" } else { "s" }
        )?;
        writeln!(out)?;
    } else if s.changes.is_empty() {
        writeln!(
            out,
            "No resource changes (parameters, tags or outputs only)."
        )?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "| Action | Logical ID | Type | Physical ID | Replacement | Changes |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for c in &s.changes {
            let replacement = match &c.replacement {
                Some(Replacement::True) => "**True**".to_string(),
                Some(r) => r.as_str().to_string(),
                None => "-".to_string(),
            };
            let details = c
                .details
                .iter()
                .map(|d| {
                    let mut text = if options.property_values {
                        // Values in code spans (inert); paths and labels escaped.
                        crate::render::change_lines(d, MAX_VALUE_CHARS)
                            .iter()
                            .enumerate()
                            .map(|(i, line)| {
                                let (head, value) = line.split_once(": ").unwrap_or((line, ""));
                                let head = escape(head.trim_start());
                                let lead = if i == 0 { "" } else { "&nbsp;&nbsp;" };
                                match value.split_once(" → ") {
                                    _ if value.is_empty() => format!("{lead}{head}"),
                                    Some((b, a)) => {
                                        format!("{lead}{head}: `{}` → `{}`", code(b), code(a))
                                    }
                                    None => format!("{lead}{head}: `{}`", code(value)),
                                }
                            })
                            .collect::<Vec<_>>()
                            .join("<br>")
                    } else {
                        escape(&d.label())
                    };
                    match d.requires_recreation {
                        Some(RequiresRecreation::Always) => text.push_str(" **(replaces)**"),
                        Some(RequiresRecreation::Conditionally) => text.push_str(" (may replace)"),
                        _ => {}
                    }
                    if d.causes.len() > 1 {
                        text.push_str(&format!(" (because of {})", escape(&d.causes.join("; "))));
                    }
                    text
                })
                .chain(
                    c.policy_action
                        .as_deref()
                        .map(|p| escape(&crate::render::policy_words(p))),
                )
                .collect::<Vec<_>>()
                .join("<br>");
            writeln!(
                out,
                "| {}{} | {} | `{}` | {} | {} | {} |",
                c.action.as_str(),
                match (c.destructive.is_some(), c.drift.is_some()) {
                    (true, true) => " ⚠️ (drifted)",
                    (true, false) => " ⚠️",
                    (false, true) => " (drifted)",
                    (false, false) => "",
                },
                escape(&c.logical_id),
                code(&c.resource_type),
                c.physical_id
                    .as_deref()
                    .map(|p| format!("`{}`", code(p)))
                    .unwrap_or_else(|| "-".to_string()),
                replacement,
                details
            )?;
        }
        writeln!(out)?;
    }
    if !s.parameters.is_empty() {
        writeln!(out, "| Parameter | Before | After |")?;
        writeln!(out, "|---|---|---|")?;
        for p in &s.parameters {
            writeln!(
                out,
                "| {} | {} | {} |",
                escape(&p.key),
                p.old
                    .as_deref()
                    .map(|v| format!("`{}`", code(v)))
                    .unwrap_or_else(|| "(none)".to_string()),
                p.new
                    .as_deref()
                    .map(|v| format!("`{}`", code(v)))
                    .unwrap_or_else(|| "(removed)".to_string()),
            )?;
        }
        writeln!(out)?;
    }
    if !s.tags.is_empty() {
        writeln!(out, "| Stack tag | Before | After |")?;
        writeln!(out, "|---|---|---|")?;
        for t in &s.tags {
            writeln!(
                out,
                "| {} | {} | {} |",
                escape(&t.key),
                t.old
                    .as_deref()
                    .map(|v| format!("`{}`", code(v)))
                    .unwrap_or_else(|| "(none)".to_string()),
                t.new
                    .as_deref()
                    .map(|v| format!("`{}`", code(v)))
                    .unwrap_or_else(|| "(removed)".to_string()),
            )?;
        }
        writeln!(out)?;
    }
    if let Some(diff) = s.template_diff.as_ref().filter(|_| options.template_diffs) {
        writeln!(out, "{}", fenced(diff, "diff"))?;
    }
    writeln!(out, "</details>")?;
    writeln!(out)
}

/// The change set's page in the AWS console (where a reviewer sees CloudFormation's own view of
/// it), from its ARN and the stack's id: the partition picks the console's domain. `None` when
/// either is unknown or not an ARN cfdeploy can read.
fn change_set_page(s: &StackPlan) -> Option<String> {
    let (stack_id, arn) = (s.stack_id.as_deref()?, s.change_set_arn.as_deref()?);
    let mut fields = arn.split(':');
    let (partition, region) = (fields.nth(1)?, fields.nth(1)?);
    if region.is_empty()
        || !region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return None;
    }
    let domain = match partition {
        "aws" => format!("{region}.console.aws.amazon.com"),
        "aws-cn" => "console.amazonaws.cn".to_string(),
        "aws-us-gov" => "console.amazonaws-us-gov.com".to_string(),
        _ => return None,
    };
    Some(format!(
        "https://{domain}/cloudformation/home?region={region}#/stacks/changesets/changes?stackId={}&changeSetId={}",
        query_value(stack_id),
        query_value(arn)
    ))
}

/// `text` percent-encoded for a URL's query: only unreserved characters stay as they are.
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PlanStatus;

    #[test]
    fn a_change_set_links_to_its_console_page_in_its_partition() {
        let mut s = StackPlan::new("api", "us-east-1", "stacks/a.yaml", PlanStatus::Update);
        assert_eq!(change_set_page(&s), None, "nothing to link to yet");
        s.stack_id = Some("arn:aws:cloudformation:eu-west-1:123456789012:stack/api/1f2e".into());
        s.change_set_arn =
            Some("arn:aws:cloudformation:eu-west-1:123456789012:changeSet/cfdeploy-1/9a8b".into());
        assert_eq!(
            change_set_page(&s).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/changesets/changes?stackId=arn%3Aaws%3Acloudformation%3Aeu-west-1%3A123456789012%3Astack%2Fapi%2F1f2e&changeSetId=arn%3Aaws%3Acloudformation%3Aeu-west-1%3A123456789012%3AchangeSet%2Fcfdeploy-1%2F9a8b"
        );
        s.change_set_arn =
            Some("arn:aws-cn:cloudformation:cn-north-1:123456789012:changeSet/c/1".into());
        assert!(change_set_page(&s)
            .unwrap()
            .starts_with("https://console.amazonaws.cn/cloudformation/home?region=cn-north-1#"));
        // Whatever a plan file says, nothing but a region goes into the link's host and path.
        s.change_set_arn = Some("arn:aws:cloudformation:evil.example/x):1:changeSet/c/1".into());
        assert_eq!(change_set_page(&s), None);
    }
}
