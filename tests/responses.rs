//! What the emulator cannot show, through the real binary and SDK: CloudFormation's own response
//! bodies (fixtures/responses) replayed by a local HTTP server on 127.0.0.1.

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use support::{cfdeploy, json, project_root, run, Workspace};

type Request = HashMap<String, String>;

/// Serves a fixture per request, chosen by `route` from the request's form parameters, and
/// records every request.
struct Replay {
    endpoint: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Replay {
    fn start(route: fn(&Request) -> &'static str) -> Replay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                std::thread::spawn(move || serve(stream, route, &log));
            }
        });
        Replay { endpoint, requests }
    }

    fn actions(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| r["Action"].clone())
            .collect()
    }
}

fn serve(
    stream: std::net::TcpStream,
    route: fn(&Request) -> &'static str,
    log: &Mutex<Vec<Request>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        // One request: head, then a body of Content-Length bytes.
        let mut length = 0;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header == "\r\n" || header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let request: Request = String::from_utf8(body)
            .unwrap()
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect();
        let fixture = route(&request);
        log.lock().unwrap().push(request);
        let xml = std::fs::read_to_string(project_root().join("fixtures/responses").join(fixture))
            .unwrap();
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}",
            xml.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

const TEMPLATE: &str = "Parameters:
  ServiceName: {Type: String}
  MemorySize: {Type: Number, Default: 512}
  ApiToken: {Type: String, NoEcho: true}
Resources:
  OrdersTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders-v2
  Handler:
    Type: AWS::Lambda::Function
    Properties:
      MemorySize: !Ref MemorySize
  Alarm:
    Type: AWS::CloudWatch::Alarm
";

fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("templates/orders.yaml", TEMPLATE);
    ws.write(
        "stacks.yaml",
        "stacks:\n  orders-prod:\n    template: templates/orders.yaml\n    parameters: {ServiceName: orders, MemorySize: 1024, ApiToken: replay-Secret-123}\n",
    );
    ws
}

fn update_route(r: &Request) -> &'static str {
    match (
        r["Action"].as_str(),
        r.get("IncludePropertyValues").map(String::as_str),
        r.get("NextToken").map(String::as_str),
    ) {
        ("DescribeStacks", _, _) => "describe-stacks-update-complete.xml",
        ("CreateChangeSet", _, _) => "create-change-set.xml",
        ("DescribeChangeSet", Some("true"), None) => "describe-change-set-values-page-1.xml",
        ("DescribeChangeSet", Some("true"), Some("values-page-2")) => {
            "describe-change-set-values-page-2.xml"
        }
        ("DescribeChangeSet", _, Some("plain-page-2")) => "describe-change-set-plain-page-2.xml",
        ("DescribeChangeSet", _, _) => "describe-change-set-plain-page-1.xml",
        ("GetTemplate", _, _) => "get-template.xml",
        ("DeleteChangeSet", _, _) => "delete-change-set.xml",
        (other, _, _) => panic!("unexpected {other}"),
    }
}

#[test]
fn incomplete_values_are_completed_from_every_page_of_the_plain_description() {
    let replay = Replay::start(update_route);
    let ws = workspace();
    let out = run(cfdeploy(&replay.endpoint, ws.path()).args([
        "plan",
        "--config",
        "stacks.yaml",
        "--format",
        "json",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = json(&out.stdout);
    let stack = &doc["stacks"][0];
    assert_eq!(stack["status"], "update");
    let ids: Vec<&str> = stack["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["logical_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["OrdersTable", "Handler", "Alarm"],
        "the complete list, across both pages"
    );
    let table = &stack["changes"][0];
    assert_eq!(table["replacement"], "True");
    assert_eq!(table["physical_id"], "orders");
    assert_eq!(table["details"][0]["before"], "orders");
    assert_eq!(table["details"][0]["after"], "orders-v2");
    let handler = &stack["changes"][1];
    assert_eq!(handler["details"][0]["causing_entity"], "MemorySize");
    assert_eq!(
        handler["details"][0]["after"], "1024",
        "values from the second page of the valued description"
    );
    assert_eq!(
        stack["parameters"],
        serde_json::json!([{"key": "MemorySize", "old": "512", "new": "1024"}])
    );
    let diff = stack["template_diff"].as_str().unwrap();
    assert!(
        diff.contains("-      TableName: orders\n+      TableName: orders-v2"),
        "{diff}"
    );
    assert!(!out.stdout.contains("replay-Secret-123"));

    let requests = replay.requests.lock().unwrap().clone();
    let create = requests
        .iter()
        .find(|r| r["Action"] == "CreateChangeSet")
        .unwrap();
    assert_eq!(create["ChangeSetType"], "UPDATE");
    assert!(create["Description"].contains(doc["correlation_id"].as_str().unwrap()));
    for describe in requests
        .iter()
        .filter(|r| r["Action"] == "DescribeChangeSet")
    {
        assert!(
            describe["ChangeSetName"].starts_with("arn:aws:cloudformation:"),
            "addressed by ARN: {describe:?}"
        );
    }
    assert!(requests.iter().any(|r| r["Action"] == "DescribeChangeSet"
        && r.get("IncludePropertyValues").map(String::as_str) != Some("true")));
    assert!(
        !replay.actions().contains(&"DeleteChangeSet".to_string()),
        "a change set to review is kept"
    );

    let table = run(cfdeploy(&replay.endpoint, ws.path())
        .env("COLUMNS", "200")
        .args(["plan", "--config", "stacks.yaml"]));
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with('│') && l.contains("OrdersTable"))
        .unwrap();
    // Replacing a DynamoDB table that nothing retains is destructive.
    assert!(
        table.stdout.contains(
            "⚠ destructive: replaces stateful AWS::DynamoDB::Table OrdersTable (no UpdateReplacePolicy Retain or Snapshot)"
        ),
        "{}",
        table.stdout
    );
    assert!(
        row.contains("TableName: orders → orders-v2 [replaces]") && row.contains("True"),
        "{row}"
    );
}

#[test]
fn a_busy_stack_gets_no_change_set() {
    let replay = Replay::start(|r| match r["Action"].as_str() {
        "DescribeStacks" => "describe-stacks-update-in-progress.xml",
        other => panic!("a busy stack must not get {other}"),
    });
    let ws = workspace();
    let out = run(cfdeploy(&replay.endpoint, ws.path()).args(["plan", "--config", "stacks.yaml"]));
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("orders-prod  us-east-1  busy"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("stack is busy: UPDATE_IN_PROGRESS"),
        "{}",
        out.stdout
    );
    assert_eq!(replay.actions(), ["DescribeStacks"]);
}
