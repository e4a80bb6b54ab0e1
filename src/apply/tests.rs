//! Every branch that decides a stack's reported outcome, over the in-memory CloudFormation: plans
//! are made by the real `plan_fleet` against the fake, then applied as `cfdeploy apply --plan`
//! applies them. Time is paused, so polls and back-offs cost nothing.

use std::sync::Arc;

use super::*;
use crate::apply::repair::{repair, RepairOptions};
use crate::cfn::fake::{FakeCfn, Fault, NextChangeSet, Script};
use crate::config::{test_spec, StackSpec};
use crate::engine::{Events, Recorder, RolloutEvent};
use crate::exit::Exit;
use crate::mask::Masker;
use crate::model::{Action, PlanStatus, Replacement, ResourceChange, StackPlan, StackStatus};
use crate::plan::{plan_fleet, PlanOptions};
use crate::poll::PollOptions;
use crate::run::RunContext;
use crate::signals;

const REGION: &str = "us-east-1";

fn poll() -> PollOptions {
    PollOptions::default()
}

fn queue_change() -> ResourceChange {
    ResourceChange {
        action: Action::Modify,
        logical_id: "Queue".into(),
        physical_id: Some("queue-url".into()),
        resource_type: "AWS::SQS::Queue".into(),
        replacement: Some(Replacement::False),
        scope: vec!["Properties".into()],
        details: vec![],
        destructive: None,
        policy_action: None,
        drift: None,
    }
}

fn table_replacement() -> ResourceChange {
    ResourceChange {
        logical_id: "Table".into(),
        resource_type: "AWS::DynamoDB::Table".into(),
        replacement: Some(Replacement::True),
        ..queue_change()
    }
}

/// A fake with the given stacks deployed (`None`: not created yet).
fn fleet(stacks: &[(&str, Option<StackStatus>)]) -> Arc<FakeCfn> {
    let mut fake = FakeCfn::new();
    for (name, status) in stacks {
        if let Some(status) = status {
            fake = fake.with_stack(name, status.clone());
        }
    }
    Arc::new(fake)
}

/// Plans the stacks against the fake, each with one queue change (or `changes` for all).
async fn planned(fake: &Arc<FakeCfn>, names: &[&str]) -> Plan {
    plan_with(fake, names, |_| vec![queue_change()]).await
}

async fn plan_with(
    fake: &Arc<FakeCfn>,
    names: &[&str],
    changes: impl Fn(&str) -> Vec<ResourceChange>,
) -> Plan {
    let mut plan = Plan {
        correlation_id: "0123456789abcdef".into(),
        created_at: "2026-12-01T00:00:00Z".into(),
        stacks: vec![],
    };
    // One stack at a time, so each takes the change set scripted for it.
    for name in names {
        fake.next_change_set(NextChangeSet {
            changes: changes(name),
            ..NextChangeSet::default()
        });
        let specs = vec![test_spec(name)];
        let masker = Masker::for_specs(&specs);
        let one = plan_fleet(
            Arc::clone(fake),
            specs,
            &RunContext::new(),
            &PlanOptions {
                concurrency: 1,
                poll: poll(),
                drift: false,
                left: crate::plan::LeftOptions::Skip,
            },
            &masker,
            &signals::manual().1,
        )
        .await;
        plan.stacks.extend(one.into_inner().stacks);
    }
    plan
}

/// `stack`'s next operation fails on its queue and is rolled back.
fn fails(fake: &FakeCfn, stack: &str) {
    fake.script(
        stack,
        Script::Fail {
            resource: "Queue".into(),
            reason: "Queue quota exceeded".into(),
        },
    );
}

fn options() -> ApplyOptions {
    ApplyOptions {
        rollout: RolloutOptions {
            concurrency: 8,
            max_in_flight: None,
            max_failures: 1,
            canary: 0,
            disable_rollback: false,
        },
        allow_destructive: false,
        stack: StackOptions {
            disable_rollback: false,
            poll: poll(),
            events_tail: 20,
            tick: crate::watch::lookout::TICK,
        },
    }
}

struct Applied {
    outcomes: Vec<Outcome>,
    events: Vec<RolloutEvent>,
}

impl Applied {
    fn get(&self, stack: &str) -> &Outcome {
        self.outcomes
            .iter()
            .find(|o| o.stack == stack)
            .unwrap_or_else(|| panic!("no outcome for {stack}: {:?}", self.outcomes))
    }

    fn kind(&self, stack: &str) -> OutcomeKind {
        self.get(stack).kind
    }

    fn message(&self, stack: &str) -> String {
        self.get(stack).message.clone().unwrap_or_default()
    }

    fn exit(&self) -> Exit {
        Exit::worst_of(self.outcomes.iter().map(|o| Exit::from(o.kind)))
    }

    fn started(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                RolloutEvent::StackStarted { stack, .. } => Some(stack.clone()),
                _ => None,
            })
            .collect()
    }
}

async fn apply_with(fake: &Arc<FakeCfn>, plan: &Plan, options: &ApplyOptions) -> Applied {
    let (_tx, interrupt) = signals::manual();
    apply_interrupted(fake, plan, options, interrupt).await
}

