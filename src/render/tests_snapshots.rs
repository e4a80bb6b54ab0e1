//! Snapshot tests of every format over one plan that has a bit of everything. Review changes to
//! the `.snap` files like code.

use super::*;
use crate::model::*;

fn detail(
    name: &str,
    before: &str,
    after: &str,
    recreation: RequiresRecreation,
    source: &str,
) -> PropertyChange {
    PropertyChange {
        attribute: "Properties".into(),
        name: Some(name.into()),
        path: Some(format!("/Properties/{name}")),
        requires_recreation: Some(recreation),
        before: Some(before.into()),
        after: Some(after.into()),
        change_type: Some("Modify".into()),
        change_source: Some(source.into()),
        causing_entity: None,
        evaluation: Some("Static".into()),
        causes: vec![],
        value_changes: Vec::new(),
    }
}

fn change(
    action: Action,
    id: &str,
    rtype: &str,
    physical: Option<&str>,
    replacement: Option<Replacement>,
    details: Vec<PropertyChange>,
) -> ResourceChange {
    ResourceChange {
        action,
        logical_id: id.into(),
        physical_id: physical.map(str::to_string),
        resource_type: rtype.into(),
        replacement,
        scope: if details.is_empty() {
            vec![]
        } else {
            vec!["Properties".into()]
        },
        details,
        destructive: None,
        policy_action: None,
        drift: None,
    }
}

fn stack(name: &str, status: PlanStatus) -> StackPlan {
    StackPlan {
        stack: name.into(),
        region: "us-east-1".into(),
        source: "stacks/services.yaml".into(),
        status,
        stack_id: None,
        change_set_arn: None,
        change_set_name: None,
        error: None,
        changes: vec![],
        parameters: vec![],
        tags: vec![],
        template_diff: None,
        fingerprint: Fingerprint {
            template_sha256: "ab".repeat(32),
            parameters_sha256: "cd".repeat(32),
            ..Fingerprint::default()
        },
        termination_protection: false,
        allow_destructive: false,
        no_echo: vec![],
        mask: vec![],
        warnings: vec![],
        artifacts: vec![],
    }
}

