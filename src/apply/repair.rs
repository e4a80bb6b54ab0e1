//! `cfdeploy rollback STACK…`: repairs a stack left in a state that needs a person, as the status
//! table says (roll back, continue a failed rollback, or delete when asked), then watches and
//! diagnoses like apply.

use std::time::Instant;

use crate::cfn::CloudFormation;
use crate::engine::{Events, RolloutEvent};
use crate::model::{Outcome, OutcomeKind, Repair, StackStatus};
use crate::poll::PollOptions;
use crate::run::{request_token, Step};
use crate::watch::{self, Interrupt, WatchEnd, Watcher};

#[derive(Debug, Clone)]
pub struct RepairOptions {
    /// With UPDATE_ROLLBACK_FAILED: logical ids that cannot be rolled back.
    pub skip_resources: Vec<String>,
    /// Delete stacks that can only be deleted.
    pub delete: bool,
    pub poll: PollOptions,
    pub events_tail: usize,
}

/// Repairs one stack and returns its outcome (not reported: the caller reports it).
pub async fn repair<C: CloudFormation>(
    cfn: &C,
    correlation_id: &str,
    region: &str,
    name: &str,
    options: &RepairOptions,
    events: &Events,
    mut interrupt: Interrupt,
) -> Outcome {
    let started = Instant::now();
    let done = |kind, status: Option<StackStatus>, message: Option<String>| Outcome {
        stack: name.to_string(),
        region: region.to_string(),
        kind,
        status,
        seconds: started.elapsed().as_secs_f64(),
        message,
        diagnosis: None,
        outputs: Vec::new(),
    };
    let stack = match cfn.describe_stack(region, name).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return done(
                OutcomeKind::Refused,
                None,
                Some(format!("stack does not exist in {region}")),
            )
        }
        Err(e) => return done(OutcomeKind::Refused, None, Some(e.to_string())),
    };
    let status = stack.status.clone();
    let (act, expected) = match status.repair() {
        Repair::Nothing => {
            return done(
                OutcomeKind::Unchanged,
                Some(status),
                Some("nothing to repair".to_string()),
            )
        }
        Repair::Delete if !options.delete => {
            let why = status.advice(name).unwrap_or_default();
            return done(
                OutcomeKind::Refused,
                Some(status),
                Some(format!(
                    "the stack can only be deleted; pass --delete to delete `{name}`. {why}"
                )),
            );
        }
        Repair::Wait => (false, "attached"),
        Repair::RollBack => (true, "rolled back"),
        Repair::ContinueRollback => (true, "rollback continued"),
        Repair::Delete => (true, "deleted"),
    };
    // Watch by stack id: a deleted stack can no longer be described by name.
    let mut watcher = Watcher::new(cfn, region, &stack.stack_id, options.poll.clone());
    if let Err(e) = watcher.baseline().await {
        return done(OutcomeKind::Refused, Some(status), Some(e.to_string()));
    }
    if act {
        let called = match status.repair() {
            Repair::RollBack => {
                let token = request_token(correlation_id, Step::Rollback, name);
                cfn.rollback_stack(region, name, &token).await
            }
            Repair::ContinueRollback => {
                let token = request_token(correlation_id, Step::ContinueRollback, name);
                cfn.continue_update_rollback(region, name, &options.skip_resources, &token)
                    .await
            }
            Repair::Delete => {
                let token = request_token(correlation_id, Step::Delete, name);
                cfn.delete_stack(region, &stack.stack_id, &token, &[]).await
            }
            Repair::Nothing | Repair::Wait => Ok(()),
        };
        if let Err(e) = called {
            return done(OutcomeKind::Refused, Some(status), Some(e.to_string()));
        }
    }
    crate::signals::running(name);
    events.emit(RolloutEvent::StackStarted {
        stack: name.to_string(),
        status: status.clone(),
        changes: 0,
    });
    let end = watcher
        .watch(
            &mut |e| events.emit(RolloutEvent::StackEvent(e.clone())),
            &mut interrupt,
            None,
            None,
        )
        .await;
    crate::signals::settled(name);
    let final_status = match end {
        Ok(WatchEnd::Settled(s)) => s,
        Ok(WatchEnd::Abandoned(s)) => {
            return done(
                OutcomeKind::Abandoned,
                s,
                Some(format!("stopped waiting: `cfdeploy events {name}`")),
            )
        }
        Err(e) => return done(OutcomeKind::Abandoned, None, Some(e.to_string())),
    };
    let kind = match final_status {
        StackStatus::UpdateRollbackComplete
        | StackStatus::DeleteComplete
        | StackStatus::RollbackComplete => OutcomeKind::Repaired,
        ref other => OutcomeKind::from_final_status(other),
    };
    let message = match final_status {
        StackStatus::RollbackComplete => format!(
            "{expected}; the stack is empty: delete it with `cfdeploy rollback {name} --delete` before applying again"
        ),
        _ => expected.to_string(),
    };
    let mut result = done(kind, Some(final_status.clone()), Some(message));
    if !kind.succeeded() {
        if let Ok(d) = watch::diagnose_stack(
            cfn,
            region,
            &stack.stack_id,
            name,
            &final_status,
            options.events_tail,
        )
        .await
        {
            result.diagnosis = Some(d);
        }
    }
    result
}
