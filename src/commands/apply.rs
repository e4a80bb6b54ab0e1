//! `cfdeploy apply`.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use tracing::Instrument;

use crate::apply::{apply_fleet, ApplyOptions, ApplyTarget};
use crate::cfn::sdk::SdkCloudFormation;
use crate::cfn::CloudFormation;
use crate::cli::{ApplyArgs, GlobalArgs, ReportFormat};
use crate::mask::Masker;
use crate::model::{OutcomeKind, PlanStatus};
use crate::plan::{plan_fleet, PlanOptions, PollOptions};
use crate::progress::{Progress, ProgressMode};
use crate::render::{self, outcome, Format};
use crate::run::RunContext;
use crate::{settings, EXIT_FAILURE};

pub async fn run(global: &GlobalArgs, args: &ApplyArgs) -> Result<ExitCode> {
    let run = RunContext::new();
    let span = tracing::info_span!("run", correlation_id = %run.correlation_id, command = "apply");
    async {
        let (cfn, targets, masker) = match &args.plan {
            Some(path) => from_plan_file(global, path).await?,
            None => match plan_now(global, args, &run).await? {
                Some(planned) => planned,
                None => return Ok(ExitCode::from(EXIT_FAILURE)),
            },
        };
        let executing = targets.iter().filter(|t| t.status.has_changes()).count();
        eprintln!(
            "cfdeploy apply: {} stack{}, {executing} to change · correlation id {}",
            targets.len(),
            if targets.len() == 1 { "" } else { "s" },
            run.correlation_id
        );

        let cfn = Arc::new(cfn);
        let ndjson = args.events_format.is_some();
        let progress = Arc::new(Progress::new(super::progress_mode(ndjson), masker.clone()));
        let ticker = super::redraw_ticker(Arc::clone(&progress));
        let interrupt = super::watch_signals();
        let options = ApplyOptions {
            concurrency: usize::from(args.concurrency),
            max_failures: usize::from(args.max_failures),
            canary: usize::from(args.canary),
            disable_rollback: args.disable_rollback,
            allow_destructive: args.allow_destructive,
            poll: PollOptions::default(),
            events_tail: args.events_tail,
        };
        let outcomes = apply_fleet(Arc::clone(&cfn), targets.clone(), &options, Arc::clone(&progress), interrupt.clone()).await;
        ticker.abort();

        // No change set of cfdeploy's is left behind but the executed ones.
        for (target, o) in targets.iter().zip(&outcomes) {
            if matches!(
                o.kind,
                OutcomeKind::NotStarted | OutcomeKind::Refused | OutcomeKind::Blocked
            ) {
                if let Some(arn) = &target.change_set_arn {
                    if let Err(e) = cfn.delete_change_set(&target.region, arn).await {
                        tracing::debug!(stack = %target.stack, error = %e, "change set not deleted");
                    }
                }
            }
        }

        let interrupted = *interrupt.borrow() > 0;
        let code = outcomes
            .iter()
            .map(|o| o.kind.exit_code())
            .max()
            .unwrap_or(0)
            .max(if interrupted { crate::EXIT_INTERRUPTED } else { 0 });
        report(args.format, progress.mode(), &run, &outcomes, code, &masker, global)?;
        if interrupted {
            for o in outcomes.iter().filter(|o| o.kind == OutcomeKind::Abandoned) {
                eprintln!("{}: see its state with `cfdeploy events {}`", o.stack, o.stack);
            }
        }
        Ok(ExitCode::from(code))
    }
    .instrument(span)
    .await
}

