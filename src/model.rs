//! The domain model: plain data in CloudFormation's own words, free of SDK types. The AWS adapter
//! (`cfn::sdk`) converts into these at the boundary; renderers and commands only ever see these.

use std::fmt;

/// What CloudFormation will do to a resource (`ResourceChange.Action`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Add,
    Modify,
    Remove,
    Import,
    Dynamic,
    Other(String),
}

impl Action {
    pub fn parse(s: &str) -> Action {
        match s {
            "Add" => Action::Add,
            "Modify" => Action::Modify,
            "Remove" => Action::Remove,
            "Import" => Action::Import,
            "Dynamic" => Action::Dynamic,
            other => Action::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Action::Add => "Add",
            Action::Modify => "Modify",
            Action::Remove => "Remove",
            Action::Import => "Import",
            Action::Dynamic => "Dynamic",
            Action::Other(s) => s,
        }
    }
}

/// Whether a `Modify` replaces the resource (`ResourceChange.Replacement`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replacement {
    True,
    Conditional,
    False,
    Other(String),
}

impl Replacement {
    pub fn parse(s: &str) -> Replacement {
        match s {
            "True" => Replacement::True,
            "Conditional" => Replacement::Conditional,
            "False" => Replacement::False,
            other => Replacement::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Replacement::True => "True",
            Replacement::Conditional => "Conditional",
            Replacement::False => "False",
            Replacement::Other(s) => s,
        }
    }
}

/// Whether changing one property recreates the resource (`ResourceTargetDefinition.RequiresRecreation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequiresRecreation {
    Never,
    Conditionally,
    Always,
    Other(String),
}

impl RequiresRecreation {
    pub fn parse(s: &str) -> RequiresRecreation {
        match s {
            "Never" => RequiresRecreation::Never,
            "Conditionally" => RequiresRecreation::Conditionally,
            "Always" => RequiresRecreation::Always,
            other => RequiresRecreation::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            RequiresRecreation::Never => "Never",
            RequiresRecreation::Conditionally => "Conditionally",
            RequiresRecreation::Always => "Always",
            RequiresRecreation::Other(s) => s,
        }
    }
}

/// One changed attribute of a resource (`ResourceChangeDetail`), with before/after values when
/// the change set was described with `IncludePropertyValues`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyChange {
    /// `Properties`, `Metadata`, `Tags`, ... (`ResourceTargetDefinition.Attribute`).
    pub attribute: String,
    /// The property name (`Name`), or the JSON path when CloudFormation gives one.
    pub name: Option<String>,
    pub path: Option<String>,
    pub requires_recreation: Option<RequiresRecreation>,
    pub before: Option<String>,
    pub after: Option<String>,
    /// `Add`, `Remove`, `Modify`, `SyncWithActual` (`AttributeChangeType`).
    pub change_type: Option<String>,
    /// `DirectModification`, `ParameterReference`, `ResourceReference`, ... (`ChangeSource`).
    pub change_source: Option<String>,
    pub causing_entity: Option<String>,
    /// `Static` or `Dynamic` (`Evaluation`).
    pub evaluation: Option<String>,
}

impl PropertyChange {
    /// A short label for the property: its path without the leading `/Properties/`, or its name,
    /// or the attribute itself (`Tags`, `Metadata`).
    pub fn label(&self) -> String {
        if let Some(path) = &self.path {
            let trimmed = path.trim_start_matches('/');
            let trimmed = trimmed.strip_prefix("Properties/").unwrap_or(trimmed);
            if !trimmed.is_empty() {
                return trimmed.to_string();
            }
        }
        match &self.name {
            Some(name) if !name.is_empty() => name.clone(),
            _ => self.attribute.clone(),
        }
    }
}

/// One resource in a change set (`ResourceChange`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceChange {
    pub action: Action,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    /// Only meaningful for `Modify`; CloudFormation omits it otherwise.
    pub replacement: Option<Replacement>,
    pub scope: Vec<String>,
    pub details: Vec<PropertyChange>,
    /// Why the change is destructive (removes or replaces a stateful resource that nothing
    /// keeps), set by the guard; `None` when it is not.
    pub destructive: Option<String>,
}

impl ResourceChange {
    pub fn is_replacement(&self) -> bool {
        self.action == Action::Modify && self.replacement == Some(Replacement::True)
    }
}

/// `ChangeSet.Status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeSetStatus {
    CreatePending,
    CreateInProgress,
    CreateComplete,
    DeletePending,
    DeleteInProgress,
    DeleteComplete,
    DeleteFailed,
    Failed,
    Other(String),
}

