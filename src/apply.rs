//! `cfdeploy apply`: executes exactly the reviewed change sets, concurrently, watching each
//! operation to its end and diagnosing failures. Before executing a stack's change set it checks
//! that the change set can still run and that the stack has not moved since the plan.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinSet;
use tracing::Instrument;

use crate::cfn::{CfnError, CloudFormation};
use crate::model::{ChangeSetStatus, Fingerprint, Outcome, OutcomeKind, PlanStatus, StackPlan};
use crate::plan::{parameter_lines, sha256_hex, PollOptions};
use crate::progress::Progress;
use crate::watch::{self, Interrupt, WatchEnd, Watcher};

/// One stack to apply, from a plan made now or read from a plan file.
#[derive(Debug, Clone)]
pub struct ApplyTarget {
    pub stack: String,
    pub region: String,
    pub status: PlanStatus,
    pub stack_id: Option<String>,
    pub change_set_arn: Option<String>,
    pub fingerprint: Fingerprint,
    pub termination_protection: bool,
    pub changes: usize,
    pub plan_error: Option<String>,
    /// Why each destructive change is destructive (empty when none is).
    pub destructive: Vec<String>,
    /// From the config: this stack's destructive changes may be applied.
    pub allow_destructive: bool,
}

impl ApplyTarget {
    pub fn from_plan(s: &StackPlan) -> ApplyTarget {
        ApplyTarget {
            stack: s.stack.clone(),
            region: s.region.clone(),
            status: s.status.clone(),
            stack_id: s.stack_id.clone(),
            change_set_arn: s.change_set_arn.clone(),
            fingerprint: s.fingerprint.clone(),
            termination_protection: s.termination_protection,
            changes: s.changes.len(),
            plan_error: s.error.clone(),
            destructive: s
                .changes
                .iter()
                .filter_map(|c| c.destructive.clone())
                .collect(),
            allow_destructive: s.allow_destructive,
        }
    }

    fn executes(&self) -> bool {
        self.status.has_changes()
    }
}

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub concurrency: usize,
    /// Stop starting new stacks once this many have failed (in-flight ones finish).
    pub max_failures: usize,
    /// Apply the first N stacks with changes alone; go on only if they all succeed.
    pub canary: usize,
    pub disable_rollback: bool,
    /// `--allow-destructive`: apply destructive changes of every stack.
    pub allow_destructive: bool,
    pub poll: PollOptions,
    /// Events shown in a diagnosis.
    pub events_tail: usize,
}

/// Applies every target and returns an outcome for each, in the targets' order.
pub async fn apply_fleet<C: CloudFormation>(
    cfn: Arc<C>,
    targets: Vec<ApplyTarget>,
    options: &ApplyOptions,
    progress: Arc<Progress>,
    interrupt: Interrupt,
) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; targets.len()];
    let targets: Vec<Arc<ApplyTarget>> = targets.into_iter().map(Arc::new).collect();
    let canary: Vec<usize> = (0..targets.len())
        .filter(|&i| targets[i].executes())
        .take(options.canary)
        .collect();
    let rest: Vec<usize> = (0..targets.len()).filter(|i| !canary.contains(i)).collect();
    if !canary.is_empty() {
        progress.note(&format!(
            "canary: applying {} first; the rest follow only if {} succeed{}",
            names(&targets, &canary),
            if canary.len() == 1 { "it" } else { "they" },
            if canary.len() == 1 { "s" } else { "" }
        ));
        let batch = Batch {
            cfn: &cfn,
            targets: &targets,
            options,
            progress: &progress,
            interrupt: &interrupt,
        };
        batch.run(canary.clone(), usize::MAX, &mut outcomes).await;
        let canary_failed = canary
            .iter()
            .any(|&i| outcomes[i].as_ref().is_some_and(|o| !o.kind.succeeded()));
        if canary_failed {
            for i in rest {
                outcomes[i] = Some(not_started(&targets[i], "not started: the canary failed"));
            }
            return outcomes.into_iter().flatten().collect();
        }
    }
    let batch = Batch {
        cfn: &cfn,
        targets: &targets,
        options,
        progress: &progress,
        interrupt: &interrupt,
    };
    batch
        .run(rest, options.max_failures.max(1), &mut outcomes)
        .await;
    outcomes.into_iter().flatten().collect()
}

