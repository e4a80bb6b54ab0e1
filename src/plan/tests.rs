//! The plan's logic over a scripted CloudFormation: what the emulator cannot show (pagination,
//! the incomplete-values warning, busy and unusable stacks) and the cleanup it must do.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::cfn::CreatedChangeSet;
use crate::model::{
    Action, ChangeSetPage, PropertyChange, Replacement, RequiresRecreation, StackStatus,
};
use crate::template::Template;

#[derive(Default)]
struct Fake {
    stack: Option<Stack>,
    deployed_template: String,
    create_error: Option<CfnError>,
    /// Pages by (include_property_values, next_token); a pending page is served `pending` times first.
    pages: HashMap<(bool, Option<String>), ChangeSetPage>,
    pending: Mutex<usize>,
    calls: Mutex<Vec<String>>,
}

impl Fake {
    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl CloudFormation for Fake {
    async fn describe_stack(&self, _: &str, stack: &str) -> Result<Option<Stack>, CfnError> {
        self.log(format!("DescribeStacks {stack}"));
        Ok(self.stack.clone())
    }
    async fn get_template(&self, _: &str, _: &str) -> Result<String, CfnError> {
        self.log("GetTemplate".into());
        Ok(self.deployed_template.clone())
    }
    async fn create_change_set(
        &self,
        _: &str,
        r: &ChangeSetRequest,
    ) -> Result<CreatedChangeSet, CfnError> {
        self.log(format!(
            "CreateChangeSet {:?} {}",
            r.change_set_type, r.change_set_name
        ));
        if let crate::cfn::TemplateSource::Url(url) = &r.template {
            self.log(format!("TemplateURL {url}"));
        }
        match &self.create_error {
            Some(e) => Err(e.clone()),
            None => Ok(CreatedChangeSet {
                arn: "arn:cs".into(),
                stack_id: Some("arn:stack".into()),
            }),
        }
    }
    async fn describe_change_set(
        &self,
        _: &str,
        arn: &str,
        include: bool,
        token: Option<&str>,
    ) -> Result<ChangeSetPage, CfnError> {
        self.log(format!(
            "DescribeChangeSet {arn} values={include} token={token:?}"
        ));
        {
            let mut pending = self.pending.lock().unwrap();
            if *pending > 0 {
                *pending -= 1;
                return Ok(page(ChangeSetStatus::CreatePending, None, vec![], None));
            }
        }
        Ok(self
            .pages
            .get(&(include, token.map(str::to_string)))
            .cloned()
            .unwrap_or_else(|| panic!("unscripted page values={include} token={token:?}")))
    }
    async fn delete_change_set(&self, _: &str, arn: &str) -> Result<(), CfnError> {
        self.log(format!("DeleteChangeSet {arn}"));
        Ok(())
    }
    async fn execute_change_set(&self, _: &str, _: &str, _: bool) -> Result<(), CfnError> {
        panic!("plan never executes a change set")
    }
    async fn describe_stack_events(
        &self,
        _: &str,
        _: &str,
        _: Option<&str>,
    ) -> Result<crate::model::StackEventPage, CfnError> {
        panic!("plan never reads stack events")
    }
    async fn update_termination_protection(
        &self,
        _: &str,
        _: &str,
        _: bool,
    ) -> Result<(), CfnError> {
        panic!("plan never changes termination protection")
    }
    async fn cancel_update_stack(&self, _: &str, _: &str) -> Result<(), CfnError> {
        panic!("plan never cancels")
    }
    async fn continue_update_rollback(
        &self,
        _: &str,
        _: &str,
        _: &[String],
    ) -> Result<(), CfnError> {
        panic!("plan never rolls back")
    }
    async fn rollback_stack(&self, _: &str, _: &str) -> Result<(), CfnError> {
        panic!("plan never rolls back")
    }
    async fn delete_stack(&self, _: &str, _: &str) -> Result<(), CfnError> {
        panic!("plan never deletes a stack")
    }
    async fn upload_template(
        &self,
        region: &str,
        bucket: &str,
        key: &str,
        body: &str,
    ) -> Result<String, CfnError> {
        self.log(format!("PutObject {bucket} {key} {}", body.len()));
        Ok(format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"))
    }
}

fn page(
    status: ChangeSetStatus,
    reason: Option<&str>,
    changes: Vec<ResourceChange>,
    next: Option<&str>,
) -> ChangeSetPage {
    ChangeSetPage {
        stack_id: None,
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
    }
}

fn stack(status: &str) -> Stack {
    Stack {
        stack_id: "arn:stack".into(),
        name: "api".into(),
        status: StackStatus(status.into()),
        status_reason: None,
        last_updated: Some("2026-11-01T00:00:00Z".into()),
        creation_time: None,
        parameters: vec![
            ("Name".into(), "api".into()),
            ("Token".into(), "****".into()),
        ],
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
    }
}

fn fast() -> PollOptions {
    PollOptions {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(4),
        timeout: Duration::from_secs(5),
    }
}

async fn plan_one(fake: Fake, params: &[(&str, &str)]) -> (Plan, Arc<Fake>) {
    let fake = Arc::new(fake);
    let options = PlanOptions {
        concurrency: 2,
        poll: fast(),
    };
    let plan = plan_fleet(
        Arc::clone(&fake),
        vec![spec(params)],
        &RunContext::new(),
        &options,
    )
    .await;
    (plan, fake)
}

#[tokio::test]
async fn every_page_of_changes_is_read_after_polling_past_pending() {
    let mut fake = Fake {
        stack: Some(stack("UPDATE_COMPLETE")),
        deployed_template: TEMPLATE.into(),
        ..Fake::default()
    };
    *fake.pending.get_mut().unwrap() = 3;
    fake.pages.insert(
        (true, None),
        page(
            ChangeSetStatus::CreateComplete,
            None,
            vec![modify("A", detail("X", Some("1"), Some("2")))],
            Some("t1"),
        ),
    );
    fake.pages.insert(
        (true, Some("t1".into())),
        page(
            ChangeSetStatus::CreateComplete,
            None,
            vec![modify("B", detail("Y", None, None))],
            Some("t2"),
        ),
    );
    fake.pages.insert(
        (true, Some("t2".into())),
        page(
            ChangeSetStatus::CreateComplete,
            None,
            vec![modify("C", detail("Z", None, None))],
            None,
        ),
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
    assert_eq!(s.change_set_arn.as_deref(), Some("arn:cs"));
    assert!(
        !fake
            .calls()
            .iter()
            .any(|c| c.starts_with("DeleteChangeSet")),
        "a change set to review is kept"
    );
}

#[tokio::test]
async fn incomplete_property_values_are_described_again_without_values_and_merged() {
    let warning = "[WARN] --include-property-values option can return incomplete ChangeSet data because: ChangeSet creation failed for resource [B]";
    let mut fake = Fake {
        stack: Some(stack("UPDATE_COMPLETE")),
        deployed_template: TEMPLATE.into(),
        ..Fake::default()
    };
    // With values: only A, with its values. Without values: A and B, no values.
    fake.pages.insert(
        (true, None),
        page(
            ChangeSetStatus::CreateComplete,
            Some(warning),
            vec![modify("A", detail("X", Some("1"), Some("2")))],
            None,
        ),
    );
    fake.pages.insert(
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
    let mut fake = Fake {
        stack: Some(stack("UPDATE_COMPLETE")),
        ..Fake::default()
    };
    fake.pages.insert((true, None), page(ChangeSetStatus::Failed, Some("The submitted information didn't contain changes. Submit different information to create a change set."), vec![], None));
    let (plan, fake) = plan_one(fake, &[("Name", "api"), ("Token", "t")]).await;
    assert_eq!(plan.stacks[0].status, PlanStatus::NoChanges);
    assert_eq!(plan.stacks[0].change_set_arn, None);
    assert!(fake.calls().contains(&"DeleteChangeSet arn:cs".to_string()));
    assert!(!plan.has_errors());
}

#[tokio::test]
async fn a_failed_change_set_reports_its_reason_and_is_deleted() {
    let mut fake = Fake {
        stack: None,
        ..Fake::default()
    };
    fake.pages.insert(
        (true, None),
        page(
            ChangeSetStatus::Failed,
            Some("Template error: unresolved resource dependencies [Nope]"),
            vec![],
            None,
        ),
    );
    let (plan, fake) = plan_one(fake, &[("Name", "api"), ("Token", "t")]).await;
    let s = &plan.stacks[0];
    assert_eq!(s.status, PlanStatus::Error);
    assert!(s
        .error
        .as_deref()
        .unwrap()
        .contains("unresolved resource dependencies [Nope]"));
    assert!(fake.calls().contains(&"DeleteChangeSet arn:cs".to_string()));
}

#[tokio::test]
async fn a_busy_stack_is_reported_without_a_change_set() {
    let fake = Fake {
        stack: Some(stack("UPDATE_IN_PROGRESS")),
        ..Fake::default()
    };
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
    let fake = Fake {
        stack: Some(stack("ROLLBACK_COMPLETE")),
        ..Fake::default()
    };
    let (plan, fake) = plan_one(fake, &[("Name", "api"), ("Token", "t")]).await;
    let error = plan.stacks[0].error.as_deref().unwrap();
    assert!(
        error.contains("ROLLBACK_COMPLETE") && error.contains("delete-stack --stack-name api"),
        "{error}"
    );
    assert_eq!(fake.calls(), ["DescribeStacks api"]);
}

#[tokio::test]
async fn a_stack_in_review_is_planned_as_a_create() {
    let mut fake = Fake {
        stack: Some(stack("REVIEW_IN_PROGRESS")),
        ..Fake::default()
    };
    fake.pages.insert(
        (true, None),
        page(ChangeSetStatus::CreateComplete, None, vec![], None),
    );
    let (plan, fake) = plan_one(fake, &[("Name", "api"), ("Token", "t")]).await;
    assert_eq!(plan.stacks[0].status, PlanStatus::Create);
    assert!(fake
        .calls()
        .iter()
        .any(|c| c.starts_with("CreateChangeSet Create")));
    assert!(!fake.calls().contains(&"GetTemplate".to_string()));
}

#[tokio::test]
async fn missing_capabilities_get_a_hint() {
    let fake = Fake {
        stack: None,
        create_error: Some(CfnError::Api {
            operation: "CreateChangeSet".into(),
            code: "InsufficientCapabilitiesException".into(),
            message: "Requires capabilities : [CAPABILITY_NAMED_IAM]".into(),
        }),
        ..Fake::default()
    };
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
    let mut fake = Fake {
        stack: Some(stack("UPDATE_COMPLETE")),
        deployed_template: format!("# {secret}\n{TEMPLATE}"),
        ..Fake::default()
    };
    fake.pages.insert(
        (true, None),
        page(
            ChangeSetStatus::CreateComplete,
            None,
            vec![modify("A", detail("Value", Some("old"), Some(secret)))],
            None,
        ),
    );
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
    let mut fake = Fake {
        stack: Some(stack("UPDATE_COMPLETE")),
        deployed_template: TEMPLATE.into(),
        ..Fake::default()
    };
    fake.pages.insert(
        (true, None),
        page(ChangeSetStatus::CreateComplete, None, vec![], None),
    );
    let (a, _) = plan_one(fake, &[("Name", "api"), ("Token", "one")]).await;
    let f = &a.stacks[0].fingerprint;
    assert_eq!(f.stack_status.as_deref(), Some("UPDATE_COMPLETE"));
    assert_eq!(f.last_updated.as_deref(), Some("2026-11-01T00:00:00Z"));
    assert_eq!(
        f.deployed_template_sha256.as_ref().map(String::len),
        Some(64)
    );
    let mut fake = Fake {
        stack: Some(stack("UPDATE_COMPLETE")),
        deployed_template: TEMPLATE.into(),
        ..Fake::default()
    };
    fake.pages.insert(
        (true, None),
        page(ChangeSetStatus::CreateComplete, None, vec![], None),
    );
    let (b, _) = plan_one(fake, &[("Name", "api"), ("Token", "two")]).await;
    assert_eq!(
        f.parameters_sha256, b.stacks[0].fingerprint.parameters_sha256,
        "a NoEcho value does not feed the hash"
    );
}

#[test]
fn polling_backs_off_to_its_cap() {
    let p = PollOptions {
        initial: Duration::from_millis(250),
        max: Duration::from_secs(3),
        timeout: Duration::from_secs(60),
    };
    let mut d = p.initial;
    let mut seen = vec![d];
    for _ in 0..10 {
        d = p.next(d);
        seen.push(d);
    }
    assert!(seen[1] > seen[0] && seen[2] > seen[1]);
    assert_eq!(*seen.last().unwrap(), Duration::from_secs(3));
}

#[tokio::test]
async fn a_template_over_the_inline_limit_is_uploaded_once_by_content_and_passed_by_url() {
    let mut fake = Fake {
        stack: None,
        ..Fake::default()
    };
    fake.pages.insert(
        (true, None),
        page(ChangeSetStatus::CreateComplete, None, vec![], None),
    );
    let fake = Arc::new(fake);
    let mut big = spec(&[("Name", "api"), ("Token", "t")]);
    let body = format!("Description: \"{}\"\n{TEMPLATE}", "x".repeat(60_000));
    big.template = Arc::new(Template::parse(body.clone()).unwrap());
    big.template_bucket = Some("deploy-artifacts".into());
    let options = PlanOptions {
        concurrency: 1,
        poll: fast(),
    };
    let plan = plan_fleet(Arc::clone(&fake), vec![big], &RunContext::new(), &options).await;
    assert_eq!(
        plan.stacks[0].status,
        PlanStatus::Create,
        "{:?}",
        plan.stacks[0].error
    );
    let sha = &plan.stacks[0].fingerprint.template_sha256;
    let calls = fake.calls();
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
    let fake = Fake {
        stack: None,
        create_error: Some(CfnError::Api {
            operation: "CreateChangeSet".into(),
            code: "ValidationError".into(),
            message: format!("Parameter 'Token' value '{secret}' does not match pattern"),
        }),
        ..Fake::default()
    };
    let (plan, _) = plan_one(fake, &[("Name", "api"), ("Token", secret)]).await;
    let error = plan.stacks[0].error.as_deref().unwrap();
    assert!(
        error.contains("value '****' does not match") && !error.contains(secret),
        "{error}"
    );
}
