use std::collections::HashMap;
use std::path::Path;

use super::*;

const TEMPLATE: &str = "Parameters:
  ServiceName: {Type: String}
  Environment: {Type: String, AllowedValues: [dev, prod], Default: dev}
  MemorySize: {Type: Number, Default: 512}
  Token: {Type: String, NoEcho: true, Default: none}
Resources:
  Q: {Type: AWS::SQS::Queue}
";

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn load_with(
    dir: &Path,
    selectors: &[&str],
    env: &[(&str, &str)],
) -> Result<Vec<StackSpec>, ConfigError> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |name: &str| env.get(name).cloned();
    let selectors: Vec<String> = selectors.iter().map(|s| s.to_string()).collect();
    load(
        dir,
        &selectors,
        &LoadContext {
            default_region: Some("eu-west-1".to_string()),
            env: &lookup,
            values_not_needed: false,
        },
    )
}

fn problems(dir: &Path) -> Vec<String> {
    load_with(dir, &[], &[])
        .expect_err("the config should be rejected")
        .problems
}

fn fleet() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "templates/service.yaml", TEMPLATE);
    dir
}

#[test]
fn defaults_merge_into_each_stack_and_the_stack_wins() {
    let dir = fleet();
    write(
        dir.path(),
        "services.yaml",
        "defaults:
  region: us-east-1
  template: templates/service.yaml
  capabilities: [CAPABILITY_IAM]
  parameters: {Environment: prod, MemorySize: 256}
  tags: {team: platform}
stacks:
  orders:
    parameters: {ServiceName: orders}
  billing:
    region: eu-central-1
    parameters: {ServiceName: billing, MemorySize: 1024}
    tags: {cost-center: 42}
    termination_protection: true
",
    );
    let specs = load_with(dir.path(), &[], &[]).unwrap();
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["orders", "billing"], "file order is kept");
    let orders = &specs[0];
    assert_eq!(orders.region, "us-east-1");
    assert_eq!(orders.parameters["Environment"], "prod");
    assert_eq!(orders.parameters["MemorySize"], "256");
    assert_eq!(orders.capabilities, ["CAPABILITY_IAM"]);
    let billing = &specs[1];
    assert_eq!(billing.region, "eu-central-1");
    assert_eq!(billing.parameters["MemorySize"], "1024");
    assert_eq!(billing.parameters["Environment"], "prod");
    assert_eq!(billing.tags["team"], "platform");
    assert_eq!(billing.tags["cost-center"], "42");
    assert!(billing.termination_protection);
    assert!(
        std::sync::Arc::ptr_eq(&orders.template, &billing.template),
        "one template is read once"
    );
}

#[test]
fn values_of_every_scalar_kind_and_lists_become_strings() {
    let dir = fleet();
    write(
        dir.path(),
        "t2.yaml",
        "stacks:\n  s:\n    template: templates/list.yaml\n    region: us-east-1\n    parameters: {Flag: true, Ratio: \"0.50\", Subnets: [a, b, 3]}\n",
    );
    write(
        dir.path(),
        "templates/list.yaml",
        "Parameters:\n  Flag: {Type: String}\n  Ratio: {Type: Number}\n  Subnets: {Type: CommaDelimitedList}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n",
    );
    let specs = load_with(dir.path(), &[], &[]).unwrap();
    assert_eq!(specs[0].parameters["Flag"], "true");
    assert_eq!(
        specs[0].parameters["Ratio"], "0.50",
        "a quoted value is sent as written"
    );
    assert_eq!(specs[0].parameters["Subnets"], "a,b,3");
}

#[test]
fn an_unquoted_number_that_would_not_be_sent_as_written_is_refused_with_the_fix() {
    for written in ["3.10", "1e3", "0.5", "0x1F", "+12", "007"] {
        let dir = fleet();
        write(
            dir.path(),
            "t.yaml",
            &format!("stacks:\n  s:\n    template: templates/service.yaml\n    region: us-east-1\n    parameters:\n      ServiceName: {written}\n"),
        );
        let err = load_with(dir.path(), &[], &[]).unwrap_err().to_string();
        assert!(
            err.contains("t.yaml") && err.contains("write it in quotes"),
            "{written}: {err}"
        );
        // Named by its key or by its line.
        assert!(
            err.contains("ServiceName") || err.contains("line 6"),
            "{written}: {err}"
        );
    }
}

