//! The local engine: runs a rollout in this process with tokio. Waves run in order (the canary
//! alone first; the rest only if every canary succeeded); within a wave every stack runs at once,
//! or at most `max_in_flight`, with at most `concurrency` requests in flight between them (waiting
//! on a stack takes none), and once `max_failures` stacks have failed (or an interrupt came) no new
//! stack starts while those in flight finish. Every stack gets exactly one outcome.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

use super::Events;
use crate::apply::stack::{self, outcome, Fleet, StackOptions};
use crate::cfn::CloudFormation;
use crate::model::{Outcome, OutcomeKind};
use crate::rollout::Rollout;
use crate::watch::{Interrupt, Lookout};

/// Runs `rollout` and returns an outcome for each of its stacks, in its order. Each outcome is
/// also reported as a `StackFinished` event.
pub async fn run<C: CloudFormation>(
    cfn: Arc<C>,
    rollout: &Rollout,
    options: &StackOptions,
    events: &Events,
    interrupt: Interrupt,
) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; rollout.stacks.len()];
    // One listing a tick tells every stack's watcher when to read: waiting costs nothing.
    let fleet = Fleet {
        lookout: Some(Lookout::start(Arc::clone(&cfn), options.tick)),
        requests: Arc::new(Semaphore::new(rollout.concurrency)),
    };
    for wave in &rollout.waves {
        let stop = if wave.canary {
            events.note(format!(
                "canary: applying {} first; the rest follow only if {} succeed{} (--canary 0 starts all at once)",
                wave.stacks
                    .iter()
                    .map(|&i| rollout.stacks[i].stack.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if wave.stacks.len() == 1 { "it" } else { "they" },
                if wave.stacks.len() == 1 { "s" } else { "" }
            ));
            let wave_run = WaveRun {
                cfn: &cfn,
                rollout,
                options,
                events,
                interrupt: &interrupt,
                fleet: &fleet,
                max_failures: usize::MAX,
            };
            wave_run.run(&wave.stacks, &mut outcomes).await;
            let failed = wave
                .stacks
                .iter()
                .any(|&i| outcomes[i].as_ref().is_some_and(|o| !o.kind.succeeded()));
            failed.then(|| "not started: the canary failed".to_string())
        } else {
            let wave_run = WaveRun {
                cfn: &cfn,
                rollout,
                options,
                events,
                interrupt: &interrupt,
                fleet: &fleet,
                max_failures: rollout.max_failures,
            };
            wave_run.run(&wave.stacks, &mut outcomes).await;
            // The failure budget is the whole rollout's, not one wave's.
            let failures = outcomes
                .iter()
                .flatten()
                .filter(|o| counts_as_failure(o.kind))
                .count();
            (failures >= rollout.max_failures).then(|| {
                format!(
                    "not started: stopped after {failures} failure{} (--max-failures raises the limit)",
                    if failures == 1 { "" } else { "s" }
                )
            })
        };
        if let Some(reason) = stop {
            for slot in outcomes.iter_mut().enumerate().filter(|(_, o)| o.is_none()) {
                let s = &rollout.stacks[slot.0];
                *slot.1 = Some(events.finished(outcome(
                    s,
                    OutcomeKind::NotStarted,
                    None,
                    0.0,
                    Some(reason.clone()),
                )));
            }
            break;
        }
    }
    outcomes.into_iter().flatten().collect()
}

/// One wave being run.
struct WaveRun<'a, C> {
    cfn: &'a Arc<C>,
    rollout: &'a Rollout,
    options: &'a StackOptions,
    events: &'a Events,
    interrupt: &'a Interrupt,
    fleet: &'a Fleet,
    max_failures: usize,
}

