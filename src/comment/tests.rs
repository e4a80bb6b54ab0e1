use super::*;
use crate::model::*;

fn big_stack(name: &str, resources: usize, diff_lines: usize) -> StackPlan {
    StackPlan {
        stack: name.into(),
        region: "us-east-1".into(),
        source: "stacks/fleet.yaml".into(),
        status: PlanStatus::Update,
        stack_id: None,
        change_set_arn: Some(format!("arn:aws:cloudformation:us-east-1:1:changeSet/x/{name}")),
        change_set_name: Some("cfdeploy-20261123T101500-3f9a2c".into()),
        error: None,
        changes: (0..resources)
            .map(|i| ResourceChange {
                action: Action::Modify,
                logical_id: format!("Queue{i:03}"),
                physical_id: Some(format!("https://sqs.us-east-1.amazonaws.com/1/{name}-queue-{i}")),
                resource_type: "AWS::SQS::Queue".into(),
                replacement: Some(Replacement::False),
                scope: vec!["Properties".into()],
                details: vec![PropertyChange {
                    attribute: "Properties".into(),
                    name: Some("RedrivePolicy".into()),
                    path: Some("/Properties/RedrivePolicy".into()),
                    requires_recreation: Some(RequiresRecreation::Never),
                    before: Some(format!("{{\"maxReceiveCount\": {i}, \"deadLetterTargetArn\": \"arn:aws:sqs:us-east-1:1:{name}-dlq\"}}")),
                    after: Some(format!("{{\"maxReceiveCount\": {}, \"deadLetterTargetArn\": \"arn:aws:sqs:us-east-1:1:{name}-dlq\"}}", i + 1)),
                    change_type: None,
                    change_source: Some("DirectModification".into()),
                    causing_entity: None,
                    evaluation: None,
                    causes: vec![],
                    value_changes: Vec::new(),
                }],
                destructive: None,
                policy_action: None,
                drift: None,
            })
            .collect(),
        parameters: vec![],
        tags: vec![],
        template_diff: Some(
            (0..diff_lines).map(|i| format!("-  Old{i}: ```\n+  New{i}: x\n")).collect(),
        ),
        fingerprint: Fingerprint::default(),
        termination_protection: false,
        allow_destructive: false,
        no_echo: vec![],
        mask: vec![],
        warnings: vec![],
        artifacts: vec![],
    }
}

fn fleet(stacks: Vec<StackPlan>) -> crate::mask::Masked<Plan> {
    crate::mask::Masker::default().mask(Plan {
        correlation_id: "3f9a2c0011223344".into(),
        created_at: "2026-11-23T10:15:00Z".into(),
        stacks,
    })
}

fn footer() -> Footer {
    Footer::new("stacks", Some("0123456789abcdef0123".into()))
}

/// Markdown stays well-formed: every fence opened is closed, and every <details> too.
fn assert_valid_markdown(text: &str) {
    let mut open: Option<usize> = None;
    for line in text.lines() {
        let ticks = line.chars().take_while(|c| *c == '`').count();
        if ticks >= 3 {
            match open {
                None => open = Some(ticks),
                Some(n) if ticks >= n && line.trim_start_matches('`').trim().is_empty() => {
                    open = None
                }
                Some(_) => {}
            }
        }
    }
    assert_eq!(open, None, "a fenced block is left open");
    assert_eq!(
        text.matches("<details>").count() + text.matches("<details open>").count(),
        text.matches("</details>").count()
    );
}

#[test]
fn a_small_plan_is_whole_and_starts_with_its_marker() {
    let plan = fleet(vec![big_stack("orders-prod", 2, 3)]);
    let text = body(&plan, "stacks", &footer(), GITHUB_COMMENT_LIMIT);
    assert!(text.starts_with("<!-- cfdeploy-plan config=stacks -->\n"));
    assert!(text.contains("```diff") && text.contains("maxReceiveCount"));
    assert!(!text.contains("Left out"));
    assert!(
        text.contains("commit <code>0123456789ab</code>")
            && text.contains("correlation id <code>3f9a2c0011223344</code>")
    );
    assert_valid_markdown(&text);
}

