//! Diagnosis of a failed stack operation from its events: the root cause first (the earliest
//! failures, not the cascade of cancellations they cause), the tail of the operation's events,
//! and what to do next. Pure functions over events; fetching them is the caller's job.

use crate::model::{Diagnosis, StackEvent, StackStatus};

/// The events of the stack's most recent operation, oldest first, from events newest first (as
/// `DescribeStackEvents` returns them). Events of earlier operations are never included.
pub fn latest_operation(newest_first: &[StackEvent]) -> Vec<StackEvent> {
    let start = newest_first
        .iter()
        .position(|e| e.is_stack_event() && e.status.starts_operation());
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
                && (e.is_failure() || e.status.is_rollback())
        });
        causes.extend(stack_reason.cloned());
    }
    causes
}

/// A diagnosis of the stack's latest operation. `nested` holds the diagnoses of failed nested
/// stacks, which the caller fetched by following `nested_stack_ids`.
pub fn diagnose(
    stack: &str,
    status: &StackStatus,
    newest_first: &[StackEvent],
    tail_len: usize,
    nested: Vec<Diagnosis>,
) -> Diagnosis {
    let operation = latest_operation(newest_first);
    let tail = operation[operation.len().saturating_sub(tail_len)..].to_vec();
    Diagnosis {
        stack: stack.to_string(),
        status: status.clone(),
        root_causes: root_causes(&operation),
        tail,
        nested,
        next_step: status
            .advice(stack)
            .unwrap_or_else(|| "Nothing to repair.".to_string()),
    }
}

/// Nested stacks among the root causes, to follow into their own events: (logical id, stack id).
pub fn nested_stack_ids(diagnosis: &Diagnosis) -> Vec<(String, String)> {
    diagnosis
        .root_causes
        .iter()
        .filter(|e| e.is_nested_stack())
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
