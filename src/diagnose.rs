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

/// The stack's operations, newest first, each oldest first.
pub fn operations(newest_first: &[StackEvent]) -> Vec<Vec<StackEvent>> {
    let mut out = Vec::new();
    let mut current: Vec<StackEvent> = Vec::new();
    for e in newest_first {
        current.push(e.clone());
        if e.is_stack_event() && e.status.starts_operation() {
            current.reverse();
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        current.reverse();
        out.push(current);
    }
    out
}

/// A diagnosis of a nested stack: its own failed operation, even when a later one ended it — a
/// nested stack whose create or update failed is deleted by its parent's rollback, and that
/// deletion says nothing about why.
pub fn diagnose_nested(
    stack: &str,
    status: &StackStatus,
    newest_first: &[StackEvent],
    tail_len: usize,
) -> Diagnosis {
    let ops = operations(newest_first);
    let failed = ops.iter().position(|op| {
        op.iter()
            .any(|e| e.is_failure() && !e.is_stack_event() && !e.is_cancellation())
    });
    let Some(i) = failed.filter(|&i| i > 0) else {
        return diagnose(stack, status, newest_first, tail_len, Vec::new());
    };
    let operation = &ops[i];
    let ended = operation
        .iter()
        .rev()
        .find(|e| e.is_stack_event())
        .map(|e| e.status.stack_status())
        .unwrap_or_else(|| status.clone());
    let later = ops[..i]
        .iter()
        .rev()
        .map(|op| {
            let last = op.iter().rev().find(|e| e.is_stack_event());
            last.map(|e| format!("{} at {}", e.status, e.timestamp))
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(", then ");
    let tail = operation[operation.len().saturating_sub(tail_len)..].to_vec();
    Diagnosis {
        stack: stack.to_string(),
        status: ended.clone(),
        root_causes: root_causes(operation),
        tail,
        nested: Vec::new(),
        next_step: format!(
            "This nested stack's own operation failed ({ended}); its parent's rollback then removed it ({later}). Fix the cause shown here and apply the parent again."
        ),
    }
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
