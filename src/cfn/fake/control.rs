//! Setting the fake up and looking inside it: stacks, scripts, faults, and what was called.

use std::collections::{HashMap, VecDeque};

use super::operations::{step, QUEUE};
use super::{
    find, find_mut, push_event, stack_id, Armed, FakeCfn, FakeChangeSet, FakeStack, Fault,
    NextChangeSet, Script, REGION,
};
use crate::model::{ChangeSetStatus, ResourceChange, Stack, StackStatus};

impl FakeCfn {
    pub fn new() -> FakeCfn {
        FakeCfn::default()
    }

    /// Adds a stack in `status`, with one stack event of that status.
    pub fn with_stack(self, name: &str, status: StackStatus) -> Self {
        {
            let mut st = self.state();
            st.counter += 1;
            let stack = Stack {
                stack_id: stack_id(name),
                name: name.to_string(),
                status: status.clone(),
                status_reason: None,
                last_updated: Some("2026-11-20T10:00:00Z".to_string()),
                creation_time: Some("2026-11-01T10:00:00Z".to_string()),
                parameters: vec![("Name".to_string(), name.to_string())],
                tags: vec![],
                outputs: vec![],
                termination_protection: false,
                parent_id: None,
            };
            let mut fake = FakeStack {
                stack,
                events: Vec::new(),
                pending: VecDeque::new(),
                termination_protection: false,
                failed: None,
                op_token: None,
            };
            let n = st.counter;
            push_event(&mut fake, n, None, "", status.as_str(), None);
            st.stacks.push(fake);
            st.deployed_templates
                .insert(name.to_string(), format!("Resources: {{}} # {name}\n"));
        }
        self
    }

    /// An operation in progress on the stack ends in `status` after a few reads.
    pub fn finishes_with(&self, stack: &str, status: StackStatus) {
        if let Some(s) = find_mut(&mut self.state().stacks, stack) {
            s.pending
                .push_back(step(Some("Queue"), QUEUE, "UPDATE_COMPLETE", None));
            s.pending.push_back(step(None, "", status.as_str(), None));
        }
    }

    /// What executing this stack's change set (or repairing it) does.
    pub fn script(&self, stack: &str, script: Script) {
        self.state().scripts.insert(stack.to_string(), script);
    }

    /// How the next change set created turns out.
    pub fn next_change_set(&self, next: NextChangeSet) {
        self.state().next_change_set = Some(next);
    }

    /// Arms `fault` for the next `times` calls of `operation` (`"*"`: any), after letting
    /// `skip` matching calls through.
    pub fn fail(&self, operation: &'static str, fault: Fault, times: usize, skip: usize) {
        self.state().armed.push(Armed {
            operation,
            fault,
            skip,
            remaining: times,
            hits: 0,
        });
    }

    /// How many calls the faults armed for `operation` answered.
    pub fn fault_hits(&self, operation: &str) -> usize {
        self.state()
            .armed
            .iter()
            .filter(|a| a.operation == operation)
            .map(|a| a.hits)
            .sum()
    }

    /// Every call so far, as `Operation target`.
    pub fn calls(&self) -> Vec<String> {
        self.state().calls.clone()
    }

    /// How many calls of `operation` were made.
    pub fn count(&self, operation: &str) -> usize {
        self.state()
            .calls
            .iter()
            .filter(|c| c.split(' ').next() == Some(operation))
            .count()
    }

    pub fn status(&self, stack: &str) -> Option<StackStatus> {
        let st = self.state();
        find(&st.stacks, stack).map(|s| s.stack.status.clone())
    }

    /// Change sets of the stack that still exist.
    pub fn change_sets_of(&self, stack: &str) -> Vec<String> {
        self.state()
            .change_sets
            .iter()
            .filter(|c| c.stack_name == stack)
            .map(|c| c.arn.clone())
            .collect()
    }

    pub fn execution_status(&self, arn: &str) -> Option<String> {
        self.state()
            .change_sets
            .iter()
            .find(|c| c.arn == arn)
            .map(|c| c.execution_status.clone())
    }

