//! The plan's logic over a scripted CloudFormation: what the emulator cannot show (pagination,
//! the incomplete-values warning, busy and unusable stacks) and the cleanup it must do.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::cfn::fake::{FakeCfn, Fault, NextChangeSet};
use crate::model::{
    Action, ChangeSetPage, ChangeSetStatus, PropertyChange, Replacement, RequiresRecreation,
    ResourceChange, StackStatus,
};
use crate::template::Template;

/// The fake with stack `api` deployed in `status` from TEMPLATE (none for `None`).
fn fake(status: Option<StackStatus>) -> FakeCfn {
    let fake = match status {
        Some(status) => FakeCfn::new().with_stack("api", status),
        None => FakeCfn::new(),
    };
    fake.set_parameters("api", &[("Name", "api"), ("Token", "****")]);
    fake.set_template("api", TEMPLATE);
    fake
}

/// The next change set is served from these pages.
fn pages(fake: &FakeCfn, pending_polls: usize, pages: Vec<((bool, Option<&str>), ChangeSetPage)>) {
    fake.next_change_set(NextChangeSet {
        pending_polls,
        pages: pages
            .into_iter()
            .map(|((values, token), page)| ((values, token.map(str::to_string)), page))
            .collect::<HashMap<_, _>>(),
        ..NextChangeSet::default()
    });
}

fn page(
    status: ChangeSetStatus,
    reason: Option<&str>,
    changes: Vec<ResourceChange>,
    next: Option<&str>,
) -> ChangeSetPage {
    ChangeSetPage {
        stack_id: None,
        stack_name: None,
        status,
        status_reason: reason.map(str::to_string),
        execution_status: None,
        changes,
        next_token: next.map(str::to_string),
    }
}

fn modify(id: &str, detail: PropertyChange) -> ResourceChange {
    ResourceChange {
        action: Action::Modify,
        logical_id: id.into(),
        physical_id: Some(format!("{id}-physical")),
        resource_type: "AWS::SQS::Queue".into(),
        replacement: Some(Replacement::False),
        scope: vec!["Properties".into()],
        details: vec![detail],
        destructive: None,
        policy_action: None,
        drift: None,
    }
}

fn detail(name: &str, before: Option<&str>, after: Option<&str>) -> PropertyChange {
    PropertyChange {
        attribute: "Properties".into(),
        name: Some(name.into()),
        path: None,
        requires_recreation: Some(RequiresRecreation::Never),
        before: before.map(str::to_string),
        after: after.map(str::to_string),
        change_type: None,
        change_source: Some("DirectModification".into()),
        causing_entity: None,
        evaluation: Some("Static".into()),
        causes: vec![],
        value_changes: Vec::new(),
    }
}

const TEMPLATE: &str = "Parameters:\n  Name: {Type: String}\n  Token: {Type: String, NoEcho: true}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n";

fn spec(params: &[(&str, &str)]) -> StackSpec {
    StackSpec {
        name: "api".into(),
        source: "stacks/api.yaml".into(),
        template_path: "stacks/templates/api.yaml".into(),
        template: Arc::new(Template::parse(TEMPLATE.to_string()).unwrap()),
        region: "us-east-1".into(),
        parameters: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        tags: BTreeMap::new(),
        capabilities: vec![],
        termination_protection: false,
        role_arn: None,
        notification_arns: vec![],
        template_bucket: None,
        allow_destructive: false,
        stateful_types: crate::guard::StatefulTypes::default(),
        mask: vec![],
        depends_on: vec![],
        references: vec![],
        fleet: None,
        upstream_regions: BTreeMap::new(),
    }
}

fn fast() -> PollOptions {
    PollOptions {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(4),
        timeout: Duration::from_secs(5),
    }
}

async fn plan_one(fake: FakeCfn, params: &[(&str, &str)]) -> (Plan, Arc<FakeCfn>) {
    plan_with_drift(fake, params, false).await
}

async fn plan_with_drift(
    fake: FakeCfn,
    params: &[(&str, &str)],
    drift: bool,
) -> (Plan, Arc<FakeCfn>) {
    let fake = Arc::new(fake);
    let options = PlanOptions {
        concurrency: 2,
        poll: fast(),
        drift,
        left: crate::plan::LeftOptions::Skip,
    };
    let specs = vec![spec(params)];
    let masker = Masker::for_specs(&specs);
    let plan = plan_fleet(
        Arc::clone(&fake),
        specs,
        &RunContext::new(),
        &options,
        &masker,
        &crate::signals::manual().1,
    )
    .await;
    (plan.into_inner(), fake)
}

