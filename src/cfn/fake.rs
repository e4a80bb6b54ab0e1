//! An in-memory CloudFormation for unit tests of every operation: stacks with statuses and
//! events, change sets, operations that play out step by step as they are watched, and scripted
//! faults per call (throttling, errors, transport failures, a response lost after the call took
//! effect). Every call is recorded, so a test can prove that a fault hit the path it names.
//!
//! Time does not pass here: an operation advances one step each time the stack is read
//! (`DescribeStacks`, `DescribeStackEvents`), so a watcher sees every status in order.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::{CfnError, ChangeSetRequest, ChangeSetType, CloudFormation, CreatedChangeSet};
use crate::model::{
    ChangeSetPage, ChangeSetStatus, EventStatus, ResourceChange, Stack, StackEvent, StackEventPage,
    StackStatus,
};

/// What happens when a change set is executed (or a repair is started).
#[derive(Debug, Clone, PartialEq)]
pub enum Script {
    /// Every resource completes.
    Succeed,
    /// `resource` fails with `reason`; CloudFormation rolls back cleanly.
    Fail { resource: String, reason: String },
    /// `resource` fails, and so does the rollback (UPDATE_ROLLBACK_FAILED / ROLLBACK_FAILED).
    FailRollback { resource: String, reason: String },
    /// The operation stays in progress until cancelled (or forever).
    Hang,
}

/// A fault a call answers with instead of (or after) doing its work.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// `Throttling: Rate exceeded`, as after the SDK's retries.
    Throttle,
    /// A service error with this code and message.
    Error { code: String, message: String },
    /// No answer at all: the connection failed or timed out.
    Transport,
    /// The call took effect, then its response was lost.
    LostResponse,
}

#[derive(Debug, Clone)]
struct Armed {
    operation: &'static str,
    fault: Fault,
    /// Matching calls to let through before the fault starts.
    skip: usize,
    remaining: usize,
    hits: usize,
}

#[derive(Debug, Clone)]
struct FakeStack {
    stack: Stack,
    /// Oldest first.
    events: Vec<StackEvent>,
    /// Steps of the running operation still to happen: each read plays one.
    pending: VecDeque<Step>,
    termination_protection: bool,
    /// The resource that failed in the last operation (for a rollback script).
    failed: Option<String>,
}

#[derive(Debug, Clone)]
struct Step {
    logical_id: Option<String>,
    resource_type: String,
    status: String,
    reason: Option<String>,
}

#[derive(Debug, Clone)]
struct FakeChangeSet {
    arn: String,
    stack_id: String,
    stack_name: String,
    create: bool,
    status: ChangeSetStatus,
    status_reason: Option<String>,
    execution_status: String,
    changes: Vec<ResourceChange>,
    /// Scripted pages by (include_property_values, next_token); `changes` in one page otherwise.
    pages: HashMap<(bool, Option<String>), ChangeSetPage>,
    /// Describes that answer CREATE_PENDING first.
    pending_polls: usize,
}

/// How the next change set created turns out.
#[derive(Debug, Clone, Default)]
pub struct NextChangeSet {
    pub changes: Vec<ResourceChange>,
    /// FAILED with this reason (e.g. CloudFormation's "didn't contain changes").
    pub failed: Option<String>,
    pub pending_polls: usize,
    pub pages: HashMap<(bool, Option<String>), ChangeSetPage>,
    pub status_reason: Option<String>,
}

#[derive(Default)]
struct State {
    stacks: Vec<FakeStack>,
    change_sets: Vec<FakeChangeSet>,
    armed: Vec<Armed>,
    calls: Vec<String>,
    scripts: HashMap<String, Script>,
    next_change_set: Option<NextChangeSet>,
    deployed_templates: HashMap<String, String>,
    uploads: Vec<String>,
    counter: u64,
}

/// The in-memory CloudFormation.
#[derive(Default)]
pub struct FakeCfn {
    state: Mutex<State>,
}

pub const REGION: &str = "us-east-1";

fn stack_id(name: &str) -> String {
    format!("arn:aws:cloudformation:{REGION}:123456789012:stack/{name}/0000-{name}")
}

