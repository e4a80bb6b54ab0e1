//! The follower against the in-memory CloudFormation and its fake Step Functions, time paused:
//! starting, attaching, what stacks the execution never started are told, refusals, detaching.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::cfn::fake::FakeCfn;
use crate::engine::stepfunctions::{
    execution_arn, execution_name, state_machine_arn, ExecutionState, ExecutionStatus, DEFINITION,
};
use crate::engine::Recorder;
use crate::mask::Masker;
use crate::model::{PlanStatus, StackPlan, StackStatus};
use crate::poll::PollOptions;
use crate::rollout::{RolloutOptions, RolloutStack};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn machine() -> String {
    state_machine_arn("cfdeploy-rollout", REGION, ACCOUNT)
}

/// Deployed stacks with a reviewed change set each, and the plan and rollout that execute them.
fn fleet(fake: &FakeCfn, names: &[&str]) -> (Plan, Rollout) {
    let mut entries = Vec::new();
    let mut stacks = Vec::new();
    for name in names {
        let arn = fake.ready_change_set(name, vec![]);
        let mut entry = StackPlan::new(name, REGION, "stacks.yaml", PlanStatus::Update);
        entry.change_set_arn = Some(arn.clone());
        entries.push(entry);
        stacks.push(RolloutStack {
            stack: name.to_string(),
            region: REGION.into(),
            action: StackAction::Execute {
                change_set_arn: arn,
                create: false,
            },
            changes: 1,
            termination_protection: false,
            outputs: false,
            after: vec![],
        });
    }
    let plan = Plan {
        correlation_id: "3f9a2c0011223344".into(),
        created_at: "2026-12-02T00:00:00Z".into(),
        stacks: entries,
    };
    let rollout = Rollout::new(
        &plan.correlation_id,
        stacks,
        &RolloutOptions {
            concurrency: 8,
            max_in_flight: None,
            max_failures: 1,
            canary: 0,
            disable_rollback: false,
        },
    );
    (plan, rollout)
}

fn options() -> FollowOptions {
    FollowOptions {
        state_machine: "cfdeploy-rollout".into(),
        account: ACCOUNT.into(),
        stack: StackOptions {
            disable_rollback: false,
            poll: PollOptions::default(),
            events_tail: 5,
            tick: Duration::from_secs(1),
        },
        execution_tick: Duration::from_secs(2),
    }
}

async fn run(
    fake: Arc<FakeCfn>,
    plan: &Plan,
    rollout: &Rollout,
    interrupt: Interrupt,
) -> Vec<Outcome> {
    let events = Events::new(Masker::default(), Arc::new(Recorder::default()));
    follow(fake, rollout, plan, &options(), &events, interrupt).await
}

fn deployed(names: &[&str]) -> FakeCfn {
    names.iter().fold(
        FakeCfn::new().with_state_machine(&machine(), DEFINITION),
        |fake, name| fake.with_stack(name, StackStatus::UpdateComplete),
    )
}

#[tokio::test(start_paused = true)]
async fn a_new_execution_runs_the_reviewed_change_sets_and_each_stack_is_followed_to_its_end() {
    let fake = Arc::new(deployed(&["a", "b"]));
    let (plan, rollout) = fleet(&fake, &["a", "b"]);
    let (_tx, interrupt) = crate::signals::manual();
    let outcomes = run(Arc::clone(&fake), &plan, &rollout, interrupt).await;
    let kinds: Vec<OutcomeKind> = outcomes.iter().map(|o| o.kind).collect();
    assert_eq!(
        kinds,
        [OutcomeKind::Updated, OutcomeKind::Updated],
        "{outcomes:?}"
    );
    assert_eq!(fake.count("StartExecution"), 1);
    assert_eq!(
        fake.count("ExecuteChangeSet"),
        2,
        "by the execution, not the follower"
    );
    let token = request_token(&plan.correlation_id, Step::Execute, "a");
    assert!(
        fake.tokens().contains(&token),
        "the plan's token: {:?}",
        fake.tokens()
    );
}