#[tokio::test]
async fn every_page_of_changes_is_read_after_polling_past_pending() {
    let fake = fake(Some(StackStatus::UpdateComplete));
    let complete = ChangeSetStatus::CreateComplete;
    pages(
        &fake,
        3,
        vec![
            (
                (true, None),
                page(
                    complete.clone(),
                    None,
                    vec![modify("A", detail("X", Some("1"), Some("2")))],
                    Some("t1"),
                ),
            ),
            (
                (true, Some("t1")),
                page(
                    complete.clone(),
                    None,
                    vec![modify("B", detail("Y", None, None))],
                    Some("t2"),
                ),
            ),
            (
                (true, Some("t2")),
                page(
                    complete,
                    None,
                    vec![modify("C", detail("Z", None, None))],
                    None,
                ),
            ),
        ],
    );
    let (plan, fake) = plan_one(fake, &[("Name", "api"), ("Token", "secret-token")]).await;
    let s = &plan.stacks[0];
    assert_eq!(s.status, PlanStatus::Update, "{:?}", s.error);
    let ids: Vec<&str> = s.changes.iter().map(|c| c.logical_id.as_str()).collect();
    assert_eq!(ids, ["A", "B", "C"]);
    let polls = fake
        .calls()
        .iter()
        .filter(|c| c.contains("token=None"))
        .count();
    assert_eq!(polls, 4, "three pending polls and the first page");
    assert_eq!(
        fake.change_sets_of("api"),
        [s.change_set_arn.clone().unwrap()],
        "a change set to review is kept"
    );
    assert_eq!(fake.count("DeleteChangeSet"), 0);
}

#[tokio::test]
async fn incomplete_property_values_are_described_again_without_values_and_merged() {
    let warning = "[WARN] --include-property-values option can return incomplete ChangeSet data because: ChangeSet creation failed for resource [B]";
    let fake = fake(Some(StackStatus::UpdateComplete));
    // With values: only A, with its values. Without values: A and B, no values.
    pages(
        &fake,
        0,
        vec![
            (
                (true, None),
                page(
                    ChangeSetStatus::CreateComplete,
                    Some(warning),
                    vec![modify("A", detail("X", Some("1"), Some("2")))],
                    None,
                ),
            ),
            (
                (false, None),
                page(
                    ChangeSetStatus::CreateComplete,
                    Some(warning),
                    vec![
                        modify("A", detail("X", None, None)),
                        modify("B", detail("Y", None, None)),
                    ],
                    None,
                ),
            ),
        ],
    );
    let (plan, fake) = plan_one(fake, &[("Name", "api"), ("Token", "t")]).await;
    let s = &plan.stacks[0];
    let ids: Vec<&str> = s.changes.iter().map(|c| c.logical_id.as_str()).collect();
    assert_eq!(
        ids,
        ["A", "B"],
        "the list without values is the complete one"
    );
    assert_eq!(s.changes[0].details[0].before.as_deref(), Some("1"));
    assert_eq!(s.changes[0].details[0].after.as_deref(), Some("2"));
    assert!(fake.calls().iter().any(|c| c.contains("values=false")));
}

#[tokio::test]
async fn no_changes_deletes_the_change_set_and_is_not_an_error() {
    let fake = fake(Some(StackStatus::UpdateComplete));
    fake.next_change_set(NextChangeSet {
        failed: Some("The submitted information didn't contain changes. Submit different information to create a change set.".into()),
        ..NextChangeSet::default()
    });
    let (plan, fake) = plan_one(fake, &[("Name", "api"), ("Token", "t")]).await;
    assert_eq!(plan.stacks[0].status, PlanStatus::NoChanges);
    assert_eq!(plan.stacks[0].change_set_arn, None);
    assert_eq!(fake.count("DeleteChangeSet"), 1);
    assert!(fake.change_sets_of("api").is_empty());
    assert!(!plan.has_errors());
}

#[tokio::test]
async fn a_failed_change_set_reports_its_reason_and_is_deleted() {
    let fake = fake(None);
    fake.next_change_set(NextChangeSet {
        failed: Some("Template error: unresolved resource dependencies [Nope]".into()),
        ..NextChangeSet::default()
    });
    let (plan, fake) = plan_one(fake, &[("Name", "api"), ("Token", "t")]).await;
    let s = &plan.stacks[0];
    assert_eq!(s.status, PlanStatus::Error);
    assert!(s
        .error
        .as_deref()
        .unwrap()
        .contains("unresolved resource dependencies [Nope]"));
    assert_eq!(fake.count("DeleteChangeSet"), 1);
    assert!(fake.change_sets_of("api").is_empty());
}