impl ChangeSetStatus {
    pub fn parse(s: &str) -> ChangeSetStatus {
        match s {
            "CREATE_PENDING" => ChangeSetStatus::CreatePending,
            "CREATE_IN_PROGRESS" => ChangeSetStatus::CreateInProgress,
            "CREATE_COMPLETE" => ChangeSetStatus::CreateComplete,
            "DELETE_PENDING" => ChangeSetStatus::DeletePending,
            "DELETE_IN_PROGRESS" => ChangeSetStatus::DeleteInProgress,
            "DELETE_COMPLETE" => ChangeSetStatus::DeleteComplete,
            "DELETE_FAILED" => ChangeSetStatus::DeleteFailed,
            "FAILED" => ChangeSetStatus::Failed,
            other => ChangeSetStatus::Other(other.to_string()),
        }
    }

    /// Still being computed: keep polling.
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            ChangeSetStatus::CreatePending | ChangeSetStatus::CreateInProgress
        )
    }
}

/// One page of `DescribeChangeSet`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetPage {
    pub stack_id: Option<String>,
    pub status: ChangeSetStatus,
    pub status_reason: Option<String>,
    /// `AVAILABLE`, `UNAVAILABLE`, `EXECUTE_COMPLETE`, `OBSOLETE`, ...
    pub execution_status: Option<String>,
    pub changes: Vec<ResourceChange>,
    pub next_token: Option<String>,
}

/// A stack's status (`StackStatus`). A newtype rather than an enum of its twenty-odd values: the
/// code branches only on the families below, and prints the rest as CloudFormation spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackStatus(pub String);

impl StackStatus {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An operation is running; a new one cannot start.
    pub fn is_in_progress(&self) -> bool {
        self.0.ends_with("_IN_PROGRESS") && self.0 != "REVIEW_IN_PROGRESS"
    }

    /// Created by a CREATE change set that was never executed: the stack has no resources yet.
    pub fn is_review_in_progress(&self) -> bool {
        self.0 == "REVIEW_IN_PROGRESS"
    }
}

impl fmt::Display for StackStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
}

/// A parameter whose value differs between the deployed stack and the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterChange {
    pub key: String,
    /// `None` when the stack does not have the parameter yet.
    pub old: Option<String>,
    /// `None` when the new template drops the parameter.
    pub new: Option<String>,
}

/// What the plan found for one stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanStatus {
    Create,
    Update,
    NoChanges,
    /// An operation is in progress on the stack; it was not waited on.
    Busy,
    Error,
}

impl PlanStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            PlanStatus::Create => "create",
            PlanStatus::Update => "update",
            PlanStatus::NoChanges => "no-changes",
            PlanStatus::Busy => "busy",
            PlanStatus::Error => "error",
        }
    }

    pub fn has_changes(&self) -> bool {
        matches!(self, PlanStatus::Create | PlanStatus::Update)
    }
}

/// The deployed state a plan was computed against, so `apply` can refuse to execute a change set
/// if the stack moved on since it was reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint {
    pub stack_status: Option<String>,
    pub last_updated: Option<String>,
    /// SHA-256 of the deployed template body, hex.
    pub deployed_template_sha256: Option<String>,
    /// SHA-256 of the deployed parameters (sorted `key=value` lines), hex.
    pub deployed_parameters_sha256: Option<String>,
    /// SHA-256 of the template body the change set was created from, hex.
    pub template_sha256: String,
    /// SHA-256 of the parameters the change set was created with, hex.
    pub parameters_sha256: String,
}

/// The plan of one stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackPlan {
    pub stack: String,
    pub region: String,
    /// The config file the stack is declared in, as given on the command line.
    pub source: String,
    pub status: PlanStatus,
    pub stack_id: Option<String>,
    pub change_set_arn: Option<String>,
    pub change_set_name: Option<String>,
    pub error: Option<String>,
    pub changes: Vec<ResourceChange>,
    pub parameters: Vec<ParameterChange>,
    /// Unified diff of the deployed template against the new one (updates only).
    pub template_diff: Option<String>,
    pub fingerprint: Fingerprint,
    /// From the config: `apply` turns termination protection on after a create.
    pub termination_protection: bool,
    /// From the config: destructive changes of this stack may be applied.
    pub allow_destructive: bool,
}

impl StackPlan {
    pub fn count(&self, action: &Action) -> usize {
        self.changes.iter().filter(|c| &c.action == action).count()
    }

    pub fn replacements(&self) -> usize {
        self.changes.iter().filter(|c| c.is_replacement()).count()
    }

    pub fn destructive(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.destructive.is_some())
            .count()
    }
}