async fn apply_interrupted(
    fake: &Arc<FakeCfn>,
    plan: &Plan,
    options: &ApplyOptions,
    interrupt: crate::signals::Interrupt,
) -> Applied {
    let specs: Vec<StackSpec> = plan.stacks.iter().map(|s| test_spec(&s.stack)).collect();
    apply_configured(fake, plan, &specs, options, interrupt).await
}

/// Applies `plan` with `specs` as the stack config at apply time.
async fn apply_configured(
    fake: &Arc<FakeCfn>,
    plan: &Plan,
    specs: &[StackSpec],
    options: &ApplyOptions,
    interrupt: crate::signals::Interrupt,
) -> Applied {
    let recorder = Arc::new(Recorder::default());
    let events = Events::new(Masker::default(), Arc::clone(&recorder) as _);
    let outcomes = apply_plan(Arc::clone(fake), plan, specs, options, &events, interrupt).await;
    let events = recorder.events.lock().unwrap().clone();
    let finished = events
        .iter()
        .filter(|e| matches!(e, RolloutEvent::StackFinished(_)))
        .count();
    assert_eq!(finished, plan.stacks.len(), "one outcome event per stack");
    assert_eq!(outcomes.len(), plan.stacks.len());
    Applied { outcomes, events }
}

async fn apply(fake: &Arc<FakeCfn>, plan: &Plan) -> Applied {
    apply_with(fake, plan, &options()).await
}

fn entry<'a>(plan: &'a mut Plan, stack: &str) -> &'a mut StackPlan {
    plan.stacks.iter_mut().find(|s| s.stack == stack).unwrap()
}

// ---- outcomes of executed stacks ------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_create_and_an_update_succeed_and_only_they_start() {
    let fake = fleet(&[("old", Some(StackStatus::UpdateComplete)), ("new", None)]);
    let plan = planned(&fake, &["old", "new"]).await;
    assert_eq!(plan.stacks[1].status, PlanStatus::Create);
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("old"), OutcomeKind::Updated);
    assert_eq!(a.kind("new"), OutcomeKind::Created);
    assert_eq!(a.get("new").status, Some(StackStatus::CreateComplete));
    assert_eq!(a.exit(), Exit::Ok);
    assert_eq!(fake.count("ExecuteChangeSet"), 2);
    let mut started = a.started();
    started.sort();
    assert_eq!(started, ["new", "old"]);
    // Every event of the operation reached the observer, the stack's own last.
    let last = a
        .events
        .iter()
        .rev()
        .find_map(|e| match e {
            RolloutEvent::StackEvent(ev) if ev.stack_name == "new" => Some(ev.status.to_string()),
            _ => None,
        })
        .unwrap();
    assert_eq!(last, "CREATE_COMPLETE");
}

#[tokio::test(start_paused = true)]
async fn termination_protection_is_turned_on_after_a_create_only() {
    let fake = fleet(&[("old", Some(StackStatus::UpdateComplete)), ("new", None)]);
    let mut plan = planned(&fake, &["old", "new"]).await;
    for s in &mut plan.stacks {
        s.termination_protection = true;
    }
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("new"), OutcomeKind::Created);
    assert!(fake.termination_protection("new"));
    assert!(!fake.termination_protection("old"));
    assert_eq!(fake.count("UpdateTerminationProtection"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_update_rolls_back_with_its_root_cause_and_exits_1() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    fails(&fake, "api");
    let plan = planned(&fake, &["api"]).await;
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::RolledBack);
    assert_eq!(a.exit(), Exit::Failure);
    let d = a.get("api").diagnosis.as_ref().expect("a diagnosis");
    assert_eq!(d.root_causes.len(), 1);
    assert_eq!(d.root_causes[0].logical_id, "Queue");
    assert_eq!(
        d.root_causes[0].reason.as_deref(),
        Some("Queue quota exceeded")
    );
    assert_eq!(d.status, StackStatus::UpdateRollbackComplete);
    assert!(d.next_step.contains("previous template"), "{}", d.next_step);
}

#[tokio::test(start_paused = true)]
async fn a_failed_create_needs_a_person_and_says_to_delete_by_name() {
    let fake = fleet(&[]);
    fails(&fake, "api");
    let plan = planned(&fake, &["api"]).await;
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::CreateRolledBack);
    assert_eq!(a.exit(), Exit::NeedsAPerson);
    let d = a.get("api").diagnosis.as_ref().unwrap();
    assert!(
        d.next_step.contains("`cfdeploy rollback api --delete`"),
        "{}",
        d.next_step
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_rollback_needs_a_person() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    fake.script(
        "api",
        Script::FailRollback {
            resource: "Queue".into(),
            reason: "bad".into(),
        },
    );
    let plan = planned(&fake, &["api"]).await;
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::RollbackFailed);
    assert_eq!(a.get("api").status, Some(StackStatus::UpdateRollbackFailed));
    assert_eq!(a.exit(), Exit::NeedsAPerson);
    assert!(a
        .get("api")
        .diagnosis
        .as_ref()
        .unwrap()
        .next_step
        .contains("--skip-resource"));
}