#[test]
fn ordinary_values_are_not_mistaken_for_lossy_numbers() {
    let dir = fleet();
    write(
        dir.path(),
        "t.yaml",
        "stacks:\n  s:\n    template: templates/service.yaml\n    region: us-east-1\n    parameters: {ServiceName: \"0x1F\"}\n    tags: {cost-center: 0, build: 10, zone: a-0, id: \"007\"}\n",
    );
    let specs = load_with(dir.path(), &[], &[]).unwrap();
    assert_eq!(specs[0].parameters["ServiceName"], "0x1F");
    assert_eq!(specs[0].tags["cost-center"], "0");
    assert_eq!(specs[0].tags["build"], "10");
    assert_eq!(specs[0].tags["zone"], "a-0");
    assert_eq!(specs[0].tags["id"], "007");
}

#[test]
fn a_number_inside_a_name_is_part_of_the_name() {
    let dir = fleet();
    write(
        dir.path(),
        "t.yaml",
        "defaults:\n  template: templates/service.yaml\n  region: us-east-1\nstacks:\n  svc-007:\n    parameters: {ServiceName: svc-000}\n    tags:\n      build: v-0x1F\n",
    );
    let specs = load_with(dir.path(), &[], &[]).unwrap();
    assert_eq!(specs[0].name, "svc-007");
    assert_eq!(specs[0].parameters["ServiceName"], "svc-000");
    assert_eq!(specs[0].tags["build"], "v-0x1F");

    // A block sequence's item is still a value.
    write(
        dir.path(),
        "t.yaml",
        "stacks:\n  s:\n    template: templates/service.yaml\n    region: us-east-1\n    capabilities:\n      - 007\n",
    );
    let err = load_with(dir.path(), &[], &[]).unwrap_err().to_string();
    assert!(
        err.contains("line 6") && err.contains("write it in quotes"),
        "{err}"
    );
}

#[test]
fn a_duplicated_key_is_refused_with_its_file_and_line() {
    let dir = fleet();
    write(
        dir.path(),
        "t.yaml",
        "stacks:\n  s:\n    template: templates/service.yaml\n    region: us-east-1\n    parameters:\n      ServiceName: a\n      ServiceName: b\n",
    );
    let err = load_with(dir.path(), &[], &[]).unwrap_err().to_string();
    assert!(
        err.contains("t.yaml")
            && err.contains("`ServiceName` appears more than once")
            && err.contains("line 6"),
        "{err}"
    );
    write(
        dir.path(),
        "t.yaml",
        "stacks:\n  s:\n    template: templates/service.yaml\n  s:\n    region: us-east-1\n",
    );
    let err = load_with(dir.path(), &[], &[]).unwrap_err().to_string();
    assert!(err.contains("stack `s` is declared twice"), "{err}");
}

#[test]
fn a_byte_order_mark_is_not_content_and_a_folder_is_not_a_template() {
    let dir = fleet();
    write(
        dir.path(),
        "t.yaml",
        "\u{feff}stacks:\n  s:\n    template: templates/service.yaml\n    region: us-east-1\n    parameters: {ServiceName: a}\n",
    );
    assert_eq!(load_with(dir.path(), &[], &[]).unwrap()[0].name, "s");
    std::fs::create_dir_all(dir.path().join("templates/dir.yaml")).unwrap();
    write(
        dir.path(),
        "t.yaml",
        "stacks:\n  s:\n    template: templates/dir.yaml\n    region: us-east-1\n",
    );
    let err = load_with(dir.path(), &[], &[]).unwrap_err().to_string();
    assert!(err.contains("is a folder"), "{err}");
}

#[test]
fn an_invalid_file_is_reported_alone_even_with_a_stack_selector() {
    let dir = fleet();
    write(dir.path(), "t.yaml", "stacks:\n  s: [unclosed\n");
    let err = load_with(dir.path(), &["s"], &[]).unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
}