pub(crate) fn sample_plan() -> Plan {
    let mut update = stack("orders-prod", PlanStatus::Update);
    update.stack_id =
        Some("arn:aws:cloudformation:us-east-1:123456789012:stack/orders-prod/1".into());
    update.change_set_arn = Some(
        "arn:aws:cloudformation:us-east-1:123456789012:changeSet/cfdeploy-20261123T101500-3f9a2c/1"
            .into(),
    );
    update.change_set_name = Some("cfdeploy-20261123T101500-3f9a2c".into());
    update.changes = vec![
        change(
            Action::Add,
            "AlarmTopic",
            "AWS::SNS::Topic",
            None,
            None,
            vec![],
        ),
        change(
            Action::Modify,
            "OrdersTable",
            "AWS::DynamoDB::Table",
            Some("orders-prod-OrdersTable-1X2Y3Z"),
            Some(Replacement::True),
            vec![detail(
                "TableName",
                "orders",
                "orders-v2",
                RequiresRecreation::Always,
                "DirectModification",
            )],
        ),
        change(
            Action::Modify,
            "WorkQueue",
            "AWS::SQS::Queue",
            Some("https://sqs.us-east-1.amazonaws.com/123456789012/orders-prod-work"),
            Some(Replacement::False),
            vec![
                detail(
                    "VisibilityTimeout",
                    "30",
                    "60",
                    RequiresRecreation::Never,
                    "ParameterReference",
                ),
                detail(
                    "RedrivePolicy",
                    "{\"maxReceiveCount\": 5}",
                    "{\"maxReceiveCount\": 3}",
                    RequiresRecreation::Never,
                    "DirectModification",
                ),
            ],
        ),
        change(
            Action::Modify,
            "Pipe|Tick`Html",
            "AWS::SSM::Parameter",
            Some("/prod/a|b"),
            Some(Replacement::Conditional),
            vec![detail(
                "Value",
                "<b>old</b> | `x`",
                "```new```",
                RequiresRecreation::Conditionally,
                "DirectModification",
            )],
        ),
        change(
            Action::Remove,
            "OldQueue",
            "AWS::SQS::Queue",
            Some("https://sqs.us-east-1.amazonaws.com/123456789012/old"),
            None,
            vec![],
        ),
    ];
    // Marked by the guard, as plan marks them: the table is replaced, the old queue removed.
    let new = crate::template::Template::parse(
        "Resources:\n  AlarmTopic: {Type: AWS::SNS::Topic}\n  OrdersTable: {Type: AWS::DynamoDB::Table}\n  WorkQueue: {Type: AWS::SQS::Queue}\n".into(),
    )
    .unwrap();
    let deployed = crate::template::Template::parse(
        "Resources:\n  OrdersTable: {Type: AWS::DynamoDB::Table}\n  WorkQueue: {Type: AWS::SQS::Queue}\n  OldQueue: {Type: AWS::SQS::Queue}\n".into(),
    )
    .unwrap();
    // What plan computes from the values, as plan does.
    crate::diff::structural(&mut update.changes);
    crate::guard::mark(
        &mut update.changes,
        &crate::guard::StatefulTypes::default(),
        &new,
        Some(&deployed),
    );
    update.parameters = vec![
        ParameterChange {
            key: "ApiToken".into(),
            old: None,
            new: Some("****".into()),
        },
        ParameterChange {
            key: "VisibilityTimeout".into(),
            old: Some("30".into()),
            new: Some("60".into()),
        },
    ];
    update.warnings = vec![
        "CloudFormation warns: [OrdersTable] property values are incomplete for this resource type"
            .into(),
    ];
    update.template_diff = Some("--- deployed\n+++ stacks/templates/service.yaml\n@@ -1,3 +1,3 @@\n Resources:\n-  OldQueue:\n+  AlarmTopic:\n     Type: ```\n".into());

    let mut create = stack("billing-prod", PlanStatus::Create);
    create.change_set_name = Some("cfdeploy-20261123T101500-3f9a2c".into());
    create.change_set_arn = Some(
        "arn:aws:cloudformation:us-east-1:123456789012:changeSet/cfdeploy-20261123T101500-3f9a2c/2"
            .into(),
    );
    create.changes = vec![
        change(
            Action::Add,
            "WorkQueue",
            "AWS::SQS::Queue",
            None,
            None,
            vec![],
        ),
        change(
            Action::Add,
            "ScalingTarget",
            "AWS::ApplicationAutoScaling::ScalableTarget",
            None,
            None,
            vec![],
        ),
    ];
    create.parameters = vec![ParameterChange {
        key: "ServiceName".into(),
        old: None,
        new: Some("billing".into()),
    }];

    let mut failed = stack("search-prod", PlanStatus::Error);
    failed.error = Some("the change set failed: Template error: instance of Fn::GetAtt references undefined resource Nope".into());
    let mut busy = stack("shipping-prod", PlanStatus::Busy);
    busy.error = Some("stack is busy: UPDATE_IN_PROGRESS (an operation is in progress); plan again when it has finished".into());
    let mut unchanged = stack("ledger-prod", PlanStatus::NoChanges);
    // With --drift: what an unchanged stack still has to say.
    unchanged.warnings = vec![
        "drifted, and this plan leaves it so: LedgerQueue /DelaySeconds: 0 in the template, 5 live"
            .into(),
    ];

    Plan {
        correlation_id: "3f9a2c0011223344".into(),
        created_at: "2026-11-23T10:15:00Z".into(),
        stacks: vec![unchanged, update, create, failed, busy],
    }
}

