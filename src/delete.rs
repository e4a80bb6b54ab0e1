//! `cfdeploy delete`: deleting stacks, planned and shown first. Each stack's deletion says which
//! resources go and which stay (a `DeletionPolicy`, or `--retain` after a failed delete), and is
//! refused when it cannot or must not happen: the stack is absent or busy, termination protection
//! is on, or a stateful resource would go without the destructive allowance. The deletion itself
//! is idempotent (a client request token), watched like apply, and diagnosed when it fails.

use std::time::Instant;

use crate::cfn::CloudFormation;
use crate::engine::{Events, RolloutEvent};
use crate::guard::StatefulTypes;
use crate::model::{Outcome, OutcomeKind, StackStatus};
use crate::poll::PollOptions;
use crate::run::{request_token, Step};
use crate::template::Template;
use crate::watch::{self, Interrupt, WatchEnd, Watcher};

/// What happens to one resource when its stack is deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    Deleted,
    /// Kept by its `DeletionPolicy` (`Retain`, `RetainExceptOnCreate`).
    Retained(String),
    /// Deleted after CloudFormation takes a snapshot (`DeletionPolicy: Snapshot`).
    Snapshot,
    /// Kept because `--retain` names it (only after a failed delete).
    KeptOnRequest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Going {
    pub logical_id: String,
    pub resource_type: String,
    pub fate: Fate,
    /// Why its deletion is destructive (a stateful resource deleted without a snapshot).
    pub destructive: Option<String>,
}

/// Why a stack will not be deleted now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not deployed: nothing to delete.
    Absent,
    Protected,
    Busy(StackStatus),
    /// Stateful resources would go, and deleting them is not allowed.
    Destructive,
    /// `--retain` applies only to a stack whose deletion failed.
    RetainNeedsDeleteFailed(StackStatus),
    /// The stack or its template could not be read.
    Unreadable(String),
}

/// One stack's deletion, as planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub stack: String,
    pub region: String,
    pub stack_id: Option<String>,
    pub status: Option<StackStatus>,
    pub resources: Vec<Going>,
    pub refusal: Option<Refusal>,
}

impl Deletion {
    /// Whether it will be executed.
    pub fn goes(&self) -> bool {
        self.refusal.is_none()
    }
}

/// What a stack's deletion is judged by.
#[derive(Debug, Clone)]
pub struct Target {
    pub stack: String,
    pub region: String,
    pub stateful: StatefulTypes,
    /// `--allow-destructive`, or the stack's `allow_destructive`.
    pub allow_destructive: bool,
}

