//! Undoing an interrupted plan: its change sets, and the empty stacks its creates left in review.

use crate::cfn::change_set::delete_quietly;
use crate::cfn::CloudFormation;
use crate::model::{Family, Plan};
use crate::run::{request_token, RunContext, Step};

/// Undoes what an interrupted plan made: deletes every change set it created and the stacks it
/// created that are still empty in REVIEW_IN_PROGRESS. Returns what it removed, for the report.
pub async fn discard<C: CloudFormation>(cfn: &C, plan: &Plan, run: &RunContext) -> Vec<String> {
    let mut removed = Vec::new();
    for s in &plan.stacks {
        if let Some(arn) = &s.change_set_arn {
            delete_quietly(cfn, &s.region, arn).await;
            removed.push(format!("the change set of {}", s.stack));
        }
        // A stack that did not exist before this run, made by this run's CREATE change set (its
        // id is the one CreateChangeSet returned), holds nothing while in review: remove it.
        let (None, Some(id)) = (&s.fingerprint.stack_status, &s.stack_id) else {
            continue;
        };
        match cfn.describe_stack(&s.region, &s.stack).await {
            Ok(Some(stack)) if stack.status.family() == Family::Review && stack.stack_id == *id => {
                let token = request_token(&run.correlation_id, Step::Delete, &s.stack);
                match cfn.delete_stack(&s.region, id, &token, &[]).await {
                    Ok(()) => removed.push(format!("the empty stack {}", s.stack)),
                    Err(e) => {
                        tracing::warn!(stack = %s.stack, error = %e, "could not remove the empty stack")
                    }
                }
            }
            _ => {}
        }
    }
    removed
}