#[tokio::test(start_paused = true)]
async fn with_rollback_disabled_the_failed_stack_is_kept() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    fails(&fake, "api");
    let plan = planned(&fake, &["api"]).await;
    let mut o = options();
    o.stack.disable_rollback = true;
    let a = apply_with(&fake, &plan, &o).await;
    assert_eq!(a.kind("api"), OutcomeKind::FailedKept);
    assert_eq!(a.get("api").status, Some(StackStatus::UpdateFailed));
    assert_eq!(a.exit(), Exit::NeedsAPerson);
}

// ---- stacks that are not executed -----------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn unchanged_and_failed_plans_execute_nothing() {
    let fake = fleet(&[("same", Some(StackStatus::UpdateComplete))]);
    let mut plan = planned(&fake, &["same"]).await;
    let mut broken = plan.stacks[0].clone();
    broken.stack = "broken".into();
    broken.status = PlanStatus::Error;
    broken.error = Some("template error".into());
    broken.change_set_arn = None;
    plan.stacks[0].status = PlanStatus::NoChanges;
    plan.stacks.push(broken);
    let calls_before = fake.calls().len();
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("same"), OutcomeKind::Unchanged);
    assert_eq!(a.kind("broken"), OutcomeKind::Refused);
    assert!(a.message("broken").contains("not planned: template error"));
    assert_eq!(fake.calls().len(), calls_before, "no AWS call at all");
    assert!(a.started().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_stack_busy_at_plan_time_is_refused_without_a_call_while_it_runs() {
    // The plan has no change set for it: whatever runs is not what was reviewed.
    let fake = fleet(&[("api", Some(StackStatus::UpdateInProgress))]);
    let plan = planned(&fake, &["api"]).await;
    assert_eq!(plan.stacks[0].status, PlanStatus::Busy);
    let calls_before = fake.calls().len();
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Refused);
    assert!(a.message("api").contains("busy when planned"));
    assert_eq!(fake.calls().len(), calls_before, "no AWS call at all");
}

#[tokio::test(start_paused = true)]
async fn a_stack_busy_at_plan_time_and_settled_since_is_refused() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateInProgress))]);
    let plan = planned(&fake, &["api"]).await;
    fake.finishes_with("api", StackStatus::UpdateComplete);
    for _ in 0..3 {
        fake.describe_stack(REGION, "api").await.unwrap();
    }
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Refused);
    assert!(a.message("api").contains("busy when planned"));
}

#[tokio::test(start_paused = true)]
async fn an_update_planned_while_another_tool_updates_it_is_refused_not_doubled() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    // Someone else started an operation after the plan: CloudFormation made the reviewed change
    // set obsolete, and the other tool's outcome is not this plan's.
    let other = fake.ready_change_set("api", vec![]);
    fake.execute_change_set(REGION, &other, false, "another-tool")
        .await
        .unwrap();
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Refused);
    assert!(
        a.message("api").contains("changed since the plan"),
        "{}",
        a.message("api")
    );
    assert_eq!(fake.count("ExecuteChangeSet"), 1, "only the other tool's");
}

/// A runner that died after executing: the same plan again attaches to the reviewed change set's
/// operation, or reports how it ended; it never executes twice.
#[tokio::test(start_paused = true)]
async fn the_same_plan_again_attaches_to_its_running_operation_or_reports_its_end() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    let arn = plan.stacks[0].change_set_arn.clone().unwrap();
    let token = crate::run::request_token(&plan.correlation_id, crate::run::Step::Execute, "api");
    fake.execute_change_set(REGION, &arn, false, &token)
        .await
        .unwrap();
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Updated, "{}", a.message("api"));
    assert!(
        a.message("api").contains("attached"),
        "{}",
        a.message("api")
    );
    assert_eq!(fake.tokens().len(), 1, "executed once");

    // Once it ended, CloudFormation removed the change set; its events carry the plan's token.
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Updated, "{}", a.message("api"));
    assert!(
        a.message("api").contains("executed already"),
        "{}",
        a.message("api")
    );
    assert_eq!(fake.tokens().len(), 1, "still executed once");
}

/// Each way a plan entry can be stale is refused, names why, and executes nothing.
#[tokio::test(start_paused = true)]
async fn every_kind_of_stale_entry_is_refused_and_nothing_is_executed() {
    type Tamper = fn(&FakeCfn, &mut StackPlan);
    let cases: Vec<(&str, Tamper)> = vec![
        ("its change set no longer exists", |fake, e| {
            let arn = e.change_set_arn.clone().unwrap();
            fake.remove_change_set(&arn);
        }),
        ("changed since the plan", |fake, e| {
            // Another tool updated it: CloudFormation marks the change set OBSOLETE.
            fake.touch(&e.stack);
        }),
        ("belongs to another stack", |_, e| {
            e.stack_id = Some("arn:aws:cloudformation:us-east-1:1:stack/other/1".into());
        }),
        ("the plan has no change set", |_, e| {
            e.change_set_arn = None;
        }),
    ];
    for (why, tamper) in cases {
        let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
        let mut plan = planned(&fake, &["api"]).await;
        tamper(&fake, &mut plan.stacks[0]);
        let a = apply(&fake, &plan).await;
        assert_eq!(a.kind("api"), OutcomeKind::Refused, "{why}");
        assert!(
            a.message("api").contains(why),
            "{why}: {}",
            a.message("api")
        );
        assert!(a.message("api").contains("plan again"), "{why}");
        assert_eq!(fake.count("ExecuteChangeSet"), 0, "{why}");
        assert_eq!(a.exit(), Exit::Failure);
    }
}

