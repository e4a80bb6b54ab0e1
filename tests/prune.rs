//! Stacks that left the config, end to end against the emulator: a fleet's stacks carry its tag;
//! one removed from the config is listed as "not in config", and deleted only when a plan made
//! with `--prune` asks for it, through the destructive guard, exactly once.

mod support;

use std::sync::Mutex;

use support::{cfdeploy, json, run, unique, Emulator, Run, Workspace};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 0}"#);
    guard
}

/// A config of `stacks` in fleet `fleet`, every stack on the queue service template.
fn write_config(ws: &Workspace, fleet: &str, stacks: &[&str]) {
    let mut config = format!(
        "defaults:\n  fleet: {fleet}\n  template: templates/t.yaml\n  parameters: {{ApiToken: x}}\nstacks:\n"
    );
    for name in stacks {
        config.push_str(&format!(
            "  {name}:\n    parameters: {{ServiceName: {name}}}\n"
        ));
    }
    ws.write("stacks.yaml", &config);
}

fn cfd(ws: &Workspace, args: &[&str]) -> Run {
    run(cfdeploy(&Emulator::shared().endpoint, ws.path())
        .args(["--config", "stacks.yaml"])
        .args(args))
}

fn entry<'a>(doc: &'a serde_json::Value, stack: &str) -> Option<&'a serde_json::Value> {
    doc["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stack"] == stack)
}