#[test]
fn env_references_are_resolved_and_an_unset_one_is_named() {
    let dir = fleet();
    write(
        dir.path(),
        "s.yaml",
        "stacks:\n  api:\n    template: templates/service.yaml\n    parameters: {ServiceName: \"svc-${env:SUFFIX}\", Token: \"${env:API_TOKEN}\"}\n",
    );
    let specs = load_with(
        dir.path(),
        &[],
        &[("SUFFIX", "blue"), ("API_TOKEN", "t0k3n")],
    )
    .unwrap();
    assert_eq!(specs[0].parameters["ServiceName"], "svc-blue");
    assert_eq!(specs[0].secrets().collect::<Vec<_>>(), ["t0k3n"]);
    assert_eq!(
        specs[0].region, "eu-west-1",
        "--region / the default region applies"
    );

    let err = load_with(dir.path(), &[], &[("SUFFIX", "blue")]).unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    let p = &err.problems[0];
    assert!(
        p.contains("s.yaml")
            && p.contains("`api`")
            && p.contains("parameters.Token")
            && p.contains("API_TOKEN"),
        "{p}"
    );
}

#[test]
fn an_unknown_key_is_named_with_its_file_and_line() {
    let dir = fleet();
    write(
        dir.path(),
        "s.yaml",
        "stacks:\n  api:\n    template: templates/service.yaml\n    paramters: {}\n",
    );
    let p = problems(dir.path()).join("\n");
    assert!(
        p.contains(
            "s.yaml: line 4: unknown key `paramters` in stack `api` (did you mean `parameters`?)"
        ),
        "{p}"
    );
}

#[test]
fn a_missing_template_file_is_named() {
    let dir = fleet();
    write(
        dir.path(),
        "s.yaml",
        "stacks:\n  api:\n    template: templates/nope.yaml\n",
    );
    let p = problems(dir.path()).join("\n");
    assert!(
        p.contains("stack `api`") && p.contains("templates/nope.yaml") && p.contains("not found"),
        "{p}"
    );
}

#[test]
fn a_parameter_with_no_default_and_no_value_is_named() {
    let dir = fleet();
    write(
        dir.path(),
        "s.yaml",
        "stacks:\n  api:\n    template: templates/service.yaml\n",
    );
    let p = problems(dir.path()).join("\n");
    assert!(
        p.contains("stack `api`")
            && p.contains("`ServiceName` has no Default")
            && p.contains("parameters.ServiceName"),
        "{p}"
    );
}

#[test]
fn a_value_outside_allowed_values_is_named_with_the_choices() {
    let dir = fleet();
    write(dir.path(), "s.yaml", "stacks:\n  api:\n    template: templates/service.yaml\n    parameters: {ServiceName: a, Environment: qa}\n");
    let p = problems(dir.path()).join("\n");
    assert!(
        p.contains("`Environment` is `qa`, not one of its AllowedValues: dev, prod"),
        "{p}"
    );
}

#[test]
fn a_no_echo_value_is_never_echoed_in_an_error() {
    let dir = fleet();
    write(
        dir.path(),
        "templates/secret.yaml",
        "Parameters:\n  Pin: {Type: Number, NoEcho: true}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n",
    );
    write(dir.path(), "s.yaml", "stacks:\n  api:\n    template: templates/secret.yaml\n    parameters: {Pin: not-a-number-secret}\n");
    let p = problems(dir.path()).join("\n");
    assert!(p.contains("`Pin` is ****, but its Type is Number"), "{p}");
    assert!(!p.contains("not-a-number-secret"), "{p}");
}

#[test]
fn a_parameter_the_template_does_not_declare_is_named() {
    let dir = fleet();
    write(dir.path(), "s.yaml", "stacks:\n  api:\n    template: templates/service.yaml\n    parameters: {ServiceName: a, Memory: 1, enviroment: prod}\n");
    let p = problems(dir.path()).join("\n");
    assert!(
        p.contains("parameter `Memory` is not declared in") && p.contains("ServiceName"),
        "{p}"
    );
    // A misspelling (or a case slip) gets the parameter it most likely meant.
    assert!(
        p.contains("parameter `enviroment` is not declared in")
            && p.contains("did you mean `Environment`?"),
        "{p}"
    );
}

