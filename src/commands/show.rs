//! `cfdeploy show FILE`: a saved plan shown again, in any format, with no AWS call: what a pull
//! request reviewed, read through the same strict reader `apply` uses.

use anyhow::Result;

use crate::cli::ShowArgs;
use crate::context::Context;
use crate::exit::Exit;
use crate::render;

pub async fn run(ctx: &Context, args: &ShowArgs) -> Result<Exit> {
    let plan = super::saved_plan(ctx, &args.plan, "show")?;
    // The plan holds no secret values; the masks it records and the config's apply again.
    let masker = ctx
        .masker()
        .await
        .with_patterns(plan.stacks.iter().flat_map(|s| s.mask.iter()));
    let plan = masker.mask(plan);
    super::write_stdout(|out| render::plan(out, &plan, args.format, ctx.stdout))?;
    Ok(if plan.has_errors() {
        Exit::Failure
    } else if args.detailed_exitcode && plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Ok
    })
}
