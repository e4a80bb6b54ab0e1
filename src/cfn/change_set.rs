//! Change sets as a whole: waiting for CloudFormation to compute one, reading every page of its
//! changes, recognising "no changes", and completing incomplete property values.

use std::collections::BTreeMap;

use super::pacer::Pacer;
use super::{CfnError, CloudFormation};
use crate::model::{ChangeSetStatus, ResourceChange};
use crate::poll::PollOptions;
use crate::signals::Interrupt;

/// Why a change set could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ChangeSetError {
    #[error("{0}")]
    Cfn(#[from] CfnError),
    /// CloudFormation was still computing it when the poll timed out.
    #[error("{0}")]
    Timeout(String),
    /// The run was interrupted while waiting.
    #[error("not planned: interrupted")]
    Interrupted,
}

/// What a change set turned out to be once CloudFormation computed it.
#[derive(Debug)]
pub enum ChangeSetOutcome {
    /// Its changes, and CloudFormation's warning about it when it gave one.
    Ready(Vec<ResourceChange>, Option<String>),
    NoChanges,
    Failed(String),
}

/// What CloudFormation says when a change set would change nothing. It reports this as FAILED.
pub fn is_no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes")
        || reason.contains("No updates are to be performed")
        || reason.contains("does not contain any changes")
}

/// CloudFormation's warning that `IncludePropertyValues` could not compute every value.
fn is_incomplete_values_warning(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("propert") && (r.contains("incomplete") || r.contains("[warn]"))
}

/// Polls the change set until CloudFormation has computed it, then reads every page of its
/// changes (with property values, completed from a plain description when CloudFormation warns
/// that the values are incomplete).
pub async fn wait_and_read<C: CloudFormation>(
    cfn: &C,
    region: &str,
    arn: &str,
    poll: &PollOptions,
    interrupt: &Interrupt,
    pacer: &Pacer,
) -> Result<ChangeSetOutcome, ChangeSetError> {
    let started = tokio::time::Instant::now();
    let mut backoff = poll.backoff();
    let mut ticket = pacer.join();
    let mut last_status = None;
    let first = loop {
        let mut interrupt = interrupt.clone();
        tokio::select! {
            _ = ticket.wait(&mut backoff) => {}
            _ = interrupt.changed() => {}
        }
        if *interrupt.borrow() > 0 {
            return Err(ChangeSetError::Interrupted);
        }
        if let Some(status) = last_status.filter(|_| started.elapsed() >= poll.timeout) {
            return Err(ChangeSetError::Timeout(format!(
                "the change set was still {status:?} after {}s; it was deleted, try again",
                poll.timeout.as_secs()
            )));
        }
        let page = cfn.describe_change_set(region, arn, true, None).await?;
        if !page.status.is_pending() {
            ticket.done(true);
            break page;
        }
        last_status = Some(page.status);
    };
    match first.status {
        ChangeSetStatus::CreateComplete => {}
        ChangeSetStatus::Failed => {
            let reason = first.status_reason.unwrap_or_default();
            return Ok(if is_no_changes(&reason) {
                ChangeSetOutcome::NoChanges
            } else {
                ChangeSetOutcome::Failed(if reason.is_empty() {
                    "(CloudFormation gave no reason)".to_string()
                } else {
                    reason
                })
            });
        }
        other => {
            return Ok(ChangeSetOutcome::Failed(format!(
                "unexpected change set status {other:?}"
            )))
        }
    }
    let warning = first.status_reason.clone().filter(|r| !r.trim().is_empty());
    let incomplete = warning.as_deref().is_some_and(is_incomplete_values_warning);
    let mut with_values =
        read_rest(cfn, region, arn, true, first.changes, first.next_token).await?;
    if !incomplete {
        merge_causes(&mut with_values);
        return Ok(ChangeSetOutcome::Ready(with_values, warning));
    }
    tracing::info!(
        change_set = arn,
        "property values incomplete; describing again without them"
    );
    let without_values = read_rest(cfn, region, arn, false, Vec::new(), None).await?;
    let mut merged = merge_property_values(without_values, &with_values);
    merge_causes(&mut merged);
    Ok(ChangeSetOutcome::Ready(merged, warning))
}