#[test]
fn stack_names_are_unique_across_files() {
    let dir = fleet();
    let stack =
        "stacks:\n  api:\n    template: templates/service.yaml\n    parameters: {ServiceName: a}\n";
    write(dir.path(), "a.yaml", stack);
    write(dir.path(), "b.yml", stack);
    let p = problems(dir.path()).join("\n");
    assert!(
        p.contains("b.yml: stack `api` is already declared in") && p.contains("a.yaml"),
        "{p}"
    );
}

#[test]
fn selection_by_glob_and_a_glob_that_matches_nothing() {
    let dir = fleet();
    write(
        dir.path(),
        "s.yaml",
        "defaults: {template: templates/service.yaml}\nstacks:\n  orders-prod: {parameters: {ServiceName: a}}\n  orders-dev: {parameters: {ServiceName: b}}\n  billing-prod: {parameters: {ServiceName: c}}\n",
    );
    let specs = load_with(dir.path(), &["*-prod"], &[]).unwrap();
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["orders-prod", "billing-prod"]);
    let err = load_with(dir.path(), &["search-*"], &[]).unwrap_err();
    assert!(
        err.problems[0].contains("--stack `search-*` matches no stack")
            && err.problems[0].contains("orders-dev"),
        "{err}"
    );
}

#[test]
fn a_stack_with_no_region_anywhere_is_named() {
    let dir = fleet();
    write(
        dir.path(),
        "s.yaml",
        "stacks:\n  api:\n    template: templates/service.yaml\n    parameters: {ServiceName: a}\n",
    );
    let lookup = |_: &str| None;
    let err = load(
        dir.path(),
        &[],
        &LoadContext {
            default_region: None,
            env: &lookup,
            values_not_needed: false,
        },
    )
    .unwrap_err();
    assert!(
        err.problems[0].contains("no region") && err.problems[0].contains("--region"),
        "{err}"
    );
}

#[test]
fn sub_folders_are_not_read_as_configs_and_an_empty_folder_is_an_error() {
    let dir = fleet();
    // templates/service.yaml is inside a sub-folder: it is not a stack config.
    let err = load_with(dir.path(), &[], &[]).unwrap_err();
    assert!(
        err.problems[0].contains("no *.yaml or *.yml stack configs"),
        "{err}"
    );
}

