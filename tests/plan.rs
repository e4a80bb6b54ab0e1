//! `cfdeploy plan` end to end: the real binary, through the real AWS SDK over HTTP, against the
//! local CloudFormation emulator.

mod support;

use support::{cfdeploy, json, run, unique, Emulator, Run, Workspace};

const SECRET: &str = "tok-Sup3r-s3cret-VALUE";

/// A workspace with one config file declaring `stacks` (name → ServiceName) on `template`.
/// Service names become physical names (queues, parameters): each test uses its own.
fn fleet(template: &str, stacks: &[(&str, &str)]) -> Workspace {
    let ws = Workspace::new();
    ws.fixture("templates/service.yaml", template);
    let mut config = String::from(
        "defaults:\n  template: templates/service.yaml\n  parameters:\n    Environment: prod\n    ApiToken: ${env:API_TOKEN}\n  tags: {team: platform}\nstacks:\n",
    );
    for (stack, service) in stacks {
        config.push_str(&format!(
            "  {stack}:\n    parameters: {{ServiceName: {service}}}\n"
        ));
    }
    ws.write("stacks.yaml", &config);
    ws
}

fn plan(ws: &Workspace, args: &[&str]) -> Run {
    let emulator = Emulator::shared();
    run(cfdeploy(&emulator.endpoint, ws.path())
        .env("API_TOKEN", SECRET)
        .args(["plan", "--config", "stacks.yaml", "--keep-change-sets"])
        .args(args))
}

/// Plans and executes every change set, as another tool would deploy the stacks.
fn deploy(ws: &Workspace) {
    let out = plan(ws, &["--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = json(&out.stdout);
    for stack in doc["stacks"].as_array().unwrap() {
        if let Some(arn) = stack["change_set_arn"].as_str() {
            let status = Emulator::shared().execute_and_wait(arn, stack["stack"].as_str().unwrap());
            assert!(status.ends_with("_COMPLETE"), "{status}");
        }
    }
}

fn stack<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stack"] == name)
        .unwrap_or_else(|| panic!("{name} not in the plan"))
}

fn change<'a>(stack: &'a serde_json::Value, logical_id: &str) -> &'a serde_json::Value {
    stack["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["logical_id"] == logical_id)
        .unwrap_or_else(|| panic!("no change for {logical_id}: {stack}"))
}