#[tokio::test(start_paused = true)]
async fn a_create_whose_stack_appeared_meanwhile_or_an_update_whose_stack_went_is_refused() {
    let fake = fleet(&[]);
    let plan = planned(&fake, &["new"]).await;
    // Someone created it since, through another change set of the stack in review.
    let other = fake.ready_change_set("new", vec![]);
    fake.execute_change_set(REGION, &other, false, "another-tool")
        .await
        .unwrap();
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("new"), OutcomeKind::Refused);
    assert!(
        a.message("new").contains("changed since the plan"),
        "{}",
        a.message("new")
    );

    let fake = fleet(&[("gone", Some(StackStatus::UpdateComplete))]);
    let mut plan = planned(&fake, &["gone"]).await;
    plan.stacks[0].stack = "gone-elsewhere".into();
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("gone-elsewhere"), OutcomeKind::Refused);
    assert!(a
        .message("gone-elsewhere")
        .contains("belongs to another stack"));
    assert_eq!(fake.count("ExecuteChangeSet"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_refusal_never_deletes_a_change_set_that_is_not_the_stacks_own() {
    let fake = fleet(&[
        ("a", Some(StackStatus::UpdateComplete)),
        ("b", Some(StackStatus::UpdateComplete)),
    ]);
    let mut plan = planned(&fake, &["a", "b"]).await;
    let b_arn = entry(&mut plan, "b").change_set_arn.clone().unwrap();
    // a's entry now names b's change set.
    entry(&mut plan, "a").change_set_arn = Some(b_arn.clone());
    plan.stacks.retain(|s| s.stack == "a");
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("a"), OutcomeKind::Refused);
    assert!(a.message("a").contains("belongs to another stack"));
    assert_eq!(
        fake.change_sets_of("b"),
        [b_arn],
        "b's change set is left alone"
    );
    assert_eq!(fake.count("DeleteChangeSet"), 0);
}

#[tokio::test(start_paused = true)]
async fn destructive_changes_are_blocked_unless_allowed_and_their_change_set_goes() {
    let fake = fleet(&[("db", Some(StackStatus::UpdateComplete))]);
    let plan = plan_with(&fake, &["db"], |_| vec![table_replacement()]).await;
    assert!(plan.stacks[0].changes[0].destructive.is_some());
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("db"), OutcomeKind::Blocked);
    assert_eq!(a.exit(), Exit::Destructive);
    assert!(a.message("db").contains("--allow-destructive"));
    assert_eq!(fake.count("ExecuteChangeSet"), 0);
    assert!(
        fake.change_sets_of("db").is_empty(),
        "the blocked change set is deleted"
    );

    for allow_in_config in [false, true] {
        let fake = fleet(&[("db", Some(StackStatus::UpdateComplete))]);
        let plan = plan_with(&fake, &["db"], |_| vec![table_replacement()]).await;
        let mut o = options();
        let mut spec = test_spec("db");
        if allow_in_config {
            spec.allow_destructive = true;
        } else {
            o.allow_destructive = true;
        }
        let (_tx, interrupt) = signals::manual();
        let a = apply_configured(&fake, &plan, &[spec], &o, interrupt).await;
        assert_eq!(
            a.kind("db"),
            OutcomeKind::Updated,
            "allowed in config: {allow_in_config}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_change_set_that_cannot_be_executed_is_refused_with_cloudformations_reason() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    fake.fail(
        "ExecuteChangeSet",
        Fault::Error {
            code: "InsufficientCapabilitiesException".into(),
            message: "Requires capabilities : [CAPABILITY_IAM]".into(),
        },
        1,
        0,
    );
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Refused);
    assert!(a
        .message("api")
        .contains("could not execute the change set"));
    assert!(a.message("api").contains("CAPABILITY_IAM"));
    assert_eq!(fake.fault_hits("ExecuteChangeSet"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_stack_that_cannot_be_read_is_refused() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    fake.fail(
        "DescribeChangeSet",
        Fault::Error {
            code: "AccessDenied".into(),
            message: "not allowed".into(),
        },
        1,
        0,
    );
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Refused);
    assert!(a.message("api").contains("AccessDenied"));
    assert_eq!(fake.count("ExecuteChangeSet"), 0);
}

// ---- the rollout: budget, canary, order ------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn after_the_first_failure_no_new_stack_starts_and_their_change_sets_go() {
    let names = ["s1", "s2", "s3", "s4"];
    let fake = fleet(&names.map(|n| (n, Some(StackStatus::UpdateComplete))));
    fails(&fake, "s1");
    let plan = planned(&fake, &names).await;
    let mut o = options();
    o.rollout.max_in_flight = Some(1);
    let a = apply_with(&fake, &plan, &o).await;
    assert_eq!(a.kind("s1"), OutcomeKind::RolledBack);
    for n in ["s2", "s3", "s4"] {
        assert_eq!(a.kind(n), OutcomeKind::NotStarted, "{n}");
        assert!(
            a.message(n).contains("stopped after 1 failure"),
            "{}",
            a.message(n)
        );
        assert!(
            fake.change_sets_of(n).is_empty(),
            "{n}'s change set is deleted"
        );
    }
    assert_eq!(fake.count("ExecuteChangeSet"), 1);
    assert!(a.events.iter().any(
        |e| matches!(e, RolloutEvent::Note(n) if n.contains("s1 failed: starting no new stacks"))
    ));

    // --max-failures 2 lets one more failure happen before stopping.
    let fake = fleet(&names.map(|n| (n, Some(StackStatus::UpdateComplete))));
    for n in ["s1", "s2"] {
        fails(&fake, n);
    }
    let plan = planned(&fake, &names).await;
    o.rollout.max_failures = 2;
    let a = apply_with(&fake, &plan, &o).await;
    assert_eq!(a.kind("s2"), OutcomeKind::RolledBack);
    assert_eq!(a.kind("s3"), OutcomeKind::NotStarted);
    assert!(a.message("s3").contains("stopped after 2 failures"));
}

