//! `plan --drift`: drift detection on each deployed stack planned, and each changed resource whose
//! live state has drifted from the deployed template marked with how: those are the changes whose
//! before-values (the template's) are not what is really deployed. Drifted resources the plan
//! does not change are said too: applying leaves them as they are.

use crate::cfn::CloudFormation;
use crate::model::{DriftDetection, ResourceChange, ResourceDrift};

/// Detects drift on `stack`, marks the drifted ones of `changes`, and says, as warnings, which
/// drifted resources `changes` does not touch, or why drift could not be told.
pub(super) async fn warnings<C: CloudFormation>(
    cfn: &C,
    region: &str,
    stack: &str,
    changes: &mut [ResourceChange],
    waits: &super::Waits<'_>,
) -> Vec<String> {
    match mark(cfn, region, stack, changes, waits).await {
        Ok(untouched) => untouched,
        Err(why) => vec![why],
    }
}

/// Detects drift on `stack` and marks the drifted ones of `changes`; `Ok` carries a warning for
/// each drifted resource `changes` does not touch. An error says why drift could not be told
/// (the plan itself stands).
async fn mark<C: CloudFormation>(
    cfn: &C,
    region: &str,
    stack: &str,
    changes: &mut [ResourceChange],
    waits: &super::Waits<'_>,
) -> Result<Vec<String>, String> {
    let (poll, interrupt) = (waits.poll, waits.interrupt);
    // Each call takes a request permit; the waits between them take none.
    let permit = || waits.requests.acquire();
    let started_call = permit().await.ok();
    let id = cfn
        .detect_stack_drift(region, stack)
        .await
        .map_err(|e| format!("drift detection could not start: {e}"))?;
    drop(started_call);
    let started = tokio::time::Instant::now();
    let mut backoff = poll.backoff();
    loop {
        let call = permit().await.ok();
        let status = cfn.drift_detection_status(region, &id).await;
        drop(call);
        match status {
            Ok(DriftDetection::Complete) => break,
            Ok(DriftDetection::Failed(why)) => {
                return Err(format!("drift detection failed: {why}"))
            }
            Ok(DriftDetection::InProgress) => {}
            Err(e) if e.is_transient() => backoff.slow_down(),
            Err(e) => return Err(format!("drift detection status: {e}")),
        }
        if started.elapsed() >= poll.timeout {
            return Err("drift detection did not finish in time".to_string());
        }
        let mut interrupt = interrupt.clone();
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_delay()) => {}
            _ = interrupt.changed() => {}
        }
        if *interrupt.borrow() > 0 {
            return Err("drift detection interrupted".to_string());
        }
    }
    let call = permit().await.ok();
    let drifts = cfn
        .resource_drifts(region, stack)
        .await
        .map_err(|e| format!("reading the drifted resources: {e}"))?;
    drop(call);
    for change in changes.iter_mut() {
        if let Some(d) = drifts.iter().find(|d| d.logical_id == change.logical_id) {
            change.drift = Some(describe(d));
        }
    }
    Ok(drifts
        .iter()
        .filter(|d| !changes.iter().any(|c| c.logical_id == d.logical_id))
        .map(|d| {
            format!(
                "drifted, and this plan leaves it so: {} {}",
                d.logical_id,
                describe(d)
            )
        })
        .collect())
}

/// `deleted outside CloudFormation`, or each differing property: template value, live value.
pub fn describe(d: &ResourceDrift) -> String {
    if d.status == "DELETED" {
        return "deleted outside CloudFormation".to_string();
    }
    if d.differences.is_empty() {
        return "modified outside CloudFormation".to_string();
    }
    d.differences
        .iter()
        .map(|p| match p.kind.as_str() {
            "ADD" => format!("{} added live: {}", p.path, p.actual),
            "REMOVE" => format!("{} removed live (template: {})", p.path, p.expected),
            _ => format!(
                "{}: {} in the template, {} live",
                p.path, p.expected, p.actual
            ),
        })
        .collect::<Vec<_>>()
        .join("; ")
}
