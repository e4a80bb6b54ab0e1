//! The Step Functions engine end to end: the real binary deploys the state machine into the
//! emulator, whose Step Functions interpreter runs the rollout for real (its aws-sdk Task states
//! call back into the emulator's CloudFormation). A killed CLI is re-run and attaches; a plan run
//! twice executes nothing twice; a failed canary stops the rest.

mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::{cfdeploy, json, run, unique, Emulator, Run, Workspace};

static SERIAL: Mutex<()> = Mutex::new(());

/// One at a time (the emulator's delay is global), with the state machine deployed.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let e = Emulator::shared();
    e.control("DELETE", "/_emulator/faults", "");
    e.control("POST", "/_emulator/settings", r#"{"delay": 0}"#);
    let ws = Workspace::new();
    let deployed = run(cfdeploy(&e.endpoint, ws.path()).args([
        "engine",
        "deploy",
        "--role-arn",
        "arn:aws:iam::123456789012:role/cfdeploy-rollout",
    ]));
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    guard
}

/// Stacks (name, template fixture) in one config.
fn fleet(stacks: &[(&str, &str)]) -> Workspace {
    let ws = Workspace::new();
    let mut config = String::from("defaults:\n  parameters: {ApiToken: x}\nstacks:\n");
    for (name, template) in stacks {
        let file = format!("templates/{name}.yaml");
        ws.fixture(&file, template);
        config.push_str(&format!(
            "  {name}:\n    template: {file}\n    parameters: {{ServiceName: {name}}}\n"
        ));
    }
    ws.write("stacks.yaml", &config);
    ws
}

fn cmd(ws: &Workspace, args: &[&str]) -> std::process::Command {
    let mut c = cfdeploy(&Emulator::shared().endpoint, ws.path());
    c.args(["--config", "stacks.yaml"]).args(args);
    c
}

fn cfd(ws: &Workspace, args: &[&str]) -> Run {
    run(&mut cmd(ws, args))
}

const APPLY: &[&str] = &[
    "apply",
    "--plan",
    "plan.json",
    "--engine",
    "stepfunctions",
    "--format",
    "json",
];

fn outcome<'a>(doc: &'a serde_json::Value, stack: &str) -> &'a serde_json::Value {
    doc["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stack"] == stack)
        .unwrap_or_else(|| panic!("{stack}: {doc}"))
}

/// How many operations the stack's events show started with the plan's execution token.
fn executions(stack: &str) -> usize {
    let (status, body) =
        Emulator::shared().call(&[("Action", "DescribeStackEvents"), ("StackName", stack)]);
    assert_eq!(status, 200, "{body}");
    body.split("<member>")
        .filter(|m| {
            m.contains("<LogicalResourceId>") && m.contains(&format!("<LogicalResourceId>{stack}<"))
        })
        .filter(|m| m.contains("_IN_PROGRESS<") && m.contains("-execute-"))
        .filter(|m| {
            m.contains("<ResourceStatus>CREATE_IN_PROGRESS<")
                || m.contains("<ResourceStatus>UPDATE_IN_PROGRESS<")
        })
        .count()
}

#[test]
fn a_fleet_rolls_out_in_step_functions_and_the_same_plan_again_executes_nothing() {
    let _g = serial();
    let (a, b, c) = (unique("sfa"), unique("sfb"), unique("sfc"));
    let ws = fleet(&[
        (&a, "templates/queue-service.yaml"),
        (&b, "templates/queue-service.yaml"),
        (&c, "templates/queue-service.yaml"),
    ]);
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    let first = cfd(&ws, APPLY);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first.stderr.contains("started execution cfdeploy-"),
        "{}",
        first.stderr
    );
    let doc = json(&first.stdout);
    for stack in [&a, &b, &c] {
        let o = outcome(&doc, stack);
        assert_eq!(o["result"], "created", "{o}");
        assert!(
            o["outputs"].as_array().is_some_and(|v| !v.is_empty()),
            "outputs are read as locally: {o}"
        );
    }

    // The same plan again (a re-run in CI, another machine): the execution is found by its
    // name, nothing is executed again, the outcome is the same.
    let again = cfd(&ws, APPLY);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        !again.stderr.contains("started execution"),
        "{}",
        again.stderr
    );
    for stack in [&a, &b, &c] {
        let o = outcome(&json(&again.stdout), stack).clone();
        assert_eq!(o["result"], "created", "{o}");
        assert!(
            o["message"]
                .as_str()
                .unwrap_or_default()
                .contains("executed already"),
            "{o}"
        );
        assert_eq!(executions(stack), 1, "{stack} executed once");
    }

    // A new plan (an update) is a new execution.
    let body = std::fs::read_to_string(ws.path().join("stacks.yaml"))
        .unwrap()
        .replace("ApiToken: x", "ApiToken: y");
    ws.write("stacks.yaml", &body);
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    let update = cfd(&ws, APPLY);
    assert_eq!(update.code, 0, "{}", update.stderr);
    assert!(
        update.stderr.contains("started execution"),
        "{}",
        update.stderr
    );
    assert_eq!(outcome(&json(&update.stdout), &a)["result"], "updated");
}

