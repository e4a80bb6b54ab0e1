//! Turns one entry of a reviewed plan into what the rollout does with the stack: execute its
//! change set, attach to an operation already running, or nothing (with the reason). Before a
//! change set may run, it must still be this stack's and executable, and the stack must be as
//! the plan saw it.

use crate::cfn::change_set::{read_rest, ChangeSetError};
use crate::cfn::{CfnError, CloudFormation};
use crate::config::StackSpec;
use crate::model::{
    ChangeSetStatus, Execution, OutcomeKind, PlanStatus, ResourceChange, StackPlan, StackStatus,
};
use crate::rollout::{RolloutStack, StackAction};
use crate::template::Template;

/// A plan entry checked against CloudFormation.
#[derive(Debug, Clone)]
pub struct Verified {
    pub stack: RolloutStack,
    /// The change set verified to be this stack's: the only one cleanup may delete.
    pub owned_change_set: Option<String>,
}

/// Checks one plan entry against CloudFormation and against `spec`, the stack's config at apply
/// time: every safety decision (region, destructive allowance, what is stateful) comes from the
/// config and `--allow-destructive`, never from the plan file. A stack the config does not have is
/// refused, unless the entry deletes a stack that left the config: `fleets` (the config's) then
/// decide.
pub async fn verify<C: CloudFormation>(
    cfn: &C,
    entry: &StackPlan,
    correlation_id: &str,
    spec: Option<&StackSpec>,
    fleets: &[FleetRule],
    allow_destructive: bool,
) -> Verified {
    let mut verified = Verified {
        stack: RolloutStack {
            stack: entry.stack.clone(),
            region: entry.region.clone(),
            action: settled(OutcomeKind::Unchanged, None, None),
            changes: entry.changes.len(),
            termination_protection: entry.termination_protection,
            outputs: spec.is_some_and(|s| !s.template.outputs.is_empty()),
            after: spec.map(|s| s.depends_on.clone()).unwrap_or_default(),
        },
        owned_change_set: None,
    };
    verified.stack.action = match decide(
        cfn,
        entry,
        correlation_id,
        (spec, fleets),
        allow_destructive,
        &mut verified,
    )
    .await
    {
        Ok(action) | Err(action) => action,
    };
    verified
}

/// An entry that could not be verified at all (its check ended abnormally).
pub fn refused_entry(entry: &StackPlan) -> Verified {
    Verified {
        stack: RolloutStack {
            stack: entry.stack.clone(),
            region: entry.region.clone(),
            action: refused(
                None,
                "it could not be verified; nothing was executed — plan again",
            ),
            changes: entry.changes.len(),
            termination_protection: entry.termination_protection,
            outputs: false,
            after: Vec::new(),
        },
        owned_change_set: None,
    }
}

fn settled(kind: OutcomeKind, status: Option<StackStatus>, message: Option<String>) -> StackAction {
    StackAction::Settled {
        kind,
        status,
        message,
    }
}

fn refused(status: Option<StackStatus>, why: impl Into<String>) -> StackAction {
    settled(OutcomeKind::Refused, status, Some(why.into()))
}

