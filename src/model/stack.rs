//! Stacks and their events, and the one table of what each CloudFormation stack status means:
//! its family and the one piece of advice shown for it. Every decision and message about a
//! status goes through [`StackStatus`]; no other module spells a status out.

use std::fmt;

/// A stack's status (`StackStatus`), every value CloudFormation documents, plus `Other` for one
/// it adds later.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StackStatus {
    CreateInProgress,
    CreateFailed,
    CreateComplete,
    RollbackInProgress,
    RollbackFailed,
    RollbackComplete,
    DeleteInProgress,
    DeleteFailed,
    DeleteComplete,
    UpdateInProgress,
    UpdateCompleteCleanupInProgress,
    UpdateComplete,
    UpdateFailed,
    UpdateRollbackInProgress,
    UpdateRollbackFailed,
    UpdateRollbackCompleteCleanupInProgress,
    UpdateRollbackComplete,
    ReviewInProgress,
    ImportInProgress,
    ImportComplete,
    ImportRollbackInProgress,
    ImportRollbackFailed,
    ImportRollbackComplete,
    Other(String),
}

/// What a status says about the stack, for every decision cfdeploy makes about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// An operation is running; nothing new can start.
    InProgress,
    /// Made by a CREATE change set that was never executed: no resources, no operation.
    Review,
    /// The last operation succeeded.
    Complete,
    /// The last update (or import) failed and was rolled back cleanly: the previous template runs.
    RolledBack,
    /// The last operation failed with rollback disabled: the failed resources are kept.
    Failed,
    /// CloudFormation cannot update the stack until a person repairs it.
    NeedsRepair,
    /// The stack is gone.
    Deleted,
    /// A status this cfdeploy does not know.
    Unknown,
}

/// What `cfdeploy rollback` does to repair a stack in a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// Nothing needs repairing.
    Nothing,
    /// `RollbackStack`: roll back an operation that failed with rollback disabled.
    RollBack,
    /// `ContinueUpdateRollback`, optionally skipping resources.
    ContinueRollback,
    /// Only deleting the stack helps (`--delete`).
    Delete,
    /// An operation is running: wait for it.
    Wait,
}

impl StackStatus {
    /// Every documented status, for tests and documentation.
    pub const ALL: [StackStatus; 23] = [
        StackStatus::CreateInProgress,
        StackStatus::CreateFailed,
        StackStatus::CreateComplete,
        StackStatus::RollbackInProgress,
        StackStatus::RollbackFailed,
        StackStatus::RollbackComplete,
        StackStatus::DeleteInProgress,
        StackStatus::DeleteFailed,
        StackStatus::DeleteComplete,
        StackStatus::UpdateInProgress,
        StackStatus::UpdateCompleteCleanupInProgress,
        StackStatus::UpdateComplete,
        StackStatus::UpdateFailed,
        StackStatus::UpdateRollbackInProgress,
        StackStatus::UpdateRollbackFailed,
        StackStatus::UpdateRollbackCompleteCleanupInProgress,
        StackStatus::UpdateRollbackComplete,
        StackStatus::ReviewInProgress,
        StackStatus::ImportInProgress,
        StackStatus::ImportComplete,
        StackStatus::ImportRollbackInProgress,
        StackStatus::ImportRollbackFailed,
        StackStatus::ImportRollbackComplete,
    ];