#[test]
fn creates_several_stacks_at_once_with_one_correlation_id() {
    let (a, b, c) = (unique("orders"), unique("billing"), unique("search"));
    let ws = fleet(
        "templates/queue-service.yaml",
        &[(&a, &a), (&b, &b), (&c, &c)],
    );
    let out = plan(&ws, &["--format", "json", "--concurrency", "3"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = json(&out.stdout);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["kind"], "plan");
    let id = doc["correlation_id"].as_str().unwrap();
    assert!(
        out.stderr.contains(&format!("correlation id {id}")),
        "{}",
        out.stderr
    );
    let names: Vec<&str> = doc["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stack"].as_str().unwrap())
        .collect();
    assert_eq!(names, [a.as_str(), b.as_str(), c.as_str()], "config order");
    for name in [&a, &b, &c] {
        let s = stack(&doc, name);
        assert_eq!(s["status"], "create");
        let cs_name = s["change_set_name"].as_str().unwrap();
        assert!(
            cs_name.starts_with("cfdeploy-") && cs_name.ends_with(&id[..6]),
            "{cs_name}"
        );
        assert!(s["change_set_arn"]
            .as_str()
            .unwrap()
            .contains(&format!(":changeSet/{cs_name}/")));
        let actions: Vec<(&str, &str)> = s["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["action"].as_str().unwrap(),
                    c["logical_id"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            actions,
            [
                ("Add", "DeadLetterQueue"),
                ("Add", "WorkQueue"),
                ("Add", "LegacyTopic"),
                ("Add", "ApiTokenParameter")
            ]
        );
    }
    assert_eq!(doc["summary"]["to_change"], 3);
    assert_eq!(doc["summary"]["add"], 12);
}

#[test]
fn an_update_shows_what_is_added_modified_and_removed_with_values_and_diffs() {
    let name = unique("svc");
    let ws = fleet("templates/queue-service.yaml", &[(&name, &name)]);
    deploy(&ws);
    ws.fixture(
        "templates/service.yaml",
        "templates/queue-service-add-modify-remove.yaml",
    );
    let out = plan(&ws, &["--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = json(&out.stdout);
    let s = stack(&doc, &name);
    assert_eq!(s["status"], "update");
    assert_eq!(change(s, "AlarmTopic")["action"], "Add");
    let modified = change(s, "WorkQueue");
    assert_eq!(modified["action"], "Modify");
    assert_eq!(modified["replacement"], "False");
    assert!(modified["physical_id"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{name}-prod-work")));
    let detail = &modified["details"][0];
    assert_eq!(detail["name"], "MessageRetentionPeriod");
    assert_eq!(detail["after"], "86400");
    let removed = change(s, "LegacyTopic");
    assert_eq!(removed["action"], "Remove");
    assert!(removed["physical_id"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:sns:"));
    let diff = s["template_diff"].as_str().unwrap();
    assert!(
        diff.contains("+      MessageRetentionPeriod: 86400") && diff.contains("-  LegacyTopic:"),
        "{diff}"
    );
    assert_eq!(
        s["parameters"],
        serde_json::json!([]),
        "no parameter changed"
    );

    let table = plan(&ws, &[]);
    assert_eq!(table.code, 0);
    assert!(
        table
            .stdout
            .contains("MessageRetentionPeriod: (none) → 86400"),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("Plan: 1 stack to change — 1 to add, 1 to modify, 0 to replace, 1 to remove"),
        "{}",
        table.stdout
    );
}

#[test]
fn a_replacement_stands_out_in_every_format() {
    let name = unique("svc");
    let ws = fleet("templates/queue-service.yaml", &[(&name, &name)]);
    deploy(&ws);
    ws.fixture(
        "templates/service.yaml",
        "templates/queue-service-renamed.yaml",
    );
    let doc = json(&plan(&ws, &["--format", "json"]).stdout);
    let s = stack(&doc, &name);
    let replaced = change(s, "WorkQueue");
    assert_eq!(replaced["replacement"], "True");
    assert_eq!(replaced["details"][0]["requires_recreation"], "Always");
    assert_eq!(doc["summary"]["replace"], 1);

    let table = plan(&ws, &[]).stdout;
    let row = table
        .lines()
        .find(|l| l.starts_with('│') && l.contains("WorkQueue"))
        .unwrap();
    assert!(row.contains("True") && row.contains("[replaces]"), "{row}");
    assert!(table.contains("1 to replace"), "{table}");
    // A queue is stateful: replacing it is marked destructive.
    assert!(
        table.contains("⚠ destructive: replaces stateful AWS::SQS::Queue WorkQueue"),
        "{table}"
    );
    let md = plan(&ws, &["--format", "markdown"]).stdout;
    assert!(
        md.contains("| **True** |") && md.contains("**(replaces)**"),
        "{md}"
    );
}

#[test]
fn a_parameter_only_change_shows_the_parameter_and_the_resource_it_reaches() {
    let name = unique("svc");
    let ws = fleet("templates/queue-service.yaml", &[(&name, &name)]);
    deploy(&ws);
    let config = std::fs::read_to_string(ws.path().join("stacks.yaml")).unwrap();
    ws.write(
        "stacks.yaml",
        &config.replace(
            &format!("{{ServiceName: {name}}}"),
            &format!("{{ServiceName: {name}, VisibilityTimeout: 90}}"),
        ),
    );
    let doc = json(&plan(&ws, &["--format", "json"]).stdout);
    let s = stack(&doc, &name);
    assert_eq!(
        s["parameters"],
        serde_json::json!([{"key": "VisibilityTimeout", "old": "30", "new": "90"}])
    );
    assert_eq!(s["changes"].as_array().unwrap().len(), 1, "{s}");
    let modified = change(s, "WorkQueue");
    assert_eq!(
        modified["details"][0]["change_source"],
        "ParameterReference"
    );
    assert_eq!(
        modified["details"][0]["causing_entity"],
        "VisibilityTimeout"
    );
    assert_eq!(s["template_diff"], serde_json::Value::Null);
}

#[test]
fn no_changes_exits_zero_and_leaves_no_change_set_behind() {
    let name = unique("svc");
    let ws = fleet("templates/queue-service.yaml", &[(&name, &name)]);
    deploy(&ws);
    let out = plan(&ws, &["--detailed-exitcode"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(&format!("{name}  us-east-1  no changes")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Plan: 1 unchanged"), "{}", out.stdout);
    assert_eq!(Emulator::shared().change_set_count(&name), 0);
}

#[test]
fn detailed_exitcode_is_two_when_something_would_change() {
    let name = unique("svc");
    let ws = fleet("templates/queue-service.yaml", &[(&name, &name)]);
    assert_eq!(plan(&ws, &["--detailed-exitcode"]).code, 2);
    assert_eq!(plan(&ws, &[]).code, 0);
}

#[test]
fn a_refused_change_set_fails_its_stack_and_the_others_go_on() {
    let (good, bad) = (unique("good"), unique("bad"));
    let ws = Workspace::new();
    ws.fixture("templates/ok.yaml", "templates/queue-service.yaml");
    ws.fixture("templates/bad.yaml", "templates/refused-change-set.yaml");
    ws.write(
        "stacks.yaml",
        &format!(
            "defaults:\n  parameters: {{ApiToken: x}}\nstacks:\n  {good}:\n    template: templates/ok.yaml\n    parameters: {{ServiceName: {good}}}\n  {bad}:\n    template: templates/bad.yaml\n    parameters: {{ServiceName: {bad}}}\n"
        ),
    );
    let out = plan(&ws, &["--format", "json"]);
    assert_eq!(out.code, 1, "a stack failed");
    let doc = json(&out.stdout);
    assert_eq!(stack(&doc, &good)["status"], "create");
    let failed = stack(&doc, &bad);
    assert_eq!(failed["status"], "error");
    assert_eq!(failed["change_set_arn"], serde_json::Value::Null);
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("undefined resource MissingBucket"),
        "{failed}"
    );
    assert_eq!(
        Emulator::shared().change_set_count(&bad),
        0,
        "the failed change set is deleted"
    );
    let table = plan(&ws, &[]).stdout;
    assert!(table.contains("1 stack to change · 1 failed"), "{table}");
}

#[test]
fn a_stack_whose_create_rolled_back_is_explained() {
    let name = unique("svc");
    let ws = fleet("templates/fails-on-create.yaml", &[(&name, &name)]);
    let doc = json(&plan(&ws, &["--format", "json"]).stdout);
    let arn = stack(&doc, &name)["change_set_arn"]
        .as_str()
        .unwrap()
        .to_string();
    let emulator = Emulator::shared();
    assert_eq!(emulator.execute_and_wait(&arn, &name), "ROLLBACK_COMPLETE");
    // The failure and its cascade are in the stack events (read directly until `apply` exists).
    let (_, events) = emulator.call(&[("Action", "DescribeStackEvents"), ("StackName", &name)]);
    let failed: Vec<&str> = events
        .split("<member>")
        .filter(|e| e.contains("<ResourceStatus>CREATE_FAILED</ResourceStatus>"))
        .collect();
    assert!(
        failed.iter().any(
            |e| e.contains("<LogicalResourceId>WorkQueue</LogicalResourceId>")
                && e.contains("Queue quota exceeded")
        ),
        "{events}"
    );
    assert!(
        failed
            .iter()
            .any(|e| e.contains("Resource creation cancelled")),
        "{events}"
    );
    let out = plan(&ws, &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("stack is ROLLBACK_COMPLETE")
            && out
                .stdout
                .contains(&format!("`cfdeploy rollback {name} --delete`")),
        "{}",
        out.stdout
    );
}

#[test]
fn no_echo_values_never_appear_in_any_format_log_or_plan_file() {
    let name = unique("svc");
    let ws = fleet("templates/queue-service.yaml", &[(&name, &name)]);
    for format in ["table", "markdown", "json"] {
        let out = plan(
            &ws,
            &[
                "--format",
                format,
                "--out",
                "plan.json",
                "--log-level",
                "debug",
                "--log-format",
                "json",
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        // Markdown shows parameter values in code spans, where nothing is live.
        let masked = if format == "markdown" {
            "`****`"
        } else {
            "****"
        };
        assert!(
            out.stdout.contains(masked),
            "{format} shows the parameter masked:\n{}",
            out.stdout
        );
        assert!(!out.stdout.contains(SECRET), "{format} leaks the secret");
        assert!(!out.stderr.contains(SECRET), "the logs leak the secret");
        let file = std::fs::read_to_string(ws.path().join("plan.json")).unwrap();
        assert!(!file.contains(SECRET), "the plan file leaks the secret");
    }
    // After a deploy, a change to the secret is still never shown.
    deploy(&ws);
    let out = run(cfdeploy(&Emulator::shared().endpoint, ws.path())
        .env("API_TOKEN", "another-Sup3r-secret")
        .args(["plan", "--config", "stacks.yaml", "--format", "json"]));
    assert!(
        !out.stdout.contains("another-Sup3r-secret") && !out.stdout.contains(SECRET),
        "{}",
        out.stdout
    );
}

#[test]
fn logs_are_structured_and_carry_the_correlation_id() {
    let name = unique("svc");
    let ws = fleet("templates/queue-service.yaml", &[(&name, &name)]);
    let out = plan(
        &ws,
        &[
            "--format",
            "json",
            "--log-level",
            "info",
            "--log-format",
            "json",
        ],
    );
    let id = json(&out.stdout)["correlation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let lines: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(json)
        .collect();
    assert!(!lines.is_empty(), "{}", out.stderr);
    for line in &lines {
        assert_eq!(line["spans"][0]["correlation_id"], id.as_str(), "{line}");
    }
    assert!(lines
        .iter()
        .any(|l| l["fields"]["message"] == "change set created"
            && l["span"]["stack"] == name.as_str()));
}

#[test]
fn stacks_are_selected_by_glob() {
    let (a, b) = (unique("orders"), unique("billing"));
    let ws = fleet("templates/queue-service.yaml", &[(&a, &a), (&b, &b)]);
    let doc = json(&plan(&ws, &["--format", "json", "--stack", "orders-*"]).stdout);
    assert_eq!(doc["stacks"].as_array().unwrap().len(), 1);
    assert_eq!(doc["stacks"][0]["stack"], a.as_str());
}

#[test]
fn bad_config_is_reported_before_any_aws_call() {
    let ws = Workspace::new();
    ws.fixture("templates/service.yaml", "templates/queue-service.yaml");
    ws.write(
        "stacks/orders.yaml",
        "defaults:\n  template: ../templates/service.yaml\nstacks:\n  orders:\n    parameters: {ServiceName: orders, Environment: staging, ApiToken: x}\n",
    );
    ws.write(
        "stacks/billing.yaml",
        "stacks:\n  billing:\n    paramters: {}\n",
    );
    // Nothing listens on this port: any AWS call would fail with a transport error instead.
    let out = run(cfdeploy("http://127.0.0.1:9", ws.path()).args(["plan", "--config", "stacks"]));
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "", "nothing on stdout");
    let err = &out.stderr;
    assert!(
        err.contains("error: the stack config has 2 problems; nothing was sent to AWS"),
        "{err}"
    );
    assert!(err.contains("stacks/orders.yaml: stack `orders`: parameter `Environment` is `staging`, not one of its AllowedValues: dev, prod"), "{err}");
    assert!(
        err.contains("stacks/billing.yaml: line 3: unknown key `paramters` in stack `billing` (did you mean `parameters`?)"),
        "{err}"
    );
    assert!(!err.contains("could not reach"), "{err}");

    let out =
        run(cfdeploy("http://127.0.0.1:9", ws.path()).args(["plan", "--config", "missing.yaml"]));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("missing.yaml: cannot read the stack config"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_template_over_the_inline_limit_goes_through_the_template_bucket() {
    let name = unique("big");
    let bucket = unique("artifacts");
    let emulator = Emulator::shared();
    emulator.create_bucket(&bucket);
    let ws = fleet("templates/queue-service.yaml", &[(&name, &name)]);
    let template = std::fs::read_to_string(ws.path().join("templates/service.yaml")).unwrap();
    let big = format!("Metadata:\n  Notes: \"{}\"\n{template}", "n".repeat(60_000));
    ws.write("templates/service.yaml", &big);
    let config = std::fs::read_to_string(ws.path().join("stacks.yaml")).unwrap();
    ws.write(
        "stacks.yaml",
        &config.replace(
            "defaults:\n",
            &format!("defaults:\n  template_bucket: {bucket}\n"),
        ),
    );

    let out = plan(&ws, &["--format", "json", "--out", "plan.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = json(&out.stdout);
    let s = stack(&doc, &name);
    assert_eq!(s["status"], "create", "{s}");
    let sha = s["fingerprint"]["template_sha256"].as_str().unwrap();
    let stored = emulator
        .s3_object(&bucket, &format!("cfdeploy/templates/{sha}.yaml"))
        .expect("the template is stored under its content hash");
    assert_eq!(stored.len(), big.len());
    // CloudFormation read it from S3: the stack deploys.
    let arn = s["change_set_arn"].as_str().unwrap();
    assert_eq!(emulator.execute_and_wait(arn, &name), "CREATE_COMPLETE");
}

#[test]
fn mask_patterns_from_the_config_hide_matching_values_everywhere() {
    let name = unique("mask");
    let ws = Workspace::new();
    ws.write(
        "templates/hook.yaml",
        "Parameters:\n  Webhook: {Type: String}\nResources:\n  Hook:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Name: !Sub '/${AWS::StackName}/hook'\n      Type: String\n      Value: !Ref Webhook\n",
    );
    ws.write(
        "stacks.yaml",
        &format!("defaults:\n  mask: ['hooks\\.example\\.com/[A-Za-z0-9]+']\nstacks:\n  {name}:\n    template: templates/hook.yaml\n    parameters: {{Webhook: 'https://hooks.example.com/T0KEN1'}}\n"),
    );
    assert_eq!(plan(&ws, &["--out", "first.json"]).code, 0);
    let arn = json(&std::fs::read_to_string(ws.path().join("first.json")).unwrap())["stacks"][0]
        ["change_set_arn"]
        .as_str()
        .unwrap()
        .to_string();
    Emulator::shared().execute_and_wait(&arn, &name);
    let config = std::fs::read_to_string(ws.path().join("stacks.yaml")).unwrap();
    ws.write("stacks.yaml", &config.replace("T0KEN1", "T0KEN2"));
    for format in ["table", "markdown", "json"] {
        let out = plan(&ws, &["--format", format, "--out", "plan.json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let file = std::fs::read_to_string(ws.path().join("plan.json")).unwrap();
        for text in [&out.stdout, &out.stderr, &file] {
            assert!(
                !text.contains("T0KEN1") && !text.contains("T0KEN2"),
                "{format} leaks a masked value:\n{text}"
            );
        }
        assert!(
            out.stdout.contains("https://****") || out.stdout.contains("https://\\*\\*\\*\\*"),
            "{format}:\n{}",
            out.stdout
        );
    }
}

/// Public sample templates nobody here tuned (fixtures/real-templates): each plans as a create.
#[test]
fn real_public_templates_plan_cleanly() {
    let ws = Workspace::new();
    let stacks = [
        ("DynamoDB_DynamoDB_Secondary_Indexes.yaml", "", ""),
        (
            "DynamoDB_DynamoDB_Table.yaml",
            "{HashKeyElementName: id}",
            "",
        ),
        (
            "Lambda_LambdaSample.yaml",
            "{EnvName: dev, LambdaHandlerPath: index.handler}",
            "[CAPABILITY_IAM]",
        ),
        (
            "S3_compliant-bucket.yaml",
            "{AppName: demo}",
            "[CAPABILITY_NAMED_IAM]",
        ),
        (
            "SNS_SNSTopic.yaml",
            "{SubscriptionEndPoint: ops@example.com}",
            "",
        ),
        ("SQS_SQSFIFOQueue.yaml", "{QueueName: orders}", ""),
        ("SQS_SQSStandardQueue.yaml", "", ""),
        ("VPC_VPC_With_Managed_NAT_And_Private_Subnet.yaml", "", ""),
    ];
    let mut config = String::from("stacks:\n");
    let mut names = Vec::new();
    for (file, params, caps) in stacks {
        ws.fixture(
            &format!("templates/{file}"),
            &format!("real-templates/{file}"),
        );
        let name = unique("real");
        config.push_str(&format!("  {name}:\n    template: templates/{file}\n"));
        if !params.is_empty() {
            config.push_str(&format!("    parameters: {params}\n"));
        }
        if !caps.is_empty() {
            config.push_str(&format!("    capabilities: {caps}\n"));
        }
        names.push(name);
    }
    ws.write("stacks.yaml", &config);
    let out = plan(&ws, &["--format", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let doc = json(&out.stdout);
    for name in &names {
        let s = stack(&doc, name);
        assert_eq!(s["status"], "create", "{s}");
        assert!(!s["changes"].as_array().unwrap().is_empty());
    }
    assert_eq!(
        doc["summary"]["add"], 44,
        "the VPC template alone adds 26 resources"
    );
}

#[test]
fn show_renders_a_saved_plan_again_in_every_format_without_asking_aws() {
    let (a, b) = (unique("show-a"), unique("show-b"));
    let ws = fleet("templates/queue-service.yaml", &[(&a, &a), (&b, &b)]);
    let planned = plan(&ws, &["--out", "plan.json"]);
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    // Nothing listens on this port: any AWS call would fail.
    let show = |args: &[&str]| {
        run(cfdeploy("http://127.0.0.1:9", ws.path())
            .args(["--config", "stacks.yaml"])
            .args(args))
    };

    let table = show(&["show", "plan.json"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert_eq!(
        table.stdout, planned.stdout,
        "the same table as when it was planned"
    );
    assert!(!table.stdout.contains(SECRET));

    let doc = json(&show(&["show", "plan.json", "--format", "json"]).stdout);
    let saved = json(&std::fs::read_to_string(ws.path().join("plan.json")).unwrap());
    assert_eq!(doc["stacks"], saved["stacks"], "the saved plan, read back");
    assert_eq!(doc["correlation_id"], saved["correlation_id"]);

    let md = show(&["--stack", &a, "show", "plan.json", "--format", "markdown"]);
    assert!(md.stdout.starts_with("### cfdeploy plan"), "{}", md.stdout);
    assert!(
        md.stdout.contains(&a) && !md.stdout.contains(&b),
        "{}",
        md.stdout
    );
    assert_eq!(
        show(&["show", "plan.json", "--detailed-exitcode"]).code,
        2,
        "changes present"
    );

    // A plan file that was edited is refused with what is wrong, as apply refuses it.
    let mut edited = saved.clone();
    edited["stacks"][0]["surprise"] = serde_json::json!(true);
    ws.write("edited.json", &edited.to_string());
    let refused = show(&["show", "edited.json"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("edited.json") && refused.stderr.contains("surprise"),
        "{}",
        refused.stderr
    );
    let none = show(&["--stack", "nope-*", "show", "plan.json"]);
    assert_eq!(none.code, 1);
    assert!(none.stderr.contains("no stack to show"), "{}", none.stderr);
}

#[test]
fn local_code_is_packaged_by_content_into_the_template_bucket() {
    let name = unique("pkg");
    let bucket = unique("artifacts");
    let emulator = Emulator::shared();
    emulator.create_bucket(&bucket);
    let ws = Workspace::new();
    ws.write(
        "src/app.py",
        "def handler(event, context):\n    return 'ok'\n",
    );
    ws.write(
        "templates/fn.yaml",
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code: ../src\n      Handler: app.handler\n      Runtime: python3.12\n      Role: arn:aws:iam::123456789012:role/lambda\n",
    );
    let config = |bucket_line: &str| {
        format!("stacks:\n  {name}:\n    template: templates/fn.yaml\n{bucket_line}")
    };
    ws.write("stacks.yaml", &config(""));
    let out = plan(&ws, &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        stack(&json(&out.stdout), &name)["error"]
            .as_str()
            .unwrap()
            .contains("resource Fn points Code at the local path `../src`; set `template_bucket`"),
        "{}",
        out.stdout
    );

    ws.write(
        "stacks.yaml",
        &config(&format!("    template_bucket: {bucket}\n")),
    );
    let out = plan(&ws, &["--format", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let doc = json(&out.stdout);
    let artifact = &stack(&doc, &name)["artifacts"][0];
    assert_eq!(artifact["resource"], "Fn");
    assert_eq!(artifact["path"], "../src");
    assert_eq!(artifact["changed"], true, "a new stack");
    let location = artifact["location"].as_str().unwrap().to_string();
    let key = location
        .strip_prefix(&format!("s3://{bucket}/"))
        .expect("in the stack's bucket");
    assert!(
        key.starts_with("cfdeploy/artifacts/") && key.ends_with(".zip"),
        "{key}"
    );
    assert!(emulator.s3_object(&bucket, key).is_some(), "uploaded");

    // The same folder again: the same archive, the same key.
    let table = plan(&ws, &[]);
    assert!(
        table
            .stdout
            .contains(&format!("artifact ../src (Fn Code) changed → {location}")),
        "{}",
        table.stdout
    );
    ws.write(
        "src/app.py",
        "def handler(event, context):\n    return 'changed'\n",
    );
    let again = json(&plan(&ws, &["--format", "json"]).stdout);
    assert_ne!(
        stack(&again, &name)["artifacts"][0]["location"].as_str(),
        Some(location.as_str()),
        "a changed folder is a new key"
    );
}

/// Makes the emulator's drift detection report `resource` of `stack` as modified at `path`.
fn arm_drift(stack: &str, resource: &str, path: &str, expected: &str, actual: &str) {
    Emulator::shared().control(
        "POST",
        "/_emulator/drift",
        &format!(
            r#"{{"stack": "{stack}", "resource": "{resource}", "differences": [{{"path": "{path}", "expected": "{expected}", "actual": "{actual}"}}]}}"#
        ),
    );
}

#[test]
fn plan_with_drift_marks_changed_resources_whose_live_state_drifted() {
    let name = unique("drift");
    let ws = fleet("templates/queue-service.yaml", &[(&name, &name)]);
    deploy(&ws);
    ws.fixture(
        "templates/service.yaml",
        "templates/queue-service-add-modify-remove.yaml",
    );
    arm_drift(&name, "WorkQueue", "/VisibilityTimeout", "30", "45");
    // A resource the plan does not change drifted too.
    arm_drift(&name, "DeadLetterQueue", "/DelaySeconds", "0", "5");
    let out = plan(&ws, &["--drift", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = json(&out.stdout);
    assert_eq!(
        stack(&doc, &name)["warnings"],
        serde_json::json!([
            "drifted, and this plan leaves it so: DeadLetterQueue /DelaySeconds: 0 in the template, 5 live"
        ])
    );
    let changes = stack(&doc, &name)["changes"].as_array().unwrap().clone();
    let work = changes
        .iter()
        .find(|c| c["logical_id"] == "WorkQueue")
        .expect("WorkQueue changes");
    assert_eq!(
        work["drift"], "/VisibilityTimeout: 30 in the template, 45 live",
        "{work}"
    );
    assert!(
        changes
            .iter()
            .filter(|c| c["logical_id"] != "WorkQueue")
            .all(|c| c.get("drift").is_none()),
        "only the drifted one is marked"
    );
    let table = plan(&ws, &["--drift"]);
    assert!(table.stdout.contains("(drifted)"), "{}", table.stdout);
    assert!(
        table
            .stdout
            .contains("drifted: WorkQueue /VisibilityTimeout"),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("⚠ drifted, and this plan leaves it so: DeadLetterQueue"),
        "{}",
        table.stdout
    );
    let markdown = plan(&ws, &["--drift", "--format", "markdown"]);
    assert!(
        markdown.stdout.contains("**Drifted:** `WorkQueue`"),
        "{}",
        markdown.stdout
    );
    assert!(
        markdown
            .stdout
            .contains("> drifted, and this plan leaves it so: DeadLetterQueue"),
        "{}",
        markdown.stdout
    );
    // Without --drift, nothing is marked.
    let plain = plan(&ws, &["--format", "json"]);
    assert!(json(&plain.stdout)["stacks"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c.get("drift").is_none()));
}

#[test]
fn plan_with_drift_says_when_an_unchanged_stack_drifted() {
    let name = unique("drifted");
    let ws = fleet("templates/queue-service.yaml", &[(&name, &name)]);
    deploy(&ws);
    arm_drift(&name, "WorkQueue", "/VisibilityTimeout", "30", "45");
    let out = plan(&ws, &["--drift", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = json(&out.stdout);
    let entry = stack(&doc, &name);
    assert_eq!(entry["status"], "no-changes", "{entry}");
    assert_eq!(
        entry["warnings"],
        serde_json::json!([
            "drifted, and this plan leaves it so: WorkQueue /VisibilityTimeout: 30 in the template, 45 live"
        ])
    );
    let table = plan(&ws, &["--drift"]);
    assert!(
        table
            .stdout
            .contains("⚠ drifted, and this plan leaves it so: WorkQueue"),
        "{}",
        table.stdout
    );
    let markdown = plan(&ws, &["--drift", "--format", "markdown"]);
    assert!(
        markdown.stdout.contains(&format!(
            "> `{name}`: drifted, and this plan leaves it so: WorkQueue"
        )),
        "{}",
        markdown.stdout
    );
    // Without --drift, an unchanged stack is asked nothing.
    let plain = plan(&ws, &["--format", "json"]);
    assert_eq!(
        stack(&json(&plain.stdout), &name)["warnings"],
        serde_json::json!([])
    );
}

#[test]
fn in_a_pull_request_job_change_sets_say_which_pull_request_they_are_for() {
    let name = unique("pr");
    let ws = fleet("templates/queue-service.yaml", &[(&name, &name)]);
    let out = run(cfdeploy(&Emulator::shared().endpoint, ws.path())
        .args([
            "plan",
            "--config",
            "stacks.yaml",
            "--out",
            "plan.json",
            "--format",
            "json",
        ])
        .env("API_TOKEN", "t0ken-for-tests")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "acme/infra")
        .env("GITHUB_REF", "refs/pull/42/merge")
        .env("GITHUB_SHA", "1a2b3c4d5e6f7a8b9c0d")
        .env("GITHUB_ACTOR", "octocat")
        .env("GITHUB_RUN_ID", "987"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = json(&out.stdout);
    let entry = stack(&doc, &name);
    let change_set = entry["change_set_name"].as_str().unwrap();
    assert!(change_set.starts_with("cfdeploy-pr42-"), "{change_set}");
    // The console shows the description beside the name: what the change set is for.
    let (status, body) = Emulator::shared().call(&[
        ("Action", "DescribeChangeSet"),
        ("ChangeSetName", entry["change_set_arn"].as_str().unwrap()),
    ]);
    assert_eq!(status, 200, "{body}");
    let description = support::xml_value(&body, "Description").unwrap_or_default();
    assert!(
        description.contains("for acme/infra#42 at 1a2b3c4 by octocat run 987"),
        "{description}"
    );
}
