//! The real binary against faults a deploy tool meets in the field: answers lost after the call
//! took effect, endpoints that never answer, expired credentials, something other than
//! CloudFormation answering, interrupts at awkward moments, a closed stderr. Each test proves its
//! fault hit (counted at the emulator). Faults are global to the emulator, so these run one at a
//! time on their own emulator.

mod support;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::{cfdeploy, json, run, run_or_hang, unique, Emulator, Run, Workspace};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let e = Emulator::shared();
    e.control("DELETE", "/_emulator/faults", "");
    e.control(
        "POST",
        "/_emulator/settings",
        r#"{"delay": 0, "rate_limit": 0}"#,
    );
    guard
}

fn fleet(names: &[&str], template: &str) -> Workspace {
    let ws = Workspace::new();
    ws.fixture("templates/service.yaml", template);
    let mut config = String::from(
        "defaults:\n  template: templates/service.yaml\n  parameters: {ApiToken: x}\nstacks:\n",
    );
    for name in names {
        config.push_str(&format!(
            "  {name}:\n    parameters: {{ServiceName: {name}}}\n"
        ));
    }
    ws.write("stacks.yaml", &config);
    ws
}

fn cmd(ws: &Workspace, args: &[&str]) -> Command {
    let mut c = cfdeploy(&Emulator::shared().endpoint, ws.path());
    c.args(["--config", "stacks.yaml"]).args(args);
    c
}

fn cfd(ws: &Workspace, args: &[&str]) -> Run {
    run(&mut cmd(ws, args))
}

fn arm(fault: &str) -> serde_json::Value {
    json(&Emulator::shared().control("POST", "/_emulator/faults", fault))
}

/// How many calls the armed faults answered, in the order they were armed.
fn hits() -> Vec<u64> {
    let faults = json(&Emulator::shared().control("GET", "/_emulator/faults", ""));
    faults
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["hits"].as_u64().unwrap())
        .collect()
}

