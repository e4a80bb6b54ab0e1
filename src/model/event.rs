//! Stack events: what `DescribeStackEvents` reports, newest first. What an event's status means
//! is decided with the stack statuses (`EventStatus`, in `stack.rs`).

use super::EventStatus;

/// The resource type of a stack, and of a nested stack resource.
pub const STACK_RESOURCE_TYPE: &str = "AWS::CloudFormation::Stack";

/// One stack event (`StackEvent`), as `DescribeStackEvents` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEvent {
    pub event_id: String,
    pub stack_name: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: EventStatus,
    pub reason: Option<String>,
    /// RFC 3339.
    pub timestamp: String,
    /// The client request token of the call that started the operation, when it had one.
    pub client_request_token: Option<String>,
}

impl StackEvent {
    /// An event about the stack itself rather than one of its resources.
    pub fn is_stack_event(&self) -> bool {
        self.resource_type == STACK_RESOURCE_TYPE && self.logical_id == self.stack_name
    }

    /// An event about a nested stack resource of this stack.
    pub fn is_nested_stack(&self) -> bool {
        self.resource_type == STACK_RESOURCE_TYPE && !self.is_stack_event()
    }

    pub fn is_failure(&self) -> bool {
        self.status.is_failure()
    }

    /// A resource CloudFormation stopped because another one failed: a consequence, never a cause.
    pub fn is_cancellation(&self) -> bool {
        self.reason
            .as_deref()
            .is_some_and(|r| r.starts_with("Resource ") && r.contains(" cancelled"))
    }
}

/// A page of `DescribeStackEvents`, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEventPage {
    pub events: Vec<StackEvent>,
    pub next_token: Option<String>,
}
