//! A stack's event history read for a purpose: whether an operation with a given token started,
//! and the diagnosis of its latest operation (with failed nested stacks followed one level).

use super::MAX_DIAGNOSIS_PAGES;
use crate::cfn::{CfnError, CloudFormation};
use crate::diagnose;
use crate::model::{Diagnosis, StackEvent, StackStatus};

/// Whether an operation started by the call with `token` shows in the stack's newest events:
/// `Some(true)` it did, `Some(false)` it did not, `None` the events cannot be read.
pub async fn started_with<C: CloudFormation>(
    cfn: &C,
    region: &str,
    stack: &str,
    token: &str,
) -> Option<bool> {
    let page = match cfn.describe_stack_events(region, stack, None).await {
        Ok(page) => page,
        Err(e @ (CfnError::Throttled { .. } | CfnError::Transport { .. })) => {
            tracing::warn!(stack, error = %e, "cannot read the stack events to see whether the operation started");
            return None;
        }
        Err(_) => return Some(false),
    };
    Some(
        page.events
            .iter()
            .any(|e| e.client_request_token.as_deref() == Some(token)),
    )
}

/// The resources a stack's failed deletions deleted already (`DELETE_COMPLETE`), read back
/// through its events to the last operation that was not a deletion: for a stack in
/// `DELETE_FAILED`, the deployed template's resources less these are what is left to delete.
pub async fn deleted_by_failed_deletions<C: CloudFormation>(
    cfn: &C,
    region: &str,
    stack: &str,
) -> Result<std::collections::BTreeSet<String>, CfnError> {
    let before_deleting = |e: &StackEvent| e.is_stack_event() && !e.status.is_deletion();
    let events = events_until(cfn, region, stack, |events| {
        events.iter().any(before_deleting)
    })
    .await?;
    Ok(events
        .iter()
        .take_while(|e| !before_deleting(e))
        .filter(|e| !e.is_stack_event() && e.status.is_deleted())
        .map(|e| e.logical_id.clone())
        .collect())
}

/// Reads the stack's events back to the start of its latest operation and diagnoses it,
/// following failed nested stacks into their own events (one level). `stack` is what to read
/// (a name or a stack id); `name` is how the user knows the stack, used in the advice.
pub async fn diagnose_stack<C: CloudFormation>(
    cfn: &C,
    region: &str,
    stack: &str,
    name: &str,
    status: &StackStatus,
    tail: usize,
) -> Result<Diagnosis, CfnError> {
    let events = operation_events(cfn, region, stack).await?;
    let mut diagnosis = diagnose::diagnose(name, status, &events, tail, Vec::new());
    for (_, nested_id) in diagnose::nested_stack_ids(&diagnosis) {
        let nested_events = events_back_to_a_failure(cfn, region, &nested_id).await?;
        let nested_status = cfn
            .describe_stack(region, &nested_id)
            .await
            .ok()
            .flatten()
            .map(|s| s.status)
            .unwrap_or_else(|| StackStatus::Other(String::new()));
        let nested_name = nested_events
            .first()
            .map(|e| e.stack_name.clone())
            .unwrap_or(nested_id.clone());
        diagnosis.nested.push(diagnose::diagnose_nested(
            &nested_name,
            &nested_status,
            &nested_events,
            tail,
        ));
    }
    Ok(diagnosis)
}

/// Events of a nested stack, newest first, back to the start of the latest operation in which a
/// resource failed (a deleted nested stack's latest operation is its deletion).
async fn events_back_to_a_failure<C: CloudFormation>(
    cfn: &C,
    region: &str,
    stack: &str,
) -> Result<Vec<StackEvent>, CfnError> {
    events_until(cfn, region, stack, |events| {
        diagnose::operations(events).iter().any(|op| {
            op.first()
                .is_some_and(|e| e.is_stack_event() && e.status.starts_operation())
                && op
                    .iter()
                    .any(|e| e.is_failure() && !e.is_stack_event() && !e.is_cancellation())
        })
    })
    .await
}

/// Events, newest first, back to (and including) the start of the latest operation.
async fn operation_events<C: CloudFormation>(
    cfn: &C,
    region: &str,
    stack: &str,
) -> Result<Vec<StackEvent>, CfnError> {
    events_until(cfn, region, stack, |events| {
        diagnose::latest_operation(events)
            .first()
            .is_some_and(|first| first.is_stack_event() && first.status.is_in_progress())
    })
    .await
}

/// The stack's events, newest first, page after page until `enough` says so (or the pages end,
/// or `MAX_DIAGNOSIS_PAGES` were read).
async fn events_until<C: CloudFormation>(
    cfn: &C,
    region: &str,
    stack: &str,
    enough: impl Fn(&[StackEvent]) -> bool,
) -> Result<Vec<StackEvent>, CfnError> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_DIAGNOSIS_PAGES {
        let page = cfn
            .describe_stack_events(region, stack, token.as_deref())
            .await?;
        events.extend(page.events);
        match page.next_token {
            Some(next) if !enough(&events) => token = Some(next),
            _ => break,
        }
    }
    Ok(events)
}
