//! `cfdeploy apply`.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use tracing::Instrument;

use crate::apply::{apply_plan, apply_plan_in_stepfunctions, ApplyOptions, StackOptions};
use crate::cfn::change_set::delete_quietly;
use crate::cli::{ApplyArgs, EngineKind, ReportFormat};
use crate::context::Context;
use crate::engine::stepfunctions::FollowOptions;
use crate::engine::Events;
use crate::exit::Exit;
use crate::mask::{Masked, Masker};
use crate::model::{Outcome, OutcomeKind, Plan};
use crate::poll::PollOptions;
use crate::progress::{Progress, ProgressMode};
use crate::render::{self, outcome, Format, Style};
use crate::rollout::{self, RolloutOptions};

pub async fn run(ctx: &Context, args: &ApplyArgs) -> Result<Exit> {
    let span =
        tracing::info_span!("run", correlation_id = %ctx.run.correlation_id, command = "apply");
    async {
        if args.engine == EngineKind::Stepfunctions && args.plan.is_none() {
            return super::usage(
                "--engine stepfunctions runs a reviewed plan: write one with `cfdeploy plan --out plan.json`, then `apply --plan plan.json --engine stepfunctions`",
            );
        }
        // Planning now needs the config: one that does not load is this run's error, said once.
        let selected = match &args.plan {
            Some(_) => None,
            None => Some(ctx.selected_stacks().await?),
        };
        let masker = ctx.masker().await;
        // Planning now prints the identity in the plan's header; a saved plan's apply says it
        // in its own.
        let (plan, specs, who) = match (&args.plan, selected) {
            (Some(path), _) => {
                let plan = super::saved_plan(ctx, path, "apply")?;
                let specs = ctx.stacks_for_saved_plan().await?;
                let who = format!(" · {}", ctx.identity().await?);
                (plan, specs, who)
            }
            (None, selected) => {
                let specs = selected.unwrap_or_default();
                match plan_now(ctx, args, specs.clone(), &masker).await? {
                    Some(plan) => (plan, specs, String::new()),
                    None => return Ok(Exit::Failure),
                }
            }
        };
        // The masks the plan file records apply too (patterns only; it holds no secret values).
        let masker = masker.with_patterns(plan.stacks.iter().flat_map(|s| s.mask.iter()));
        let executing = plan
            .stacks
            .iter()
            .filter(|s| s.status.has_changes())
            .count();
        crate::commands::say(&format!(
            "cfdeploy apply: {}, {executing} to change{who} · correlation id {}",
            super::stacks(plan.stacks.len()),
            ctx.run.correlation_id
        ));

        let cfn = ctx.cfn().await;
        let progress = Arc::new(Progress::new(
            ctx.progress_mode(args.events_format.is_some()),
        ));
        progress.expect(plan.stacks.iter().map(|s| s.stack.as_str()));
        let events = Events::new(masker.clone(), Arc::clone(&progress) as _);
        let ticker = super::redraw_ticker(Arc::clone(&progress));
        let interrupt = ctx.interrupt();
        let options = ApplyOptions {
            rollout: RolloutOptions {
                concurrency: usize::from(args.concurrency),
                max_in_flight: args.max_in_flight.map(usize::from),
                max_failures: usize::from(args.max_failures),
                canary: args.canary.map_or(rollout::DEFAULT_CANARY, usize::from),
                disable_rollback: args.disable_rollback,
            },
            allow_destructive: args.allow_destructive,
            stack: StackOptions {
                disable_rollback: args.disable_rollback,
                poll: PollOptions::default(),
                events_tail: args.events_tail,
                tick: crate::watch::lookout::TICK,
            },
        };
        let outcomes = match args.engine {
            EngineKind::Local => {
                apply_plan(cfn, &plan, &specs, &options, &events, interrupt.clone()).await
            }
            EngineKind::Stepfunctions => {
                let account = if args.state_machine.starts_with("arn:") {
                    String::new()
                } else {
                    super::engine::account(ctx).await?
                };
                let follow = FollowOptions {
                    state_machine: args.state_machine.clone(),
                    account,
                    stack: options.stack.clone(),
                    execution_tick: std::time::Duration::from_secs(2),
                };
                let run = apply_plan_in_stepfunctions(
                    cfn,
                    &plan,
                    &specs,
                    &options,
                    &follow,
                    &events,
                    interrupt.clone(),
                )
                .await;
                match run {
                    Ok(outcomes) => outcomes,
                    Err(why) => {
                        ticker.abort();
                        crate::commands::say(&format!("error: {why}; nothing was executed"));
                        return Ok(Exit::Failure);
                    }
                }
            }
        };
        ticker.abort();

        let interrupted = *interrupt.borrow() > 0;
        let exit =
            Exit::worst_of(outcomes.iter().map(|o| Exit::from(o.kind))).worst(if interrupted {
                Exit::Interrupted
            } else {
                Exit::Ok
            });
        let outcomes = masker.mask(outcomes);
        report(ctx, args.format, progress.mode(), &outcomes, exit)?;
        if interrupted {
            for o in outcomes.iter().filter(|o| o.kind == OutcomeKind::Abandoned) {
                crate::commands::say(&format!(
                    "{}: see its state with `cfdeploy events {}`",
                    o.stack, o.stack
                ));
            }
        }
        Ok(exit)
    }
    .instrument(span)
    .await
}

