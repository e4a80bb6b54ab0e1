//! An entry whose reviewed change set already ran (a runner that died mid-apply, say): attach to
//! its operation while it runs, or report how it ended. Never executed again.

use super::settled;
use crate::cfn::CloudFormation;
use crate::model::{OutcomeKind, StackPlan};
use crate::rollout::StackAction;

/// What to do for an entry whose change set is gone, if this plan's execution removed it (the
/// stack's events carry the plan's token): attach or report, as for one that ran. `None` when
/// the stack shows no such operation or cannot be read.
pub(super) async fn ran_earlier<C: CloudFormation>(
    cfn: &C,
    entry: &StackPlan,
    correlation_id: &str,
) -> Option<StackAction> {
    let token = crate::run::request_token(correlation_id, crate::run::Step::Execute, &entry.stack);
    if crate::watch::started_with(cfn, &entry.region, &entry.stack, &token).await != Some(true) {
        return None;
    }
    attach_or_report(cfn, entry).await
}

/// For an entry whose reviewed change set was executed already: attach to the operation while it
/// runs, or report how it ended. `None` when the stack cannot be read.
pub(super) async fn attach_or_report<C: CloudFormation>(
    cfn: &C,
    entry: &StackPlan,
) -> Option<StackAction> {
    let stack = cfn
        .describe_stack(&entry.region, &entry.stack)
        .await
        .ok()??;
    if stack.status.is_in_progress() {
        return Some(StackAction::Attach {
            status: stack.status,
        });
    }
    let kind = OutcomeKind::from_final_status(&stack.status);
    Some(settled(
        kind,
        Some(stack.status),
        Some("its change set was executed already (by an earlier apply of this plan); nothing was executed again".to_string()),
    ))
}