/// Plans the deletion of `target`: reads the stack and, to know its resources and their
/// policies, its deployed template.
pub async fn plan<C: CloudFormation>(cfn: &C, target: &Target, retain: &[String]) -> Deletion {
    let mut d = Deletion {
        stack: target.stack.clone(),
        region: target.region.clone(),
        stack_id: None,
        status: None,
        resources: Vec::new(),
        refusal: None,
    };
    let stack = match cfn.describe_stack(&target.region, &target.stack).await {
        Ok(Some(stack)) => stack,
        Ok(None) => {
            d.refusal = Some(Refusal::Absent);
            return d;
        }
        Err(e) => {
            d.refusal = Some(Refusal::Unreadable(e.to_string()));
            return d;
        }
    };
    d.stack_id = Some(stack.stack_id.clone());
    d.status = Some(stack.status.clone());
    if stack.status.is_in_progress() {
        d.refusal = Some(Refusal::Busy(stack.status));
        return d;
    }
    if stack.termination_protection {
        d.refusal = Some(Refusal::Protected);
        return d;
    }
    if !retain.is_empty() && stack.status != StackStatus::DeleteFailed {
        d.refusal = Some(Refusal::RetainNeedsDeleteFailed(stack.status));
        return d;
    }
    if stack.status == StackStatus::ReviewInProgress {
        return d; // never executed: it holds no resources
    }
    let template = match cfn.get_template(&target.region, &target.stack).await {
        Ok(body) => Template::parse(body),
        Err(e) => {
            d.refusal = Some(Refusal::Unreadable(format!("reading its template: {e}")));
            return d;
        }
    };
    let Ok(template) = template else {
        d.refusal = Some(Refusal::Unreadable(
            "its deployed template cannot be parsed, so what would be deleted is unknown".into(),
        ));
        return d;
    };
    // A failed deletion went part of the way: what it deleted is gone, and neither shown nor
    // judged again (unread events leave the whole template, the cautious side).
    let gone = if stack.status == StackStatus::DeleteFailed {
        watch::deleted_by_failed_deletions(cfn, &target.region, &stack.stack_id)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(stack = %target.stack, error = %e, "cannot read the events of its failed deletion; every resource of its template is shown");
                Default::default()
            })
    } else {
        Default::default()
    };
    d.resources = template
        .resources
        .iter()
        .filter(|r| !gone.contains(&r.logical_id))
        .map(|r| {
            let fate = if retain.contains(&r.logical_id) {
                Fate::KeptOnRequest
            } else {
                match r.deletion_policy.as_deref() {
                    Some(p @ ("Retain" | "RetainExceptOnCreate")) => Fate::Retained(p.to_string()),
                    Some("Snapshot") => Fate::Snapshot,
                    _ => Fate::Deleted,
                }
            };
            let destructive = (fate == Fate::Deleted && target.stateful.contains(&r.resource_type))
                .then(|| {
                    format!(
                        "deletes stateful {} {} (no DeletionPolicy Retain or Snapshot)",
                        r.resource_type, r.logical_id
                    )
                });
            Going {
                logical_id: r.logical_id.clone(),
                resource_type: r.resource_type.clone(),
                fate,
                destructive,
            }
        })
        .collect();
    if !target.allow_destructive && d.resources.iter().any(|r| r.destructive.is_some()) {
        d.refusal = Some(Refusal::Destructive);
    }
    d
}

/// How deletions are executed and watched.
#[derive(Debug, Clone)]
pub struct DeleteOptions {
    pub retain: Vec<String>,
    pub poll: PollOptions,
    pub events_tail: usize,
}