#[tokio::test]
async fn a_busy_stack_is_reported_without_a_change_set() {
    let fake = fake(Some(StackStatus::UpdateInProgress));
    let (plan, fake) = plan_one(fake, &[("Name", "api"), ("Token", "t")]).await;
    assert_eq!(plan.stacks[0].status, PlanStatus::Busy);
    assert!(plan.stacks[0]
        .error
        .as_deref()
        .unwrap()
        .contains("UPDATE_IN_PROGRESS"));
    assert_eq!(fake.calls(), ["DescribeStacks api"]);
}

#[tokio::test]
async fn a_rolled_back_create_cannot_be_updated_and_says_how_to_fix_it() {
    let fake = fake(Some(StackStatus::RollbackComplete));
    let (plan, fake) = plan_one(fake, &[("Name", "api"), ("Token", "t")]).await;
    let error = plan.stacks[0].error.as_deref().unwrap();
    assert!(
        error.contains("ROLLBACK_COMPLETE") && error.contains("`cfdeploy rollback api --delete`"),
        "{error}"
    );
    assert_eq!(fake.calls(), ["DescribeStacks api"]);
}

#[tokio::test]
async fn a_stack_in_review_is_planned_as_a_create() {
    let fake = fake(Some(StackStatus::ReviewInProgress));
    let (plan, fake) = plan_one(fake, &[("Name", "api"), ("Token", "t")]).await;
    assert_eq!(plan.stacks[0].status, PlanStatus::Create);
    assert!(fake
        .calls()
        .contains(&"CreateChangeSet api Create".to_string()));
    assert_eq!(fake.count("GetTemplate"), 0);
}

#[tokio::test]
async fn missing_capabilities_get_a_hint() {
    let fake = fake(None);
    fake.fail(
        "CreateChangeSet",
        Fault::Error {
            code: "InsufficientCapabilitiesException".into(),
            message: "Requires capabilities : [CAPABILITY_NAMED_IAM]".into(),
        },
        1,
        0,
    );
    let (plan, _) = plan_one(fake, &[("Name", "api"), ("Token", "t")]).await;
    let error = plan.stacks[0].error.as_deref().unwrap();
    assert!(
        error.contains("CAPABILITY_NAMED_IAM") && error.contains("`capabilities`"),
        "{error}"
    );
}

#[tokio::test]
async fn secrets_are_masked_in_values_diffs_and_errors() {
    let secret = "s3cr3t-token-value";
    let fake = fake(Some(StackStatus::UpdateComplete));
    fake.set_template("api", &format!("# {secret}\n{TEMPLATE}"));
    fake.next_change_set(NextChangeSet {
        changes: vec![modify("A", detail("Value", Some("old"), Some(secret)))],
        ..NextChangeSet::default()
    });
    let (plan, _) = plan_one(fake, &[("Name", "api"), ("Token", secret)]).await;
    let debug = format!("{plan:?}");
    assert!(!debug.contains(secret), "{debug}");
    assert_eq!(
        plan.stacks[0].changes[0].details[0].after.as_deref(),
        Some("****")
    );
    assert!(plan.stacks[0]
        .template_diff
        .as_deref()
        .unwrap()
        .contains("-# ****"));
}

#[tokio::test]
async fn the_fingerprint_records_the_deployed_state_without_secrets() {
    let (a, _) = plan_one(
        fake(Some(StackStatus::UpdateComplete)),
        &[("Name", "api"), ("Token", "one")],
    )
    .await;
    let f = &a.stacks[0].fingerprint;
    assert_eq!(f.stack_status, Some(StackStatus::UpdateComplete));
    assert_eq!(f.last_updated.as_deref(), Some("2026-11-20T10:00:00Z"));
    assert_eq!(
        f.deployed_template_sha256.as_ref().map(String::len),
        Some(64)
    );
    let (b, _) = plan_one(
        fake(Some(StackStatus::UpdateComplete)),
        &[("Name", "api"), ("Token", "two")],
    )
    .await;
    assert_eq!(
        f.parameters_sha256, b.stacks[0].fingerprint.parameters_sha256,
        "a NoEcho value does not feed the hash"
    );
}

