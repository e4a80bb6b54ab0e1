//! What watching a fleet costs: one listing a tick for the whole fleet, a stack's events read only
//! when they tell something, and two calls per stack before watching. And what happens when the
//! listing is refused or throttled: the deploy goes on, each stack polled by itself.

use super::*;

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("svc{i:02}")).collect()
}

fn no_canary() -> ApplyOptions {
    let mut o = options();
    o.rollout.canary = 0;
    o
}

/// Applies an update of `n` stacks and returns the calls it made, by operation, and the run.
async fn update_fleet(n: usize) -> (Arc<FakeCfn>, Applied, usize) {
    let names = names(n);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let fake = fleet(
        &refs
            .iter()
            .map(|n| (*n, Some(StackStatus::UpdateComplete)))
            .collect::<Vec<_>>(),
    );
    let plan = planned(&fake, &refs).await;
    let before = fake.calls().len();
    let a = apply_with(&fake, &plan, &no_canary()).await;
    (fake, a, before)
}

fn count_since(fake: &FakeCfn, before: usize, operation: &str) -> usize {
    fake.calls()[before..]
        .iter()
        .filter(|c| c.split(' ').next() == Some(operation))
        .count()
}

#[tokio::test(start_paused = true)]
async fn watching_costs_one_listing_a_tick_however_large_the_fleet() {
    let (small, a_small, before_small) = update_fleet(3).await;
    let (large, a_large, before_large) = update_fleet(40).await;
    for a in [&a_small, &a_large] {
        assert!(a.outcomes.iter().all(|o| o.kind == OutcomeKind::Updated));
    }
    let listings_small = count_since(&small, before_small, "ListStacks");
    let listings_large = count_since(&large, before_large, "ListStacks");
    assert!(listings_small >= 1);
    assert!(
        listings_large <= listings_small + 2,
        "listings do not grow with the fleet: {listings_small} for 3 stacks, {listings_large} for 40"
    );
    // Before watching: one read of the change set and the execution, nothing else.
    for (fake, before, n) in [(&small, before_small, 3), (&large, before_large, 40)] {
        assert_eq!(count_since(fake, before, "DescribeChangeSet"), n);
        assert_eq!(count_since(fake, before, "ExecuteChangeSet"), n);
        assert_eq!(count_since(fake, before, "DescribeStacks"), 0);
        assert_eq!(count_since(fake, before, "GetTemplate"), 0);
    }
    let reads_large = count_since(&large, before_large, "DescribeStackEvents");
    assert!(
        reads_large <= 40 * 3,
        "events are read when they tell something, not polled: {reads_large} reads for 40 stacks"
    );
}

#[tokio::test(start_paused = true)]
async fn every_event_of_each_operation_is_reported_once_and_in_order() {
    let (_, a, _) = update_fleet(12).await;
    for name in names(12) {
        let statuses: Vec<String> = a
            .events
            .iter()
            .filter_map(|e| match e {
                RolloutEvent::StackEvent(ev) if ev.stack_name == name && ev.is_stack_event() => {
                    Some(ev.status.to_string())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            statuses.first().map(String::as_str),
            Some("UPDATE_IN_PROGRESS"),
            "{name}: {statuses:?}"
        );
        assert_eq!(
            statuses.last().map(String::as_str),
            Some("UPDATE_COMPLETE"),
            "{name}: {statuses:?}"
        );
        let mut ids: Vec<&str> = a
            .events
            .iter()
            .filter_map(|e| match e {
                RolloutEvent::StackEvent(ev) if ev.stack_name == name => Some(ev.event_id.as_str()),
                _ => None,
            })
            .collect();
        let total = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), total, "{name}: no event reported twice");
    }
}

#[tokio::test(start_paused = true)]
async fn when_listing_is_refused_each_stack_is_polled_and_the_deploy_goes_on() {
    let fake = fleet(&[
        ("a", Some(StackStatus::UpdateComplete)),
        ("b", Some(StackStatus::UpdateComplete)),
    ]);
    let plan = planned(&fake, &["a", "b"]).await;
    fake.fail(
        "ListStacks",
        Fault::Error {
            code: "AccessDenied".into(),
            message: "not authorized to perform: cloudformation:ListStacks".into(),
        },
        1,
        0,
    );
    let a = apply_with(&fake, &plan, &no_canary()).await;
    assert_eq!(a.kind("a"), OutcomeKind::Updated);
    assert_eq!(a.kind("b"), OutcomeKind::Updated);
    assert_eq!(fake.count("ListStacks"), 1, "asked once, then never again");
}

#[tokio::test(start_paused = true)]
async fn throttled_listings_are_skipped_and_the_deploy_goes_on() {
    let fake = fleet(&[("a", Some(StackStatus::UpdateComplete))]);
    fails(&fake, "a");
    let plan = planned(&fake, &["a"]).await;
    fake.fail("ListStacks", Fault::Throttle, 3, 0);
    let a = apply(&fake, &plan).await;
    assert_eq!(fake.fault_hits("ListStacks"), 3);
    assert_eq!(a.kind("a"), OutcomeKind::RolledBack);
    assert!(a.get("a").diagnosis.is_some(), "diagnosed as ever");
}

#[tokio::test(start_paused = true)]
async fn a_removed_stateful_resource_is_the_only_reason_to_read_the_deployed_template() {
    let fake = fleet(&[("db", Some(StackStatus::UpdateComplete))]);
    fake.set_template(
        "db",
        "Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n",
    );
    let removal = ResourceChange {
        action: Action::Remove,
        replacement: None,
        ..table_replacement()
    };
    let plan = plan_with(&fake, &["db"], |_| vec![removal.clone()]).await;
    let before = fake.count("GetTemplate");
    let a = apply(&fake, &plan).await;
    assert_eq!(fake.count("GetTemplate"), before + 1);
    assert_eq!(
        a.kind("db"),
        OutcomeKind::Updated,
        "retained by its DeletionPolicy, so not destructive: {}",
        a.message("db")
    );
}

#[tokio::test(start_paused = true)]
async fn listings_that_keep_failing_hand_watching_back_to_each_stack() {
    let fake = fleet(&[("a", Some(StackStatus::UpdateComplete))]);
    fake.script("a", Script::Hang);
    let plan = planned(&fake, &["a"]).await;
    fake.fail("ListStacks", Fault::Transport, 1000, 0);
    let (tx, interrupt) = signals::manual();
    let fake2 = Arc::clone(&fake);
    let watching =
        tokio::spawn(async move { apply_interrupted(&fake2, &plan, &options(), interrupt).await });
    // Long enough for five failed listings and then some polling of its own.
    tokio::time::sleep(std::time::Duration::from_secs(15)).await;
    let listings = fake.count("ListStacks");
    assert_eq!(listings, 5, "listing stops after five failures");
    let reads = fake.count("DescribeStackEvents");
    assert!(reads >= 3, "the stack is polled by itself: {reads} reads");
    let _ = tx.send(2);
    let _ = watching.await;
}
