//! What identifies one run of cfdeploy: a correlation id shared by every stack, log line and
//! change set of the run, and the time it started.

use time::macros::format_description;
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct RunContext {
    /// 16 hex digits; shown to the user, in every log line and in each change set's description.
    pub correlation_id: String,
    pub started: OffsetDateTime,
}

impl RunContext {
    pub fn new() -> RunContext {
        RunContext {
            correlation_id: format!("{:016x}", fastrand::u64(..)),
            started: OffsetDateTime::now_utc(),
        }
    }

    /// `cfdeploy-<UTC yyyymmddThhmmss>-<first 6 of the correlation id>`: why the change set exists,
    /// when, and which run made it.
    pub fn change_set_name(&self) -> String {
        let stamp = self
            .started
            .format(format_description!(
                "[year][month][day]T[hour][minute][second]"
            ))
            .unwrap_or_default();
        format!("cfdeploy-{stamp}-{}", &self.correlation_id[..6])
    }

    pub fn started_rfc3339(&self) -> String {
        self.started
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }
}

/// The steps that change a stack, each with its own client request token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    CreateChangeSet,
    Execute,
    Cancel,
    ContinueRollback,
    Rollback,
    Delete,
}

impl Step {
    fn word(self) -> &'static str {
        match self {
            Step::CreateChangeSet => "plan",
            Step::Execute => "execute",
            Step::Cancel => "cancel",
            Step::ContinueRollback => "continue",
            Step::Rollback => "rollback",
            Step::Delete => "delete",
        }
    }
}

/// The client request token of `step` on `stack` in the run (or plan) with `correlation_id`: the
/// same inputs always give the same token, so CloudFormation recognises the SDK's retry of a call
/// whose response was lost, and a re-run of the same plan. At most 64 characters of
/// `[a-zA-Z0-9-]`, as CloudFormation requires.
pub fn request_token(correlation_id: &str, step: Step, stack: &str) -> String {
    let stack_hash = crate::fingerprint::sha256_hex(stack.as_bytes());
    let id: String = correlation_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(16)
        .collect();
    format!("cfdeploy-{}-{id}-{}", step.word(), &stack_hash[..12])
}

impl Default for RunContext {
    fn default() -> Self {
        RunContext::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_tokens_are_stable_distinct_and_valid() {
        let a = request_token("3f9a2c0011223344", Step::Execute, "orders-prod");
        assert_eq!(
            a,
            request_token("3f9a2c0011223344", Step::Execute, "orders-prod")
        );
        assert_ne!(
            a,
            request_token("3f9a2c0011223344", Step::Cancel, "orders-prod")
        );
        assert_ne!(
            a,
            request_token("3f9a2c0011223344", Step::Execute, "billing-prod")
        );
        assert_ne!(
            a,
            request_token("0000000000000000", Step::Execute, "orders-prod")
        );
        let odd = request_token("<\u{1F600} not/an id>", Step::Delete, &"x".repeat(128));
        for token in [a, odd] {
            assert!(token.len() <= 64, "{token}");
            assert!(
                token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{token}"
            );
            assert!(token.starts_with("cfdeploy-"));
        }
    }

    #[test]
    fn change_set_name_says_who_and_when_and_is_a_valid_name() {
        let run = RunContext {
            correlation_id: "3f9a2c0011223344".to_string(),
            started: time::macros::datetime!(2026-11-23 10:15:00 UTC),
        };
        assert_eq!(run.change_set_name(), "cfdeploy-20261123T101500-3f9a2c");
        assert_eq!(run.started_rfc3339(), "2026-11-23T10:15:00Z");
    }
}
