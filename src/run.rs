//! What identifies one run of cfdeploy: a correlation id shared by every stack, log line and
//! change set of the run, the time it started, and, in a CI job, what it runs for.

use time::macros::format_description;
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct RunContext {
    /// 16 hex digits; shown to the user, in every log line and in each change set's description.
    pub correlation_id: String,
    pub started: OffsetDateTime,
    /// What the run is for, when a CI job says (GitHub Actions).
    pub origin: Origin,
}

/// What a run is for, as the CI job running it says: the pull request, the repository and
/// commit, who started it. Empty outside CI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub pull_request: Option<u64>,
    /// e.g. `acme/infra#42 at 1a2b3c4 by octocat, run 123456`.
    pub description: Option<String>,
}

impl Origin {
    /// From a GitHub Actions job's environment (`GITHUB_ACTIONS=true`); empty elsewhere.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Origin {
        if get("GITHUB_ACTIONS").as_deref() != Some("true") {
            return Origin::default();
        }
        // `refs/pull/42/merge` on pull_request events.
        let pull_request = get("GITHUB_REF").and_then(|r| {
            r.strip_prefix("refs/pull/")
                .and_then(|rest| rest.split('/').next())
                .and_then(|n| n.parse::<u64>().ok())
        });
        let mut parts = Vec::new();
        if let Some(repo) = get("GITHUB_REPOSITORY") {
            parts.push(match (pull_request, get("GITHUB_REF_NAME")) {
                (Some(n), _) => format!("{repo}#{n}"),
                (None, Some(branch)) => format!("{repo} {branch}"),
                (None, None) => repo,
            });
        }
        if let Some(sha) = get("GITHUB_SHA") {
            parts.push(format!("at {}", sha.get(..7).unwrap_or(&sha)));
        }
        if let Some(actor) = get("GITHUB_ACTOR") {
            parts.push(format!("by {actor}"));
        }
        if let Some(run) = get("GITHUB_RUN_ID") {
            parts.push(format!("run {run}"));
        }
        Origin {
            pull_request,
            description: (!parts.is_empty()).then(|| parts.join(" ")),
        }
    }
}

impl RunContext {
    pub fn new() -> RunContext {
        RunContext {
            correlation_id: format!("{:016x}", fastrand::u64(..)),
            started: OffsetDateTime::now_utc(),
            origin: Origin::default(),
        }
    }

    /// `cfdeploy-[pr<N>-]<UTC yyyymmddThhmmss>-<first 6 of the correlation id>`: that cfdeploy
    /// made it, for which pull request, when, and in which run.
    pub fn change_set_name(&self) -> String {
        let stamp = self
            .started
            .format(format_description!(
                "[year][month][day]T[hour][minute][second]"
            ))
            .unwrap_or_default();
        let pr = self
            .origin
            .pull_request
            .map(|n| format!("pr{n}-"))
            .unwrap_or_default();
        format!("cfdeploy-{pr}{stamp}-{}", &self.correlation_id[..6])
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
        let mut run = RunContext {
            correlation_id: "3f9a2c0011223344".to_string(),
            started: time::macros::datetime!(2026-11-23 10:15:00 UTC),
            origin: Origin::default(),
        };
        assert_eq!(run.change_set_name(), "cfdeploy-20261123T101500-3f9a2c");
        assert_eq!(run.started_rfc3339(), "2026-11-23T10:15:00Z");
        run.origin.pull_request = Some(4217);
        assert_eq!(
            run.change_set_name(),
            "cfdeploy-pr4217-20261123T101500-3f9a2c"
        );
    }

    #[test]
    fn a_github_actions_job_says_what_the_run_is_for() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        const JOB: &[(&str, &str)] = &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "acme/infra"),
            ("GITHUB_REF", "refs/pull/42/merge"),
            ("GITHUB_REF_NAME", "42/merge"),
            ("GITHUB_SHA", "1a2b3c4d5e6f7a8b9c0d"),
            ("GITHUB_ACTOR", "octocat"),
            ("GITHUB_RUN_ID", "123456"),
        ];
        let pr = Origin::from_env(env(JOB));
        assert_eq!(pr.pull_request, Some(42));
        assert_eq!(
            pr.description.as_deref(),
            Some("acme/infra#42 at 1a2b3c4 by octocat run 123456")
        );
        let push = Origin::from_env(env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "acme/infra"),
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_REF_NAME", "main"),
        ]));
        assert_eq!(push.pull_request, None);
        assert_eq!(push.description.as_deref(), Some("acme/infra main"));
        // Outside a job, GitHub's variables set by hand say nothing.
        assert_eq!(
            Origin::from_env(env(&[("GITHUB_REF", "refs/pull/42/merge")])),
            Origin::default()
        );
    }
}