#[tokio::test(start_paused = true)]
async fn a_failed_canary_stops_the_rest_and_a_good_one_lets_them_go() {
    let names = ["c1", "r1", "r2"];
    let fake = fleet(&names.map(|n| (n, Some(StackStatus::UpdateComplete))));
    fails(&fake, "c1");
    let plan = planned(&fake, &names).await;
    let mut o = options();
    o.rollout.canary = 1;
    let a = apply_with(&fake, &plan, &o).await;
    assert_eq!(a.kind("c1"), OutcomeKind::RolledBack);
    for n in ["r1", "r2"] {
        assert_eq!(a.kind(n), OutcomeKind::NotStarted);
        assert_eq!(a.message(n), "not started: the canary failed");
    }
    assert!(
        matches!(&a.events[0], RolloutEvent::Note(n) if n.starts_with("canary: applying c1 first"))
    );

    let fake = fleet(&names.map(|n| (n, Some(StackStatus::UpdateComplete))));
    let plan = planned(&fake, &names).await;
    let a = apply_with(&fake, &plan, &o).await;
    assert!(a.outcomes.iter().all(|o| o.kind == OutcomeKind::Updated));
    assert_eq!(a.started()[0], "c1", "the canary starts first");
}

#[tokio::test(start_paused = true)]
async fn outcomes_keep_the_plans_order_whatever_order_stacks_finish_in() {
    let names = ["z", "a", "m"];
    let fake = fleet(&names.map(|n| (n, Some(StackStatus::UpdateComplete))));
    let plan = planned(&fake, &names).await;
    let a = apply(&fake, &plan).await;
    let order: Vec<&str> = a.outcomes.iter().map(|o| o.stack.as_str()).collect();
    assert_eq!(order, names);
}

// ---- faults and interrupts while watching ----------------------------------------------------

#[tokio::test(start_paused = true)]
async fn throttled_event_reads_while_watching_never_fail_a_deploy() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    // No baseline is read (the operation's events are found by its token): every read throttled
    // here is the watch loop's.
    let reads_before = fake.count("DescribeStackEvents");
    fake.fail("DescribeStackEvents", Fault::Throttle, 4, 0);
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Updated);
    assert_eq!(
        fake.fault_hits("DescribeStackEvents"),
        4,
        "the throttles hit the watch loop"
    );
    assert!(fake.count("DescribeStackEvents") > reads_before + 4);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_connection_while_watching_is_waited_out() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    fake.fail("DescribeStackEvents", Fault::Transport, 2, 1);
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Updated);
    assert_eq!(fake.fault_hits("DescribeStackEvents"), 2);
}

#[tokio::test(start_paused = true)]
async fn an_error_while_watching_that_is_not_transient_is_reported_as_lost_track() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    fake.fail(
        "DescribeStackEvents",
        Fault::Error {
            code: "ExpiredToken".into(),
            message: "The security token included in the request is expired".into(),
        },
        100,
        1,
    );
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Unknown);
    assert_eq!(
        a.exit(),
        Exit::Unknown,
        "never the exit status of an interrupt"
    );
    assert!(
        a.message("api").contains("lost track"),
        "{}",
        a.message("api")
    );
    assert!(a.message("api").contains("`cfdeploy events api`"));
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_before_start_starts_nothing_and_cleans_up() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    let (tx, interrupt) = signals::manual();
    tx.send(1).unwrap();
    let a = apply_interrupted(&fake, &plan, &options(), interrupt).await;
    assert_eq!(a.kind("api"), OutcomeKind::NotStarted);
    assert_eq!(a.message("api"), "not started: interrupted");
    assert_eq!(fake.count("ExecuteChangeSet"), 0);
    assert!(fake.change_sets_of("api").is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_first_interrupt_cancels_an_update_in_progress_which_rolls_back() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    fake.script("api", Script::Hang);
    let plan = planned(&fake, &["api"]).await;
    let (tx, interrupt) = signals::manual();
    let task = {
        let fake = Arc::clone(&fake);
        tokio::spawn(async move { apply_interrupted(&fake, &plan, &options(), interrupt).await })
    };
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert_eq!(fake.status("api"), Some(StackStatus::UpdateInProgress));
    tx.send(1).unwrap();
    let a = task.await.unwrap();
    assert_eq!(fake.count("CancelUpdateStack"), 1);
    assert_eq!(a.kind("api"), OutcomeKind::Cancelled);
    assert_eq!(a.exit(), Exit::Interrupted);
    assert_eq!(
        a.get("api").status,
        Some(StackStatus::UpdateRollbackComplete)
    );
}