fn names(targets: &[Arc<ApplyTarget>], idx: &[usize]) -> String {
    idx.iter()
        .map(|&i| targets[i].stack.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

struct Batch<'a, C> {
    cfn: &'a Arc<C>,
    targets: &'a [Arc<ApplyTarget>],
    options: &'a ApplyOptions,
    progress: &'a Arc<Progress>,
    interrupt: &'a Interrupt,
}

impl<C: CloudFormation> Batch<'_, C> {
    /// Runs `queue` at most `concurrency` at a time and stops starting new stacks after
    /// `max_failures` failures or an interrupt. Returns the number of failures.
    async fn run(
        &self,
        queue: Vec<usize>,
        max_failures: usize,
        outcomes: &mut [Option<Outcome>],
    ) -> usize {
        let mut queue: VecDeque<usize> = queue.into();
        let mut running = JoinSet::new();
        let mut failures = 0;
        let mut stop_reason: Option<String> = None;
        loop {
            if stop_reason.is_none() && *self.interrupt.borrow() > 0 {
                stop_reason = Some("not started: interrupted".to_string());
            }
            while stop_reason.is_none() && running.len() < self.options.concurrency.max(1) {
                let Some(i) = queue.pop_front() else { break };
                let target = Arc::clone(&self.targets[i]);
                let cfn = Arc::clone(self.cfn);
                let options = self.options.clone();
                let progress = Arc::clone(self.progress);
                let interrupt = self.interrupt.clone();
                let span =
                    tracing::info_span!("stack", stack = %target.stack, region = %target.region);
                running.spawn(
                    async move {
                        (
                            i,
                            apply_one(cfn.as_ref(), &target, &options, &progress, interrupt).await,
                        )
                    }
                    .instrument(span),
                );
            }
            let Some(joined) = running.join_next().await else {
                break;
            };
            let Ok((i, outcome)) = joined else { continue };
            if counts_as_failure(outcome.kind) {
                failures += 1;
                if failures >= max_failures && stop_reason.is_none() && !queue.is_empty() {
                    stop_reason = Some(format!(
                        "not started: stopped after {failures} failure{} (--max-failures raises the limit)",
                        if failures == 1 { "" } else { "s" }
                    ));
                    self.progress.note(&format!(
                        "{} failed: starting no new stacks; those in flight finish",
                        outcome.stack
                    ));
                }
            }
            outcomes[i] = Some(outcome);
        }
        let reason = stop_reason.unwrap_or_else(|| "not started".to_string());
        for i in queue {
            outcomes[i] = Some(not_started(&self.targets[i], &reason));
        }
        failures
    }
}

fn counts_as_failure(kind: OutcomeKind) -> bool {
    matches!(
        kind,
        OutcomeKind::RolledBack
            | OutcomeKind::CreateRolledBack
            | OutcomeKind::RollbackFailed
            | OutcomeKind::FailedKept
    )
}

fn not_started(t: &ApplyTarget, why: &str) -> Outcome {
    outcome(t, OutcomeKind::NotStarted, None, 0.0, Some(why.to_string()))
}

fn outcome(
    t: &ApplyTarget,
    kind: OutcomeKind,
    status: Option<String>,
    seconds: f64,
    message: Option<String>,
) -> Outcome {
    Outcome {
        stack: t.stack.clone(),
        region: t.region.clone(),
        kind,
        status,
        seconds,
        message,
        diagnosis: None,
    }
}

/// What applying one stack works with, from its start.
struct StackRun<'a, C> {
    cfn: &'a C,
    t: &'a ApplyTarget,
    options: &'a ApplyOptions,
    progress: &'a Progress,
    started: Instant,
}

