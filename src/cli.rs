//! The command line. Only parsing lives here; `context` resolves what the flags mean.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod deploy;
mod engine;
pub use deploy::{ApplyArgs, EventsFormat, PlanArgs, ReportFormat};
pub use engine::{EngineArgs, EngineCommand, EngineKind};

use crate::render::Format;

/// Deploy AWS CloudFormation stacks through reviewed change sets, across a fleet of similar stacks.
#[derive(Debug, Parser)]
#[command(
    name = "cfdeploy",
    version,
    about,
    long_about = None,
    after_help = "Examples:
  # plan every stack of ./stacks
  cfdeploy plan
  # plan, keeping the change sets for apply
  cfdeploy plan --out plan.json
  # execute exactly the reviewed change sets
  cfdeploy apply --plan plan.json
  # only the stacks whose name matches
  cfdeploy --stack 'orders-*' plan
  # another account and region
  cfdeploy --profile prod --region eu-west-1 plan

Exit status:
  0 ok · 1 failed · 2 changes (plan --detailed-exitcode)
  3 destructive change refused · 4 a stack needs a person
  5 outcome unknown · 64 usage error · 130/143 interrupted"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the stack config is read from when `--config` does not say.
pub const DEFAULT_CONFIG: &str = "stacks";

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Stack config: a YAML file, or a folder whose *.yaml/*.yml files are all read.
    #[arg(
        help_heading = "Stacks",
        long,
        global = true,
        default_value = DEFAULT_CONFIG,
        value_name = "PATH"
    )]
    pub config: PathBuf,
    /// Only the stacks whose name matches this glob (repeatable).
    #[arg(
        help_heading = "Stacks",
        long = "stack",
        global = true,
        value_name = "GLOB"
    )]
    pub stacks: Vec<String>,
    /// AWS profile to use. As in the AWS CLI, an explicit --profile wins over credentials in the
    /// environment; without it, AWS_PROFILE and the default credential chain apply.
    #[arg(help_heading = "AWS", long, global = true)]
    pub profile: Option<String>,
    /// Region for stacks whose config names none, as in the AWS CLI.
    #[arg(help_heading = "AWS", long, global = true)]
    pub region: Option<String>,
    /// When to colour output.
    #[arg(help_heading = "Output and logs", long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Log format on stderr.
    #[arg(help_heading = "Output and logs", long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter (error, warn, info, debug, or a tracing filter); CFDEPLOY_LOG also sets it.
    #[arg(
        help_heading = "Output and logs",
        long,
        global = true,
        env = "CFDEPLOY_LOG",
        default_value = "warn"
    )]
    pub log_level: String,
    /// Seconds to wait for a connection to AWS (or GitHub).
    #[arg(help_heading = "AWS", long, global = true, env = "CFDEPLOY_CONNECT_TIMEOUT", default_value_t = 10, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub connect_timeout: u64,
    /// Seconds to wait for one attempt of a call to be answered.
    #[arg(help_heading = "AWS", long, global = true, env = "CFDEPLOY_CALL_TIMEOUT", default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub call_timeout: u64,
    /// Attempts per AWS call, the first included (throttling and dropped connections are retried
    /// with exponential backoff).
    #[arg(help_heading = "AWS", long, global = true, env = "CFDEPLOY_MAX_ATTEMPTS", default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a change set per stack and show what would change.
    #[command(after_help = "Examples:
  # show the plan (its change sets are removed afterwards)
  cfdeploy plan
  # keep them, for `apply --plan plan.json`
  cfdeploy plan --out plan.json
  # for a pull request
  cfdeploy plan --format markdown
  # exit 2 when anything would change
  cfdeploy plan --detailed-exitcode")]
    Plan(PlanArgs),
    /// Execute the reviewed change sets (from `plan --out`), or plan and confirm first.
    #[command(after_help = "Examples:
  # execute exactly what was reviewed
  cfdeploy apply --plan plan.json
  # plan, show it, ask, apply
  cfdeploy apply
  # no canary: start every stack at once
  cfdeploy apply --plan plan.json --canary 0
  # one JSON line per stack event on stdout
  cfdeploy apply --plan plan.json --events-format ndjson")]
    Apply(ApplyArgs),
    /// Show the diagnosis of a stack's most recent operation.
    #[command(after_help = "Examples:
  cfdeploy events orders-prod
  # the one stack of the config the glob selects
  cfdeploy --stack 'orders-*' events")]
    Events(EventsArgs),
    /// Repair stacks left failed: roll back, continue a failed rollback, or delete a failed create.
    #[command(after_help = "Examples:
  cfdeploy rollback orders-prod
  # continue a failed rollback past a resource
  cfdeploy rollback orders-prod --skip-resource OrdersTable
  # delete a stack whose create failed
  cfdeploy rollback orders-prod --delete")]
    Rollback(RollbackArgs),
    /// Delete stacks: shows what goes and what stays, asks, then deletes and watches.
    #[command(after_help = "Examples:
  # see what would be deleted
  cfdeploy delete orders-staging --dry-run
  # delete without asking (CI)
  cfdeploy delete orders-staging --yes
  # after DELETE_FAILED: keep what cannot be deleted in place
  cfdeploy delete orders-staging --retain OrdersBucket")]
    Delete(DeleteArgs),
    /// Check the stack config and templates without AWS (for pre-commit hooks and editors).
    #[command(after_help = "Examples:
  # every stack of ./stacks
  cfdeploy validate
  # as a pre-commit hook: exit 1 and every problem at once when anything is wrong
  cfdeploy validate --config stacks")]
    Validate(ValidateArgs),
    /// Show a saved plan (from `plan --out`) again, in any format, without asking AWS.
    #[command(after_help = "Examples:
  # the plan a pull request reviewed, as a table
  cfdeploy show plan.json
  # part of it, as markdown
  cfdeploy --stack 'orders-*' show plan.json --format markdown")]
    Show(ShowArgs),
    /// Print deployed stacks' outputs (table, JSON, or KEY=value lines).
    #[command(after_help = "Examples:
  # every stack of the config
  cfdeploy outputs
  # one stack's outputs for later steps of a GitHub Actions job
  cfdeploy outputs orders-prod --format env >> \"$GITHUB_OUTPUT\"")]
    Outputs(OutputsArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = "Examples:
  cfdeploy completions bash > ~/.local/share/bash-completion/completions/cfdeploy
  cfdeploy completions zsh > \"${fpath[1]}/_cfdeploy\"
  cfdeploy completions fish > ~/.config/fish/completions/cfdeploy.fish")]
    Completions(CompletionsArgs),
    /// Print the deploy order `depends_on` gives the stacks: levels as text, or a Mermaid graph.
    #[command(after_help = "Examples:
  cfdeploy graph
  # a picture for a pull request or the docs
  cfdeploy graph --format mermaid")]
    Graph(GraphArgs),
    /// Print the man page of cfdeploy (or of one command), generated from this help.
    #[command(after_help = "Examples:
  cfdeploy man > ~/.local/share/man/man1/cfdeploy.1
  cfdeploy man plan > ~/.local/share/man/man1/cfdeploy-plan.1
  cfdeploy man | man -l -")]
    Man(ManArgs),
    /// Print the JSON Schema of the stack config files, for editors (YAML language server).
    #[command(after_help = "Examples:
  cfdeploy schema > .cfdeploy.schema.json
  # then, on the first line of each stacks/*.yaml:
  # yaml-language-server: $schema=../.cfdeploy.schema.json")]
    Schema,
    /// Post the plan as one living comment on the pull request (and to the job summary).
    #[command(after_help = "Examples:
  # in a pull_request workflow
  cfdeploy comment --plan plan.json
  # print the body instead of posting it
  cfdeploy comment --plan plan.json --dry-run")]
    Comment(CommentArgs),
    /// The Step Functions engine: deploy its state machine, print its IAM policies, see or stop a
    /// plan's executions.
    #[command(after_help = "Examples:
  # create or update the state machine in a region
  cfdeploy engine deploy --region us-east-1 --role-arn \"$ROLE_ARN\"
  # the IAM policies it and its users need
  cfdeploy engine policy
  # then: run the reviewed plan there (re-run to attach from any machine)
  cfdeploy apply --plan plan.json --engine stepfunctions
  # where the plan's executions are, from any machine
  cfdeploy engine status --plan plan.json
  # stop it, cancelling updates still in progress
  cfdeploy engine stop --plan plan.json")]
    Engine(EngineArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The plan to show (written by `plan --out`).
    #[arg(value_name = "FILE")]
    pub plan: PathBuf,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Exit 2 instead of 0 when any stack of the plan has changes.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub struct OutputsArgs {
    /// The stacks (names); without any, every stack of the config (or those --stack selects).
    #[arg(value_name = "STACK")]
    pub names: Vec<String>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = OutputsFormat::Table)]
    pub format: OutputsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputsFormat {
    Table,
    Json,
    /// KEY=value lines (the stack's name before the key when several stacks are shown).
    Env,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Levels as text, or a Mermaid flowchart.
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// One line per level: the stacks that deploy together, each with what it waits for.
    Text,
    /// A Mermaid flowchart (GitHub renders it in markdown).
    Mermaid,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Also run cfn-lint (when installed) on every template; its errors fail validation with
    /// file:line, its warnings are notes.
    #[arg(long)]
    pub cfn_lint: bool,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (cfdeploy-COMMAND(1)); none: cfdeploy(1).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct CommentArgs {
    /// The plan to show (written by `plan --out`).
    #[arg(long, value_name = "FILE")]
    pub plan: PathBuf,
    /// The pull request; by default read from GITHUB_EVENT_PATH.
    #[arg(long)]
    pub pr: Option<u64>,
    /// Print the comment body instead of posting it.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The stack (name or id); or pick one from the config with --stack.
    pub stack: Option<String>,
    /// Events shown.
    #[arg(long = "events", default_value_t = 20, value_name = "N")]
    pub events_tail: usize,
    /// Output format of the diagnosis.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The stacks to repair (names); --stack adds the config's stacks that match.
    #[arg(value_name = "STACK")]
    pub names: Vec<String>,
    /// With UPDATE_ROLLBACK_FAILED: resources (logical ids) that cannot be rolled back; repeatable.
    #[arg(long = "skip-resource", value_name = "ID")]
    pub skip_resources: Vec<String>,
    /// Delete a stack whose create failed (ROLLBACK_COMPLETE) or that cannot be cleaned up.
    #[arg(long)]
    pub delete: bool,
    /// Events shown in a failure's diagnosis.
    #[arg(long = "events", default_value_t = 20, value_name = "N")]
    pub events_tail: usize,
    /// Output format of the outcomes.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The stacks to delete (names); --stack adds the config's stacks that match.
    #[arg(value_name = "STACK")]
    pub names: Vec<String>,
    /// Delete without asking (needed without a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show what would be deleted and what stays, then stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete stateful resources no DeletionPolicy keeps (otherwise refused, exit 3).
    #[arg(long)]
    pub allow_destructive: bool,
    /// After a failed deletion (DELETE_FAILED): leave this resource (logical id) in place;
    /// repeatable.
    #[arg(long = "retain", value_name = "ID")]
    pub retain: Vec<String>,
    /// Events shown in a failure's diagnosis.
    #[arg(long = "events", default_value_t = 20, value_name = "N")]
    pub events_tail: usize,
    /// Output format of the outcomes.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}
