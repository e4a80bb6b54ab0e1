//! Deleting over the in-memory CloudFormation: what is refused before any deletion, what a
//! deletion reports, and the retry that keeps what could not be deleted.

use super::*;
use crate::cfn::fake::{FakeCfn, Fault, Script, REGION};
use crate::engine::{Events, Recorder};
use crate::mask::Masker;

fn target(stack: &str) -> Target {
    Target {
        stack: stack.into(),
        region: REGION.into(),
        stateful: StatefulTypes::default(),
        allow_destructive: false,
    }
}

fn options(retain: &[&str]) -> DeleteOptions {
    DeleteOptions {
        retain: retain.iter().map(|s| s.to_string()).collect(),
        poll: PollOptions::default(),
        events_tail: 20,
    }
}

const TEMPLATE: &str = "Resources:\n  Topic: {Type: AWS::SNS::Topic}\n  Table: {Type: AWS::DynamoDB::Table, DeletionPolicy: Retain}\n";

async fn delete(fake: &FakeCfn, stack: &str, retain: &[&str]) -> (Deletion, Outcome) {
    let retained: Vec<String> = retain.iter().map(|s| s.to_string()).collect();
    let d = plan(fake, &target(stack), &retained).await;
    let events = Events::new(
        Masker::default(),
        std::sync::Arc::new(Recorder::default()) as _,
    );
    let outcome = if d.goes() {
        let (_tx, interrupt) = crate::signals::manual();
        // Each call is a run of its own, with its own correlation id (and tokens).
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let correlation_id = format!("run{run:013}");
        execute(
            fake,
            &d,
            &correlation_id,
            &options(retain),
            &events,
            interrupt,
        )
        .await
    } else {
        not_executed(&d)
    };
    (d, outcome)
}

