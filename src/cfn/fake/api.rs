//! The fake's answers to every CloudFormation call.

use super::{find, find_mut, step, validation, FakeCfn, Op, QUEUE};
use crate::cfn::{CfnError, ChangeSetRequest, ChangeSetType, CloudFormation, CreatedChangeSet};
use crate::model::{
    ChangeSetPage, ChangeSetStatus, DriftDetection, ListedStack, ResourceDrift, Stack, StackEvent,
    StackEventPage, StackStatus,
};

impl CloudFormation for FakeCfn {
    async fn describe_stack(&self, _: &str, stack: &str) -> Result<Option<Stack>, CfnError> {
        self.one_stack(stack)
    }

    async fn get_template(&self, _: &str, stack: &str) -> Result<String, CfnError> {
        self.enter("GetTemplate", stack)?;
        Ok(self
            .state()
            .deployed_templates
            .get(stack)
            .cloned()
            .unwrap_or_default())
    }

    async fn create_change_set(
        &self,
        _: &str,
        request: &ChangeSetRequest,
    ) -> Result<CreatedChangeSet, CfnError> {
        let lost = self.enter(
            "CreateChangeSet",
            &format!("{} {:?}", request.stack_name, request.change_set_type),
        )?;
        let mut st = self.state();
        if let crate::cfn::TemplateSource::Url(url) = &request.template {
            st.uploads.push(format!("TemplateURL {url}"));
        }
        if let Some(existing) = st
            .change_sets
            .iter()
            .find(|c| c.stack_name == request.stack_name && c.name == request.change_set_name)
        {
            // A retry with the same token is the same request; another one is refused.
            if existing.client_token.as_deref() == Some(request.client_token.as_str()) {
                return Ok(CreatedChangeSet {
                    arn: existing.arn.clone(),
                    stack_id: Some(existing.stack_id.clone()),
                });
            }
            return Err(CfnError::Api {
                operation: "CreateChangeSet".into(),
                code: "AlreadyExistsException".into(),
                message: format!("ChangeSet {} already exists", request.change_set_name),
            });
        }
        let next = st.next_change_set.take().unwrap_or_default();
        // A deleted stack's name is free again.
        let existing = find(&st.stacks, &request.stack_name)
            .map(|s| s.stack.status.clone())
            .filter(|s| *s != StackStatus::DeleteComplete);
        match (request.change_set_type, &existing) {
            (ChangeSetType::Create, Some(s)) if *s != StackStatus::ReviewInProgress => {
                return Err(validation(
                    "CreateChangeSet",
                    format!("Stack [{}] already exists", request.stack_name),
                ))
            }
            (ChangeSetType::Update, None) => {
                return Err(validation(
                    "CreateChangeSet",
                    format!("Stack [{}] does not exist", request.stack_name),
                ))
            }
            _ => {}
        }
        drop(st);
        let arn = self.ready_change_set(&request.stack_name, next.changes.clone());
        let mut st = self.state();
        let cs = st
            .change_sets
            .iter_mut()
            .find(|c| c.arn == arn)
            .expect("just created");
        cs.name = request.change_set_name.clone();
        cs.client_token = Some(request.client_token.clone());
        cs.pending_polls = next.pending_polls;
        cs.pages = next.pages;
        cs.status_reason = next.status_reason;
        if let Some(reason) = next.failed {
            cs.status = ChangeSetStatus::Failed;
            cs.status_reason = Some(reason);
            cs.execution_status = "UNAVAILABLE".into();
        }
        let stack_id = cs.stack_id.clone();
        if lost {
            return Err(FakeCfn::lost("CreateChangeSet"));
        }
        Ok(CreatedChangeSet {
            arn,
            stack_id: Some(stack_id),
        })
    }

    async fn describe_change_set(
        &self,
        _: &str,
        arn: &str,
        include_property_values: bool,
        next_token: Option<&str>,
    ) -> Result<ChangeSetPage, CfnError> {
        self.enter(
            "DescribeChangeSet",
            &format!("{arn} values={include_property_values} token={next_token:?}"),
        )?;
        let mut st = self.state();
        let Some(cs) = st.change_sets.iter_mut().find(|c| c.arn == arn) else {
            return Err(CfnError::Api {
                operation: "DescribeChangeSet".into(),
                code: "ChangeSetNotFound".into(),
                message: format!("ChangeSet [{arn}] does not exist"),
            });
        };
        let mut page = ChangeSetPage {
            stack_id: Some(cs.stack_id.clone()),
            stack_name: Some(cs.stack_name.clone()),
            status: cs.status.clone(),
            status_reason: cs.status_reason.clone(),
            execution_status: Some(cs.execution_status.clone()),
            changes: cs.changes.clone(),
            next_token: None,
        };
        if cs.pending_polls > 0 {
            cs.pending_polls -= 1;
            page.status = ChangeSetStatus::CreatePending;
            page.execution_status = Some("UNAVAILABLE".into());
            page.changes.clear();
            return Ok(page);
        }
        if !cs.pages.is_empty() {
            let scripted = cs
                .pages
                .get(&(include_property_values, next_token.map(str::to_string)))
                .cloned()
                .unwrap_or_else(|| {
                    panic!("unscripted page values={include_property_values} token={next_token:?}")
                });
            return Ok(ChangeSetPage {
                stack_id: page.stack_id,
                stack_name: page.stack_name,
                ..scripted
            });
        }
        if !include_property_values {
            for change in &mut page.changes {
                for d in &mut change.details {
                    d.before = None;
                    d.after = None;
                }
            }
        }
        Ok(page)
    }

