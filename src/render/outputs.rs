//! Stack outputs: a table, JSON (schema version 1), or `KEY=value` lines for `$GITHUB_OUTPUT` and
//! shells.

use std::io::{self, Write};

use super::{paint, Style, BOLD, DIM, RED};
use crate::mask::Masked;
use crate::model::StackOutputs;

/// Each stack, then its outputs one per line, values whole (a URL or ARN cut in two cannot be
/// copied).
pub fn table(
    out: &mut dyn Write,
    stacks: &Masked<Vec<StackOutputs>>,
    style: Style,
) -> io::Result<()> {
    for (n, s) in stacks.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{} {}",
            paint(style, BOLD, &s.stack),
            paint(style, DIM, &format!("({})", s.region))
        )?;
        if let Some(error) = &s.error {
            writeln!(out, "  {}", paint(style, RED, error))?;
            continue;
        }
        if s.outputs.is_empty() {
            writeln!(out, "  no outputs")?;
        }
        let width = s
            .outputs
            .iter()
            .map(|o| o.key.chars().count())
            .max()
            .unwrap_or(0);
        for o in &s.outputs {
            let export = o
                .export_name
                .as_deref()
                .map(|e| paint(style, DIM, &format!("  (exported as {e})")))
                .unwrap_or_default();
            writeln!(out, "  {:width$}  {}{export}", o.key, o.value)?;
        }
    }
    Ok(())
}

pub fn json(out: &mut dyn Write, stacks: &Masked<Vec<StackOutputs>>) -> io::Result<()> {
    let doc = serde_json::json!({
        "version": 1,
        "kind": "outputs",
        "stacks": stacks.iter().map(|s| serde_json::json!({
            "stack": s.stack,
            "region": s.region,
            "outputs": s.outputs,
            "error": s.error,
        })).collect::<Vec<_>>(),
    });
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    )
}

/// `KEY=value` lines: the output key alone for one stack, `<stack>_<KEY>` (letters, digits and
/// `_`) when several stacks are shown. A value with a line break cannot be written this way and
/// is an error, named.
pub fn env(out: &mut dyn Write, stacks: &Masked<Vec<StackOutputs>>) -> io::Result<()> {
    let several = stacks.len() > 1;
    // Checked whole before anything is written: no half-written output file.
    let mut lines = Vec::new();
    for s in stacks.iter() {
        for o in &s.outputs {
            let name = if several {
                format!("{}_{}", s.stack, o.key)
            } else {
                o.key.clone()
            };
            let name: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            if o.value.contains(['\n', '\r']) {
                return Err(io::Error::other(format!(
                    "the output {} of {} holds a line break and cannot be written as KEY=value; use --format json",
                    o.key, s.stack
                )));
            }
            lines.push(format!("{name}={}", o.value));
        }
    }
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StackOutput;

    fn sample() -> Vec<StackOutputs> {
        vec![
            StackOutputs {
                stack: "orders-prod".into(),
                region: "us-east-1".into(),
                outputs: vec![StackOutput {
                    key: "WorkQueueUrl".into(),
                    value: "https://sqs.us-east-1.amazonaws.com/123456789012/orders-prod-work"
                        .into(),
                    description: None,
                    export_name: Some("orders-queue".into()),
                }],
                error: None,
            },
            StackOutputs {
                stack: "billing-prod".into(),
                region: "us-east-1".into(),
                outputs: vec![StackOutput {
                    key: "Token".into(),
                    value: "t0ken-secret".into(),
                    description: None,
                    export_name: None,
                }],
                error: None,
            },
        ]
    }

    #[test]
    fn env_lines_name_the_stack_when_several_are_shown_and_keep_masks() {
        let masker = crate::mask::Masker::for_specs(&[crate::config::test_spec("billing-prod")]);
        let mut out = Vec::new();
        env(&mut out, &masker.mask(sample())).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "orders_prod_WorkQueueUrl=https://sqs.us-east-1.amazonaws.com/123456789012/orders-prod-work\nbilling_prod_Token=****\n"
        );
        let mut one = Vec::new();
        env(&mut one, &masker.mask(sample()[..1].to_vec())).unwrap();
        assert!(String::from_utf8(one)
            .unwrap()
            .starts_with("WorkQueueUrl=https://"));
    }

    #[test]
    fn a_value_with_a_line_break_is_refused_in_env_format() {
        let mut s = sample();
        s[0].outputs[0].value = "a\nEVIL=1".into();
        let mut out = Vec::new();
        let err = env(&mut out, &crate::mask::Masker::default().mask(s)).unwrap_err();
        assert!(
            err.to_string().contains("WorkQueueUrl of orders-prod"),
            "{err}"
        );
        assert!(out.is_empty(), "nothing half-written");
    }
}
