//! cfdeploy: deploy CloudFormation stacks through reviewed change sets.
//!
//! Data flows one way:
//! - `config` reads `stacks/*.yaml` into `StackSpec`s (YAML parsing lives only in `yaml`;
//!   template facts in `template`).
//! - `plan` turns specs into a `model::Plan` through `cfn::CloudFormation`, the one AWS boundary
//!   (`cfn::sdk` is the only module that names the AWS SDK). `diff` and `mask` help it.
//! - `render` turns the model into a table, markdown or JSON; it never touches AWS.
//! - `apply` executes reviewed change sets; `watch` follows stack events; `diagnose` finds the
//!   root cause of a failure; `progress` shows it all live.
//! - `commands` holds one function per subcommand; `cli` parses, `settings` resolves colour and
//!   width, `logging` sets up structured logs, `run` carries the correlation id.

pub mod apply;
pub mod cfn;
pub mod cli;
pub mod commands;
pub mod comment;
pub mod config;
pub mod diagnose;
pub mod diff;
pub mod github;
pub mod guard;
pub mod logging;
pub mod mask;
pub mod model;
pub mod plan;
pub mod progress;
pub mod render;
pub mod run;
pub mod settings;
pub mod template;
pub mod watch;
pub mod yaml;

use std::process::ExitCode;

use anyhow::Context;

/// Exit status: success, and (with `--detailed-exitcode`) success with changes.
pub const EXIT_OK: u8 = 0;
/// A stack failed to plan, failed and rolled back cleanly, or was refused; or the input was bad.
pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_CHANGES: u8 = 2;
/// `apply` refused destructive changes that were not allowed.
pub const EXIT_DESTRUCTIVE: u8 = 3;
/// A stack is left in a state that needs a person.
pub const EXIT_NEEDS_A_PERSON: u8 = 4;
/// Interrupted (Ctrl-C, SIGTERM).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Runs one command line to completion and returns the process exit status.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    logging::init(
        cli.global.log_format,
        &cli.global.log_level,
        settings::stderr_color(cli.global.color),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            cli::Command::Plan(args) => commands::plan::run(&cli.global, &args).await,
            cli::Command::Apply(args) => commands::apply::run(&cli.global, &args).await,
            cli::Command::Events(args) => commands::events::run(&cli.global, &args).await,
            cli::Command::Rollback(args) => commands::rollback::run(&cli.global, &args).await,
            cli::Command::Comment(args) => commands::comment::run(&cli.global, &args).await,
        }
    })
}