impl<C: CloudFormation> WaveRun<'_, C> {
    /// Runs the wave's stacks, at most `max_in_flight` at a time, and stops starting new ones after
    /// `max_failures` failures or an interrupt.
    async fn run(&self, stacks: &[usize], outcomes: &mut [Option<Outcome>]) {
        let mut queue: VecDeque<usize> = stacks.iter().copied().collect();
        let mut running = JoinSet::new();
        let mut task_stack = std::collections::HashMap::new();
        let mut failures = 0;
        let mut stop_reason: Option<String> = None;
        loop {
            if stop_reason.is_none() && *self.interrupt.borrow() > 0 {
                stop_reason = Some("not started: interrupted".to_string());
            }
            let max_in_flight = self.rollout.max_in_flight.unwrap_or(usize::MAX);
            while stop_reason.is_none() && running.len() < max_in_flight {
                let Some(i) = queue.pop_front() else { break };
                if let Some(why) = self.held_back(i, outcomes) {
                    let s = &self.rollout.stacks[i];
                    outcomes[i] = Some(self.events.finished(outcome(
                        s,
                        OutcomeKind::NotStarted,
                        None,
                        0.0,
                        Some(why),
                    )));
                    continue;
                }
                let s = self.rollout.stacks[i].clone();
                let cfn = Arc::clone(self.cfn);
                let options = self.options.clone();
                let events = self.events.clone();
                let interrupt = self.interrupt.clone();
                let fleet = self.fleet.clone();
                let correlation_id = self.rollout.correlation_id.clone();
                let span = tracing::info_span!("stack", stack = %s.stack, region = %s.region);
                let handle = running.spawn(
                    async move {
                        let o = stack::run(
                            cfn.as_ref(),
                            &s,
                            &correlation_id,
                            &options,
                            &events,
                            interrupt,
                            &fleet,
                        )
                        .await;
                        crate::signals::settled(&s.stack);
                        (i, events.finished(o))
                    }
                    .instrument(span),
                );
                task_stack.insert(handle.id(), i);
            }
            let Some(joined) = running.join_next_with_id().await else {
                break;
            };
            let (i, outcome) = match joined {
                Ok((_, done)) => done,
                // A stack task that ended abnormally still gets an outcome: its state is unknown.
                Err(e) => {
                    let i = task_stack[&e.id()];
                    let s = &self.rollout.stacks[i];
                    let lost = self.events.finished(outcome(
                        s,
                        OutcomeKind::Abandoned,
                        None,
                        0.0,
                        Some(format!(
                            "cfdeploy lost track of this stack ({e}); `cfdeploy events {}` shows where it is",
                            s.stack
                        )),
                    ));
                    (i, lost)
                }
            };
            if counts_as_failure(outcome.kind) {
                failures += 1;
                if failures >= self.max_failures && stop_reason.is_none() && !queue.is_empty() {
                    stop_reason = Some(format!(
                        "not started: stopped after {failures} failure{} (--max-failures raises the limit)",
                        if failures == 1 { "" } else { "s" }
                    ));
                    self.events.note(format!(
                        "{} failed: starting no new stacks; those in flight finish",
                        outcome.stack
                    ));
                }
            }
            outcomes[i] = Some(outcome);
        }
        let reason = stop_reason.unwrap_or_else(|| "not started".to_string());
        for i in queue {
            let s = &self.rollout.stacks[i];
            outcomes[i] = Some(self.events.finished(outcome(
                s,
                OutcomeKind::NotStarted,
                None,
                0.0,
                Some(reason.clone()),
            )));
        }
    }
}

impl<C> WaveRun<'_, C> {
    /// Why stack `i` must not start: a stack it depends on did not succeed.
    fn held_back(&self, i: usize, outcomes: &[Option<Outcome>]) -> Option<String> {
        let s = &self.rollout.stacks[i];
        s.after.iter().find_map(|dep| {
            let j = self.rollout.stacks.iter().position(|o| &o.stack == dep)?;
            let o = outcomes[j].as_ref()?;
            (!o.kind.succeeded()).then(|| {
                let what = match o.kind {
                    OutcomeKind::NotStarted => "did not start".to_string(),
                    OutcomeKind::Refused => "was refused".to_string(),
                    OutcomeKind::Blocked => "was blocked (destructive changes)".to_string(),
                    OutcomeKind::Cancelled => "was cancelled".to_string(),
                    OutcomeKind::Abandoned => "is still in progress".to_string(),
                    OutcomeKind::Unknown => "has an unknown outcome".to_string(),
                    other => other.label().to_string(),
                };
                format!("not started: it depends on {dep}, which {what}")
            })
        })
    }
}

/// Outcomes that spend the failure budget.
fn counts_as_failure(kind: OutcomeKind) -> bool {
    matches!(
        kind,
        OutcomeKind::RolledBack
            | OutcomeKind::CreateRolledBack
            | OutcomeKind::RollbackFailed
            | OutcomeKind::FailedKept
    )
}