#[test]
fn an_oversized_template_needs_a_bucket() {
    let dir = fleet();
    let padding = format!("Description: \"{}\"\n", "x".repeat(52_000));
    write(
        dir.path(),
        "templates/big.yaml",
        &format!("{padding}{TEMPLATE}"),
    );
    write(
        dir.path(),
        "s.yaml",
        "stacks:\n  api:\n    template: templates/big.yaml\n    parameters: {ServiceName: a}\n",
    );
    let p = problems(dir.path()).join("\n");
    assert!(
        p.contains("51200-byte limit") && p.contains("template_bucket"),
        "{p}"
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let dir = fleet();
    write(
        dir.path(),
        "s.yaml",
        "defaults: {template: templates/service.yaml}\nstacks:\n  a: {parameters: {Environment: qa}}\n  b: {parameters: {ServiceName: x, Nope: 1}}\n",
    );
    let err = load_with(dir.path(), &[], &[]).unwrap_err();
    assert_eq!(err.problems.len(), 3, "{err}");
    assert!(err
        .to_string()
        .starts_with("the stack config has 3 problems; nothing was sent to AWS:"));
}

/// Several environments and regions in one tree: each folder's `_defaults.yaml` applies to the
/// files in it and below, the nearest winning; the templates folder is not read as configs.
fn environments() -> tempfile::TempDir {
    let dir = fleet();
    let root = dir.path();
    write(
        root,
        "_defaults.yaml",
        "defaults:\n  template: templates/service.yaml\n  region: us-east-1\n  tags: {team: payments, env: dev}\n  parameters: {Token: t}\n",
    );
    write(
        root,
        "prod/_defaults.yaml",
        "defaults:\n  tags: {env: prod}\n  termination_protection: true\n",
    );
    write(
        root,
        "prod/services.yaml",
        "stacks:\n  api-prod:\n    parameters: {ServiceName: api}\n",
    );
    write(
        root,
        "prod/eu/_defaults.yaml",
        "defaults:\n  region: eu-west-1\n",
    );
    write(
        root,
        "prod/eu/services.yaml",
        "defaults:\n  tags: {cost: eu}\nstacks:\n  api-prod-eu:\n    parameters: {ServiceName: api}\n    tags: {env: prod-eu}\n",
    );
    write(
        root,
        "staging/_defaults.yaml",
        "defaults:\n  tags: {env: staging}\n",
    );
    write(
        root,
        "staging/services.yaml",
        "stacks:\n  api-staging:\n    parameters: {ServiceName: api}\n",
    );
    // A folder without defaults is not part of the tree.
    write(root, "drafts/ignored.yaml", "this is: [not, a config\n");
    dir
}

#[test]
fn folder_defaults_are_inherited_downwards_the_nearest_winning() {
    let dir = environments();
    let specs = load_with(dir.path(), &[], &[]).unwrap();
    let get = |name: &str| specs.iter().find(|s| s.name == name).unwrap();
    assert_eq!(specs.len(), 3);

    let prod = get("api-prod");
    assert_eq!(prod.region, "us-east-1");
    assert_eq!(prod.tags["team"], "payments");
    assert_eq!(prod.tags["env"], "prod");
    assert!(prod.termination_protection);
    assert_eq!(prod.parameters["Token"], "t");
    // The template named in the root's defaults is found from a file two folders down.
    assert!(prod.template_path.ends_with("templates/service.yaml"));

    let eu = get("api-prod-eu");
    assert_eq!(eu.region, "eu-west-1", "the nearer folder wins");
    assert!(eu.termination_protection, "inherited through prod");
    assert_eq!(eu.tags["team"], "payments");
    assert_eq!(eu.tags["cost"], "eu", "the file's own defaults");
    assert_eq!(eu.tags["env"], "prod-eu", "the stack's own setting wins");

    let staging = get("api-staging");
    assert_eq!(staging.tags["env"], "staging");
    assert!(!staging.termination_protection);
}

#[test]
fn one_folder_or_one_file_of_the_tree_still_inherits_from_above() {
    let dir = environments();
    let specs = load_with(&dir.path().join("prod"), &[], &[]).unwrap();
    let mut names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["api-prod", "api-prod-eu"]);

    let specs = load_with(&dir.path().join("prod/eu/services.yaml"), &[], &[]).unwrap();
    assert_eq!(specs[0].region, "eu-west-1");
    assert_eq!(
        specs[0].tags["team"], "payments",
        "from the root, two folders up"
    );
}

#[test]
fn a_defaults_file_is_checked_like_a_config_and_holds_no_stacks() {
    let dir = environments();
    write(
        dir.path(),
        "prod/_defaults.yaml",
        "defaults:\n  regoin: us-west-2\nstacks:\n  x: {}\n",
    );
    let ps = problems(dir.path());
    assert!(
        ps.iter().any(|p| p.contains("prod/_defaults.yaml")
            && p.contains("line 2")
            && p.contains("did you mean `region`")),
        "{ps:?}"
    );
    write(
        dir.path(),
        "prod/_defaults.yaml",
        "defaults:\n  region: us-west-2\nstacks:\n  x: {}\n",
    );
    let ps = problems(dir.path());
    assert!(
        ps.iter()
            .any(|p| p.contains("prod/_defaults.yaml") && p.contains("holds only `defaults:`")),
        "{ps:?}"
    );
}

#[test]
fn stack_names_are_unique_across_the_tree() {
    let dir = environments();
    write(
        dir.path(),
        "staging/more.yaml",
        "stacks:\n  api-prod:\n    parameters: {ServiceName: api}\n",
    );
    let ps = problems(dir.path());
    assert!(
        ps.iter()
            .any(|p| p.contains("`api-prod` is already declared in")
                && p.contains("prod/services.yaml")),
        "{ps:?}"
    );
}