#[test]
fn an_oversized_plan_degrades_in_steps_and_says_what_it_left_out() {
    let stacks: Vec<StackPlan> = (0..30)
        .map(|i| big_stack(&format!("svc{i:02}-prod"), 12 + i, 40))
        .collect();
    let plan = fleet(stacks);
    let full = body(&plan, "stacks", &footer(), usize::MAX);
    assert!(
        full.chars().count() > GITHUB_COMMENT_LIMIT,
        "the fixture is over the limit"
    );

    let text = body(&plan, "stacks", &footer(), GITHUB_COMMENT_LIMIT);
    assert!(
        text.chars().count() <= GITHUB_COMMENT_LIMIT,
        "{}",
        text.chars().count()
    );
    assert!(
        text.contains("Left out to fit GitHub's 65536-character comment limit: template diffs"),
        "{}",
        &text[text.len() - 600..]
    );
    assert!(text.contains("The full plan is in this run's job summary."));
    // The summary table is whole: a row for every stack.
    for i in 0..30 {
        assert!(
            text.contains(&format!("| svc{i:02}-prod | us-east-1 |")),
            "svc{i:02}-prod missing from the summary"
        );
    }
    assert_valid_markdown(&text);

    // Tighter still: values and then the largest stacks' tables go, largest first.
    let tight = body(&plan, "stacks", &footer(), 30_000);
    assert!(tight.chars().count() <= 30_000);
    assert!(
        tight.contains("property values") && tight.contains("the resource tables of"),
        "{}",
        &tight[tight.len() - 800..]
    );
    assert!(
        tight.contains("`svc29-prod`"),
        "the largest stack's table goes first"
    );
    assert_valid_markdown(&tight);
}

#[test]
fn when_nothing_changes_the_comment_says_so() {
    let mut stack = big_stack("orders-prod", 0, 0);
    stack.status = PlanStatus::NoChanges;
    stack.template_diff = None;
    let text = body(
        &fleet(vec![stack]),
        "stacks",
        &footer(),
        GITHUB_COMMENT_LIMIT,
    );
    assert!(
        text.contains("Nothing to apply: every stack matches its config."),
        "{text}"
    );
    assert!(text.contains("No changes: `orders-prod`"));
}

#[test]
fn a_marker_cannot_be_closed_early_by_the_config_path() {
    assert_eq!(
        marker("stacks-->x"),
        "<!-- cfdeploy-plan config=stacks___x -->"
    );
    assert_eq!(
        marker("my-stacks/prod.yaml"),
        "<!-- cfdeploy-plan config=my-stacks/prod.yaml -->"
    );
}

#[test]
fn snapshot_of_a_small_plan() {
    let plan = fleet(vec![big_stack("orders-prod", 2, 2)]);
    insta::assert_snapshot!(body(&plan, "stacks", &footer(), GITHUB_COMMENT_LIMIT));
}

#[test]
fn snapshot_of_a_destructive_plan() {
    let plan = crate::mask::Masker::default().mask(crate::render::tests_snapshots::sample_plan());
    let text = body(&plan, "stacks", &footer(), GITHUB_COMMENT_LIMIT);
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Stack") && !l.starts_with("| Action"))
        .collect();
    assert!(
        rows[0].contains("search-prod") && rows[0].contains("error"),
        "the stacks that could not be planned come first: {rows:?}"
    );
    assert!(rows[1].contains("shipping-prod") && rows[1].contains("busy"));
    assert!(
        rows[2].contains("orders-prod") && rows[2].contains("⚠️"),
        "then the destructive one: {rows:?}"
    );
    // Before any table, what the reviewer must act on, with the consequence after merge.
    let callouts = &text[..text.find("| Stack").unwrap()];
    assert!(
        callouts.contains("**2 stacks could not be planned**"),
        "{callouts}"
    );
    assert!(
        callouts.contains("`apply` refuses this stack (exit 3)")
            && callouts.contains("`allow_destructive: true`")
            && callouts.contains("`--allow-destructive`"),
        "{callouts}"
    );
    // Their details are open; the others stay collapsed.
    assert!(text.contains("<details open><summary><b>search-prod</b>"));
    assert!(text.contains("<details open><summary><b>orders-prod</b>"));
    insta::assert_snapshot!(text);
}

#[test]
fn snapshot_of_a_very_large_plan_cut_to_a_limit() {
    let stacks: Vec<StackPlan> = (0..30)
        .map(|i| big_stack(&format!("svc{i:02}-prod"), 3 + i % 5, 10))
        .collect();
    let text = body(&fleet(stacks), "stacks", &footer(), 12_000);
    assert!(text.chars().count() <= 12_000);
    assert_valid_markdown(&text);
    insta::assert_snapshot!(text);
}

#[test]
fn a_replacement_comes_first_among_thirty_stacks() {
    let mut stacks: Vec<StackPlan> = (0..30)
        .map(|i| big_stack(&format!("svc{i:02}-prod"), 2, 1))
        .collect();
    stacks[17].changes[1].replacement = Some(Replacement::True);
    let text = body(&fleet(stacks), "stacks", &footer(), GITHUB_COMMENT_LIMIT);
    let first = text.lines().find(|l| l.starts_with("| svc")).unwrap();
    assert!(
        first.starts_with("| svc17-prod |") && first.contains("**1**"),
        "{first}"
    );
    let details = text.find("<b>svc17-prod</b>").unwrap();
    assert!(details < text.find("<b>svc00-prod</b>").unwrap());
}

