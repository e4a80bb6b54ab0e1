//! One stack of a rollout: execute its change set (or attach to the operation already running),
//! watch the operation to its end, then turn termination protection on after a create or
//! diagnose a failure. Every path ends in an `Outcome`.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

use crate::cfn::CloudFormation;
use crate::engine::{Events, RolloutEvent};
use crate::model::{Outcome, OutcomeKind, StackStatus};
use crate::poll::PollOptions;
use crate::rollout::{RolloutStack, StackAction};
use crate::run::{request_token, Step};
use crate::watch::{self, Interrupt, Lookout, WatchEnd, Watcher};

/// How each stack is executed and watched.
#[derive(Debug, Clone)]
pub struct StackOptions {
    pub disable_rollback: bool,
    pub poll: PollOptions,
    /// Events shown in a diagnosis.
    pub events_tail: usize,
    /// How often the fleet's running stacks are listed (`watch::lookout::TICK`).
    pub tick: std::time::Duration,
}

/// What the stacks of a rollout share: the lookout cueing their watchers, and the permits for
/// requests in flight (`concurrency`), held while calling, never while waiting.
#[derive(Clone)]
pub struct Fleet {
    pub lookout: Option<Lookout>,
    pub requests: Arc<Semaphore>,
}

impl Fleet {
    async fn permit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        // The semaphore is never closed, so acquiring cannot fail.
        self.requests.acquire().await.ok()
    }
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
        outputs: Vec::new(),
    }
}

/// Runs one stack of the rollout to its outcome (not reported: the engine reports it).
/// `correlation_id` is the plan's: the client request tokens derive from it, so a retried call and
/// a re-run of the same plan are recognised.
pub async fn run<C: CloudFormation>(
    cfn: &C,
    s: &RolloutStack,
    correlation_id: &str,
    options: &StackOptions,
    events: &Events,
    interrupt: Interrupt,
    fleet: &Fleet,
) -> Outcome {
    let started = Instant::now();
    let elapsed = || started.elapsed().as_secs_f64();
    match &s.action {
        StackAction::Settled {
            kind,
            status,
            message,
        } => outcome(s, *kind, status.clone(), 0.0, message.clone()),
        StackAction::Delete { deletion } => {
            let options = crate::delete::DeleteOptions {
                retain: Vec::new(),
                poll: options.poll.clone(),
                events_tail: options.events_tail,
            };
            crate::delete::execute(cfn, deletion, correlation_id, &options, events, interrupt).await
        }
        StackAction::Attach { status } => {
            events.note(format!(
                "{}: {status} is already in progress; attaching to it instead of starting another",
                s.stack
            ));
            // Its events are those of the stack's latest operation (whoever started it).
            let watcher = Watcher::new(cfn, &s.region, &s.stack, options.poll.clone());
            crate::signals::running(&s.stack);
            events.emit(RolloutEvent::StackStarted {
                stack: s.stack.clone(),
                status: status.clone(),
                changes: s.changes,
            });
            let watching = Watching {
                watcher,
                fleet,
                status: Some(status.clone()),
            };
            finish(cfn, s, options, events, interrupt, watching, started, true).await
        }
        StackAction::Execute {
            change_set_arn,
            create,
        } => {
            let token = request_token(correlation_id, Step::Execute, &s.stack);
            let mut watcher =
                Watcher::new(cfn, &s.region, &s.stack, options.poll.clone()).for_operation(&token);
            let permit = fleet.permit().await;
            if let Err(e) = cfn
                .execute_change_set(&s.region, change_set_arn, options.disable_rollback, &token)
                .await
            {
                // The call may have reached CloudFormation with its answer lost, and a retry
                // then refused ("already executing"): the operation's own events say whether
                // it started, by the token.
                match watch::started_with(cfn, &s.region, &s.stack, &token).await {
                    Some(true) => events.note(format!(
                        "{}: the answer to ExecuteChangeSet was lost ({}), but the change set is executing; watching it",
                        s.stack,
                        e.message()
                    )),
                    Some(false) => {
                        return outcome(
                            s,
                            OutcomeKind::Refused,
                            None,
                            elapsed(),
                            Some(format!("could not execute the change set: {e}")),
                        )
                    }
                    None => {
                        return outcome(
                            s,
                            OutcomeKind::Unknown,
                            None,
                            elapsed(),
                            Some(format!(
                                "cannot tell whether the change set started ({e}); `cfdeploy events {}` shows the stack",
                                s.stack
                            )),
                        )
                    }
                }
            }
            drop(permit);
            tracing::info!(change_set = %change_set_arn, "change set executed");
            if !*create {
                watcher.cancel_token = Some(request_token(correlation_id, Step::Cancel, &s.stack));
            }
            let how = Watching {
                watcher,
                fleet,
                status: None,
            };
            watch_started(cfn, s, how, *create, options, events, interrupt, started).await
        }
    }
}

