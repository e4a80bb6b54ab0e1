//! A reviewed deletion of a stack that left the config (`plan --prune`): before it runs, the
//! stack must still be the one the plan saw (same id, status and last update), marked with a
//! fleet the config given to apply declares in that region (a plan file cannot point the
//! deletion at any other stack), still absent from the config, not protected and not busy; what
//! it deletes is read again from the deployed template and judged by the guard with that fleet's
//! stateful types, as for any destructive change.

use super::{refused, settled};
use crate::cfn::CloudFormation;
use crate::config::{StackSpec, FLEET_TAG};
use crate::delete::{self, Target};
use crate::guard::StatefulTypes;
use crate::model::{OutcomeKind, StackPlan, StackStatus};
use crate::rollout::StackAction;
use crate::run::{request_token, Step};

/// A fleet of the config given to apply, in one region, and what is stateful for it.
#[derive(Debug, Clone)]
pub struct FleetRule {
    pub name: String,
    pub region: String,
    pub stateful: StatefulTypes,
}

/// The fleets the config declares, where it was read whole (`Fleet::covered`), in every region
/// `plan` looks in for their stacks (`config::fleet_regions`).
pub fn fleet_rules(specs: &[StackSpec]) -> Vec<FleetRule> {
    let regions = crate::config::fleet_regions(specs);
    let mut rules: Vec<FleetRule> = Vec::new();
    for spec in specs {
        let Some(fleet) = spec.fleet.as_ref().filter(|f| f.covered) else {
            continue;
        };
        if rules.iter().any(|r| r.name == fleet.name) {
            continue;
        }
        rules.extend(regions.iter().map(|region| FleetRule {
            name: fleet.name.clone(),
            region: region.to_string(),
            stateful: spec.stateful_types.clone(),
        }));
    }
    rules
}

/// What the config at apply time says about a deletion.
pub(super) struct Judged<'a> {
    /// The stack is declared in the config again.
    pub in_config: bool,
    pub fleets: &'a [FleetRule],
    /// `--allow-destructive`.
    pub allow_destructive: bool,
}

/// `Ok` carries the deletion for an entry that passed; `Err` the action for one that did not.
pub(super) async fn decide_deletion<C: CloudFormation>(
    cfn: &C,
    entry: &StackPlan,
    correlation_id: &str,
    judged: &Judged<'_>,
) -> Result<StackAction, StackAction> {
    if judged.in_config {
        return Err(refused(
            None,
            "it is in the stack config again, so it is not deleted; nothing was executed — plan again",
        ));
    }
    let stack_id = entry
        .stack_id
        .as_deref()
        .ok_or_else(|| refused(None, "the plan has no stack id for it"))?;
    let stack = match cfn.describe_stack(&entry.region, stack_id).await {
        Ok(Some(stack)) => stack,
        Ok(None) => {
            return Err(settled(
                OutcomeKind::Unchanged,
                None,
                Some("it does not exist any more; nothing to delete".into()),
            ))
        }
        Err(e) => {
            return Err(refused(
                None,
                format!("could not read it ({e}); nothing was deleted — apply again"),
            ))
        }
    };
    let token = request_token(correlation_id, Step::Delete, &entry.stack);
    let ours = || crate::watch::started_with(cfn, &entry.region, stack_id, &token);
    match stack.status {
        // An earlier apply of this plan deleted it, or is deleting it (a runner lost mid-way):
        // the same token makes a second DeleteStack a no-op, so the deletion is followed again.
        StackStatus::DeleteComplete => {
            let message = if ours().await == Some(true) {
                "it was deleted already (by an earlier apply of this plan)"
            } else {
                "it was deleted since the plan; nothing to delete"
            };
            return Err(settled(
                OutcomeKind::Deleted,
                Some(StackStatus::DeleteComplete),
                Some(message.into()),
            ));
        }
        StackStatus::DeleteInProgress if ours().await == Some(true) => {}
        ref status if status.is_in_progress() => {
            return Err(refused(
                Some(status.clone()),
                format!("{status}: an operation is running on it; nothing was deleted — plan again when it has finished"),
            ))
        }
        ref status => {
            let planned = entry.fingerprint.stack_status.as_ref();
            if planned != Some(status) || entry.fingerprint.last_updated != stack.last_updated {
                return Err(refused(
                    Some(status.clone()),
                    "it changed since the plan; nothing was deleted — plan again",
                ));
            }
        }
    }
    if stack.parent_id.is_some() {
        return Err(refused(
            None,
            "it is nested in another stack and goes only with its parent; nothing was deleted",
        ));
    }
    let tagged = stack
        .tags
        .iter()
        .find(|(k, _)| k == FLEET_TAG)
        .map(|(_, v)| v.as_str());
    let Some(rule) = judged
        .fleets
        .iter()
        .find(|r| Some(r.name.as_str()) == tagged && r.region == entry.region)
    else {
        return Err(refused(
            None,
            match tagged {
                None => format!("it no longer carries the `{FLEET_TAG}` tag; nothing was deleted — plan again"),
                Some(fleet) => format!(
                    "its `{FLEET_TAG}` tag names `{fleet}`, which is no fleet the config given to apply declares in {} (read whole; a region no stack of the config uses counts only while the fleet's `fleet_regions` lists it); nothing was deleted",
                    entry.region
                ),
            },
        ));
    };
    // What goes is read again from the deployed template: the plan file can add a warning,
    // never take one away.
    let target = Target {
        stack: entry.stack.clone(),
        region: entry.region.clone(),
        stateful: rule.stateful.clone(),
        allow_destructive: true,
    };
    let mut deletion = delete::plan(cfn, &target, &[]).await;
    if deletion.stack_id.as_deref() != Some(stack_id) && deletion.refusal.is_none() {
        return Err(refused(
            None,
            "its name now belongs to another stack; nothing was deleted — plan again",
        ));
    }
    if deletion.refusal.is_some() && stack.status != StackStatus::DeleteInProgress {
        let outcome = delete::not_executed(&deletion);
        return Err(settled(outcome.kind, outcome.status, outcome.message));
    }
    deletion.refusal = None;
    deletion.stack_id = Some(stack_id.to_string());
    for (going, planned) in deletion.resources.iter_mut().filter_map(|going| {
        let planned = entry
            .changes
            .iter()
            .find(|c| c.logical_id == going.logical_id)?;
        Some((going, planned))
    }) {
        if going.destructive.is_none() {
            going.destructive.clone_from(&planned.destructive);
        }
    }
    let destructive: Vec<&str> = deletion
        .resources
        .iter()
        .filter_map(|r| r.destructive.as_deref())
        .collect();
    if !destructive.is_empty() && !judged.allow_destructive {
        return Err(settled(
            OutcomeKind::Blocked,
            None,
            Some(format!(
                "{}; nothing was deleted. Pass --allow-destructive to apply",
                destructive.join("; ")
            )),
        ));
    }
    Ok(StackAction::Delete {
        deletion: Box::new(deletion),
    })
}