fn report(
    ctx: &Context,
    format: ReportFormat,
    mode: ProgressMode,
    outcomes: &Masked<Vec<Outcome>>,
    exit: Exit,
) -> Result<()> {
    let write = |out: &mut dyn Write, style: Style| -> std::io::Result<()> {
        match format {
            ReportFormat::Json => {
                let doc =
                    outcome::outcomes_json("apply", &ctx.run.correlation_id, outcomes, exit.code());
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&doc).unwrap_or_default()
                )
            }
            ReportFormat::Table => outcome::outcomes(out, outcomes, style),
        }
    };
    if mode == ProgressMode::Ndjson {
        // stdout carries only the event lines.
        let style = Style {
            width: None,
            ..ctx.stderr
        };
        super::write_stderr(|out| write(out, style))
    } else {
        super::write_stdout(|out| write(out, ctx.stdout))
    }
}

/// Plans, shows the plan on stderr, and asks. `None` when the user declined or could not be asked.
async fn plan_now(
    ctx: &Context,
    args: &ApplyArgs,
    specs: Vec<crate::config::StackSpec>,
    masker: &Masker,
) -> Result<Option<Plan>> {
    let options = (args.concurrency, false, false);
    let plan = super::plan::plan_selected(ctx, specs, options, masker).await?;
    if *ctx.interrupt().borrow() > 0 {
        super::say("interrupted while planning: nothing was applied");
        return Ok(None);
    }
    let cfn = ctx.cfn().await;
    let style = Style {
        color: ctx.stderr.color,
        width: ctx.stdout.width.or(ctx.stderr.width),
    };
    super::write_stderr(|err| render::plan(err, &plan, Format::Table, style))?;

    if plan.has_changes() && !args.yes {
        let ask = ctx.interactive();
        let changing = plan
            .stacks
            .iter()
            .filter(|s| s.status.has_changes())
            .count();
        let confirmed = ask
            && super::confirm(&format!(
                "Apply the changes to {}?",
                super::stacks(changing)
            ))?;
        if !confirmed {
            for s in plan.stacks.iter().filter(|s| s.status.has_changes()) {
                if let Some(arn) = &s.change_set_arn {
                    delete_quietly(cfn.as_ref(), &s.region, arn).await;
                }
            }
            if ask {
                crate::commands::say("not applied; the change sets were deleted");
            } else {
                crate::commands::say("error: refusing to apply without confirmation: there is no terminal to ask on. Pass --yes, or review a plan (`cfdeploy plan --out plan.json`) and apply exactly that with `cfdeploy apply --plan plan.json`. The change sets were deleted.");
            }
            return Ok(None);
        }
    }
    Ok(Some(Masked::into_inner(plan)))
}
