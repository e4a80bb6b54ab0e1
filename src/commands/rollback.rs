//! `cfdeploy rollback STACK…`: repairs stacks left failed, then waits and diagnoses like apply.

use std::sync::Arc;

use anyhow::Result;

use crate::apply::repair::{repair, RepairOptions};
use crate::cli::RollbackArgs;
use crate::context::Context;
use crate::engine::Events;
use crate::exit::Exit;
use crate::poll::PollOptions;
use crate::progress::Progress;

pub async fn run(ctx: &Context, args: &RollbackArgs) -> Result<Exit> {
    let stacks = ctx.named_and_selected(&args.names, false).await?;
    if stacks.is_empty() {
        return super::usage(
            "name the stacks to repair: `cfdeploy rollback STACK…` (or `--stack GLOB` to select them from the config)",
        );
    }
    let who = ctx.identity().await?;
    tracing::info!(identity = %who, "acting as");
    let cfn = ctx.cfn().await;
    let masker = ctx.masker().await;
    let progress = Arc::new(Progress::new(ctx.progress_mode(false)));
    progress.expect(stacks.iter().map(String::as_str));
    let events = Events::new(masker.clone(), progress as _);
    let interrupt = ctx.interrupt();
    let options = RepairOptions {
        skip_resources: args.skip_resources.clone(),
        delete: args.delete,
        poll: PollOptions::default(),
        events_tail: args.events_tail,
    };
    let mut outcomes = Vec::new();
    for stack in &stacks {
        let region = ctx.stack_region(stack).await?;
        let o = repair(
            cfn.as_ref(),
            &ctx.run.correlation_id,
            &region,
            stack,
            &options,
            &events,
            interrupt.clone(),
        )
        .await;
        outcomes.push(events.finished(o));
    }
    let exit = Exit::worst_of(outcomes.iter().map(|o| Exit::from(o.kind)));
    let outcomes = masker.mask(outcomes);
    super::report_outcomes(ctx, "rollback", args.format, &outcomes, exit)?;
    Ok(exit)
}
