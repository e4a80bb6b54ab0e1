//! `depends_on`: a stack goes after the stacks it depends on, never before them and not at all
//! when one of them failed; the canary still goes first within that order.

use super::*;

fn specs(deps: &[(&str, &[&str])]) -> Vec<StackSpec> {
    deps.iter()
        .map(|(name, after)| {
            let mut s = test_spec(name);
            s.depends_on = after.iter().map(|d| d.to_string()).collect();
            s
        })
        .collect()
}

fn started_order(a: &Applied) -> Vec<String> {
    a.started()
}

#[tokio::test(start_paused = true)]
async fn dependents_start_after_their_upstream_succeeded() {
    // Written dependents first: the order comes from depends_on, not from the config.
    let names = ["orders", "billing", "network"];
    let fake = fleet(&names.map(|n| (n, Some(StackStatus::UpdateComplete))));
    let plan = planned(&fake, &names).await;
    let deps = specs(&[
        ("orders", &["network"]),
        ("billing", &["network"]),
        ("network", &[]),
    ]);
    let (_tx, interrupt) = signals::manual();
    let mut o = options();
    o.rollout.canary = 1;
    let a = apply_configured(&fake, &plan, &deps, &o, interrupt).await;
    for n in names {
        assert_eq!(a.kind(n), OutcomeKind::Updated, "{n}: {}", a.message(n));
    }
    let started = started_order(&a);
    assert_eq!(
        started[0], "network",
        "the canary is the upstream: {started:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_upstream_holds_its_dependents_back_and_says_which() {
    let names = ["network", "orders", "docs"];
    let fake = fleet(&names.map(|n| (n, Some(StackStatus::UpdateComplete))));
    fails(&fake, "network");
    let plan = planned(&fake, &names).await;
    let deps = specs(&[("network", &[]), ("orders", &["network"]), ("docs", &[])]);
    let (_tx, interrupt) = signals::manual();
    let mut o = options();
    o.rollout.max_failures = 5;
    let a = apply_configured(&fake, &plan, &deps, &o, interrupt).await;
    assert_eq!(a.kind("network"), OutcomeKind::RolledBack);
    assert_eq!(a.kind("orders"), OutcomeKind::NotStarted);
    assert_eq!(
        a.message("orders"),
        "not started: it depends on network, which failed and rolled back"
    );
    assert_eq!(
        a.kind("docs"),
        OutcomeKind::Updated,
        "independent stacks go on"
    );
    assert!(
        fake.change_sets_of("orders").is_empty(),
        "its change set is deleted"
    );
}

#[tokio::test(start_paused = true)]
async fn the_failure_budget_is_the_rollouts_not_one_waves() {
    // a fails in the first level; c, in the next level, depends only on b, which succeeded.
    let names = ["a", "b", "c"];
    let fake = fleet(&names.map(|n| (n, Some(StackStatus::UpdateComplete))));
    fails(&fake, "a");
    let plan = planned(&fake, &names).await;
    let deps = specs(&[("a", &[]), ("b", &[]), ("c", &["b"])]);
    let (_tx, interrupt) = signals::manual();
    let a = apply_configured(&fake, &plan, &deps, &options(), interrupt).await;
    assert_eq!(a.kind("a"), OutcomeKind::RolledBack);
    assert_eq!(a.kind("b"), OutcomeKind::Updated);
    assert_eq!(a.kind("c"), OutcomeKind::NotStarted);
    assert!(
        a.message("c").contains("stopped after 1 failure"),
        "{}",
        a.message("c")
    );
}
