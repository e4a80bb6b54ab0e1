//! The plan document as it is on the wire (JSON, schema version 1): every field the README
//! documents, read strictly (unknown fields are refused).

use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlanDocument {
    pub version: u32,
    pub kind: String,
    pub correlation_id: String,
    pub created_at: String,
    pub stacks: Vec<StackDocument>,
    pub summary: SummaryDocument,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StackDocument {
    pub stack: String,
    pub region: String,
    pub source: String,
    pub status: String,
    pub stack_id: Option<String>,
    pub change_set_arn: Option<String>,
    pub change_set_name: Option<String>,
    pub error: Option<String>,
    pub changes: Vec<ChangeDocument>,
    pub parameters: Vec<ParameterDocument>,
    /// Stack tags whose value changes, as parameters.
    #[serde(default)]
    pub tags: Vec<ParameterDocument>,
    pub template_diff: Option<String>,
    pub fingerprint: FingerprintDocument,
    /// From the config, for `apply` to set after a create.
    #[serde(default)]
    pub termination_protection: bool,
    /// Whether any change is destructive.
    #[serde(default)]
    pub destructive: bool,
    /// From the config when planned: destructive changes of this stack may be applied. Shown
    /// to reviewers; `apply` decides from the config it is given, never from this field.
    #[serde(default)]
    pub allow_destructive: bool,
    /// Parameters declared NoEcho (names only, never values).
    #[serde(default)]
    pub no_echo: Vec<String>,
    /// The config's `mask:` patterns: whoever shows this plan masks what they match.
    #[serde(default)]
    pub mask: Vec<String>,
    /// What CloudFormation warned about the change set (e.g. that it is incomplete).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Local artifacts packaged for the change set (`resource`, `property`, `path`, `location`,
    /// `changed`).
    #[serde(default)]
    pub artifacts: Vec<crate::package::Artifact>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChangeDocument {
    pub action: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub replacement: Option<String>,
    pub scope: Vec<String>,
    pub details: Vec<DetailDocument>,
    /// True when the change removes or replaces a stateful resource nothing keeps.
    #[serde(default)]
    pub destructive: bool,
    /// Why it is destructive.
    #[serde(default)]
    pub destructive_reason: Option<String>,
    /// What happens to the old resource (`PolicyAction`): Delete, Retain, Snapshot, ...
    #[serde(default)]
    pub policy_action: Option<String>,
    /// With `plan --drift`: how the live resource differs from the deployed template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DetailDocument {
    pub attribute: String,
    pub name: Option<String>,
    pub path: Option<String>,
    pub requires_recreation: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub change_type: Option<String>,
    pub change_source: Option<String>,
    pub causing_entity: Option<String>,
    pub evaluation: Option<String>,
    /// Every cause, when CloudFormation described the property once per cause.
    #[serde(default)]
    pub causes: Vec<String>,
    /// What changed inside a JSON-valued property, place by place.
    #[serde(default)]
    pub value_changes: Vec<ValueChangeDocument>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ValueChangeDocument {
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParameterDocument {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FingerprintDocument {
    pub stack_status: Option<String>,
    pub last_updated: Option<String>,
    pub deployed_template_sha256: Option<String>,
    pub deployed_parameters_sha256: Option<String>,
    pub template_sha256: String,
    pub parameters_sha256: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SummaryDocument {
    pub stacks: usize,
    pub to_change: usize,
    pub unchanged: usize,
    pub busy: usize,
    pub failed: usize,
    pub add: usize,
    pub modify: usize,
    pub replace: usize,
    pub remove: usize,
    pub import: usize,
    #[serde(default)]
    pub destructive: usize,
    #[serde(default)]
    pub warnings: usize,
    /// Stacks planned only after an upstream this plan changes is applied.
    #[serde(default)]
    pub waiting: usize,
    /// Stacks of a fleet that left the config, listed only.
    #[serde(default)]
    pub not_in_config: usize,
    /// Stacks of a fleet that left the config, to be deleted (`plan --prune`).
    #[serde(default)]
    pub deleted: usize,
}
