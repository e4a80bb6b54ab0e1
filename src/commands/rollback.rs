//! `cfdeploy rollback STACK…`: repairs stacks left failed, then waits and diagnoses like apply.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;

use crate::cfn::sdk::SdkCloudFormation;
use crate::cfn::CloudFormation;
use crate::cli::{GlobalArgs, ReportFormat, RollbackArgs};
use crate::mask::Masker;
use crate::model::{Outcome, OutcomeKind};
use crate::plan::PollOptions;
use crate::progress::Progress;
use crate::render::outcome;
use crate::run::RunContext;
use crate::settings;
use crate::watch::{self, Interrupt, WatchEnd, Watcher};

pub async fn run(global: &GlobalArgs, args: &RollbackArgs) -> Result<ExitCode> {
    let run = RunContext::new();
    let cfn = super::sdk(global).await;
    let mut masker = Masker::default();
    let progress = Progress::new(super::progress_mode(false), Masker::default());
    let interrupt = super::watch_signals();
    let mut outcomes = Vec::new();
    for stack in &args.stacks {
        let (region, m) = super::stack_region(global, &cfn, stack)?;
        masker = m;
        outcomes.push(repair(&cfn, &region, stack, args, &progress, interrupt.clone()).await);
    }
    let code = outcomes
        .iter()
        .map(|o| o.kind.exit_code())
        .max()
        .unwrap_or(0);
    super::write_stdout(|out| match args.format {
        ReportFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&outcome::outcomes_json(
                "rollback",
                &run.correlation_id,
                &outcomes,
                code,
                &masker
            ))
            .unwrap_or_default()
        ),
        ReportFormat::Table => outcome::outcomes(
            out,
            &outcomes,
            &masker,
            settings::stdout_style(global.color),
        ),
    })?;
    Ok(ExitCode::from(code))
}

async fn repair(
    cfn: &SdkCloudFormation,
    region: &str,
    name: &str,
    args: &RollbackArgs,
    progress: &Progress,
    interrupt: Interrupt,
) -> Outcome {
    let started = Instant::now();
    let done = |kind, status: Option<String>, message: Option<String>| Outcome {
        stack: name.to_string(),
        region: region.to_string(),
        kind,
        status,
        seconds: started.elapsed().as_secs_f64(),
        message,
        diagnosis: None,
    };
    let stack = match cfn.describe_stack(region, name).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return done(
                OutcomeKind::Refused,
                None,
                Some(format!("stack does not exist in {region}")),
            )
        }
        Err(e) => return done(OutcomeKind::Refused, None, Some(e.to_string())),
    };
    let status = stack.status.to_string();
    // Watch by stack id: a deleted stack can no longer be described by name.
    let mut watcher = Watcher::new(cfn, region, &stack.stack_id, PollOptions::default());
    if let Err(e) = watcher.baseline().await {
        return done(OutcomeKind::Refused, Some(status), Some(e.to_string()));
    }
    let (action, expected): (Result<(), _>, &str) = match status.as_str() {
        "CREATE_FAILED" | "UPDATE_FAILED" | "IMPORT_ROLLBACK_FAILED" => {
            (cfn.rollback_stack(region, name).await, "rolled back")
        }
        "UPDATE_ROLLBACK_FAILED" => (
            cfn.continue_update_rollback(region, name, &args.skip_resources)
                .await,
            "rollback continued",
        ),
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "DELETE_FAILED" if args.delete => {
            (cfn.delete_stack(region, name).await, "deleted")
        }
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "DELETE_FAILED" => {
            return done(
                OutcomeKind::Refused,
                Some(status),
                Some(format!(
                    "the stack can only be deleted; pass --delete to delete `{name}`"
                )),
            )
        }
        s if s.ends_with("_IN_PROGRESS") => (Ok(()), "attached"),
        _ => {
            return done(
                OutcomeKind::Unchanged,
                Some(status),
                Some("nothing to repair".to_string()),
            )
        }
    };
    if let Err(e) = action {
        return done(OutcomeKind::Refused, Some(status), Some(e.to_string()));
    }
    progress.started(name, &status, 0);
    let end = watcher
        .watch(&mut |e| progress.event(e), &mut interrupt.clone())
        .await;
    let final_status = match end {
        Ok(WatchEnd::Settled(s)) => s,
        Ok(WatchEnd::Abandoned(s)) => {
            return done(
                OutcomeKind::Abandoned,
                Some(s),
                Some(format!("stopped waiting: `cfdeploy events {name}`")),
            )
        }
        Err(e) => return done(OutcomeKind::Abandoned, None, Some(e.to_string())),
    };
    let kind = match final_status.as_str() {
        "UPDATE_ROLLBACK_COMPLETE" | "DELETE_COMPLETE" => OutcomeKind::Repaired,
        "ROLLBACK_COMPLETE" => OutcomeKind::Repaired,
        other => OutcomeKind::from_final_status(other),
    };
    progress.finished(name, kind.label());
    let message = match final_status.as_str() {
        "ROLLBACK_COMPLETE" => Some(format!(
            "{expected}; the stack is empty: delete it with `cfdeploy rollback {name} --delete` before applying again"
        )),
        _ => Some(expected.to_string()),
    };
    let mut result = done(kind, Some(final_status.clone()), message);
    if !kind.succeeded() {
        if let Ok(d) = watch::diagnose_stack(
            cfn,
            region,
            &stack.stack_id,
            &final_status,
            args.events_tail,
        )
        .await
        {
            result.diagnosis = Some(d);
        }
    }
    result
}