/// The outcome of a deletion that was not executed.
pub fn not_executed(d: &Deletion) -> Outcome {
    let (kind, message) = match &d.refusal {
        None | Some(Refusal::Absent) => (
            OutcomeKind::Unchanged,
            format!("does not exist in {}; nothing to delete", d.region),
        ),
        Some(Refusal::Protected) => (
            OutcomeKind::Refused,
            format!(
                "termination protection is on; turn it off deliberately first: `aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name {} --region {}`",
                d.stack, d.region
            ),
        ),
        Some(Refusal::Busy(status)) => (
            OutcomeKind::Refused,
            format!("{status}: an operation is running; delete it when it has finished"),
        ),
        Some(Refusal::Destructive) => (
            OutcomeKind::Blocked,
            format!(
                "{}; nothing was deleted. Pass --allow-destructive, or set `allow_destructive: true` for the stack",
                d.resources
                    .iter()
                    .filter_map(|r| r.destructive.as_deref())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
        Some(Refusal::RetainNeedsDeleteFailed(status)) => (
            OutcomeKind::Refused,
            format!("it is {status}: --retain applies only to a stack whose deletion failed (DELETE_FAILED)"),
        ),
        Some(Refusal::Unreadable(why)) => (OutcomeKind::Refused, why.clone()),
    };
    Outcome {
        stack: d.stack.clone(),
        region: d.region.clone(),
        kind,
        status: d.status.clone(),
        seconds: 0.0,
        message: Some(message),
        diagnosis: None,
        outputs: Vec::new(),
    }
}

/// Deletes the stack of `d` (planned to go) and watches the deletion to its end.
pub async fn execute<C: CloudFormation>(
    cfn: &C,
    d: &Deletion,
    correlation_id: &str,
    options: &DeleteOptions,
    events: &Events,
    mut interrupt: Interrupt,
) -> Outcome {
    let started = Instant::now();
    let mut result = not_executed(d);
    let done = |mut o: Outcome, kind, status, message: String| {
        o.kind = kind;
        o.status = status;
        o.message = Some(message);
        o.seconds = started.elapsed().as_secs_f64();
        o
    };
    let Some(stack_id) = d.stack_id.as_deref() else {
        return result;
    };
    let token = request_token(correlation_id, Step::Delete, &d.stack);
    if let Err(e) = cfn
        .delete_stack(&d.region, stack_id, &token, &options.retain)
        .await
    {
        // The call may have taken effect with its answer lost: the deletion's events tell.
        if watch::started_with(cfn, &d.region, stack_id, &token).await != Some(true) {
            let kind = if e.is_transient() {
                OutcomeKind::Unknown
            } else {
                OutcomeKind::Refused
            };
            return done(
                result,
                kind,
                d.status.clone(),
                format!("could not delete: {e}"),
            );
        }
    }
    crate::signals::running(&d.stack);
    events.emit(RolloutEvent::StackStarted {
        stack: d.stack.clone(),
        status: StackStatus::DeleteInProgress,
        changes: d.resources.len(),
    });
    // By stack id: a deleted stack can no longer be described by name.
    let mut watcher =
        Watcher::new(cfn, &d.region, stack_id, options.poll.clone()).for_operation(&token);
    let end = watcher
        .watch(
            &mut |e| events.emit(RolloutEvent::StackEvent(e.clone())),
            &mut interrupt,
            None,
            Some(StackStatus::DeleteInProgress),
        )
        .await;
    crate::signals::settled(&d.stack);
    let status = match end {
        Ok(WatchEnd::Settled(status)) => status,
        Ok(WatchEnd::Abandoned(status)) => {
            return done(
                result,
                OutcomeKind::Abandoned,
                status,
                format!(
                    "stopped waiting; the deletion goes on in CloudFormation: `cfdeploy events {}`",
                    d.stack
                ),
            )
        }
        Err(e) => {
            return done(
                result,
                OutcomeKind::Unknown,
                None,
                format!("lost track of the deletion: {e}"),
            )
        }
    };
    let kind = OutcomeKind::from_final_status(&status);
    let kept: Vec<&str> = d
        .resources
        .iter()
        .filter(|r| r.fate != Fate::Deleted && r.fate != Fate::Snapshot)
        .map(|r| r.logical_id.as_str())
        .collect();
    let message = match kind {
        OutcomeKind::Deleted if kept.is_empty() => String::new(),
        OutcomeKind::Deleted => format!("kept in place: {}", kept.join(", ")),
        _ => String::new(),
    };
    result = done(result, kind, Some(status.clone()), message);
    if result.message.as_deref() == Some("") {
        result.message = None;
    }
    if kind != OutcomeKind::Deleted {
        match watch::diagnose_stack(
            cfn,
            &d.region,
            stack_id,
            &d.stack,
            &status,
            options.events_tail,
        )
        .await
        {
            Ok(diagnosis) => {
                let failed: Vec<String> = diagnosis
                    .root_causes
                    .iter()
                    .map(|e| e.logical_id.clone())
                    .collect();
                result.message = Some(if failed.is_empty() {
                    "the deletion failed".to_string()
                } else {
                    format!(
                        "{} could not be deleted; fix the cause and delete again, or keep {} in place: `cfdeploy delete {} --retain {}`",
                        failed.join(", "),
                        if failed.len() == 1 { "it" } else { "them" },
                        d.stack,
                        failed.join(" --retain ")
                    )
                });
                result.diagnosis = Some(diagnosis);
            }
            Err(e) => {
                result.message = Some(format!("could not read the stack events to diagnose: {e}"))
            }
        }
    }
    result
}

#[cfg(test)]
mod tests;

impl crate::mask::Scrub for Deletion {
    fn scrub_with(&mut self, masker: &crate::mask::Masker) {
        if let Some(Refusal::Unreadable(why)) = &mut self.refusal {
            why.scrub_with(masker);
        }
    }
}
