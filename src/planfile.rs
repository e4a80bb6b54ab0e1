//! The saved plan: its one wire format (the JSON plan, schema version 1, documented in the
//! README), its writer, and its reader. `plan --format json` prints the same document that
//! `plan --out` writes, so it carries what `apply` needs to check it executes what was reviewed.
//! A plan file travels between jobs: it is read as untrusted input (a regular file, bounded).

use std::path::Path;

use anyhow::{bail, Context};

use crate::mask::Masked;
use crate::model::{Plan, StackPlan};

mod schema;
pub use schema::*;

pub fn document(plan: &Plan) -> PlanDocument {
    let s = plan.summary();
    PlanDocument {
        version: SCHEMA_VERSION,
        kind: "plan".to_string(),
        correlation_id: plan.correlation_id.clone(),
        created_at: plan.created_at.clone(),
        stacks: plan.stacks.iter().map(stack_document).collect(),
        summary: SummaryDocument {
            stacks: plan.stacks.len(),
            to_change: s.to_change,
            unchanged: s.unchanged,
            busy: s.busy,
            waiting: s.waiting,
            not_in_config: s.not_in_config,
            deleted: s.deleted,
            failed: s.failed,
            add: s.add,
            modify: s.modify,
            replace: s.replace,
            remove: s.remove,
            import: s.import,
            destructive: s.destructive,
            warnings: s.warnings,
        },
    }
}

