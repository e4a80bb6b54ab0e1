//! cfdeploy: deploy CloudFormation stacks through reviewed change sets.
//!
//! Data flows one way, and arrows point down only:
//! - `main` parses; [`run`] resolves the [`context::Context`] once (flags, environment, terminal,
//!   the AWS client, the config, the masker) and dispatches to `commands`, one file per command.
//! - `config` reads `stacks/*.yaml` into `StackSpec`s (`yaml` is the only YAML parser, `template`
//!   reads template facts, `guard` marks destructive changes, `diff` compares).
//! - `plan` turns specs into a `model::Plan` through `cfn::CloudFormation`, the one AWS boundary
//!   (`cfn::sdk` is the only module that names the AWS SDK; `cfn::change_set` waits for and reads
//!   change sets; `cfn::fake` is an in-memory CloudFormation for unit tests). `planfile` is the
//!   saved plan's wire format.
//! - `apply` verifies a plan into a `rollout` (a description: waves, canary, failure budget),
//!   which an `engine` runs (`engine::local`); each stack is executed and watched (`watch`,
//!   `poll`), failures are diagnosed (`diagnose`), and the engine's events drive `progress`.
//! - `mask` is the one place text becomes safe to show; `render` turns masked model values into a
//!   table, markdown or JSON; `comment` and `github` post the plan on a pull request.
//! - `model` is plain data and imports nothing of ours; `exit` names every exit status.

pub mod apply;
pub mod cfn;
pub mod cli;
pub mod commands;
pub mod comment;
pub mod config;
pub mod context;
pub mod delete;
pub mod diagnose;
pub mod diff;
pub mod engine;
pub mod exit;
pub mod fingerprint;
pub mod github;
pub mod graph;
pub mod guard;
pub mod logging;
pub mod mask;
pub mod model;
pub mod package;
pub mod plan;
pub mod planfile;
pub mod poll;
pub mod progress;
pub mod refs;
pub mod render;
pub mod rollout;
pub mod run;
pub mod signals;
pub mod template;
pub mod watch;
pub mod yaml;

#[cfg(test)]
mod robustness_tests;

use anyhow::Context as _;

use context::{Context, Env, Terminal};
use exit::Exit;

/// Runs one command line to completion and returns how it ended.
pub fn run(cli: cli::Cli) -> anyhow::Result<Exit> {
    let env = Env::capture();
    let terminal = Terminal::detect();
    let ctx = Context::resolve(cli.global, env, terminal);
    logging::init(
        ctx.global.log_format,
        &ctx.global.log_level,
        ctx.stderr.color,
        &ctx.run.correlation_id,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        ctx.listen_for_interrupts();
        let exit = match &cli.command {
            cli::Command::Plan(args) => commands::plan::run(&ctx, args).await,
            cli::Command::Apply(args) => commands::apply::run(&ctx, args).await,
            cli::Command::Events(args) => commands::events::run(&ctx, args).await,
            cli::Command::Rollback(args) => commands::rollback::run(&ctx, args).await,
            cli::Command::Delete(args) => commands::delete::run(&ctx, args).await,
            cli::Command::Graph(args) => commands::graph::run(&ctx, args).await,
            cli::Command::Show(args) => commands::show::run(&ctx, args).await,
            cli::Command::Validate(args) => commands::validate::run(&ctx, args).await,
            // Answered by `main` before any context exists.
            cli::Command::Completions(_) | cli::Command::Man(_) | cli::Command::Schema => {
                Ok(Exit::Ok)
            }
            cli::Command::Outputs(args) => commands::outputs::run(&ctx, args).await,
            cli::Command::Comment(args) => commands::comment::run(&ctx, args).await,
            cli::Command::Engine(args) => commands::engine::run(&ctx, args).await,
        };
        exit.map(|e| match crate::signals::received() {
            Some(_) => e.worst(Exit::Interrupted).after_signals(),
            None => e,
        })
    })
}
