//! `cfdeploy validate`: everything `plan` checks before its first AWS call — the config files,
//! the templates, every parameter against its template — with no AWS call at all.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::cli::ValidateArgs;
use crate::context::Context;
use crate::exit::Exit;

/// How the loader words a `${env:NAME}` that is not set.
const UNSET_VARIABLE: &str = "reads the environment variable";

pub async fn run(ctx: &Context, args: &ValidateArgs) -> Result<Exit> {
    let exit = check_config(ctx).await?;
    if args.cfn_lint {
        let mut templates: Vec<PathBuf> = ctx
            .stacks_for_saved_plan()
            .await?
            .into_iter()
            .map(|s| s.template_path)
            .collect();
        templates.sort();
        templates.dedup();
        return cfn_lint(&templates);
    }
    Ok(exit)
}

async fn check_config(ctx: &Context) -> Result<Exit> {
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
    // Local artifacts (`Code: ./src`, nested templates) are checked as `plan` would package
    // them, short of reading and uploading.
    let mut problems: Vec<String> = Vec::new();
    for spec in &stacks {
        let Ok(doc) = crate::yaml::template_to_json(&spec.template.body) else {
            continue;
        };
        let has_bucket = spec.template_bucket.is_some();
        for p in crate::package::problems(&doc, &spec.template_path, has_bucket) {
            problems.push(format!(
                "{}: stack `{}`: {p}",
                spec.source.display(),
                spec.name
            ));
        }
    }
    if !problems.is_empty() {
        return Err(crate::config::ConfigError { problems }.into());
    }
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

/// Runs cfn-lint on `templates`: its errors are problems (exit 1), its warnings notes.
fn cfn_lint(templates: &[PathBuf]) -> Result<Exit> {
    let out = match std::process::Command::new("cfn-lint")
        .arg("--format")
        .arg("parseable")
        .args(templates)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "--cfn-lint: cfn-lint is not installed (or not on PATH); install it with `pip install cfn-lint`, or validate without --cfn-lint"
        ),
        Err(e) => bail!("--cfn-lint: cannot run cfn-lint: {e}"),
    };
    let findings = String::from_utf8_lossy(&out.stdout);
    let mut errors = Vec::new();
    for line in findings.lines() {
        // path:line:column:end line:end column:RULE:message
        let fields: Vec<&str> = line.splitn(7, ':').collect();
        let [file, line_no, _, _, _, rule, message] = fields[..] else {
            continue;
        };
        let text = format!("{file}:{line_no}: {rule} {message}");
        match rule.chars().next() {
            Some('E') => errors.push(text),
            Some('W') => super::say(&format!("note: cfn-lint: {text}")),
            _ => {}
        }
    }
    // Exit status bit 1: cfn-lint itself failed (not a finding).
    if out.status.code().is_some_and(|c| c & 1 == 1) {
        bail!(
            "--cfn-lint: cfn-lint failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    if errors.is_empty() {
        super::say(&format!(
            "cfn-lint: {} template{} without errors",
            templates.len(),
            if templates.len() == 1 { "" } else { "s" }
        ));
        return Ok(Exit::Ok);
    }
    super::say(&format!(
        "error: cfn-lint found {} error{}:",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    ));
    for e in &errors {
        super::say(&format!("  - {e}"));
    }
    Ok(Exit::Failure)
}
