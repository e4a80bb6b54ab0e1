//! The keys a config file may use, checked before its shape so that every misspelt key of a file
//! is reported at once, with its line and the nearest key it may have meant.

use crate::yaml::KeyTree;

/// Top-level keys of a config file.
pub const FILE: &[&str] = &["defaults", "stacks"];

/// Keys of a stack (and of `defaults`); the fields of `raw::RawStack`.
pub const STACK: &[&str] = &[
    "template",
    "region",
    "parameters",
    "tags",
    "capabilities",
    "termination_protection",
    "role_arn",
    "notification_arns",
    "template_bucket",
    "allow_destructive",
    "stateful_types",
    "mask",
    "depends_on",
    "fleet",
    "fleet_regions",
];

/// Keys of `stateful_types`.
pub const STATEFUL_TYPES: &[&str] = &["add", "remove"];

/// Every unknown key of a config file, in file order: line, where, and the key it may have meant.
pub fn unknown(text: &str) -> Vec<String> {
    let Some(tree) = crate::yaml::key_tree(text) else {
        return Vec::new();
    };
    let mut check = Check {
        lines: text.lines().collect(),
        cursor: (0, 0),
        problems: Vec::new(),
    };
    for (key, below) in &tree.0 {
        let line = check.line_of(key);
        match key.as_str() {
            "defaults" => check.stack(below, "`defaults`"),
            "stacks" => {
                for (name, stack) in &below.0 {
                    check.line_of(name);
                    check.stack(stack, &format!("stack `{name}`"));
                }
            }
            _ => check.report(key, line, "at the top of the file", FILE),
        }
    }
    check.problems
}

struct Check<'a> {
    lines: Vec<&'a str>,
    /// Keys are found in file order: the search for the next one starts where the last ended
    /// (line, byte offset).
    cursor: (usize, usize),
    problems: Vec<String>,
}

impl Check<'_> {
    fn stack(&mut self, tree: &KeyTree, place: &str) {
        for (key, below) in &tree.0 {
            let line = self.line_of(key);
            if key == "stateful_types" {
                for (inner, _) in &below.0 {
                    let inner_line = self.line_of(inner);
                    if !STATEFUL_TYPES.contains(&inner.as_str()) {
                        let where_ = format!("under `stateful_types` of {place}");
                        self.report(inner, inner_line, &where_, STATEFUL_TYPES);
                    }
                }
            } else if !STACK.contains(&key.as_str()) {
                self.report(key, line, &format!("in {place}"), STACK);
            } else {
                // Keys under parameters and tags are the user's own; skip past them.
                for (inner, _) in &below.0 {
                    self.line_of(inner);
                }
            }
        }
    }

    /// The 1-based line where `key` is written, searching on from just after the last key found.
    fn line_of(&mut self, key: &str) -> Option<usize> {
        let (mut line, mut from) = self.cursor;
        while line < self.lines.len() {
            if let Some(at) = key_at(self.lines[line], key, from) {
                self.cursor = (line, at + key.len());
                return Some(line + 1);
            }
            line += 1;
            from = 0;
        }
        None
    }

    fn report(&mut self, key: &str, line: Option<usize>, place: &str, known: &[&str]) {
        let at = line.map(|n| format!("line {n}: ")).unwrap_or_default();
        let hint = match nearest(key, known) {
            Some(k) => format!("did you mean `{k}`?"),
            None => format!("known keys: {}", known.join(", ")),
        };
        self.problems
            .push(format!("{at}unknown key `{key}` {place} ({hint})"));
    }
}

/// Where, at or after byte `from`, `line` writes `key` as a mapping key (block or flow style,
/// plain or quoted).
fn key_at(line: &str, key: &str, from: usize) -> Option<usize> {
    let code = line.split(" #").next().unwrap_or(line);
    let written = [key.to_string(), format!("\"{key}\""), format!("'{key}'")];
    code.char_indices()
        .filter(|(at, _)| *at >= from)
        .find_map(|(at, _)| {
            let before = code[..at].chars().next_back();
            let starts = before.map_or(true, |c| matches!(c, ' ' | '{' | ',' | '-'));
            written.iter().find_map(|w| {
                let after = code[at..].strip_prefix(w.as_str())?;
                (starts && after.trim_start().starts_with(':')).then_some(at)
            })
        })
}

/// The known key closest to `key`, when it is close enough to be a likely slip.
/// The known key `key` most likely meant (case and `-`/`_` aside), if one is close.
pub(super) fn nearest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let lower = key.to_lowercase().replace('-', "_");
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&lower, &k.to_lowercase()), *k))
        .filter(|(distance, k)| *distance <= (k.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unknown_key_is_named_with_its_line_and_the_key_it_may_mean() {
        let text = "\
defaults:
  regoin: us-east-1
stacks:
  api:
    template: t.yaml
    paramters: {Name: api}
    tags: {team: a}
  web:
    template: t.yaml
    Termination-Protection: true
    stateful_types: {ad: [AWS::X::Y]}
    colour: blue
statcks: {}
";
        assert_eq!(
            unknown(text),
            [
                "line 2: unknown key `regoin` in `defaults` (did you mean `region`?)",
                "line 6: unknown key `paramters` in stack `api` (did you mean `parameters`?)",
                "line 10: unknown key `Termination-Protection` in stack `web` (did you mean `termination_protection`?)",
                "line 11: unknown key `ad` under `stateful_types` of stack `web` (did you mean `add`?)",
                "line 12: unknown key `colour` in stack `web` (known keys: template, region, parameters, tags, capabilities, termination_protection, role_arn, notification_arns, template_bucket, allow_destructive, stateful_types, mask, depends_on, fleet, fleet_regions)",
                "line 13: unknown key `statcks` at the top of the file (did you mean `stacks`?)",
            ]
        );
    }

    #[test]
    fn user_keys_under_parameters_are_not_checked_and_same_names_find_their_own_line() {
        let text = "stacks:\n  a:\n    parameters:\n      regoin: x\n    regoin: y\n";
        assert_eq!(
            unknown(text),
            ["line 5: unknown key `regoin` in stack `a` (did you mean `region`?)"]
        );
    }

    #[test]
    fn the_key_lists_are_the_fields_serde_accepts() {
        // serde names every field it expects when it meets an unknown one: the lists here must
        // be exactly those, or a valid key would be reported (or a wrong one let through).
        let expected = |err: String| -> Vec<String> {
            let list = err.split("expected ").nth(1).unwrap_or("");
            let list = list.trim_start_matches("one of ");
            let list = list.split(" at line").next().unwrap();
            list.split([',', ' '])
                .filter(|k| k.starts_with('`'))
                .map(|k| k.trim_matches('`').to_string())
                .collect()
        };
        let stack = crate::yaml::from_str::<super::super::raw::RawStack>("zzz: 1")
            .unwrap_err()
            .to_string();
        assert_eq!(expected(stack), STACK);
        let file = crate::yaml::from_str::<super::super::raw::RawFile>("zzz: 1")
            .unwrap_err()
            .to_string();
        assert_eq!(expected(file), FILE);
        let types = crate::yaml::from_str::<super::super::raw::RawStatefulTypes>("zzz: 1")
            .unwrap_err()
            .to_string();
        assert_eq!(expected(types), STATEFUL_TYPES);
    }
}
