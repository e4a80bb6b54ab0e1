//! What `apply` and `rollback` did with each stack, and why a failed one failed.

use super::{StackEvent, StackStatus};

/// Why a stack operation failed, for a person: the root cause first, then the tail of this
/// operation's events, the final status and what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub stack: String,
    pub status: StackStatus,
    /// The earliest failures of this operation, cancellations left out.
    pub root_causes: Vec<StackEvent>,
    /// The last events of this operation, oldest first.
    pub tail: Vec<StackEvent>,
    /// Diagnoses of failed nested stacks, followed into their own events.
    pub nested: Vec<Diagnosis>,
    pub next_step: String,
}

/// What `apply` did with one stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    Created,
    Updated,
    Unchanged,
    /// An update failed and was rolled back cleanly (`UPDATE_ROLLBACK_COMPLETE`).
    RolledBack,
    /// A create failed and was rolled back (`ROLLBACK_COMPLETE`): the empty stack must be deleted.
    CreateRolledBack,
    /// The rollback failed too (`UPDATE_ROLLBACK_FAILED`, `ROLLBACK_FAILED`).
    RollbackFailed,
    /// Failed with rollback disabled (`CREATE_FAILED`, `UPDATE_FAILED`): kept for debugging.
    FailedKept,
    /// Cancelled by an interrupt and rolled back.
    Cancelled,
    /// Not executed: the plan entry was stale, failed to plan, or was declined.
    Refused,
    /// Not started: an earlier failure (or a failed canary) stopped the run.
    NotStarted,
    /// Stopped waiting after a second interrupt; the operation goes on in CloudFormation.
    Abandoned,
    /// cfdeploy lost track of the operation (it may still be running; its outcome is unknown).
    Unknown,
    /// Repaired by `rollback` (rolled back, continued, or deleted as asked).
    Repaired,
    /// Not executed: the plan has destructive changes and they were not allowed.
    Blocked,
    /// Deleted by `cfdeploy delete` (`DELETE_COMPLETE`).
    Deleted,
    /// The deletion failed (`DELETE_FAILED`): some resources are still there.
    DeleteFailed,
    /// Planned after an upstream this run applies: plan again (exit 2, changes remain).
    Deferred,
}

impl OutcomeKind {
    pub fn label(self) -> &'static str {
        match self {
            OutcomeKind::Created => "created",
            OutcomeKind::Updated => "updated",
            OutcomeKind::Unchanged => "unchanged",
            OutcomeKind::RolledBack => "failed and rolled back",
            OutcomeKind::CreateRolledBack => "create failed and rolled back",
            OutcomeKind::RollbackFailed => "rollback failed",
            OutcomeKind::FailedKept => "failed, rollback disabled",
            OutcomeKind::Cancelled => "cancelled",
            OutcomeKind::Refused => "refused",
            OutcomeKind::NotStarted => "not started",
            OutcomeKind::Abandoned => "still in progress",
            OutcomeKind::Unknown => "outcome unknown",
            OutcomeKind::Repaired => "repaired",
            OutcomeKind::Blocked => "blocked: destructive",
            OutcomeKind::Deleted => "deleted",
            OutcomeKind::DeleteFailed => "delete failed",
            OutcomeKind::Deferred => "deferred: plan again",
        }
    }

    /// The JSON spelling.
    pub fn key(self) -> &'static str {
        match self {
            OutcomeKind::Created => "created",
            OutcomeKind::Updated => "updated",
            OutcomeKind::Unchanged => "unchanged",
            OutcomeKind::RolledBack => "rolled-back",
            OutcomeKind::CreateRolledBack => "create-rolled-back",
            OutcomeKind::RollbackFailed => "rollback-failed",
            OutcomeKind::FailedKept => "failed-kept",
            OutcomeKind::Cancelled => "cancelled",
            OutcomeKind::Refused => "refused",
            OutcomeKind::NotStarted => "not-started",
            OutcomeKind::Abandoned => "abandoned",
            OutcomeKind::Unknown => "unknown",
            OutcomeKind::Repaired => "repaired",
            OutcomeKind::Blocked => "blocked",
            OutcomeKind::Deleted => "deleted",
            OutcomeKind::DeleteFailed => "delete-failed",
            OutcomeKind::Deferred => "deferred",
        }
    }

    pub fn succeeded(self) -> bool {
        matches!(
            self,
            OutcomeKind::Created
                | OutcomeKind::Updated
                | OutcomeKind::Unchanged
                | OutcomeKind::Repaired
                | OutcomeKind::Deleted
        )
    }

    /// The outcome of an operation that ended in `status`.
    pub fn from_final_status(status: &StackStatus) -> OutcomeKind {
        use StackStatus as S;
        match status {
            S::CreateComplete => OutcomeKind::Created,
            S::UpdateComplete | S::ImportComplete => OutcomeKind::Updated,
            S::UpdateRollbackComplete | S::ImportRollbackComplete => OutcomeKind::RolledBack,
            S::RollbackComplete => OutcomeKind::CreateRolledBack,
            S::CreateFailed | S::UpdateFailed => OutcomeKind::FailedKept,
            S::DeleteComplete => OutcomeKind::Deleted,
            S::DeleteFailed => OutcomeKind::DeleteFailed,
            _ => OutcomeKind::RollbackFailed,
        }
    }
}

/// The result of applying one stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub stack: String,
    pub region: String,
    pub kind: OutcomeKind,
    /// The stack's status at the end, when known.
    pub status: Option<StackStatus>,
    pub seconds: f64,
    /// Why it was refused, not started, or anything else a person should read.
    pub message: Option<String>,
    pub diagnosis: Option<Diagnosis>,
    /// What the stack outputs after a successful create or update (read when its template
    /// declares outputs).
    pub outputs: Vec<crate::model::StackOutput>,
}