#[tokio::test(start_paused = true)]
async fn a_second_interrupt_stops_waiting_and_says_where_to_look() {
    let fake = fleet(&[]);
    fake.script("new", Script::Hang);
    let plan = planned(&fake, &["new"]).await;
    let (tx, interrupt) = signals::manual();
    let task = {
        let fake = Arc::clone(&fake);
        tokio::spawn(async move { apply_interrupted(&fake, &plan, &options(), interrupt).await })
    };
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    tx.send(1).unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert_eq!(
        fake.count("CancelUpdateStack"),
        0,
        "a create is left to CloudFormation"
    );
    tx.send(2).unwrap();
    let a = task.await.unwrap();
    assert_eq!(a.kind("new"), OutcomeKind::Abandoned);
    assert_eq!(a.get("new").status, Some(StackStatus::CreateInProgress));
    assert!(a.message("new").contains("`cfdeploy events new`"));
    assert_eq!(a.exit(), Exit::Interrupted);
}

// ---- rollback (repair) ----------------------------------------------------------------------

async fn repair_one(fake: &Arc<FakeCfn>, stack: &str, delete: bool) -> Outcome {
    let (_tx, interrupt) = signals::manual();
    let recorder = Arc::new(Recorder::default());
    let events = Events::new(Masker::default(), recorder as _);
    let options = RepairOptions {
        skip_resources: vec!["Queue".into()],
        delete,
        poll: poll(),
        events_tail: 20,
    };
    repair(
        fake.as_ref(),
        "0123456789abcdef",
        REGION,
        stack,
        &options,
        &events,
        interrupt,
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn a_stack_in_review_is_only_deleted_when_asked_and_never_waited_on() {
    let fake = fleet(&[("api", Some(StackStatus::ReviewInProgress))]);
    let o = repair_one(&fake, "api", false).await;
    assert_eq!(o.kind, OutcomeKind::Refused);
    let message = o.message.unwrap();
    assert!(message.contains("pass --delete"), "{message}");
    assert!(message.contains("never created"), "{message}");
    assert_eq!(fake.count("DescribeStackEvents"), 0, "nothing to wait for");

    let o = repair_one(&fake, "api", true).await;
    assert_eq!(o.kind, OutcomeKind::Repaired, "{:?}", o.message);
    assert_eq!(o.status, Some(StackStatus::DeleteComplete));
    assert_eq!(fake.count("DeleteStack"), 1);
}

#[tokio::test(start_paused = true)]
async fn each_status_gets_its_repair() {
    let cases = [
        (
            StackStatus::UpdateRollbackFailed,
            false,
            "ContinueUpdateRollback",
            StackStatus::UpdateRollbackComplete,
        ),
        (
            StackStatus::UpdateFailed,
            false,
            "RollbackStack",
            StackStatus::UpdateRollbackComplete,
        ),
        (
            StackStatus::CreateFailed,
            false,
            "RollbackStack",
            StackStatus::RollbackComplete,
        ),
        (
            StackStatus::RollbackComplete,
            true,
            "DeleteStack",
            StackStatus::DeleteComplete,
        ),
        (
            StackStatus::RollbackFailed,
            true,
            "DeleteStack",
            StackStatus::DeleteComplete,
        ),
        (
            StackStatus::DeleteFailed,
            true,
            "DeleteStack",
            StackStatus::DeleteComplete,
        ),
    ];
    for (status, delete, call, end) in cases {
        let fake = fleet(&[("api", Some(status.clone()))]);
        let o = repair_one(&fake, "api", delete).await;
        assert_eq!(o.kind, OutcomeKind::Repaired, "{status}: {:?}", o.message);
        assert_eq!(o.status, Some(end.clone()), "{status}");
        assert_eq!(fake.count(call), 1, "{status} → {call}");
        if end == StackStatus::RollbackComplete {
            assert!(o
                .message
                .unwrap()
                .contains("cfdeploy rollback api --delete"));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn stacks_that_can_only_be_deleted_are_refused_without_delete() {
    for status in [
        StackStatus::RollbackComplete,
        StackStatus::RollbackFailed,
        StackStatus::DeleteFailed,
    ] {
        let fake = fleet(&[("api", Some(status.clone()))]);
        let o = repair_one(&fake, "api", false).await;
        assert_eq!(o.kind, OutcomeKind::Refused, "{status}");
        assert!(o.message.unwrap().contains("pass --delete"), "{status}");
        assert_eq!(fake.count("DeleteStack"), 0);
    }
}

#[tokio::test(start_paused = true)]
async fn healthy_missing_and_running_stacks() {
    for status in [
        StackStatus::CreateComplete,
        StackStatus::UpdateComplete,
        StackStatus::UpdateRollbackComplete,
        StackStatus::ImportComplete,
        StackStatus::ImportRollbackComplete,
    ] {
        let fake = fleet(&[("api", Some(status.clone()))]);
        let o = repair_one(&fake, "api", true).await;
        assert_eq!(o.kind, OutcomeKind::Unchanged, "{status}");
        assert_eq!(o.message.as_deref(), Some("nothing to repair"));
    }
    let fake = fleet(&[]);
    let o = repair_one(&fake, "api", true).await;
    assert_eq!(o.kind, OutcomeKind::Refused);
    assert!(o.message.unwrap().contains("does not exist"));

    for status in [
        StackStatus::UpdateRollbackInProgress,
        StackStatus::ImportInProgress,
    ] {
        let fake = fleet(&[("api", Some(status.clone()))]);
        fake.finishes_with("api", StackStatus::UpdateRollbackComplete);
        let o = repair_one(&fake, "api", false).await;
        assert_eq!(o.kind, OutcomeKind::Repaired, "{status}");
        assert_eq!(o.message.as_deref(), Some("attached"));
    }
}

#[tokio::test(start_paused = true)]
async fn a_repair_that_fails_again_is_diagnosed_by_the_stacks_name() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateRollbackFailed))]);
    fake.fail(
        "ContinueUpdateRollback",
        Fault::Error {
            code: "ValidationError".into(),
            message: "resource Queue cannot be skipped".into(),
        },
        1,
        0,
    );
    let o = repair_one(&fake, "api", false).await;
    assert_eq!(o.kind, OutcomeKind::Refused);
    assert!(o.message.unwrap().contains("cannot be skipped"));
}

