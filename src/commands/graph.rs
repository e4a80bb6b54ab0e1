//! `cfdeploy graph`: the deploy order `depends_on` gives the stacks, with no AWS call.

use anyhow::Result;

use crate::cli::{GraphArgs, GraphFormat};
use crate::context::Context;
use crate::exit::Exit;

pub async fn run(ctx: &Context, args: &GraphArgs) -> Result<Exit> {
    // The order needs no parameter values; --stack narrows it to the stacks it selects.
    let selected = ctx.selected_names().await?;
    let stacks: Vec<(String, Vec<String>)> = ctx
        .stacks_for_saved_plan()
        .await?
        .into_iter()
        .filter(|s| selected.contains(&s.name))
        .map(|s| (s.name, s.depends_on))
        .collect();
    let text = match args.format {
        GraphFormat::Text => crate::graph::text(&stacks),
        GraphFormat::Mermaid => crate::graph::mermaid(&stacks),
    };
    super::write_stdout(|out| write!(out, "{text}"))?;
    Ok(Exit::Ok)
}
