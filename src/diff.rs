//! Template and parameter diffs between the deployed stack and the config.

use std::collections::{BTreeMap, BTreeSet};

use similar::TextDiff;

use crate::mask::MASK;
use crate::model::{ParameterChange, ResourceChange, ValueChange};

/// Lines of context around each change in a template diff.
const CONTEXT_LINES: usize = 3;

/// A line longer than this marks a JSON template written on few lines (minified, or generated):
/// a diff of its lines would show the whole template as one changed line.
const LONG_LINE: usize = 160;

/// A unified diff from the deployed template to the new one, or `None` when they are the same.
/// JSON templates with long lines are laid out one value a line (keys sorted) on both sides
/// first, and the header says so: the diff then shows the values that changed.
pub fn template_diff(deployed: &str, new: &str, new_name: &str) -> Option<String> {
    if normalize(deployed) == normalize(new) {
        return None;
    }
    let (deployed, new, new_name) = match (laid_out(deployed, new), laid_out(new, deployed)) {
        (Some(d), Some(n)) if d == n => return None,
        (Some(d), Some(n)) => (d, n, format!("{new_name} (JSON laid out one value a line)")),
        _ => (normalize(deployed), normalize(new), new_name.to_string()),
    };
    let diff = TextDiff::from_lines(&deployed, &new);
    let text = diff
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header("deployed", &new_name)
        .to_string();
    Some(text)
}

/// `text` laid out one value a line, when it and `other` are both JSON objects and either has a
/// long line.
fn laid_out(text: &str, other: &str) -> Option<String> {
    let long = |t: &str| t.lines().any(|l| l.chars().count() > LONG_LINE);
    if !long(text) && !long(other) {
        return None;
    }
    let parse = |t: &str| {
        serde_json::from_str::<serde_json::Value>(t)
            .ok()
            .filter(|v| v.is_object())
    };
    parse(other)?;
    let mut pretty = serde_json::to_string_pretty(&parse(text)?).ok()?;
    pretty.push('\n');
    Some(pretty)
}

/// Line endings and a missing final newline are not changes anyone cares about.
fn normalize(text: &str) -> String {
    let mut t = text.replace("\r\n", "\n");
    if !t.ends_with('\n') {
        t.push('\n');
    }
    t
}

/// The parameters whose value differs. NoEcho values are never compared or shown: CloudFormation
/// reports them as `****`, so such a parameter appears only when it is added or removed.
pub fn parameter_diff(
    deployed: &[(String, String)],
    new: &BTreeMap<String, String>,
    no_echo: &BTreeSet<String>,
) -> Vec<ParameterChange> {
    let old: BTreeMap<&str, &str> = deployed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let keys: BTreeSet<&str> = old
        .keys()
        .copied()
        .chain(new.keys().map(String::as_str))
        .collect();
    let mut out = Vec::new();
    for key in keys {
        let before = old.get(key).copied();
        let after = new.get(key).map(String::as_str);
        let secret = no_echo.contains(key);
        let changed = match (before, after) {
            (Some(_), Some(_)) if secret => false,
            (b, a) => b != a,
        };
        if changed {
            let show = |v: Option<&str>| {
                v.map(|v| {
                    if secret {
                        MASK.to_string()
                    } else {
                        v.to_string()
                    }
                })
            };
            out.push(ParameterChange {
                key: key.to_string(),
                old: show(before),
                new: show(after),
            });
        }
    }
    out
}

/// Fills in what changed inside every property whose before and after values are both JSON
/// objects or arrays.
pub fn structural(changes: &mut [ResourceChange]) {
    for detail in changes.iter_mut().flat_map(|c| c.details.iter_mut()) {
        if let (Some(before), Some(after)) = (&detail.before, &detail.after) {
            detail.value_changes = json_changes(before, after).unwrap_or_default();
        }
    }
}

/// The places where two JSON documents differ, or `None` when either is not a JSON object or
/// array (plain values need no structural diff).
pub fn json_changes(before: &str, after: &str) -> Option<Vec<ValueChange>> {
    let parse = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
    };
    let (before, after) = (parse(before)?, parse(after)?);
    let mut out = Vec::new();
    walk("", Some(&before), Some(&after), &mut out);
    Some(out)
}