#[tokio::test]
async fn a_template_over_the_inline_limit_is_uploaded_once_by_content_and_passed_by_url() {
    let fake = Arc::new(fake(None));
    let mut big = spec(&[("Name", "api"), ("Token", "t")]);
    let body = format!("Description: \"{}\"\n{TEMPLATE}", "x".repeat(60_000));
    big.template = Arc::new(Template::parse(body.clone()).unwrap());
    big.template_bucket = Some("deploy-artifacts".into());
    let options = PlanOptions {
        concurrency: 1,
        poll: fast(),
        drift: false,
        left: crate::plan::LeftOptions::Skip,
    };
    let plan = plan_fleet(
        Arc::clone(&fake),
        vec![big],
        &RunContext::new(),
        &options,
        &Masker::default(),
        &crate::signals::manual().1,
    )
    .await;
    assert_eq!(
        plan.stacks[0].status,
        PlanStatus::Create,
        "{:?}",
        plan.stacks[0].error
    );
    let sha = &plan.stacks[0].fingerprint.template_sha256;
    let calls = fake.uploads();
    assert!(
        calls.contains(&format!(
            "PutObject deploy-artifacts cfdeploy/templates/{sha}.yaml {}",
            body.len()
        )),
        "{calls:?}"
    );
    assert!(calls.contains(&format!("TemplateURL https://deploy-artifacts.s3.us-east-1.amazonaws.com/cfdeploy/templates/{sha}.yaml")), "{calls:?}");
}

#[tokio::test]
async fn an_aws_error_quoting_a_secret_is_masked_before_it_is_logged_or_kept() {
    let secret = "quoted-s3cr3t-value";
    let fake = fake(None);
    fake.fail(
        "CreateChangeSet",
        Fault::Error {
            code: "ValidationError".into(),
            message: format!("Parameter 'Token' value '{secret}' does not match pattern"),
        },
        1,
        0,
    );
    let (plan, _) = plan_one(fake, &[("Name", "api"), ("Token", secret)]).await;
    let error = plan.stacks[0].error.as_deref().unwrap();
    assert!(
        error.contains("value '****' does not match") && !error.contains(secret),
        "{error}"
    );
}

