//! `cfdeploy apply`: executes exactly the reviewed change sets. Each plan entry is verified
//! against CloudFormation (`verify`), the verified plan becomes a rollout (waves, concurrency,
//! failure budget), an engine runs it (`engine::local`, one stack at a time by `stack`), and the
//! change sets this run verified but did not execute are deleted. `repair` is `cfdeploy rollback`.

pub mod repair;
pub mod stack;
pub mod verify;

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::cfn::change_set::delete_quietly;
use crate::cfn::CloudFormation;
use crate::config::StackSpec;
use crate::engine::stepfunctions::{FollowOptions, StepFunctions};
use crate::engine::{self, Events};
use crate::model::{Outcome, OutcomeKind, Plan};
use crate::rollout::{Rollout, RolloutOptions, StackAction};
use crate::watch::Interrupt;
pub use stack::StackOptions;

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub rollout: RolloutOptions,
    /// `--allow-destructive`: apply destructive changes of every stack.
    pub allow_destructive: bool,
    pub stack: StackOptions,
}

/// Verifies every entry of `plan`, runs the rollout, and returns an outcome per entry, in the
/// plan's order.
/// `specs` is the stack config at apply time: safety decisions come from it, not the plan.
pub async fn apply_plan<C: CloudFormation>(
    cfn: Arc<C>,
    plan: &Plan,
    specs: &[StackSpec],
    options: &ApplyOptions,
    events: &Events,
    interrupt: Interrupt,
) -> Vec<Outcome> {
    let verified = verify_all(&cfn, plan, specs, options).await;
    let rollout = Rollout::new(
        &plan.correlation_id,
        verified.iter().map(|v| v.stack.clone()).collect(),
        &options.rollout,
    );
    let outcomes = engine::local::run(
        Arc::clone(&cfn),
        &rollout,
        &options.stack,
        events,
        interrupt,
    )
    .await;
    clean_up(cfn.as_ref(), &verified, &outcomes).await;
    outcomes
}

/// As `apply_plan`, with the rollout run by Step Functions executions (started, or attached to
/// when this plan's exist). `Err` when the plan cannot run there (nothing was executed).
pub async fn apply_plan_in_stepfunctions<C: CloudFormation + StepFunctions>(
    cfn: Arc<C>,
    plan: &Plan,
    specs: &[StackSpec],
    options: &ApplyOptions,
    follow: &FollowOptions,
    events: &Events,
    interrupt: Interrupt,
) -> Result<Vec<Outcome>, String> {
    let verified = verify_all(&cfn, plan, specs, options).await;
    let rollout = Rollout::new(
        &plan.correlation_id,
        verified.iter().map(|v| v.stack.clone()).collect(),
        &options.rollout,
    );
    if let Some(why) = engine::stepfunctions::unsupported(&rollout, plan) {
        return Err(why);
    }
    let outcomes =
        engine::stepfunctions::follow(Arc::clone(&cfn), &rollout, plan, follow, events, interrupt)
            .await;
    clean_up(cfn.as_ref(), &verified, &outcomes).await;
    Ok(outcomes)
}

/// Deletes the change sets verified to be the stacks' own that surely did not run.
async fn clean_up<C: CloudFormation>(cfn: &C, verified: &[verify::Verified], outcomes: &[Outcome]) {
    // No change set of cfdeploy's is left behind but the executed ones. Only change sets
    // verified to be the stack's own are touched, and only when they surely did not run: never
    // after a failure to execute (the call may have taken effect, or may be retried).
    for (v, o) in verified.iter().zip(outcomes) {
        let refused_before_running = matches!(
            v.stack.action,
            StackAction::Settled {
                kind: OutcomeKind::Refused | OutcomeKind::Blocked,
                ..
            }
        );
        let not_executed = matches!(o.kind, OutcomeKind::NotStarted | OutcomeKind::Blocked)
            || (o.kind == OutcomeKind::Refused && refused_before_running);
        if let Some(arn) = v.owned_change_set.as_deref().filter(|_| not_executed) {
            delete_quietly(cfn, &v.stack.region, arn).await;
        }
    }
}

/// Verifies every entry, at most `concurrency` at once, in the plan's order.
async fn verify_all<C: CloudFormation>(
    cfn: &Arc<C>,
    plan: &Plan,
    specs: &[StackSpec],
    options: &ApplyOptions,
) -> Vec<verify::Verified> {
    let semaphore = Arc::new(Semaphore::new(options.rollout.concurrency.max(1)));
    let fleets = Arc::new(verify::fleet_rules(specs));
    let mut tasks = JoinSet::new();
    for (i, entry) in plan.stacks.iter().cloned().enumerate() {
        let fleets = Arc::clone(&fleets);
        let cfn = Arc::clone(cfn);
        let semaphore = Arc::clone(&semaphore);
        let allow = options.allow_destructive;
        let spec = specs.iter().find(|s| s.name == entry.stack).cloned();
        let correlation_id = plan.correlation_id.clone();
        tasks.spawn(async move {
            // The semaphore is never closed, so acquiring cannot fail.
            let _permit = semaphore.acquire_owned().await.ok();
            (
                i,
                verify::verify(
                    cfn.as_ref(),
                    &entry,
                    &correlation_id,
                    spec.as_ref(),
                    &fleets,
                    allow,
                )
                .await,
            )
        });
    }
    let mut slots: Vec<Option<verify::Verified>> = vec![None; plan.stacks.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, v)) => slots[i] = Some(v),
            Err(e) => tracing::error!(error = %e, "a verification task ended abnormally"),
        }
    }
    // A verification that ended abnormally refuses its stack.
    slots
        .into_iter()
        .zip(&plan.stacks)
        .map(|(slot, entry)| slot.unwrap_or_else(|| verify::refused_entry(entry)))
        .collect()
}

#[cfg(test)]
mod tests;
