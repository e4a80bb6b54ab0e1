//! Secrets never reach an output. This is the one place where text becomes safe to show: a
//! [`Masker`] (NoEcho values and the config's `mask:` patterns) turns a value into a
//! [`Masked`] one, and renderers, the plan file, the comment and progress accept only `Masked`
//! values, so nothing unmasked can reach them. Log lines pass through the same masker on their
//! way to stderr ([`LogWriter`]).

use std::io::{self, Write};
use std::ops::Deref;
use std::sync::{Arc, RwLock};

use crate::model::{
    Diagnosis, Outcome, ParameterChange, Plan, PropertyChange, ResourceChange, StackEvent,
    StackPlan,
};

pub const MASK: &str = "****";

/// Credentials that can appear in an error body or a log line whatever the config says: GitHub
/// tokens, AWS access key ids, and the values of Authorization headers.
/// Each with the lowercase words one of which the text must contain for the pattern to be tried.
const CREDENTIAL_PATTERNS: &[(&[&str], &str)] = &[
    (
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}",
    ),
    (&["github_pat_"], r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    (&["akia", "asia"], r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    (
        &["authorization", "x-amz-security-token"],
        r"(?i)\b(authorization|x-amz-security-token)\s*[:=]\s*[^\s,;]+(\s+[A-Za-z0-9._~+/=-]{8,})?",
    ),
    (&["bearer"], r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"),
];

fn credential_patterns() -> &'static [(&'static [&'static str], regex_lite::Regex)] {
    static PATTERNS: std::sync::OnceLock<Vec<(&[&str], regex_lite::Regex)>> =
        std::sync::OnceLock::new();
    PATTERNS.get_or_init(|| {
        CREDENTIAL_PATTERNS
            .iter()
            .map(|(words, p)| {
                (
                    *words,
                    regex_lite::Regex::new(p).expect("the credential patterns are valid"),
                )
            })
            .collect()
    })
}

/// Secrets shorter than this are masked only where they are a whole value, so that a NoEcho value
/// like `1` does not turn every digit of a diff into `****`.
const MIN_SUBSTRING_LEN: usize = 4;

/// What to hide: secret values (NoEcho parameters) and patterns (the config's `mask:`).
#[derive(Debug, Clone, Default)]
pub struct Masker {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Longest first, so a secret that contains another is masked whole.
    secrets: Vec<String>,
    patterns: Vec<regex_lite::Regex>,
}

impl Masker {
    pub fn new<'a>(
        secrets: impl IntoIterator<Item = &'a str>,
        patterns: impl IntoIterator<Item = regex_lite::Regex>,
    ) -> Masker {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        secrets.dedup();
        let mut seen = std::collections::BTreeSet::new();
        let patterns = patterns
            .into_iter()
            .filter(|p| seen.insert(p.as_str().to_string()))
            .collect();
        Masker {
            inner: Arc::new(Inner { secrets, patterns }),
        }
    }

    /// Masks the NoEcho values and the `mask:` patterns of every given stack.
    pub fn for_specs(specs: &[crate::config::StackSpec]) -> Masker {
        Masker::new(
            specs.iter().flat_map(|s| s.secrets()),
            specs.iter().flat_map(|s| s.mask.iter().cloned()),
        )
    }

    /// This masker and the given patterns too (from a plan file); invalid ones are skipped.
    pub fn with_patterns<'a>(&self, patterns: impl IntoIterator<Item = &'a String>) -> Masker {
        let extra: Vec<regex_lite::Regex> = patterns
            .into_iter()
            .filter_map(|p| regex_lite::Regex::new(p).ok())
            .filter(|r| !r.is_match(""))
            .collect();
        if extra.is_empty() {
            return self.clone();
        }
        Masker::new(
            self.inner.secrets.iter().map(String::as_str),
            self.inner.patterns.iter().cloned().chain(extra),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.inner.secrets.is_empty() && self.inner.patterns.is_empty()
    }

    /// `text` with every secret and every pattern match replaced by `****`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.inner.secrets {
            if out == *secret {
                return MASK.to_string();
            }
            if secret.len() >= MIN_SUBSTRING_LEN && out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        for pattern in &self.inner.patterns {
            if pattern.is_match(&out) {
                out = pattern.replace_all(&out, MASK).into_owned();
            }
        }
        let lower = out.to_ascii_lowercase();
        for (words, pattern) in credential_patterns() {
            if words.iter().any(|w| lower.contains(w)) && pattern.is_match(&out) {
                out = pattern.replace_all(&out, MASK).into_owned();
            }
        }
        out
    }

    /// The value with every string in it masked: the only way to make a [`Masked`] value.
    pub fn mask<T: Scrub>(&self, mut value: T) -> Masked<T> {
        value.scrub_with(self);
        Masked(value)
    }

    /// This masker and these secret values too (the run's own credentials, say).
    pub fn with_secrets<'a>(&self, secrets: impl IntoIterator<Item = &'a str>) -> Masker {
        let mut all: Vec<String> = self.inner.secrets.clone();
        all.extend(secrets.into_iter().map(str::to_string));
        Masker::new(
            all.iter().map(String::as_str),
            self.inner.patterns.iter().cloned(),
        )
    }
}

