//! `cfdeploy validate`: everything `plan` checks before its first AWS call — the config files,
//! the templates, every parameter against its template — with no AWS call at all.

use anyhow::Result;

use crate::context::Context;
use crate::exit::Exit;

/// How the loader words a `${env:NAME}` that is not set.
const UNSET_VARIABLE: &str = "reads the environment variable";

pub async fn run(ctx: &Context) -> Result<Exit> {
    // The same loader plan uses: every problem of every file at once.
    let stacks = match ctx.checked_stacks().await {
        Ok(stacks) => stacks,
        Err(e) => {
            // A secret that is not exported here (a pre-commit hook, an editor) is the
            // environment's business, not the config's: said, but not a failure.
            let (unset, problems): (Vec<String>, Vec<String>) = e
                .problems
                .into_iter()
                .partition(|p| p.contains(UNSET_VARIABLE));
            for p in &unset {
                super::say(&format!("note: {p}"));
            }
            if !problems.is_empty() {
                return Err(crate::config::ConfigError { problems }.into());
            }
            super::say(&format!(
                "{}: valid, apart from environment variables not set here (plan and apply need them); nothing was sent to AWS",
                ctx.config_path().display()
            ));
            return Ok(Exit::Ok);
        }
    };
    let templates: std::collections::BTreeSet<&std::path::Path> =
        stacks.iter().map(|s| s.template_path.as_path()).collect();
    super::say(&format!(
        "{}: {} and {} template{} are valid; nothing was sent to AWS",
        ctx.config_path().display(),
        super::stacks(stacks.len()),
        templates.len(),
        if templates.len() == 1 { "" } else { "s" }
    ));
    Ok(Exit::Ok)
}