fn render(format: Format, style: Style) -> String {
    let mut out = Vec::new();
    plan(
        &mut out,
        &crate::mask::Masker::default().mask(sample_plan()),
        format,
        style,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn table_without_a_terminal() {
    insta::assert_snapshot!(render(
        Format::Table,
        Style {
            color: false,
            width: None
        }
    ));
}

#[test]
fn table_in_a_narrow_terminal_never_splits_identifiers() {
    let text = render(
        Format::Table,
        Style {
            color: false,
            width: Some(100),
        },
    );
    for id in [
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::DynamoDB::Table",
        "OrdersTable",
        "orders-prod-OrdersTable-1X2Y3Z",
        "https://sqs.us-east-1.amazonaws.com/123456789012/orders-prod-work",
        "Physical ID",
    ] {
        assert!(text.contains(id), "{id} was split:\n{text}");
    }
    for line in text.lines().filter(|l| l.starts_with(['┌', '│', '└', '╞'])) {
        assert!(line.chars().count() <= 100, "wider than 100: {line}");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn at_every_width_words_stay_whole_and_lines_fit() {
    // Narrow terminals get the changes one after the other instead of a table that would cut
    // words; at every width, identifiers, property names and values are whole.
    for width in (40..=140).step_by(4) {
        let text = render(
            Format::Table,
            Style {
                color: false,
                width: Some(width),
            },
        );
        for word in [
            "AWS::ApplicationAutoScaling::ScalableTarget",
            "AWS::DynamoDB::Table",
            "OrdersTable",
            "VisibilityTimeout:",
            "maxReceiveCount:",
            "orders-v2",
            "[replaces]",
        ] {
            assert!(
                text.contains(word),
                "{width} columns: {word} was split:\n{text}"
            );
        }
        for line in text.lines().filter(|l| l.starts_with(['┌', '│', '└', '╞'])) {
            assert!(
                line.chars().count() <= usize::from(width),
                "{width} columns: {line}"
            );
        }
    }
    let narrow = render(
        Format::Table,
        Style {
            color: false,
            width: Some(50),
        },
    );
    assert!(
        narrow.contains("  Modify ⚠ OrdersTable AWS::DynamoDB::Table\n    (replacement)"),
        "{narrow}"
    );
    for line in narrow.lines() {
        assert!(
            line.chars().count() <= 50
                || !line.contains(' ')
                || line.trim_start().starts_with("https://"),
            "{line}"
        );
    }
}

#[test]
fn a_replacement_column_of_only_false_is_left_out() {
    let mut p = sample_plan();
    p.stacks.retain(|s| s.stack == "orders-prod");
    let stack = &mut p.stacks[0];
    stack
        .changes
        .retain(|c| c.replacement == Some(Replacement::False));
    assert!(!stack.changes.is_empty());
    let mut out = Vec::new();
    plan(
        &mut out,
        &crate::mask::Masker::default().mask(p),
        Format::Table,
        Style {
            color: false,
            width: Some(120),
        },
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("Replacement"), "{text}");
    assert!(text.contains("│ Modify"), "{text}");
}

#[test]
fn table_with_colour_only_adds_emphasis() {
    let colored = render(
        Format::Table,
        Style {
            color: true,
            width: None,
        },
    );
    assert!(colored.contains("\u{1b}["));
    let plain = render(
        Format::Table,
        Style {
            color: false,
            width: None,
        },
    );
    let stripped = strip_ansi(&colored);
    assert_eq!(stripped, plain);
}

#[test]
fn markdown() {
    insta::assert_snapshot!(render(Format::Markdown, Style::default()));
}

#[test]
fn markdown_lists_failures_then_destructive_stacks_first_and_escapes_cells() {
    let md = render(Format::Markdown, Style::default());
    let orders = md.find("<b>orders-prod</b>").unwrap();
    let search = md.find("<b>search-prod</b>").unwrap();
    assert!(search < orders, "the stack that failed to plan comes first");
    // HTML in a value stays inside a code span, where GitHub shows it as text.
    assert_eq!(md.matches("<b>old</b>").count(), 1);
    assert!(md.contains("`<b>old</b> \\| 'x'`"), "{md}");
    assert!(md.contains("Pipe\\|Tick\\`Html"));
    // Every table row has the same number of unescaped separators as its header.
    for line in md.lines().filter(|l| l.starts_with("| ")) {
        let cells = line.replace("\\|", "").matches('|').count();
        assert!(cells == 8 || cells == 7 || cells == 4, "broken row: {line}");
    }
}

#[test]
fn json() {
    insta::assert_snapshot!(render(Format::Json, Style::default()));
}

#[test]
fn a_saved_plan_reads_back_as_the_same_plan() {
    let plan = sample_plan();
    assert_eq!(
        crate::planfile::plan_from_document(&crate::planfile::document(&plan)),
        Ok(plan)
    );
    let mut edited = crate::planfile::document(&sample_plan());
    edited.stacks[1].status = "maybe".into();
    assert_eq!(
        crate::planfile::plan_from_document(&edited),
        Err("stack `orders-prod` has an unknown status `maybe`".to_string())
    );
    let mut edited = crate::planfile::document(&sample_plan());
    edited.stacks[1].change_set_arn = None;
    assert!(crate::planfile::plan_from_document(&edited)
        .unwrap_err()
        .contains("has no change_set_arn"));
}

#[test]
fn json_round_trips_through_its_schema() {
    let text = render(Format::Json, Style::default());
    let doc: crate::planfile::PlanDocument = serde_json::from_str(&text).unwrap();
    assert_eq!(doc.version, 1);
    assert_eq!(doc.kind, "plan");
    assert_eq!(doc, crate::planfile::document(&sample_plan()));
    assert_eq!(doc.summary.replace, 1);
    assert_eq!(doc.summary.modify, 2);
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut escape = false;
    for ch in text.chars() {
        match (escape, ch) {
            (false, '\u{1b}') => escape = true,
            (true, 'm') => escape = false,
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    out
}

#[test]
fn stacks_that_left_the_config_read_back_and_show_in_every_format() {
    let mut listed = stack("legacy-prod", PlanStatus::NotInConfig);
    listed.stack_id = Some("arn:aws:cloudformation:us-east-1:1:stack/legacy-prod/1".into());
    let mut going = stack("old-prod", PlanStatus::Delete);
    going.stack_id = Some("arn:aws:cloudformation:us-east-1:1:stack/old-prod/2".into());
    let mut queue = change(
        Action::Remove,
        "Queue",
        "AWS::SQS::Queue",
        None,
        None,
        vec![],
    );
    queue.destructive = Some("deletes stateful AWS::SQS::Queue Queue".into());
    queue.policy_action = Some("Delete".into());
    going.changes = vec![queue];
    let plan = Plan {
        correlation_id: "3f9a2c0011223344".into(),
        created_at: "2026-12-02T00:00:00Z".into(),
        stacks: vec![listed, going],
    };
    let doc = crate::planfile::document(&plan);
    assert_eq!(crate::planfile::plan_from_document(&doc), Ok(plan.clone()));
    assert_eq!((doc.summary.not_in_config, doc.summary.deleted), (1, 1));
    let mut edited = doc;
    edited.stacks[1].stack_id = None;
    assert!(crate::planfile::plan_from_document(&edited)
        .unwrap_err()
        .contains("no stack_id"));

    let plan = crate::mask::Masker::default().mask(plan);
    let mut md = Vec::new();
    crate::render::plan(&mut md, &plan, Format::Markdown, Style::default()).unwrap();
    let md = String::from_utf8(md).unwrap();
    assert!(md.contains("👻 not in config"), "{md}");
    assert!(md.contains("⚠️ delete (destructive)"), "{md}");
    assert!(md.contains("plan --prune"), "{md}");
    let mut table = Vec::new();
    crate::render::plan(&mut table, &plan, Format::Table, Style::default()).unwrap();
    let table = String::from_utf8(table).unwrap();
    assert!(
        table.contains("legacy-prod  us-east-1  not in config"),
        "{table}"
    );
    assert!(table.contains("DELETE (left the config)"), "{table}");
    assert!(
        table.contains("1 not in config (plan --prune to delete)"),
        "{table}"
    );
}