    async fn find_change_set(
        &self,
        _: &str,
        stack: &str,
        name: &str,
    ) -> Result<Option<String>, CfnError> {
        self.enter("DescribeChangeSet", &format!("{stack} {name}"))?;
        Ok(self
            .state()
            .change_sets
            .iter()
            .find(|c| c.stack_name == stack && c.name == name)
            .map(|c| c.arn.clone()))
    }

    async fn delete_change_set(&self, _: &str, arn: &str) -> Result<(), CfnError> {
        let lost = self.enter("DeleteChangeSet", arn)?;
        let mut st = self.state();
        let before = st.change_sets.len();
        st.change_sets.retain(|c| c.arn != arn);
        if st.change_sets.len() == before {
            return Err(CfnError::Api {
                operation: "DeleteChangeSet".into(),
                code: "ChangeSetNotFound".into(),
                message: format!("ChangeSet [{arn}] does not exist"),
            });
        }
        if lost {
            return Err(FakeCfn::lost("DeleteChangeSet"));
        }
        Ok(())
    }

    async fn execute_change_set(
        &self,
        _: &str,
        arn: &str,
        disable_rollback: bool,
        token: &str,
    ) -> Result<(), CfnError> {
        let lost = self.enter("ExecuteChangeSet", arn)?;
        let mut st = self.state();
        // A retry of an execution that happened is the same request: CloudFormation answers it
        // with success and starts nothing.
        if st.tokens.iter().any(|t| t == token) {
            return Ok(());
        }
        let Some(cs) = st.change_sets.iter().find(|c| c.arn == arn).cloned() else {
            return Err(CfnError::Api {
                operation: "ExecuteChangeSet".into(),
                code: "ChangeSetNotFound".into(),
                message: format!("ChangeSet [{arn}] does not exist"),
            });
        };
        if cs.status != ChangeSetStatus::CreateComplete || cs.execution_status != "AVAILABLE" {
            return Err(CfnError::Api {
                operation: "ExecuteChangeSet".into(),
                code: "InvalidChangeSetStatus".into(),
                message: format!(
                    "ChangeSet [{arn}] cannot be executed in its current execution status of [{}]",
                    cs.execution_status
                ),
            });
        }
        // While it runs, the stack's other change sets are obsolete; once it ends, CloudFormation
        // removes them all (`FakeCfn::advance`).
        for c in st
            .change_sets
            .iter_mut()
            .filter(|c| c.stack_id == cs.stack_id)
        {
            c.execution_status = if c.arn == cs.arn {
                "EXECUTE_IN_PROGRESS".to_string()
            } else {
                "OBSOLETE".to_string()
            };
        }
        let op = if cs.create {
            Op::Create { disable_rollback }
        } else {
            Op::Update { disable_rollback }
        };
        FakeCfn::start(&mut st, &cs.stack_name, op, token);
        if lost {
            return Err(FakeCfn::lost("ExecuteChangeSet"));
        }
        Ok(())
    }

    async fn describe_stack_events(
        &self,
        _: &str,
        stack: &str,
        next_token: Option<&str>,
    ) -> Result<StackEventPage, CfnError> {
        self.enter("DescribeStackEvents", stack)?;
        let mut st = self.state();
        if next_token.is_none() {
            FakeCfn::advance(&mut st, stack);
        }
        let Some(s) = find(&st.stacks, stack) else {
            return Err(validation(
                "DescribeStackEvents",
                format!("Stack [{stack}] does not exist"),
            ));
        };
        let newest_first: Vec<StackEvent> = s.events.iter().rev().cloned().collect();
        let start: usize = next_token.and_then(|t| t.parse().ok()).unwrap_or(0);
        const PAGE: usize = 5;
        let end = (start + PAGE).min(newest_first.len());
        Ok(StackEventPage {
            events: newest_first[start..end].to_vec(),
            next_token: (end < newest_first.len()).then(|| end.to_string()),
        })
    }

    async fn list_stacks(
        &self,
        region: &str,
        statuses: &[StackStatus],
    ) -> Result<Vec<ListedStack>, CfnError> {
        self.listing(region, statuses)
    }

    async fn describe_stacks(&self, region: &str) -> Result<Vec<Stack>, CfnError> {
        self.every_stack(region)
    }

    async fn detect_stack_drift(&self, _: &str, stack: &str) -> Result<String, CfnError> {
        self.enter("DetectStackDrift", stack)?;
        Ok(format!("drift-{stack}"))
    }

