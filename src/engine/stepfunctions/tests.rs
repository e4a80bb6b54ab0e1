use super::*;
use crate::model::OutcomeKind;
use crate::model::StackPlan;
use crate::rollout::{RolloutOptions, RolloutStack};

fn entry(stack: &str, region: &str, arn: &str) -> StackPlan {
    let mut entry = StackPlan::new(stack, region, "stacks.yaml", PlanStatus::Update);
    entry.stack_id = Some(format!("id-{stack}"));
    entry.change_set_arn = Some(arn.into());
    entry.change_set_name = Some("cs".into());
    entry
}

fn plan(stacks: Vec<StackPlan>) -> Plan {
    Plan {
        correlation_id: "3f9a2c0011223344".into(),
        created_at: "2026-12-02T00:00:00Z".into(),
        stacks,
    }
}

#[test]
fn the_execution_name_is_a_valid_function_of_the_plan_alone() {
    let p = plan(vec![
        entry("a", "us-east-1", "arn:cs/a"),
        entry("b", "eu-west-1", "arn:cs/b"),
    ]);
    let name = execution_name(&p, "us-east-1");
    assert!(name.len() <= 80, "{name}");
    assert!(
        name.starts_with("cfdeploy-3f9a2c0011223344-us-east-1-"),
        "{name}"
    );
    assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    assert_eq!(
        name,
        execution_name(&p, "us-east-1"),
        "the same plan, the same name"
    );
    assert_ne!(
        name,
        execution_name(&p, "eu-west-1"),
        "one execution per region"
    );
    // Another change set for a stack of the region is another execution; the other region's
    // entries do not change this region's name.
    let changed = plan(vec![
        entry("a", "us-east-1", "arn:cs/a2"),
        entry("b", "eu-west-1", "arn:cs/b"),
    ]);
    assert_ne!(name, execution_name(&changed, "us-east-1"));
    assert_eq!(
        execution_name(&p, "eu-west-1"),
        execution_name(&changed, "eu-west-1")
    );
}

fn execute(name: &str, region: &str, create: bool) -> RolloutStack {
    RolloutStack {
        stack: name.into(),
        region: region.into(),
        action: StackAction::Execute {
            change_set_arn: format!("arn:cs/{name}"),
            create,
        },
        changes: 1,
        termination_protection: true,
        outputs: false,
        after: vec![],
    }
}

#[test]
fn the_input_holds_the_regions_change_sets_in_waves_with_their_tokens_and_the_budget() {
    let mut settled = execute("d", "us-east-1", false);
    settled.action = StackAction::Settled {
        kind: OutcomeKind::Unchanged,
        status: None,
        message: None,
    };
    let rollout = Rollout::new(
        "3f9a2c0011223344",
        vec![
            execute("a", "us-east-1", true),
            execute("b", "us-east-1", false),
            execute("c", "eu-west-1", false),
            settled,
        ],
        &RolloutOptions {
            concurrency: 5,
            max_in_flight: Some(3),
            max_failures: 2,
            canary: 1,
            disable_rollback: false,
        },
    );
    let body = input(&rollout, "us-east-1");
    let waves = body["waves"].as_array().unwrap();
    assert_eq!(waves.len(), 2, "{body}");
    assert_eq!(waves[0]["canary"], true);
    assert_eq!(
        waves[0]["pollCap"], CANARY_POLL_CAP,
        "the canary is polled more often"
    );
    assert_eq!(waves[1]["pollCap"], POLL_CAP);
    assert_eq!(waves[0]["stacks"][0]["stack"], "a");
    assert_eq!(
        waves[0]["stacks"][0]["protect"], true,
        "a create keeps its protection"
    );
    assert_eq!(
        waves[1]["stacks"].as_array().unwrap().len(),
        1,
        "c is eu-west-1's, d settled"
    );
    assert_eq!(waves[1]["stacks"][0]["protect"], false, "not a create");
    assert_eq!(
        waves[1]["stacks"][0]["token"],
        request_token("3f9a2c0011223344", Step::Execute, "b"),
        "the token the local engine would use: verify recognises the execution's operation"
    );
    assert_eq!(body["maxFailures"], 2);
    assert_eq!(body["concurrency"], 0, "a batch runs at once");
}