/// A value whose every string has passed through a [`Masker`]; what outputs accept.
#[derive(Debug, Clone, PartialEq)]
pub struct Masked<T>(T);

impl<T> Deref for Masked<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Masked<T> {
    /// A part of a masked value, still masked.
    pub fn map<U>(&self, f: impl FnOnce(&T) -> U) -> Masked<U> {
        Masked(f(&self.0))
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

/// A value with strings that may hold secrets.
pub trait Scrub {
    fn scrub_with(&mut self, masker: &Masker);
}

impl Scrub for String {
    fn scrub_with(&mut self, masker: &Masker) {
        *self = masker.scrub(self);
    }
}

impl<T: Scrub> Scrub for Option<T> {
    fn scrub_with(&mut self, masker: &Masker) {
        if let Some(v) = self {
            v.scrub_with(masker);
        }
    }
}

impl<T: Scrub> Scrub for Vec<T> {
    fn scrub_with(&mut self, masker: &Masker) {
        for v in self {
            v.scrub_with(masker);
        }
    }
}

impl Scrub for crate::model::StackOutput {
    fn scrub_with(&mut self, m: &Masker) {
        self.value.scrub_with(m);
        self.description.scrub_with(m);
    }
}

impl Scrub for crate::model::StackOutputs {
    fn scrub_with(&mut self, m: &Masker) {
        self.outputs.scrub_with(m);
        self.error.scrub_with(m);
    }
}

impl Scrub for Plan {
    fn scrub_with(&mut self, m: &Masker) {
        self.stacks.scrub_with(m);
    }
}

impl Scrub for StackPlan {
    fn scrub_with(&mut self, m: &Masker) {
        self.error.scrub_with(m);
        self.warnings.scrub_with(m);
        self.template_diff.scrub_with(m);
        self.parameters.scrub_with(m);
        self.tags.scrub_with(m);
        self.changes.scrub_with(m);
    }
}

impl Scrub for ParameterChange {
    fn scrub_with(&mut self, m: &Masker) {
        self.old.scrub_with(m);
        self.new.scrub_with(m);
    }
}

impl Scrub for ResourceChange {
    fn scrub_with(&mut self, m: &Masker) {
        self.physical_id.scrub_with(m);
        self.details.scrub_with(m);
        self.drift.scrub_with(m);
    }
}

impl Scrub for PropertyChange {
    fn scrub_with(&mut self, m: &Masker) {
        self.before.scrub_with(m);
        self.after.scrub_with(m);
        self.causing_entity.scrub_with(m);
        for v in &mut self.value_changes {
            v.before.scrub_with(m);
            v.after.scrub_with(m);
        }
    }
}

impl Scrub for StackEvent {
    fn scrub_with(&mut self, m: &Masker) {
        self.reason.scrub_with(m);
        self.physical_id.scrub_with(m);
    }
}

impl Scrub for Diagnosis {
    fn scrub_with(&mut self, m: &Masker) {
        self.root_causes.scrub_with(m);
        self.tail.scrub_with(m);
        self.nested.scrub_with(m);
        self.next_step.scrub_with(m);
    }
}

impl Scrub for Outcome {
    fn scrub_with(&mut self, m: &Masker) {
        self.message.scrub_with(m);
        self.diagnosis.scrub_with(m);
        for o in &mut self.outputs {
            o.scrub_with(m);
        }
    }
}

/// The masker log lines pass through; set once the secrets are known (the config loaded).
static LOG_MASKER: RwLock<Option<Masker>> = RwLock::new(None);

/// From now on, every log line is masked with `masker` (in addition to any set before).
pub fn mask_logs(masker: &Masker) {
    let mut current = LOG_MASKER.write().unwrap_or_else(|e| e.into_inner());
    let merged = match current.take() {
        None => masker.clone(),
        Some(old) => Masker::new(
            old.inner
                .secrets
                .iter()
                .chain(&masker.inner.secrets)
                .map(String::as_str),
            old.inner
                .patterns
                .iter()
                .chain(&masker.inner.patterns)
                .cloned(),
        ),
    };
    *current = Some(merged);
}

/// stderr for log lines: each line is masked before it is written. A line is collected whole
/// (the log formatter writes one event per writer) and written when the writer is dropped.
#[derive(Default)]
pub struct LogWriter {
    buffer: Vec<u8>,
}

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buffer).into_owned();
        self.buffer.clear();
        let masked = match LOG_MASKER
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            Some(m) => m.scrub(&text),
            // Credentials are masked even before the config is loaded.
            None => Masker::default().scrub(&text),
        };
        // A log line that cannot be written (stderr closed or full) is dropped, never fatal.
        let _ = io::stderr().lock().write_all(masked.as_bytes());
        Ok(())
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests;