#[tokio::test(start_paused = true)]
async fn a_deletion_says_what_goes_and_what_its_policy_keeps() {
    let fake = FakeCfn::new().with_stack("api", StackStatus::UpdateComplete);
    fake.set_template("api", TEMPLATE);
    let (d, o) = delete(&fake, "api", &[]).await;
    assert_eq!(
        d.resources
            .iter()
            .map(|r| (r.logical_id.as_str(), r.fate.clone()))
            .collect::<Vec<_>>(),
        [
            ("Table", Fate::Retained("Retain".into())),
            ("Topic", Fate::Deleted)
        ]
    );
    assert_eq!(o.kind, OutcomeKind::Deleted, "{:?}", o.message);
    assert_eq!(o.message.as_deref(), Some("kept in place: Table"));
    assert_eq!(fake.count("DeleteStack"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_failed_deletions_shows_only_what_they_left() {
    let fake = FakeCfn::new().with_stack("api", StackStatus::CreateComplete);
    fake.set_template(
        "api",
        "Resources:\n  Topic: {Type: AWS::SNS::Topic}\n  Queue: {Type: AWS::SQS::Queue}\n  Table: {Type: AWS::DynamoDB::Table}\n  Cache: {Type: AWS::SQS::Queue}\n",
    );
    fake.record_events(
        "api",
        &[
            // An update replaced Cache: its old copy was deleted, the new one is deployed.
            ("", "UPDATE_IN_PROGRESS"),
            ("Cache", "DELETE_COMPLETE"),
            ("", "UPDATE_COMPLETE"),
            // Two deletions, each failing on the topic, deleted the queue, then the table.
            ("", "DELETE_IN_PROGRESS"),
            ("Queue", "DELETE_COMPLETE"),
            ("Topic", "DELETE_FAILED"),
            ("", "DELETE_FAILED"),
            ("", "DELETE_IN_PROGRESS"),
            ("Table", "DELETE_COMPLETE"),
            ("Topic", "DELETE_FAILED"),
            ("", "DELETE_FAILED"),
        ],
    );
    let d = plan(&fake, &target("api"), &["Topic".to_string()]).await;
    let left: Vec<&str> = d.resources.iter().map(|r| r.logical_id.as_str()).collect();
    assert_eq!(left, ["Cache", "Topic"]);
    // What is gone is judged no more: the table and queue block nothing; the cache does.
    assert_eq!(d.refusal, Some(Refusal::Destructive));
    assert!(d.resources[0].destructive.is_some());

    // Unreadable events leave the whole template: the cautious side.
    fake.fail("DescribeStackEvents", Fault::Throttle, 100, 0);
    let d = plan(&fake, &target("api"), &[]).await;
    assert_eq!(d.resources.len(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_stateful_resource_without_a_retaining_policy_blocks_the_deletion() {
    let fake = FakeCfn::new().with_stack("db", StackStatus::UpdateComplete);
    fake.set_template("db", "Resources:\n  Table: {Type: AWS::DynamoDB::Table}\n");
    let (_, o) = delete(&fake, "db", &[]).await;
    assert_eq!(o.kind, OutcomeKind::Blocked);
    assert!(o
        .message
        .unwrap()
        .contains("deletes stateful AWS::DynamoDB::Table Table"));
    assert_eq!(fake.count("DeleteStack"), 0);

    let mut allowed = target("db");
    allowed.allow_destructive = true;
    assert!(plan(&fake, &allowed, &[]).await.goes());
}

#[tokio::test(start_paused = true)]
async fn protected_busy_and_absent_stacks_are_not_deleted_and_say_why() {
    let fake = FakeCfn::new()
        .with_stack("busy", StackStatus::UpdateInProgress)
        .with_stack("guarded", StackStatus::CreateComplete);
    fake.update_termination_protection(REGION, "guarded", true)
        .await
        .unwrap();
    fake.set_template("guarded", TEMPLATE);
    let (_, o) = delete(&fake, "guarded", &[]).await;
    assert_eq!(o.kind, OutcomeKind::Refused);
    assert!(o.message.unwrap().contains("termination protection is on"));
    let (_, o) = delete(&fake, "busy", &[]).await;
    assert_eq!(o.kind, OutcomeKind::Refused);
    assert!(o.message.unwrap().contains("UPDATE_IN_PROGRESS"));
    let (_, o) = delete(&fake, "gone", &[]).await;
    assert_eq!(o.kind, OutcomeKind::Unchanged);
    assert!(o.message.unwrap().contains("nothing to delete"));
    assert_eq!(fake.count("DeleteStack"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_failed_deletion_is_diagnosed_and_retried_keeping_what_failed() {
    let fake = FakeCfn::new().with_stack("api", StackStatus::UpdateComplete);
    fake.set_template("api", TEMPLATE);
    fake.script(
        "api",
        Script::Fail {
            resource: "Topic".into(),
            reason: "Topic in use".into(),
        },
    );
    // --retain before anything failed is refused.
    let (_, o) = delete(&fake, "api", &["Topic"]).await;
    assert_eq!(o.kind, OutcomeKind::Refused);
    assert!(o.message.unwrap().contains("DELETE_FAILED"));

    let (_, o) = delete(&fake, "api", &[]).await;
    assert_eq!(o.kind, OutcomeKind::DeleteFailed);
    let message = o.message.unwrap();
    assert!(
        message.contains("`cfdeploy delete api --retain Topic`"),
        "{message}"
    );
    let diagnosis = o.diagnosis.expect("a diagnosis");
    assert_eq!(diagnosis.root_causes[0].logical_id, "Topic");

    fake.script("api", Script::Succeed);
    let (d, o) = delete(&fake, "api", &["Topic"]).await;
    assert_eq!(d.resources[1].fate, Fate::KeptOnRequest);
    assert_eq!(o.kind, OutcomeKind::Deleted, "{:?}", o.message);
}

#[tokio::test(start_paused = true)]
async fn a_lost_answer_to_delete_stack_is_recognised_by_the_deletions_events() {
    let fake = FakeCfn::new().with_stack("api", StackStatus::UpdateComplete);
    fake.set_template("api", TEMPLATE);
    fake.fail("DeleteStack", Fault::LostResponse, 1, 0);
    let (_, o) = delete(&fake, "api", &[]).await;
    assert_eq!(o.kind, OutcomeKind::Deleted, "{:?}", o.message);
    assert_eq!(fake.tokens().len(), 1, "deleted once");
}
