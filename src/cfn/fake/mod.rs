//! An in-memory CloudFormation for unit tests of every operation: stacks with statuses and
//! events, change sets, operations that play out step by step as they are watched, and scripted
//! faults per call (throttling, errors, transport failures, a response lost after the call took
//! effect). Every call is recorded, so a test can prove that a fault hit the path it names.
//!
//! Time does not pass here: an operation advances one step each time the stack is read
//! (`DescribeStacks`, `DescribeStackEvents`), so a watcher sees every status in order.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

mod api;
mod control;
mod listing;
mod operations;
mod sfn;

use operations::{step, steps, Op, QUEUE};

use super::CfnError;
use crate::model::{
    ChangeSetPage, ChangeSetStatus, EventStatus, ResourceChange, Stack, StackEvent, StackStatus,
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
    /// The client request token of the running (or last) operation; its events carry it.
    op_token: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Step {
    logical_id: Option<String>,
    resource_type: String,
    status: String,
    reason: Option<String>,
}

#[derive(Debug, Clone)]
struct FakeChangeSet {
    arn: String,
    name: String,
    client_token: Option<String>,
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
    /// Client request tokens of every operation started.
    tokens: Vec<String>,
    /// Drifted resources by stack, as drift detection reports them.
    drifts: HashMap<String, Vec<crate::model::ResourceDrift>>,
    /// Step Functions: state machines and executions.
    sfn: sfn::Sfn,
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
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
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
                if s.stack.status.is_settled() {
                    // CloudFormation removes a stack's change sets once an execution ends.
                    let id = s.stack.stack_id.clone();
                    st.change_sets
                        .retain(|c| c.stack_id != id || c.execution_status == "AVAILABLE");
                }
            }
        }
    }

    /// Starts an operation on the stack from its script.
    fn start(st: &mut State, stack: &str, kind: Op, token: &str) {
        // Scripts are by name; the stack may be addressed by id.
        let name = find(&st.stacks, stack).map_or(stack.to_string(), |s| s.stack.name.clone());
        let script = st.scripts.get(&name).cloned().unwrap_or(Script::Succeed);
        st.tokens.push(token.to_string());
        let Some(s) = find_mut(&mut st.stacks, stack) else {
            return;
        };
        s.op_token = Some(token.to_string());
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
        client_request_token: s.op_token.clone(),
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