#[test]
fn the_schema_knows_exactly_the_keys_the_reader_accepts() {
    let schema = super::schema();
    let mut in_schema: Vec<&str> = schema["$defs"]["RawStack"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    in_schema.sort();
    let mut accepted = super::keys::STACK.to_vec();
    accepted.sort();
    assert_eq!(in_schema, accepted);
    let mut top: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    top.sort();
    assert_eq!(top, super::keys::FILE);
}

#[test]
fn depends_on_is_checked_across_every_file_of_the_config() {
    let dir = fleet();
    write(
        dir.path(),
        "a.yaml",
        "defaults:\n  template: templates/service.yaml\n  region: us-east-1\nstacks:\n  network:\n    parameters: {ServiceName: net}\n    depends_on: [orders]\n",
    );
    write(
        dir.path(),
        "b.yaml",
        "defaults:\n  template: templates/service.yaml\n  region: us-east-1\nstacks:\n  orders:\n    parameters: {ServiceName: orders}\n    depends_on: [network, netwrk]\n",
    );
    let ps = problems(dir.path()).join("\n");
    assert!(
        ps.contains("b.yaml: stack `orders`: `depends_on` names `netwrk`"),
        "{ps}"
    );
    assert!(
        ps.contains("in a cycle: network → orders → network"),
        "{ps}"
    );
    // Selecting one stack still checks the whole order.
    let err = load_with(dir.path(), &["orders"], &[])
        .unwrap_err()
        .problems
        .join("\n");
    assert!(err.contains("in a cycle"), "{err}");

    write(
        dir.path(),
        "a.yaml",
        "defaults:\n  template: templates/service.yaml\n  region: us-east-1\nstacks:\n  network:\n    parameters: {ServiceName: net}\n",
    );
    write(
        dir.path(),
        "b.yaml",
        "defaults:\n  template: templates/service.yaml\n  region: us-east-1\nstacks:\n  orders:\n    parameters: {ServiceName: orders}\n    depends_on: [network]\n",
    );
    let specs = load_with(dir.path(), &[], &[]).unwrap();
    assert_eq!(specs[1].depends_on, ["network"]);
}

#[test]
fn output_references_are_read_as_dependencies_and_checked_before_any_aws_call() {
    let dir = fleet();
    let write_fleet = |orders: &str| {
        write(
            dir.path(),
            "f.yaml",
            &format!("defaults:\n  template: templates/service.yaml\n  region: us-east-1\nstacks:\n  network:\n    parameters: {{ServiceName: net}}\n  orders:\n{orders}"),
        )
    };
    write_fleet("    parameters: {ServiceName: '${stack:network.QueueName}', Environment: '${stack:eu-west-1/shared.Env}'}\n    tags: {vpc: 'id-${stack:network.VpcId}'}\n");
    let specs = load_with(dir.path(), &[], &[]).unwrap();
    let orders = specs.iter().find(|s| s.name == "orders").unwrap();
    assert_eq!(orders.depends_on, ["network"], "the in-config stack only");
    let keys: Vec<&str> = orders.references.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "parameters.Environment",
            "parameters.ServiceName",
            "tags.vpc"
        ],
        "and Environment's AllowedValues wait for the plan"
    );

    write_fleet("    parameters: {ServiceName: '${stack:netwrk.QueueName}'}\n");
    let ps = problems(dir.path()).join("\n");
    assert!(
        ps.contains("`parameters.ServiceName` reads an output of `netwrk`, which is not a stack of the config (did you mean `network`?)"),
        "{ps}"
    );
    write_fleet("    parameters: {ServiceName: '${stack:network}'}\n");
    let ps = problems(dir.path()).join("\n");
    assert!(
        ps.contains("is not a reference; write `${stack:NAME.Output}`"),
        "{ps}"
    );
    write(
        dir.path(),
        "f.yaml",
        "defaults:\n  template: templates/service.yaml\n  region: us-east-1\nstacks:\n  network:\n    parameters: {ServiceName: '${stack:orders.Name}'}\n  orders:\n    parameters: {ServiceName: '${stack:network.Name}'}\n",
    );
    let ps = problems(dir.path()).join("\n");
    assert!(
        ps.contains("in a cycle: network → orders → network"),
        "{ps}"
    );
}

