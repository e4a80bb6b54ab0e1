//! `cfdeploy comment`: one living plan comment per pull request and config.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use crate::cli::{CommentArgs, GlobalArgs};
use crate::comment::{self, Footer, GITHUB_COMMENT_LIMIT};
use crate::github::GitHub;
use crate::render::summary_line;

pub async fn run(global: &GlobalArgs, args: &CommentArgs) -> Result<ExitCode> {
    let mut plan = super::read_plan(&args.plan)?;
    super::config_masker(global).scrub_plan(&mut plan);
    let config = global.config.display().to_string();
    let footer = Footer {
        commit: std::env::var("GITHUB_SHA").ok().filter(|s| !s.is_empty()),
        apply_hint: format!(
            "applied after merge with `cfdeploy apply --config {config}`; change sets of this plan are checked against the stacks before they run"
        ),
    };

    // The job summary gets the whole plan, never cut.
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| {
                format!(
                    "cannot open GITHUB_STEP_SUMMARY ({})",
                    path.to_string_lossy()
                )
            })?;
        let full = comment::body(&plan, &config, &footer, usize::MAX);
        file.write_all(full.as_bytes())?;
        file.write_all(b"\n")?;
    }

    let body = comment::body(&plan, &config, &footer, GITHUB_COMMENT_LIMIT);
    if args.dry_run {
        super::write_stdout(|out| out.write_all(body.as_bytes()))?;
        return Ok(ExitCode::SUCCESS);
    }

    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
    let Some(token) = token else {
        bail!("GITHUB_TOKEN is not set: the comment needs a token that may write pull-request comments (or pass --dry-run to print it)");
    };
    let repo = std::env::var("GITHUB_REPOSITORY")
        .ok()
        .filter(|r| r.contains('/'));
    let Some(repo) = repo else {
        bail!("GITHUB_REPOSITORY is not set to `owner/name`: run in GitHub Actions or set it");
    };
    let api = std::env::var("GITHUB_API_URL")
        .ok()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "https://api.github.com".to_string());
    let pr = match args.pr {
        Some(pr) => pr,
        None => pr_from_event()?,
    };

    let marker = comment::marker(&config);
    let posted = tokio::task::spawn_blocking(move || {
        let github = GitHub::new(&api, &repo, &token);
        let existing = github
            .list_comments(pr)?
            .into_iter()
            .find(|c| c.body.lines().next() == Some(marker.as_str()));
        match existing {
            Some(c) => github
                .update_comment(pr, c.id, &body)
                .map(|c| ("updated", c)),
            None => github.create_comment(pr, &body).map(|c| ("created", c)),
        }
    })
    .await
    .context("the comment task ended abnormally")?;
    match posted {
        Ok((verb, c)) => {
            eprintln!("{verb} the plan comment on pull request #{pr}: {}", c.url);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            // A failure to comment never hides the plan's own result.
            eprintln!("error: could not post the plan comment: {e}");
            eprintln!("the plan itself: {}", summary_line(&plan.summary()));
            Ok(ExitCode::from(crate::EXIT_FAILURE))
        }
    }
}

/// The pull request number from the event GitHub Actions wrote (`GITHUB_EVENT_PATH`).
fn pr_from_event() -> Result<u64> {
    let Some(path) = std::env::var_os("GITHUB_EVENT_PATH").filter(|p| !p.is_empty()) else {
        bail!("no pull request: pass --pr N, or run on a pull_request event (GITHUB_EVENT_PATH)");
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read GITHUB_EVENT_PATH ({})", path.to_string_lossy()))?;
    let event: serde_json::Value =
        serde_json::from_str(&text).context("GITHUB_EVENT_PATH is not JSON")?;
    event["pull_request"]["number"]
        .as_u64()
        .or_else(|| event["issue"]["number"].as_u64())
        .or_else(|| event["number"].as_u64())
        .context("the event has no pull request number: pass --pr N (the comment belongs to a pull request)")
}