#[test]
fn a_plan_of_5000_stacks_fits_the_limit_and_counts_what_it_cut() {
    let stacks: Vec<StackPlan> = (0..5000)
        .map(|i| big_stack(&format!("svc{i:04}-prod"), 2, 2))
        .collect();
    let plan = fleet(stacks);
    let text = body(&plan, "stacks", &footer(), GITHUB_COMMENT_LIMIT);
    assert!(
        text.chars().count() <= GITHUB_COMMENT_LIMIT,
        "{}",
        text.chars().count()
    );
    assert!(
        text.contains("more stacks: see the job summary"),
        "{}",
        &text[..300]
    );
    assert!(text.contains("the rows of the summary past those shown"));
    assert!(
        text.contains("| svc0000-prod | us-east-1 |"),
        "the first rows are kept"
    );
    assert_valid_markdown(&text);
}

/// What GitHub would turn live in `markdown` outside code spans and fenced blocks.
fn live_syntax(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || line.starts_with("<!-- cfdeploy-plan ") {
            continue;
        }
        // Drop code spans (this renderer never puts a backtick inside one), <code> elements and
        // the renderer's own tags.
        let mut outside = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                outside.push_str(part);
            }
        }
        while let (Some(a), Some(b)) = (outside.find("<code>"), outside.find("</code>")) {
            if b < a {
                break;
            }
            outside.replace_range(a..b + "</code>".len(), "");
        }
        for tag in [
            "> [!CAUTION]",
            "> [!WARNING]",
            "<details open>",
            "<details>",
            "</details>",
            "<summary>",
            "</summary>",
            "<b>",
            "</b>",
            "<br>",
            "<sub>",
            "</sub>",
        ] {
            outside = outside.replace(tag, "");
        }
        let chars: Vec<char> = outside.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            let previous = if i > 0 { chars[i - 1] } else { ' ' };
            let live = match c {
                '@' => next.is_ascii_alphanumeric(),
                '#' => next.is_ascii_digit(),
                '[' | ']' | '!' => previous != '\\',
                ':' => outside[outside.char_indices().nth(i).unwrap().0..].starts_with("://"),
                '<' => true,
                _ => false,
            };
            if live {
                found.push(format!("{c} in {line}"));
            }
        }
        if outside.contains("www.") {
            found.push(format!("www. in {line}"));
        }
    }
    found
}

#[test]
fn values_from_a_plan_file_render_inert_whatever_they_hold() {
    let hostile = [
        "@octocat",
        "@org/team",
        "#123",
        "GH-42",
        "[click](https://evil.test)",
        "![x](https://evil.test/p.png)",
        "<img src=x onerror=alert(1)>",
        "https://evil.test",
        "www.evil.test",
        "`tick`",
        "|pipe|",
        "**bold**",
        "line\nbreak",
        "<!-- -->",
        "&amp;",
    ];
    // The check itself finds live syntax where there is some.
    assert_eq!(
        live_syntax("see @octocat, #12, https://x.test and [a](b)").len(),
        5,
        "a mention, a reference, a URL and a link's two brackets"
    );
    let mut rng = fastrand::Rng::with_seed(7);
    for round in 0..200 {
        let mut pick = || {
            (0..rng.usize(1..4))
                .map(|_| hostile[rng.usize(..hostile.len())])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut s = big_stack("svc-prod", 1, 1);
        s.region = pick();
        s.error = None;
        s.changes[0].logical_id = pick();
        s.changes[0].resource_type = pick();
        s.changes[0].physical_id = Some(pick());
        s.changes[0].destructive = Some(pick());
        s.changes[0].details[0].before = Some(pick());
        s.changes[0].details[0].after = Some(pick());
        s.changes[0].details[0].name = Some(pick());
        s.parameters = vec![ParameterChange {
            key: pick(),
            old: Some(pick()),
            new: Some(pick()),
        }];
        s.template_diff = Some(pick());
        let mut failed = big_stack("failed-prod", 0, 0);
        failed.status = PlanStatus::Error;
        failed.error = Some(pick());
        failed.source = pick();
        let text = body(
            &fleet(vec![s, failed]),
            "stacks",
            &footer(),
            GITHUB_COMMENT_LIMIT,
        );
        let live = live_syntax(&text);
        assert!(live.is_empty(), "round {round}: {live:#?}\n{text}");
        assert_valid_markdown(&text);
    }
}

#[test]
fn links_to_the_console_are_the_first_thing_an_oversized_comment_leaves_out() {
    let plan = crate::mask::Masker::default().mask(crate::render::tests_snapshots::sample_plan());
    let full = body(&plan, "stacks", &footer(), usize::MAX);
    assert!(full.contains("console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/changesets/changes?stackId="));
    let limit = full.chars().count() - 1;
    let text = body(&plan, "stacks", &footer(), limit);
    assert!(text.chars().count() <= limit);
    assert!(!text.contains("console.aws.amazon.com"), "{text}");
    assert!(
        text.contains("Left out to fit GitHub's") && text.contains("links to the console"),
        "{text}"
    );
    assert!(text.contains("```diff"), "the template diff stays: {text}");
}
