//! `cfdeploy delete` through the real binary against the emulator: shown first, asked, guarded,
//! watched, diagnosed when it fails, and retried keeping what could not be deleted.

mod support;

use std::sync::Mutex;

use support::{cfdeploy, json, run, unique, Emulator, Run, Workspace};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 0}"#);
    guard
}

/// One stack from a template fixture, with `extra` config lines.
fn stack(name: &str, fixture: &str, extra: &str) -> Workspace {
    let ws = Workspace::new();
    ws.fixture("templates/t.yaml", fixture);
    ws.write(
        "stacks.yaml",
        &format!("stacks:\n  {name}:\n    template: templates/t.yaml\n    parameters: {{ServiceName: {name}, ApiToken: x}}\n{extra}"),
    );
    ws
}

fn cfd(ws: &Workspace, args: &[&str]) -> Run {
    run(cfdeploy(&Emulator::shared().endpoint, ws.path())
        .args(["--config", "stacks.yaml"])
        .args(args))
}

fn deploy(ws: &Workspace) {
    let out = cfd(ws, &["apply", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}

#[test]
fn a_deletion_is_shown_first_needs_consent_and_keeps_what_its_policy_keeps() {
    let _g = serial();
    let name = unique("del");
    let ws = stack(&name, "templates/fails-on-delete.yaml", "");
    // The topic deletes this time: no failure injected in this copy of the template.
    let body = std::fs::read_to_string(ws.path().join("templates/t.yaml"))
        .unwrap()
        .replace("fail-on: [delete]", "fail-on: []");
    ws.write("templates/t.yaml", &body);
    deploy(&ws);

    let none = cfd(&ws, &["delete"]);
    assert_eq!(none.code, 64, "{}", none.stderr);
    assert!(
        none.stderr.contains("name the stacks to delete"),
        "{}",
        none.stderr
    );

    let shown = cfd(&ws, &["delete", &name, "--dry-run"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown.stdout.contains("Delete 1 of 1 stack"),
        "{}",
        shown.stdout
    );
    assert!(shown.stdout.contains("- AlarmTopic"), "{}", shown.stdout);
    assert!(
        shown.stdout.contains("= OrdersTable")
            && shown.stdout.contains("kept (DeletionPolicy Retain)"),
        "{}",
        shown.stdout
    );
    let e = Emulator::shared();
    assert_eq!(e.stack_status(&name).as_deref(), Some("CREATE_COMPLETE"));

    let unasked = cfd(&ws, &["delete", &name]);
    assert_eq!(unasked.code, 1);
    assert!(
        unasked.stderr.contains("without confirmation"),
        "{}",
        unasked.stderr
    );
    assert_eq!(e.stack_status(&name).as_deref(), Some("CREATE_COMPLETE"));

    let out = cfd(&ws, &["delete", &name, "--yes", "--format", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let doc = json(&out.stdout);
    assert_eq!(doc["kind"], "delete");
    assert_eq!(doc["stacks"][0]["result"], "deleted", "{doc}");
    assert_eq!(doc["stacks"][0]["message"], "kept in place: OrdersTable");
    assert_eq!(e.stack_status(&name), None, "gone");
}

#[test]
fn stateful_resources_block_and_termination_protection_refuses() {
    let _g = serial();
    let name = unique("delq");
    let ws = stack(
        &name,
        "templates/queue-service.yaml",
        "    termination_protection: true\n",
    );
    deploy(&ws);
    let blocked = cfd(&ws, &["delete", &name, "--yes"]);
    assert_eq!(
        blocked.code, 1,
        "protection is checked first: {}",
        blocked.stdout
    );
    assert!(
        blocked.stdout.contains("termination protection is on")
            && blocked.stdout.contains("update-termination-protection"),
        "{}",
        blocked.stdout
    );
    let e = Emulator::shared();
    e.call(&[
        ("Action", "UpdateTerminationProtection"),
        ("StackName", &name),
        ("EnableTerminationProtection", "false"),
    ]);
    let blocked = cfd(&ws, &["delete", &name, "--yes"]);
    assert_eq!(blocked.code, 3, "{}", blocked.stdout);
    assert!(
        blocked.stdout.contains("deletes stateful AWS::SQS::Queue"),
        "{}",
        blocked.stdout
    );
    assert_eq!(e.stack_status(&name).as_deref(), Some("CREATE_COMPLETE"));
    let out = cfd(&ws, &["delete", &name, "--yes", "--allow-destructive"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(e.stack_status(&name), None);
}

#[test]
fn a_failed_deletion_shows_its_root_cause_and_the_retry_keeps_what_failed() {
    let _g = serial();
    let name = unique("delf");
    let ws = stack(&name, "templates/fails-on-delete.yaml", "");
    deploy(&ws);
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 0.2}"#);
    let out = cfd(&ws, &["delete", &name, "--yes"]);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("Root cause"), "{}", out.stdout);
    assert!(
        out.stdout.contains("Topic has subscriptions in use"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("cfdeploy delete {name} --retain AlarmTopic")),
        "{}",
        out.stdout
    );
    // Without a terminal the progress is one line per event, the deletion's own.
    assert!(
        out.stderr
            .contains("AlarmTopic AWS::SNS::Topic DELETE_FAILED"),
        "{}",
        out.stderr
    );
    let e = Emulator::shared();
    assert_eq!(e.stack_status(&name).as_deref(), Some("DELETE_FAILED"));

    let out = cfd(&ws, &["delete", &name, "--yes", "--retain", "AlarmTopic"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("kept in place: AlarmTopic, OrdersTable")
            || out
                .stdout
                .contains("kept in place: OrdersTable, AlarmTopic"),
        "{}",
        out.stdout
    );
    assert_eq!(e.stack_status(&name), None);
}

#[test]
fn a_retried_deletion_shows_and_judges_only_what_the_failed_one_left() {
    let _g = serial();
    let name = unique("dell");
    let ws = Workspace::new();
    ws.write(
        "templates/t.yaml",
        "Parameters:\n  ServiceName: {Type: String}\nResources:\n  AlarmTopic:\n    Type: AWS::SNS::Topic\n    Metadata:\n      cfdeploy-emulator:\n        fail-on: [delete]\n        reason: \"Topic has subscriptions in use\"\n  WorkQueue:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !Sub \"${ServiceName}-work\"}\n",
    );
    ws.write(
        "stacks.yaml",
        &format!("stacks:\n  {name}:\n    template: templates/t.yaml\n    parameters: {{ServiceName: {name}}}\n"),
    );
    deploy(&ws);
    // The queue is stateful: the first deletion needs the allowance, and deletes it.
    let first = cfd(&ws, &["delete", &name, "--yes", "--allow-destructive"]);
    assert_eq!(first.code, 4, "{}\n{}", first.stdout, first.stderr);
    assert_eq!(
        Emulator::shared().stack_status(&name).as_deref(),
        Some("DELETE_FAILED")
    );
    // The retry lists what is left, and the queue, gone already, blocks nothing.
    let retry = cfd(&ws, &["delete", &name, "--yes", "--retain", "AlarmTopic"]);
    assert_eq!(retry.code, 0, "{}\n{}", retry.stdout, retry.stderr);
    assert!(!retry.stdout.contains("WorkQueue"), "{}", retry.stdout);
    assert!(
        retry.stdout.contains("kept in place: AlarmTopic"),
        "{}",
        retry.stdout
    );
    assert_eq!(Emulator::shared().stack_status(&name), None);
}
