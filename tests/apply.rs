//! `cfdeploy apply`, `events` and `rollback` end to end against the emulator, with its failure
//! injection, delays and faults. The emulator's delay and faults are global, so these tests run
//! one at a time (this binary has its own emulator).

mod support;

use std::sync::Mutex;

use support::{cfdeploy, json, run, run_or_hang, unique, Emulator, Run, Workspace};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let e = Emulator::shared();
    e.control("DELETE", "/_emulator/faults", "");
    e.control("POST", "/_emulator/settings", r#"{"delay": 0}"#);
    guard
}

fn delay(seconds: f64) {
    Emulator::shared().control(
        "POST",
        "/_emulator/settings",
        &format!(r#"{{"delay": {seconds}}}"#),
    );
}

/// Stacks (name, template fixture) with their service name set to their stack name.
fn fleet(stacks: &[(&str, &str)], extra: &str) -> Workspace {
    let ws = Workspace::new();
    let mut config =
        String::from("defaults:\n  parameters: {ApiToken: \"${env:API_TOKEN}\"}\nstacks:\n");
    for (name, template) in stacks {
        let file = format!("templates/{name}.yaml");
        ws.fixture(&file, template);
        config.push_str(&format!(
            "  {name}:\n    template: {file}\n    parameters: {{ServiceName: {name}}}\n{extra}"
        ));
    }
    ws.write("stacks.yaml", &config);
    ws
}

fn use_template(ws: &Workspace, stack: &str, fixture: &str) {
    ws.fixture(&format!("templates/{stack}.yaml"), fixture);
}

fn cmd(ws: &Workspace, args: &[&str]) -> std::process::Command {
    let mut c = cfdeploy(&Emulator::shared().endpoint, ws.path());
    c.env("API_TOKEN", "apply-Secret-42")
        .arg("--config")
        .arg("stacks.yaml")
        .args(args);
    c
}

fn cfd(ws: &Workspace, args: &[&str]) -> Run {
    run(&mut cmd(ws, args))
}

/// plan --out, then apply --plan.
fn plan_and_apply(ws: &Workspace, apply_args: &[&str]) -> Run {
    let p = cfd(ws, &["plan", "--out", "plan.json"]);
    assert!(p.code == 0 || p.code == 1, "{}", p.stderr);
    let mut args = vec!["apply", "--plan", "plan.json"];
    args.extend_from_slice(apply_args);
    cfd(ws, &args)
}

/// Starts cfdeploy in the background and returns once `stack` is in `status`.
fn spawn_until(ws: &Workspace, args: &[&str], stack: &str, status: &str) -> std::process::Child {
    let child = cmd(ws, args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while Emulator::shared().stack_status(stack).as_deref() != Some(status) {
        assert!(
            std::time::Instant::now() < deadline,
            "{stack} never reached {status}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child
}

fn outcome<'a>(doc: &'a serde_json::Value, stack: &str) -> &'a serde_json::Value {
    doc["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stack"] == stack)
        .unwrap_or_else(|| panic!("{stack}: {doc}"))
}

#[test]
fn creates_and_updates_several_stacks_with_progress_and_leaves_no_change_set() {
    let _g = serial();
    let (a, b) = (unique("app"), unique("app"));
    let ws = fleet(
        &[
            (&a, "templates/queue-service.yaml"),
            (&b, "templates/queue-service.yaml"),
        ],
        "    termination_protection: true\n",
    );
    let out = plan_and_apply(&ws, &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    // Without a terminal: append-only lines, one per event, prefixed by the stack name.
    assert!(
        out.stderr.contains(&format!("{a}: "))
            && out
                .stderr
                .contains("WorkQueue AWS::SQS::Queue CREATE_COMPLETE"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.lines().any(|l| l.starts_with(&format!("{b}: "))
            && l.ends_with(&format!("{b} AWS::CloudFormation::Stack CREATE_COMPLETE"))),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("2 created"), "{}", out.stdout);
    // What each created stack outputs, whole, after the results.
    let outputs = out.stdout.find("Outputs").expect("an outputs section");
    assert!(
        out.stdout[outputs..].contains("WorkQueueUrl  http"),
        "{}",
        out.stdout
    );
    let e = Emulator::shared();
    for s in [&a, &b] {
        assert_eq!(e.stack_status(s).as_deref(), Some("CREATE_COMPLETE"));
        let (_, body) = e.call(&[("Action", "DescribeStacks"), ("StackName", s)]);
        assert!(
            body.contains("<EnableTerminationProtection>true</EnableTerminationProtection>"),
            "termination protection set after create"
        );
        assert_eq!(e.change_set_count(s), 0);
    }
    use_template(&ws, &a, "templates/queue-service-add-modify-remove.yaml");
    let out = plan_and_apply(&ws, &["--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = json(&out.stdout);
    assert_eq!(doc["kind"], "apply");
    assert_eq!(outcome(&doc, &a)["result"], "updated");
    assert_eq!(outcome(&doc, &b)["result"], "unchanged");
    let url = &outcome(&doc, &a)["outputs"][0];
    assert_eq!(url["key"], "WorkQueueUrl", "{doc}");
    assert!(url["value"].as_str().unwrap().contains(&a), "{doc}");
    assert_eq!(
        outcome(&doc, &b)["outputs"],
        serde_json::json!([]),
        "an unchanged stack is not read"
    );
    assert_eq!(e.stack_status(&a).as_deref(), Some("UPDATE_COMPLETE"));
}

#[test]
fn a_failed_create_shows_the_root_cause_first_and_exits_4() {
    let _g = serial();
    let name = unique("bad");
    let ws = fleet(&[(&name, "templates/fails-on-create.yaml")], "");
    let out = plan_and_apply(&ws, &[]);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    let text = &out.stdout;
    let root = text.find("Root cause").expect("a root cause section");
    let cause = text
        .find("WorkQueue (AWS::SQS::Queue) CREATE_FAILED")
        .expect("WorkQueue is the root cause");
    let reason = text.find("Queue quota exceeded").unwrap();
    let tail = text.find("Last ").unwrap();
    assert!(root < cause && cause < reason && reason < tail, "{text}");
    let causes = &text[root..tail];
    assert!(
        !causes.contains("Resource creation cancelled"),
        "the cascade is not the cause:\n{causes}"
    );
    assert!(
        text[tail..].contains("Resource creation cancelled"),
        "the cascade is in the tail"
    );
    assert!(
        text.contains("ROLLBACK_COMPLETE")
            && text.contains(&format!("cfdeploy rollback {name} --delete")),
        "{text}"
    );
    assert!(text.contains("create failed and rolled back"));

    // Later, on demand, the same diagnosis.
    let events = cfd(&ws, &["events", &name]);
    assert_eq!(events.code, 0, "{}", events.stderr);
    assert!(
        events
            .stdout
            .contains("WorkQueue (AWS::SQS::Queue) CREATE_FAILED")
            && events.stdout.contains("Queue quota exceeded"),
        "{}",
        events.stdout
    );
    // And the repair: delete the empty stack.
    let repair = cfd(&ws, &["rollback", &name, "--delete"]);
    assert_eq!(repair.code, 0, "{}\n{}", repair.stdout, repair.stderr);
    assert_eq!(Emulator::shared().stack_status(&name), None);
}

#[test]
fn a_failed_update_rolls_back_and_exits_1_with_its_diagnosis_in_json() {
    let _g = serial();
    let name = unique("upd");
    let ws = fleet(&[(&name, "templates/queue-service.yaml")], "");
    assert_eq!(plan_and_apply(&ws, &[]).code, 0);
    use_template(&ws, &name, "templates/update-fails.yaml");
    let out = plan_and_apply(&ws, &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc = json(&out.stdout);
    let o = outcome(&doc, &name);
    assert_eq!(o["result"], "rolled-back");
    assert_eq!(o["status"], "UPDATE_ROLLBACK_COMPLETE");
    let cause = &o["diagnosis"]["root_causes"][0];
    assert_eq!(cause["logical_id"], "WorkQueue");
    assert!(cause["reason"]
        .as_str()
        .unwrap()
        .contains("Invalid value for MessageRetentionPeriod"));
    // Events from the earlier create never appear in this diagnosis.
    let events = o["diagnosis"]["events"].as_array().unwrap();
    assert!(
        events.iter().all(|e| e["status"] != "CREATE_COMPLETE"),
        "{events:?}"
    );
    assert_eq!(doc["exit_code"], 1);
}

#[test]
fn a_failed_rollback_exits_4_and_is_repaired_by_skipping_the_resource() {
    let _g = serial();
    let name = unique("rbf");
    let ws = fleet(&[(&name, "templates/queue-service.yaml")], "");
    assert_eq!(plan_and_apply(&ws, &[]).code, 0);
    use_template(&ws, &name, "templates/update-and-rollback-fail.yaml");
    let out = plan_and_apply(&ws, &[]);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("UPDATE_ROLLBACK_FAILED") && out.stdout.contains("--skip-resource"),
        "{}",
        out.stdout
    );
    // Every command gives the same advice for the stack, by its name.
    let advice = format!("`cfdeploy rollback {name} --skip-resource LOGICAL_ID`");
    let planned = cfd(&ws, &["plan"]);
    assert_eq!(planned.code, 1, "{}", planned.stderr);
    assert!(planned.stdout.contains(&advice), "{}", planned.stdout);
    let events = cfd(&ws, &["events", &name]);
    assert_eq!(events.code, 0, "{}", events.stderr);
    assert!(
        events
            .stdout
            .contains(&format!("✗ {name} UPDATE_ROLLBACK_FAILED"))
            && events.stdout.contains(&advice),
        "{}",
        events.stdout
    );
    let repair = cfd(&ws, &["rollback", &name, "--skip-resource", "WorkQueue"]);
    assert_eq!(repair.code, 0, "{}\n{}", repair.stdout, repair.stderr);
    assert!(repair.stdout.contains("repaired"), "{}", repair.stdout);
    assert_eq!(
        Emulator::shared().stack_status(&name).as_deref(),
        Some("UPDATE_ROLLBACK_COMPLETE")
    );
}

#[test]
fn a_stack_left_in_review_is_explained_everywhere_and_removed_only_with_delete() {
    let _g = serial();
    let name = unique("rev");
    let ws = fleet(&[(&name, "templates/queue-service.yaml")], "");
    // A first plan that is never applied leaves the stack in REVIEW_IN_PROGRESS.
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    let e = Emulator::shared();
    assert_eq!(e.stack_status(&name).as_deref(), Some("REVIEW_IN_PROGRESS"));

    let events = cfd(&ws, &["events", &name]);
    assert_eq!(events.code, 0, "{}", events.stderr);
    assert!(
        events
            .stdout
            .contains(&format!("• {name} REVIEW_IN_PROGRESS"))
            && events.stdout.contains("never created")
            && !events.stdout.contains('✓')
            && !events.stdout.contains("still running"),
        "{}",
        events.stdout
    );

    // Without --delete, rollback says what to do and returns (it used to wait forever).
    let refused = run_or_hang(
        &mut cmd(&ws, &["rollback", &name]),
        std::time::Duration::from_secs(60),
    );
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stdout.contains("pass --delete"),
        "{}",
        refused.stdout
    );
    assert_eq!(e.stack_status(&name).as_deref(), Some("REVIEW_IN_PROGRESS"));

    let deleted = cfd(&ws, &["rollback", &name, "--delete"]);
    assert_eq!(deleted.code, 0, "{}\n{}", deleted.stdout, deleted.stderr);
    assert!(deleted.stdout.contains("repaired"), "{}", deleted.stdout);
    assert_eq!(e.stack_status(&name), None);

    // The reviewed plan is now stale: its change set went with the stack.
    let applied = cfd(&ws, &["apply", "--plan", "plan.json"]);
    assert_eq!(applied.code, 1, "{}", applied.stdout);
    assert!(applied.stdout.contains("refused"), "{}", applied.stdout);
    assert_eq!(e.stack_status(&name), None, "nothing was created");
}

#[test]
fn a_stale_plan_is_refused_and_nothing_is_executed() {
    let _g = serial();
    let name = unique("stale");
    let ws = fleet(&[(&name, "templates/queue-service.yaml")], "");
    assert_eq!(plan_and_apply(&ws, &[]).code, 0);
    use_template(&ws, &name, "templates/queue-service-add-modify-remove.yaml");
    assert_eq!(cfd(&ws, &["plan", "--out", "reviewed.json"]).code, 0);
    // Someone else changes the stack after the review, differently: a parameter, on the old template.
    ws.fixture("templates/other.yaml", "templates/queue-service.yaml");
    ws.write(
        "other.yaml",
        &format!("stacks:\n  {name}:\n    template: templates/other.yaml\n    parameters: {{ServiceName: {name}, ApiToken: x, VisibilityTimeout: 77}}\n"),
    );
    let other = run(cfdeploy(&Emulator::shared().endpoint, ws.path())
        .env("API_TOKEN", "x")
        .args(["--config", "other.yaml", "apply", "--yes"]));
    assert_eq!(other.code, 0, "{}", other.stderr);
    let out = cfd(&ws, &["apply", "--plan", "reviewed.json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    // CloudFormation removes a stack's other change sets once one is executed.
    assert!(
        out.stdout.contains("refused")
            && out.stdout.contains("its change set no longer exists")
            && out.stdout.contains("plan again"),
        "{}",
        out.stdout
    );
    let (_, template) = Emulator::shared().call(&[("Action", "GetTemplate"), ("StackName", &name)]);
    assert!(
        !template.contains("AlarmTopic"),
        "the reviewed change set was not executed"
    );
    assert_eq!(
        Emulator::shared().change_set_count(&name),
        0,
        "the stale change set is deleted"
    );
}

#[test]
fn the_first_failure_stops_new_stacks_and_a_failed_canary_stops_the_rest() {
    let _g = serial();
    let (bad, ok1, ok2) = (unique("c-bad"), unique("c-ok"), unique("c-ok"));
    let ws = fleet(
        &[
            (&bad, "templates/fails-on-create.yaml"),
            (&ok1, "templates/queue-service.yaml"),
            (&ok2, "templates/queue-service.yaml"),
        ],
        "",
    );
    let out = plan_and_apply(
        &ws,
        &["--canary", "0", "--max-in-flight", "1", "--format", "json"],
    );
    assert_eq!(out.code, 4, "{}", out.stderr);
    let doc = json(&out.stdout);
    assert_eq!(outcome(&doc, &bad)["result"], "create-rolled-back");
    for s in [&ok1, &ok2] {
        assert_eq!(outcome(&doc, s)["result"], "not-started");
        assert!(outcome(&doc, s)["message"]
            .as_str()
            .unwrap()
            .contains("--max-failures"));
        assert_eq!(
            Emulator::shared().change_set_count(s),
            0,
            "unexecuted change sets are deleted"
        );
    }
    cfd(&ws, &["rollback", &bad, "--delete"]);

    let (bad, ok1) = (unique("k-bad"), unique("k-ok"));
    let ws = fleet(
        &[
            (&bad, "templates/fails-on-create.yaml"),
            (&ok1, "templates/queue-service.yaml"),
        ],
        "",
    );
    // No --canary: with more than one stack to change, the first goes alone by default.
    let out = plan_and_apply(&ws, &["--concurrency", "8", "--format", "json"]);
    assert!(
        out.stderr
            .contains(&format!("canary: applying {bad} first")),
        "{}",
        out.stderr
    );
    let doc = json(&out.stdout);
    assert_eq!(outcome(&doc, &ok1)["result"], "not-started");
    assert!(outcome(&doc, &ok1)["message"]
        .as_str()
        .unwrap()
        .contains("canary"));

    let (bad, ok1) = (unique("m-bad"), unique("m-ok"));
    let ws = fleet(
        &[
            (&bad, "templates/fails-on-create.yaml"),
            (&ok1, "templates/queue-service.yaml"),
        ],
        "",
    );
    let out = plan_and_apply(
        &ws,
        &[
            "--canary",
            "0",
            "--concurrency",
            "1",
            "--max-failures",
            "2",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        outcome(&json(&out.stdout), &ok1)["result"],
        "created",
        "--max-failures 2 goes on after one"
    );
}

#[test]
fn apply_attaches_to_an_operation_already_in_progress() {
    let _g = serial();
    let name = unique("att");
    let ws = fleet(&[(&name, "templates/queue-service.yaml")], "");
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    let arn = json(&std::fs::read_to_string(ws.path().join("plan.json")).unwrap())["stacks"][0]
        ["change_set_arn"]
        .as_str()
        .unwrap()
        .to_string();
    delay(0.4);
    // A first run executed it, then its CI runner died.
    let (status, _) =
        Emulator::shared().call(&[("Action", "ExecuteChangeSet"), ("ChangeSetName", &arn)]);
    assert_eq!(status, 200);
    let out = cfd(&ws, &["apply", "--plan", "plan.json", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let o = outcome(&json(&out.stdout), &name).clone();
    assert_eq!(o["result"], "created");
    assert!(o["message"].as_str().unwrap().contains("attached"), "{o}");
    assert!(
        out.stderr.contains("already in progress; attaching"),
        "{}",
        out.stderr
    );
}

#[test]
fn without_a_terminal_apply_refuses_to_plan_and_apply_unless_told_yes() {
    let _g = serial();
    let name = unique("yes");
    let ws = fleet(&[(&name, "templates/queue-service.yaml")], "");
    let out = cfd(&ws, &["apply"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("refusing to apply without confirmation")
            && out.stderr.contains("--yes"),
        "{}",
        out.stderr
    );
    assert_eq!(
        Emulator::shared().change_set_count(&name),
        0,
        "the change set is deleted"
    );
    assert_eq!(
        Emulator::shared().stack_status(&name).as_deref(),
        Some("REVIEW_IN_PROGRESS")
    );
    let out = cfd(&ws, &["apply", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("Plan: 1 stack to change"),
        "the plan is shown: {}",
        out.stderr
    );
    assert_eq!(
        Emulator::shared().stack_status(&name).as_deref(),
        Some("CREATE_COMPLETE")
    );
}

#[test]
fn throttled_event_reads_never_fail_a_deploy() {
    let _g = serial();
    let name = unique("thr");
    let ws = fleet(&[(&name, "templates/queue-service.yaml")], "");
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    delay(0.2);
    // No baseline is read (the operation's events are found by its token): every read of the
    // stack's events is made while watching, and the first three are throttled.
    Emulator::shared().control(
        "POST",
        "/_emulator/faults",
        r#"{"action": "DescribeStackEvents", "count": 3, "kind": "throttle", "after": 0}"#,
    );
    let out = cfd(&ws, &["apply", "--plan", "plan.json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("1 created"), "{}", out.stdout);
    let faults = json(&Emulator::shared().control("GET", "/_emulator/faults", ""));
    assert_eq!(
        (faults[0]["hits"].as_u64(), faults[0]["after"].as_u64()),
        (Some(3), Some(0)),
        "all three throttles hit the reads made while watching: {faults}"
    );
}

#[test]
fn ndjson_streams_one_event_per_line_on_stdout() {
    let _g = serial();
    let name = unique("nd");
    let ws = fleet(&[(&name, "templates/queue-service.yaml")], "");
    let out = plan_and_apply(&ws, &["--events-format", "ndjson"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let events: Vec<serde_json::Value> = out.stdout.lines().map(json).collect();
    assert!(events.len() >= 10, "{}", out.stdout);
    for e in &events {
        assert_eq!(e["stack"], name.as_str());
        assert!(
            e["status"].is_string() && e["logical_id"].is_string() && e["event_id"].is_string()
        );
    }
    assert_eq!(events.last().unwrap()["status"], "CREATE_COMPLETE");
    assert!(
        out.stderr.contains("1 created"),
        "the summary goes to stderr: {}",
        out.stderr
    );
}

#[cfg(unix)]
#[test]
fn an_interrupt_cancels_a_slow_update_which_rolls_back_and_exits_130() {
    let _g = serial();
    let name = unique("int");
    let ws = fleet(&[(&name, "templates/queue-service.yaml")], "");
    assert_eq!(plan_and_apply(&ws, &[]).code, 0);
    use_template(&ws, &name, "templates/queue-service-renamed-all.yaml");
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    delay(0.5);
    // Renaming queues replaces them: destructive, so explicitly allowed here.
    let child = spawn_until(
        &ws,
        &["apply", "--plan", "plan.json", "--allow-destructive"],
        &name,
        "UPDATE_IN_PROGRESS",
    );
    let e = Emulator::shared();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("interrupted: starting nothing new"),
        "{stderr}"
    );
    assert!(
        stdout.contains("cancelled") && stdout.contains("UPDATE_ROLLBACK_COMPLETE"),
        "{stdout}"
    );
    assert_eq!(
        e.stack_status(&name).as_deref(),
        Some("UPDATE_ROLLBACK_COMPLETE")
    );
}

#[cfg(unix)]
#[test]
fn a_second_interrupt_exits_at_once_and_names_what_still_runs() {
    let _g = serial();
    let name = unique("int2");
    let ws = fleet(&[(&name, "templates/queue-service.yaml")], "");
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    delay(1.0);
    let child = spawn_until(
        &ws,
        &["apply", "--plan", "plan.json", "--format", "json"],
        &name,
        "CREATE_IN_PROGRESS",
    );
    let e = Emulator::shared();
    let pid = child.id().to_string();
    for _ in 0..2 {
        assert!(std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    // It exits at once, naming what still runs and how to look at it.
    assert!(
        stderr.contains(&format!("still running in CloudFormation: {name}"))
            && stderr.contains("`cfdeploy events STACK`"),
        "{stderr}"
    );
    // A create is left to CloudFormation: it was not cancelled and finishes on its own.
    delay(0.0);
    assert_eq!(e.wait_settled(&name), "CREATE_COMPLETE");
}

/// A table stack deployed with key `id`, then planned with key `pk` (a replacement).
fn table_with_new_key(fixture: &str, extra: &str) -> (Workspace, String) {
    let name = unique("tbl");
    let ws = fleet(&[(&name, fixture)], extra);
    assert_eq!(plan_and_apply(&ws, &[]).code, 0);
    let config = std::fs::read_to_string(ws.path().join("stacks.yaml")).unwrap();
    ws.write(
        "stacks.yaml",
        &config.replace(
            &format!("{{ServiceName: {name}}}"),
            &format!("{{ServiceName: {name}, KeyName: pk}}"),
        ),
    );
    (ws, name)
}

#[test]
fn replacing_a_table_is_blocked_unless_allowed_or_retained() {
    let _g = serial();
    let (ws, name) = table_with_new_key("templates/orders-table.yaml", "");
    let plan = cfd(&ws, &["plan", "--out", "plan.json"]);
    assert!(
        plan.stdout
            .contains("⚠ destructive: replaces stateful AWS::DynamoDB::Table OrdersTable"),
        "{}",
        plan.stdout
    );
    let doc = json(&std::fs::read_to_string(ws.path().join("plan.json")).unwrap());
    assert_eq!(doc["stacks"][0]["destructive"], true);
    assert_eq!(doc["summary"]["destructive"], 1);
    let blocked = cfd(&ws, &["apply", "--plan", "plan.json"]);
    assert_eq!(blocked.code, 3, "{}\n{}", blocked.stdout, blocked.stderr);
    assert!(
        blocked.stdout.contains("blocked: destructive")
            && blocked.stdout.contains("--allow-destructive"),
        "{}",
        blocked.stdout
    );
    let e = Emulator::shared();
    assert_eq!(
        e.stack_status(&name).as_deref(),
        Some("CREATE_COMPLETE"),
        "nothing was executed"
    );
    assert_eq!(
        e.change_set_count(&name),
        0,
        "the blocked change set is deleted"
    );

    let allowed = plan_and_apply(&ws, &["--allow-destructive"]);
    assert_eq!(allowed.code, 0, "{}\n{}", allowed.stdout, allowed.stderr);
    assert_eq!(e.stack_status(&name).as_deref(), Some("UPDATE_COMPLETE"));

    let (ws, _) = table_with_new_key(
        "templates/orders-table.yaml",
        "    allow_destructive: true\n",
    );
    assert_eq!(
        plan_and_apply(&ws, &[]).code,
        0,
        "allowed per stack in the config"
    );

    let (ws, _) = table_with_new_key("templates/orders-table-retained.yaml", "");
    let plan = cfd(&ws, &["plan", "--format", "json"]);
    let doc = json(&plan.stdout);
    assert_eq!(doc["stacks"][0]["changes"][0]["replacement"], "True");
    assert_eq!(
        doc["stacks"][0]["destructive"], false,
        "UpdateReplacePolicy: Retain keeps the old table"
    );
    assert_eq!(plan_and_apply(&ws, &[]).code, 0);
}

#[test]
fn removing_a_log_group_is_blocked_unless_the_deployed_template_retains_it() {
    let _g = serial();
    let name = unique("logs");
    let ws = fleet(&[(&name, "templates/orders-table.yaml")], "");
    assert_eq!(plan_and_apply(&ws, &[]).code, 0);
    use_template(&ws, &name, "templates/orders-table-without-log.yaml");
    let out = plan_and_apply(&ws, &["--format", "json"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let o = outcome(&json(&out.stdout), &name).clone();
    assert_eq!(o["result"], "blocked");
    assert!(
        o["message"]
            .as_str()
            .unwrap()
            .contains("removes stateful AWS::Logs::LogGroup AuditLog"),
        "{o}"
    );
    // A markdown plan for the pull request puts the stack first and marks it.
    let md = cfd(&ws, &["plan", "--format", "markdown"]).stdout;
    assert!(
        md.contains("⚠️ update (destructive)")
            && md.contains("⚠️ **Destructive:** removes stateful AWS::Logs::LogGroup AuditLog"),
        "{md}"
    );
}

#[test]
fn with_rollback_disabled_a_failed_create_is_kept_then_rolled_back_on_request() {
    let _g = serial();
    let name = unique("keep");
    let ws = fleet(&[(&name, "templates/fails-on-create.yaml")], "");
    let out = plan_and_apply(&ws, &["--disable-rollback", "--format", "json"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    let o = outcome(&json(&out.stdout), &name).clone();
    assert_eq!(o["result"], "failed-kept");
    assert_eq!(o["status"], "CREATE_FAILED");
    assert!(o["diagnosis"]["next_step"]
        .as_str()
        .unwrap()
        .contains(&format!("cfdeploy rollback {name}")));
    let repair = cfd(&ws, &["rollback", &name]);
    assert_eq!(repair.code, 0, "{}\n{}", repair.stdout, repair.stderr);
    assert!(
        repair.stdout.contains("repaired") && repair.stdout.contains("--delete"),
        "{}",
        repair.stdout
    );
    assert_eq!(
        Emulator::shared().stack_status(&name).as_deref(),
        Some("ROLLBACK_COMPLETE")
    );
}

/// Edits the plan file as a hostile contributor could.
fn tamper(ws: &Workspace, file: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = ws.path().join(file);
    let mut doc = json(&std::fs::read_to_string(&path).unwrap());
    edit(&mut doc);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
}

#[test]
fn a_tampered_plan_file_is_refused_for_what_was_changed_and_touches_no_other_stack() {
    let _g = serial();
    let (a, b) = (unique("tam"), unique("tam"));
    let ws = fleet(
        &[
            (&a, "templates/queue-service.yaml"),
            (&b, "templates/queue-service.yaml"),
        ],
        "",
    );
    assert_eq!(plan_and_apply(&ws, &[]).code, 0);
    for s in [&a, &b] {
        use_template(&ws, s, "templates/queue-service-add-modify-remove.yaml");
    }
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    let e = Emulator::shared();
    // a's entry now names b's change set, without a stack id to compare.
    tamper(&ws, "plan.json", |doc| {
        let stacks = doc["stacks"].as_array_mut().unwrap();
        let b_arn =
            stacks.iter().find(|s| s["stack"] == b.as_str()).unwrap()["change_set_arn"].clone();
        let entry = stacks
            .iter_mut()
            .find(|s| s["stack"] == a.as_str())
            .unwrap();
        entry["change_set_arn"] = b_arn;
        entry["stack_id"] = serde_json::Value::Null;
    });
    let out = cfd(
        &ws,
        &[
            "--stack",
            &a,
            "apply",
            "--plan",
            "plan.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let doc = json(&out.stdout);
    assert_eq!(outcome(&doc, &a)["result"], "refused");
    assert!(
        outcome(&doc, &a)["message"]
            .as_str()
            .unwrap()
            .contains("belongs to another stack"),
        "{doc}"
    );
    assert_eq!(
        e.change_set_count(&b),
        1,
        "b's reviewed change set is untouched"
    );
    assert_eq!(
        e.stack_status(&b).as_deref(),
        Some("CREATE_COMPLETE"),
        "b was not executed"
    );

    // An unknown field is not a plan cfdeploy wrote.
    tamper(&ws, "plan.json", |doc| {
        doc["stacks"][0]["skip_checks"] = serde_json::Value::Bool(true);
    });
    let out = cfd(&ws, &["apply", "--plan", "plan.json"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("is not a cfdeploy plan") && out.stderr.contains("skip_checks"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_allowance_edited_into_the_plan_file_does_not_let_a_table_be_replaced() {
    let _g = serial();
    let (ws, name) = table_with_new_key("templates/orders-table.yaml", "");
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    tamper(&ws, "plan.json", |doc| {
        let entry = &mut doc["stacks"][0];
        entry["allow_destructive"] = serde_json::Value::Bool(true);
        for change in entry["changes"].as_array_mut().unwrap() {
            change["destructive"] = serde_json::Value::Bool(false);
            change["destructive_reason"] = serde_json::Value::Null;
        }
    });
    let out = cfd(&ws, &["apply", "--plan", "plan.json"]);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("blocked"), "{}", out.stdout);
    assert_eq!(
        Emulator::shared().stack_status(&name).as_deref(),
        Some("CREATE_COMPLETE"),
        "nothing was executed"
    );
}

#[test]
fn apply_of_a_saved_plan_needs_no_parameter_values_and_keeps_every_mask() {
    let _g = serial();
    let name = unique("env");
    let ws = fleet(
        &[(&name, "templates/fails-on-create.yaml")],
        "    mask: ['quota exceeded']\n",
    );
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    // The apply job does not have the secret the plan job had.
    let out = run(cfdeploy(&Emulator::shared().endpoint, ws.path()).args([
        "--config",
        "stacks.yaml",
        "apply",
        "--plan",
        "plan.json",
    ]));
    assert_eq!(out.code, 4, "the apply ran: {}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("Queue ****"), "{}", out.stdout);
    assert!(!out.stdout.contains("quota exceeded"), "{}", out.stdout);
    assert!(!out.stderr.contains("quota exceeded"), "{}", out.stderr);
}

#[test]
fn a_root_cause_shared_by_several_stacks_is_explained_once() {
    let _g = serial();
    let (a, b, c) = (unique("same-a"), unique("same-b"), unique("same-c"));
    let ws = fleet(
        &[
            (&a, "templates/fails-on-create.yaml"),
            (&b, "templates/fails-on-create.yaml"),
            (&c, "templates/fails-on-create.yaml"),
        ],
        "",
    );
    let out = plan_and_apply(&ws, &["--canary", "0", "--max-failures", "3"]);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    let text = &out.stdout;
    assert_eq!(
        text.matches("Root cause").count(),
        1,
        "one explanation for the fleet:\n{text}"
    );
    // The first diagnosis is shown whole; the other stacks are named under it.
    let names = [a.as_str(), b.as_str(), c.as_str()];
    let shown: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| text.contains(&format!("cfdeploy rollback {n} --delete")))
        .collect();
    assert_eq!(shown.len(), 1, "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("The same root cause failed 2 more stacks:"))
        .unwrap_or_else(|| panic!("{text}"));
    for other in names.iter().filter(|n| **n != shown[0]) {
        assert!(line.contains(other), "{line}");
    }
    // Each stack still has its own row in the outcomes.
    for n in names {
        assert!(
            text.lines()
                .any(|l| l.contains(n) && l.contains("create failed")),
            "{n}: {text}"
        );
        cfd(&ws, &["rollback", n, "--delete"]);
    }
}

/// A fleet of `names` on the queue service template, planned into `plan.json`, with the
/// emulator's resources taking 0.3 s each from now on (the caller sets `delay(0.0)` after).
fn planned_with_slow_resources(names: &[String]) -> Workspace {
    let ws = fleet(
        &names
            .iter()
            .map(|n| (n.as_str(), "templates/queue-service.yaml"))
            .collect::<Vec<_>>(),
        "",
    );
    let planned = cfd(&ws, &["plan", "--out", "plan.json"]);
    assert_eq!(planned.code, 0, "{}\n{}", planned.stdout, planned.stderr);
    delay(0.3);
    ws
}

#[test]
fn live_progress_on_a_narrow_terminal_never_wraps_or_leaves_stale_rows() {
    let _g = serial();
    let names = [
        unique("live-progress-orders-service"),
        unique("live-b"),
        unique("live-progress-c"),
    ];
    let ws = planned_with_slow_resources(&names);
    let columns = 60;
    let (code, screen) = support::terminal::run_on_terminal(
        &cmd(&ws, &["apply", "--plan", "plan.json", "--color", "never"]),
        columns,
    );
    delay(0.0);
    assert_eq!(code, 0, "{}", screen.join("\n"));
    let time = |row: &str| {
        let last = row.split_whitespace().last().unwrap_or("");
        last.ends_with('s') && last.contains('m')
    };
    for name in &names {
        // The live rows begin with the stack's name and a column gap; the outcomes after them
        // (one per stack, "name · result · …" at this width) are not live rows.
        let rows: Vec<&String> = screen
            .iter()
            .filter(|r| r.starts_with(&format!("{name}  ")))
            .collect();
        assert_eq!(
            rows.len(),
            1,
            "one live row for {name}, no stale copy:\n{}",
            screen.join("\n")
        );
        assert!(
            time(rows[0]) && rows[0].contains("created"),
            "the row ends with its time on the same screen row (it did not wrap): {:?}\n{}",
            rows[0],
            screen.join("\n")
        );
        assert!(rows[0].chars().count() < columns, "{:?}", rows[0]);
    }
    // The name column is as wide as the longest name from the start: the states line up.
    let starts: Vec<usize> = names
        .iter()
        .map(|n| {
            let row = screen
                .iter()
                .find(|r| r.starts_with(&format!("{n}  ")))
                .unwrap();
            row.find("created").unwrap()
        })
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] == w[1]),
        "{starts:?}\n{}",
        screen.join("\n")
    );
    // At this width the outcomes follow one per stack, nothing cut.
    for name in &names {
        assert!(
            screen
                .iter()
                .any(|r| r.starts_with(&format!("{name} · created"))),
            "{}",
            screen.join("\n")
        );
    }
}

#[test]
fn a_fleet_taller_than_the_terminal_is_drawn_in_place_without_copies_in_the_scrollback() {
    let _g = serial();
    let names: Vec<String> = (0..10).map(|i| unique(&format!("tall{i}"))).collect();
    let ws = planned_with_slow_resources(&names);
    let (code, screen) = support::terminal::run_on_terminal_sized(
        &cmd(
            &ws,
            &[
                "apply",
                "--plan",
                "plan.json",
                "--canary",
                "0",
                "--color",
                "never",
            ],
        ),
        80,
        Some(8),
    );
    delay(0.0);
    assert_eq!(code, 0, "{}", screen.join("\n"));
    // Everything drawn, scrollback included: a block redrawn past the top of the screen would
    // leave a copy of its first rows there at every redraw.
    for name in &names {
        let live = screen
            .iter()
            .filter(|r| r.starts_with(&format!("{name}  ")))
            .count();
        assert!(live <= 1, "{name}: {live} live rows\n{}", screen.join("\n"));
    }
    let counted: Vec<&String> = screen
        .iter()
        .filter(|r| r.starts_with("… ") && r.contains("more stacks:"))
        .collect();
    assert_eq!(
        counted.len(),
        1,
        "the rows that do not fit are counted on one line:\n{}",
        screen.join("\n")
    );
    // Every stack is in the outcomes at the end, whatever the live block showed.
    for name in &names {
        assert!(
            screen
                .iter()
                .any(|r| r.contains(name.as_str()) && r.contains("created")),
            "{name}\n{}",
            screen.join("\n")
        );
    }
}

#[test]
fn outputs_of_deployed_stacks_as_a_table_json_and_env_lines() {
    let _g = serial();
    let (a, b) = (unique("out-a"), unique("out-b"));
    let ws = fleet(
        &[
            (&a, "templates/queue-service.yaml"),
            (&b, "templates/queue-service.yaml"),
        ],
        "",
    );
    let applied = plan_and_apply(&ws, &[]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);

    let table = cfd(&ws, &["outputs"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    for name in [&a, &b] {
        assert!(
            table
                .stdout
                .contains(&format!("{name} (us-east-1)\n  WorkQueueUrl  https://sqs.")),
            "{}",
            table.stdout
        );
    }
    let doc = json(&cfd(&ws, &["outputs", &a, "--format", "json"]).stdout);
    assert_eq!(doc["kind"], "outputs");
    assert_eq!(doc["stacks"].as_array().unwrap().len(), 1);
    let url = doc["stacks"][0]["outputs"][0]["value"].as_str().unwrap();
    assert!(url.starts_with("https://sqs.") && url.contains(&a), "{doc}");

    let env = cfd(&ws, &["outputs", &a, "--format", "env"]);
    assert_eq!(env.stdout, format!("WorkQueueUrl={url}\n"));
    let both = cfd(&ws, &["--stack", "out-*", "outputs", "--format", "env"]);
    assert_eq!(both.stdout.lines().count(), 2, "{}", both.stdout);
    assert!(both
        .stdout
        .contains(&format!("{}_WorkQueueUrl=", a.replace('-', "_"))));

    // A stack that is not deployed is named, and the exit says so.
    let missing = cfd(&ws, &["outputs", "never-deployed"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stdout
            .contains("never-deployed (us-east-1)\n  does not exist in us-east-1"),
        "{}",
        missing.stdout
    );
}

#[test]
fn depends_on_orders_the_rollout_and_a_failed_upstream_holds_its_dependents() {
    let _g = serial();
    let (net, svc, other) = (unique("net"), unique("svc"), unique("oth"));
    let ws = fleet(
        &[
            (&svc, "templates/queue-service.yaml"),
            (&net, "templates/fails-on-create.yaml"),
            (&other, "templates/queue-service.yaml"),
        ],
        "",
    );
    let config = std::fs::read_to_string(ws.path().join("stacks.yaml")).unwrap();
    ws.write(
        "stacks.yaml",
        &config.replace(
            &format!("    parameters: {{ServiceName: {svc}}}\n"),
            &format!("    parameters: {{ServiceName: {svc}}}\n    depends_on: [{net}]\n"),
        ),
    );
    let graph = cfd(&ws, &["graph"]);
    assert_eq!(graph.code, 0, "{}", graph.stderr);
    assert!(
        graph
            .stdout
            .starts_with(&format!("1. {net}, {other}\n2. {svc} (after {net})\n")),
        "{}",
        graph.stdout
    );
    let out = plan_and_apply(
        &ws,
        &["--canary", "0", "--max-failures", "5", "--format", "json"],
    );
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    let doc = json(&out.stdout);
    assert_eq!(outcome(&doc, &net)["result"], "create-rolled-back");
    assert_eq!(outcome(&doc, &svc)["result"], "not-started");
    assert_eq!(
        outcome(&doc, &svc)["message"],
        format!("not started: it depends on {net}, which create failed and rolled back")
    );
    assert_eq!(outcome(&doc, &other)["result"], "created");
    assert_eq!(
        Emulator::shared().change_set_count(&svc),
        0,
        "its reviewed change set is deleted (the empty stack in review is reused by the next plan)"
    );
}

#[test]
fn an_output_reference_is_planned_after_its_upstream_is_applied() {
    let _g = serial();
    let (net, svc) = (unique("up"), unique("down"));
    let ws = fleet(
        &[
            (&svc, "templates/queue-service.yaml"),
            (&net, "templates/queue-service.yaml"),
        ],
        "",
    );
    let config = std::fs::read_to_string(ws.path().join("stacks.yaml")).unwrap();
    ws.write(
        "stacks.yaml",
        &config.replace(
            &format!("    parameters: {{ServiceName: {svc}}}\n"),
            &format!(
                "    parameters: {{ServiceName: {svc}}}\n    tags: {{upstream-queue: '${{stack:{net}.WorkQueueUrl}}'}}\n"
            ),
        ),
    );
    // The upstream is new: its output is known only after it is applied.
    let plan = cfd(&ws, &["plan", "--out", "plan.json", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let doc = json(&plan.stdout);
    let down = outcome(&doc, &svc);
    assert_eq!(down["status"], "waiting", "{down}");
    assert!(
        down["error"]
            .as_str()
            .unwrap()
            .contains(&format!("known only after {net} is applied")),
        "{down}"
    );
    assert_eq!(doc["summary"]["waiting"], 1);
    let out = cfd(&ws, &["apply", "--plan", "plan.json", "--format", "json"]);
    assert_eq!(
        out.code, 2,
        "changes remain: {}\n{}",
        out.stdout, out.stderr
    );
    let doc = json(&out.stdout);
    assert_eq!(outcome(&doc, &net)["result"], "created");
    assert_eq!(outcome(&doc, &svc)["result"], "deferred");
    assert_eq!(
        Emulator::shared().stack_status(&svc),
        None,
        "nothing made for it"
    );

    // The second pass reads the deployed output, shows it, and applies it.
    let plan = cfd(&ws, &["plan", "--out", "plan.json", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let doc = json(&plan.stdout);
    let down = outcome(&doc, &svc);
    assert_eq!(down["status"], "create", "{down}");
    let tag = &down["tags"][0];
    assert_eq!(tag["key"], "upstream-queue");
    let url = tag["new"].as_str().unwrap().to_string();
    assert!(
        url.contains(net.as_str()) && url.ends_with("-work"),
        "{url}"
    );
    let out = cfd(&ws, &["apply", "--plan", "plan.json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let (_, body) = Emulator::shared().call(&[("Action", "DescribeStacks"), ("StackName", &svc)]);
    assert!(
        body.contains(&url),
        "the stack carries the upstream's output: {body}"
    );
}
