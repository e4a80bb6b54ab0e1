//! `cfdeploy comment`: one living plan comment per pull request and config.

use std::io::Write;

use anyhow::{bail, Context as _, Result};

use crate::cli::CommentArgs;
use crate::comment::{self, Footer, GITHUB_COMMENT_LIMIT};
use crate::context::{Context, Env};
use crate::exit::Exit;
use crate::github::GitHub;
use crate::planfile;
use crate::render::summary_line;

pub async fn run(ctx: &Context, args: &CommentArgs) -> Result<Exit> {
    if !ctx.global.stacks.is_empty() {
        // The living comment shows its plan whole; a part of it would read as the whole.
        return super::usage(
            "`comment` posts the whole plan file; select the stacks when planning: `cfdeploy plan --stack GLOB --out plan.json`",
        );
    }
    // A plan file holds no secrets, but a value may match a `mask:` pattern added since.
    let plan = planfile::read(&args.plan)?;
    let masker = ctx
        .masker()
        .await
        .with_patterns(plan.stacks.iter().flat_map(|s| s.mask.iter()));
    let plan = masker.mask(plan);
    let config = ctx.config_path().display().to_string();
    let mut footer = Footer::new(&config, ctx.env.get("GITHUB_SHA").map(str::to_string));
    // The deploy order, when the stacks depend on each other: a picture read at a glance.
    let order: Vec<(String, Vec<String>)> = ctx
        .stacks_for_saved_plan()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|s| plan.stacks.iter().any(|p| p.stack == s.name))
        .map(|s| (s.name, s.depends_on))
        .collect();
    if order.iter().any(|(_, deps)| !deps.is_empty()) {
        footer.graph = Some(crate::graph::mermaid(&order));
    }

    // The job summary gets the whole plan, never cut.
    if let Some(path) = ctx.env.get("GITHUB_STEP_SUMMARY") {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open GITHUB_STEP_SUMMARY ({path})"))?;
        let full = comment::body(&plan, &config, &footer, usize::MAX);
        file.write_all(full.as_bytes())?;
        file.write_all(b"\n")?;
    }

    let body = comment::body(&plan, &config, &footer, GITHUB_COMMENT_LIMIT);
    if args.dry_run {
        super::write_stdout(|out| out.write_all(body.as_bytes()))?;
        return Ok(Exit::Ok);
    }

    let Some(token) = ctx.env.get("GITHUB_TOKEN").map(str::to_string) else {
        bail!("GITHUB_TOKEN is not set: the comment needs a token that may write pull-request comments (or pass --dry-run to print it)");
    };
    let repo = ctx
        .env
        .get("GITHUB_REPOSITORY")
        .filter(|r| r.contains('/'))
        .map(str::to_string);
    let Some(repo) = repo else {
        bail!("GITHUB_REPOSITORY is not set to `owner/name`: run in GitHub Actions or set it");
    };
    let api = ctx
        .env
        .get("GITHUB_API_URL")
        .unwrap_or("https://api.github.com")
        .to_string();
    let pr = match args.pr {
        Some(pr) => pr,
        None => pr_from_event(&ctx.env)?,
    };

    let marker = comment::marker(&config);
    let posted = tokio::task::spawn_blocking(move || {
        let github = GitHub::new(&api, &repo, &token);
        // Only a comment cfdeploy wrote is adopted: its marker AND the token's own identity.
        // Anyone can write the marker into a comment of theirs.
        let me = github.identity()?;
        let existing = github
            .list_comments(pr)?
            .into_iter()
            .find(|c| c.body.lines().next() == Some(marker.as_str()) && c.author == me);
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
            crate::commands::say(&format!(
                "{verb} the plan comment on pull request #{pr}: {}",
                c.url
            ));
            Ok(Exit::Ok)
        }
        Err(e) => {
            // A failure to comment never hides the plan's own result.
            // GitHub's error text can quote the request, token included: it is masked too.
            crate::commands::say(
                &masker.scrub(&format!("error: could not post the plan comment: {e}")),
            );
            crate::commands::say(&format!(
                "the plan itself: {}",
                summary_line(&plan.summary())
            ));
            Ok(Exit::Failure)
        }
    }
}

/// The pull request number from the event GitHub Actions wrote (`GITHUB_EVENT_PATH`).
fn pr_from_event(env: &Env) -> Result<u64> {
    let Some(path) = env.get("GITHUB_EVENT_PATH") else {
        bail!("no pull request: pass --pr N, or run on a pull_request event (GITHUB_EVENT_PATH)");
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read GITHUB_EVENT_PATH ({path})"))?;
    let event: serde_json::Value =
        serde_json::from_str(&text).context("GITHUB_EVENT_PATH is not JSON")?;
    event["pull_request"]["number"]
        .as_u64()
        .or_else(|| event["issue"]["number"].as_u64())
        .or_else(|| event["number"].as_u64())
        .context("the event has no pull request number: pass --pr N (the comment belongs to a pull request)")
}
