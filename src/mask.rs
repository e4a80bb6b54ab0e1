//! Secrets never reach an output: every string of a plan passes through a `Masker` before it is
//! rendered, logged or written.

use crate::model::Plan;

pub const MASK: &str = "****";

/// Secrets shorter than this are masked only where they are a whole value, so that a NoEcho value
/// like `1` does not turn every digit of a diff into `****`.
const MIN_SUBSTRING_LEN: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct Masker {
    secrets: Vec<String>,
    /// The config's `mask:` patterns: every match is masked.
    patterns: Vec<regex_lite::Regex>,
}

impl Masker {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Masker {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        // Longest first, so a secret that contains another is masked whole.
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        secrets.dedup();
        Masker {
            secrets,
            patterns: Vec::new(),
        }
    }

    /// Masks the NoEcho values and the `mask:` patterns of every given stack, in every output.
    pub fn for_specs(specs: &[crate::config::StackSpec]) -> Masker {
        let mut masker = Masker::new(specs.iter().flat_map(|s| s.secrets()));
        let mut seen = std::collections::BTreeSet::new();
        for spec in specs {
            for pattern in &spec.mask {
                if seen.insert(pattern.as_str().to_string()) {
                    masker.patterns.push(pattern.clone());
                }
            }
        }
        masker
    }

    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out == *secret {
                return MASK.to_string();
            }
            if secret.len() >= MIN_SUBSTRING_LEN && out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        for pattern in &self.patterns {
            if pattern.is_match(&out) {
                out = pattern.replace_all(&out, MASK).into_owned();
            }
        }
        out
    }

    fn scrub_opt(&self, text: &mut Option<String>) {
        if let Some(t) = text {
            *t = self.scrub(t);
        }
    }

    /// Masks every free-text field of the plan in place.
    pub fn scrub_plan(&self, plan: &mut Plan) {
        if self.secrets.is_empty() && self.patterns.is_empty() {
            return;
        }
        for stack in &mut plan.stacks {
            self.scrub_opt(&mut stack.error);
            self.scrub_opt(&mut stack.template_diff);
            for p in &mut stack.parameters {
                self.scrub_opt(&mut p.old);
                self.scrub_opt(&mut p.new);
            }
            for change in &mut stack.changes {
                self.scrub_opt(&mut change.physical_id);
                for d in &mut change.details {
                    self.scrub_opt(&mut d.before);
                    self.scrub_opt(&mut d.after);
                    self.scrub_opt(&mut d.causing_entity);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secrets_inside_text_and_whole_short_values() {
        let m = Masker::new(["hunter22", "7"]);
        assert_eq!(m.scrub("password: hunter22\n"), "password: ****\n");
        assert_eq!(m.scrub("7"), "****");
        assert_eq!(m.scrub("port 17"), "port 17");
    }

    #[test]
    fn mask_patterns_mask_every_match() {
        let mut m = Masker::new(["hunter22"]);
        m.patterns
            .push(regex_lite::Regex::new("AKIA[0-9A-Z]{16}").unwrap());
        assert_eq!(
            m.scrub("key AKIAABCDEFGHIJKLMNOP and AKIAQRSTUVWXYZ234567, pw hunter22"),
            "key **** and ****, pw ****"
        );
    }

    #[test]
    fn a_longer_secret_is_masked_whole_before_a_shorter_one_inside_it() {
        let m = Masker::new(["abcd", "abcdefgh"]);
        assert_eq!(m.scrub("x abcdefgh y"), "x **** y");
    }
}
