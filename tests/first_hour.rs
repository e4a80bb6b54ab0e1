//! The first hour with cfdeploy, through the binary against the emulator: the account a run acts
//! as, credentials problems said once and clearly, and usage errors that never read as "changes
//! present". These tests read the emulator's request counts, so they run one at a time.

mod support;

use std::sync::Mutex;

use support::{cfdeploy, json, run, unique, Emulator, Run, Workspace};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    Emulator::shared().control("DELETE", "/_emulator/requests", "");
    guard
}

fn fleet() -> Workspace {
    let ws = Workspace::new();
    ws.fixture("templates/service.yaml", "templates/queue-service.yaml");
    ws.write(
        "stacks.yaml",
        &format!(
            "defaults:\n  template: templates/service.yaml\n  parameters: {{ApiToken: x}}\nstacks:\n  {}:\n    parameters: {{ServiceName: s}}\n",
            unique("first")
        ),
    );
    // A profile whose key differs from the environment's.
    ws.write(".aws-config", "[profile other]\nregion = us-east-1\n");
    ws.write(
        ".aws-credentials",
        "[other]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = profile-secret\n",
    );
    ws
}

fn cfd(ws: &Workspace, args: &[&str]) -> Run {
    run(cfdeploy(&Emulator::shared().endpoint, ws.path())
        .env("AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT")
        .args(["--config", "stacks.yaml"])
        .args(args))
}

fn keys() -> serde_json::Value {
    json(&Emulator::shared().control("GET", "/_emulator/keys", ""))
}

