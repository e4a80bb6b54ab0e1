//! Step Functions through the SDK, for the `stepfunctions` engine: the state machine and its
//! executions. Calls go through the same governor and retries as CloudFormation's.

use std::sync::atomic::Ordering;

use aws_config::Region;
use aws_sdk_sfn::types as t;

use super::SdkCloudFormation;
use crate::cfn::CfnError;
use crate::engine::stepfunctions::{ExecutionState, ExecutionStatus, StepFunctions};

impl SdkCloudFormation {
    fn sfn(&self, region: &str, operation: &'static str) -> aws_sdk_sfn::Client {
        self.calls.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(operation, region, "aws call");
        let mut clients = self.sfn_clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let conf = aws_sdk_sfn::config::Builder::from(&self.config)
                    .region(Region::new(region.to_string()))
                    .build();
                aws_sdk_sfn::Client::from_conf(conf)
            })
            .clone()
    }
}

fn absent(e: &CfnError, codes: &[&str]) -> bool {
    e.code().is_some_and(|c| codes.contains(&c))
}

impl StepFunctions for SdkCloudFormation {
    async fn state_machine_definition(
        &self,
        region: &str,
        arn: &str,
    ) -> Result<Option<String>, CfnError> {
        let op = "DescribeStateMachine";
        let client = self.sfn(region, op);
        match self
            .send(op, region, || {
                client
                    .describe_state_machine()
                    .state_machine_arn(arn)
                    .send()
            })
            .await
        {
            Ok(out) => Ok(Some(out.definition().to_string())),
            Err(e) if absent(&e, &["StateMachineDoesNotExist"]) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn create_state_machine(
        &self,
        region: &str,
        name: &str,
        definition: &str,
        role_arn: &str,
    ) -> Result<String, CfnError> {
        let op = "CreateStateMachine";
        let client = self.sfn(region, op);
        let out = self
            .send(op, region, || {
                client
                    .create_state_machine()
                    .name(name)
                    .definition(definition)
                    .role_arn(role_arn)
                    .r#type(t::StateMachineType::Standard)
                    .publish(true)
                    .send()
            })
            .await?;
        Ok(out.state_machine_arn().to_string())
    }

    async fn update_state_machine(
        &self,
        region: &str,
        arn: &str,
        definition: &str,
        role_arn: Option<&str>,
    ) -> Result<(), CfnError> {
        let op = "UpdateStateMachine";
        let client = self.sfn(region, op);
        self.send(op, region, || {
            client
                .update_state_machine()
                .state_machine_arn(arn)
                .definition(definition)
                .set_role_arn(role_arn.map(str::to_string))
                .publish(true)
                .send()
        })
        .await?;
        Ok(())
    }

    async fn start_execution(
        &self,
        region: &str,
        state_machine_arn: &str,
        name: &str,
        input: &str,
    ) -> Result<String, CfnError> {
        let op = "StartExecution";
        let client = self.sfn(region, op);
        let out = self
            .send(op, region, || {
                client
                    .start_execution()
                    .state_machine_arn(state_machine_arn)
                    .name(name)
                    .input(input)
                    .send()
            })
            .await?;
        Ok(out.execution_arn().to_string())
    }

    async fn describe_execution(
        &self,
        region: &str,
        arn: &str,
    ) -> Result<Option<ExecutionState>, CfnError> {
        let op = "DescribeExecution";
        let client = self.sfn(region, op);
        match self
            .send(op, region, || {
                client.describe_execution().execution_arn(arn).send()
            })
            .await
        {
            Ok(out) => Ok(Some(ExecutionState {
                status: match out.status() {
                    t::ExecutionStatus::Running => ExecutionStatus::Running,
                    t::ExecutionStatus::Succeeded => ExecutionStatus::Succeeded,
                    other => ExecutionStatus::Ended(other.as_str().to_string()),
                },
                input: out.input().map(str::to_string),
                output: out.output().map(str::to_string),
                error: out.error().map(str::to_string),
                cause: out.cause().map(str::to_string),
            })),
            Err(e) if absent(&e, &["ExecutionDoesNotExist", "StateMachineDoesNotExist"]) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn stop_execution(&self, region: &str, arn: &str, cause: &str) -> Result<(), CfnError> {
        let op = "StopExecution";
        let client = self.sfn(region, op);
        self.send(op, region, || {
            client
                .stop_execution()
                .execution_arn(arn)
                .cause(cause)
                .send()
        })
        .await?;
        Ok(())
    }
}
