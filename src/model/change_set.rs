//! Change sets as CloudFormation describes them (`DescribeChangeSet`).

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
    /// Every cause CloudFormation gave for this change, when it described the same property once
    /// per cause (`DirectModification`, `ResourceAttribute (Parameter1.Value)`, ...); empty when
    /// there was one.
    pub causes: Vec<String>,
    /// When both values are JSON objects or arrays (a policy, a redrive policy, environment
    /// variables): what changed inside, path by path.
    pub value_changes: Vec<ValueChange>,
}

/// One changed place inside a JSON-valued property: `maxReceiveCount: 5 → 10`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueChange {
    /// `maxReceiveCount`, `Statement[0].Action`; empty for the value as a whole.
    pub path: String,
    /// Compact JSON; `None` where the place is added.
    pub before: Option<String>,
    /// Compact JSON; `None` where the place is removed.
    pub after: Option<String>,
}

/// What CloudFormation writes for a value it learns only while the change set runs.
pub const KNOWN_AFTER_APPLY: &str = "{{changeSet:KNOWN_AFTER_APPLY}}";

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
    /// What happens to the old resource: `Delete`, `Retain`, `Snapshot`, `ReplaceAndDelete`,
    /// `ReplaceAndRetain`, `ReplaceAndSnapshot` (`PolicyAction`).
    pub policy_action: Option<String>,
    /// With `plan --drift`: how the live resource differs from the deployed template, when it
    /// drifted (the change set's before-values are the template's, not what is deployed).
    pub drift: Option<String>,
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

/// What can be done with a change set (`ExecutionStatus`), as `apply` decides by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Execution {
    /// It can be executed.
    Available,
    /// It is running, or ran (CloudFormation removes it some time after).
    Ran,
    /// Its stack changed since it was made (another change set ran, an update, a deletion).
    Obsolete,
    /// Anything else (`UNAVAILABLE` while being computed, say), as CloudFormation spells it.
    Other(String),
}

impl Execution {
    pub fn parse(status: Option<&str>) -> Execution {
        match status.unwrap_or("UNKNOWN") {
            "AVAILABLE" => Execution::Available,
            "EXECUTE_IN_PROGRESS" | "EXECUTE_COMPLETE" | "EXECUTE_FAILED" => Execution::Ran,
            "OBSOLETE" => Execution::Obsolete,
            other => Execution::Other(other.to_string()),
        }
    }
}

/// One page of `DescribeChangeSet`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetPage {
    pub stack_id: Option<String>,
    pub stack_name: Option<String>,
    pub status: ChangeSetStatus,
    pub status_reason: Option<String>,
    /// `AVAILABLE`, `UNAVAILABLE`, `EXECUTE_COMPLETE`, `OBSOLETE`, ...
    pub execution_status: Option<String>,
    pub changes: Vec<ResourceChange>,
    pub next_token: Option<String>,
}
