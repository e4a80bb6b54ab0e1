//! The `stepfunctions` engine: the rollout run by an AWS Step Functions execution instead of this
//! process, so that it survives the runner. The state machine (`rollout.asl.json`, compiled in)
//! depends on no plan; an execution's input names the reviewed change sets (ids only), and its
//! name is a function of the plan, so the same plan always means the same execution: re-running
//! `apply` attaches to it, or reports how it ended, and never starts a second one. One execution
//! per region; `follow` renders it with the same events as the local engine.

mod follow;

use sha2::{Digest, Sha256};

use crate::cfn::CfnError;
use crate::model::{Plan, PlanStatus};
use crate::rollout::{Rollout, StackAction};
use crate::run::{request_token, Step};

pub use follow::{follow, FollowOptions};

/// The state machine definition (Amazon States Language), the same for every plan. Every
/// JSONPath in it matches in every case (whole error objects, whole events, `[*]` lists): a path
/// that matches nothing is a `States.Runtime` error, which no `Catch` catches and which would end
/// the whole rollout.
pub const DEFINITION: &str = include_str!("rollout.asl.json");

/// Whether a deployed definition is this binary's (compared as JSON, not as text).
pub fn is_current(deployed: &str) -> bool {
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
    let deployed = parse(deployed);
    deployed.is_some() && deployed == parse(DEFINITION)
}

/// The state machine's name unless `--state-machine` says otherwise.
pub const DEFAULT_STATE_MACHINE: &str = "cfdeploy-rollout";

/// Waves larger than this run as a Distributed Map (each stack a child execution with its own
/// history); smaller ones inline. An inline stack costs its execution about 15 history events per
/// status poll (about 25 polls for a ten-minute operation), and an execution holds 25,000.
pub const INLINE_LIMIT: usize = 40;

/// The longest wait between two status reads of a stack in the state machine (seconds); the
/// wait grows 2, 4, 8, 16 s up to it. The canary's is shorter: the rest of the fleet waits on it.
pub const POLL_CAP: u64 = 30;
pub const CANARY_POLL_CAP: u64 = 10;

/// Step Functions' limit on an execution's input.
pub const MAX_INPUT_BYTES: usize = 256 * 1024;

