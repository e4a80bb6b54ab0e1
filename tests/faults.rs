//! Plans under injected faults and slow operations. These tests change the emulator's global
//! settings, so they run one at a time on their own emulator (one per test binary).

mod support;

use std::sync::Mutex;

use support::{cfdeploy, json, run, unique, Emulator, Run, Workspace};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let emulator = Emulator::shared();
    emulator.control("DELETE", "/_emulator/faults", "");
    emulator.control("POST", "/_emulator/settings", r#"{"delay": 0}"#);
    guard
}

fn fleet(names: &[&str]) -> Workspace {
    let ws = Workspace::new();
    ws.fixture("templates/service.yaml", "templates/queue-service.yaml");
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

fn plan(ws: &Workspace) -> Run {
    run(cfdeploy(&Emulator::shared().endpoint, ws.path()).args([
        "plan",
        "--config",
        "stacks.yaml",
        "--format",
        "json",
        "--keep-change-sets",
    ]))
}

fn arm(action: &str, count: u32, kind: &str) {
    Emulator::shared().control(
        "POST",
        "/_emulator/faults",
        &format!(r#"{{"action": "{action}", "count": {count}, "kind": "{kind}"}}"#),
    );
}

#[test]
fn a_plan_survives_throttling_on_every_call_it_makes() {
    let _g = serial();
    let names = [unique("thr"), unique("thr")];
    let ws = fleet(&[&names[0], &names[1]]);
    arm("DescribeStacks", 2, "throttle");
    arm("CreateChangeSet", 2, "throttle");
    arm("DescribeChangeSet", 3, "throttle");
    let out = plan(&ws);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = json(&out.stdout);
    for s in doc["stacks"].as_array().unwrap() {
        assert_eq!(s["status"], "create", "{s}");
    }
    let faults = json(&Emulator::shared().control("GET", "/_emulator/faults", ""));
    for fault in faults.as_array().unwrap() {
        assert_eq!(
            fault["remaining"], 0,
            "every armed throttle was hit: {fault}"
        );
    }
}

#[test]
fn a_dropped_connection_is_retried() {
    let _g = serial();
    let name = unique("drop");
    let ws = fleet(&[&name]);
    arm("DescribeChangeSet", 1, "drop");
    let out = plan(&ws);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json(&out.stdout)["stacks"][0]["status"], "create");
}

#[test]
fn persistent_server_errors_fail_that_stack_with_a_clear_message() {
    let _g = serial();
    let name = unique("err");
    let ws = fleet(&[&name]);
    Emulator::shared().control(
        "POST",
        "/_emulator/faults",
        r#"{"action": "DescribeStacks", "count": 50, "kind": "error", "status": 500, "code": "InternalFailure", "message": "Internal failure, try later"}"#,
    );
    let out = plan(&ws);
    assert_eq!(out.code, 1);
    let error = json(&out.stdout)["stacks"][0]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        error,
        "DescribeStacks: InternalFailure: Internal failure, try later"
    );
}

#[test]
fn a_stack_with_an_operation_in_progress_is_reported_busy_not_waited_on() {
    let _g = serial();
    let name = unique("busy");
    let ws = fleet(&[&name]);
    let doc = json(&plan(&ws).stdout);
    let arn = doc["stacks"][0]["change_set_arn"]
        .as_str()
        .unwrap()
        .to_string();
    let emulator = Emulator::shared();
    emulator.control("POST", "/_emulator/settings", r#"{"delay": 1.0}"#);
    let (status, body) = emulator.call(&[("Action", "ExecuteChangeSet"), ("ChangeSetName", &arn)]);
    assert_eq!(status, 200, "{body}");
    let out = plan(&ws);
    // Four resources at 1 s each: had plan waited, the create would be over by now.
    assert_eq!(
        emulator.stack_status(&name).as_deref(),
        Some("CREATE_IN_PROGRESS"),
        "plan waited for the operation"
    );
    assert_eq!(out.code, 1);
    let s = &json(&out.stdout)["stacks"][0];
    assert_eq!(s["status"], "busy");
    assert!(
        s["error"].as_str().unwrap().contains("CREATE_IN_PROGRESS"),
        "{s}"
    );
    emulator.control("POST", "/_emulator/settings", r#"{"delay": 0}"#);
    assert_eq!(emulator.wait_settled(&name), "CREATE_COMPLETE");
}

#[test]
fn a_slow_change_set_is_polled_until_it_is_ready() {
    let _g = serial();
    let name = unique("slow");
    let ws = fleet(&[&name]);
    Emulator::shared().control("POST", "/_emulator/settings", r#"{"delay": 1.5}"#);
    Emulator::shared().control("DELETE", "/_emulator/requests", "");
    let out = plan(&ws);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json(&out.stdout)["stacks"][0]["status"], "create");
    let requests = json(&Emulator::shared().control("GET", "/_emulator/requests", ""));
    let polls = requests["DescribeChangeSet"].as_u64().unwrap();
    // Fast at first (≤ 0.5 s), then backing off: several polls in 1.5 s, not dozens.
    assert!((3..=12).contains(&polls), "{polls} polls");
}