// ---- lost responses and request tokens ------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_lost_answer_to_execute_is_recognised_by_its_token_and_the_stack_watched() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    fake.fail("ExecuteChangeSet", Fault::LostResponse, 1, 0);
    let a = apply(&fake, &plan).await;
    assert_eq!(fake.fault_hits("ExecuteChangeSet"), 1);
    assert_eq!(a.kind("api"), OutcomeKind::Updated, "{}", a.message("api"));
    let expected =
        crate::run::request_token(&plan.correlation_id, crate::run::Step::Execute, "api");
    assert_eq!(
        fake.tokens(),
        [expected],
        "executed once, with the plan's token"
    );
    assert!(a.events.iter().any(
        |e| matches!(e, RolloutEvent::Note(n) if n.contains("answer to ExecuteChangeSet was lost"))
    ));
}

#[tokio::test(start_paused = true)]
async fn the_same_plan_applied_twice_executes_once() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    let arn = plan.stacks[0].change_set_arn.clone().unwrap();
    let token = crate::run::request_token(&plan.correlation_id, crate::run::Step::Execute, "api");
    fake.execute_change_set(REGION, &arn, false, &token)
        .await
        .unwrap();
    // A retry with the same token is the same request (the change set is gone by now).
    fake.execute_change_set(REGION, &arn, false, &token)
        .await
        .unwrap();
    assert_eq!(fake.tokens().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_execute_that_never_arrived_is_refused_and_its_reviewed_change_set_kept() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    fake.fail("ExecuteChangeSet", Fault::Transport, 1, 0);
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Refused);
    assert!(a
        .message("api")
        .contains("could not execute the change set"));
    assert!(fake.tokens().is_empty(), "nothing started");
    assert_eq!(
        fake.change_sets_of("api"),
        [plan.stacks[0].change_set_arn.clone().unwrap()],
        "a transient failure never costs the reviewed change set"
    );
}

#[tokio::test(start_paused = true)]
async fn when_it_cannot_be_told_whether_execute_took_effect_the_outcome_is_unknown() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    fake.fail("ExecuteChangeSet", Fault::Transport, 1, 0);
    // The read that would tell is throttled.
    fake.fail("DescribeStackEvents", Fault::Throttle, 1, 0);
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Unknown);
    assert_eq!(a.exit(), Exit::Unknown);
    assert!(a
        .message("api")
        .contains("cannot tell whether the change set started"));
    assert_eq!(
        fake.change_sets_of("api").len(),
        1,
        "kept: it may be executing"
    );
}

