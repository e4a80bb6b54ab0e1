//! The plan of a fleet: what each stack's change set would do, and what it was computed against.

use super::{Action, ResourceChange, StackStatus};

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
    /// Its values read outputs of a stack this plan changes: they are known only after that
    /// stack is applied, so it is planned then (its `error` says after which).
    Waiting,
    /// Deployed with the config's fleet tag, but no file of the config declares it any more.
    NotInConfig,
    /// Not in the config, and its deletion is planned (`plan --prune`): `changes` are the
    /// resources that go (or stay, by their policy).
    Delete,
}

impl PlanStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            PlanStatus::Create => "create",
            PlanStatus::Update => "update",
            PlanStatus::NoChanges => "no-changes",
            PlanStatus::Busy => "busy",
            PlanStatus::Error => "error",
            PlanStatus::Waiting => "waiting",
            PlanStatus::NotInConfig => "not-in-config",
            PlanStatus::Delete => "delete",
        }
    }

    pub fn has_changes(&self) -> bool {
        matches!(
            self,
            PlanStatus::Create | PlanStatus::Update | PlanStatus::Delete
        )
    }
}

/// The deployed state a plan was computed against, so `apply` can refuse to execute a change set
/// if the stack moved on since it was reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint {
    pub stack_status: Option<StackStatus>,
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
    /// Stack tags whose value changes (old → new), in the same shape as parameters.
    pub tags: Vec<ParameterChange>,
    /// Unified diff of the deployed template against the new one (updates only).
    pub template_diff: Option<String>,
    pub fingerprint: Fingerprint,
    /// From the config: `apply` turns termination protection on after a create.
    pub termination_protection: bool,
    /// From the config: destructive changes of this stack may be applied.
    pub allow_destructive: bool,
    /// Names of the template's NoEcho parameters.
    pub no_echo: Vec<String>,
    /// The config's `mask:` patterns for the stack.
    pub mask: Vec<String>,
    /// What a reviewer should know beyond the changes: CloudFormation's warning about the change
    /// set (it may be incomplete, say), drifted resources the plan leaves drifted, drift that
    /// could not be told.
    pub warnings: Vec<String>,
    /// Local artifacts packaged for the change set, and whether each changed.
    pub artifacts: Vec<crate::package::Artifact>,
}

impl StackPlan {
    /// A stack's entry with nothing known of it yet but where it is, where it is declared, and
    /// its status.
    pub fn new(stack: &str, region: &str, source: &str, status: PlanStatus) -> StackPlan {
        StackPlan {
            stack: stack.to_string(),
            region: region.to_string(),
            source: source.to_string(),
            status,
            stack_id: None,
            change_set_arn: None,
            change_set_name: None,
            error: None,
            changes: Vec::new(),
            parameters: Vec::new(),
            tags: Vec::new(),
            template_diff: None,
            fingerprint: Fingerprint::default(),
            termination_protection: false,
            allow_destructive: false,
            no_echo: Vec::new(),
            mask: Vec::new(),
            warnings: Vec::new(),
            artifacts: Vec::new(),
        }
    }

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
    /// Stacks planned only after an upstream this plan changes is applied.
    pub waiting: usize,
    /// Stacks of a fleet that left the config, listed only.
    pub not_in_config: usize,
    /// Stacks of a fleet that left the config, to be deleted (`--prune`; also in `to_change`).
    pub deleted: usize,
    pub add: usize,
    pub modify: usize,
    pub replace: usize,
    pub remove: usize,
    pub import: usize,
    /// Changes that remove or replace a stateful resource nothing keeps.
    pub destructive: usize,
    /// Warnings of every stack (`StackPlan::warnings`).
    pub warnings: usize,
}

impl Plan {
    pub fn summary(&self) -> PlanSummary {
        let mut s = PlanSummary::default();
        for stack in &self.stacks {
            match stack.status {
                PlanStatus::Create | PlanStatus::Update => s.to_change += 1,
                PlanStatus::Delete => {
                    s.to_change += 1;
                    s.deleted += 1;
                }
                PlanStatus::NotInConfig => s.not_in_config += 1,
                PlanStatus::NoChanges => s.unchanged += 1,
                PlanStatus::Busy => s.busy += 1,
                PlanStatus::Error => s.failed += 1,
                PlanStatus::Waiting => s.waiting += 1,
            }
            s.add += stack.count(&Action::Add);
            s.modify += stack.count(&Action::Modify) - stack.replacements();
            s.remove += stack.count(&Action::Remove);
            s.import += stack.count(&Action::Import);
            s.replace += stack.replacements();
            s.destructive += stack.destructive();
            s.warnings += stack.warnings.len();
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