fn stack_document(s: &StackPlan) -> StackDocument {
    StackDocument {
        stack: s.stack.clone(),
        region: s.region.clone(),
        source: s.source.clone(),
        status: s.status.as_str().to_string(),
        stack_id: s.stack_id.clone(),
        change_set_arn: s.change_set_arn.clone(),
        change_set_name: s.change_set_name.clone(),
        error: s.error.clone(),
        changes: s
            .changes
            .iter()
            .map(|c| ChangeDocument {
                action: c.action.as_str().to_string(),
                logical_id: c.logical_id.clone(),
                physical_id: c.physical_id.clone(),
                resource_type: c.resource_type.clone(),
                replacement: c.replacement.as_ref().map(|r| r.as_str().to_string()),
                scope: c.scope.clone(),
                destructive: c.destructive.is_some(),
                destructive_reason: c.destructive.clone(),
                policy_action: c.policy_action.clone(),
                drift: c.drift.clone(),
                details: c
                    .details
                    .iter()
                    .map(|d| DetailDocument {
                        attribute: d.attribute.clone(),
                        name: d.name.clone(),
                        path: d.path.clone(),
                        requires_recreation: d
                            .requires_recreation
                            .as_ref()
                            .map(|r| r.as_str().to_string()),
                        before: d.before.clone(),
                        after: d.after.clone(),
                        change_type: d.change_type.clone(),
                        change_source: d.change_source.clone(),
                        causing_entity: d.causing_entity.clone(),
                        evaluation: d.evaluation.clone(),
                        causes: d.causes.clone(),
                        value_changes: d
                            .value_changes
                            .iter()
                            .map(|v| ValueChangeDocument {
                                path: v.path.clone(),
                                before: v.before.clone(),
                                after: v.after.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
        parameters: s
            .parameters
            .iter()
            .map(|p| ParameterDocument {
                key: p.key.clone(),
                old: p.old.clone(),
                new: p.new.clone(),
            })
            .collect(),
        tags: s
            .tags
            .iter()
            .map(|p| ParameterDocument {
                key: p.key.clone(),
                old: p.old.clone(),
                new: p.new.clone(),
            })
            .collect(),
        template_diff: s.template_diff.clone(),
        fingerprint: FingerprintDocument {
            stack_status: s.fingerprint.stack_status.as_ref().map(|st| st.to_string()),
            last_updated: s.fingerprint.last_updated.clone(),
            deployed_template_sha256: s.fingerprint.deployed_template_sha256.clone(),
            deployed_parameters_sha256: s.fingerprint.deployed_parameters_sha256.clone(),
            template_sha256: s.fingerprint.template_sha256.clone(),
            parameters_sha256: s.fingerprint.parameters_sha256.clone(),
        },
        termination_protection: s.termination_protection,
        destructive: s.destructive() > 0,
        allow_destructive: s.allow_destructive,
        no_echo: s.no_echo.clone(),
        mask: s.mask.clone(),
        warnings: s.warnings.clone(),
        artifacts: s.artifacts.clone(),
    }
}

/// Plan files larger than this are refused: a real one is a few hundred bytes per change.
const MAX_PLAN_BYTES: u64 = 64 * 1024 * 1024;

/// Writes the plan as `plan --out` does.
pub fn write(path: &Path, plan: &Masked<Plan>) -> anyhow::Result<()> {
    let mut text = serde_json::to_vec_pretty(&document(plan))?;
    text.push(b'\n');
    std::fs::write(path, text)
        .with_context(|| format!("cannot write the plan to {}", path.display()))
}

/// Reads a plan written by `plan --out`: a regular file of bounded size, of this kind and version,
/// whose every entry makes sense.
pub fn read(path: &Path) -> anyhow::Result<Plan> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read the plan {}", path.display()))?;
    if !meta.is_file() {
        bail!(
            "{} is not a regular file; pass the plan written by `cfdeploy plan --out FILE`",
            path.display()
        );
    }
    if meta.len() > MAX_PLAN_BYTES {
        bail!(
            "{} is {} bytes, larger than any plan cfdeploy writes ({MAX_PLAN_BYTES} at most); pass the plan written by `cfdeploy plan --out FILE`",
            path.display(),
            meta.len()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the plan {}", path.display()))?;
    let doc: PlanDocument = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a cfdeploy plan (write one with `cfdeploy plan --out FILE`)",
            path.display()
        )
    })?;
    if doc.kind != "plan" || doc.version != SCHEMA_VERSION {
        bail!(
            "{}: a `{}` document of version {}; this cfdeploy reads `plan` documents of version {SCHEMA_VERSION}",
            path.display(),
            doc.kind,
            doc.version,
        );
    }
    plan_from_document(&doc).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The status a stack document records; an unknown one, or a create/update without its change
/// set, means the file was not written by `plan --out` (or was edited).
fn stack_status(s: &StackDocument) -> Result<crate::model::PlanStatus, String> {
    use crate::model::PlanStatus;
    let status = match s.status.as_str() {
        "create" => PlanStatus::Create,
        "update" => PlanStatus::Update,
        "no-changes" => PlanStatus::NoChanges,
        "busy" => PlanStatus::Busy,
        "error" => PlanStatus::Error,
        "waiting" => PlanStatus::Waiting,
        "not-in-config" => PlanStatus::NotInConfig,
        "delete" => PlanStatus::Delete,
        other => {
            return Err(format!(
                "stack `{}` has an unknown status `{other}`",
                s.stack
            ))
        }
    };
    if status == PlanStatus::Delete && s.stack_id.is_none() {
        return Err(format!(
            "stack `{}` is to be deleted but has no stack_id",
            s.stack
        ));
    }
    if matches!(status, PlanStatus::Create | PlanStatus::Update) && s.change_set_arn.is_none() {
        return Err(format!(
            "stack `{}` is `{}` but has no change_set_arn",
            s.stack, s.status
        ));
    }
    Ok(status)
}

/// The plan a document describes: the inverse of [`document`], for acting on a saved plan again
/// (`apply --plan` and `comment` read `plan --out` files).
pub(crate) fn plan_from_document(doc: &PlanDocument) -> Result<Plan, String> {
    use crate::model::*;
    Ok(Plan {
        correlation_id: doc.correlation_id.clone(),
        created_at: doc.created_at.clone(),
        stacks: doc
            .stacks
            .iter()
            .map(|s| -> Result<StackPlan, String> {
                Ok(StackPlan {
                    stack: s.stack.clone(),
                    region: s.region.clone(),
                    source: s.source.clone(),
                    status: stack_status(s)?,
                    stack_id: s.stack_id.clone(),
                    change_set_arn: s.change_set_arn.clone(),
                    change_set_name: s.change_set_name.clone(),
                    error: s.error.clone(),
                    changes: s
                        .changes
                        .iter()
                        .map(|c| ResourceChange {
                            action: Action::parse(&c.action),
                            logical_id: c.logical_id.clone(),
                            physical_id: c.physical_id.clone(),
                            resource_type: c.resource_type.clone(),
                            replacement: c.replacement.as_deref().map(Replacement::parse),
                            scope: c.scope.clone(),
                            details: c
                                .details
                                .iter()
                                .map(|d| PropertyChange {
                                    attribute: d.attribute.clone(),
                                    name: d.name.clone(),
                                    path: d.path.clone(),
                                    requires_recreation: d
                                        .requires_recreation
                                        .as_deref()
                                        .map(RequiresRecreation::parse),
                                    before: d.before.clone(),
                                    after: d.after.clone(),
                                    change_type: d.change_type.clone(),
                                    change_source: d.change_source.clone(),
                                    causing_entity: d.causing_entity.clone(),
                                    evaluation: d.evaluation.clone(),
                                    causes: d.causes.clone(),
                                    value_changes: d
                                        .value_changes
                                        .iter()
                                        .map(|v| ValueChange {
                                            path: v.path.clone(),
                                            before: v.before.clone(),
                                            after: v.after.clone(),
                                        })
                                        .collect(),
                                })
                                .collect(),
                            policy_action: c.policy_action.clone(),
                            drift: c.drift.clone(),
                            destructive: c.destructive.then(|| {
                                c.destructive_reason.clone().unwrap_or_else(|| {
                                    format!("changes stateful {} {}", c.resource_type, c.logical_id)
                                })
                            }),
                        })
                        .collect(),
                    parameters: s
                        .parameters
                        .iter()
                        .map(|p| ParameterChange {
                            key: p.key.clone(),
                            old: p.old.clone(),
                            new: p.new.clone(),
                        })
                        .collect(),
                    tags: s
                        .tags
                        .iter()
                        .map(|p| ParameterChange {
                            key: p.key.clone(),
                            old: p.old.clone(),
                            new: p.new.clone(),
                        })
                        .collect(),
                    template_diff: s.template_diff.clone(),
                    fingerprint: Fingerprint {
                        stack_status: s
                            .fingerprint
                            .stack_status
                            .as_deref()
                            .map(StackStatus::parse),
                        last_updated: s.fingerprint.last_updated.clone(),
                        deployed_template_sha256: s.fingerprint.deployed_template_sha256.clone(),
                        deployed_parameters_sha256: s
                            .fingerprint
                            .deployed_parameters_sha256
                            .clone(),
                        template_sha256: s.fingerprint.template_sha256.clone(),
                        parameters_sha256: s.fingerprint.parameters_sha256.clone(),
                    },
                    termination_protection: s.termination_protection,
                    allow_destructive: s.allow_destructive,
                    no_echo: s.no_echo.clone(),
                    mask: s.mask.clone(),
                    warnings: s.warnings.clone(),
                    artifacts: s.artifacts.clone(),
                })
            })
            .collect::<Result<_, _>>()?,
    })
}