fn report(
    format: ReportFormat,
    mode: ProgressMode,
    run: &RunContext,
    outcomes: &[crate::model::Outcome],
    code: u8,
    masker: &Masker,
    global: &GlobalArgs,
) -> Result<()> {
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        match format {
            ReportFormat::Json => {
                let doc =
                    outcome::outcomes_json("apply", &run.correlation_id, outcomes, code, masker);
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&doc).unwrap_or_default()
                )
            }
            ReportFormat::Table => {
                let style = if mode == ProgressMode::Ndjson {
                    render::Style {
                        color: settings::stderr_color(global.color),
                        width: None,
                    }
                } else {
                    settings::stdout_style(global.color)
                };
                outcome::outcomes(out, outcomes, masker, style)
            }
        }
    };
    if mode == ProgressMode::Ndjson {
        // stdout carries only the event lines.
        write(&mut std::io::stderr().lock())?;
        Ok(())
    } else {
        super::write_stdout(write)
    }
}

async fn from_plan_file(
    global: &GlobalArgs,
    path: &std::path::Path,
) -> Result<(SdkCloudFormation, Vec<ApplyTarget>, Masker)> {
    let plan = super::read_plan(path)?;
    let patterns: Vec<glob::Pattern> = global
        .stacks
        .iter()
        .map(|s| {
            glob::Pattern::new(s).with_context(|| format!("--stack `{s}` is not a valid glob"))
        })
        .collect::<Result<_>>()?;
    let targets: Vec<ApplyTarget> = plan
        .stacks
        .iter()
        .filter(|s| patterns.is_empty() || patterns.iter().any(|p| p.matches(&s.stack)))
        .map(ApplyTarget::from_plan)
        .collect();
    if targets.is_empty() {
        bail!(
            "{}: no stack to apply (the plan is empty or --stack matched none of it)",
            path.display()
        );
    }
    let cfn = super::sdk(global).await;
    let masker = super::config_masker(global);
    Ok((cfn, targets, masker))
}

/// Plans, shows the plan on stderr, and asks. `None` when the user declined or could not be asked.
async fn plan_now(
    global: &GlobalArgs,
    args: &ApplyArgs,
    run: &RunContext,
) -> Result<Option<(SdkCloudFormation, Vec<ApplyTarget>, Masker)>> {
    let (cfn, specs) = super::load(global).await?;
    let masker = Masker::for_specs(&specs);
    eprintln!(
        "cfdeploy plan: {} stack{} · correlation id {}",
        specs.len(),
        if specs.len() == 1 { "" } else { "s" },
        run.correlation_id
    );
    let cfn = Arc::new(cfn);
    let plan = plan_fleet(
        Arc::clone(&cfn),
        specs,
        run,
        &PlanOptions {
            concurrency: usize::from(args.concurrency),
            poll: PollOptions::default(),
        },
    )
    .await;
    let style = render::Style {
        color: settings::stderr_color(global.color),
        width: settings::stdout_style(global.color).width,
    };
    let mut err = std::io::stderr().lock();
    render::plan(&mut err, &plan, Format::Table, style)?;
    drop(err);
    let cfn = Arc::into_inner(cfn).context("the plan still holds the AWS client")?;
    let targets: Vec<ApplyTarget> = plan.stacks.iter().map(ApplyTarget::from_plan).collect();

    if plan.has_changes() && !args.yes {
        let ask = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        let confirmed = ask
            && confirm(
                plan.stacks
                    .iter()
                    .filter(|s| s.status.has_changes())
                    .count(),
            )?;
        if !confirmed {
            for t in targets
                .iter()
                .filter(|t| t.status == PlanStatus::Create || t.status == PlanStatus::Update)
            {
                if let Some(arn) = &t.change_set_arn {
                    let _ = cfn.delete_change_set(&t.region, arn).await;
                }
            }
            if ask {
                eprintln!("not applied; the change sets were deleted");
            } else {
                eprintln!("error: refusing to apply without confirmation: there is no terminal to ask on. Pass --yes, or review a plan (`cfdeploy plan --out plan.json`) and apply exactly that with `cfdeploy apply --plan plan.json`. The change sets were deleted.");
            }
            return Ok(None);
        }
    }
    Ok(Some((cfn, targets, masker)))
}

fn confirm(stacks: usize) -> Result<bool> {
    eprint!(
        "Apply the changes to {stacks} stack{}? Only 'yes' applies: ",
        if stacks == 1 { "" } else { "s" }
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}
