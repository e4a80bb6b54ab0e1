//! `cfdeploy engine`: the Step Functions engine's state machine (deploy), its IAM policies
//! (policy), and stopping a plan's executions (stop).

use anyhow::{bail, Result};

use crate::cfn::CloudFormation;
use crate::cli::{EngineArgs, EngineCommand};
use crate::context::Context;
use crate::engine::stepfunctions::{
    execution_arn, execution_name, is_current, policies, stacks_in, state_machine_arn,
    ExecutionStatus, StepFunctions, DEFINITION,
};
use crate::exit::Exit;
use crate::model::StackStatus;
use crate::run::{request_token, Step};

pub async fn run(ctx: &Context, args: &EngineArgs) -> Result<Exit> {
    match &args.command {
        EngineCommand::Policy { name } => {
            super::write_stdout(|out| {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&policies(name)).unwrap_or_default()
                )
            })?;
            Ok(Exit::Ok)
        }
        EngineCommand::Deploy { role_arn, name } => deploy(ctx, name, role_arn.as_deref()).await,
        EngineCommand::Stop {
            plan,
            state_machine,
        } => stop(ctx, plan, state_machine).await,
        EngineCommand::Status {
            plan,
            state_machine,
        } => status(ctx, plan, state_machine).await,
    }
}

/// The account the run acts in, for ARNs built from names.
pub async fn account(ctx: &Context) -> Result<String> {
    let region = ctx
        .default_region()
        .await
        .unwrap_or_else(|| "us-east-1".to_string());
    match ctx.cfn().await.identity(&region).await {
        Ok(who) => Ok(who.account),
        Err(e) => bail!(
            "cannot tell which account the state machine is in ({e}); pass --state-machine with its ARN"
        ),
    }
}

async fn deploy(ctx: &Context, name: &str, role_arn: Option<&str>) -> Result<Exit> {
    let Some(region) = ctx.default_region().await else {
        return super::usage("name the region to deploy the state machine in: --region REGION");
    };
    let account = account(ctx).await?;
    let cfn = ctx.cfn().await;
    let arn = state_machine_arn(name, &region, &account);
    match cfn.state_machine_definition(&region, &arn).await? {
        Some(deployed) if is_current(&deployed) && role_arn.is_none() => {
            super::say(&format!("{arn} is up to date"));
        }
        Some(_) => {
            cfn.update_state_machine(&region, &arn, DEFINITION, role_arn)
                .await?;
            super::say(&format!("updated {arn} (a new version is published)"));
        }
        None => {
            let Some(role) = role_arn else {
                return super::usage(&format!(
                    "no state machine `{name}` in {region} yet: creating it needs the role Step Functions runs it as, --role-arn ARN (its policies: `cfdeploy engine policy`)"
                ));
            };
            let created = cfn
                .create_state_machine(&region, name, DEFINITION, role)
                .await?;
            super::say(&format!("created {created}"));
        }
    }
    super::write_stdout(|out| writeln!(out, "{arn}"))?;
    Ok(Exit::Ok)
}

/// One line per region: the plan's execution there, where it is, and how many stacks it runs.
async fn status(ctx: &Context, path: &std::path::Path, state_machine: &str) -> Result<Exit> {
    let plan = super::saved_plan(ctx, path, "show")?;
    let account = if state_machine.starts_with("arn:") {
        String::new()
    } else {
        account(ctx).await?
    };
    let cfn = ctx.cfn().await;
    let mut lines = Vec::new();
    for region in regions(&plan) {
        let machine = state_machine_arn(state_machine, region, &account);
        let name = execution_name(&plan, region);
        let line = match cfn
            .describe_execution(region, &execution_arn(&machine, &name))
            .await?
        {
            None => format!("{region}  {name}  not started"),
            Some(state) => {
                let stacks = state
                    .input
                    .as_deref()
                    .and_then(|i| serde_json::from_str(i).ok())
                    .map_or(0, |i| stacks_in(&i).len());
                let output: serde_json::Value = state
                    .output
                    .as_deref()
                    .and_then(|o| serde_json::from_str(o).ok())
                    .unwrap_or_default();
                let how = match (&state.status, output["result"].as_str()) {
                    (ExecutionStatus::Running, _) => "running".to_string(),
                    (ExecutionStatus::Succeeded, Some(result)) => format!(
                        "ended: {result}, {} failed",
                        output["failed"].as_u64().unwrap_or(0)
                    ),
                    (ExecutionStatus::Succeeded, None) => "ended".to_string(),
                    (ExecutionStatus::Ended(s), _) => format!(
                        "ended {}{}",
                        s.to_lowercase(),
                        state
                            .error
                            .as_deref()
                            .map(|e| format!(" ({e})"))
                            .unwrap_or_default()
                    ),
                };
                format!("{region}  {name}  {how}  ({stacks} stacks)")
            }
        };
        lines.push(line);
    }
    super::write_stdout(|out| {
        for line in &lines {
            writeln!(out, "{line}")?;
        }
        Ok(())
    })?;
    Ok(Exit::Ok)
}

/// The plan's regions, each once.
fn regions(plan: &crate::model::Plan) -> Vec<&str> {
    let mut regions: Vec<&str> = plan.stacks.iter().map(|s| s.region.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    regions
}

/// Stops each region's execution of the plan, then cancels the updates it left running (those
/// started with the plan's token; a create is left to finish or roll back by itself).
async fn stop(ctx: &Context, path: &std::path::Path, state_machine: &str) -> Result<Exit> {
    let plan = super::saved_plan(ctx, path, "stop")?;
    let account = if state_machine.starts_with("arn:") {
        String::new()
    } else {
        account(ctx).await?
    };
    let cfn = ctx.cfn().await;
    let mut stopped = 0;
    for region in regions(&plan) {
        let machine = state_machine_arn(state_machine, region, &account);
        let name = execution_name(&plan, region);
        let arn = execution_arn(&machine, &name);
        match cfn.describe_execution(region, &arn).await? {
            Some(state) if state.status == ExecutionStatus::Running => {
                cfn.stop_execution(region, &arn, "stopped by cfdeploy engine stop")
                    .await?;
                stopped += 1;
                super::say(&format!("{region}: stopped execution {name}"));
            }
            Some(_) => super::say(&format!("{region}: execution {name} had already ended")),
            None => super::say(&format!("{region}: no execution of this plan")),
        }
        for entry in plan.stacks.iter().filter(|s| s.region == region) {
            let token = request_token(&plan.correlation_id, Step::Execute, &entry.stack);
            let Ok(Some(stack)) = cfn.describe_stack(region, &entry.stack).await else {
                continue;
            };
            if stack.status != StackStatus::UpdateInProgress
                || crate::watch::started_with(cfn.as_ref(), region, &entry.stack, &token).await
                    != Some(true)
            {
                continue;
            }
            let cancel = request_token(&plan.correlation_id, Step::Cancel, &entry.stack);
            match cfn.cancel_update_stack(region, &entry.stack, &cancel).await {
                Ok(()) => super::say(&format!(
                    "{}: update cancelled; it rolls back (`cfdeploy events {}`)",
                    entry.stack, entry.stack
                )),
                Err(e) => super::say(&format!("{}: could not cancel: {e}", entry.stack)),
            }
        }
    }
    super::say(&format!(
        "{stopped} execution{} stopped",
        if stopped == 1 { "" } else { "s" }
    ));
    Ok(Exit::Ok)
}