    /// Creates a change set as the plan would and returns its ARN (for apply tests).
    pub fn ready_change_set(&self, stack: &str, changes: Vec<ResourceChange>) -> String {
        let mut st = self.state();
        st.counter += 1;
        let n = st.counter;
        let live =
            find(&st.stacks, stack).filter(|s| s.stack.status != StackStatus::DeleteComplete);
        let (id, create) = match live {
            Some(s) => (
                s.stack.stack_id.clone(),
                s.stack.status == StackStatus::ReviewInProgress,
            ),
            None => {
                let id = format!("{}-{n}", stack_id(stack));
                let mut fake = FakeStack {
                    stack: Stack {
                        stack_id: id.clone(),
                        name: stack.to_string(),
                        status: StackStatus::ReviewInProgress,
                        status_reason: None,
                        last_updated: None,
                        creation_time: None,
                        parameters: vec![],
                        tags: vec![],
                        outputs: vec![],
                        termination_protection: false,
                        parent_id: None,
                    },
                    events: vec![],
                    pending: VecDeque::new(),
                    termination_protection: false,
                    failed: None,
                    op_token: None,
                };
                push_event(
                    &mut fake,
                    n,
                    None,
                    "",
                    "REVIEW_IN_PROGRESS",
                    Some("User Initiated"),
                );
                st.stacks.push(fake);
                (id, true)
            }
        };
        let arn = format!("arn:aws:cloudformation:{REGION}:123456789012:changeSet/cs-{n}/{stack}");
        st.change_sets.push(FakeChangeSet {
            arn: arn.clone(),
            name: format!("cs-{n}"),
            client_token: None,
            stack_id: id,
            stack_name: stack.to_string(),
            create,
            status: ChangeSetStatus::CreateComplete,
            status_reason: None,
            execution_status: "AVAILABLE".to_string(),
            changes,
            pages: HashMap::new(),
            pending_polls: 0,
        });
        arn
    }

    /// Client request tokens of every operation started, in order.
    pub fn tokens(&self) -> Vec<String> {
        self.state().tokens.clone()
    }

    /// Deletes a change set behind the plan's back.
    pub fn remove_change_set(&self, arn: &str) {
        self.state().change_sets.retain(|c| c.arn != arn);
    }

    /// Changes the stack behind the plan's back (another tool updated it).
    pub fn touch(&self, stack: &str) {
        let mut st = self.state();
        let id = find(&st.stacks, stack).map(|s| s.stack.stack_id.clone());
        if let Some(s) = find_mut(&mut st.stacks, stack) {
            s.stack.last_updated = Some("2026-11-30T12:00:00Z".to_string());
        }
        for cs in st
            .change_sets
            .iter_mut()
            .filter(|c| Some(&c.stack_id) == id.as_ref())
        {
            cs.execution_status = "OBSOLETE".to_string();
        }
    }

    /// The deployed parameters DescribeStacks reports.
    pub fn set_parameters(&self, stack: &str, parameters: &[(&str, &str)]) {
        if let Some(s) = find_mut(&mut self.state().stacks, stack) {
            s.stack.parameters = parameters
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        }
    }

    /// The stack's deployed tags.
    pub fn set_tags(&self, stack: &str, tags: &[(&str, &str)]) {
        if let Some(s) = find_mut(&mut self.state().stacks, stack) {
            s.stack.tags = tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        }
    }

    /// What DescribeStacks reports the stack outputs.
    pub fn set_outputs(&self, stack: &str, outputs: &[(&str, &str)]) {
        if let Some(s) = find_mut(&mut self.state().stacks, stack) {
            s.stack.outputs = outputs
                .iter()
                .map(|(k, v)| crate::model::StackOutput {
                    key: k.to_string(),
                    value: v.to_string(),
                    description: None,
                    export_name: None,
                })
                .collect();
        }
    }

    /// What drift detection reports for the stack.
    pub fn set_drift(&self, stack: &str, drift: crate::model::ResourceDrift) {
        self.state()
            .drifts
            .entry(stack.to_string())
            .or_default()
            .push(drift);
    }

    /// Appends events to the stack's history, oldest first: `(logical id, status)`, an empty
    /// logical id for the stack itself (whose status then becomes the stack's).
    pub fn record_events(&self, stack: &str, events: &[(&str, &str)]) {
        let mut st = self.state();
        for (logical, status) in events {
            st.counter += 1;
            let n = st.counter;
            let Some(s) = find_mut(&mut st.stacks, stack) else {
                return;
            };
            let logical = Some(*logical).filter(|l| !l.is_empty());
            push_event(s, n, logical, QUEUE, status, None);
            if logical.is_none() {
                s.stack.status = StackStatus::parse(status);
            }
        }
    }

    /// Makes the stack a nested stack of `parent` (its `ParentId`).
    pub fn set_parent(&self, stack: &str, parent: &str) {
        if let Some(s) = find_mut(&mut self.state().stacks, stack) {
            s.stack.parent_id = Some(parent.to_string());
        }
    }

    /// The deployed template GetTemplate returns.
    pub fn set_template(&self, stack: &str, body: &str) {
        self.state()
            .deployed_templates
            .insert(stack.to_string(), body.to_string());
    }

    pub fn uploads(&self) -> Vec<String> {
        self.state().uploads.clone()
    }

    pub fn termination_protection(&self, stack: &str) -> bool {
        let st = self.state();
        find(&st.stacks, stack).is_some_and(|s| s.termination_protection)
    }
}