    /// The table: each status's spelling, family and repair.
    fn row(&self) -> (&str, Family, Repair) {
        use Family as F;
        use Repair as R;
        use StackStatus as S;
        match self {
            S::CreateInProgress => ("CREATE_IN_PROGRESS", F::InProgress, R::Wait),
            S::CreateFailed => ("CREATE_FAILED", F::Failed, R::RollBack),
            S::CreateComplete => ("CREATE_COMPLETE", F::Complete, R::Nothing),
            S::RollbackInProgress => ("ROLLBACK_IN_PROGRESS", F::InProgress, R::Wait),
            S::RollbackFailed => ("ROLLBACK_FAILED", F::NeedsRepair, R::Delete),
            S::RollbackComplete => ("ROLLBACK_COMPLETE", F::NeedsRepair, R::Delete),
            S::DeleteInProgress => ("DELETE_IN_PROGRESS", F::InProgress, R::Wait),
            S::DeleteFailed => ("DELETE_FAILED", F::NeedsRepair, R::Delete),
            S::DeleteComplete => ("DELETE_COMPLETE", F::Deleted, R::Nothing),
            S::UpdateInProgress => ("UPDATE_IN_PROGRESS", F::InProgress, R::Wait),
            S::UpdateCompleteCleanupInProgress => (
                "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                F::InProgress,
                R::Wait,
            ),
            S::UpdateComplete => ("UPDATE_COMPLETE", F::Complete, R::Nothing),
            S::UpdateFailed => ("UPDATE_FAILED", F::Failed, R::RollBack),
            S::UpdateRollbackInProgress => ("UPDATE_ROLLBACK_IN_PROGRESS", F::InProgress, R::Wait),
            S::UpdateRollbackFailed => (
                "UPDATE_ROLLBACK_FAILED",
                F::NeedsRepair,
                R::ContinueRollback,
            ),
            S::UpdateRollbackCompleteCleanupInProgress => (
                "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
                F::InProgress,
                R::Wait,
            ),
            S::UpdateRollbackComplete => ("UPDATE_ROLLBACK_COMPLETE", F::RolledBack, R::Nothing),
            S::ReviewInProgress => ("REVIEW_IN_PROGRESS", F::Review, R::Delete),
            S::ImportInProgress => ("IMPORT_IN_PROGRESS", F::InProgress, R::Wait),
            S::ImportComplete => ("IMPORT_COMPLETE", F::Complete, R::Nothing),
            S::ImportRollbackInProgress => ("IMPORT_ROLLBACK_IN_PROGRESS", F::InProgress, R::Wait),
            S::ImportRollbackFailed => ("IMPORT_ROLLBACK_FAILED", F::NeedsRepair, R::RollBack),
            S::ImportRollbackComplete => ("IMPORT_ROLLBACK_COMPLETE", F::RolledBack, R::Nothing),
            S::Other(s) => (s, F::Unknown, R::Nothing),
        }
    }

    pub fn parse(s: &str) -> StackStatus {
        StackStatus::ALL
            .iter()
            .find(|status| status.as_str() == s)
            .cloned()
            .unwrap_or_else(|| StackStatus::Other(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        self.row().0
    }

    pub fn family(&self) -> Family {
        self.row().1
    }

    /// What `cfdeploy rollback` does about it.
    pub fn repair(&self) -> Repair {
        self.row().2
    }

    /// An operation is running; a new one cannot start and a watcher keeps waiting.
    pub fn is_in_progress(&self) -> bool {
        self.family() == Family::InProgress
    }

    /// No operation is running (the opposite of in progress; a stack in review is settled).
    pub fn is_settled(&self) -> bool {
        !self.is_in_progress()
    }

    /// The stack's last operation succeeded, or nothing needs a person (complete, rolled back).
    pub fn is_healthy(&self) -> bool {
        matches!(self.family(), Family::Complete | Family::RolledBack)
    }

    /// CloudFormation accepts an UPDATE change set for the stack.
    pub fn accepts_update(&self) -> bool {
        self.is_healthy()
    }

    /// The stack failed and needs attention (failed with rollback disabled, or needs repair).
    pub fn is_failure(&self) -> bool {
        matches!(self.family(), Family::Failed | Family::NeedsRepair)
    }

    /// The one piece of advice for a stack in this status, naming the stack as the user knows it;
    /// `None` when there is nothing to do.
    pub fn advice(&self, stack: &str) -> Option<String> {
        use StackStatus as S;
        let text = match self {
            S::RollbackComplete => format!(
                "Its create failed and was rolled back: it holds no resources and CloudFormation cannot update it. Fix the cause, then delete it with `cfdeploy rollback {stack} --delete` and apply again."
            ),
            S::RollbackFailed => format!(
                "Its create failed and the rollback could not remove everything. Delete it with `cfdeploy rollback {stack} --delete` (add `--retain-resource LOGICAL_ID` for a resource that cannot be deleted) and apply again."
            ),
            S::DeleteFailed => format!(
                "Its deletion failed. Fix what blocks it and delete it again with `cfdeploy delete {stack}`, or keep what cannot be deleted in place: `cfdeploy delete {stack} --retain LOGICAL_ID`."
            ),
            S::UpdateRollbackFailed => format!(
                "The rollback failed too; the stack needs a person. Fix what blocks the rollback, or skip the resources that cannot be rolled back: `cfdeploy rollback {stack} --skip-resource LOGICAL_ID`."
            ),
            S::CreateFailed | S::UpdateFailed => format!(
                "Rollback was disabled, so the failed resources are kept for debugging. When done, roll back with `cfdeploy rollback {stack}`."
            ),
            S::ImportRollbackFailed => format!(
                "The import failed and so did its rollback. Roll it back with `cfdeploy rollback {stack}`."
            ),
            S::UpdateRollbackComplete => {
                "The update was rolled back; the stack runs its previous template. Fix the cause and apply again.".to_string()
            }
            S::ImportRollbackComplete => {
                "The import was rolled back; the stack runs its previous template. Fix the cause and apply again.".to_string()
            }
            S::ReviewInProgress => format!(
                "It was never created: a change set was made for it but never executed. Apply a plan to create it, or remove it with `cfdeploy rollback {stack} --delete`."
            ),
            S::DeleteComplete => "It was deleted.".to_string(),
            S::Other(s) => format!(
                "CloudFormation reports a status this cfdeploy does not know ({s}); see the stack in the AWS console or with `cfdeploy events {stack}`."
            ),
            s if s.is_in_progress() => format!(
                "An operation is still running; watch it with `cfdeploy events {stack}`."
            ),
            _ => return None,
        };
        Some(text)
    }
}

impl fmt::Display for StackStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stack as `DescribeStacks` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub stack_id: String,
    pub name: String,
    pub status: StackStatus,
    pub status_reason: Option<String>,
    /// RFC 3339; absent until the stack is first updated.
    pub last_updated: Option<String>,
    pub creation_time: Option<String>,
    /// Deployed parameter values; CloudFormation returns `****` for NoEcho ones.
    pub parameters: Vec<(String, String)>,
    /// The stack's tags.
    pub tags: Vec<(String, String)>,
    /// What the stack's template outputs, in CloudFormation's order.
    pub outputs: Vec<StackOutput>,
    /// `EnableTerminationProtection`.
    pub termination_protection: bool,
    /// The stack that nests this one (`ParentId`); `None` for a top-level stack.
    pub parent_id: Option<String>,
}

/// One stack as `ListStacks` summarises it: enough to see, for a whole fleet at once, which
/// stacks have an operation running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedStack {
    pub name: String,
    pub stack_id: String,
    pub status: StackStatus,
}

