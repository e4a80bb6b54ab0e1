//! Stacks that left the config: deployed stacks tagged with a fleet of the config (`fleet:`,
//! tag `cfdeploy:fleet`) that no file of it declares any more. They are listed in the plan as
//! "not in config"; with `--prune` their deletion is planned (what goes, what stays, what the
//! guard says), to be executed by `apply` like any other reviewed change.

use std::collections::BTreeSet;

use crate::cfn::CloudFormation;
use crate::config::{StackSpec, FLEET_TAG};
use crate::delete::{self, Fate, Refusal, Target};
use crate::guard::StatefulTypes;
use crate::model::{
    Action, Fingerprint, PlanStatus, ResourceChange, Stack, StackPlan, StackStatus,
};

/// What to do about stacks that left the config.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LeftOptions {
    /// Do not look (`--stack` selected part of the config: the rest is not "left").
    #[default]
    Skip,
    /// List them.
    List,
    /// List them and plan their deletion (`--prune`).
    Prune,
}

/// A fleet of the config, and what judges its stacks' deletion.
struct Declared<'a> {
    fleet: &'a str,
    /// Where the fleet is declared, shown as the entry's source.
    origin: String,
    stateful: &'a StatefulTypes,
}

/// The plan entries of the fleets' stacks that no file of the config declares, and notes for
/// the fleets that could not be looked at (the run read only part of them, or listing failed).
/// Every region the config uses is looked at, for every fleet (a region whose last stack of a
/// fleet left the config is still one the config names), and those listed in `fleet_regions`.
pub async fn left_the_config<C: CloudFormation>(
    cfn: &C,
    specs: &[StackSpec],
    options: LeftOptions,
) -> (Vec<StackPlan>, Vec<String>) {
    let mut notes = Vec::new();
    if options == LeftOptions::Skip {
        return (Vec::new(), notes);
    }
    // A stack is the config's by name and region: one the config moved to another region is
    // still deployed in the old one, and has left it there.
    let declared: BTreeSet<(&str, &str)> = specs
        .iter()
        .map(|s| (s.name.as_str(), s.region.as_str()))
        .collect();
    let mut fleets: Vec<Declared<'_>> = Vec::new();
    for spec in specs {
        let Some(fleet) = &spec.fleet else { continue };
        if !fleet.covered {
            let note = format!(
                "fleet `{}`: stacks that left the config are looked for only when the folder of {} is read whole (--config with that folder or one above it)",
                fleet.name,
                fleet.origin.display()
            );
            if !notes.contains(&note) {
                notes.push(note);
            }
            continue;
        }
        if !fleets.iter().any(|f| f.fleet == fleet.name) {
            fleets.push(Declared {
                fleet: &fleet.name,
                origin: fleet.origin.display().to_string(),
                stateful: &spec.stateful_types,
            });
        }
    }
    let regions = crate::config::fleet_regions(specs);
    let mut entries = Vec::new();
    for region in regions.iter().map(String::as_str) {
        let deployed = match cfn.describe_stacks(region).await {
            Ok(stacks) => stacks,
            Err(e) => {
                notes.push(format!(
                    "{region}: could not list the stacks to find those that left the config ({e}); this plan does not show them"
                ));
                continue;
            }
        };
        for stack in deployed {
            // A nested stack carries its parent's tags, fleet tag included: it goes (or stays)
            // with its parent, never on its own.
            // One being deleted already is leaving: nothing to list or plan.
            if declared.contains(&(stack.name.as_str(), region))
                || stack.parent_id.is_some()
                || stack.status == StackStatus::DeleteInProgress
            {
                continue;
            }
            let Some(fleet) = fleets.iter().find(|f| tagged(&stack, f.fleet)) else {
                continue;
            };
            let mut entry = entry(&stack, region, fleet);
            if options == LeftOptions::Prune {
                plan_deletion(cfn, &mut entry, fleet.stateful).await;
            }
            entries.push(entry);
        }
    }
    (entries, notes)
}

fn tagged(stack: &Stack, fleet: &str) -> bool {
    stack.tags.iter().any(|(k, v)| k == FLEET_TAG && v == fleet)
}

fn entry(stack: &Stack, region: &str, fleet: &Declared<'_>) -> StackPlan {
    let mut entry = StackPlan::new(&stack.name, region, &fleet.origin, PlanStatus::NotInConfig);
    entry.stack_id = Some(stack.stack_id.clone());
    entry.fingerprint = Fingerprint {
        stack_status: Some(stack.status.clone()),
        last_updated: stack.last_updated.clone(),
        ..Fingerprint::default()
    };
    entry.termination_protection = stack.termination_protection;
    entry
}

/// Plans the entry's deletion: every resource as a removal (its `DeletionPolicy` as the policy
/// action), stateful ones marked for the guard; refused ones stay listed with the reason.
async fn plan_deletion<C: CloudFormation>(
    cfn: &C,
    entry: &mut StackPlan,
    stateful: &StatefulTypes,
) {
    let target = Target {
        stack: entry.stack.clone(),
        region: entry.region.clone(),
        stateful: stateful.clone(),
        // The guard decides at apply, as for any destructive change: marked here, not refused.
        allow_destructive: true,
    };
    let d = delete::plan(cfn, &target, &[]).await;
    match &d.refusal {
        None => {}
        Some(Refusal::Absent) => {
            entry.error = Some("deleted since it was listed; nothing to delete".into());
            return;
        }
        Some(_) => {
            entry.status = PlanStatus::Error;
            entry.error = Some(format!(
                "cannot be deleted: {}",
                delete::not_executed(&d).message.unwrap_or_default()
            ));
            return;
        }
    }
    entry.status = PlanStatus::Delete;
    entry.fingerprint.stack_status = d.status.clone();
    entry.changes = d
        .resources
        .iter()
        .map(|r| ResourceChange {
            action: Action::Remove,
            logical_id: r.logical_id.clone(),
            physical_id: None,
            resource_type: r.resource_type.clone(),
            replacement: None,
            scope: Vec::new(),
            details: Vec::new(),
            destructive: r.destructive.clone(),
            policy_action: Some(
                match r.fate {
                    Fate::Retained(_) | Fate::KeptOnRequest => "Retain",
                    Fate::Snapshot => "Snapshot",
                    Fate::Deleted => "Delete",
                }
                .to_string(),
            ),
            drift: None,
        })
        .collect();
}
