//! `cfdeploy outputs [STACK…]`: what deployed stacks output, for people and for later steps.

use anyhow::Result;

use crate::cfn::CloudFormation;
use crate::cli::{OutputsArgs, OutputsFormat};
use crate::context::Context;
use crate::exit::Exit;
use crate::model::StackOutputs;
use crate::render::outputs;

pub async fn run(ctx: &Context, args: &OutputsArgs) -> Result<Exit> {
    // Named stacks, plus those --stack selects; neither means every stack of the config.
    let names = ctx.named_and_selected(&args.names, true).await?;
    let who = ctx.identity().await?;
    tracing::info!(identity = %who, "acting as");
    let cfn = ctx.cfn().await;
    let mut stacks = Vec::new();
    for name in names {
        let region = ctx.stack_region(&name).await?;
        let (outputs, error) = match cfn.describe_stack(&region, &name).await {
            Ok(Some(stack)) => (stack.outputs, None),
            Ok(None) => (
                vec![],
                Some(format!("does not exist in {region} (not deployed yet?)")),
            ),
            Err(e) => (vec![], Some(e.to_string())),
        };
        stacks.push(StackOutputs {
            stack: name,
            region,
            outputs,
            error,
        });
    }
    let failed = stacks.iter().any(|s| s.error.is_some());
    let stacks = ctx.masker().await.mask(stacks);
    super::write_stdout(|out| match args.format {
        OutputsFormat::Table => outputs::table(out, &stacks, ctx.stdout),
        OutputsFormat::Json => outputs::json(out, &stacks),
        OutputsFormat::Env => outputs::env(out, &stacks),
    })?;
    if failed && args.format == OutputsFormat::Env {
        for s in stacks.iter().filter(|s| s.error.is_some()) {
            super::say(&format!(
                "error: {}: {}",
                s.stack,
                s.error.as_deref().unwrap_or("")
            ));
        }
    }
    Ok(if failed { Exit::Failure } else { Exit::Ok })
}