/// Applies one stack: checks, executes, watches, diagnoses. Every path ends in an `Outcome`.
async fn apply_one<C: CloudFormation>(
    cfn: &C,
    t: &ApplyTarget,
    options: &ApplyOptions,
    progress: &Progress,
    interrupt: Interrupt,
) -> Outcome {
    let started = Instant::now();
    let run = StackRun {
        cfn,
        t,
        options,
        progress,
        started,
    };
    let elapsed = || started.elapsed().as_secs_f64();
    match t.status {
        PlanStatus::NoChanges => {
            return outcome(
                t,
                OutcomeKind::Unchanged,
                t.fingerprint.stack_status.clone(),
                0.0,
                None,
            )
        }
        PlanStatus::Error => {
            let why = t
                .plan_error
                .clone()
                .unwrap_or_else(|| "the plan failed".to_string());
            return outcome(
                t,
                OutcomeKind::Refused,
                None,
                0.0,
                Some(format!("not planned: {why}")),
            );
        }
        PlanStatus::Busy | PlanStatus::Create | PlanStatus::Update => {}
    }

    if !t.destructive.is_empty() && !options.allow_destructive && !t.allow_destructive {
        return outcome(
            t,
            OutcomeKind::Blocked,
            t.fingerprint.stack_status.clone(),
            0.0,
            Some(format!(
                "{}; nothing was executed. Pass --allow-destructive, or set `allow_destructive: true` for the stack",
                t.destructive.join("; ")
            )),
        );
    }

    // An operation already running (a CI runner died mid-apply, say) is attached to, never doubled.
    let current = match cfn.describe_stack(&t.region, &t.stack).await {
        Ok(s) => s,
        Err(e) => {
            return outcome(
                t,
                OutcomeKind::Refused,
                None,
                elapsed(),
                Some(e.to_string()),
            )
        }
    };
    if let Some(stack) = current.as_ref().filter(|s| s.status.is_in_progress()) {
        progress.note(&format!(
            "{}: {} is already in progress; attaching to it instead of starting another",
            t.stack, stack.status
        ));
        return attach(&run, interrupt, stack.status.to_string()).await;
    }
    if t.status == PlanStatus::Busy {
        // It was busy at plan time and has finished since: its change set was never made.
        return outcome(
            t,
            OutcomeKind::Refused,
            current.map(|s| s.status.to_string()),
            elapsed(),
            Some(
                "it was busy when planned, so there is no change set to execute; plan again"
                    .to_string(),
            ),
        );
    }
    if let Err(why) = verify(cfn, t, current.as_ref()).await {
        return outcome(
            t,
            OutcomeKind::Refused,
            current.map(|s| s.status.to_string()),
            elapsed(),
            Some(format!("{why}; nothing was executed — plan again")),
        );
    }
    let arn = t.change_set_arn.as_deref().unwrap_or_default();
    let mut watcher = Watcher::new(cfn, &t.region, &t.stack, options.poll.clone());
    if let Err(e) = watcher.baseline().await {
        return outcome(
            t,
            OutcomeKind::Refused,
            None,
            elapsed(),
            Some(e.to_string()),
        );
    }
    if let Err(e) = cfn
        .execute_change_set(&t.region, arn, options.disable_rollback)
        .await
    {
        return outcome(
            t,
            OutcomeKind::Refused,
            None,
            elapsed(),
            Some(format!("could not execute the change set: {e}")),
        );
    }
    tracing::info!(change_set = arn, "change set executed");
    let first = if t.status == PlanStatus::Create {
        "CREATE_IN_PROGRESS"
    } else {
        "UPDATE_IN_PROGRESS"
    };
    progress.started(&t.stack, first, t.changes);
    finish(&run, interrupt, watcher, false).await
}

/// Waits for an operation someone else started (say, a run whose CI runner died).
async fn attach<C: CloudFormation>(
    run: &StackRun<'_, C>,
    interrupt: Interrupt,
    status: String,
) -> Outcome {
    let t = run.t;
    let mut watcher = Watcher::new(run.cfn, &t.region, &t.stack, run.options.poll.clone());
    if let Err(e) = watcher.baseline().await {
        return outcome(
            t,
            OutcomeKind::Refused,
            Some(status),
            0.0,
            Some(e.to_string()),
        );
    }
    run.progress.started(&t.stack, &status, t.changes);
    finish(run, interrupt, watcher, true).await
}