/// Reads the remaining pages of `Changes` after a first page's `changes` and `next_token`.
pub async fn read_rest<C: CloudFormation>(
    cfn: &C,
    region: &str,
    arn: &str,
    include_property_values: bool,
    mut changes: Vec<ResourceChange>,
    mut next_token: Option<String>,
) -> Result<Vec<ResourceChange>, ChangeSetError> {
    if changes.is_empty() && next_token.is_none() && !include_property_values {
        let page = cfn.describe_change_set(region, arn, false, None).await?;
        changes = page.changes;
        next_token = page.next_token;
    }
    while let Some(token) = next_token {
        let page = cfn
            .describe_change_set(region, arn, include_property_values, Some(&token))
            .await?;
        changes.extend(page.changes);
        next_token = page.next_token;
    }
    Ok(changes)
}

/// The change list without property values is complete; lay the values known from the other
/// description over it, detail by detail, where the same resource and property appear in both.
fn merge_property_values(
    mut complete: Vec<ResourceChange>,
    with_values: &[ResourceChange],
) -> Vec<ResourceChange> {
    let by_id: BTreeMap<&str, &ResourceChange> = with_values
        .iter()
        .map(|c| (c.logical_id.as_str(), c))
        .collect();
    for change in &mut complete {
        let Some(valued) = by_id.get(change.logical_id.as_str()) else {
            continue;
        };
        if change.physical_id.is_none() {
            change.physical_id = valued.physical_id.clone();
        }
        for detail in &mut change.details {
            if let Some(v) = valued
                .details
                .iter()
                .find(|v| v.attribute == detail.attribute && v.name == detail.name)
            {
                detail.before = detail.before.take().or_else(|| v.before.clone());
                detail.after = detail.after.take().or_else(|| v.after.clone());
                detail.path = detail.path.take().or_else(|| v.path.clone());
            }
        }
        if change.details.is_empty() {
            change.details = valued.details.clone();
        }
    }
    complete
}

/// CloudFormation describes a property once per cause of its change (a direct edit, and a
/// reference to a resource attribute, say): one property, listed once, with every cause.
pub fn merge_causes(changes: &mut [ResourceChange]) {
    for change in changes {
        let mut merged: Vec<crate::model::PropertyChange> = Vec::new();
        for detail in change.details.drain(..) {
            let cause = cause_of(&detail);
            let same = merged.iter_mut().find(|m| {
                m.attribute == detail.attribute && m.name == detail.name && m.path == detail.path
            });
            match same {
                Some(first) => {
                    if first.causes.is_empty() {
                        let first_cause = cause_of(first);
                        first.causes.push(first_cause);
                    }
                    if !cause.is_empty() && !first.causes.contains(&cause) {
                        first.causes.push(cause);
                    }
                    first.before = first.before.take().or(detail.before);
                    first.after = first.after.take().or(detail.after);
                }
                None => merged.push(detail),
            }
        }
        change.details = merged;
    }
}

/// `DirectModification`, or `ResourceAttribute (Parameter1.Value)`.
fn cause_of(detail: &crate::model::PropertyChange) -> String {
    match (&detail.change_source, &detail.causing_entity) {
        (Some(source), Some(entity)) => format!("{source} ({entity})"),
        (Some(source), None) => source.clone(),
        (None, Some(entity)) => entity.clone(),
        (None, None) => String::new(),
    }
}

/// Deletes a change set this run created and will not use; a failure is logged, not fatal.
pub async fn delete_quietly<C: CloudFormation>(cfn: &C, region: &str, arn: &str) {
    if let Err(e) = cfn.delete_change_set(region, arn).await {
        tracing::warn!(change_set = arn, error = %e, "could not delete change set");
    }
}