#[tokio::test]
async fn every_stack_status_is_planned_as_its_family_says() {
    use crate::model::Family;
    for status in StackStatus::ALL {
        let (plan, fake) = plan_one(
            fake(Some(status.clone())),
            &[("Name", "api"), ("Token", "t")],
        )
        .await;
        let s = &plan.stacks[0];
        match status.family() {
            Family::InProgress => {
                assert_eq!(s.status, PlanStatus::Busy, "{status}");
                assert_eq!(fake.count("CreateChangeSet"), 0, "{status}");
            }
            Family::Review => {
                assert_eq!(s.status, PlanStatus::Create, "{status}");
                assert!(fake
                    .calls()
                    .contains(&"CreateChangeSet api Create".to_string()));
            }
            Family::Complete | Family::RolledBack => {
                assert_eq!(s.status, PlanStatus::Update, "{status}: {:?}", s.error);
            }
            Family::Failed | Family::NeedsRepair => {
                assert_eq!(s.status, PlanStatus::Error, "{status}");
                let error = s.error.as_deref().unwrap();
                assert!(
                    error.contains(status.as_str())
                        && (error.contains("`cfdeploy rollback api")
                            || error.contains("`cfdeploy delete api")),
                    "{status}: {error}"
                );
                assert_eq!(fake.count("CreateChangeSet"), 0, "{status}");
            }
            // A deleted stack's name is free: the stack is created anew.
            Family::Deleted => assert_eq!(s.status, PlanStatus::Create, "{status}: {:?}", s.error),
            Family::Unknown => unreachable!("every documented status has a family"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn an_interrupted_plan_stops_waiting_and_discards_what_it_made() {
    // A new stack whose change set never finishes computing, and an existing one planned fine.
    let fake = Arc::new(fake(Some(StackStatus::UpdateComplete)));
    fake.next_change_set(NextChangeSet {
        pending_polls: 10_000,
        ..NextChangeSet::default()
    });
    let (tx, interrupt) = crate::signals::manual();
    let run = RunContext::new();
    let task = {
        let fake = Arc::clone(&fake);
        let run = run.clone();
        tokio::spawn(async move {
            let mut new = spec(&[("Name", "new"), ("Token", "t")]);
            new.name = "new".into();
            plan_fleet(
                fake,
                vec![new],
                &run,
                &PlanOptions {
                    concurrency: 2,
                    poll: fast(),
                    drift: false,
                    left: crate::plan::LeftOptions::Skip,
                },
                &Masker::default(),
                &interrupt,
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fake.status("new"), Some(StackStatus::ReviewInProgress));
    tx.send(1).unwrap();
    let plan = task.await.unwrap();
    assert_eq!(plan.stacks[0].status, PlanStatus::Error);
    assert_eq!(
        plan.stacks[0].error.as_deref(),
        Some("not planned: interrupted")
    );
    assert!(
        fake.change_sets_of("new").is_empty(),
        "its change set is deleted at once"
    );

    let removed = discard(fake.as_ref(), &plan, &run).await;
    assert_eq!(removed, ["the empty stack new"]);
    assert_eq!(fake.count("DeleteStack"), 1);
    for _ in 0..3 {
        fake.describe_stack(crate::cfn::fake::REGION, "new")
            .await
            .unwrap();
    }
    assert_eq!(fake.status("new"), Some(StackStatus::DeleteComplete));
    // The stack that existed before the run is never touched.
    assert_eq!(fake.status("api"), Some(StackStatus::UpdateComplete));
}

#[tokio::test]
async fn stack_tag_changes_are_in_the_plan() {
    let fake = fake(Some(StackStatus::UpdateComplete));
    fake.set_tags("api", &[("team", "payments"), ("retired", "yes")]);
    let fake = Arc::new(fake);
    let mut with_tags = spec(&[("Name", "api"), ("Token", "t")]);
    with_tags.tags = [("team", "platform"), ("cost-center", "42")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let plan = plan_fleet(
        Arc::clone(&fake),
        vec![with_tags],
        &RunContext::new(),
        &PlanOptions {
            concurrency: 1,
            poll: fast(),
            drift: false,
            left: crate::plan::LeftOptions::Skip,
        },
        &Masker::default(),
        &crate::signals::manual().1,
    )
    .await;
    let tags: Vec<(String, Option<String>, Option<String>)> = plan.stacks[0]
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.old.clone(), t.new.clone()))
        .collect();
    assert_eq!(
        tags,
        [
            ("cost-center".into(), None, Some("42".into())),
            ("retired".into(), Some("yes".into()), None),
            (
                "team".into(),
                Some("payments".into()),
                Some("platform".into())
            ),
        ]
    );
    let mut out = Vec::new();
    crate::render::plan(
        &mut out,
        &plan,
        crate::render::Format::Table,
        crate::render::Style::default(),
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("Stack tags") && text.contains("team         payments → platform"),
        "{text}"
    );
    assert!(
        text.contains("no resource changes (stack tags only)"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_change_set_being_computed_holds_no_request_permit() {
    let fake = Arc::new(FakeCfn::new());
    // The first change set created stays pending for five polls; the others are ready at once.
    pages(&fake, 5, vec![]);
    let specs: Vec<StackSpec> = ["a", "b", "c"]
        .iter()
        .map(|name| {
            let mut s = spec(&[("Name", name), ("Token", "t")]);
            s.name = name.to_string();
            s
        })
        .collect();
    let options = PlanOptions {
        concurrency: 1,
        poll: fast(),
        drift: false,
        left: crate::plan::LeftOptions::Skip,
    };
    let masker = Masker::for_specs(&specs);
    let plan = plan_fleet(
        Arc::clone(&fake),
        specs,
        &RunContext::new(),
        &options,
        &masker,
        &crate::signals::manual().1,
    )
    .await
    .into_inner();
    assert!(plan.stacks.iter().all(|s| s.status == PlanStatus::Create));
    let calls = fake.calls();
    let last_create = calls
        .iter()
        .rposition(|c| c.starts_with("CreateChangeSet"))
        .unwrap();
    let polls_before = calls[..last_create]
        .iter()
        .filter(|c| c.starts_with("DescribeChangeSet"))
        .count();
    assert!(
        polls_before < 5,
        "with one request permit, the other stacks' change sets were created while the first was computed: {calls:?}"
    );
}

#[tokio::test]
async fn with_drift_a_changed_resource_that_drifted_says_how_and_secrets_stay_masked() {
    let setup = || {
        let fake = fake(Some(StackStatus::UpdateComplete));
        pages(
            &fake,
            0,
            vec![(
                (true, None),
                page(
                    ChangeSetStatus::CreateComplete,
                    None,
                    vec![
                        modify("A", detail("X", Some("1"), Some("2"))),
                        modify("B", detail("Y", Some("1"), Some("2"))),
                    ],
                    None,
                ),
            )],
        );
        fake.set_drift(
            "api",
            crate::model::ResourceDrift {
                logical_id: "A".into(),
                status: "MODIFIED".into(),
                differences: vec![crate::model::DriftDifference {
                    path: "/Token".into(),
                    expected: "old".into(),
                    actual: "secret-token".into(),
                    kind: "NOT_EQUAL".into(),
                }],
            },
        );
        fake.set_drift(
            "api",
            crate::model::ResourceDrift {
                logical_id: "C".into(),
                status: "MODIFIED".into(),
                differences: vec![crate::model::DriftDifference {
                    path: "/Password".into(),
                    expected: "x".into(),
                    actual: "secret-token".into(),
                    kind: "NOT_EQUAL".into(),
                }],
            },
        );
        fake
    };
    let (plan, fake) =
        plan_with_drift(setup(), &[("Name", "api"), ("Token", "secret-token")], true).await;
    let s = &plan.stacks[0];
    assert_eq!(
        s.changes[0].drift.as_deref(),
        Some("/Token: old in the template, **** live"),
        "drifted, and the live value masked like every other"
    );
    assert_eq!(s.changes[1].drift, None, "B did not drift");
    assert_eq!(
        s.warnings,
        ["drifted, and this plan leaves it so: C /Password: x in the template, **** live"],
        "a drifted resource the plan does not change is said too, its secrets masked"
    );
    assert_eq!(fake.count("DetectStackDrift"), 1);

    let (plan, fake) = plan_one(setup(), &[("Name", "api"), ("Token", "secret-token")]).await;
    assert_eq!(plan.stacks[0].changes[0].drift, None);
    assert_eq!(fake.count("DetectStackDrift"), 0, "only with --drift");
}

/// `api`, reading `${stack:REF}` in its `Name` parameter.
async fn plan_reading(fake: FakeCfn, reference: &str) -> StackPlan {
    let fake = Arc::new(fake);
    let mut s = spec(&[("Name", &format!("${{stack:{reference}}}")), ("Token", "t")]);
    s.references = crate::refs::find(&s.parameters["Name"])
        .unwrap()
        .into_iter()
        .map(|r| ("parameters.Name".to_string(), r))
        .collect();
    let masker = Masker::for_specs(std::slice::from_ref(&s));
    let plan = plan_fleet(
        Arc::clone(&fake),
        vec![s],
        &RunContext::new(),
        &PlanOptions {
            concurrency: 1,
            poll: fast(),
            drift: false,
            left: crate::plan::LeftOptions::Skip,
        },
        &masker,
        &crate::signals::manual().1,
    )
    .await;
    plan.into_inner().stacks.remove(0)
}

#[tokio::test]
async fn a_reference_takes_the_deployed_output_or_says_what_is_missing() {
    let with_network = || {
        let fake = fake(Some(StackStatus::UpdateComplete))
            .with_stack("network", StackStatus::UpdateComplete);
        fake.set_outputs("network", &[("VpcId", "vpc-123"), ("Zone", "z")]);
        fake
    };
    let s = plan_reading(with_network(), "eu-west-1/network.VpcId").await;
    assert_eq!(s.status, PlanStatus::Update, "{:?}", s.error);
    assert!(
        s.parameters
            .iter()
            .any(|p| p.key == "Name" && p.new.as_deref() == Some("vpc-123")),
        "{:?}",
        s.parameters
    );

    let s = plan_reading(with_network(), "eu-west-1/network.SubnetId").await;
    assert_eq!(s.status, PlanStatus::Error);
    assert_eq!(
        s.error.as_deref(),
        Some("`parameters.Name` reads ${stack:eu-west-1/network.SubnetId}, but network has no output SubnetId (its outputs: VpcId, Zone)")
    );

    let s = plan_reading(
        fake(Some(StackStatus::UpdateComplete)),
        "eu-west-1/nowhere.VpcId",
    )
    .await;
    assert_eq!(s.status, PlanStatus::Error);
    assert!(
        s.error
            .as_deref()
            .unwrap()
            .contains("nowhere does not exist in eu-west-1; deploy it first"),
        "{:?}",
        s.error
    );
}
