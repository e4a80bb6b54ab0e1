//! The flags of `cfdeploy engine` and of the engine `apply` runs the rollout with.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Args)]
pub struct EngineArgs {
    #[command(subcommand)]
    pub command: EngineCommand,
}

#[derive(Debug, Subcommand)]
pub enum EngineCommand {
    /// Create or update the rollout state machine (Standard, versioned) in the region; prints
    /// its ARN. Safe to run again.
    Deploy {
        /// The IAM role Step Functions runs it as (see `engine policy`); needed to create it.
        #[arg(long, value_name = "ARN", env = "CFDEPLOY_ENGINE_ROLE_ARN")]
        role_arn: Option<String>,
        /// The state machine's name.
        #[arg(long, default_value = "cfdeploy-rollout")]
        name: String,
    },
    /// Print the IAM policies of the state machine's role and of who runs the engine (JSON).
    Policy {
        /// The state machine's name.
        #[arg(long, default_value = "cfdeploy-rollout")]
        name: String,
    },
    /// Where the plan's executions are, per region, without following them.
    Status {
        /// The plan whose executions to show.
        #[arg(long, value_name = "FILE")]
        plan: PathBuf,
        /// The state machine (name or ARN).
        #[arg(long, default_value = "cfdeploy-rollout", value_name = "NAME|ARN")]
        state_machine: String,
    },
    /// Stop the plan's executions and cancel the stack updates they left in progress.
    Stop {
        /// The plan whose executions to stop.
        #[arg(long, value_name = "FILE")]
        plan: PathBuf,
        /// The state machine (name or ARN).
        #[arg(long, default_value = "cfdeploy-rollout", value_name = "NAME|ARN")]
        state_machine: String,
    },
}

/// Who runs the rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    /// This process.
    Local,
    /// An AWS Step Functions execution, which outlives this process.
    Stepfunctions,
}