#[test]
fn a_stack_that_left_the_config_is_listed_and_deleted_only_when_a_pruning_plan_is_applied() {
    let _g = serial();
    let (fleet, keep, gone) = (unique("fleet"), unique("keep"), unique("gone"));
    let ws = Workspace::new();
    ws.fixture("templates/t.yaml", "templates/queue-service.yaml");
    write_config(&ws, &fleet, &[&keep, &gone]);
    let deployed = cfd(&ws, &["apply", "--yes"]);
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    // A stack of another fleet is never this fleet's concern.
    let other = Workspace::new();
    let stranger = unique("stranger");
    other.fixture("templates/t.yaml", "templates/queue-service.yaml");
    write_config(&other, &unique("otherfleet"), &[&stranger]);
    assert_eq!(cfd(&other, &["apply", "--yes"]).code, 0);

    write_config(&ws, &fleet, &[&keep]);
    let listed = cfd(&ws, &["plan", "--format", "json"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let doc = json(&listed.stdout);
    assert_eq!(entry(&doc, &gone).unwrap()["status"], "not-in-config");
    assert_eq!(entry(&doc, &keep).unwrap()["status"], "no-changes");
    assert!(entry(&doc, &stranger).is_none(), "{doc}");
    assert_eq!(doc["summary"]["not_in_config"], 1, "{doc}");
    let table = cfd(&ws, &["plan"]);
    assert!(
        table.stdout.contains(&gone) && table.stdout.contains("not in config"),
        "{}",
        table.stdout
    );
    // Applying a plan that only lists it deletes nothing.
    let p = cfd(&ws, &["plan", "--out", "list.json"]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    let applied = cfd(&ws, &["apply", "--plan", "list.json"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(
        Emulator::shared().stack_status(&gone).as_deref(),
        Some("CREATE_COMPLETE")
    );

    // --prune plans the deletion: every resource goes, the queues are stateful.
    let p = cfd(
        &ws,
        &["plan", "--prune", "--out", "prune.json", "--format", "json"],
    );
    assert_eq!(p.code, 0, "{}", p.stderr);
    let doc = json(&p.stdout);
    let planned = entry(&doc, &gone).unwrap();
    assert_eq!(planned["status"], "delete", "{planned}");
    let changes = planned["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 4, "{planned}");
    assert!(changes.iter().all(|c| c["action"] == "Remove"), "{planned}");
    let destructive: Vec<&str> = changes
        .iter()
        .filter(|c| c["destructive"] == true)
        .map(|c| c["logical_id"].as_str().unwrap())
        .collect();
    assert_eq!(destructive, ["DeadLetterQueue", "WorkQueue"], "{planned}");
    let md = cfd(&ws, &["show", "prune.json", "--format", "markdown"]);
    assert!(md.stdout.contains("delete (destructive)"), "{}", md.stdout);

    // A plan file edited to delete a stack of another fleet: the config given to apply decides
    // which fleets may lose stacks, not the plan file.
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path().join("prune.json")).unwrap())
            .unwrap();
    let mut forged = entry(&doc, &gone).unwrap().clone();
    let (status, body) =
        Emulator::shared().call(&[("Action", "DescribeStacks"), ("StackName", &stranger)]);
    assert_eq!(status, 200, "{body}");
    forged["stack"] = stranger.as_str().into();
    forged["stack_id"] = support::xml_value(&body, "StackId").unwrap().into();
    forged["fingerprint"]["last_updated"] = serde_json::Value::Null;
    doc["stacks"] = serde_json::Value::Array(vec![forged]);
    ws.write("forged.json", &doc.to_string());
    let forged = cfd(
        &ws,
        &[
            "apply",
            "--plan",
            "forged.json",
            "--allow-destructive",
            "--format",
            "json",
        ],
    );
    let outcome = entry(&json(&forged.stdout), &stranger).unwrap().clone();
    assert_eq!(outcome["result"], "refused", "{outcome}");
    assert!(
        outcome["message"]
            .as_str()
            .unwrap()
            .contains("no fleet the config given to apply declares"),
        "{outcome}"
    );
    assert_eq!(
        Emulator::shared().stack_status(&stranger).as_deref(),
        Some("CREATE_COMPLETE")
    );

    // The guard holds it like any destructive change.
    let blocked = cfd(&ws, &["apply", "--plan", "prune.json", "--format", "json"]);
    assert_eq!(blocked.code, 3, "{}", blocked.stderr);
    assert_eq!(
        Emulator::shared().stack_status(&gone).as_deref(),
        Some("CREATE_COMPLETE")
    );
    let allowed = cfd(
        &ws,
        &[
            "apply",
            "--plan",
            "prune.json",
            "--allow-destructive",
            "--format",
            "json",
        ],
    );
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    let outcome = entry(&json(&allowed.stdout), &gone).unwrap().clone();
    assert_eq!(outcome["result"], "deleted", "{outcome}");
    assert_eq!(Emulator::shared().stack_status(&gone), None);
    assert_eq!(
        Emulator::shared().stack_status(&keep).as_deref(),
        Some("CREATE_COMPLETE")
    );

    // The same plan again: nothing executed twice.
    let again = cfd(
        &ws,
        &[
            "apply",
            "--plan",
            "prune.json",
            "--allow-destructive",
            "--format",
            "json",
        ],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    let outcome = entry(&json(&again.stdout), &gone).unwrap().clone();
    assert_eq!(outcome["result"], "deleted", "{outcome}");
    assert!(
        outcome["message"]
            .as_str()
            .unwrap_or_default()
            .contains("deleted already"),
        "{outcome}"
    );
    let listed = cfd(&ws, &["plan", "--format", "json"]);
    assert!(entry(&json(&listed.stdout), &gone).is_none());
}

#[test]
fn a_stack_back_in_the_config_is_not_deleted_and_a_partial_read_lists_nothing() {
    let _g = serial();
    let (fleet, a, b) = (unique("fleet"), unique("a"), unique("b"));
    let ws = Workspace::new();
    ws.fixture("templates/t.yaml", "templates/queue-service.yaml");
    write_config(&ws, &fleet, &[&a, &b]);
    assert_eq!(cfd(&ws, &["apply", "--yes"]).code, 0);

    write_config(&ws, &fleet, &[&a]);
    let p = cfd(&ws, &["plan", "--prune", "--out", "prune.json"]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    write_config(&ws, &fleet, &[&a, &b]);
    let applied = cfd(
        &ws,
        &[
            "apply",
            "--plan",
            "prune.json",
            "--allow-destructive",
            "--format",
            "json",
        ],
    );
    let outcome = entry(&json(&applied.stdout), &b).unwrap().clone();
    assert_eq!(outcome["result"], "refused", "{outcome}");
    assert!(
        outcome["message"]
            .as_str()
            .unwrap()
            .contains("in the stack config again"),
        "{outcome}"
    );
    assert_eq!(
        Emulator::shared().stack_status(&b).as_deref(),
        Some("CREATE_COMPLETE")
    );

    // --prune with --stack: a part of the config cannot tell what left it.
    let usage = cfd(&ws, &["plan", "--prune", "--stack", &a]);
    assert_eq!(usage.code, 64, "{}", usage.stderr);
    assert!(usage.stderr.contains("drop --stack"), "{}", usage.stderr);

    // A fleet declared in a folder's _defaults.yaml, one file of it read: nothing is "left".
    let tree = Workspace::new();
    tree.fixture("prod/templates/t.yaml", "templates/queue-service.yaml");
    tree.write(
        "prod/_defaults.yaml",
        &format!("defaults:\n  fleet: {fleet}\n  template: templates/t.yaml\n  parameters: {{ApiToken: x}}\n"),
    );
    tree.write(
        "prod/one.yaml",
        &format!("stacks:\n  {a}:\n    parameters: {{ServiceName: {a}}}\n"),
    );
    let partial = run(cfdeploy(&Emulator::shared().endpoint, tree.path()).args([
        "--config",
        "prod/one.yaml",
        "plan",
        "--format",
        "json",
    ]));
    assert_eq!(partial.code, 0, "{}", partial.stderr);
    assert!(
        entry(&json(&partial.stdout), &b).is_none(),
        "{}",
        partial.stdout
    );
    assert!(
        partial.stderr.contains("looked for only when the folder"),
        "{}",
        partial.stderr
    );
    // The whole folder read: b is not in it.
    let whole = run(cfdeploy(&Emulator::shared().endpoint, tree.path())
        .args(["--config", "prod", "plan", "--format", "json"]));
    assert_eq!(whole.code, 0, "{}", whole.stderr);
    assert_eq!(
        entry(&json(&whole.stdout), &b).unwrap()["status"],
        "not-in-config"
    );
}

#[test]
fn every_region_the_config_uses_is_looked_at_for_the_fleets_stacks() {
    let _g = serial();
    let (fleet, a, c, d) = (unique("fleet"), unique("a"), unique("c"), unique("d"));
    let ws = Workspace::new();
    ws.fixture("templates/t.yaml", "templates/queue-service.yaml");
    let config = |with_c: bool| {
        let mut text = format!(
            "defaults:\n  template: templates/t.yaml\n  parameters: {{ApiToken: x}}\nstacks:\n  {a}:\n    fleet: {fleet}\n    parameters: {{ServiceName: {a}}}\n  {d}:\n    region: eu-west-1\n    parameters: {{ServiceName: {d}}}\n"
        );
        if with_c {
            text.push_str(&format!(
                "  {c}:\n    fleet: {fleet}\n    region: eu-west-1\n    parameters: {{ServiceName: {c}}}\n"
            ));
        }
        ws.write("stacks.yaml", &text);
    };
    config(true);
    let deployed = cfd(&ws, &["apply", "--yes"]);
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    // c was the fleet's last stack in eu-west-1; the config still uses the region (d).
    config(false);
    let out = cfd(&ws, &["plan", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = json(&out.stdout);
    let left = entry(&doc, &c).unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(left["status"], "not-in-config");
    assert_eq!(left["region"], "eu-west-1");
    assert!(entry(&doc, &d).is_some_and(|e| e["status"] == "no-changes"));
}

#[test]
fn a_stack_moved_to_another_region_has_left_the_old_one() {
    let _g = serial();
    let (fleet, stay, moved) = (unique("fleet"), unique("stay"), unique("moved"));
    let ws = Workspace::new();
    ws.write(
        "templates/t.yaml",
        "Resources:\n  Topic: {Type: AWS::SNS::Topic}\n",
    );
    let config = |region: &str| {
        ws.write(
            "stacks.yaml",
            &format!(
                "defaults:\n  fleet: {fleet}\n  template: templates/t.yaml\nstacks:\n  {stay}: {{}}\n  {moved}:\n    region: {region}\n"
            ),
        );
    };
    config("us-east-1");
    assert_eq!(cfd(&ws, &["apply", "--yes"]).code, 0);
    config("eu-west-1");
    let moved_now = cfd(&ws, &["apply", "--yes"]);
    assert_eq!(moved_now.code, 0, "{}", moved_now.stderr);
    let p = cfd(
        &ws,
        &["plan", "--prune", "--out", "prune.json", "--format", "json"],
    );
    assert_eq!(p.code, 0, "{}", p.stderr);
    let doc = json(&p.stdout);
    let old = doc["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stack"] == moved.as_str() && s["region"] == "us-east-1")
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(old["status"], "delete", "{old}");
    let applied = cfd(&ws, &["apply", "--plan", "prune.json", "--format", "json"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    // The old copy is gone; the new one stays, the config's.
    let after = json(&cfd(&ws, &["plan", "--format", "json"]).stdout);
    let copies: Vec<&str> = after["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["stack"] == moved.as_str())
        .map(|s| s["region"].as_str().unwrap())
        .collect();
    assert_eq!(copies, ["eu-west-1"], "{after}");
}

#[test]
fn a_region_being_retired_is_looked_in_while_fleet_regions_lists_it() {
    let _g = serial();
    let (fleet, stay, last) = (unique("fleet"), unique("stay"), unique("last"));
    let ws = Workspace::new();
    ws.write(
        "templates/t.yaml",
        "Resources:\n  Topic: {Type: AWS::SNS::Topic}\n",
    );
    let config = |with_last: bool, retiring: bool| {
        let mut text = format!("defaults:\n  fleet: {fleet}\n  template: templates/t.yaml\n");
        if retiring {
            text.push_str("  fleet_regions: [ap-south-1]\n");
        }
        text.push_str(&format!("stacks:\n  {stay}: {{}}\n"));
        if with_last {
            text.push_str(&format!("  {last}:\n    region: ap-south-1\n"));
        }
        ws.write("stacks.yaml", &text);
    };
    let listed = |ws: &Workspace| {
        let out = cfd(ws, &["plan", "--format", "json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        entry(&json(&out.stdout), &last).map(|e| e["status"].as_str().unwrap().to_string())
    };
    config(true, false);
    let deployed = cfd(&ws, &["apply", "--yes"]);
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);

    // The region's last stack leaves the config, which then names the region nowhere.
    config(false, false);
    assert_eq!(
        listed(&ws),
        None,
        "a region the config does not name is not looked in"
    );
    config(false, true);
    assert_eq!(listed(&ws).as_deref(), Some("not-in-config"));
    let p = cfd(
        &ws,
        &["plan", "--prune", "--out", "prune.json", "--format", "json"],
    );
    assert_eq!(p.code, 0, "{}", p.stderr);
    let planned = entry(&json(&p.stdout), &last).unwrap().clone();
    assert_eq!(
        (planned["status"].as_str(), planned["region"].as_str()),
        (Some("delete"), Some("ap-south-1")),
        "{planned}"
    );

    // Applied with a config that no longer lists the region: refused, nothing deleted.
    config(false, false);
    let refused = cfd(&ws, &["apply", "--plan", "prune.json", "--format", "json"]);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    let outcome = entry(&json(&refused.stdout), &last).unwrap().clone();
    assert_eq!(outcome["result"], "refused", "{outcome}");
    assert!(
        outcome["message"]
            .as_str()
            .unwrap()
            .contains("`fleet_regions` lists it"),
        "{outcome}"
    );
    config(false, true);
    assert_eq!(
        listed(&ws).as_deref(),
        Some("not-in-config"),
        "still deployed"
    );

    // With the region listed, the reviewed deletion runs; then nothing is left to list.
    let applied = cfd(&ws, &["apply", "--plan", "prune.json", "--format", "json"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert_eq!(listed(&ws), None);
}
