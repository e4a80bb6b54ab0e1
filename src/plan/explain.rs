//! What a stack's planning says when CloudFormation will not make its change set, and why; and
//! the one error type a stack's planning ends with.

use crate::cfn::change_set::ChangeSetError;
use crate::cfn::CfnError;
use crate::model::Stack;

/// Why CloudFormation will not update the stack, and what to do about it (from the status table).
pub(super) fn unusable(name: &str, stack: &Stack) -> String {
    let reason = stack
        .status_reason
        .as_deref()
        .map(|r| format!(" (CloudFormation: {r})"))
        .unwrap_or_default();
    let advice = stack
        .status
        .advice(name)
        .unwrap_or_else(|| "CloudFormation cannot update it in this state.".to_string());
    format!("stack is {}{reason}: {advice}", stack.status)
}

/// An answer to CreateChangeSet that does not prove the change set was not made.
pub(super) fn recoverable_create_error(e: &CfnError) -> bool {
    matches!(e, CfnError::Transport { .. } | CfnError::Throttled { .. })
        || matches!(e.code(), Some("AlreadyExistsException"))
}

pub(super) fn explain_create_error(e: &CfnError) -> String {
    let hint = match e.code() {
        Some("InsufficientCapabilitiesException") => {
            " — add the capability it names to `capabilities` in the stack config"
        }
        Some("AlreadyExistsException") => {
            " — a change set with this name exists already; run plan again"
        }
        Some("LimitExceededException") => {
            " — delete unused change sets or stacks, or ask AWS for a higher limit"
        }
        _ => "",
    };
    format!("{e}{hint}")
}

/// Why a stack could not be planned; becomes the stack's `error`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StackProblem {
    #[error("{0}")]
    Cfn(#[from] CfnError),
    #[error("{0}")]
    State(String),
}

impl From<ChangeSetError> for StackProblem {
    fn from(e: ChangeSetError) -> StackProblem {
        match e {
            ChangeSetError::Cfn(e) => StackProblem::Cfn(e),
            ChangeSetError::Timeout(why) => StackProblem::State(why),
            ChangeSetError::Interrupted => StackProblem::State(e.to_string()),
        }
    }
}
