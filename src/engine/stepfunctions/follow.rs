//! Starting or attaching to the rollout's executions (one per region) and following them: each
//! stack waits until the execution starts its operation (seen by the client request token), then
//! is watched as the local engine watches it, so progress, NDJSON, the summary, the diagnosis and
//! the exit code are the same. Ctrl-C detaches: the executions go on.

mod pending;
mod region;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use super::StepFunctions;
use crate::apply::stack::{self, outcome, Fleet, StackOptions};
use crate::cfn::CloudFormation;
use crate::engine::Events;
use crate::model::{Outcome, OutcomeKind, Plan};
use crate::rollout::{Rollout, StackAction};
use crate::run::{request_token, Step};
use crate::watch::{Interrupt, Lookout};
use pending::{Pending, Start};
use region::{start_or_attach, NoRun, RegionRun};

/// How the executions are found and followed.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// `--state-machine`: a name or an ARN.
    pub state_machine: String,
    /// The account of a state machine given by name.
    pub account: String,
    pub stack: StackOptions,
    /// How often an execution's status is read.
    pub execution_tick: Duration,
}

/// Runs `rollout` (verified from `plan`) in Step Functions: starts each region's execution
/// unless it exists, and follows them all. Every stack gets exactly one outcome, reported as a
/// `StackFinished` event, in the rollout's order.
pub async fn follow<C: CloudFormation + StepFunctions>(
    cfn: Arc<C>,
    rollout: &Rollout,
    plan: &Plan,
    options: &FollowOptions,
    events: &Events,
    interrupt: Interrupt,
) -> Vec<Outcome> {
    // The first interrupt detaches: every watcher stops waiting at once (level 2), cancelling
    // nothing.
    crate::signals::detach_on_interrupt();
    let (detach_tx, detach) = watch::channel(0u8);
    let mut forward = interrupt.clone();
    tokio::spawn(async move {
        while forward.changed().await.is_ok() {
            if *forward.borrow() > 0 {
                let _ = detach_tx.send(2);
                break;
            }
        }
    });

    let mut regions: Vec<&str> = rollout.stacks.iter().map(|s| s.region.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    let mut runs: Vec<Result<RegionRun, NoRun>> = Vec::new();
    for region in &regions {
        // An interrupt while verifying (or starting another region) starts nothing more.
        let may_start = *interrupt.borrow() == 0;
        runs.push(start_or_attach(&cfn, rollout, plan, region, options, events, may_start).await);
    }
    if let Some(canary) = rollout.waves.first().filter(|w| w.canary) {
        let names: Vec<&str> = canary
            .stacks
            .iter()
            .map(|&i| rollout.stacks[i].stack.as_str())
            .collect();
        events.note(format!(
            "canary: the execution applies {} first; the rest follow only if {} succeed{} (--canary 0 starts all at once)",
            names.join(", "),
            if names.len() == 1 { "it" } else { "they" },
            if names.len() == 1 { "s" } else { "" }
        ));
    }

    let fleet = Fleet {
        lookout: Some(Lookout::start(Arc::clone(&cfn), options.stack.tick)),
        requests: Arc::new(Semaphore::new(rollout.concurrency)),
    };
    // Stacks waiting for the execution to start them: they share a budget of event reads.
    let waiting = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for (i, s) in rollout.stacks.iter().enumerate() {
        let run = regions
            .iter()
            .position(|r| *r == s.region)
            .map(|at| &runs[at]);
        // A stack the execution's input names is the execution's to run, whatever this run's
        // verification said (a transient read, or a flag the first apply had): it is followed.
        let named = run.and_then(|r| r.as_ref().ok()).and_then(|r| {
            r.stacks
                .iter()
                .find(|(n, _)| n == &s.stack)
                .map(|n| (n.1, r))
        });
        let pending = match (&s.action, run, named) {
            (StackAction::Execute { create, .. }, Some(Ok(run)), Some(_)) => Some((*create, run)),
            // The plan's execution exists already, started without this stack (refused by
            // the run that started it): a second one cannot start under the plan's name.
            (StackAction::Execute { .. }, Some(Ok(run)), None) => {
                let why = format!(
                    "not part of this plan's execution {} (it was not verified when that started); nothing was executed — plan again",
                    run.name
                );
                let o = outcome(s, OutcomeKind::Refused, None, 0.0, Some(why));
                tasks.spawn(async move { (i, o) });
                continue;
            }
            (StackAction::Execute { .. }, Some(Err((kind, why))), _) => {
                let o = outcome(s, *kind, None, 0.0, Some(why.clone()));
                tasks.spawn(async move { (i, o) });
                continue;
            }
            (
                StackAction::Settled {
                    kind: OutcomeKind::Refused | OutcomeKind::Blocked,
                    ..
                },
                _,
                Some((create, run)),
            ) => Some((create, run)),
            _ => None,
        };
        let cfn = Arc::clone(&cfn);
        let s = s.clone();
        let correlation_id = rollout.correlation_id.clone();
        let stack_options = options.stack.clone();
        let events = events.clone();
        let fleet = fleet.clone();
        let detach = detach.clone();
        if pending.is_some() {
            waiting.fetch_add(1, Ordering::Relaxed);
        }
        let waiting = Arc::clone(&waiting);
        let execution = pending.map(|(create, run)| {
            (
                create,
                run.ended.clone(),
                run.name.clone(),
                run.region.clone(),
            )
        });
        tasks.spawn(async move {
            let o = match execution {
                None => {
                    stack::run(
                        cfn.as_ref(),
                        &s,
                        &correlation_id,
                        &stack_options,
                        &events,
                        detach,
                        &fleet,
                    )
                    .await
                }
                Some((create, ended, name, _region)) => {
                    let token = request_token(&correlation_id, Step::Execute, &s.stack);
                    let pending = Pending {
                        cfn: cfn.as_ref(),
                        s: &s,
                        token: &token,
                        fleet: &fleet,
                        name: &name,
                        waiting: &waiting,
                    };
                    let start = pending.wait(ended, detach.clone()).await;
                    waiting.fetch_sub(1, Ordering::Relaxed);
                    match start {
                        Start::Started => {
                            stack::follow_started(
                                cfn.as_ref(),
                                &s,
                                &token,
                                create,
                                &stack_options,
                                &events,
                                detach,
                                &fleet,
                            )
                            .await
                        }
                        Start::Never(kind, why) => outcome(&s, kind, None, 0.0, Some(why)),
                    }
                }
            };
            crate::signals::settled(&s.stack);
            (i, o)
        });
    }
    let mut outcomes: Vec<Option<Outcome>> = vec![None; rollout.stacks.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, o)) => outcomes[i] = Some(events.finished(o)),
            Err(e) => tracing::error!(error = %e, "a stack follower ended abnormally"),
        }
    }
    let running: Vec<String> = runs
        .iter()
        .flatten()
        .filter(|r| !r.stacks.is_empty() && r.ended.borrow().is_none())
        .map(|r| format!("{} ({})", r.name, r.region))
        .collect();
    if *interrupt.borrow() > 0 && !running.is_empty() {
        let names = running;
        events.note(format!(
            "detached: the rollout goes on in Step Functions ({}); run the same apply again, here or on another machine, to attach; `cfdeploy engine stop --plan FILE` stops it",
            names.join(", ")
        ));
    }
    outcomes
        .into_iter()
        .zip(&rollout.stacks)
        .map(|(o, s)| {
            o.unwrap_or_else(|| {
                events.finished(outcome(
                    s,
                    OutcomeKind::Unknown,
                    None,
                    0.0,
                    Some(format!(
                        "cfdeploy lost track of this stack; `cfdeploy events {}` shows where it is",
                        s.stack
                    )),
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
