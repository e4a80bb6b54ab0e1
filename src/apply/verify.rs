//! Turns one entry of a reviewed plan into what the rollout does with the stack: execute its
//! change set, attach to an operation already running, or nothing (with the reason). Before a
//! change set may run, it must still be this stack's and executable, and the stack must be as
//! the plan saw it.

use crate::cfn::change_set::{read_rest, ChangeSetError};
use crate::cfn::{CfnError, CloudFormation};
use crate::config::StackSpec;
use crate::fingerprint::{deployed_parameters_sha256, sha256_hex};
use crate::model::{
    ChangeSetStatus, OutcomeKind, PlanStatus, ResourceChange, Stack, StackPlan, StackStatus,
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

/// Checks one plan entry. `allow_destructive` is `--allow-destructive`; a stack's own
/// `allow_destructive` comes from its entry.
/// Checks one plan entry against CloudFormation and against `spec`, the stack's config at apply
/// time: every safety decision (region, destructive allowance, what is stateful) comes from the
/// config and `--allow-destructive`, never from the plan file. A stack the config does not have is
/// refused.
pub async fn verify<C: CloudFormation>(
    cfn: &C,
    entry: &StackPlan,
    spec: Option<&StackSpec>,
    allow_destructive: bool,
) -> Verified {
    let mut verified = Verified {
        stack: RolloutStack {
            stack: entry.stack.clone(),
            region: entry.region.clone(),
            action: settled(OutcomeKind::Unchanged, None, None),
            changes: entry.changes.len(),
            termination_protection: entry.termination_protection,
        },
        owned_change_set: None,
    };
    verified.stack.action = match decide(cfn, entry, spec, allow_destructive, &mut verified).await {
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
    spec: Option<&StackSpec>,
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
        PlanStatus::Error => {
            let why = entry.error.as_deref().unwrap_or("the plan failed");
            return Err(refused(None, format!("not planned: {why}")));
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

    // An operation already running (a CI runner died mid-apply, say) is attached to, never doubled.
    let current = cfn
        .describe_stack(&entry.region, &entry.stack)
        .await
        .map_err(|e| refused(None, e.to_string()))?;
    let status = current.as_ref().map(|s| s.status.clone());
    if let Some(stack) = current.as_ref().filter(|s| s.status.is_in_progress()) {
        return Ok(StackAction::Attach {
            status: stack.status.clone(),
        });
    }
    if entry.status == PlanStatus::Busy {
        return Err(refused(
            status,
            "it was busy when planned, so there is no change set to execute; plan again",
        ));
    }
    let stale = |status: &Option<StackStatus>, why: Why| match why {
        Why::Stale(why) => refused(
            status.clone(),
            format!("{why}; nothing was executed — plan again"),
        ),
        Why::Unreadable(why) => refused(
            status.clone(),
            format!(
                "{why}; nothing was executed and the reviewed change set is kept — apply again"
            ),
        ),
    };
    let (arn, changes) = check_change_set(cfn, entry, current.as_ref())
        .await
        .map_err(|why| stale(&status, why))?;
    let deployed = match check_stack(cfn, entry, current.as_ref()).await {
        Ok(deployed) => deployed,
        Err(why) => {
            // Only a change set verified to be this stack's, and refused for good, may be
            // deleted.
            if matches!(why, Why::Stale(_)) {
                verified.owned_change_set = Some(arn.clone());
            }
            return Err(stale(&status, why));
        }
    };
    verified.owned_change_set = Some(arn.clone());

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
            status,
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

/// The change set still exists, belongs to this stack in this region, and can be executed.
/// Returns its ARN and every resource change CloudFormation says it makes.
async fn check_change_set<C: CloudFormation>(
    cfn: &C,
    entry: &StackPlan,
    current: Option<&Stack>,
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
    let page = cfn
        .describe_change_set(&entry.region, arn, false, None)
        .await
        .map_err(|e| match e.code() {
            Some("ChangeSetNotFound") | Some("ChangeSetNotFoundException") => {
                Why::Stale("its change set no longer exists".to_string())
            }
            _ if transient(&e) => Why::Unreadable(format!("cannot read its change set: {e}")),
            _ => Why::Stale(format!("cannot read its change set: {e}")),
        })?;
    if let Some(name) = page.stack_name.as_deref().filter(|n| *n != entry.stack) {
        return Err(format!("its change set belongs to another stack ({name})").into());
    }
    let expected_ids = [
        entry.stack_id.as_deref(),
        current.map(|s| s.stack_id.as_str()),
    ];
    for expected in expected_ids.into_iter().flatten() {
        if let Some(actual) = page.stack_id.as_deref().filter(|a| *a != expected) {
            return Err(format!("its change set belongs to another stack ({actual})").into());
        }
    }
    let execution = page.execution_status.as_deref().unwrap_or("UNKNOWN");
    if page.status != ChangeSetStatus::CreateComplete || execution != "AVAILABLE" {
        return Err(format!(
            "its change set cannot be executed any more (status {:?}, execution status {execution})",
            page.status
        )
        .into());
    }
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

/// The stack is as the plan saw it. Returns the deployed template (for an update).
async fn check_stack<C: CloudFormation>(
    cfn: &C,
    entry: &StackPlan,
    current: Option<&Stack>,
) -> Result<Option<Template>, Why> {
    let fp = &entry.fingerprint;
    let now = current.map(|s| &s.status);
    if entry.status == PlanStatus::Create {
        return match now {
            Some(status) if *status != StackStatus::ReviewInProgress => Err(format!(
                "the stack was created by someone else since the plan (it is {status})"
            )
            .into()),
            _ => Ok(None),
        };
    }
    let stack = current.ok_or("the stack was deleted since the plan")?;
    if Some(&stack.status) != fp.stack_status.as_ref() {
        return Err(Why::Stale(format!(
            "the stack changed since the plan: it was {}, it is {}",
            fp.stack_status.as_ref().map(|s| s.as_str()).unwrap_or("-"),
            stack.status
        )));
    }
    if stack.last_updated != fp.last_updated {
        return Err(Why::Stale(format!(
            "the stack was updated since the plan (at {})",
            stack.last_updated.as_deref().unwrap_or("-")
        )));
    }
    if Some(deployed_parameters_sha256(&stack.parameters)) != fp.deployed_parameters_sha256 {
        return Err("the stack's parameters changed since the plan".into());
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
    if Some(sha256_hex(template.as_bytes())) != fp.deployed_template_sha256 {
        return Err("the stack's template changed since the plan".into());
    }
    Ok(Template::parse(template).ok())
}