/// The plan of one run across the selected stacks, in config order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub correlation_id: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub stacks: Vec<StackPlan>,
}

/// Counts for the plan's one-line summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanSummary {
    pub to_change: usize,
    pub unchanged: usize,
    pub busy: usize,
    pub failed: usize,
    pub add: usize,
    pub modify: usize,
    pub replace: usize,
    pub remove: usize,
    pub import: usize,
    /// Changes that remove or replace a stateful resource nothing keeps.
    pub destructive: usize,
}

impl Plan {
    pub fn summary(&self) -> PlanSummary {
        let mut s = PlanSummary::default();
        for stack in &self.stacks {
            match stack.status {
                PlanStatus::Create | PlanStatus::Update => s.to_change += 1,
                PlanStatus::NoChanges => s.unchanged += 1,
                PlanStatus::Busy => s.busy += 1,
                PlanStatus::Error => s.failed += 1,
            }
            s.add += stack.count(&Action::Add);
            s.modify += stack.count(&Action::Modify) - stack.replacements();
            s.remove += stack.count(&Action::Remove);
            s.import += stack.count(&Action::Import);
            s.replace += stack.replacements();
            s.destructive += stack.destructive();
        }
        s
    }

    pub fn has_changes(&self) -> bool {
        self.stacks.iter().any(|s| s.status.has_changes())
    }

    pub fn has_errors(&self) -> bool {
        self.stacks
            .iter()
            .any(|s| matches!(s.status, PlanStatus::Error | PlanStatus::Busy))
    }
}

/// One stack event (`StackEvent`), as `DescribeStackEvents` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEvent {
    pub event_id: String,
    pub stack_name: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    /// `CREATE_IN_PROGRESS`, `UPDATE_FAILED`, ... (`ResourceStatus`).
    pub status: String,
    pub reason: Option<String>,
    /// RFC 3339.
    pub timestamp: String,
}

impl StackEvent {
    /// An event about the stack itself rather than one of its resources.
    pub fn is_stack_event(&self) -> bool {
        self.resource_type == "AWS::CloudFormation::Stack" && self.logical_id == self.stack_name
    }

    pub fn is_failure(&self) -> bool {
        self.status.ends_with("_FAILED")
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

/// Why a stack operation failed, for a person: the root cause first, then the tail of this
/// operation's events, the final status and what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub stack: String,
    pub status: String,
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
    /// Repaired by `rollback` (rolled back, continued, or deleted as asked).
    Repaired,
    /// Not executed: the plan has destructive changes and they were not allowed.
    Blocked,
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
            OutcomeKind::Repaired => "repaired",
            OutcomeKind::Blocked => "blocked: destructive",
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
            OutcomeKind::Repaired => "repaired",
            OutcomeKind::Blocked => "blocked",
        }
    }

    pub fn succeeded(self) -> bool {
        matches!(
            self,
            OutcomeKind::Created
                | OutcomeKind::Updated
                | OutcomeKind::Unchanged
                | OutcomeKind::Repaired
        )
    }

    /// The process exit status this outcome calls for (the run exits with the highest).
    pub fn exit_code(self) -> u8 {
        match self {
            OutcomeKind::Created
            | OutcomeKind::Updated
            | OutcomeKind::Unchanged
            | OutcomeKind::Repaired => 0,
            OutcomeKind::RolledBack | OutcomeKind::Refused | OutcomeKind::NotStarted => 1,
            OutcomeKind::Blocked => 3,
            OutcomeKind::CreateRolledBack
            | OutcomeKind::RollbackFailed
            | OutcomeKind::FailedKept => 4,
            OutcomeKind::Cancelled | OutcomeKind::Abandoned => 130,
        }
    }

    /// The outcome of an operation that ended in `status`.
    pub fn from_final_status(status: &str) -> OutcomeKind {
        match status {
            "CREATE_COMPLETE" => OutcomeKind::Created,
            "UPDATE_COMPLETE" | "IMPORT_COMPLETE" => OutcomeKind::Updated,
            "UPDATE_ROLLBACK_COMPLETE" | "IMPORT_ROLLBACK_COMPLETE" => OutcomeKind::RolledBack,
            "ROLLBACK_COMPLETE" => OutcomeKind::CreateRolledBack,
            "CREATE_FAILED" | "UPDATE_FAILED" => OutcomeKind::FailedKept,
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
    pub status: Option<String>,
    pub seconds: f64,
    /// Why it was refused, not started, or anything else a person should read.
    pub message: Option<String>,
    pub diagnosis: Option<Diagnosis>,
}