#[test]
fn a_fleet_tags_its_stacks_and_knows_whether_this_run_read_all_of_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "prod/templates/t.yaml", TEMPLATE);
    write(
        dir.path(),
        "prod/_defaults.yaml",
        "defaults:\n  fleet: shop-prod\n  template: templates/t.yaml\n",
    );
    write(
        dir.path(),
        "prod/a.yaml",
        "stacks:\n  web: {parameters: {ServiceName: web}}\n",
    );
    let specs = load_with(&dir.path().join("prod"), &[], &[]).unwrap();
    let fleet = specs[0].fleet.as_ref().unwrap();
    assert_eq!(fleet.name, "shop-prod");
    assert!(fleet.origin.ends_with("prod/_defaults.yaml"));
    assert!(fleet.covered, "the folder that declares it was read");
    assert_eq!(specs[0].tags.get(FLEET_TAG).unwrap(), "shop-prod");

    // One file below the declaring folder: the rest of the fleet was not read.
    let specs = load_with(&dir.path().join("prod/a.yaml"), &[], &[]).unwrap();
    assert!(!specs[0].fleet.as_ref().unwrap().covered);
    assert!(
        super::fleet_regions(&specs).is_empty(),
        "nothing is looked for in a fleet read in part"
    );
}

#[test]
fn a_region_being_retired_is_still_looked_in_for_the_fleets_stacks() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "templates/t.yaml", TEMPLATE);
    write(
        dir.path(),
        "_defaults.yaml",
        "defaults:\n  fleet: shop\n  fleet_regions: [eu-west-1, '${env:OLD_REGION}']\n  template: templates/t.yaml\n",
    );
    write(
        dir.path(),
        "a.yaml",
        "stacks:\n  web: {region: us-east-1, parameters: {ServiceName: web}}\n  api: {region: us-east-2, parameters: {ServiceName: api}}\n",
    );
    let specs = load_with(dir.path(), &[], &[("OLD_REGION", "ap-south-1")]).unwrap();
    assert_eq!(
        specs[0].fleet.as_ref().unwrap().regions,
        ["eu-west-1", "ap-south-1"]
    );
    let regions: Vec<String> = super::fleet_regions(&specs).into_iter().collect();
    assert_eq!(
        regions,
        ["ap-south-1", "eu-west-1", "us-east-1", "us-east-2"]
    );

    // Without a fleet, the list would be silently unused: a config error instead.
    write(
        dir.path(),
        "_defaults.yaml",
        "defaults:\n  fleet_regions: [eu-west-1]\n  template: templates/t.yaml\n",
    );
    let problems = problems(dir.path());
    assert!(
        problems.iter().any(|p| p.contains("stacks `web`, `api`:")
            && p.contains("`fleet_regions`")
            && p.contains("no `fleet` is set")),
        "{problems:?}"
    );
}

#[test]
fn a_fleet_declared_twice_a_bad_name_or_a_hand_set_tag_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "templates/t.yaml", TEMPLATE);
    write(
        dir.path(),
        "a.yaml",
        "defaults: {fleet: shop, template: templates/t.yaml}\nstacks:\n  web: {parameters: {ServiceName: web}}\n",
    );
    write(
        dir.path(),
        "b.yaml",
        "defaults: {fleet: shop, template: templates/t.yaml}\nstacks:\n  api: {parameters: {ServiceName: api}}\n  bad: {fleet: 'no spaces', parameters: {ServiceName: bad}}\n  tagged: {tags: {'cfdeploy:fleet': other}, parameters: {ServiceName: t}}\n",
    );
    let problems = problems(dir.path());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("fleet `shop` is also declared in") && p.contains("a.yaml")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("stack `bad`: fleet `no spaces` may use only")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("stack `tagged`: tag `cfdeploy:fleet` is set by `fleet:`")),
        "{problems:?}"
    );
}

#[test]
fn a_reference_to_an_unselected_stack_of_the_config_knows_its_region() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "templates/t.yaml", TEMPLATE);
    write(
        dir.path(),
        "network.yaml",
        "stacks:\n  network: {template: templates/t.yaml, region: eu-central-1, parameters: {ServiceName: net}}\n",
    );
    write(
        dir.path(),
        "services.yaml",
        "stacks:\n  web: {template: templates/t.yaml, parameters: {ServiceName: '${stack:network.Name}'}}\n",
    );
    let specs = load_with(dir.path(), &["web"], &[]).unwrap();
    assert_eq!(specs.len(), 1);
    assert_eq!(specs[0].region, "eu-west-1", "the default region");
    assert_eq!(
        specs[0].upstream_regions.get("network").map(String::as_str),
        Some("eu-central-1"),
        "read where the upstream is, not in the reader's region"
    );
}