/// Watches the operation to its end, then sets termination protection or diagnoses.
async fn finish<C: CloudFormation>(
    run: &StackRun<'_, C>,
    mut interrupt: Interrupt,
    mut watcher: Watcher<'_, C>,
    attached: bool,
) -> Outcome {
    let StackRun {
        cfn,
        t,
        options,
        progress,
        started,
    } = *run;
    let end = watcher
        .watch(&mut |e| progress.event(e), &mut interrupt)
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = match end {
        Ok(WatchEnd::Settled(status)) => status,
        Ok(WatchEnd::Abandoned(status)) => {
            progress.finished(&t.stack, "still in progress (stopped waiting)");
            return outcome(t, OutcomeKind::Abandoned, Some(status), elapsed, Some(format!(
                "stopped waiting; the operation goes on in CloudFormation: `cfdeploy events {}` shows where it is", t.stack
            )));
        }
        Err(e) => {
            progress.finished(&t.stack, "unknown");
            return outcome(
                t,
                OutcomeKind::Abandoned,
                None,
                elapsed,
                Some(format!(
                    "lost track of the operation: {e}; `cfdeploy events {}` shows where it is",
                    t.stack
                )),
            );
        }
    };
    let mut kind = OutcomeKind::from_final_status(&status);
    if watcher.cancelled && kind == OutcomeKind::RolledBack {
        kind = OutcomeKind::Cancelled;
    }
    let mut message = attached.then(|| "attached to an operation already in progress".to_string());
    if kind == OutcomeKind::Created && t.termination_protection && !attached {
        if let Err(e) = cfn
            .update_termination_protection(&t.region, &t.stack, true)
            .await
        {
            message = Some(format!(
                "created, but termination protection could not be set: {e}"
            ));
        }
    }
    progress.finished(&t.stack, kind.label());
    let mut result = outcome(t, kind, Some(status.clone()), elapsed, message);
    if !kind.succeeded() {
        match watch::diagnose_stack(cfn, &t.region, &t.stack, &status, options.events_tail).await {
            Ok(d) => result.diagnosis = Some(d),
            Err(e) => {
                result.message = Some(format!("could not read the stack events to diagnose: {e}"))
            }
        }
    }
    result
}

/// Checks that the change set can still run and that the stack is as the plan saw it.
async fn verify<C: CloudFormation>(
    cfn: &C,
    t: &ApplyTarget,
    current: Option<&crate::model::Stack>,
) -> Result<(), String> {
    let arn = t
        .change_set_arn
        .as_deref()
        .ok_or("the plan has no change set for it")?;
    let page = cfn
        .describe_change_set(&t.region, arn, false, None)
        .await
        .map_err(|e| match e.code() {
            Some("ChangeSetNotFound") | Some("ChangeSetNotFoundException") => {
                "its change set no longer exists".to_string()
            }
            _ => format!("cannot read its change set: {e}"),
        })?;
    if let (Some(planned), Some(actual)) = (&t.stack_id, &page.stack_id) {
        if planned != actual {
            return Err(format!(
                "its change set belongs to another stack ({actual})"
            ));
        }
    }
    let execution = page.execution_status.as_deref().unwrap_or("UNKNOWN");
    if page.status != ChangeSetStatus::CreateComplete || execution != "AVAILABLE" {
        return Err(format!("its change set cannot be executed any more (status {:?}, execution status {execution})", page.status));
    }
    let fp = &t.fingerprint;
    let now_status = current.map(|s| s.status.to_string());
    match t.status {
        PlanStatus::Create => {
            if now_status
                .as_deref()
                .is_some_and(|s| s != "REVIEW_IN_PROGRESS")
            {
                return Err(format!(
                    "the stack was created by someone else since the plan (it is {})",
                    now_status.unwrap_or_default()
                ));
            }
        }
        _ => {
            let stack = current.ok_or("the stack was deleted since the plan")?;
            if now_status != fp.stack_status {
                return Err(format!(
                    "the stack changed since the plan: it was {}, it is {}",
                    fp.stack_status.as_deref().unwrap_or("-"),
                    stack.status
                ));
            }
            if stack.last_updated != fp.last_updated {
                return Err(format!(
                    "the stack was updated since the plan (at {})",
                    stack.last_updated.as_deref().unwrap_or("-")
                ));
            }
            let params = parameter_lines(stack.parameters.iter().cloned());
            if Some(sha256_hex(params.as_bytes())) != fp.deployed_parameters_sha256 {
                return Err("the stack's parameters changed since the plan".to_string());
            }
            let template = cfn
                .get_template(&t.region, &t.stack)
                .await
                .map_err(|e: CfnError| format!("cannot read its template: {e}"))?;
            if Some(sha256_hex(template.as_bytes())) != fp.deployed_template_sha256 {
                return Err("the stack's template changed since the plan".to_string());
            }
        }
    }
    Ok(())
}