/// Watches to its end an operation another engine started on `s` with client request token
/// `token` (a Step Functions execution), as if this process had started it: the same events,
/// outcome, outputs and diagnosis. The first interrupt detaches (nothing is cancelled).
#[allow(clippy::too_many_arguments)]
pub async fn follow_started<C: CloudFormation>(
    cfn: &C,
    s: &RolloutStack,
    token: &str,
    create: bool,
    options: &StackOptions,
    events: &Events,
    interrupt: Interrupt,
    fleet: &Fleet,
) -> Outcome {
    let started = Instant::now();
    let watcher = Watcher::new(cfn, &s.region, &s.stack, options.poll.clone()).for_operation(token);
    let how = Watching {
        watcher,
        fleet,
        status: None,
    };
    watch_started(cfn, s, how, create, options, events, interrupt, started).await
}

/// Watches an operation just started on `s` (by this process, or by another engine) to its
/// end, from the status it starts in.
#[allow(clippy::too_many_arguments)]
async fn watch_started<C: CloudFormation>(
    cfn: &C,
    s: &RolloutStack,
    mut watching: Watching<'_, C>,
    create: bool,
    options: &StackOptions,
    events: &Events,
    interrupt: Interrupt,
    started: Instant,
) -> Outcome {
    crate::signals::running(&s.stack);
    let status = if create {
        StackStatus::CreateInProgress
    } else {
        StackStatus::UpdateInProgress
    };
    events.emit(RolloutEvent::StackStarted {
        stack: s.stack.clone(),
        status: status.clone(),
        changes: s.changes,
    });
    watching.status = Some(status);
    finish(cfn, s, options, events, interrupt, watching, started, false).await
}

/// How a stack's operation is watched: by whom, cued by which lookout, from which status.
struct Watching<'a, C> {
    watcher: Watcher<'a, C>,
    fleet: &'a Fleet,
    status: Option<StackStatus>,
}

/// Watches the operation to its end, then sets termination protection or diagnoses.
#[allow(clippy::too_many_arguments)]
async fn finish<C: CloudFormation>(
    cfn: &C,
    s: &RolloutStack,
    options: &StackOptions,
    events: &Events,
    mut interrupt: Interrupt,
    watching: Watching<'_, C>,
    started: Instant,
    attached: bool,
) -> Outcome {
    let Watching {
        mut watcher,
        fleet,
        status,
    } = watching;
    let end = watcher
        .watch(
            &mut |e| events.emit(RolloutEvent::StackEvent(e.clone())),
            &mut interrupt,
            fleet.lookout.as_ref(),
            status,
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
                OutcomeKind::Unknown,
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
    if matches!(kind, OutcomeKind::Created | OutcomeKind::Updated) && s.outputs {
        let _permit = fleet.permit().await;
        match cfn.describe_stack(&s.region, &s.stack).await {
            Ok(Some(stack)) => result.outputs = stack.outputs,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(stack = %s.stack, error = %e, "could not read the stack's outputs")
            }
        }
    }
    if !kind.succeeded() {
        let _permit = fleet.permit().await;
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
