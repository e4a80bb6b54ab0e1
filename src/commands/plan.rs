//! `cfdeploy plan`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use tracing::Instrument;

use crate::cli::{GlobalArgs, PlanArgs};
use crate::plan::{plan_fleet, PlanOptions, PollOptions};
use crate::render::{self, json};
use crate::run::RunContext;
use crate::{settings, EXIT_CHANGES, EXIT_FAILURE, EXIT_OK};

pub async fn run(global: &GlobalArgs, args: &PlanArgs) -> Result<ExitCode> {
    let run = RunContext::new();
    let span = tracing::info_span!("run", correlation_id = %run.correlation_id, command = "plan");
    async {
        let (cfn, specs) = super::load(global).await?;
        eprintln!(
            "cfdeploy plan: {} stack{} · correlation id {}",
            specs.len(),
            if specs.len() == 1 { "" } else { "s" },
            run.correlation_id
        );
        let options = PlanOptions {
            concurrency: usize::from(args.concurrency),
            poll: PollOptions::default(),
        };
        let cfn = Arc::new(cfn);
        let plan = plan_fleet(Arc::clone(&cfn), specs, &run, &options).await;
        tracing::info!(
            calls = cfn.calls(),
            stacks = plan.stacks.len(),
            "plan finished"
        );

        if let Some(path) = &args.out {
            let mut text = serde_json::to_vec_pretty(&json::document(&plan))?;
            text.push(b'\n');
            std::fs::write(path, text)
                .with_context(|| format!("cannot write the plan to {}", path.display()))?;
        }
        let style = settings::stdout_style(global.color);
        super::write_stdout(|out| render::plan(out, &plan, args.format, style))?;
        if let Some(path) = &args.out {
            eprintln!("plan written to {}", path.display());
        }

        let code = if plan.has_errors() {
            EXIT_FAILURE
        } else if args.detailed_exitcode && plan.has_changes() {
            EXIT_CHANGES
        } else {
            EXIT_OK
        };
        Ok(ExitCode::from(code))
    }
    .instrument(span)
    .await
}