/// A deployed stack's outputs, or why they could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackOutputs {
    pub stack: String,
    pub region: String,
    pub outputs: Vec<StackOutput>,
    pub error: Option<String>,
}

/// One output of a deployed stack.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StackOutput {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
    /// The name other stacks import it by, when it is exported.
    pub export_name: Option<String>,
}

/// The status of a stack event (`ResourceStatus`). For the stack's own events it is a stack
/// status; for a resource's, one of the resource statuses, which share the stack statuses' words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventStatus(pub String);

impl EventStatus {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `*_FAILED`: a resource (or the stack) failed in this step.
    pub fn is_failure(&self) -> bool {
        self.0.ends_with("_FAILED")
    }

    /// `*_COMPLETE`: a resource (or the stack) finished this step.
    pub fn is_complete(&self) -> bool {
        self.0.ends_with("_COMPLETE")
    }

    /// `*_IN_PROGRESS`.
    pub fn is_in_progress(&self) -> bool {
        self.0.ends_with("_IN_PROGRESS")
    }

    /// Mentions a rollback (`ROLLBACK_IN_PROGRESS`, `UPDATE_ROLLBACK_COMPLETE`, ...).
    pub fn is_rollback(&self) -> bool {
        self.0.contains("ROLLBACK")
    }

    /// A step of a deletion (`DELETE_IN_PROGRESS`, `DELETE_FAILED`, `DELETE_COMPLETE`,
    /// `DELETE_SKIPPED`).
    pub fn is_deletion(&self) -> bool {
        self.0.starts_with("DELETE_")
    }

    /// The resource (or stack) was deleted: `DELETE_COMPLETE`.
    pub fn is_deleted(&self) -> bool {
        self.stack_status() == StackStatus::DeleteComplete
    }

    /// The stack status an event about the stack itself reports.
    pub fn stack_status(&self) -> StackStatus {
        StackStatus::parse(&self.0)
    }

    /// A stack-level status that starts an operation (the first event of every operation).
    pub fn starts_operation(&self) -> bool {
        matches!(
            self.stack_status(),
            StackStatus::CreateInProgress
                | StackStatus::UpdateInProgress
                | StackStatus::DeleteInProgress
                | StackStatus::ImportInProgress
                | StackStatus::ReviewInProgress
        )
    }
}

impl fmt::Display for EventStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests;
