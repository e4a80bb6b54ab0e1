//! Template and parameter diffs between the deployed stack and the config.

use std::collections::{BTreeMap, BTreeSet};

use similar::TextDiff;

use crate::mask::MASK;
use crate::model::ParameterChange;

/// Lines of context around each change in a template diff.
const CONTEXT_LINES: usize = 3;

/// A unified diff from the deployed template to the new one, or `None` when they are the same.
pub fn template_diff(deployed: &str, new: &str, new_name: &str) -> Option<String> {
    if normalize(deployed) == normalize(new) {
        return None;
    }
    let deployed = normalize(deployed);
    let new = normalize(new);
    let diff = TextDiff::from_lines(&deployed, &new);
    let text = diff
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header("deployed", new_name)
        .to_string();
    Some(text)
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
    fn identical_templates_have_no_diff_even_with_other_line_endings() {
        assert_eq!(template_diff("a\r\nb", "a\nb\n", "t.yaml"), None);
        let d = template_diff("a\nb\nc\n", "a\nB\nc\n", "t.yaml").unwrap();
        assert!(d.contains("-b\n+B\n"), "{d}");
        assert!(d.starts_with("--- deployed\n+++ t.yaml\n"), "{d}");
    }
}