impl FakeCfn {
    pub fn new() -> FakeCfn {
        FakeCfn::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
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
            };
            let mut fake = FakeStack {
                stack,
                events: Vec::new(),
                pending: VecDeque::new(),
                termination_protection: false,
                failed: None,
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
        let (id, create) = match find(&st.stacks, stack) {
            Some(s) => (
                s.stack.stack_id.clone(),
                s.stack.status == StackStatus::ReviewInProgress,
            ),
            None => {
                let id = stack_id(stack);
                let mut fake = FakeStack {
                    stack: Stack {
                        stack_id: id.clone(),
                        name: stack.to_string(),
                        status: StackStatus::ReviewInProgress,
                        status_reason: None,
                        last_updated: None,
                        creation_time: None,
                        parameters: vec![],
                    },
                    events: vec![],
                    pending: VecDeque::new(),
                    termination_protection: false,
                    failed: None,
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

    /// Records the call and answers with an armed fault, if one applies. `Ok(true)` means the
    /// call takes effect and then its response is lost.
    fn enter(&self, operation: &'static str, target: &str) -> Result<bool, CfnError> {
        let mut st = self.state();
        st.calls.push(format!("{operation} {target}"));
        for armed in st.armed.iter_mut() {
            if armed.operation != operation && armed.operation != "*" {
                continue;
            }
            if armed.skip > 0 {
                armed.skip -= 1;
                continue;
            }
            if armed.remaining == 0 {
                continue;
            }
            armed.remaining -= 1;
            armed.hits += 1;
            let op = operation.to_string();
            return match armed.fault.clone() {
                Fault::Throttle => Err(CfnError::Throttled {
                    operation: op,
                    message: "Rate exceeded".into(),
                }),
                Fault::Error { code, message } => Err(CfnError::Api {
                    operation: op,
                    code,
                    message,
                }),
                Fault::Transport => Err(CfnError::Transport {
                    operation: op,
                    message: "connection reset".into(),
                }),
                Fault::LostResponse => Ok(true),
            };
        }
        Ok(false)
    }

    /// The response of a call whose effect happened but whose answer was lost.
    fn lost(operation: &str) -> CfnError {
        CfnError::Transport {
            operation: operation.to_string(),
            message: "the response was lost after the request was sent".into(),
        }
    }

    /// Plays one pending step of the stack's operation.
    fn advance(st: &mut State, stack: &str) {
        st.counter += 1;
        let n = st.counter;
        let Some(s) = find_mut(&mut st.stacks, stack) else {
            return;
        };
        if let Some(step) = s.pending.pop_front() {
            let logical = step.logical_id.clone();
            push_event(
                s,
                n,
                logical.as_deref(),
                &step.resource_type,
                &step.status,
                step.reason.as_deref(),
            );
            if logical.is_none() {
                s.stack.status = StackStatus::parse(&step.status);
                s.stack.last_updated = Some(format!("2026-12-01T00:00:{:02}Z", n % 60));
            }
        }
    }

    /// Starts an operation on the stack from its script.
    fn start(st: &mut State, stack: &str, kind: Op) {
        let script = st.scripts.get(stack).cloned().unwrap_or(Script::Succeed);
        let Some(s) = find_mut(&mut st.stacks, stack) else {
            return;
        };
        let steps = steps(kind, &script, s.failed.as_deref());
        if let Script::Fail { resource, .. } | Script::FailRollback { resource, .. } = &script {
            s.failed = Some(resource.clone());
        }
        // The first step (the stack's *_IN_PROGRESS) happens at once.
        s.pending = steps.into();
        let n = st.counter + 1;
        st.counter = n;
        let s = find_mut(&mut st.stacks, stack).expect("found above");
        if let Some(step) = s.pending.pop_front() {
            s.stack.status = StackStatus::parse(&step.status);
            push_event(s, n, None, "", &step.status, step.reason.as_deref());
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Create {
        disable_rollback: bool,
    },
    Update {
        disable_rollback: bool,
    },
    Delete,
    /// `RollbackStack` of a failed create.
    RollBackCreate,
    /// `RollbackStack` of a failed update.
    RollBackUpdate,
    ContinueRollback,
}

fn step(logical: Option<&str>, rtype: &str, status: &str, reason: Option<&str>) -> Step {
    Step {
        logical_id: logical.map(str::to_string),
        resource_type: rtype.to_string(),
        status: status.to_string(),
        reason: reason.map(str::to_string),
    }
}

const QUEUE: &str = "AWS::SQS::Queue";

/// The steps an operation plays, from its first stack status to its last.
fn steps(op: Op, script: &Script, failed: Option<&str>) -> Vec<Step> {
    let stack = |status: &str, reason: Option<&str>| step(None, "", status, reason);
    let res = |id: &str, status: &str, reason: Option<&str>| step(Some(id), QUEUE, status, reason);
    match (op, script) {
        (Op::Delete, _) => vec![
            stack("DELETE_IN_PROGRESS", Some("User Initiated")),
            stack("DELETE_COMPLETE", None),
        ],
        (Op::RollBackCreate, _) => vec![
            stack("ROLLBACK_IN_PROGRESS", Some("Rollback requested by user.")),
            stack("ROLLBACK_COMPLETE", None),
        ],
        (Op::RollBackUpdate, _) => vec![
            stack(
                "UPDATE_ROLLBACK_IN_PROGRESS",
                Some("Rollback requested by user."),
            ),
            stack("UPDATE_ROLLBACK_COMPLETE", None),
        ],
        (
            Op::Create {
                disable_rollback: true,
            },
            Script::Fail { resource, reason },
        ) => vec![
            stack("CREATE_IN_PROGRESS", Some("User Initiated")),
            res(resource, "CREATE_FAILED", Some(reason)),
            stack(
                "CREATE_FAILED",
                Some("The following resource(s) failed to create"),
            ),
        ],
        (
            Op::Update {
                disable_rollback: true,
            },
            Script::Fail { resource, reason },
        ) => vec![
            stack("UPDATE_IN_PROGRESS", Some("User Initiated")),
            res(resource, "UPDATE_FAILED", Some(reason)),
            stack(
                "UPDATE_FAILED",
                Some("The following resource(s) failed to update"),
            ),
        ],
        (Op::ContinueRollback, _) => vec![
            stack("UPDATE_ROLLBACK_IN_PROGRESS", None),
            res(
                failed.unwrap_or("Queue"),
                "UPDATE_COMPLETE",
                Some("Resource skipped during UpdateRollback"),
            ),
            stack("UPDATE_ROLLBACK_COMPLETE", None),
        ],
        (Op::Create { .. }, Script::Succeed) => vec![
            stack("CREATE_IN_PROGRESS", Some("User Initiated")),
            res("Queue", "CREATE_IN_PROGRESS", None),
            res("Queue", "CREATE_COMPLETE", None),
            stack("CREATE_COMPLETE", None),
        ],
        (Op::Update { .. }, Script::Succeed) => vec![
            stack("UPDATE_IN_PROGRESS", Some("User Initiated")),
            res("Queue", "UPDATE_IN_PROGRESS", None),
            res("Queue", "UPDATE_COMPLETE", None),
            stack("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None),
            stack("UPDATE_COMPLETE", None),
        ],
        (Op::Create { .. }, Script::Fail { resource, reason }) => vec![
            stack("CREATE_IN_PROGRESS", Some("User Initiated")),
            res(resource, "CREATE_IN_PROGRESS", None),
            res(resource, "CREATE_FAILED", Some(reason)),
            stack(
                "ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to create"),
            ),
            res(resource, "DELETE_COMPLETE", None),
            stack("ROLLBACK_COMPLETE", None),
        ],
        (Op::Update { .. }, Script::Fail { resource, reason }) => vec![
            stack("UPDATE_IN_PROGRESS", Some("User Initiated")),
            res(resource, "UPDATE_IN_PROGRESS", None),
            res(resource, "UPDATE_FAILED", Some(reason)),
            stack(
                "UPDATE_ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to update"),
            ),
            res(resource, "UPDATE_COMPLETE", None),
            stack("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", None),
            stack("UPDATE_ROLLBACK_COMPLETE", None),
        ],
        (Op::Create { .. }, Script::FailRollback { resource, reason }) => vec![
            stack("CREATE_IN_PROGRESS", Some("User Initiated")),
            res(resource, "CREATE_FAILED", Some(reason)),
            stack("ROLLBACK_IN_PROGRESS", None),
            res(resource, "DELETE_FAILED", Some("cannot delete")),
            stack("ROLLBACK_FAILED", None),
        ],
        (Op::Update { .. }, Script::FailRollback { resource, reason }) => vec![
            stack("UPDATE_IN_PROGRESS", Some("User Initiated")),
            res(resource, "UPDATE_FAILED", Some(reason)),
            stack("UPDATE_ROLLBACK_IN_PROGRESS", None),
            res(resource, "UPDATE_FAILED", Some("rollback blocked")),
            stack("UPDATE_ROLLBACK_FAILED", None),
        ],
        (Op::Create { .. }, Script::Hang) => vec![
            stack("CREATE_IN_PROGRESS", Some("User Initiated")),
            res("Queue", "CREATE_IN_PROGRESS", None),
        ],
        (Op::Update { .. }, Script::Hang) => vec![
            stack("UPDATE_IN_PROGRESS", Some("User Initiated")),
            res("Queue", "UPDATE_IN_PROGRESS", None),
        ],
    }
}

fn push_event(
    s: &mut FakeStack,
    n: u64,
    logical: Option<&str>,
    rtype: &str,
    status: &str,
    reason: Option<&str>,
) {
    let is_stack = logical.is_none();
    s.events.push(StackEvent {
        event_id: format!("e{n}-{}", s.events.len()),
        stack_name: s.stack.name.clone(),
        logical_id: logical.unwrap_or(&s.stack.name).to_string(),
        physical_id: Some(if is_stack {
            s.stack.stack_id.clone()
        } else {
            format!("{}-{}", s.stack.name, logical.unwrap_or_default())
        }),
        resource_type: if is_stack {
            crate::model::STACK_RESOURCE_TYPE.to_string()
        } else {
            rtype.to_string()
        },
        status: EventStatus(status.to_string()),
        reason: reason.map(str::to_string),
        timestamp: format!("2026-12-01T00:{:02}:{:02}Z", (n / 60) % 60, n % 60),
    });
}

fn find<'a>(stacks: &'a [FakeStack], name_or_id: &str) -> Option<&'a FakeStack> {
    stacks
        .iter()
        .rev()
        .find(|s| s.stack.name == name_or_id || s.stack.stack_id == name_or_id)
}

fn find_mut<'a>(stacks: &'a mut [FakeStack], name_or_id: &str) -> Option<&'a mut FakeStack> {
    stacks
        .iter_mut()
        .rev()
        .find(|s| s.stack.name == name_or_id || s.stack.stack_id == name_or_id)
}

fn validation(operation: &str, message: String) -> CfnError {
    CfnError::Api {
        operation: operation.to_string(),
        code: "ValidationError".to_string(),
        message,
    }
}

impl CloudFormation for FakeCfn {
    async fn describe_stack(&self, _: &str, stack: &str) -> Result<Option<Stack>, CfnError> {
        let lost = self.enter("DescribeStacks", stack)?;
        let mut st = self.state();
        FakeCfn::advance(&mut st, stack);
        let found = find(&st.stacks, stack)
            .filter(|s| s.stack.status != StackStatus::DeleteComplete || s.stack.stack_id == stack)
            .map(|s| s.stack.clone());
        if lost {
            return Err(FakeCfn::lost("DescribeStacks"));
        }
        Ok(found)
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
        if let super::TemplateSource::Url(url) = &request.template {
            st.uploads.push(format!("TemplateURL {url}"));
        }
        let next = st.next_change_set.take().unwrap_or_default();
        let existing = find(&st.stacks, &request.stack_name).map(|s| s.stack.status.clone());
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
    ) -> Result<(), CfnError> {
        let lost = self.enter("ExecuteChangeSet", arn)?;
        let mut st = self.state();
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
        // CloudFormation removes a stack's change sets once one is executed.
        st.change_sets.retain(|c| c.stack_id != cs.stack_id);
        let op = if cs.create {
            Op::Create { disable_rollback }
        } else {
            Op::Update { disable_rollback }
        };
        FakeCfn::start(&mut st, &cs.stack_name, op);
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

    async fn cancel_update_stack(&self, _: &str, stack: &str) -> Result<(), CfnError> {
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
            step(None, "", "UPDATE_ROLLBACK_COMPLETE", None),
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
    ) -> Result<(), CfnError> {
        self.enter("ContinueUpdateRollback", stack)?;
        let mut st = self.state();
        match find(&st.stacks, stack).map(|s| s.stack.status.clone()) {
            Some(StackStatus::UpdateRollbackFailed) => {
                FakeCfn::start(&mut st, stack, Op::ContinueRollback);
                Ok(())
            }
            other => Err(validation(
                "ContinueUpdateRollback",
                format!("Stack {stack} is in {other:?} state and can not continue update rollback"),
            )),
        }
    }

    async fn rollback_stack(&self, _: &str, stack: &str) -> Result<(), CfnError> {
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
        FakeCfn::start(&mut st, stack, op);
        Ok(())
    }

    async fn delete_stack(&self, _: &str, stack: &str) -> Result<(), CfnError> {
        self.enter("DeleteStack", stack)?;
        let mut st = self.state();
        if find(&st.stacks, stack).is_some_and(|s| s.termination_protection) {
            return Err(validation(
                "DeleteStack",
                format!("Stack [{stack}] cannot be deleted while TerminationProtection is enabled"),
            ));
        }
        FakeCfn::start(&mut st, stack, Op::Delete);
        Ok(())
    }

    async fn upload_template(
        &self,
        region: &str,
        bucket: &str,
        key: &str,
        body: &str,
    ) -> Result<String, CfnError> {
        self.enter("PutObject", key)?;
        self.state()
            .uploads
            .push(format!("PutObject {bucket} {key} {}", body.len()));
        Ok(format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"))
    }
}