#[tokio::test(start_paused = true)]
async fn an_execution_of_the_plan_that_exists_is_attached_to_and_a_stack_outside_it_refused() {
    let fake = Arc::new(deployed(&["a", "b"]));
    let (plan, rollout) = fleet(&fake, &["a", "b"]);
    // Another runner's execution, which ended having been given only `a`, and stopped by the
    // canary before starting it.
    let input = serde_json::json!({"waves": [{"canary": true, "stacks": [{"stack": "a"}]}]});
    fake.seed_execution(
        &execution_arn(&machine(), &execution_name(&plan, REGION)),
        ExecutionState {
            status: ExecutionStatus::Succeeded,
            input: Some(input.to_string()),
            output: Some(r#"{"result": "canary-failed", "failed": 1}"#.into()),
            error: None,
            cause: None,
        },
    );
    let (_tx, interrupt) = crate::signals::manual();
    let outcomes = run(Arc::clone(&fake), &plan, &rollout, interrupt).await;
    assert_eq!(fake.count("StartExecution"), 0, "never a second execution");
    assert_eq!(fake.count("ExecuteChangeSet"), 0);
    assert_eq!(outcomes[0].kind, OutcomeKind::NotStarted, "{outcomes:?}");
    assert_eq!(
        outcomes[0].message.as_deref(),
        Some("not started: the canary failed")
    );
    assert_eq!(outcomes[1].kind, OutcomeKind::Refused);
    assert!(
        outcomes[1]
            .message
            .as_deref()
            .unwrap()
            .contains("not part of this plan's execution"),
        "{outcomes:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_missing_or_foreign_state_machine_runs_nothing_and_says_what_to_do() {
    for (fake, expected) in [
        (FakeCfn::new(), "deploy it first"),
        (
            FakeCfn::new().with_state_machine(&machine(), r#"{"StartAt": "X", "States": {}}"#),
            "another cfdeploy version",
        ),
    ] {
        let fake = Arc::new(fake.with_stack("a", StackStatus::UpdateComplete));
        let (plan, rollout) = fleet(&fake, &["a"]);
        let (_tx, interrupt) = crate::signals::manual();
        let outcomes = run(Arc::clone(&fake), &plan, &rollout, interrupt).await;
        assert_eq!(outcomes[0].kind, OutcomeKind::Refused, "{outcomes:?}");
        assert!(
            outcomes[0].message.as_deref().unwrap().contains(expected),
            "{outcomes:?}"
        );
        assert_eq!(fake.count("StartExecution"), 0);
        assert_eq!(fake.count("ExecuteChangeSet"), 0);
    }
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_detaches_from_an_execution_still_running_and_cancels_nothing() {
    let fake = Arc::new(deployed(&["a"]));
    let (plan, rollout) = fleet(&fake, &["a"]);
    let input = serde_json::json!({"waves": [{"canary": false, "stacks": [{"stack": "a"}]}]});
    fake.seed_execution(
        &execution_arn(&machine(), &execution_name(&plan, REGION)),
        ExecutionState {
            status: ExecutionStatus::Running,
            input: Some(input.to_string()),
            output: None,
            error: None,
            cause: None,
        },
    );
    let (tx, interrupt) = crate::signals::manual();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        let _ = tx.send(1);
        // Keep the sender: a dropped one is no interrupt.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    let outcomes = run(Arc::clone(&fake), &plan, &rollout, interrupt).await;
    assert_eq!(outcomes[0].kind, OutcomeKind::Abandoned, "{outcomes:?}");
    assert!(
        outcomes[0]
            .message
            .as_deref()
            .unwrap()
            .contains("goes on there"),
        "{outcomes:?}"
    );
    assert_eq!(fake.count("StopExecution"), 0);
    assert_eq!(fake.count("CancelUpdateStack"), 0);
}
