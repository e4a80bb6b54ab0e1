//! `cfdeploy events STACK`: the diagnosis of the stack's most recent operation, on demand.

use anyhow::{bail, Result};

use crate::cfn::CloudFormation;
use crate::cli::{EventsArgs, ReportFormat};
use crate::context::Context;
use crate::exit::Exit;
use crate::render::outcome;
use crate::watch;

pub async fn run(ctx: &Context, args: &EventsArgs) -> Result<Exit> {
    let name = match (&args.stack, ctx.global.stacks.is_empty()) {
        (Some(_), false) => {
            return super::usage("name the stack or select it with --stack, not both")
        }
        (Some(name), true) => name.clone(),
        (None, true) => {
            return super::usage(
                "name the stack: `cfdeploy events STACK` (or `--stack GLOB` matching one stack of the config)",
            )
        }
        (None, false) => {
            let names = ctx.selected_names().await?;
            match names.as_slice() {
                [one] => one.clone(),
                _ => {
                    return super::usage(&format!(
                        "`events` shows one stack, and --stack selects {}: {}; name one",
                        names.len(),
                        names.join(", ")
                    ))
                }
            }
        }
    };
    let who = ctx.identity().await?;
    tracing::info!(identity = %who, "acting as");
    let cfn = ctx.cfn().await;
    let masker = ctx.masker().await;
    let region = ctx.stack_region(&name).await?;
    let Some(stack) = cfn.describe_stack(&region, &name).await? else {
        bail!(
            "stack `{}` does not exist in {region} (pass --region if it lives elsewhere)",
            name
        );
    };
    let diagnosis = watch::diagnose_stack(
        cfn.as_ref(),
        &region,
        &stack.stack_id,
        &stack.name,
        &stack.status,
        args.events_tail,
    )
    .await?;
    let diagnosis = masker.mask(diagnosis);
    super::write_stdout(|out| match args.format {
        ReportFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&outcome::diagnosis_json(&diagnosis)).unwrap_or_default()
        ),
        ReportFormat::Table => outcome::diagnosis(out, &diagnosis, ctx.stdout),
    })?;
    Ok(Exit::Ok)
}
