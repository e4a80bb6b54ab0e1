//! A reviewed deletion of a stack that left the config (`plan --prune`), checked before it runs:
//! the config given to apply and the stack as it is now decide, never the plan file alone.

use super::*;
use crate::apply::verify::{verify, FleetRule};
use crate::config::FLEET_TAG;
use crate::guard::StatefulTypes;
use crate::rollout::StackAction;

const TEMPLATE: &str = "Resources:\n  Topic: {Type: AWS::SNS::Topic}\n  Queue: {Type: AWS::SQS::Queue}\n  Kept: {Type: AWS::SQS::Queue, DeletionPolicy: Retain}\n";

/// `old` deployed in fleet `shop`, and the plan entry `plan --prune` made for it.
fn left(fleet_tag: &str) -> (FakeCfn, StackPlan) {
    let fake = FakeCfn::new().with_stack("old", StackStatus::UpdateComplete);
    fake.set_tags("old", &[(FLEET_TAG, fleet_tag)]);
    fake.set_template("old", TEMPLATE);
    let mut entry = StackPlan::new("old", "us-east-1", "stacks.yaml", PlanStatus::Delete);
    entry.stack_id =
        Some("arn:aws:cloudformation:us-east-1:123456789012:stack/old/0000-old".into());
    entry.fingerprint.stack_status = Some(StackStatus::UpdateComplete);
    entry.fingerprint.last_updated = Some("2026-11-20T10:00:00Z".into());
    (fake, entry)
}

fn shop() -> Vec<FleetRule> {
    vec![FleetRule {
        name: "shop".into(),
        region: "us-east-1".into(),
        stateful: StatefulTypes::default(),
    }]
}

async fn judge(
    fake: &FakeCfn,
    entry: &StackPlan,
    spec: Option<&StackSpec>,
    allow: bool,
) -> StackAction {
    verify(fake, entry, "3f9a2c0011223344", spec, &shop(), allow)
        .await
        .stack
        .action
}

fn refusal(action: &StackAction) -> (OutcomeKind, String) {
    match action {
        StackAction::Settled { kind, message, .. } => (*kind, message.clone().unwrap_or_default()),
        other => panic!("not settled: {other:?}"),
    }
}

#[tokio::test]
async fn a_stack_of_the_fleet_unchanged_since_the_plan_is_deleted_with_what_it_keeps() {
    let (fake, entry) = left("shop");
    let StackAction::Delete { deletion } = judge(&fake, &entry, None, true).await else {
        panic!("not a deletion");
    };
    assert_eq!(deletion.stack_id.as_deref(), entry.stack_id.as_deref());
    let kept: Vec<&str> = deletion
        .resources
        .iter()
        .filter(|r| r.fate != crate::delete::Fate::Deleted)
        .map(|r| r.logical_id.as_str())
        .collect();
    assert_eq!(kept, ["Kept"], "its DeletionPolicy keeps it");
}

#[tokio::test]
async fn stateful_resources_read_again_from_the_template_need_the_allowance() {
    let (fake, entry) = left("shop");
    // The plan file says nothing is destructive; the deployed template says the queue is.
    assert!(entry.changes.is_empty());
    let (kind, why) = refusal(&judge(&fake, &entry, None, false).await);
    assert_eq!(kind, OutcomeKind::Blocked);
    assert!(why.contains("AWS::SQS::Queue Queue"), "{why}");
    assert!(!why.contains("Kept"), "retained by its policy: {why}");
}

/// Changes the world after the plan; `true`: the stack is in the config again.
type Arrange = Box<dyn Fn(&FakeCfn, &mut StackPlan) -> bool>;

#[tokio::test]
async fn the_config_and_the_stack_as_it_is_now_can_each_refuse_it() {
    let cases: Vec<(&str, Arrange, &str)> = vec![
        (
            "back in the config",
            Box::new(|_, _| true),
            "in the stack config again",
        ),
        (
            "another fleet's",
            Box::new(|fake, _| {
                fake.set_tags("old", &[(FLEET_TAG, "payments")]);
                false
            }),
            "names `payments`, which is no fleet",
        ),
        (
            "untagged since",
            Box::new(|fake, _| {
                fake.set_tags("old", &[]);
                false
            }),
            "no longer carries",
        ),
        (
            "changed since the plan",
            Box::new(|fake, _| {
                fake.touch("old");
                false
            }),
            "changed since the plan",
        ),
        (
            "nested",
            Box::new(|fake, _| {
                fake.set_parent("old", "arn:aws:cloudformation:us-east-1:1:stack/parent/1");
                false
            }),
            "nested in another stack",
        ),
        (
            "planned in another status",
            Box::new(|_, entry| {
                entry.fingerprint.stack_status = Some(StackStatus::UpdateInProgress);
                false
            }),
            "changed since the plan",
        ),
    ];
    for (case, arrange, expected) in cases {
        let (fake, mut entry) = left("shop");
        let in_config = arrange(&fake, &mut entry);
        let spec = test_spec("old");
        let action = judge(&fake, &entry, in_config.then_some(&spec), true).await;
        let (kind, why) = refusal(&action);
        assert_eq!(kind, OutcomeKind::Refused, "{case}: {why}");
        assert!(why.contains(expected), "{case}: {why}");
        assert_eq!(fake.count("DeleteStack"), 0, "{case}");
    }
}

#[tokio::test]
async fn a_stack_gone_or_deleted_by_an_earlier_apply_is_reported_not_deleted_again() {
    let (fake, entry) = left("shop");
    let fake = Arc::new(fake);
    // An earlier apply of this plan deleted it.
    let StackAction::Delete { deletion } = judge(&fake, &entry, None, true).await else {
        panic!("not a deletion");
    };
    let events = Events::new(Masker::default(), Arc::new(Recorder::default()));
    let (_tx, interrupt) = crate::signals::manual();
    let options = crate::delete::DeleteOptions {
        retain: vec![],
        poll: poll(),
        events_tail: 5,
    };
    let done = crate::delete::execute(
        fake.as_ref(),
        &deletion,
        "3f9a2c0011223344",
        &options,
        &events,
        interrupt,
    )
    .await;
    assert_eq!(done.kind, OutcomeKind::Deleted, "{done:?}");
    let again = judge(&fake, &entry, None, true).await;
    let (kind, why) = refusal(&again);
    assert_eq!(kind, OutcomeKind::Deleted);
    assert!(why.contains("deleted already"), "{why}");
    assert_eq!(fake.count("DeleteStack"), 1, "never a second time");
}