    async fn drift_detection_status(
        &self,
        _: &str,
        detection_id: &str,
    ) -> Result<DriftDetection, CfnError> {
        self.enter("DescribeStackDriftDetectionStatus", detection_id)?;
        Ok(DriftDetection::Complete)
    }

    async fn resource_drifts(&self, _: &str, stack: &str) -> Result<Vec<ResourceDrift>, CfnError> {
        self.enter("DescribeStackResourceDrifts", stack)?;
        Ok(self.state().drifts.get(stack).cloned().unwrap_or_default())
    }

    async fn update_termination_protection(
        &self,
        _: &str,
        stack: &str,
        enabled: bool,
    ) -> Result<(), CfnError> {
        self.enter("UpdateTerminationProtection", stack)?;
        if let Some(s) = find_mut(&mut self.state().stacks, stack) {
            s.termination_protection = enabled;
        }
        Ok(())
    }

    async fn cancel_update_stack(
        &self,
        _: &str,
        stack: &str,
        _token: &str,
    ) -> Result<(), CfnError> {
        let lost = self.enter("CancelUpdateStack", stack)?;
        let mut st = self.state();
        let Some(s) = find_mut(&mut st.stacks, stack) else {
            return Err(validation(
                "CancelUpdateStack",
                format!("Stack [{stack}] does not exist"),
            ));
        };
        if s.stack.status != StackStatus::UpdateInProgress {
            return Err(validation(
                "CancelUpdateStack",
                format!(
                    "CancelUpdateStack cannot be called from current stack status: {}",
                    s.stack.status
                ),
            ));
        }
        s.pending = vec![
            step(
                Some("Queue"),
                QUEUE,
                "UPDATE_FAILED",
                Some("Resource update cancelled"),
            ),
            step(
                None,
                "",
                "UPDATE_ROLLBACK_IN_PROGRESS",
                Some("Stack update cancelled"),
            ),
            super::step(None, "", "UPDATE_ROLLBACK_COMPLETE", None),
        ]
        .into();
        if lost {
            return Err(FakeCfn::lost("CancelUpdateStack"));
        }
        Ok(())
    }

    async fn continue_update_rollback(
        &self,
        _: &str,
        stack: &str,
        _resources_to_skip: &[String],
        token: &str,
    ) -> Result<(), CfnError> {
        self.enter("ContinueUpdateRollback", stack)?;
        let mut st = self.state();
        match find(&st.stacks, stack).map(|s| s.stack.status.clone()) {
            Some(StackStatus::UpdateRollbackFailed) => {
                FakeCfn::start(&mut st, stack, Op::ContinueRollback, token);
                Ok(())
            }
            other => Err(validation(
                "ContinueUpdateRollback",
                format!("Stack {stack} is in {other:?} state and can not continue update rollback"),
            )),
        }
    }

    async fn rollback_stack(&self, _: &str, stack: &str, token: &str) -> Result<(), CfnError> {
        self.enter("RollbackStack", stack)?;
        let mut st = self.state();
        let op = match find(&st.stacks, stack).map(|s| s.stack.status.clone()) {
            Some(StackStatus::CreateFailed) => Op::RollBackCreate,
            Some(StackStatus::UpdateFailed) => Op::RollBackUpdate,
            other => {
                return Err(validation(
                    "RollbackStack",
                    format!("Stack {stack} is in {other:?} state and can not be rolled back"),
                ))
            }
        };
        FakeCfn::start(&mut st, stack, op, token);
        Ok(())
    }

    async fn delete_stack(
        &self,
        _: &str,
        stack: &str,
        token: &str,
        retain: &[String],
    ) -> Result<(), CfnError> {
        let lost = self.enter("DeleteStack", stack)?;
        let mut st = self.state();
        if st.tokens.iter().any(|t| t == token) {
            return Ok(());
        }
        if !retain.is_empty()
            && find(&st.stacks, stack).map(|s| &s.stack.status) != Some(&StackStatus::DeleteFailed)
        {
            return Err(validation(
                "DeleteStack",
                "RetainResources can only be specified when the stack is in DELETE_FAILED".into(),
            ));
        }
        if find(&st.stacks, stack).is_some_and(|s| s.termination_protection) {
            return Err(validation(
                "DeleteStack",
                format!("Stack [{stack}] cannot be deleted while TerminationProtection is enabled"),
            ));
        }
        FakeCfn::start(&mut st, stack, Op::Delete, token);
        if lost {
            return Err(FakeCfn::lost("DeleteStack"));
        }
        Ok(())
    }

    async fn upload(
        &self,
        region: &str,
        bucket: &str,
        key: &str,
        body: &[u8],
    ) -> Result<String, CfnError> {
        self.enter("PutObject", key)?;
        let mut st = self.state();
        // Content-addressed: an object already under the key is not sent again.
        if !st.uploads.iter().any(|u| u.split(' ').nth(2) == Some(key)) {
            st.uploads
                .push(format!("PutObject {bucket} {key} {}", body.len()));
        }
        Ok(format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"))
    }
}