#[test]
fn an_explicit_profile_wins_over_credentials_in_the_environment() {
    let _g = serial();
    let ws = fleet();
    let out = cfd(&ws, &["--profile", "other", "plan"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let keys = keys();
    assert!(keys["AKIDFROMPROFILE"].as_u64().unwrap_or(0) > 0, "{keys}");
    assert!(keys.get("AKIDFROMENVIRONMENT").is_none(), "{keys}");

    // Without --profile, the environment's credentials are used, as in the AWS CLI.
    Emulator::shared().control("DELETE", "/_emulator/requests", "");
    assert_eq!(cfd(&ws, &["plan"]).code, 0);
    let keys = self::keys();
    assert!(
        keys["AKIDFROMENVIRONMENT"].as_u64().unwrap_or(0) > 0,
        "{keys}"
    );
    assert!(keys.get("AKIDFROMPROFILE").is_none(), "{keys}");
}

#[test]
fn the_header_says_which_account_and_identity_the_run_acts_as() {
    let _g = serial();
    let ws = fleet();
    let out = cfd(&ws, &["plan", "--out", "plan.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let header = out.stderr.lines().next().unwrap();
    assert!(
        header.starts_with("cfdeploy plan: 1 stack · account ") && header.contains(" as arn:aws:"),
        "{header}"
    );
    // Applying a saved plan says it once too, before anything runs.
    let out = cfd(&ws, &["apply", "--plan", "plan.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let header = out.stderr.lines().next().unwrap();
    assert!(
        header.starts_with("cfdeploy apply: 1 stack, 1 to change · account ")
            && header.contains(" as arn:aws:"),
        "{header}"
    );
}

#[test]
fn a_profile_that_does_not_exist_is_one_clear_error_before_any_stack_starts() {
    let _g = serial();
    let out = cfd(&fleet(), &["--profile", "nope", "plan"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", out.stderr);
    assert!(
        errors[0].contains("profile `nope` was not defined") && errors[0].contains("(--profile)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("aws sso login"), "{}", out.stderr);
    assert!(
        out.stderr.len() < 2000,
        "no pages of SDK structures: {}",
        out.stderr.len()
    );
    let requests = json(&Emulator::shared().control("GET", "/_emulator/requests", ""));
    assert!(requests.get("CreateChangeSet").is_none(), "{requests}");
    assert!(requests.get("DescribeStacks").is_none(), "{requests}");
}

#[test]
fn usage_errors_exit_64_never_2() {
    let ws = fleet();
    for args in [
        vec!["plan", "--detailed-exitcode", "--bogus"],
        vec!["plan", "--concurrency", "0"],
        vec!["aply"],
    ] {
        let out = cfd(&ws, &args);
        assert_eq!(out.code, 64, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("error:"), "{args:?}: {}", out.stderr);
    }
    let help = cfd(&ws, &["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Usage:"));
    // A config that does not load is said once, as the error, with no warning before it.
    for command in ["plan", "apply"] {
        let out = run(cfdeploy(&Emulator::shared().endpoint, ws.path()).args([
            command,
            "--config",
            "missing.yaml",
        ]));
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_eq!(
            out.stderr.matches("cannot read the stack config").count(),
            1,
            "{command}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("WARN"), "{command}: {}", out.stderr);
    }
    // Commands on stacks by name need no config: none where none was named is not worth a
    // warning; a named one that does not load is (its masks are missing).
    let by_name = |config: Option<&str>| {
        let mut cmd = cfdeploy(&Emulator::shared().endpoint, ws.path());
        cmd.args(["events", "no-such-stack-here"]);
        if let Some(config) = config {
            cmd.args(["--config", config]);
        }
        run(&mut cmd)
    };
    let quiet = by_name(None);
    assert!(!quiet.stderr.contains("WARN"), "{}", quiet.stderr);
    let warned = by_name(Some("missing.yaml"));
    assert!(
        warned
            .stderr
            .contains("are not masked in this run's output"),
        "{}",
        warned.stderr
    );
    // A budget of no failures says what the flag counts and what to pass instead.
    let zero = cfd(
        &ws,
        &["apply", "--plan", "plan.json", "--max-failures", "0"],
    );
    assert_eq!(zero.code, 64, "{}", zero.stderr);
    assert!(
        zero.stderr
            .contains("1 (the default) stops it at the first failure"),
        "{}",
        zero.stderr
    );
}

#[test]
fn plan_without_a_plan_file_leaves_nothing_in_the_account() {
    let _g = serial();
    let ws = fleet();
    let config = std::fs::read_to_string(ws.path().join("stacks.yaml")).unwrap();
    let name = config
        .lines()
        .find(|l| l.trim_start().starts_with("first-"))
        .unwrap()
        .trim()
        .trim_end_matches(':')
        .to_string();
    let e = Emulator::shared();
    let out = cfd(&ws, &["plan"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("CREATE"),
        "the plan is shown: {}",
        out.stdout
    );
    assert!(
        out.stderr.contains("removed what this plan made"),
        "{}",
        out.stderr
    );
    assert_eq!(
        e.stack_status(&name),
        None,
        "no stack left in REVIEW_IN_PROGRESS"
    );

    let kept = cfd(&ws, &["plan", "--keep-change-sets"]);
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    assert_eq!(e.stack_status(&name).as_deref(), Some("REVIEW_IN_PROGRESS"));
    assert_eq!(e.change_set_count(&name), 1);

    // With a plan file, the change sets are what apply will execute: kept.
    assert_eq!(cfd(&ws, &["plan", "--out", "plan.json"]).code, 0);
    assert!(e.change_set_count(&name) >= 1);
}

#[test]
fn every_misspelt_config_key_is_reported_at_once_with_what_was_meant() {
    let ws = Workspace::new();
    ws.fixture("templates/service.yaml", "templates/queue-service.yaml");
    std::fs::create_dir_all(ws.path().join("stacks")).unwrap();
    ws.write(
        "stacks/a.yaml",
        "stacks:\n  api:\n    template: ../templates/service.yaml\n    paramters: {ServiceName: api}\n    regoin: us-east-1\n",
    );
    ws.write(
        "stacks/b.yaml",
        "defaults:\n  template: ../templates/service.yaml\nstacks:\n  web:\n    tag: {team: web}\n",
    );
    let out =
        run(cfdeploy(&Emulator::shared().endpoint, ws.path()).args(["plan", "--config", "stacks"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    for expected in [
        "stacks/a.yaml: line 4: unknown key `paramters` in stack `api` (did you mean `parameters`?)",
        "stacks/a.yaml: line 5: unknown key `regoin` in stack `api` (did you mean `region`?)",
        "stacks/b.yaml: line 5: unknown key `tag` in stack `web` (did you mean `tags`?)",
    ] {
        assert!(out.stderr.contains(expected), "{expected}\n{}", out.stderr);
    }
    assert!(
        out.stderr.contains("3 problems; nothing was sent to AWS"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn with_json_logs_every_line_on_stderr_is_a_json_object() {
    let _g = serial();
    let ws = fleet();
    let out = cfd(
        &ws,
        &["--log-format", "json", "--log-level", "info", "plan"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let bad = cfd(
        &ws,
        &["--log-format", "json", "--stack", "no-such-*", "plan"],
    );
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    let mut messages = Vec::new();
    for line in out.stderr.lines().chain(bad.stderr.lines()) {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        messages.push(
            value["fields"]["message"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        );
        assert!(
            value["timestamp"].is_string() && value["level"].is_string(),
            "{line}"
        );
    }
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("cfdeploy plan: 1 stack · account")),
        "the header is a JSON line too: {messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("--stack `no-such-*` matches no stack")),
        "so is the final error: {messages:?}"
    );
}

#[test]
fn stack_selection_means_the_same_on_every_command_that_takes_stacks() {
    let _g = serial();
    let ws = Workspace::new();
    ws.fixture("templates/service.yaml", "templates/queue-service.yaml");
    let (one, two) = (unique("sel-a"), unique("sel-b"));
    ws.write(
        "stacks.yaml",
        &format!(
            "defaults:\n  template: templates/service.yaml\n  parameters: {{ApiToken: '${{env:NOT_SET_HERE}}'}}\nstacks:\n  {one}:\n    parameters: {{ServiceName: a}}\n  {two}:\n    parameters: {{ServiceName: b}}\n"
        ),
    );
    let cfd = |args: &[&str]| {
        run(cfdeploy(&Emulator::shared().endpoint, ws.path())
            .args(["--config", "stacks.yaml"])
            .args(args))
    };

    // events: --stack picks the one stack it names (its parameter values are not needed).
    let out = cfd(&["--stack", &one, "events"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("stack `{one}` does not exist")),
        "{}",
        out.stderr
    );
    let out = cfd(&["--stack", "sel-*", "events"]);
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert!(
        out.stderr.contains("--stack selects 2") && out.stderr.contains(&two),
        "{}",
        out.stderr
    );
    assert_eq!(cfd(&["events"]).code, 64);
    assert_eq!(cfd(&["--stack", &one, "events", &two]).code, 64);

    // rollback: --stack adds the config's matching stacks; nothing named is a usage error.
    let out = cfd(&["--stack", "sel-*", "rollback", "--format", "json"]);
    let doc = json(&out.stdout);
    let names: Vec<&str> = doc["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stack"].as_str().unwrap())
        .collect();
    assert_eq!(names, [one.as_str(), two.as_str()], "{}", out.stderr);
    let out = cfd(&["rollback"]);
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert!(out.stderr.contains("name the stacks to repair"));

    // comment: a selection is refused rather than silently ignored.
    ws.write("plan.json", "{}");
    let out = cfd(&[
        "--stack",
        &one,
        "comment",
        "--plan",
        "plan.json",
        "--dry-run",
    ]);
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert!(out.stderr.contains("select the stacks when planning"));
}

#[test]
fn help_is_wrapped_grouped_and_documents_every_option_with_examples() {
    let help = |args: &[&str]| {
        let out = run(std::process::Command::new(env!("CARGO_BIN_EXE_cfdeploy"))
            .env_clear()
            .args(args));
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        out.stdout
    };
    let top = help(&["-h"]);
    for heading in [
        "Stacks:",
        "AWS:",
        "Output and logs:",
        "Examples:",
        "Exit status:",
    ] {
        assert!(top.contains(heading), "{heading}\n{top}");
    }
    for command in [
        "plan",
        "apply",
        "validate",
        "show",
        "outputs",
        "events",
        "rollback",
        "delete",
        "comment",
        "completions",
        "man",
        "schema",
        "graph",
        "engine",
    ] {
        let text = help(&[command, "-h"]);
        assert!(text.contains("Examples:"), "{command}:\n{text}");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            // Without a terminal, help is wrapped at 100 columns.
            assert!(line.chars().count() <= 100, "{command}: {line}");
            let option = line.trim_start();
            let indent = line.len() - option.len();
            if indent <= 6 && option.starts_with('-') {
                // The description is after the flag (past two spaces) or on the next, deeper
                // line; clap's own "[default: …]" alone is not one.
                let own = option.split_once("  ").map(|(_, d)| d.trim());
                let next = lines
                    .get(i + 1)
                    .filter(|n| n.len() - n.trim_start().len() > indent)
                    .map(|n| n.trim());
                let description = own.filter(|d| !d.is_empty()).or(next).unwrap_or("");
                let described = !description.is_empty() && !description.starts_with('[');
                assert!(
                    described,
                    "{command}: `{}` has no description",
                    option.trim()
                );
            }
        }
    }
}

#[test]
fn validate_checks_everything_plan_would_with_no_aws_call() {
    let ws = Workspace::new();
    ws.fixture("templates/service.yaml", "templates/queue-service.yaml");
    let write = |body: &str| {
        ws.write(
            "stacks.yaml",
            &format!("defaults:\n  template: templates/service.yaml\nstacks:\n{body}"),
        )
    };
    // Nothing listens on this port: any AWS call would fail.
    let validate = || {
        run(cfdeploy("http://127.0.0.1:9", ws.path()).args(["validate", "--config", "stacks.yaml"]))
    };

    write("  api:\n    parameters: {ServiceName: api, ApiToken: x}\n  web:\n    parameters: {ServiceName: web, ApiToken: y}\n");
    let ok = validate();
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stderr
            .contains("stacks.yaml: 2 stacks and 1 template are valid; nothing was sent to AWS"),
        "{}",
        ok.stderr
    );

    // A secret not exported where the hook runs is a note, not a failure.
    write("  api:\n    parameters: {ServiceName: api, ApiToken: '${env:NOT_SET_HERE}'}\n");
    let unset = validate();
    assert_eq!(unset.code, 0, "{}", unset.stderr);
    assert!(
        unset.stderr.contains("note:") && unset.stderr.contains("NOT_SET_HERE"),
        "{}",
        unset.stderr
    );

    // Anything else fails, with where it is.
    write("  api:\n    paramters: {ServiceName: api}\n");
    let bad = validate();
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains("stacks.yaml: line 5: unknown key `paramters` in stack `api`"),
        "{}",
        bad.stderr
    );
    write("  web:\n    parameters: {ServiceName: web, ApiToken: y, Environment: staging}\n");
    let value = validate();
    assert_eq!(value.code, 1, "{}", value.stderr);
    assert!(
        value
            .stderr
            .contains("parameter `Environment` is `staging`, not one of its AllowedValues"),
        "{}",
        value.stderr
    );

    // A local artifact that is not there, as plan would find when packaging it.
    ws.write(
        "templates/fn.yaml",
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties: {Code: ./lambda, Handler: app.handler, Runtime: python3.12, Role: r}\n",
    );
    ws.write(
        "stacks.yaml",
        "stacks:\n  fn:\n    template: templates/fn.yaml\n    template_bucket: artifacts\n",
    );
    let artifact = validate();
    assert_eq!(artifact.code, 1, "{}", artifact.stderr);
    assert!(
        artifact.stderr.contains(
            "stacks.yaml: stack `fn`: templates/fn.yaml: line 4: resource Fn: Code `./lambda` not found"
        ),
        "{}",
        artifact.stderr
    );
    ws.write(
        "templates/lambda/app.py",
        "def handler(e, c):\n    return 1\n",
    );
    assert_eq!(validate().code, 0);

    // A reference to a name the template does not declare, which CloudFormation would refuse.
    ws.write(
        "templates/fn.yaml",
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties: {Code: ./lambda, Handler: app.handler, Runtime: python3.12, Role: !GetAtt FnRole.Arn}\n",
    );
    let dangling = validate();
    assert_eq!(dangling.code, 1, "{}", dangling.stderr);
    assert!(
        dangling.stderr.contains(
            "template templates/fn.yaml is not valid: Resources.Fn.Properties.Role: `Fn::GetAtt` of `FnRole`, which is no resource of the template"
        ),
        "{}",
        dangling.stderr
    );
}

#[test]
fn completions_know_every_command_and_flag_and_bash_reads_them() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(std::process::Command::new(env!("CARGO_BIN_EXE_cfdeploy"))
            .env_clear()
            .args(["completions", shell]));
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        // Flags without their dashes: fish writes them as `-l keep-change-sets`.
        for word in [
            "validate",
            "outputs",
            "keep-change-sets",
            "allow-destructive",
        ] {
            assert!(out.stdout.contains(word), "{shell} lacks {word}");
        }
        if shell == "bash" {
            let dir = Workspace::new();
            dir.write("cfdeploy.bash", &out.stdout);
            let check = run(std::process::Command::new("bash")
                .arg("-n")
                .arg(dir.path().join("cfdeploy.bash")));
            assert_eq!(check.code, 0, "bash -n: {}", check.stderr);
        }
    }
}

#[test]
fn the_region_comes_from_the_environment_or_the_profile_never_the_instance_metadata_service() {
    // A metadata service stand-in on loopback that counts who asks it.
    let imds = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let imds_url = format!("http://{}", imds.local_addr().unwrap());
    imds.set_nonblocking(true).unwrap();
    let asked = || {
        let mut n = 0;
        while imds.accept().is_ok() {
            n += 1;
        }
        n
    };
    let ws = Workspace::new();
    ws.fixture("templates/service.yaml", "templates/queue-service.yaml");
    let validate = |config: &str| {
        ws.write("stacks.yaml", config);
        run(cfdeploy("http://127.0.0.1:9", ws.path())
            .env_remove("AWS_REGION")
            .env_remove("AWS_EC2_METADATA_DISABLED")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds_url)
            .args(["validate", "--config", "stacks.yaml"]))
    };
    let stack = "  api:\n    template: templates/service.yaml\n    parameters: {ServiceName: api, ApiToken: x}\n";

    // Every stack names its region: nothing else is asked.
    let out = validate(&format!("stacks:\n{stack}    region: eu-west-1\n"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("IMDS"), "{}", out.stderr);

    // None does: the profile's region is the default, as for the AWS CLI.
    ws.write(".aws-config", "[default]\nregion = eu-west-1\n");
    let out = validate(&format!("stacks:\n{stack}"));
    assert_eq!(out.code, 0, "{}", out.stderr);

    // Neither: the error says what to set, without a detour through the metadata service.
    ws.write(".aws-config", "");
    let out = validate(&format!("stacks:\n{stack}"));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("no region"), "{}", out.stderr);
    assert!(!out.stderr.contains("IMDS"), "{}", out.stderr);
    assert_eq!(asked(), 0, "the instance metadata service was never asked");
}

#[test]
fn man_pages_come_from_the_same_definitions_as_help() {
    let ws = Workspace::new();
    let man = |args: &[&str]| {
        run(cfdeploy("http://127.0.0.1:9", ws.path())
            .arg("man")
            .args(args))
    };
    let top = man(&[]);
    assert_eq!(top.code, 0, "{}", top.stderr);
    assert!(top.stdout.contains(".TH cfdeploy 1"), "{}", top.stdout);
    for command in ["plan", "apply", "delete", "rollback", "outputs"] {
        assert!(top.stdout.contains(command), "{command} is listed");
    }
    let delete = man(&["delete"]);
    assert_eq!(delete.code, 0);
    assert!(
        delete.stdout.contains(".TH cfdeploy-delete 1"),
        "{}",
        delete.stdout
    );
    assert!(delete.stdout.contains("\\-\\-retain"), "{}", delete.stdout);
    let unknown = man(&["deploy"]);
    assert_eq!(unknown.code, 64);
    assert!(
        unknown.stderr.contains("no command `deploy`"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn the_shipped_config_schema_is_the_one_the_binary_generates() {
    let ws = Workspace::new();
    let out = run(cfdeploy("http://127.0.0.1:9", ws.path()).arg("schema"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/stack-config.schema.json"),
    )
    .unwrap();
    assert_eq!(
        out.stdout, shipped,
        "schema/stack-config.schema.json is stale: regenerate it with `cfdeploy schema > schema/stack-config.schema.json`"
    );
    let schema = json(&out.stdout);
    assert_eq!(schema["properties"]["stacks"]["type"], "object");
    assert_eq!(schema["$defs"]["RawStack"]["additionalProperties"], false);
}

#[test]
fn validate_can_run_cfn_lint_and_reports_its_errors_by_file_and_line() {
    let ws = Workspace::new();
    ws.fixture("templates/service.yaml", "templates/queue-service.yaml");
    ws.write(
        "stacks.yaml",
        "defaults:\n  template: templates/service.yaml\n  region: us-east-1\nstacks:\n  api:\n    parameters: {ServiceName: api, ApiToken: x}\n",
    );
    // A stand-in for cfn-lint, speaking its parseable format.
    let bin = ws.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let lint = |script: &str| {
        let path = bin.join("cfn-lint");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let validate = |path: &str| {
        run(cfdeploy("http://127.0.0.1:9", ws.path())
            .env("PATH", path)
            .args(["validate", "--config", "stacks.yaml", "--cfn-lint"]))
    };

    lint(
        r#"echo "$3:12:7:12:30:E3012:Property Resources/WorkQueue/Properties/VisibilityTimeout should be of type Integer"; echo "$3:3:1:3:9:W2001:Parameter Unused not used."; exit 6"#,
    );
    let out = validate(&path);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("templates/service.yaml:12: E3012 Property Resources/WorkQueue"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("note: cfn-lint:") && out.stderr.contains("W2001"),
        "{}",
        out.stderr
    );

    lint("exit 0");
    let out = validate(&path);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("cfn-lint: 1 template without errors"),
        "{}",
        out.stderr
    );

    let out = validate("/nonexistent");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("pip install cfn-lint"),
        "{}",
        out.stderr
    );
}
