//! What the emulator cannot show, through the real binary and SDK: CloudFormation's own response
//! bodies (fixtures/responses) replayed by a local HTTP server on 127.0.0.1.

mod support;

use support::replay::{Replay, Request};
use support::{cfdeploy, json, project_root, run, Workspace};

/// Answers with a file of `fixtures/responses`.
fn fixture(name: &str) -> (u16, String) {
    let path = project_root().join("fixtures/responses").join(name);
    (
        200,
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}")),
    )
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
    let replay = Replay::start(|r| fixture(update_route(r)));
    let ws = workspace();
    let out = run(cfdeploy(&replay.endpoint, ws.path()).args([
        "plan",
        "--config",
        "stacks.yaml",
        "--format",
        "json",
        "--keep-change-sets",
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
    // CloudFormation's warning that the change set is incomplete is shown, not dropped.
    let warnings = stack["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{stack}");
    assert!(
        warnings[0].as_str().unwrap().contains("incomplete"),
        "{warnings:?}"
    );
    assert_eq!(doc["summary"]["warnings"], 1);

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
        "a change set kept for review is not deleted"
    );
    let before_table = replay.requests.lock().unwrap().len();

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
    assert!(
        table.stdout.contains("⚠ CloudFormation warns:") && table.stdout.contains("1 warning"),
        "{}",
        table.stdout
    );
    // A plan with nowhere to keep it cleans up the change set it made.
    let after: Vec<String> = replay.requests.lock().unwrap()[before_table..]
        .iter()
        .map(|r| r["Action"].clone())
        .collect();
    assert!(after.contains(&"DeleteChangeSet".to_string()), "{after:?}");
}

#[test]
fn a_busy_stack_gets_no_change_set() {
    let replay = Replay::start(|r| match r["Action"].as_str() {
        "DescribeStacks" => fixture("describe-stacks-update-in-progress.xml"),
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

#[test]
fn an_endpoint_without_sts_is_named_in_the_header_and_the_run_goes_on() {
    let replay = Replay::start_without_sts(|r| {
        match r["Action"].as_str() {
        "GetCallerIdentity" => (
            400,
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Could not find operation GetCallerIdentity</Message></Error><RequestId>0</RequestId></ErrorResponse>".to_string(),
        ),
        "DescribeStacks" => fixture("describe-stacks-update-in-progress.xml"),
        other => panic!("unexpected {other}"),
    }
    });
    let ws = workspace();
    let out = run(cfdeploy(&replay.endpoint, ws.path()).args(["plan", "--config", "stacks.yaml"]));
    let header = out.stderr.lines().next().unwrap_or("");
    assert!(
        header.contains("account unknown (GetCallerIdentity: Could not find operation"),
        "{}",
        out.stderr
    );
    // CloudFormation is still asked, and the stack reported as it is.
    assert!(
        out.stdout.contains("orders-prod  us-east-1  busy"),
        "{}",
        out.stdout
    );
    assert_eq!(out.code, 1);
}

/// A stack as `DescribeStacks` lists it, with its tags.
fn listed(name: &str, tags: &[(&str, &str)]) -> serde_json::Value {
    serde_json::json!({
        "StackId": format!("arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/1"),
        "StackName": name,
        "CreationTime": "2026-10-01T09:00:00.000Z",
        "StackStatus": "CREATE_COMPLETE",
        "Tags": tags.iter().map(|(k, v)| serde_json::json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
    })
}

/// A nested stack: it carries its parent's tags, fleet tag included, and is no stack of its own.
fn nested() -> serde_json::Value {
    let mut nested = listed("orders-prod-Tables-1ABC", &[("cfdeploy:fleet", "shop")]);
    nested["ParentId"] = "arn:aws:cloudformation:us-east-1:123456789012:stack/orders-prod/1".into();
    nested["RootId"] = nested["ParentId"].clone();
    nested
}

/// A stack of the fleet being deleted: it is leaving already.
fn leaving() -> serde_json::Value {
    let mut going = listed("retired-prod", &[("cfdeploy:fleet", "shop")]);
    going["StackStatus"] = "DELETE_IN_PROGRESS".into();
    going
}

#[test]
fn a_fleets_stacks_are_found_on_every_page_of_the_regions_stacks_by_their_tag() {
    let replay = Replay::start(|r| {
        if r["Action"] == "DescribeStacks" && r.get("StackName").is_none() {
            let page = match r.get("NextToken").map(String::as_str) {
                None => serde_json::json!({
                    "Stacks": [
                        listed("orders-prod", &[("cfdeploy:fleet", "shop")]),
                        listed("other-team", &[("cfdeploy:fleet", "payments")]),
                    ],
                    "NextToken": "page-2",
                }),
                Some("page-2") => serde_json::json!({
                    "Stacks": [
                        listed("legacy-prod", &[("team", "platform"), ("cfdeploy:fleet", "shop")]),
                        listed("untagged-prod", &[]),
                        nested(),
                        leaving(),
                    ],
                }),
                Some(other) => panic!("unexpected token {other}"),
            };
            return (200, support::replay::query_xml("DescribeStacks", &page));
        }
        fixture(update_route(r))
    });
    let ws = workspace();
    ws.write(
        "stacks.yaml",
        "defaults: {fleet: shop}\nstacks:\n  orders-prod:\n    template: templates/orders.yaml\n    parameters: {ServiceName: orders, MemorySize: 1024, ApiToken: replay-Secret-123}\n",
    );
    let out = run(cfdeploy(&replay.endpoint, ws.path()).args([
        "plan",
        "--config",
        "stacks.yaml",
        "--format",
        "json",
        "--keep-change-sets",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = json(&out.stdout);
    let listed: Vec<(&str, &str)> = doc["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["stack"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [("orders-prod", "update"), ("legacy-prod", "not-in-config")],
        "the fleet's other stack, from the second page; another fleet's, untagged, nested and leaving stacks are not listed"
    );
    let describes = replay
        .actions()
        .iter()
        .filter(|a| a.as_str() == "DescribeStacks")
        .count();
    assert_eq!(
        describes, 3,
        "one read of the stack, two pages of the region"
    );
}
