//! A stack whose change set the execution has not executed yet: waiting for its operation to
//! appear (by the plan's client request token), or for the execution to end without it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use super::super::{ExecutionState, ExecutionStatus};
use crate::apply::stack::Fleet;
use crate::cfn::CloudFormation;
use crate::model::OutcomeKind;
use crate::rollout::RolloutStack;
use crate::watch::{Interrupt, Sighting};

/// A stack whose change set the execution has not executed yet.
pub(super) struct Pending<'a, C> {
    pub cfn: &'a C,
    pub s: &'a RolloutStack,
    pub token: &'a str,
    pub fleet: &'a Fleet,
    /// The execution's name, for messages.
    pub name: &'a str,
    /// How many stacks are waiting, this one included.
    pub waiting: &'a AtomicUsize,
}

pub(super) enum Start {
    Started,
    /// It will not start: the outcome and why.
    Never(OutcomeKind, String),
}

impl<C: CloudFormation> Pending<'_, C> {
    /// Waits until the execution starts the stack's operation (listed as running, then its token
    /// seen in the events; also checked every few listings, for operations shorter than a
    /// tick), until the execution ends without starting it, or until detached.
    pub(super) async fn wait(
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
