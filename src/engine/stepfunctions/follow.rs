//! Starting or attaching to the rollout's executions (one per region) and following them: each
//! stack waits until the execution starts its operation (seen by the client request token), then
//! is watched as the local engine watches it, so progress, NDJSON, the summary, the diagnosis and
//! the exit code are the same. Ctrl-C detaches: the executions go on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use super::{
    execution_arn, execution_name, input, state_machine_arn, ExecutionState, ExecutionStatus,
    StepFunctions, MAX_INPUT_BYTES,
};
use crate::apply::stack::{self, outcome, Fleet, StackOptions};
use crate::cfn::CloudFormation;
use crate::engine::Events;
use crate::model::{Outcome, OutcomeKind, Plan};
use crate::rollout::{Rollout, RolloutStack, StackAction};
use crate::run::{request_token, Step};
use crate::watch::{Interrupt, Lookout, Sighting};

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

/// One region's execution.
struct RegionRun {
    region: String,
    name: String,
    /// The stacks its input names, and whether each is a create.
    stacks: Vec<(String, bool)>,
    /// The execution's end, once seen (`None` while it runs).
    ended: watch::Receiver<Option<ExecutionState>>,
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
    let mut runs: Vec<Result<RegionRun, String>> = Vec::new();
    for region in &regions {
        runs.push(start_or_attach(&cfn, rollout, plan, region, options, events).await);
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
            (StackAction::Execute { create, .. }, Some(Ok(run)), _) => Some((*create, run)),
            (StackAction::Execute { .. }, Some(Err(why)), _) => {
                let o = outcome(s, OutcomeKind::Refused, None, 0.0, Some(why.clone()));
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
    if *interrupt.borrow() > 0 {
        let names: Vec<String> = runs
            .iter()
            .flatten()
            .map(|r| format!("{} ({})", r.name, r.region))
            .collect();
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

/// Finds the region's execution, or starts it when the region has change sets to execute, and
/// starts reading its status.
async fn start_or_attach<C: CloudFormation + StepFunctions>(
    cfn: &Arc<C>,
    rollout: &Rollout,
    plan: &Plan,
    region: &str,
    options: &FollowOptions,
    events: &Events,
) -> Result<RegionRun, String> {
    let machine = state_machine_arn(&options.state_machine, region, &options.account);
    let name = execution_name(plan, region);
    let arn = execution_arn(&machine, &name);
    let existing = cfn
        .describe_execution(region, &arn)
        .await
        .map_err(|e| format!("could not read the execution {name} in {region}: {e}; nothing was executed — apply again"))?;
    let stacks = match existing {
        Some(state) => {
            let sent: serde_json::Value = state
                .input
                .as_deref()
                .and_then(|i| serde_json::from_str(i).ok())
                .unwrap_or_default();
            events.note(format!(
                "{region}: attaching to execution {name} ({}), started for this plan earlier",
                match &state.status {
                    ExecutionStatus::Running => "running".to_string(),
                    ExecutionStatus::Succeeded => "ended".to_string(),
                    ExecutionStatus::Ended(s) => s.to_lowercase(),
                }
            ));
            super::stacks_in(&sent)
        }
        None => {
            let body = input(rollout, region);
            let text = body.to_string();
            if text.len() > MAX_INPUT_BYTES {
                return Err(format!(
                    "the rollout of {region} is {} KB, over Step Functions' {} KB input limit; nothing was executed — apply part of the fleet (--stack) per run, or use the local engine",
                    text.len() / 1024,
                    MAX_INPUT_BYTES / 1024
                ));
            }
            let stacks = super::stacks_in(&body);
            if stacks.is_empty() {
                stacks
            } else {
                start(cfn.as_ref(), region, &machine, &name, &text, events).await?
            }
        }
    };
    let (tx, ended) = watch::channel(None);
    let cfn = Arc::clone(cfn);
    let (r, a, tick) = (region.to_string(), arn.clone(), options.execution_tick);
    tokio::spawn(async move {
        loop {
            match cfn.describe_execution(&r, &a).await {
                Ok(Some(state)) if state.status != ExecutionStatus::Running => {
                    let _ = tx.send(Some(state));
                    return;
                }
                Ok(None) => {
                    // Nothing to run in this region (every stack attached or settled).
                    let _ = tx.send(Some(ExecutionState {
                        status: ExecutionStatus::Ended("NOT_STARTED".into()),
                        input: None,
                        output: None,
                        error: None,
                        cause: None,
                    }));
                    return;
                }
                Ok(Some(_)) => {}
                Err(e) => tracing::warn!(error = %e, "could not read the execution's status"),
            }
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(tick).await;
        }
    });
    Ok(RegionRun {
        region: region.to_string(),
        name,
        stacks,
        ended,
    })
}

/// Starts the region's execution with `input` and returns the stacks it runs: checks first that
/// the state machine is this cfdeploy's (an execution of another version's definition would
/// read the input differently); another runner starting the same plan at the same moment makes
/// this one attach to that execution.
async fn start<C: StepFunctions>(
    cfn: &C,
    region: &str,
    machine: &str,
    name: &str,
    input: &str,
    events: &Events,
) -> Result<Vec<(String, bool)>, String> {
    let deploy = format!("`cfdeploy engine deploy --region {region}`");
    match cfn.state_machine_definition(region, machine).await {
        Ok(Some(definition)) if super::is_current(&definition) => {}
        Ok(Some(_)) => {
            return Err(format!(
                "the state machine {machine} runs another cfdeploy version's definition; update it with {deploy} (nothing was executed)"
            ))
        }
        Ok(None) => {
            return Err(format!(
                "there is no state machine {machine}; deploy it first: {deploy} --role-arn ROLE (nothing was executed)"
            ))
        }
        Err(e) => {
            return Err(format!(
                "could not read the state machine {machine}: {e}; nothing was executed — apply again"
            ))
        }
    }
    match cfn.start_execution(region, machine, name, input).await {
        Ok(_) => {
            events.note(format!(
                "{region}: started execution {name} of {machine}; Ctrl-C detaches (the rollout goes on), and the same apply attaches again from any machine"
            ));
            Ok(super::stacks_in(
                &serde_json::from_str(input).unwrap_or_default(),
            ))
        }
        Err(e) if e.code() == Some("ExecutionAlreadyExists") => {
            let arn = execution_arn(machine, name);
            let state = cfn
                .describe_execution(region, &arn)
                .await
                .ok()
                .flatten()
                .ok_or_else(|| format!("could not read the execution {name}, which another runner started; apply again to attach"))?;
            events.note(format!(
                "{region}: another runner started execution {name} for this plan a moment ago; attaching to it"
            ));
            Ok(super::stacks_in(
                &state
                    .input
                    .as_deref()
                    .and_then(|i| serde_json::from_str(i).ok())
                    .unwrap_or_default(),
            ))
        }
        Err(e) => Err(format!(
            "could not start the execution in {region}: {e}; nothing was executed"
        )),
    }
}

/// A stack whose change set the execution has not executed yet.
struct Pending<'a, C> {
    cfn: &'a C,
    s: &'a RolloutStack,
    token: &'a str,
    fleet: &'a Fleet,
    name: &'a str,
    /// How many stacks are waiting, this one included.
    waiting: &'a AtomicUsize,
}

enum Start {
    Started,
    /// It will not start: the outcome and why.
    Never(OutcomeKind, String),
}

impl<C: CloudFormation> Pending<'_, C> {
    /// Waits until the execution starts the stack's operation (listed as running, then its token
    /// seen in the events; also checked every few listings, for operations shorter than a
    /// tick), until the execution ends without starting it, or until detached.
    async fn wait(
        &self,
        mut ended: watch::Receiver<Option<ExecutionState>>,
        mut detach: Interrupt,
    ) -> Start {
        let lookout = self.fleet.lookout.as_ref();
        let mut subscription = lookout.map(|l| l.subscribe(&self.s.region, &self.s.stack));
        let mut boards = 0u32;
        loop {
            if *detach.borrow() > 0 {
                return Start::Never(
                    OutcomeKind::Abandoned,
                    format!(
                        "detached while it waited its turn in execution {}; it goes on there",
                        self.name
                    ),
                );
            }
            let state = ended.borrow().clone();
            if let Some(state) = state {
                return match self.started().await {
                    Some(true) => Start::Started,
                    Some(false) => {
                        Start::Never(OutcomeKind::NotStarted, not_started_because(&state))
                    }
                    None => Start::Never(
                        OutcomeKind::Unknown,
                        format!(
                            "cannot read its events to tell whether the execution started it; `cfdeploy events {}` shows the stack",
                            self.s.stack
                        ),
                    ),
                };
            }
            let listed = async {
                match subscription.as_mut() {
                    Some(sub) => sub.next().await,
                    None => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        None
                    }
                }
            };
            tokio::select! {
                board = listed => {
                    boards += 1;
                    // Listed as running: it may be the execution's operation. Besides, the
                    // waiting stacks read their events in turn, about two a tick in all (at
                    // least every third tick each): an operation shorter than a tick, which
                    // the listing misses, is found soon all the same.
                    let running = board.is_some_and(|b| {
                        matches!(
                            b.sighting(&self.s.region, &self.s.stack),
                            Sighting::Running { .. }
                        )
                    });
                    let every = (self.waiting.load(Ordering::Relaxed) / 2).max(3) as u32;
                    let turn = boards % every == 0;
                    if (running || turn) && self.started().await == Some(true)
                    {
                        return Start::Started;
                    }
                }
                _ = ended.changed() => {}
                _ = detach.changed() => {}
            }
        }
    }

    async fn started(&self) -> Option<bool> {
        crate::watch::started_with(self.cfn, &self.s.region, &self.s.stack, self.token).await
    }
}

/// Why the execution ended without starting a stack, from its output.
fn not_started_because(state: &ExecutionState) -> String {
    let output: serde_json::Value = state
        .output
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or_default();
    let failed = output["failed"].as_u64().unwrap_or(0);
    match (&state.status, output["result"].as_str()) {
        (_, Some("canary-failed")) => "not started: the canary failed".to_string(),
        (_, Some("budget-spent")) => format!(
            "not started: stopped after {failed} failure{} (--max-failures raises the limit)",
            if failed == 1 { "" } else { "s" }
        ),
        (_, Some("dependents-held")) => {
            "not started: a stack of an earlier wave failed, and this fleet has dependencies"
                .to_string()
        }
        (ExecutionStatus::Ended(status), _) => format!(
            "not started: the execution ended {status}{}",
            match (&state.error, &state.cause) {
                (Some(e), Some(c)) => format!(" ({e}: {c})"),
                (Some(e), None) => format!(" ({e})"),
                _ => String::new(),
            }
        ),
        _ => "not started".to_string(),
    }
}
