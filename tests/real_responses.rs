//! Real CloudFormation answers, recorded against AWS (fixtures/real, with their source and
//! licence in its README), replayed through the real binary and the real AWS SDK over HTTP.
//! They show what the emulator cannot: how CloudFormation really describes change sets and
//! failures. Each scenario is rendered in every format and checked: at 80 columns every line
//! fits, no identifier is split, and no value of the response is lost.

mod support;

use serde_json::Value;
use support::replay::{error_xml, query_xml, Replay};
use support::{cfdeploy, json, project_root, run, Run, Workspace};

fn recording(name: &str) -> Value {
    let path = project_root()
        .join("fixtures/real")
        .join(format!("{name}.json"));
    json(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// CloudFormation as the recording answered: the change set as recorded (with and without
/// property values), the stack it belongs to deployed (or not, for a create), its events.
fn replay(rec: Value, deployed: bool) -> Replay {
    let cs = rec["with_values"].clone();
    let stack_name = cs["StackName"].as_str().unwrap().to_string();
    let stack_id = cs["StackId"].as_str().unwrap().to_string();
    Replay::start(move |r| {
        let answer = |action: &str, v: Value| (200, query_xml(action, &v));
        match r["Action"].as_str() {
            "DescribeStacks" if deployed => answer(
                "DescribeStacks",
                serde_json::json!({"Stacks": [{
                    "StackId": stack_id, "StackName": stack_name,
                    "StackStatus": "UPDATE_COMPLETE",
                    "CreationTime": "2025-08-05T14:00:00.000Z",
                    "LastUpdatedTime": "2025-08-05T14:05:00.000Z",
                    "Parameters": [],
                }]}),
            ),
            "DescribeStacks" => (
                400,
                error_xml(
                    "ValidationError",
                    &format!("Stack with id {stack_name} does not exist"),
                ),
            ),
            "CreateChangeSet" => answer(
                "CreateChangeSet",
                serde_json::json!({"Id": cs["ChangeSetId"], "StackId": stack_id}),
            ),
            "DescribeChangeSet" => {
                let values = r.get("IncludePropertyValues").map(String::as_str) == Some("true");
                let key = if values {
                    "with_values"
                } else {
                    "without_values"
                };
                answer("DescribeChangeSet", rec[key].clone())
            }
            "GetTemplate" => answer(
                "GetTemplate",
                serde_json::json!({"TemplateBody": "Resources: {}\n"}),
            ),
            "DeleteChangeSet" => answer("DeleteChangeSet", serde_json::json!({})),
            "DescribeStackEvents" => answer("DescribeStackEvents", rec["stack_events"].clone()),
            other => panic!("unexpected {other}"),
        }
    })
}

/// A config for the recording's stack, with a template declaring its resources.
fn workspace(rec: &Value) -> Workspace {
    let cs = &rec["with_values"];
    let ws = Workspace::new();
    let mut template = String::from("Resources:\n");
    for change in cs["Changes"].as_array().unwrap() {
        let rc = &change["ResourceChange"];
        template.push_str(&format!(
            "  {}:\n    Type: {}\n",
            rc["LogicalResourceId"].as_str().unwrap(),
            rc["ResourceType"].as_str().unwrap()
        ));
    }
    if cs["Changes"].as_array().unwrap().is_empty() {
        template.push_str("  Topic: {Type: AWS::SNS::Topic}\n");
    }
    ws.write("templates/t.yaml", &template);
    ws.write(
        "stacks.yaml",
        &format!(
            "stacks:\n  {}:\n    template: templates/t.yaml\n    region: us-east-1\n",
            cs["StackName"].as_str().unwrap()
        ),
    );
    ws
}

fn plan(replay: &Replay, ws: &Workspace, columns: &str, format: &str) -> Run {
    let mut out = run(cfdeploy(&replay.endpoint, ws.path())
        .env("COLUMNS", columns)
        .args(["plan", "--config", "stacks.yaml", "--format", format]));
    out.stdout = stable(&out.stdout);
    out
}

/// The output with what differs from run to run (the change set's name, the correlation id)
/// replaced, for snapshots.
fn stable(text: &str) -> String {
    text.lines()
        .map(|line| {
            for marker in [
                "change set cfdeploy-",
                "Change set [`cfdeploy-",
                "correlation id ",
                "correlation id <code>",
            ] {
                if let Some(at) = line.find(marker) {
                    return format!("{}{marker}[varies]", &line[..at]);
                }
            }
            line.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every identifier and value of the recorded changes, as they must appear.
fn identifiers_and_values(rec: &Value) -> (Vec<String>, Vec<String>) {
    let mut ids = Vec::new();
    let mut values = Vec::new();
    for change in rec["with_values"]["Changes"].as_array().unwrap() {
        let rc = &change["ResourceChange"];
        for key in ["LogicalResourceId", "ResourceType", "PhysicalResourceId"] {
            if let Some(id) = rc[key].as_str() {
                ids.push(id.to_string());
            }
        }
        for detail in rc["Details"].as_array().into_iter().flatten() {
            for key in ["BeforeValue", "AfterValue"] {
                if let Some(v) = detail["Target"][key].as_str() {
                    values.push(v.to_string());
                }
            }
        }
    }
    (ids, values)
}

/// The checks every recorded change set must pass, in every format.
fn renders_whole(name: &str, deployed: bool) -> (Run, Run, Run, Run) {
    let rec = recording(name);
    let replay = replay(rec.clone(), deployed);
    let ws = workspace(&rec);
    let narrow = plan(&replay, &ws, "80", "table");
    let wide = plan(&replay, &ws, "200", "table");
    let markdown = plan(&replay, &ws, "200", "markdown");
    let doc = plan(&replay, &ws, "200", "json");
    for run in [&narrow, &wide, &markdown, &doc] {
        assert!(
            run.code == 0 || run.code == 2,
            "{name}: {}\n{}",
            run.stdout,
            run.stderr
        );
    }
    for line in narrow.stdout.lines() {
        assert!(
            line.chars().count() <= 80,
            "{name}: wider than 80 columns:\n{line}\n{}",
            narrow.stdout
        );
    }
    let (ids, values) = identifiers_and_values(&rec);
    for id in &ids {
        for (format, out) in [
            ("table at 80", &narrow),
            ("table", &wide),
            ("markdown", &markdown),
        ] {
            assert!(
                out.stdout.contains(id.as_str()),
                "{name}: {id} split or lost in the {format}:\n{}",
                out.stdout
            );
        }
    }
    for value in &values {
        // JSON keeps every value exactly, CloudFormation's markers included.
        assert!(
            doc.stdout.contains(&serde_json::to_string(value).unwrap()),
            "{name}: {value} lost in the JSON"
        );
        let shown = if value == "{{changeSet:KNOWN_AFTER_APPLY}}" {
            "(known after apply)"
        } else {
            value.as_str()
        };
        for (format, out) in [("table", &wide), ("markdown", &markdown)] {
            assert!(
                out.stdout.contains(shown),
                "{name}: {value} lost in the {format}:\n{}",
                out.stdout
            );
        }
    }
    (narrow, wide, markdown, doc)
}

#[test]
fn an_update_with_a_replacement_and_values_known_after_apply() {
    let (narrow, wide, markdown, doc) = renders_whole(
        "describe-change-set-update-replacement-known-after-apply",
        true,
    );
    let doc = json(&doc.stdout);
    let changes = doc["stacks"][0]["changes"].as_array().unwrap();
    let dependent = changes
        .iter()
        .find(|c| c["logical_id"] == "Parameter2")
        .unwrap();
    // CloudFormation describes the property once per cause; it is one property.
    assert_eq!(
        dependent["details"].as_array().unwrap().len(),
        1,
        "{dependent}"
    );
    assert_eq!(
        dependent["details"][0]["causes"],
        serde_json::json!(["DirectModification", "ResourceAttribute (Parameter1.Value)"])
    );
    assert_eq!(
        dependent["details"][0]["after"],
        "{{changeSet:KNOWN_AFTER_APPLY}}"
    );
    let replaced = changes
        .iter()
        .find(|c| c["logical_id"] == "Parameter1")
        .unwrap();
    assert_eq!(replaced["replacement"], "True");
    assert_eq!(replaced["policy_action"], "ReplaceAndDelete");
    for out in [&narrow, &wide] {
        assert!(!out.stdout.contains("KNOWN_AFTER_APPLY"), "{}", out.stdout);
    }
    assert!(
        wide.stdout.contains("(known after apply)"),
        "{}",
        wide.stdout
    );
    assert!(
        wide.stdout
            .contains("replaced; the old resource is deleted"),
        "{}",
        wide.stdout
    );
    assert_eq!(
        wide.stdout
            .matches("Value: value → (known after apply)")
            .count(),
        1,
        "listed once, with its causes:\n{}",
        wide.stdout
    );
    assert!(
        markdown
            .stdout
            .contains("(because of DirectModification; ResourceAttribute (Parameter1.Value))"),
        "{}",
        markdown.stdout
    );
    insta::assert_snapshot!("update_replacement_table_80", narrow.stdout);
    insta::assert_snapshot!("update_replacement_markdown", markdown.stdout);
}

#[test]
fn additions_described_with_values_are_not_replacements() {
    let (narrow, _, markdown, doc) = renders_whole("describe-change-set-create-with-values", false);
    let doc = json(&doc.stdout);
    assert_eq!(doc["stacks"][0]["status"], "create");
    for change in doc["stacks"][0]["changes"].as_array().unwrap() {
        assert_eq!(change["action"], "Add");
        assert_eq!(change["replacement"], Value::Null, "{change}");
    }
    assert!(!narrow.stdout.contains("True"), "{}", narrow.stdout);
    assert!(!markdown.stdout.contains("**True**"), "{}", markdown.stdout);
    insta::assert_snapshot!("create_table_80", narrow.stdout);

    // Users report CloudFormation sending Replacement True with additions described with
    // values; this recording has none, so the same recording says so here.
    let mut rec = recording("describe-change-set-create-with-values");
    for change in rec["with_values"]["Changes"].as_array_mut().unwrap() {
        change["ResourceChange"]["Replacement"] = Value::String("True".into());
    }
    let replay = replay(rec.clone(), false);
    let ws = workspace(&rec);
    let doc = json(&plan(&replay, &ws, "200", "json").stdout);
    for change in doc["stacks"][0]["changes"].as_array().unwrap() {
        assert_eq!(change["replacement"], Value::Null, "{change}");
    }
    let table = plan(&replay, &ws, "200", "table");
    assert!(!table.stdout.contains("True"), "{}", table.stdout);
}

#[test]
fn a_parameter_change_reaching_resources() {
    let (narrow, wide, _, doc) = renders_whole("describe-change-set-parameter-change", true);
    let doc = json(&doc.stdout);
    // The property is described once per cause: a direct edit and the parameter it references.
    let details: Vec<Value> = doc["stacks"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["details"].as_array().unwrap().clone())
        .collect();
    assert_eq!(
        details.len(),
        2,
        "two resources, each property listed once: {details:?}"
    );
    let causes = details[0]["causes"].as_array().unwrap();
    assert!(
        causes
            .iter()
            .any(|c| c.as_str().unwrap().starts_with("ParameterReference")),
        "{causes:?}"
    );
    assert!(!wide.stdout.contains("KNOWN_AFTER_APPLY"));
    insta::assert_snapshot!("parameter_change_table_80", narrow.stdout);
}

#[test]
fn a_change_set_that_changes_nothing_is_unchanged_and_deleted() {
    let rec = recording("describe-change-set-no-changes");
    let replay = replay(rec.clone(), true);
    let ws = workspace(&rec);
    let out = plan(&replay, &ws, "80", "json");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json(&out.stdout)["stacks"][0]["status"], "no-changes");
    assert!(replay.actions().contains(&"DeleteChangeSet".to_string()));
}

#[test]
fn a_failed_rollback_then_a_failed_delete_are_diagnosed_by_the_stacks_name() {
    let rec = recording("stack-events-rollback-failed-then-delete-failed");
    let stacks = rec["stacks"].clone();
    let name = stacks["Stacks"][0]["StackName"]
        .as_str()
        .unwrap()
        .to_string();
    let events = rec["stack_events"].clone();
    let replay = Replay::start(move |r| match r["Action"].as_str() {
        "DescribeStacks" => (200, query_xml("DescribeStacks", &stacks)),
        "DescribeStackEvents" => (200, query_xml("DescribeStackEvents", &events)),
        other => panic!("unexpected {other}"),
    });
    let ws = Workspace::new();
    ws.write("stacks.yaml", "stacks: {}\n");
    for columns in ["80", "200"] {
        let out = run(cfdeploy(&replay.endpoint, ws.path())
            .env("COLUMNS", columns)
            .args([
                "--region",
                "us-east-1",
                "--config",
                "stacks.yaml",
                "events",
                &name,
            ]));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let text = &out.stdout;
        assert!(
            text.contains(&format!("✗ {name} ROLLBACK_FAILED")),
            "{text}"
        );
        assert!(text.contains("BrokenPolicy"), "{text}");
        assert!(
            text.contains(&format!("`cfdeploy rollback {name} --delete`")),
            "advice by name, never the ARN:\n{text}"
        );
        assert!(!text.contains("rollback arn:"), "{text}");
        if columns == "80" {
            for line in text.lines() {
                assert!(line.chars().count() <= 80, "wider than 80:\n{line}");
            }
            insta::assert_snapshot!("rollback_failed_events_80", text);
        }
    }
}