fn stack_events(stack: &str) -> String {
    let (status, body) =
        Emulator::shared().call(&[("Action", "DescribeStackEvents"), ("StackName", stack)]);
    assert_eq!(status, 200, "{body}");
    body
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Waits for the child, failing the test if it has not exited within `limit`.
fn wait(mut child: Child, limit: Duration) -> Run {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("cfdeploy did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn wait_for_status(stack: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Emulator::shared().stack_status(stack).as_deref() != Some(status) {
        assert!(Instant::now() < deadline, "{stack} never reached {status}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_lost_answer_to_execute_change_set_is_recognised_and_the_stack_watched_to_its_end() {
    let _g = serial();
    let name = unique("lost");
    let ws = fleet(&[&name], "templates/queue-service.yaml");
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    arm(r#"{"action": "ExecuteChangeSet", "count": 1, "kind": "lost"}"#);
    let out = cfd(&ws, &["apply", "--plan", "plan.json", "--format", "json"]);
    assert_eq!(hits(), [1], "the answer to ExecuteChangeSet was lost");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let doc = json(&out.stdout);
    assert_eq!(doc["stacks"][0]["result"], "created", "{doc}");
    let events = stack_events(&name);
    let starts = events
        .split("<member>")
        .filter(|e| {
            e.contains(&format!("<LogicalResourceId>{name}</LogicalResourceId>"))
                && e.contains("<ResourceStatus>CREATE_IN_PROGRESS</ResourceStatus>")
        })
        .count();
    assert_eq!(starts, 1, "executed exactly once: {events}");
    assert!(
        events.contains("<ClientRequestToken>cfdeploy-execute-"),
        "{events}"
    );
}

#[test]
fn a_lost_answer_to_create_change_set_leaves_exactly_one_change_set() {
    let _g = serial();
    let name = unique("lostcs");
    let ws = fleet(&[&name], "templates/queue-service.yaml");
    arm(r#"{"action": "CreateChangeSet", "count": 1, "kind": "lost"}"#);
    let out = cfd(&ws, &["plan", "--out", "plan.json", "--format", "json"]);
    assert_eq!(hits(), [1]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(json(&out.stdout)["stacks"][0]["status"], "create");
    assert_eq!(
        Emulator::shared().change_set_count(&name),
        1,
        "no stray change set"
    );
    let applied = cfd(&ws, &["apply", "--plan", "plan.json"]);
    assert_eq!(applied.code, 0, "{}", applied.stdout);
}

#[test]
fn an_endpoint_that_never_answers_fails_within_the_call_timeout_and_names_the_call() {
    let _g = serial();
    let name = unique("hole");
    let ws = fleet(&[&name], "templates/queue-service.yaml");
    arm(r#"{"action": "DescribeStacks", "count": 10, "kind": "blackhole", "seconds": 120}"#);
    let out = run_or_hang(
        &mut cmd(&ws, &["--call-timeout", "1", "--max-attempts", "2", "plan"]),
        Duration::from_secs(60),
    );
    assert_eq!(hits(), [2], "both attempts went into the black hole");
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let endpoint = &Emulator::shared().endpoint;
    assert!(
        out.stdout.contains("DescribeStacks")
            && out.stdout.contains(&format!("no answer from {endpoint}"))
            && out.stdout.contains("within 1s (tried 2 times)"),
        "{}",
        out.stdout
    );
}

#[test]
fn expired_credentials_are_named_with_where_credentials_come_from() {
    let _g = serial();
    let ws = fleet(&[&unique("exp")], "templates/queue-service.yaml");
    arm(r#"{"action": "DescribeStacks", "count": 20, "kind": "expired"}"#);
    let out = cfd(&ws, &["plan"]);
    assert!(hits()[0] >= 1);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("ExpiredToken")
            && out.stdout.contains("aws sso login")
            && out.stdout.contains("--profile"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_answer_that_is_not_cloudformations_names_the_status_the_endpoint_and_the_body() {
    let _g = serial();
    let ws = fleet(&[&unique("proxy")], "templates/queue-service.yaml");
    arm(r#"{"action": "DescribeStacks", "count": 20, "kind": "html", "status": 403}"#);
    let out = cfd(&ws, &["plan"]);
    assert!(hits()[0] >= 1);
    assert_eq!(out.code, 1);
    let endpoint = &Emulator::shared().endpoint;
    assert!(
        out.stdout
            .contains(&format!("{endpoint} answered HTTP 403"))
            && out.stdout.contains("not an answer from CloudFormation")
            && out
                .stdout
                .contains("Request blocked by the corporate proxy"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("Unknown: (no message)"),
        "{}",
        out.stdout
    );
}

#[test]
fn losing_track_of_an_operation_exits_5_not_130() {
    let _g = serial();
    let name = unique("track");
    let ws = fleet(&[&name], "templates/queue-service.yaml");
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 0.3}"#);
    // The baseline read passes; every read while watching says the credentials expired.
    arm(r#"{"action": "DescribeStackEvents", "count": 1000, "kind": "expired", "after": 1}"#);
    let out = cfd(&ws, &["apply", "--plan", "plan.json", "--format", "json"]);
    assert!(hits()[0] >= 1);
    assert_eq!(out.code, 5, "{}\n{}", out.stdout, out.stderr);
    let doc = json(&out.stdout);
    assert_eq!(doc["stacks"][0]["result"], "unknown", "{doc}");
    assert_eq!(doc["exit_code"], 5);
}

#[test]
fn sigterm_while_planning_removes_what_the_run_made_and_exits_143() {
    let _g = serial();
    let name = unique("term");
    let ws = fleet(&[&name], "templates/queue-service.yaml");
    // Change sets take long to compute: the plan is waiting when the signal comes.
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 30}"#);
    let child = cmd(&ws, &["plan", "--out", "plan.json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_status(&name, "REVIEW_IN_PROGRESS");
    assert_eq!(Emulator::shared().change_set_count(&name), 1);
    signal(&child, "TERM");
    let out = wait(child, Duration::from_secs(30));
    assert_eq!(out.code, 143, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("interrupted"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("the empty stack {name}")),
        "{}",
        out.stderr
    );
    assert!(
        !ws.path().join("plan.json").exists(),
        "no plan file for a discarded plan"
    );
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 0}"#);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Emulator::shared().stack_status(&name).is_some() {
        assert!(Instant::now() < deadline, "the empty stack was not removed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_second_interrupt_exits_at_once_even_while_a_call_hangs() {
    let _g = serial();
    let ws = fleet(&[&unique("hang")], "templates/queue-service.yaml");
    arm(r#"{"action": "DescribeStacks", "count": 10, "kind": "blackhole", "seconds": 120}"#);
    let child = cmd(&ws, &["plan"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while hits()[0] == 0 {
        assert!(
            Instant::now() < deadline,
            "the call never reached the emulator"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "INT");
    let out = wait(child, Duration::from_secs(10));
    assert_eq!(out.code, 130, "{}", out.stderr);
    assert!(
        out.stderr.contains("interrupted again: exiting now"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_closed_stderr_changes_neither_what_happens_nor_the_exit_status() {
    let _g = serial();
    let name = unique("quiet");
    let ws = fleet(&[&name], "templates/queue-service.yaml");
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    assert_eq!(cfd(&ws, &["apply", "--plan", "plan.json"]).code, 0);
    ws.fixture("templates/service.yaml", "templates/update-fails.yaml");
    assert_eq!(cfd(&ws, &["plan", "--out", "failing.json"]).code, 0);
    let mut child = cmd(
        &ws,
        &["apply", "--plan", "failing.json", "--format", "json"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // The reader of stderr goes away at once (a dead log shipper, `2>&1 | head -0`).
    drop(child.stderr.take());
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{stdout}");
    let doc = json(&stdout);
    assert_eq!(doc["stacks"][0]["result"], "rolled-back", "{doc}");
}

#[test]
fn an_account_wide_rate_limit_fails_no_stack_of_a_40_stack_plan() {
    let _g = serial();
    let names: Vec<String> = (0..40).map(|_| unique("rate")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let ws = fleet(&refs, "templates/queue-service.yaml");
    Emulator::shared().control("DELETE", "/_emulator/requests", "");
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"rate_limit": 10}"#);
    let out = cfd(&ws, &["plan", "--format", "json"]);
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"rate_limit": 0}"#);
    let counted = json(&Emulator::shared().control("GET", "/_emulator/requests", ""));
    assert!(
        counted["_throttled"].as_u64().unwrap_or(0) > 0,
        "the limit was reached: {counted}"
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = json(&out.stdout);
    assert_eq!(doc["summary"]["failed"], 0, "{doc}");
    assert_eq!(doc["summary"]["to_change"], 40);
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_stderr_never_panics_and_the_result_still_arrives() {
    let _g = serial();
    let name = unique("full");
    let ws = fleet(&[&name], "templates/queue-service.yaml");
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = cmd(&ws, &["apply", "--plan", "plan.json", "--format", "json"])
        .stderr(Stdio::from(full))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "no panic (101) on a full stderr"
    );
    let doc = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(doc["stacks"][0]["result"], "created", "{doc}");
    assert_eq!(
        Emulator::shared().stack_status(&name).as_deref(),
        Some("CREATE_COMPLETE")
    );
}