#[tokio::test(start_paused = true)]
async fn a_transient_failure_while_verifying_keeps_the_reviewed_change_set() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    fake.fail("DescribeChangeSet", Fault::Throttle, 1, 0);
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Refused);
    assert!(
        a.message("api").contains("apply again"),
        "{}",
        a.message("api")
    );
    assert_eq!(
        fake.change_sets_of("api").len(),
        1,
        "kept for the next attempt"
    );
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_cancels_an_update_even_before_its_first_status_is_seen() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    fake.script("api", Script::Hang);
    let plan = planned(&fake, &["api"]).await;
    // Every read while watching is throttled for a while: no status is seen.
    fake.fail("DescribeStackEvents", Fault::Throttle, 6, 1);
    fake.fail("DescribeStacks", Fault::Throttle, 6, 1);
    let (tx, interrupt) = signals::manual();
    let task = {
        let fake = Arc::clone(&fake);
        tokio::spawn(async move { apply_interrupted(&fake, &plan, &options(), interrupt).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    tx.send(1).unwrap();
    let a = task.await.unwrap();
    assert_eq!(fake.count("CancelUpdateStack"), 1);
    assert_eq!(a.kind("api"), OutcomeKind::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn a_lost_answer_to_create_change_set_finds_the_change_set_it_made() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    fake.fail("CreateChangeSet", Fault::LostResponse, 1, 0);
    let plan = planned(&fake, &["api"]).await;
    assert_eq!(
        plan.stacks[0].status,
        PlanStatus::Update,
        "{:?}",
        plan.stacks[0].error
    );
    assert_eq!(
        fake.change_sets_of("api"),
        [plan.stacks[0].change_set_arn.clone().unwrap()]
    );
}

// ---- the plan file is untrusted -------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn an_allowance_written_into_the_plan_file_is_not_honoured() {
    let fake = fleet(&[("db", Some(StackStatus::UpdateComplete))]);
    let mut plan = plan_with(&fake, &["db"], |_| vec![table_replacement()]).await;
    plan.stacks[0].allow_destructive = true;
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("db"), OutcomeKind::Blocked);
    assert_eq!(fake.count("ExecuteChangeSet"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_destructive_mark_removed_from_the_plan_file_is_found_again_in_the_change_set() {
    let fake = fleet(&[("db", Some(StackStatus::UpdateComplete))]);
    let mut plan = plan_with(&fake, &["db"], |_| vec![table_replacement()]).await;
    for change in &mut plan.stacks[0].changes {
        change.destructive = None;
    }
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("db"), OutcomeKind::Blocked, "{}", a.message("db"));
    assert!(a
        .message("db")
        .contains("replaces stateful AWS::DynamoDB::Table Table"));
}

#[tokio::test(start_paused = true)]
async fn an_entry_for_a_stack_the_config_does_not_have_or_places_elsewhere_is_refused() {
    let fake = fleet(&[("api", Some(StackStatus::UpdateComplete))]);
    let plan = planned(&fake, &["api"]).await;
    let (_tx, interrupt) = signals::manual();
    let a = apply_configured(&fake, &plan, &[], &options(), interrupt).await;
    assert_eq!(a.kind("api"), OutcomeKind::Refused);
    assert!(
        a.message("api").contains("not in the stack config"),
        "{}",
        a.message("api")
    );

    let mut elsewhere = test_spec("api");
    elsewhere.region = "eu-west-1".into();
    let (_tx, interrupt) = signals::manual();
    let a = apply_configured(&fake, &plan, &[elsewhere], &options(), interrupt).await;
    assert_eq!(a.kind("api"), OutcomeKind::Refused);
    assert!(
        a.message("api").contains("its config in eu-west-1"),
        "{}",
        a.message("api")
    );

    let mut plan = plan;
    let arn = plan.stacks[0].change_set_arn.clone().unwrap();
    plan.stacks[0].change_set_arn = Some(arn.replace(":us-east-1:", ":eu-west-1:"));
    let a = apply(&fake, &plan).await;
    assert_eq!(a.kind("api"), OutcomeKind::Refused);
    assert!(
        a.message("api").contains("not in us-east-1"),
        "{}",
        a.message("api")
    );
    assert_eq!(fake.count("ExecuteChangeSet"), 0);
    assert_eq!(
        fake.change_sets_of("api").len(),
        1,
        "nothing of another stack's is touched"
    );
}

#[tokio::test(start_paused = true)]
async fn a_swapped_change_set_without_a_stack_id_is_caught_by_the_change_sets_own_stack() {
    let fake = fleet(&[
        ("a", Some(StackStatus::UpdateComplete)),
        ("b", Some(StackStatus::UpdateComplete)),
    ]);
    let mut plan = planned(&fake, &["a", "b"]).await;
    let b_arn = entry(&mut plan, "b").change_set_arn.clone().unwrap();
    let a = entry(&mut plan, "a");
    a.change_set_arn = Some(b_arn.clone());
    a.stack_id = None;
    plan.stacks.retain(|s| s.stack == "a");
    let applied = apply(&fake, &plan).await;
    assert_eq!(applied.kind("a"), OutcomeKind::Refused);
    assert!(applied.message("a").contains("belongs to another stack"));
    assert_eq!(fake.count("ExecuteChangeSet"), 0);
    assert_eq!(
        fake.change_sets_of("b"),
        [b_arn],
        "b's reviewed change set is untouched"
    );
}

mod order;
mod prune;
mod watching;
