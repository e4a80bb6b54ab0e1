//! Diagnosis of a failed stack operation from its events: the root cause first (the earliest
//! failures, not the cascade of cancellations they cause), the tail of the operation's events,
//! and what to do next. Pure functions over events; fetching them is the caller's job.

use crate::model::{Diagnosis, StackEvent};

/// Statuses of the stack-level event that starts an operation.
const OPERATION_STARTS: &[&str] = &[
    "CREATE_IN_PROGRESS",
    "UPDATE_IN_PROGRESS",
    "DELETE_IN_PROGRESS",
    "IMPORT_IN_PROGRESS",
    "REVIEW_IN_PROGRESS",
];

/// The events of the stack's most recent operation, oldest first, from events newest first (as
/// `DescribeStackEvents` returns them). Events of earlier operations are never included.
pub fn latest_operation(newest_first: &[StackEvent]) -> Vec<StackEvent> {
    let start = newest_first
        .iter()
        .position(|e| e.is_stack_event() && OPERATION_STARTS.contains(&e.status.as_str()));
    let slice = match start {
        Some(i) => &newest_first[..=i],
        None => newest_first,
    };
    slice.iter().rev().cloned().collect()
}

/// The root causes among one operation's events (oldest first): the failed resources that were
/// not merely cancelled, one per resource, in the order they failed. When every failure is a
/// cancellation (or there is none), the stack's own failure reason stands in.
pub fn root_causes(operation: &[StackEvent]) -> Vec<StackEvent> {
    let mut causes: Vec<StackEvent> = Vec::new();
    for e in operation {
        if e.is_failure()
            && !e.is_stack_event()
            && !e.is_cancellation()
            && !causes.iter().any(|c| c.logical_id == e.logical_id)
        {
            causes.push(e.clone());
        }
    }
    if causes.is_empty() {
        let stack_reason = operation.iter().find(|e| {
            e.is_stack_event()
                && e.reason.as_deref().is_some_and(|r| r != "User Initiated")
                && (e.is_failure() || e.status.contains("ROLLBACK"))
        });
        causes.extend(stack_reason.cloned());
    }
    causes
}

/// What a person should do about a stack left in `status`.
pub fn next_step(stack: &str, status: &str) -> String {
    match status {
        "ROLLBACK_COMPLETE" => format!(
            "The create failed and was rolled back; the stack holds no resources and cannot be updated. Fix the cause, then delete it with `cfdeploy rollback {stack} --delete` and apply again."
        ),
        "UPDATE_ROLLBACK_COMPLETE" => {
            "The update was rolled back; the stack runs its previous template. Fix the cause and apply again.".to_string()
        }
        "UPDATE_ROLLBACK_FAILED" => format!(
            "The rollback failed too; the stack needs a person. Fix what blocks the rollback, or skip the resources that cannot be rolled back: `cfdeploy rollback {stack} --skip-resource LOGICAL_ID`."
        ),
        "CREATE_FAILED" | "UPDATE_FAILED" => format!(
            "Rollback was disabled, so the failed resources are kept for debugging. When done, roll back with `cfdeploy rollback {stack}`."
        ),
        "ROLLBACK_FAILED" | "DELETE_FAILED" => format!(
            "The stack could not be cleaned up. Delete it, retaining the resources that cannot be deleted: `aws cloudformation delete-stack --stack-name {stack} --retain-resources LOGICAL_ID`."
        ),
        s if s.ends_with("_IN_PROGRESS") => format!(
            "The operation is still running; watch it with `cfdeploy events {stack}`."
        ),
        _ => "Nothing to repair.".to_string(),
    }
}

/// A diagnosis of the stack's latest operation. `nested` holds the diagnoses of failed nested
/// stacks, which the caller fetched by following `nested_stack_ids`.
pub fn diagnose(
    stack: &str,
    status: &str,
    newest_first: &[StackEvent],
    tail_len: usize,
    nested: Vec<Diagnosis>,
) -> Diagnosis {
    let operation = latest_operation(newest_first);
    let tail = operation[operation.len().saturating_sub(tail_len)..].to_vec();
    Diagnosis {
        stack: stack.to_string(),
        status: status.to_string(),
        root_causes: root_causes(&operation),
        tail,
        nested,
        next_step: next_step(stack, status),
    }
}

/// Nested stacks among the root causes, to follow into their own events: (logical id, stack id).
pub fn nested_stack_ids(diagnosis: &Diagnosis) -> Vec<(String, String)> {
    diagnosis
        .root_causes
        .iter()
        .filter(|e| e.resource_type == "AWS::CloudFormation::Stack" && !e.is_stack_event())
        .filter_map(|e| {
            e.physical_id
                .as_ref()
                .filter(|p| p.starts_with("arn:"))
                .map(|p| (e.logical_id.clone(), p.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests;
