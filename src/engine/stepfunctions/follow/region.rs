//! Each region's execution: found (this plan's, started earlier, by any runner) or started,
//! after checking the state machine is this cfdeploy's; then its status read until it ends.

use std::sync::Arc;

use tokio::sync::watch;

use super::super::{
    execution_arn, execution_name, input, state_machine_arn, ExecutionState, ExecutionStatus,
    StepFunctions, MAX_INPUT_BYTES,
};
use super::FollowOptions;
use crate::cfn::CloudFormation;
use crate::engine::Events;
use crate::model::{OutcomeKind, Plan};
use crate::rollout::Rollout;

/// One region's execution.
pub(super) struct RegionRun {
    pub region: String,
    pub name: String,
    /// The stacks its input names, and whether each is a create.
    pub stacks: Vec<(String, bool)>,
    /// The execution's end, once seen (`None` while it runs).
    pub ended: watch::Receiver<Option<ExecutionState>>,
}

/// Why a region's stacks will not be followed: the outcome its pending stacks get, and why.
pub(super) type NoRun = (OutcomeKind, String);

/// Finds the region's execution, or starts it when the region has change sets to execute (and
/// no interrupt came: `may_start`), and starts reading its status.
pub(super) async fn start_or_attach<C: CloudFormation + StepFunctions>(
    cfn: &Arc<C>,
    rollout: &Rollout,
    plan: &Plan,
    region: &str,
    options: &FollowOptions,
    events: &Events,
    may_start: bool,
) -> Result<RegionRun, NoRun> {
    let refused = |why: String| (OutcomeKind::Refused, why);
    let machine = state_machine_arn(&options.state_machine, region, &options.account);
    let name = execution_name(plan, region);
    let arn = execution_arn(&machine, &name);
    let existing = cfn
        .describe_execution(region, &arn)
        .await
        .map_err(|e| refused(format!("could not read the execution {name} in {region}: {e}; nothing was executed — apply again")))?;
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
            super::super::stacks_in(&sent)
        }
        None => {
            let body = input(rollout, region);
            let text = body.to_string();
            if text.len() > MAX_INPUT_BYTES {
                return Err(refused(format!(
                    "the rollout of {region} is {} KB, over Step Functions' {} KB input limit; nothing was executed — apply part of the fleet (--stack) per run, or use the local engine",
                    text.len() / 1024,
                    MAX_INPUT_BYTES / 1024
                )));
            }
            let stacks = super::super::stacks_in(&body);
            if stacks.is_empty() {
                stacks
            } else if !may_start {
                return Err((
                    OutcomeKind::NotStarted,
                    "not started: interrupted before its execution started".into(),
                ));
            } else {
                start(cfn.as_ref(), region, &machine, &name, &text, events)
                    .await
                    .map_err(refused)?
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
        Ok(Some(definition)) if super::super::is_current(&definition) => {}
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
            Ok(super::super::stacks_in(
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
            Ok(super::super::stacks_in(
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