fn walk(
    path: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
    out: &mut Vec<ValueChange>,
) {
    use serde_json::Value;
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(&child, b.get(key), a.get(key), out);
            }
        }
        (Some(Value::Array(b)), Some(Value::Array(a))) => {
            for i in 0..b.len().max(a.len()) {
                walk(&format!("{path}[{i}]"), b.get(i), a.get(i), out);
            }
        }
        (b, a) if b != a => out.push(ValueChange {
            path: path.to_string(),
            before: b.map(|v| v.to_string()),
            after: a.map(|v| v.to_string()),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_changed_parameters_are_listed_and_no_echo_ones_masked() {
        let deployed = vec![
            ("Memory".to_string(), "512".to_string()),
            ("Name".to_string(), "orders".to_string()),
            ("Password".to_string(), "****".to_string()),
        ];
        let new = map(&[
            ("Memory", "1024"),
            ("Name", "orders"),
            ("Password", "s3cret"),
            ("Token", "t0ken"),
        ]);
        let secret: BTreeSet<String> = ["Password".to_string(), "Token".to_string()].into();
        let diff = parameter_diff(&deployed, &new, &secret);
        assert_eq!(
            diff,
            vec![
                ParameterChange {
                    key: "Memory".into(),
                    old: Some("512".into()),
                    new: Some("1024".into())
                },
                ParameterChange {
                    key: "Token".into(),
                    old: None,
                    new: Some("****".into())
                },
            ]
        );
    }

    #[test]
    fn a_change_inside_a_json_value_is_named_by_its_path() {
        let before = r#"{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:orders-dlq", "maxReceiveCount": 5}"#;
        let after = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:orders-dlq","maxReceiveCount":10}"#;
        assert_eq!(
            json_changes(before, after).unwrap(),
            vec![ValueChange {
                path: "maxReceiveCount".into(),
                before: Some("5".into()),
                after: Some("10".into())
            }]
        );
        let policy_before = r#"{"Statement": [{"Action": ["s3:GetObject"], "Effect": "Allow"}]}"#;
        let policy_after = r#"{"Statement": [{"Action": ["s3:GetObject", "s3:PutObject"], "Effect": "Allow"}], "Version": "2012-10-17"}"#;
        let changes = json_changes(policy_before, policy_after).unwrap();
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["Statement[0].Action[1]", "Version"]);
        assert_eq!(changes[0].before, None, "an added place has no before");
        assert_eq!(changes[0].after.as_deref(), Some("\"s3:PutObject\""));
        assert_eq!(
            json_changes("5", "10"),
            None,
            "plain values need no structural diff"
        );
        assert_eq!(json_changes("{}", "not json"), None);
    }

    #[test]
    fn identical_templates_have_no_diff_even_with_other_line_endings() {
        assert_eq!(template_diff("a\r\nb", "a\nb\n", "t.yaml"), None);
        let d = template_diff("a\nb\nc\n", "a\nB\nc\n", "t.yaml").unwrap();
        assert!(d.contains("-b\n+B\n"), "{d}");
        assert!(d.starts_with("--- deployed\n+++ t.yaml\n"), "{d}");
    }

    #[test]
    fn a_minified_json_template_is_diffed_one_value_a_line() {
        let policy = format!("arn:aws:sqs:us-east-1:123456789012:{}", "q".repeat(150));
        let deployed = format!(
            r#"{{"Resources":{{"Q":{{"Type":"AWS::SQS::Queue","Properties":{{"DelaySeconds":5,"RedriveAllowPolicy":"{policy}"}}}}}}}}"#
        );
        let new = deployed.replace("\"DelaySeconds\":5", "\"DelaySeconds\":10");
        let d = template_diff(&deployed, &new, "t.json").unwrap();
        assert!(
            d.starts_with("--- deployed\n+++ t.json (JSON laid out one value a line)\n"),
            "{d}"
        );
        assert!(
            d.contains("-        \"DelaySeconds\": 5,\n+        \"DelaySeconds\": 10,\n"),
            "{d}"
        );
        assert!(
            !d.contains(&format!("-{deployed}")),
            "not one changed line: {d}"
        );
        // The same values laid out differently are no change at all.
        let spaced = serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(&deployed).unwrap(),
        )
        .unwrap();
        assert_eq!(template_diff(&deployed, &spaced, "t.json"), None);
        // Short JSON and YAML keep their own lines.
        let d = template_diff("{\"a\": 1}", "{\"a\": 2}", "t.json").unwrap();
        assert!(d.contains("+++ t.json\n"), "{d}");
        let long_yaml = format!("Resources: {{}}\n# {}\n", "x".repeat(200));
        let d = template_diff(&long_yaml, "Resources: {}\n", "t.yaml").unwrap();
        assert!(d.contains("+++ t.yaml\n"), "{d}");
    }
}
