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

/// Starts the engine's apply with every resource taking a second (so the rollout outlives the
/// CLI) and returns once `stack` is in `status`; output is captured.
fn slow_apply_until(ws: &Workspace, stack: &str, status: &str) -> std::process::Child {
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 1.0}"#);
    let child = cmd(ws, APPLY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Emulator::shared().stack_status(stack).as_deref() != Some(status) {
        assert!(Instant::now() < deadline, "{stack} never reached {status}");
        std::thread::sleep(Duration::from_millis(100));
    }
    child
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

    // After the execution ended, the same apply prints the recorded outcome, exit code
    // included, and executes nothing.
    let again = cfd(&ws, APPLY);
    assert_eq!(again.code, local_exit, "{}\n{}", again.stdout, again.stderr);
    let doc = json(&again.stdout);
    assert_eq!(outcome(&doc, &bad)["result"], "create-rolled-back");
    for stack in [&b, &c] {
        let o = outcome(&doc, stack);
        assert_eq!(o["result"], "not-started", "{o}");
        assert!(
            o["message"].as_str().unwrap().contains("the canary failed"),
            "{o}"
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
    let mut child = slow_apply_until(&ws, &a, "CREATE_IN_PROGRESS");
    child.kill().unwrap(); // SIGKILL: no cleanup, no goodbye
    child.wait().unwrap();
    // Any machine can see where it is without following it.
    let status = cfd(&ws, &["engine", "status", "--plan", "plan.json"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stdout.contains("us-east-1  cfdeploy-")
            && status.stdout.contains("running  (2 stacks)"),
        "{}",
        status.stdout
    );

    // The re-run cannot even read the change sets (DescribeChangeSet fails every time): the
    // stacks the execution's input names are still the execution's, and followed.
    Emulator::shared().control(
        "POST",
        "/_emulator/faults",
        r#"{"action": "DescribeChangeSet", "kind": "error", "status": 500, "count": 1000}"#,
    );
    let rerun = cfd(&ws, APPLY);
    let faults = json(&Emulator::shared().control("GET", "/_emulator/faults", ""));
    assert!(faults[0]["hits"].as_u64().unwrap() > 0, "{faults}");
    Emulator::shared().control("DELETE", "/_emulator/faults", "");
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
    let status = cfd(&ws, &["engine", "status", "--plan", "plan.json"]);
    assert!(
        status.stdout.contains("ended: done, 0 failed  (2 stacks)"),
        "{}",
        status.stdout
    );
}

#[test]
fn engine_stop_stops_the_plans_execution_and_cancels_its_updates() {
    let _g = serial();
    let (a, b) = (unique("sfstop"), unique("sfstop"));
    let ws = fleet(&[
        (&a, "templates/queue-service.yaml"),
        (&b, "templates/queue-service.yaml"),
    ]);
    let usage = cfd(&ws, &["apply", "--engine", "stepfunctions", "--yes"]);
    assert_eq!(usage.code, 64, "{}", usage.stderr);
    assert!(usage.stderr.contains("--plan"), "{}", usage.stderr);
    let created = cfd(&ws, &["apply", "--yes"]);
    assert_eq!(created.code, 0, "{}", created.stderr);

    // An update of both, stopped while the first runs.
    let body = std::fs::read_to_string(ws.path().join("stacks.yaml"))
        .unwrap()
        .replace("ApiToken: x", "ApiToken: changed");
    ws.write("stacks.yaml", &body);
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    let child = slow_apply_until(&ws, &a, "UPDATE_IN_PROGRESS");
    let stop = cfd(&ws, &["engine", "stop", "--plan", "plan.json"]);
    assert_eq!(stop.code, 0, "{}", stop.stderr);
    assert!(stop.stderr.contains("stopped execution"), "{}", stop.stderr);
    assert!(
        stop.stderr.contains(&format!("{a}: update cancelled")),
        "{}",
        stop.stderr
    );
    let followed = child.wait_with_output().unwrap();
    assert_eq!(
        followed.status.code(),
        Some(1),
        "the follower reports a rolled-back update"
    );
    assert_eq!(
        Emulator::shared().wait_settled(&a),
        "UPDATE_ROLLBACK_COMPLETE"
    );
    assert_eq!(
        Emulator::shared().stack_status(&b).as_deref(),
        Some("CREATE_COMPLETE"),
        "the canary's wave was the last: the stopped execution started nothing more"
    );
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 0}"#);
    let again = cfd(&ws, &["engine", "stop", "--plan", "plan.json"]);
    assert!(
        again.stderr.contains("had already ended"),
        "{}",
        again.stderr
    );
}

#[test]
fn throttled_calls_in_the_state_machine_are_retried_and_a_mid_wave_failure_is_diagnosed() {
    let _g = serial();
    let (a, bad, b) = (unique("sfthr"), unique("sfbad"), unique("sfthr"));
    let ws = fleet(&[
        (&a, "templates/queue-service.yaml"),
        (&bad, "templates/fails-on-create.yaml"),
        (&b, "templates/queue-service.yaml"),
    ]);
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    // The state machine's own calls are throttled: it waits them out.
    for action in ["ExecuteChangeSet", "DescribeStacks"] {
        Emulator::shared().control(
            "POST",
            "/_emulator/faults",
            &format!(r#"{{"action": "{action}", "kind": "throttle", "count": 2}}"#),
        );
    }
    let mut args = APPLY.to_vec();
    args.extend(["--max-failures", "2"]);
    let out = cfd(&ws, &args);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    let doc = json(&out.stdout);
    assert_eq!(outcome(&doc, &a)["result"], "created", "{doc}");
    assert_eq!(
        outcome(&doc, &b)["result"],
        "created",
        "within the budget: {doc}"
    );
    let failed = outcome(&doc, &bad);
    assert_eq!(failed["result"], "create-rolled-back", "{failed}");
    let causes = failed["diagnosis"]["root_causes"].as_array().unwrap();
    assert!(!causes.is_empty(), "root cause first: {failed}");
    let faults = json(&Emulator::shared().control("GET", "/_emulator/faults", ""));
    for f in faults.as_array().unwrap() {
        assert_eq!(f["remaining"], 0, "every throttled answer was met: {f}");
    }
}

#[test]
fn the_failure_budget_stops_new_stacks_between_batches() {
    let _g = serial();
    let names: Vec<String> = (0..4).map(|i| unique(&format!("sfbud{i}"))).collect();
    let templates = [
        "templates/fails-on-create.yaml",
        "templates/queue-service.yaml",
        "templates/fails-on-create.yaml",
        "templates/queue-service.yaml",
    ];
    let stacks: Vec<(&str, &str)> = names.iter().map(String::as_str).zip(templates).collect();
    for (budget, expected) in [
        (
            "1",
            [
                "create-rolled-back",
                "not-started",
                "not-started",
                "not-started",
            ],
        ),
        (
            "2",
            [
                "create-rolled-back",
                "created",
                "create-rolled-back",
                "not-started",
            ],
        ),
    ] {
        let renamed: Vec<String> = names.iter().map(|n| format!("{n}-{budget}")).collect();
        let stacks: Vec<(&str, &str)> = renamed
            .iter()
            .map(String::as_str)
            .zip(stacks.iter().map(|s| s.1))
            .collect();
        let ws = fleet(&stacks);
        assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
        let mut args = APPLY.to_vec();
        args.extend([
            "--canary",
            "0",
            "--max-in-flight",
            "1",
            "--max-failures",
            budget,
        ]);
        let out = cfd(&ws, &args);
        assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
        let doc = json(&out.stdout);
        for (stack, want) in renamed.iter().zip(expected) {
            let o = outcome(&doc, stack);
            assert_eq!(o["result"], want, "--max-failures {budget}: {o}");
            if want == "not-started" {
                assert!(
                    o["message"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("stopped after {budget} failure")),
                    "{o}"
                );
            }
        }
    }
}

#[test]
fn a_plan_across_regions_runs_one_execution_per_region_followed_together() {
    let _g = serial();
    let e = Emulator::shared();
    let deployed = run(cfdeploy(&e.endpoint, Workspace::new().path()).args([
        "--region",
        "eu-west-1",
        "engine",
        "deploy",
        "--role-arn",
        "arn:aws:iam::123456789012:role/cfdeploy-rollout",
    ]));
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    let (us, eu) = (unique("sfus"), unique("sfeu"));
    let ws = Workspace::new();
    ws.fixture("templates/t.yaml", "templates/queue-service.yaml");
    ws.write(
        "stacks.yaml",
        &format!(
            "defaults:\n  template: templates/t.yaml\n  parameters: {{ApiToken: x}}\nstacks:\n  {us}:\n    parameters: {{ServiceName: {us}}}\n  {eu}:\n    region: eu-west-1\n    parameters: {{ServiceName: {eu}}}\n"
        ),
    );
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    let out = cfd(&ws, APPLY);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for region in ["us-east-1", "eu-west-1"] {
        assert!(
            out.stderr
                .contains(&format!("{region}: started execution cfdeploy-")),
            "{}",
            out.stderr
        );
    }
    let doc = json(&out.stdout);
    assert_eq!(outcome(&doc, &us)["result"], "created");
    assert_eq!(outcome(&doc, &eu)["result"], "created");
    assert_eq!(outcome(&doc, &eu)["region"], "eu-west-1");
}

#[test]
fn ctrl_c_detaches_the_rollout_goes_on_and_the_same_apply_attaches_again() {
    let _g = serial();
    let (a, b) = (unique("sfint"), unique("sfint"));
    let ws = fleet(&[
        (&a, "templates/queue-service.yaml"),
        (&b, "templates/queue-service.yaml"),
    ]);
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    let child = slow_apply_until(&ws, &a, "CREATE_IN_PROGRESS");
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("detaching"), "{stderr}");
    assert!(stderr.contains("run the same apply again"), "{stderr}");
    let doc = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(outcome(&doc, &a)["result"], "abandoned", "{doc}");

    // Nothing was cancelled: the rollout goes on without the CLI, and attaching again follows
    // it to the end.
    let rerun = cfd(&ws, APPLY);
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 0}"#);
    assert_eq!(rerun.code, 0, "{}\n{}", rerun.stdout, rerun.stderr);
    let doc = json(&rerun.stdout);
    for stack in [&a, &b] {
        assert_eq!(outcome(&doc, stack)["result"], "created", "{doc}");
        assert_eq!(executions(stack), 1, "{stack} executed once");
    }
}

#[test]
fn a_state_machine_of_another_version_or_none_is_refused_before_anything_runs() {
    let _g = serial();
    let e = Emulator::shared();
    let other = r#"{"StartAt": "Nothing", "States": {"Nothing": {"Type": "Succeed"}}}"#;
    let (status, body) = e.sfn(
        "CreateStateMachine",
        &serde_json::json!({
            "name": "cfdeploy-old",
            "definition": other,
            "roleArn": "arn:aws:iam::123456789012:role/r",
        })
        .to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let a = unique("sfver");
    let ws = fleet(&[(&a, "templates/queue-service.yaml")]);
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    let mut args = APPLY.to_vec();
    args.extend(["--state-machine", "cfdeploy-old"]);
    let old = cfd(&ws, &args);
    assert_eq!(old.code, 1, "{}\n{}", old.stdout, old.stderr);
    let o = outcome(&json(&old.stdout), &a).clone();
    assert_eq!(o["result"], "refused", "{o}");
    assert!(
        o["message"]
            .as_str()
            .unwrap()
            .contains("another cfdeploy version"),
        "{o}"
    );
    args.pop();
    args.push("cfdeploy-missing");
    let missing = cfd(&ws, &args);
    let o = outcome(&json(&missing.stdout), &a).clone();
    assert!(
        o["message"]
            .as_str()
            .unwrap()
            .contains("cfdeploy engine deploy"),
        "{o}"
    );
    assert_eq!(
        e.stack_status(&a).as_deref(),
        Some("REVIEW_IN_PROGRESS"),
        "nothing was executed"
    );
    // Deployed again, it is this version's, and the same plan runs.
    let deployed = cfd(
        &ws,
        &[
            "engine",
            "deploy",
            "--name",
            "cfdeploy-old",
            "--role-arn",
            "arn:aws:iam::123456789012:role/r",
        ],
    );
    assert!(deployed.stderr.contains("updated"), "{}", deployed.stderr);
    args.pop();
    args.push("cfdeploy-old");
    let ran = cfd(&ws, &args);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
}

#[test]
fn a_lost_answer_to_start_execution_is_one_execution_all_the_same() {
    let _g = serial();
    let (a, b) = (unique("sflost"), unique("sflost"));
    let ws = fleet(&[
        (&a, "templates/queue-service.yaml"),
        (&b, "templates/queue-service.yaml"),
    ]);
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    // Reading the state machine is throttled three times; StartExecution takes effect and its
    // answer never arrives; then DescribeExecution fails twice while the CLI follows.
    let e = Emulator::shared();
    e.control(
        "POST",
        "/_emulator/faults",
        r#"{"action": "StartExecution", "kind": "lost", "count": 1}"#,
    );
    e.control(
        "POST",
        "/_emulator/faults",
        r#"{"action": "DescribeExecution", "kind": "error", "status": 500, "count": 2, "after": 1}"#,
    );
    e.control(
        "POST",
        "/_emulator/faults",
        r#"{"action": "DescribeStateMachine", "kind": "throttle", "count": 3}"#,
    );
    let out = cfd(&ws, APPLY);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let doc = json(&out.stdout);
    for stack in [&a, &b] {
        assert_eq!(outcome(&doc, stack)["result"], "created", "{doc}");
        assert_eq!(executions(stack), 1, "{stack} executed once");
    }
    let faults = json(&e.control("GET", "/_emulator/faults", ""));
    for f in faults.as_array().unwrap() {
        assert_eq!(f["remaining"], 0, "every fault was met: {f}");
    }
}

#[test]
fn a_stale_plan_is_refused_as_locally_and_never_reaches_the_state_machine() {
    let _g = serial();
    let a = unique("sfstale");
    let ws = fleet(&[(&a, "templates/queue-service.yaml")]);
    assert_eq!(cfd(&ws, &["apply", "--yes"]).code, 0);
    let with_token = |token: &str| {
        let body = std::fs::read_to_string(ws.path().join("stacks.yaml")).unwrap();
        let body = body
            .lines()
            .map(|l| {
                if l.contains("ApiToken") {
                    format!("  parameters: {{ApiToken: {token}}}")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        ws.write("stacks.yaml", &body);
    };
    with_token("reviewed");
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    // Someone deploys another change first: the reviewed change set goes OBSOLETE.
    with_token("other");
    assert_eq!(cfd(&ws, &["apply", "--yes"]).code, 0);
    let out = cfd(&ws, APPLY);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let o = outcome(&json(&out.stdout), &a).clone();
    assert_eq!(o["result"], "refused", "{o}");
    assert!(o["message"].as_str().unwrap().contains("plan again"), "{o}");
    assert!(!out.stderr.contains("started execution"), "{}", out.stderr);
}

#[test]
fn an_interrupt_while_the_plan_is_verified_starts_no_execution() {
    let _g = serial();
    let a = unique("sfintv");
    let ws = fleet(&[(&a, "templates/queue-service.yaml")]);
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    let e = Emulator::shared();
    e.control(
        "POST",
        "/_emulator/faults",
        r#"{"action": "DescribeChangeSet", "kind": "latency", "seconds": 3, "count": 1}"#,
    );
    let child = cmd(&ws, APPLY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupted while its DescribeChangeSet hangs.
    let deadline = Instant::now() + Duration::from_secs(30);
    while json(&e.control("GET", "/_emulator/faults", ""))[0]["hits"] == 0 {
        assert!(Instant::now() < deadline, "verification never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(!stderr.contains("started execution"), "{stderr}");
    let doc = json(&String::from_utf8_lossy(&out.stdout));
    let o = outcome(&doc, &a);
    assert_eq!(o["result"], "not-started", "{o}");
    assert!(
        o["message"].as_str().unwrap().contains("interrupted"),
        "{o}"
    );
    assert_eq!(e.stack_status(&a).as_deref(), Some("REVIEW_IN_PROGRESS"));
}

#[test]
fn a_blocked_stack_is_left_out_of_the_execution_and_a_rerun_refuses_it_at_once() {
    let _g = serial();
    let (a, b) = (unique("sfout"), unique("sfout"));
    let ws = fleet(&[
        (&a, "templates/queue-service.yaml"),
        (&b, "templates/orders-table.yaml"),
    ]);
    assert_eq!(cfd(&ws, &["apply", "--yes"]).code, 0);
    // a changes; b's change replaces its table (destructive).
    let body = std::fs::read_to_string(ws.path().join("stacks.yaml"))
        .unwrap()
        .replace("ApiToken: x", "ApiToken: y")
        .replace(
            &format!("parameters: {{ServiceName: {b}}}"),
            &format!("parameters: {{ServiceName: {b}, KeyName: order_id}}"),
        );
    ws.write("stacks.yaml", &body);
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    let first = cfd(&ws, APPLY);
    assert_eq!(first.code, 3, "{}\n{}", first.stdout, first.stderr);
    let doc = json(&first.stdout);
    assert_eq!(outcome(&doc, &a)["result"], "updated", "{doc}");
    assert_eq!(outcome(&doc, &b)["result"], "blocked", "{doc}");

    // Allowed now, but its reviewed change set went with the blocked run, and the plan's
    // execution ran without it: refused at once (plan again), never waited for.
    let mut args = APPLY.to_vec();
    args.push("--allow-destructive");
    let started = Instant::now();
    let again = cfd(&ws, &args);
    assert!(started.elapsed() < Duration::from_secs(20));
    let doc = json(&again.stdout);
    assert_eq!(outcome(&doc, &a)["result"], "updated", "{doc}");
    let o = outcome(&doc, &b);
    assert_eq!(o["result"], "refused", "{o}");
    assert!(o["message"].as_str().unwrap().contains("plan again"), "{o}");
    assert_eq!(
        Emulator::shared().stack_status(&b).as_deref(),
        Some("CREATE_COMPLETE"),
        "b was never updated"
    );
}