/// Where an execution is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    /// FAILED, TIMED_OUT, ABORTED (stopped), PENDING_REDRIVE.
    Ended(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionState {
    pub status: ExecutionStatus,
    pub input: Option<String>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// The Step Functions calls the engine makes (the SDK implements it beside CloudFormation's).
pub trait StepFunctions: Send + Sync + 'static {
    /// `None` when there is no such state machine.
    fn state_machine_definition(
        &self,
        region: &str,
        arn: &str,
    ) -> impl std::future::Future<Output = Result<Option<String>, CfnError>> + Send;

    /// Creates a Standard state machine and publishes its first version; returns its ARN.
    fn create_state_machine(
        &self,
        region: &str,
        name: &str,
        definition: &str,
        role_arn: &str,
    ) -> impl std::future::Future<Output = Result<String, CfnError>> + Send;

    /// Replaces the definition and publishes a new version.
    fn update_state_machine(
        &self,
        region: &str,
        arn: &str,
        definition: &str,
        role_arn: Option<&str>,
    ) -> impl std::future::Future<Output = Result<(), CfnError>> + Send;

    /// Starts an execution; the same name and input again is the same execution.
    fn start_execution(
        &self,
        region: &str,
        state_machine_arn: &str,
        name: &str,
        input: &str,
    ) -> impl std::future::Future<Output = Result<String, CfnError>> + Send;

    /// `None` when there is no such execution.
    fn describe_execution(
        &self,
        region: &str,
        arn: &str,
    ) -> impl std::future::Future<Output = Result<Option<ExecutionState>, CfnError>> + Send;

    fn stop_execution(
        &self,
        region: &str,
        arn: &str,
        cause: &str,
    ) -> impl std::future::Future<Output = Result<(), CfnError>> + Send;
}

/// The state machine in one region: its ARN (account from `account`, unless `name_or_arn` is
/// an ARN, whose region is then replaced by `region`).
pub fn state_machine_arn(name_or_arn: &str, region: &str, account: &str) -> String {
    if let Some(rest) = name_or_arn.strip_prefix("arn:") {
        let mut parts: Vec<&str> = rest.split(':').collect();
        if parts.len() >= 6 {
            parts[2] = region;
            return format!("arn:{}", parts.join(":"));
        }
    }
    format!("arn:aws:states:{region}:{account}:stateMachine:{name_or_arn}")
}

/// The execution of `plan` in `region`: a function of the plan alone (its correlation id and
/// every entry of the region), at most 80 characters of `[A-Za-z0-9-]`. It is the run's
/// correlation id in Step Functions.
pub fn execution_name(plan: &Plan, region: &str) -> String {
    let mut hash = Sha256::new();
    let mut entries: Vec<_> = plan.stacks.iter().filter(|s| s.region == region).collect();
    entries.sort_by(|a, b| a.stack.cmp(&b.stack));
    for e in entries {
        for part in [
            e.stack.as_str(),
            e.status.as_str(),
            e.change_set_arn.as_deref().unwrap_or("-"),
            e.stack_id.as_deref().unwrap_or("-"),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
    }
    let digest = format!("{:x}", hash.finalize());
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(24)
            .collect()
    };
    format!(
        "cfdeploy-{}-{}-{}",
        clean(&plan.correlation_id),
        clean(region),
        &digest[..12]
    )
}

/// The execution's ARN in the state machine's account and region.
pub fn execution_arn(state_machine_arn: &str, name: &str) -> String {
    format!(
        "{}:{name}",
        state_machine_arn.replacen(":stateMachine:", ":execution:", 1)
    )
}

/// The execution input for the rollout's stacks in `region`: the waves (the canary first) with
/// the change sets to execute and their client request tokens, and the failure budget. Stacks
/// with nothing to execute are left out (the CLI reports them). With `--max-in-flight N` each
/// wave runs in batches of N, the budget checked between batches: a Map cannot stop starting
/// its items once one failed, so this is how "no new stack after the budget is spent" holds.
pub fn input(rollout: &Rollout, region: &str) -> serde_json::Value {
    // A failure must hold back the stacks that depend on it: with dependencies in the rollout,
    // a wave with a failure ends the execution.
    let hold = rollout.stacks.iter().any(|s| !s.after.is_empty());
    let batch = rollout.max_in_flight.unwrap_or(usize::MAX).max(1);
    let waves: Vec<serde_json::Value> = rollout
        .waves
        .iter()
        .flat_map(|wave| {
            let mut in_region = wave
                .stacks
                .iter()
                .filter(|&&i| rollout.stacks[i].region == region)
                .copied()
                .collect::<Vec<usize>>();
            let mut batches = Vec::new();
            while !in_region.is_empty() {
                let rest = in_region.split_off(batch.min(in_region.len()));
                batches.push(crate::rollout::Wave {
                    stacks: std::mem::replace(&mut in_region, rest),
                    canary: wave.canary,
                });
            }
            batches
        })
        .filter_map(|wave| {
            let stacks: Vec<serde_json::Value> = wave
                .stacks
                .iter()
                .map(|&i| &rollout.stacks[i])
                .filter_map(|s| match &s.action {
                    StackAction::Execute {
                        change_set_arn,
                        create,
                    } => Some(serde_json::json!({
                        "stack": s.stack,
                        "changeSet": change_set_arn,
                        "token": request_token(&rollout.correlation_id, Step::Execute, &s.stack),
                        "protect": *create && s.termination_protection,
                        "create": create,
                    })),
                    _ => None,
                })
                .collect();
            (!stacks.is_empty()).then(|| {
                serde_json::json!({
                    "canary": wave.canary,
                    "hold": hold,
                    // Everything after the canary waits for it: it is polled more often.
                    "pollCap": if wave.canary { CANARY_POLL_CAP } else { POLL_CAP },
                    "stacks": stacks,
                })
            })
        })
        .collect();
    serde_json::json!({
        "correlationId": rollout.correlation_id,
        "waves": waves,
        // A batch runs at once (the Map's MaxConcurrency; 0: all of it).
        "concurrency": 0,
        "inlineLimit": INLINE_LIMIT,
        "maxFailures": rollout.max_failures,
        "disableRollback": rollout.disable_rollback,
    })
}

/// The stacks an execution input names, each with whether its change set creates it.
pub fn stacks_in(input: &serde_json::Value) -> Vec<(String, bool)> {
    input["waves"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|w| w["stacks"].as_array().into_iter().flatten())
        .filter_map(|s| {
            Some((
                s["stack"].as_str()?.to_string(),
                s["create"].as_bool().unwrap_or(false),
            ))
        })
        .collect()
}

/// Why the plan cannot run on this engine, if it cannot.
pub fn unsupported(rollout: &Rollout, plan: &Plan) -> Option<String> {
    if plan.stacks.iter().any(|s| s.status == PlanStatus::Delete) {
        return Some(
            "the plan deletes stacks that left the config (`plan --prune`); apply it with the local engine"
                .into(),
        );
    }
    for s in &rollout.stacks {
        for dep in &s.after {
            if let Some(d) = rollout.stacks.iter().find(|d| &d.stack == dep) {
                if d.region != s.region {
                    return Some(format!(
                        "{} ({}) depends on {} ({}): the stepfunctions engine runs one execution per region, which cannot wait for each other; apply it with the local engine",
                        s.stack, s.region, d.stack, d.region
                    ));
                }
            }
        }
    }
    None
}

/// The IAM policies: for the state machine's role, and for who runs `cfdeploy apply --engine
/// stepfunctions`.
pub fn policies(state_machine: &str) -> serde_json::Value {
    serde_json::json!({
        "state_machine_role": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ExecuteAndWatchChangeSets",
                    "Effect": "Allow",
                    "Action": [
                        "cloudformation:ExecuteChangeSet",
                        "cloudformation:DescribeStacks",
                        "cloudformation:DescribeStackEvents",
                        "cloudformation:UpdateTerminationProtection"
                    ],
                    "Resource": "*"
                },
                {
                    "Sid": "DistributedMapChildren",
                    "Effect": "Allow",
                    "Action": ["states:StartExecution", "states:DescribeExecution", "states:StopExecution"],
                    "Resource": [
                        format!("arn:aws:states:*:*:stateMachine:{state_machine}"),
                        format!("arn:aws:states:*:*:execution:{state_machine}:*"),
                        format!("arn:aws:states:*:*:execution:{state_machine}/*")
                    ]
                }
            ]
        },
        "state_machine_trust": {
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "states.amazonaws.com"},
                "Action": "sts:AssumeRole"
            }]
        },
        "cli_user": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "RunAndFollowTheRollout",
                    "Effect": "Allow",
                    "Action": ["states:StartExecution", "states:DescribeExecution", "states:StopExecution", "states:DescribeStateMachine"],
                    "Resource": [
                        format!("arn:aws:states:*:*:stateMachine:{state_machine}"),
                        format!("arn:aws:states:*:*:execution:{state_machine}:*")
                    ]
                },
                {
                    "Sid": "DeployTheStateMachine",
                    "Effect": "Allow",
                    "Action": ["states:CreateStateMachine", "states:UpdateStateMachine", "iam:PassRole"],
                    "Resource": "*"
                },
                {
                    "Sid": "VerifyTheReviewedPlanAndWatch",
                    "Effect": "Allow",
                    "Action": [
                        "cloudformation:DescribeChangeSet",
                        "cloudformation:DescribeStacks",
                        "cloudformation:DescribeStackEvents",
                        "cloudformation:ListStacks",
                        "cloudformation:GetTemplate",
                        "cloudformation:CancelUpdateStack",
                        "cloudformation:DeleteChangeSet"
                    ],
                    "Resource": "*"
                }
            ]
        }
    })
}

#[cfg(test)]
mod tests;