#[test]
fn the_definition_is_valid_json_naming_every_state_it_goes_to() {
    let d: serde_json::Value = serde_json::from_str(DEFINITION).unwrap();
    fn check(states: &serde_json::Value) {
        let names: Vec<&String> = states.as_object().unwrap().keys().collect();
        for (_, state) in states.as_object().unwrap() {
            let mut targets: Vec<&str> = Vec::new();
            for key in ["Next", "Default"] {
                if let Some(t) = state[key].as_str() {
                    targets.push(t);
                }
            }
            for list in ["Choices", "Catch"] {
                for c in state[list].as_array().into_iter().flatten() {
                    targets.extend(c["Next"].as_str());
                }
            }
            for t in targets {
                assert!(names.iter().any(|n| n.as_str() == t), "no state {t}");
            }
            if let Some(inner) = state.get("ItemProcessor") {
                check(&inner["States"]);
                // A stack's result is returned to the parent (a Distributed Map: every item's,
                // within 256 KB): small fields only, never events.
                for (name, end) in inner["States"].as_object().unwrap() {
                    if end["End"] == true {
                        for key in end["Parameters"].as_object().unwrap().keys() {
                            let key = key.trim_end_matches(".$");
                            assert!(
                                [
                                    "stack",
                                    "ok",
                                    "executed",
                                    "status",
                                    "error",
                                    "mark",
                                    "eventsRead"
                                ]
                                .contains(&key),
                                "{name} returns {key}"
                            );
                        }
                    }
                }
            }
        }
        for name in names {
            assert!(
                name.len() <= 80
                    && !name
                        .chars()
                        .any(|c| c.is_whitespace() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)),
                "state name {name} is not one AWS accepts"
            );
        }
    }
    check(&d["States"]);
}

#[test]
fn a_state_machine_is_found_by_name_or_arn_in_each_region() {
    assert_eq!(
        state_machine_arn("cfdeploy-rollout", "eu-west-1", "123456789012"),
        "arn:aws:states:eu-west-1:123456789012:stateMachine:cfdeploy-rollout"
    );
    assert_eq!(
        state_machine_arn(
            "arn:aws:states:us-east-1:999999999999:stateMachine:mine",
            "eu-west-1",
            "123456789012"
        ),
        "arn:aws:states:eu-west-1:999999999999:stateMachine:mine"
    );
    assert_eq!(
        execution_arn("arn:aws:states:us-east-1:1:stateMachine:m", "x"),
        "arn:aws:states:us-east-1:1:execution:m:x"
    );
}

#[test]
fn max_in_flight_runs_each_wave_in_batches_so_the_budget_stops_new_stacks() {
    let rollout = Rollout::new(
        "3f9a2c0011223344",
        ["a", "b", "c", "d", "e"]
            .iter()
            .map(|n| execute(n, "us-east-1", false))
            .collect(),
        &RolloutOptions {
            concurrency: 8,
            max_in_flight: Some(2),
            max_failures: 1,
            canary: 1,
            disable_rollback: false,
        },
    );
    let body = input(&rollout, "us-east-1");
    let sizes: Vec<usize> = body["waves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["stacks"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [1, 2, 2], "the canary, then batches of two: {body}");
    assert_eq!(body["waves"][0]["canary"], true);
    assert_eq!(body["waves"][1]["canary"], false);
}

#[test]
fn a_region_holds_about_nine_hundred_stacks_in_one_execution_input() {
    let rollout_of = |n: usize| {
        let stacks = (0..n)
            .map(|i| {
                let name = format!("service-{i:04}-prod-us-east-1");
                let mut s = execute(&name, "us-east-1", false);
                s.action = StackAction::Execute {
                    change_set_arn: format!(
                        "arn:aws:cloudformation:us-east-1:123456789012:changeSet/cfdeploy-20261202T043322-edae2c/{}",
                        "0123abcd-0123-4567-89ab-0123456789ab"
                    ),
                    create: false,
                };
                s
            })
            .collect();
        Rollout::new(
            "3f9a2c0011223344",
            stacks,
            &RolloutOptions {
                concurrency: 8,
                max_in_flight: None,
                max_failures: 1,
                canary: 1,
                disable_rollback: false,
            },
        )
    };
    let size = |n: usize| input(&rollout_of(n), "us-east-1").to_string().len();
    assert!(size(900) < MAX_INPUT_BYTES, "{}", size(900));
    assert!(size(1000) > MAX_INPUT_BYTES, "{}", size(1000));
}
