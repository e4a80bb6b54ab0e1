//! `cfdeploy events STACK`: the diagnosis of the stack's most recent operation, on demand.

use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::cfn::CloudFormation;
use crate::cli::{EventsArgs, GlobalArgs, ReportFormat};
use crate::render::outcome;
use crate::{settings, watch};

pub async fn run(global: &GlobalArgs, args: &EventsArgs) -> Result<ExitCode> {
    let cfn = super::sdk(global).await;
    let (region, masker) = super::stack_region(global, &cfn, &args.stack)?;
    let Some(stack) = cfn.describe_stack(&region, &args.stack).await? else {
        bail!(
            "stack `{}` does not exist in {region} (pass --region if it lives elsewhere)",
            args.stack
        );
    };
    let status = stack.status.to_string();
    let diagnosis =
        watch::diagnose_stack(&cfn, &region, &stack.stack_id, &status, args.events_tail).await?;
    let mut diagnosis = diagnosis;
    diagnosis.stack = stack.name.clone();
    super::write_stdout(|out| match args.format {
        ReportFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&outcome::diagnosis_json(&diagnosis, &masker))
                .unwrap_or_default()
        ),
        ReportFormat::Table => outcome::diagnosis(
            out,
            &diagnosis,
            &masker,
            settings::stdout_style(global.color),
        ),
    })?;
    Ok(ExitCode::SUCCESS)
}
