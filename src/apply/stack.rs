//! One stack of a rollout: execute its change set (or attach to the operation already running),
//! watch the operation to its end, then turn termination protection on after a create or
//! diagnose a failure. Every path ends in an `Outcome`.

use std::time::Instant;

use crate::cfn::CloudFormation;
use crate::engine::{Events, RolloutEvent};
use crate::model::{Outcome, OutcomeKind, StackStatus};
use crate::poll::PollOptions;
use crate::rollout::{RolloutStack, StackAction};
use crate::watch::{self, Interrupt, WatchEnd, Watcher};

/// How each stack is executed and watched.
#[derive(Debug, Clone)]
pub struct StackOptions {
    pub disable_rollback: bool,
    pub poll: PollOptions,
    /// Events shown in a diagnosis.
    pub events_tail: usize,
}

/// An outcome for `s` that took `seconds`.
pub fn outcome(
    s: &RolloutStack,
    kind: OutcomeKind,
    status: Option<StackStatus>,
    seconds: f64,
    message: Option<String>,
) -> Outcome {
    Outcome {
        stack: s.stack.clone(),
        region: s.region.clone(),
        kind,
        status,
        seconds,
        message,
        diagnosis: None,
    }
}

/// Runs one stack of the rollout to its outcome (not reported: the engine reports it).
pub async fn run<C: CloudFormation>(
    cfn: &C,
    s: &RolloutStack,
    options: &StackOptions,
    events: &Events,
    interrupt: Interrupt,
) -> Outcome {
    let started = Instant::now();
    let elapsed = || started.elapsed().as_secs_f64();
    match &s.action {
        StackAction::Settled {
            kind,
            status,
            message,
        } => outcome(s, *kind, status.clone(), 0.0, message.clone()),
        StackAction::Attach { status } => {
            events.note(format!(
                "{}: {status} is already in progress; attaching to it instead of starting another",
                s.stack
            ));
            let mut watcher = Watcher::new(cfn, &s.region, &s.stack, options.poll.clone());
            if let Err(e) = watcher.baseline().await {
                return outcome(
                    s,
                    OutcomeKind::Refused,
                    Some(status.clone()),
                    elapsed(),
                    Some(e.to_string()),
                );
            }
            events.emit(RolloutEvent::StackStarted {
                stack: s.stack.clone(),
                status: status.clone(),
                changes: s.changes,
            });
            finish(cfn, s, options, events, interrupt, watcher, started, true).await
        }
        StackAction::Execute {
            change_set_arn,
            create,
        } => {
            let mut watcher = Watcher::new(cfn, &s.region, &s.stack, options.poll.clone());
            if let Err(e) = watcher.baseline().await {
                return outcome(
                    s,
                    OutcomeKind::Refused,
                    None,
                    elapsed(),
                    Some(e.to_string()),
                );
            }
            if let Err(e) = cfn
                .execute_change_set(&s.region, change_set_arn, options.disable_rollback)
                .await
            {
                return outcome(
                    s,
                    OutcomeKind::Refused,
                    None,
                    elapsed(),
                    Some(format!("could not execute the change set: {e}")),
                );
            }
            tracing::info!(change_set = %change_set_arn, "change set executed");
            events.emit(RolloutEvent::StackStarted {
                stack: s.stack.clone(),
                status: if *create {
                    StackStatus::CreateInProgress
                } else {
                    StackStatus::UpdateInProgress
                },
                changes: s.changes,
            });
            finish(cfn, s, options, events, interrupt, watcher, started, false).await
        }
    }
}

/// Watches the operation to its end, then sets termination protection or diagnoses.
#[allow(clippy::too_many_arguments)]
async fn finish<C: CloudFormation>(
    cfn: &C,
    s: &RolloutStack,
    options: &StackOptions,
    events: &Events,
    mut interrupt: Interrupt,
    mut watcher: Watcher<'_, C>,
    started: Instant,
    attached: bool,
) -> Outcome {
    let end = watcher
        .watch(
            &mut |e| events.emit(RolloutEvent::StackEvent(e.clone())),
            &mut interrupt,
        )
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = match end {
        Ok(WatchEnd::Settled(status)) => status,
        Ok(WatchEnd::Abandoned(status)) => {
            return outcome(
                s,
                OutcomeKind::Abandoned,
                status,
                elapsed,
                Some(format!(
                    "stopped waiting; the operation goes on in CloudFormation: `cfdeploy events {}` shows where it is",
                    s.stack
                )),
            );
        }
        Err(e) => {
            return outcome(
                s,
                OutcomeKind::Abandoned,
                None,
                elapsed,
                Some(format!(
                    "lost track of the operation: {e}; `cfdeploy events {}` shows where it is",
                    s.stack
                )),
            );
        }
    };
    let mut kind = OutcomeKind::from_final_status(&status);
    if watcher.cancelled && kind == OutcomeKind::RolledBack {
        kind = OutcomeKind::Cancelled;
    }
    let mut message = attached.then(|| "attached to an operation already in progress".to_string());
    if kind == OutcomeKind::Created && s.termination_protection && !attached {
        if let Err(e) = cfn
            .update_termination_protection(&s.region, &s.stack, true)
            .await
        {
            message = Some(format!(
                "created, but termination protection could not be set: {e}"
            ));
        }
    }
    let mut result = outcome(s, kind, Some(status.clone()), elapsed, message);
    if !kind.succeeded() {
        match watch::diagnose_stack(
            cfn,
            &s.region,
            &s.stack,
            &s.stack,
            &status,
            options.events_tail,
        )
        .await
        {
            Ok(d) => result.diagnosis = Some(d),
            Err(e) => {
                result.message = Some(format!("could not read the stack events to diagnose: {e}"))
            }
        }
    }
    result
}
