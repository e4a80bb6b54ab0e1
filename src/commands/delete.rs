//! `cfdeploy delete STACK…`: plans each deletion (what goes, what a policy keeps, what is
//! refused), shows it, asks (or takes `--yes`), then deletes and watches like apply.

use std::sync::Arc;

use anyhow::Result;
use tokio::task::JoinSet;

use crate::cli::DeleteArgs;
use crate::context::Context;
use crate::delete::{self, DeleteOptions, Target};
use crate::engine::Events;
use crate::exit::Exit;
use crate::guard::StatefulTypes;
use crate::poll::PollOptions;
use crate::progress::Progress;
use crate::render::{self, Style};

pub async fn run(ctx: &Context, args: &DeleteArgs) -> Result<Exit> {
    let names = ctx.named_and_selected(&args.names, false).await?;
    if names.is_empty() {
        return super::usage(
            "name the stacks to delete: `cfdeploy delete STACK…` (or `--stack GLOB` to select them from the config); cfdeploy never deletes a whole config by default",
        );
    }
    // Safety settings come from the config when the stack is in it; a stack that left the
    // config is judged by the defaults.
    let specs = ctx.stacks_for_saved_plan().await.unwrap_or_default();
    let mut targets = Vec::new();
    for name in &names {
        let spec = specs.iter().find(|s| &s.name == name);
        targets.push(Target {
            stack: name.clone(),
            region: ctx.stack_region(name).await?,
            stateful: spec.map_or_else(StatefulTypes::default, |s| s.stateful_types.clone()),
            allow_destructive: args.allow_destructive || spec.is_some_and(|s| s.allow_destructive),
        });
    }
    let who = ctx.identity().await?;
    tracing::info!(identity = %who, "acting as");
    let cfn = ctx.cfn().await;
    let masker = ctx.masker().await;
    let mut deletions = Vec::new();
    for target in &targets {
        deletions.push(delete::plan(cfn.as_ref(), target, &args.retain).await);
    }
    let deletions = masker.mask(deletions);
    let style = Style {
        color: ctx.stderr.color,
        width: ctx.stdout.width.or(ctx.stderr.width),
    };
    if args.dry_run {
        super::write_stdout(|out| render::deletion::plan(out, &deletions, ctx.stdout))?;
        return Ok(Exit::Ok);
    }
    super::write_stderr(|err| render::deletion::plan(err, &deletions, style))?;

    let going = deletions.iter().filter(|d| d.goes()).count();
    let mut declined = false;
    if going > 0 && !args.yes {
        if !ctx.interactive() {
            super::say("error: refusing to delete without confirmation: there is no terminal to ask on. Pass --yes (after looking at `cfdeploy delete … --dry-run`).");
            return Ok(Exit::Failure);
        }
        declined = !super::confirm(&format!("Delete {}?", super::stacks(going)))?;
    }

    let progress = Arc::new(Progress::new(ctx.progress_mode(false)));
    progress.expect(
        deletions
            .iter()
            .filter(|d| d.goes() && !declined)
            .map(|d| d.stack.as_str()),
    );
    let events = Events::new(masker.clone(), progress as _);
    let options = DeleteOptions {
        retain: args.retain.clone(),
        poll: PollOptions::default(),
        events_tail: args.events_tail,
    };
    let interrupt = ctx.interrupt();
    let mut tasks = JoinSet::new();
    let mut outcomes = vec![None; deletions.len()];
    for (i, d) in deletions.iter().enumerate() {
        if !d.goes() || declined || *interrupt.borrow() > 0 {
            let mut o = delete::not_executed(d);
            if d.goes() {
                o.kind = crate::model::OutcomeKind::NotStarted;
                o.message = Some(if declined {
                    "not deleted: declined".to_string()
                } else {
                    "not deleted: interrupted".to_string()
                });
            }
            outcomes[i] = Some(events.finished(o));
            continue;
        }
        let (cfn, d, options, events, interrupt) = (
            Arc::clone(&cfn),
            d.clone(),
            options.clone(),
            events.clone(),
            interrupt.clone(),
        );
        let correlation_id = ctx.run.correlation_id.clone();
        tasks.spawn(async move {
            let o = delete::execute(
                cfn.as_ref(),
                &d,
                &correlation_id,
                &options,
                &events,
                interrupt,
            )
            .await;
            (i, events.finished(o))
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, o)) => outcomes[i] = Some(o),
            Err(e) => tracing::error!(error = %e, "a deletion task ended abnormally"),
        }
    }
    // A deletion whose task ended abnormally is reported as unknown, never dropped.
    let outcomes: Vec<_> = outcomes
        .into_iter()
        .zip(deletions.iter())
        .map(|(o, d)| {
            o.unwrap_or_else(|| {
                let mut o = delete::not_executed(d);
                o.kind = crate::model::OutcomeKind::Unknown;
                o.message = Some(format!(
                    "cfdeploy lost track of this deletion; `cfdeploy events {}` shows where it is",
                    d.stack
                ));
                o
            })
        })
        .collect();
    let interrupted = *interrupt.borrow() > 0;
    let exit = Exit::worst_of(outcomes.iter().map(|o| Exit::from(o.kind))).worst(if interrupted {
        Exit::Interrupted
    } else {
        Exit::Ok
    });
    let outcomes = masker.mask(outcomes);
    super::report_outcomes(ctx, "delete", args.format, &outcomes, exit)?;
    Ok(exit)
}
