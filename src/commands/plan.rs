//! `cfdeploy plan`.

use std::sync::Arc;

use anyhow::Result;
use tracing::Instrument;

use crate::cli::PlanArgs;
use crate::context::Context;
use crate::exit::Exit;
use crate::mask::{Masked, Masker};
use crate::model::Plan;
use crate::plan::{discard, plan_fleet, LeftOptions, PlanOptions};
use crate::poll::PollOptions;
use crate::{planfile, render};

pub async fn run(ctx: &Context, args: &PlanArgs) -> Result<Exit> {
    let span =
        tracing::info_span!("run", correlation_id = %ctx.run.correlation_id, command = "plan");
    async {
        if args.prune && ctx.selects_part() {
            return super::usage(
                "--prune deletes stacks that left the config, which only a plan of the whole config can tell; drop --stack",
            );
        }
        // The config first: one that does not load is this run's error, said once.
        let specs = ctx.selected_stacks().await?;
        let masker = ctx.masker().await;
        let cfn = ctx.cfn().await;
        let options = (args.concurrency, args.drift, args.prune);
        let plan = plan_selected(ctx, specs, options, &masker).await?;
        tracing::info!(
            calls = cfn.calls(),
            stacks = plan.stacks.len(),
            "plan finished"
        );

        let interrupted = *ctx.interrupt().borrow() > 0;
        if let Some(path) = args.out.as_ref().filter(|_| !interrupted) {
            planfile::write(path, &plan)?;
        }
        super::write_stdout(|out| render::plan(out, &plan, args.format, ctx.stdout))?;
        if interrupted {
            super::say("interrupted: this plan was discarded and no plan file was written");
            return Ok(Exit::Interrupted);
        }
        if args.out.is_none() && !args.keep_change_sets {
            // Nothing to apply later: leave the account as it was.
            let removed = discard(cfn.as_ref(), &plan, &ctx.run).await;
            if !removed.is_empty() {
                super::say(&format!(
                    "removed what this plan made ({}); write the plan with --out to apply it, or pass --keep-change-sets",
                    removed.len()
                ));
            }
        }
        if let Some(path) = &args.out {
            super::say(&format!("plan written to {}", path.display()));
        }

        Ok(if plan.has_errors() {
            Exit::Failure
        } else if args.detailed_exitcode && plan.has_changes() {
            Exit::Changes
        } else {
            Exit::Ok
        })
    }
    .instrument(span)
    .await
}

/// Plans the stacks `--stack` selects, saying on stderr how many and under which correlation id.
/// Plans `specs` (the stacks `--stack` selects) with `(concurrency, drift, prune)`.
pub async fn plan_selected(
    ctx: &Context,
    specs: Vec<crate::config::StackSpec>,
    (concurrency, drift, prune): (u16, bool, bool),
    masker: &Masker,
) -> Result<Masked<Plan>> {
    let who = ctx.identity().await?;
    let cfn = ctx.cfn().await;
    super::say(&format!(
        "cfdeploy plan: {} · {who} · correlation id {}",
        super::stacks(specs.len()),
        ctx.run.correlation_id
    ));
    let options = PlanOptions {
        concurrency: usize::from(concurrency),
        poll: PollOptions::default(),
        drift,
        // Part of the config selected: the rest has not left it.
        left: match (ctx.selects_part(), prune) {
            (true, _) => LeftOptions::Skip,
            (false, false) => LeftOptions::List,
            (false, true) => LeftOptions::Prune,
        },
    };

    let interrupt = ctx.interrupt();
    let plan = plan_fleet(
        Arc::clone(&cfn),
        specs,
        &ctx.run,
        &options,
        masker,
        &interrupt,
    )
    .await;
    if *interrupt.borrow() > 0 {
        // Nothing this run made is left behind: its change sets, and the empty stacks its
        // CREATE change sets made.
        let removed = discard(cfn.as_ref(), &plan, &ctx.run).await;
        if !removed.is_empty() {
            super::say(&format!("interrupted: removed {}", removed.join(", ")));
        }
    }
    Ok(plan)
}
