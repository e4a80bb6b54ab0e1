//! The flags of `plan` and `apply`: what is planned and how it is shown, and how a reviewed plan
//! is executed.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::EngineKind;
use crate::render::Format;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    /// One JSON object per stack event on stdout.
    Ndjson,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Execute exactly the change sets recorded in this plan (written by `plan --out`).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Apply without asking (required without a terminal when planning now).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Output format of the outcomes.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Stream every stack event as one JSON line on stdout (the summary then goes to stderr).
    #[arg(long, value_enum)]
    pub events_format: Option<EventsFormat>,
    /// Requests to CloudFormation in flight at once (reading change sets, executing, diagnosing).
    /// Waiting on a stack takes none: every stack of a wave runs at once unless --max-in-flight
    /// says otherwise.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Stack operations running at once at most (the blast radius) [default: every stack of a
    /// wave].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_in_flight: Option<u16>,
    /// Stop starting new stacks after this many failures (in-flight ones finish); 1, the
    /// default, stops the rollout at the first failure.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = failure_budget)]
    pub max_failures: u16,
    /// Apply the first N stacks with changes alone, and the rest only if they succeed [default: 1
    /// when more than one stack changes; 0 turns it off].
    #[arg(long, value_name = "N")]
    pub canary: Option<u16>,
    /// Keep failed resources for debugging instead of rolling back.
    #[arg(long)]
    pub disable_rollback: bool,
    /// Apply changes that remove or replace stateful resources (otherwise refused, exit 3).
    #[arg(long)]
    pub allow_destructive: bool,
    /// Events shown in a failure's diagnosis.
    #[arg(long = "events", default_value_t = 20, value_name = "N")]
    pub events_tail: usize,
    /// Who runs the rollout: this process, or a Step Functions execution that survives it
    /// (needs --plan; see `cfdeploy engine`).
    #[arg(long, value_enum, default_value_t = EngineKind::Local)]
    pub engine: EngineKind,
    /// The Step Functions state machine (name or ARN), with --engine stepfunctions.
    #[arg(long, default_value = "cfdeploy-rollout", value_name = "NAME|ARN")]
    pub state_machine: String,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Output format of the plan on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also write the JSON plan to this file, for `apply` and for review.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Requests to CloudFormation in flight at once; a stack whose change set CloudFormation is
    /// computing takes none.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Detect drift on each deployed stack: changed resources whose live state differs from the
    /// template are marked (their before-values are not what is deployed), other drifted
    /// resources are warnings, on unchanged stacks too.
    #[arg(long)]
    pub drift: bool,
    /// Plan the deletion of the fleet's stacks that left the config (deployed with its
    /// `fleet:` tag, declared in no file any more); `apply` then deletes them like any reviewed
    /// change, stateful resources only with --allow-destructive. Without it they are listed.
    #[arg(long)]
    pub prune: bool,
    /// Exit 2 (instead of 0) when any stack has changes.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Keep the change sets (and the stacks new ones create in REVIEW_IN_PROGRESS) though no plan
    /// file is written. Without --out, plan otherwise removes what it made: it is read-only.
    #[arg(long)]
    pub keep_change_sets: bool,
}

/// `--max-failures`: a count of failures that stops the rollout, so at least 1.
fn failure_budget(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(0) => Err(
            "the rollout stops once this many stacks have failed, so 0 would stop it before anything starts; 1 (the default) stops it at the first failure"
                .to_string(),
        ),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("expected a count of failed stacks from 1 to {}", u16::MAX)),
    }
}
