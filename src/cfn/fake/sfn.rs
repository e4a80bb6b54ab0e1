//! The fake's Step Functions, for unit tests of the `stepfunctions` engine's follower: state
//! machines by ARN, and executions that run their input's change sets at once, in input order,
//! with CloudFormation's client request tokens (the fake's operations then play out as the
//! stacks are read). An execution ends when every stack it executed has settled. Budgets and
//! canaries are the real state machine's business, not the fake's.

use super::FakeCfn;
use crate::cfn::{CfnError, CloudFormation};
use crate::engine::stepfunctions::{ExecutionState, ExecutionStatus, StepFunctions};

#[derive(Debug, Default)]
pub(super) struct Sfn {
    /// Definitions by state machine ARN.
    machines: Vec<(String, String)>,
    executions: Vec<Execution>,
}

#[derive(Debug, Clone)]
struct Execution {
    arn: String,
    input: String,
    /// Set when it ended (stopped, or seeded as ended); otherwise it runs while its stacks do.
    ended: Option<ExecutionState>,
    /// The stacks it executed.
    stacks: Vec<String>,
    /// Seeded as running: it runs until stopped (another runner's execution, still waiting).
    seeded_running: bool,
}

fn api(operation: &str, code: &str, message: String) -> CfnError {
    CfnError::Api {
        operation: operation.into(),
        code: code.into(),
        message,
    }
}

impl FakeCfn {
    /// A state machine with this definition.
    pub fn with_state_machine(self, arn: &str, definition: &str) -> Self {
        self.state()
            .sfn
            .machines
            .push((arn.to_string(), definition.to_string()));
        self
    }

    /// An execution that exists already (another runner started it), as `state` says.
    pub fn seed_execution(&self, arn: &str, state: ExecutionState) {
        self.state().sfn.executions.push(Execution {
            arn: arn.to_string(),
            input: state.input.clone().unwrap_or_default(),
            seeded_running: state.status == ExecutionStatus::Running,
            ended: (state.status != ExecutionStatus::Running).then_some(state),
            stacks: Vec::new(),
        });
    }

    /// The executions started or seeded, by ARN.
    pub fn executions(&self) -> Vec<String> {
        self.state()
            .sfn
            .executions
            .iter()
            .map(|e| e.arn.clone())
            .collect()
    }
}

impl StepFunctions for FakeCfn {
    async fn state_machine_definition(
        &self,
        _: &str,
        arn: &str,
    ) -> Result<Option<String>, CfnError> {
        self.enter("DescribeStateMachine", arn)?;
        let st = self.state();
        Ok(st
            .sfn
            .machines
            .iter()
            .find(|m| m.0 == arn)
            .map(|m| m.1.clone()))
    }

    async fn create_state_machine(
        &self,
        _: &str,
        name: &str,
        definition: &str,
        _: &str,
    ) -> Result<String, CfnError> {
        self.enter("CreateStateMachine", name)?;
        let arn = format!("arn:aws:states:us-east-1:123456789012:stateMachine:{name}");
        self.state()
            .sfn
            .machines
            .push((arn.clone(), definition.to_string()));
        Ok(arn)
    }

    async fn update_state_machine(
        &self,
        _: &str,
        arn: &str,
        definition: &str,
        _: Option<&str>,
    ) -> Result<(), CfnError> {
        self.enter("UpdateStateMachine", arn)?;
        let mut st = self.state();
        match st.sfn.machines.iter_mut().find(|m| m.0 == arn) {
            Some(m) => {
                m.1 = definition.to_string();
                Ok(())
            }
            None => Err(api(
                "UpdateStateMachine",
                "StateMachineDoesNotExist",
                arn.into(),
            )),
        }
    }

    async fn start_execution(
        &self,
        region: &str,
        machine: &str,
        name: &str,
        input: &str,
    ) -> Result<String, CfnError> {
        let lost = self.enter("StartExecution", name)?;
        let arn = format!(
            "{}:{name}",
            machine.replacen(":stateMachine:", ":execution:", 1)
        );
        {
            let st = self.state();
            if !st.sfn.machines.iter().any(|m| m.0 == machine) {
                return Err(api(
                    "StartExecution",
                    "StateMachineDoesNotExist",
                    machine.into(),
                ));
            }
            if let Some(e) = st.sfn.executions.iter().find(|e| e.arn == arn) {
                return if e.input == input && e.ended.is_none() {
                    Ok(arn)
                } else {
                    Err(api("StartExecution", "ExecutionAlreadyExists", arn))
                };
            }
        }
        let body: serde_json::Value = serde_json::from_str(input).unwrap_or_default();
        let mut executed = Vec::new();
        for wave in body["waves"].as_array().into_iter().flatten() {
            for s in wave["stacks"].as_array().into_iter().flatten() {
                let (Some(stack), Some(change_set), Some(token)) = (
                    s["stack"].as_str(),
                    s["changeSet"].as_str(),
                    s["token"].as_str(),
                ) else {
                    continue;
                };
                let rollback = body["disableRollback"].as_bool().unwrap_or(false);
                if self
                    .execute_change_set(region, change_set, rollback, token)
                    .await
                    .is_ok()
                {
                    executed.push(stack.to_string());
                }
            }
        }
        self.state().sfn.executions.push(Execution {
            arn: arn.clone(),
            input: input.to_string(),
            ended: None,
            stacks: executed,
            seeded_running: false,
        });
        if lost {
            return Err(FakeCfn::lost("StartExecution"));
        }
        Ok(arn)
    }

    async fn describe_execution(
        &self,
        _: &str,
        arn: &str,
    ) -> Result<Option<ExecutionState>, CfnError> {
        self.enter("DescribeExecution", arn)?;
        let mut st = self.state();
        let Some(e) = st.sfn.executions.iter().find(|e| e.arn == arn).cloned() else {
            return Ok(None);
        };
        if let Some(ended) = e.ended {
            return Ok(Some(ended));
        }
        let running = e.seeded_running
            || e.stacks.iter().any(|s| {
                super::find(&st.stacks, s).is_some_and(|f| f.stack.status.is_in_progress())
            });
        // Time passes for the stacks it runs, as between two reads.
        for s in &e.stacks {
            FakeCfn::advance(&mut st, s);
        }
        let state = ExecutionState {
            status: if running {
                ExecutionStatus::Running
            } else {
                ExecutionStatus::Succeeded
            },
            input: Some(e.input.clone()),
            output: (!running).then(|| r#"{"result": "done", "failed": 0}"#.to_string()),
            error: None,
            cause: None,
        };
        Ok(Some(state))
    }

    async fn stop_execution(&self, _: &str, arn: &str, cause: &str) -> Result<(), CfnError> {
        self.enter("StopExecution", arn)?;
        let mut st = self.state();
        if let Some(e) = st.sfn.executions.iter_mut().find(|e| e.arn == arn) {
            e.ended = Some(ExecutionState {
                status: ExecutionStatus::Ended("ABORTED".into()),
                input: Some(e.input.clone()),
                output: None,
                error: Some("States.Aborted".into()),
                cause: Some(cause.into()),
            });
        }
        Ok(())
    }
}
