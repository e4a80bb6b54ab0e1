//! Root-cause selection over event sequences in `fixtures/events` (AWS CLI JSON, newest first).

use super::*;
use crate::model::StackStatus;

fn events(fixture: &str) -> Vec<StackEvent> {
    let path = format!("{}/fixtures/events/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["StackEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| StackEvent {
            event_id: e["EventId"].as_str().unwrap().into(),
            stack_name: e["StackName"].as_str().unwrap().into(),
            logical_id: e["LogicalResourceId"].as_str().unwrap().into(),
            physical_id: e["PhysicalResourceId"]
                .as_str()
                .filter(|p| !p.is_empty())
                .map(str::to_string),
            resource_type: e["ResourceType"].as_str().unwrap().into(),
            status: crate::model::EventStatus(e["ResourceStatus"].as_str().unwrap().into()),
            reason: e["ResourceStatusReason"].as_str().map(str::to_string),
            timestamp: e["Timestamp"].as_str().unwrap().into(),
            client_request_token: None,
        })
        .collect()
}

#[test]
fn the_failure_comes_first_not_the_cancelled_cascade() {
    let d = diagnose(
        "orders-prod",
        &StackStatus::parse("ROLLBACK_COMPLETE"),
        &events("create-failed-with-cancelled-cascade.json"),
        20,
        vec![],
    );
    let causes: Vec<&str> = d
        .root_causes
        .iter()
        .map(|e| e.logical_id.as_str())
        .collect();
    assert_eq!(causes, ["WorkQueue"]);
    assert!(d.root_causes[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("Queue quota exceeded"));
    assert_eq!(
        d.tail.first().unwrap().status.as_str(),
        "CREATE_IN_PROGRESS",
        "the operation starts at its CREATE_IN_PROGRESS"
    );
    assert_eq!(d.tail.last().unwrap().status.as_str(), "ROLLBACK_COMPLETE");
    assert!(d
        .next_step
        .contains("cfdeploy rollback orders-prod --delete"));
}

#[test]
fn earlier_operations_never_appear() {
    let all = events("update-rollback-failed-after-an-earlier-failed-update.json");
    let d = diagnose(
        "billing-prod",
        &StackStatus::parse("UPDATE_ROLLBACK_FAILED"),
        &all,
        100,
        vec![],
    );
    assert!(d
        .tail
        .iter()
        .all(|e| e.reason.as_deref() != Some("Earlier failure that must not appear")));
    assert_eq!(d.tail.len(), 9);
    // The first failure of the update is the cause; the later rollback failure is in the tail.
    assert_eq!(d.root_causes.len(), 1);
    assert!(d.root_causes[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("Cannot update GSI"));
    assert!(d.next_step.contains("--skip-resource"));
}

#[test]
fn the_tail_is_the_last_n_events_oldest_first() {
    let d = diagnose(
        "billing-prod",
        &StackStatus::parse("UPDATE_ROLLBACK_FAILED"),
        &events("update-rollback-failed-after-an-earlier-failed-update.json"),
        3,
        vec![],
    );
    let statuses: Vec<&str> = d.tail.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(
        statuses,
        [
            "UPDATE_IN_PROGRESS",
            "UPDATE_FAILED",
            "UPDATE_ROLLBACK_FAILED"
        ]
    );
}

#[test]
fn a_failed_nested_stack_is_followed_into_its_own_events() {
    let parent = diagnose(
        "platform-prod",
        &StackStatus::parse("ROLLBACK_COMPLETE"),
        &events("nested-stack-failed-parent.json"),
        20,
        vec![],
    );
    let follow = nested_stack_ids(&parent);
    assert_eq!(follow.len(), 1);
    assert_eq!(follow[0].0, "Storage");
    assert!(follow[0].1.contains(":stack/platform-prod-Storage-1ABC/"));
    let child = diagnose(
        "platform-prod-Storage-1ABC",
        &StackStatus::parse("CREATE_FAILED"),
        &events("nested-stack-failed-child.json"),
        20,
        vec![],
    );
    assert_eq!(child.root_causes[0].logical_id, "Bucket");
    assert_eq!(
        child.root_causes[0].reason.as_deref(),
        Some("platform-artifacts already exists")
    );
}

#[test]
fn when_only_the_stack_says_why_its_reason_stands_in() {
    let mut all = events("create-failed-with-cancelled-cascade.json");
    all.retain(|e| !(e.logical_id == "WorkQueue" && e.status.as_str() == "CREATE_FAILED"));
    let d = diagnose(
        "orders-prod",
        &StackStatus::parse("ROLLBACK_COMPLETE"),
        &all,
        20,
        vec![],
    );
    assert_eq!(d.root_causes.len(), 1);
    assert!(d.root_causes[0].is_stack_event());
    assert!(d.root_causes[0]
        .reason
        .as_deref()
        .unwrap()
        .starts_with("The following resource(s) failed to create"));
}

#[test]
fn a_nested_stack_deleted_by_its_parents_rollback_is_diagnosed_from_its_own_failure() {
    let all = events("nested-stack-failed-then-deleted-child.json");
    // Its latest operation is the deletion: that alone would say "nothing to repair".
    let latest = diagnose(
        "platform-prod-Storage-1ABC",
        &StackStatus::DeleteComplete,
        &all,
        20,
        vec![],
    );
    assert!(latest.root_causes.is_empty());
    let d = diagnose_nested(
        "platform-prod-Storage-1ABC",
        &StackStatus::DeleteComplete,
        &all,
        20,
    );
    assert_eq!(d.root_causes.len(), 1);
    assert_eq!(d.root_causes[0].logical_id, "Bucket");
    assert_eq!(
        d.root_causes[0].reason.as_deref(),
        Some("platform-artifacts already exists")
    );
    assert_eq!(d.status, StackStatus::CreateFailed);
    assert!(
        d.next_step.contains(
            "its parent's rollback then removed it (DELETE_COMPLETE at 2026-11-23T11:20:41"
        ),
        "{}",
        d.next_step
    );
    assert!(
        d.tail
            .iter()
            .all(|e| !e.status.as_str().starts_with("DELETE")),
        "only its own failed operation"
    );
    // A nested stack whose latest operation is the failed one is diagnosed as any stack is.
    let child = diagnose_nested(
        "platform-prod-Storage-1ABC",
        &StackStatus::CreateFailed,
        &events("nested-stack-failed-child.json"),
        20,
    );
    assert_eq!(child.root_causes[0].logical_id, "Bucket");
}