/// `Ok` carries the action for a stack that passed; `Err` the action for one that did not.
async fn decide<C: CloudFormation>(
    cfn: &C,
    entry: &StackPlan,
    correlation_id: &str,
    (spec, fleets): (Option<&StackSpec>, &[FleetRule]),
    allow_destructive: bool,
    verified: &mut Verified,
) -> Result<StackAction, StackAction> {
    match entry.status {
        PlanStatus::NoChanges => {
            return Ok(settled(
                OutcomeKind::Unchanged,
                entry.fingerprint.stack_status.clone(),
                None,
            ))
        }
        PlanStatus::Waiting => {
            let why = entry
                .error
                .as_deref()
                .unwrap_or("it waits for its upstream");
            return Err(settled(
                OutcomeKind::Deferred,
                None,
                Some(format!("{why}; nothing was executed for it — plan again")),
            ));
        }
        PlanStatus::Error => {
            let why = entry.error.as_deref().unwrap_or("the plan failed");
            return Err(refused(None, format!("not planned: {why}")));
        }
        PlanStatus::NotInConfig => {
            return Ok(settled(
                OutcomeKind::Unchanged,
                entry.fingerprint.stack_status.clone(),
                Some(
                    "not in the stack config; listed only (`plan --prune` plans its deletion)"
                        .into(),
                ),
            ))
        }
        PlanStatus::Delete => {
            let judged = prune::Judged {
                in_config: spec.is_some_and(|s| s.region == entry.region),
                fleets,
                allow_destructive,
            };
            return prune::decide_deletion(cfn, entry, correlation_id, &judged).await;
        }
        PlanStatus::Busy | PlanStatus::Create | PlanStatus::Update => {}
    }
    let Some(spec) = spec else {
        return Err(refused(
            None,
            format!(
                "`{}` is not in the stack config given to apply, which decides its region and whether destructive changes are allowed; nothing was executed — apply with the config the plan was made from",
                entry.stack
            ),
        ));
    };
    if spec.region != entry.region {
        return Err(refused(
            None,
            format!(
                "the plan puts it in {}, its config in {}; nothing was executed — plan again",
                entry.region, spec.region
            ),
        ));
    }

    if entry.status == PlanStatus::Busy {
        return Err(refused(
            None,
            "it was busy when planned, so there is no change set to execute; plan again",
        ));
    }
    // CloudFormation itself tracks whether the stack moved since the change set was made (the
    // change set goes OBSOLETE) and whether it ran (EXECUTE_IN_PROGRESS, then removed): one read
    // of the change set verifies the entry.
    let stale = |why: Why| match why {
        Why::Stale(why) => refused(None, format!("{why}; nothing was executed — plan again")),
        Why::Unreadable(why) => refused(
            None,
            format!(
                "{why}; nothing was executed and the reviewed change set is kept — apply again"
            ),
        ),
        Why::Ran(action) => action,
    };
    let (arn, changes) = check_change_set(cfn, entry, correlation_id, verified)
        .await
        .map_err(stale)?;
    let deployed = deployed_template_if_needed(cfn, entry, spec, &changes)
        .await
        .map_err(stale)?;
    // What CloudFormation says the change set does, judged by the config's rules, together with
    // what the plan file says: a plan file can add a warning, never take one away.
    let mut marked = changes;
    crate::guard::mark(
        &mut marked,
        &spec.stateful_types,
        &spec.template,
        deployed.as_ref(),
    );
    let mut destructive: Vec<&str> = marked
        .iter()
        .filter_map(|c| c.destructive.as_deref())
        .collect();
    for reason in entry
        .changes
        .iter()
        .filter_map(|c| c.destructive.as_deref())
    {
        if !destructive.contains(&reason) {
            destructive.push(reason);
        }
    }
    if !destructive.is_empty() && !allow_destructive && !spec.allow_destructive {
        return Err(settled(
            OutcomeKind::Blocked,
            None,
            Some(format!(
                "{}; nothing was executed. Pass --allow-destructive, or set `allow_destructive: true` for the stack",
                destructive.join("; ")
            )),
        ));
    }
    Ok(StackAction::Execute {
        change_set_arn: arn,
        create: entry.status == PlanStatus::Create,
    })
}

/// Why an entry cannot run now.
enum Why {
    /// The plan no longer matches CloudFormation: plan again.
    Stale(String),
    /// CloudFormation could not be read (throttled, unreachable): try again later.
    Unreadable(String),
    /// The reviewed change set ran already (an earlier apply of this plan): this is what to do
    /// instead (attach to it, or report how it ended).
    Ran(StackAction),
}

impl From<&str> for Why {
    fn from(why: &str) -> Why {
        Why::Stale(why.to_string())
    }
}

impl From<String> for Why {
    fn from(why: String) -> Why {
        Why::Stale(why)
    }
}

fn transient(e: &CfnError) -> bool {
    matches!(e, CfnError::Throttled { .. } | CfnError::Transport { .. })
}