#[test]
fn a_failed_canary_stops_the_rest_with_its_diagnosis_and_exit_code() {
    let _g = serial();
    let (bad, b, c) = (unique("sfbad"), unique("sfb"), unique("sfc"));
    let ws = fleet(&[
        (&bad, "templates/fails-on-create.yaml"),
        (&b, "templates/queue-service.yaml"),
        (&c, "templates/queue-service.yaml"),
    ]);
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    let out = cfd(&ws, APPLY);
    let local_exit = 4; // a failed create, as the local engine reports it
    assert_eq!(out.code, local_exit, "{}\n{}", out.stdout, out.stderr);
    let doc = json(&out.stdout);
    let failed = outcome(&doc, &bad);
    assert_eq!(failed["result"], "create-rolled-back", "{failed}");
    assert!(
        !failed["diagnosis"].is_null(),
        "the root cause from the events: {failed}"
    );
    for stack in [&b, &c] {
        let o = outcome(&doc, stack);
        assert_eq!(o["result"], "not-started", "{o}");
        assert!(
            o["message"].as_str().unwrap().contains("the canary failed"),
            "{o}"
        );
        // Its change set never ran (the local engine leaves the same empty stack).
        assert_eq!(
            Emulator::shared().stack_status(stack).as_deref(),
            Some("REVIEW_IN_PROGRESS")
        );
        assert_eq!(executions(stack), 0);
    }
}

#[test]
fn a_killed_cli_is_rerun_and_attaches_to_the_running_execution() {
    let _g = serial();
    let (a, b) = (unique("sfkill"), unique("sfkill"));
    let ws = fleet(&[
        (&a, "templates/queue-service.yaml"),
        (&b, "templates/queue-service.yaml"),
    ]);
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    // Each resource takes a while: the rollout outlives the CLI.
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 1.0}"#);
    let mut child = cmd(&ws, APPLY)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Emulator::shared().stack_status(&a).as_deref() != Some("CREATE_IN_PROGRESS") {
        assert!(Instant::now() < deadline, "{a} never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup, no goodbye
    child.wait().unwrap();

    let rerun = cfd(&ws, APPLY);
    assert_eq!(rerun.code, 0, "{}\n{}", rerun.stdout, rerun.stderr);
    assert!(
        rerun.stderr.contains("attaching to execution"),
        "{}",
        rerun.stderr
    );
    let doc = json(&rerun.stdout);
    for stack in [&a, &b] {
        assert_eq!(outcome(&doc, stack)["result"], "created", "{doc}");
        assert_eq!(executions(stack), 1, "{stack} executed once");
    }
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 0}"#);
}

#[test]
fn engine_stop_stops_the_plans_execution_and_the_engine_needs_a_reviewed_plan() {
    let _g = serial();
    let (a, b) = (unique("sfstop"), unique("sfstop"));
    let ws = fleet(&[
        (&a, "templates/queue-service.yaml"),
        (&b, "templates/queue-service.yaml"),
    ]);
    let usage = cfd(&ws, &["apply", "--engine", "stepfunctions", "--yes"]);
    assert_eq!(usage.code, 64, "{}", usage.stderr);
    assert!(usage.stderr.contains("--plan"), "{}", usage.stderr);

    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 1.0}"#);
    let child = cmd(&ws, APPLY)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Emulator::shared().stack_status(&a).as_deref() != Some("CREATE_IN_PROGRESS") {
        assert!(Instant::now() < deadline, "{a} never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    let stop = cfd(&ws, &["engine", "stop", "--plan", "plan.json"]);
    assert_eq!(stop.code, 0, "{}", stop.stderr);
    assert!(stop.stderr.contains("stopped execution"), "{}", stop.stderr);
    let followed = child.wait_with_output().unwrap();
    assert!(followed.status.code().is_some());
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 0}"#);
    let again = cfd(&ws, &["engine", "stop", "--plan", "plan.json"]);
    assert!(
        again.stderr.contains("had already ended"),
        "{}",
        again.stderr
    );
}
