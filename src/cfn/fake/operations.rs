//! The steps each scripted operation of the fake plays, from its first stack status to its last.

use super::{Script, Step};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Op {
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

pub(super) fn step(logical: Option<&str>, rtype: &str, status: &str, reason: Option<&str>) -> Step {
    Step {
        logical_id: logical.map(str::to_string),
        resource_type: rtype.to_string(),
        status: status.to_string(),
        reason: reason.map(str::to_string),
    }
}

pub(super) const QUEUE: &str = "AWS::SQS::Queue";

/// The steps an operation plays, from its first stack status to its last.
pub(super) fn steps(op: Op, script: &Script, failed: Option<&str>) -> Vec<Step> {
    let stack = |status: &str, reason: Option<&str>| step(None, "", status, reason);
    let res = |id: &str, status: &str, reason: Option<&str>| step(Some(id), QUEUE, status, reason);
    match (op, script) {
        (Op::Delete, Script::Fail { resource, reason }) => vec![
            stack("DELETE_IN_PROGRESS", Some("User Initiated")),
            res(resource, "DELETE_IN_PROGRESS", None),
            res(resource, "DELETE_FAILED", Some(reason)),
            stack(
                "DELETE_FAILED",
                Some(&format!(
                    "The following resource(s) failed to delete: [{resource}]. "
                )),
            ),
        ],
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