/// The change set still exists, belongs to this stack in this region, and can be executed (so the
/// stack has not moved since it was made). Returns its ARN and every resource change
/// CloudFormation says it makes. A change set verified to be the stack's is recorded in
/// `verified` (the only one cleanup may delete).
async fn check_change_set<C: CloudFormation>(
    cfn: &C,
    entry: &StackPlan,
    correlation_id: &str,
    verified: &mut Verified,
) -> Result<(String, Vec<ResourceChange>), Why> {
    let arn = entry
        .change_set_arn
        .as_deref()
        .ok_or("the plan has no change set for it")?;
    // arn:aws:cloudformation:REGION:ACCOUNT:changeSet/NAME/ID
    let arn_region = arn.split(':').nth(3).unwrap_or_default();
    if arn_region != entry.region {
        return Err(format!(
            "its change set is not in {} (it names {})",
            entry.region,
            if arn_region.is_empty() {
                "no region"
            } else {
                arn_region
            }
        )
        .into());
    }
    let page = match cfn
        .describe_change_set(&entry.region, arn, false, None)
        .await
    {
        Ok(page) => page,
        Err(e)
            if matches!(
                e.code(),
                Some("ChangeSetNotFound" | "ChangeSetNotFoundException")
            ) =>
        {
            return Err(match ran_earlier(cfn, entry, correlation_id).await {
                Some(action) => Why::Ran(action),
                None => Why::Stale("its change set no longer exists".to_string()),
            })
        }
        Err(e) if transient(&e) => {
            return Err(Why::Unreadable(format!("cannot read its change set: {e}")))
        }
        Err(e) => return Err(Why::Stale(format!("cannot read its change set: {e}"))),
    };
    if let Some(name) = page.stack_name.as_deref().filter(|n| *n != entry.stack) {
        return Err(format!("its change set belongs to another stack ({name})").into());
    }
    if let (Some(expected), Some(actual)) = (entry.stack_id.as_deref(), page.stack_id.as_deref()) {
        if actual != expected {
            return Err(format!("its change set belongs to another stack ({actual})").into());
        }
    }
    let execution = page.execution_status.as_deref().unwrap_or("UNKNOWN");
    match Execution::parse(page.execution_status.as_deref()) {
        Execution::Available if page.status == ChangeSetStatus::CreateComplete => {}
        // The reviewed change set itself is running or ran (a runner that died mid-apply, say).
        Execution::Ran => {
            return Err(match attach_or_report(cfn, entry).await {
                Some(action) => Why::Ran(action),
                None => Why::Unreadable(format!(
                    "its change set is {execution} but the stack cannot be read"
                )),
            })
        }
        Execution::Obsolete => {
            verified.owned_change_set = Some(arn.to_string());
            return Err(
                "the stack changed since the plan (CloudFormation marked its change set OBSOLETE)"
                    .into(),
            );
        }
        _ => {
            return Err(format!(
                "its change set cannot be executed any more (status {:?}, execution status {execution})",
                page.status
            )
            .into())
        }
    }
    verified.owned_change_set = Some(arn.to_string());
    let changes = read_rest(
        cfn,
        &entry.region,
        arn,
        false,
        page.changes,
        page.next_token,
    )
    .await
    .map_err(|e| match e {
        ChangeSetError::Cfn(e) if transient(&e) => {
            Why::Unreadable(format!("cannot read its change set: {e}"))
        }
        e => Why::Stale(format!("cannot read its change set: {e}")),
    })?;
    Ok((arn.to_string(), changes))
}

/// The deployed template, read only when the guard needs it: to judge a stateful resource the
/// change set removes by its `DeletionPolicy`.
async fn deployed_template_if_needed<C: CloudFormation>(
    cfn: &C,
    entry: &StackPlan,
    spec: &StackSpec,
    changes: &[ResourceChange],
) -> Result<Option<Template>, Why> {
    let needed = entry.status == PlanStatus::Update
        && changes.iter().any(|c| {
            c.action == crate::model::Action::Remove
                && spec.stateful_types.contains(&c.resource_type)
        });
    if !needed {
        return Ok(None);
    }
    let template = cfn
        .get_template(&entry.region, &entry.stack)
        .await
        .map_err(|e| {
            let why = format!("cannot read its template: {e}");
            if transient(&e) {
                Why::Unreadable(why)
            } else {
                Why::Stale(why)
            }
        })?;
    Ok(Template::parse(template).ok())
}

mod prune;
pub use prune::{fleet_rules, FleetRule};
mod ran;
use ran::{attach_or_report, ran_earlier};
