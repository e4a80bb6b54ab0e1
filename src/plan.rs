//! `cfdeploy plan`: one change set per stack, concurrently, each described in full and diffed
//! against the deployed stack. A stack's failure is a result in the plan, never an abort.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::cfn::{CfnError, ChangeSetRequest, ChangeSetType, CloudFormation, TemplateSource};
use crate::config::StackSpec;
use crate::diff;
use crate::mask::Masker;
use crate::model::{
    ChangeSetStatus, Fingerprint, Plan, PlanStatus, ResourceChange, Stack, StackPlan,
};
use crate::run::RunContext;

/// How to wait for a change set: poll fast first, then back off.
#[derive(Debug, Clone)]
pub struct PollOptions {
    pub initial: Duration,
    pub max: Duration,
    pub timeout: Duration,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(3),
            timeout: Duration::from_secs(15 * 60),
        }
    }
}

impl PollOptions {
    fn next(&self, current: Duration) -> Duration {
        (current * 3 / 2).min(self.max)
    }
}

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub concurrency: usize,
    pub poll: PollOptions,
}

/// Plans every stack, at most `concurrency` at a time, and returns the plan in config order with
/// every secret masked.
pub async fn plan_fleet<C: CloudFormation>(
    cfn: Arc<C>,
    specs: Vec<StackSpec>,
    run: &RunContext,
    options: &PlanOptions,
) -> Plan {
    let masker = Masker::for_specs(&specs);
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let count = specs.len();
    for (index, spec) in specs.into_iter().enumerate() {
        let cfn = Arc::clone(&cfn);
        let semaphore = Arc::clone(&semaphore);
        let run = run.clone();
        let poll = options.poll.clone();
        let masker = masker.clone();
        // Created here, inside the caller's `run` span, so every line logged for this stack
        // carries the run's correlation id too.
        let span = tracing::info_span!("stack", stack = %spec.name, region = %spec.region);
        tasks.spawn(async move {
            // The semaphore is never closed, so acquiring cannot fail.
            let _permit = semaphore.acquire_owned().await.ok();
            let plan = plan_stack(cfn.as_ref(), &spec, &run, &poll, &masker)
                .instrument(span)
                .await;
            (index, plan)
        });
    }
    let mut slots: Vec<Option<StackPlan>> = vec![None; count];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, plan)) => slots[index] = Some(plan),
            Err(e) => tracing::error!(error = %e, "a plan task ended abnormally"),
        }
    }
    let mut plan = Plan {
        correlation_id: run.correlation_id.clone(),
        created_at: run.started_rfc3339(),
        stacks: slots.into_iter().flatten().collect(),
    };
    masker.scrub_plan(&mut plan);
    plan
}

/// Plans one stack. Every outcome, including AWS errors, is a `StackPlan`. `masker` hides secrets
/// in what is logged here (the returned plan is masked by the caller).
async fn plan_stack<C: CloudFormation>(
    cfn: &C,
    spec: &StackSpec,
    run: &RunContext,
    poll: &PollOptions,
    masker: &Masker,
) -> StackPlan {
    let mut plan = StackPlan {
        stack: spec.name.clone(),
        region: spec.region.clone(),
        source: spec.source.display().to_string(),
        status: PlanStatus::Error,
        stack_id: None,
        change_set_arn: None,
        change_set_name: None,
        error: None,
        changes: Vec::new(),
        parameters: Vec::new(),
        template_diff: None,
        fingerprint: Fingerprint {
            template_sha256: sha256_hex(spec.template.body.as_bytes()),
            parameters_sha256: parameters_sha256(spec),
            ..Fingerprint::default()
        },
        termination_protection: spec.termination_protection,
        allow_destructive: spec.allow_destructive,
    };
    if let Err(e) = plan_into(cfn, spec, run, poll, &mut plan).await {
        // CloudFormation's validation messages can quote the values they were sent.
        let error = masker.scrub(&e.to_string());
        tracing::warn!(stack = %spec.name, error = %error, "plan failed");
        plan.status = PlanStatus::Error;
        plan.error = Some(error);
    }
    plan
}

/// Why a stack could not be planned; becomes the stack's `error`.
#[derive(Debug, thiserror::Error)]
enum StackProblem {
    #[error("{0}")]
    Cfn(#[from] CfnError),
    #[error("{0}")]
    State(String),
}

async fn plan_into<C: CloudFormation>(
    cfn: &C,
    spec: &StackSpec,
    run: &RunContext,
    poll: &PollOptions,
    plan: &mut StackPlan,
) -> Result<(), StackProblem> {
    let region = spec.region.as_str();
    let existing = cfn.describe_stack(region, &spec.name).await?;
    let change_set_type = match &existing {
        None => ChangeSetType::Create,
        Some(stack) => {
            plan.stack_id = Some(stack.stack_id.clone());
            plan.fingerprint.stack_status = Some(stack.status.to_string());
            plan.fingerprint.last_updated = stack.last_updated.clone();
            if stack.status.is_in_progress() {
                plan.status = PlanStatus::Busy;
                plan.error = Some(format!(
                    "stack is busy: {} (an operation is in progress); plan again when it has finished",
                    stack.status
                ));
                return Ok(());
            }
            if let Some(problem) = unusable_state(&spec.name, stack) {
                return Err(StackProblem::State(problem));
            }
            if stack.status.is_review_in_progress() {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            }
        }
    };

    let template = template_source(cfn, spec, &plan.fingerprint.template_sha256).await?;
    let name = run.change_set_name();
    let request = ChangeSetRequest {
        stack_name: spec.name.clone(),
        change_set_name: name.clone(),
        change_set_type,
        description: format!(
            "cfdeploy plan of {} from {}; correlation id {}",
            spec.name,
            spec.source.display(),
            run.correlation_id
        ),
        template,
        parameters: spec
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        tags: spec
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        capabilities: spec.capabilities.clone(),
        role_arn: spec.role_arn.clone(),
        notification_arns: spec.notification_arns.clone(),
    };
    let created = cfn
        .create_change_set(region, &request)
        .await
        .map_err(|e| StackProblem::State(explain_create_error(&e)))?;
    tracing::info!(stack = %spec.name, change_set = %created.arn, "change set created");
    if plan.stack_id.is_none() {
        plan.stack_id = created.stack_id.clone();
    }

    let outcome = wait_and_read(cfn, region, &created.arn, poll).await;
    let changes = match outcome {
        Ok(ChangeSetOutcome::Ready(changes)) => changes,
        Ok(ChangeSetOutcome::NoChanges) => {
            delete_quietly(cfn, region, &created.arn).await;
            plan.status = PlanStatus::NoChanges;
            return Ok(());
        }
        Ok(ChangeSetOutcome::Failed(reason)) => {
            delete_quietly(cfn, region, &created.arn).await;
            return Err(StackProblem::State(format!(
                "the change set failed: {reason}"
            )));
        }
        Err(e) => {
            delete_quietly(cfn, region, &created.arn).await;
            return Err(e);
        }
    };

    plan.change_set_arn = Some(created.arn);
    plan.change_set_name = Some(name);
    plan.changes = changes;
    let no_echo: BTreeSet<String> = spec
        .template
        .parameters
        .iter()
        .filter(|p| p.no_echo)
        .map(|p| p.name.clone())
        .collect();
    let new_parameters = spec.effective_parameters();

    match (change_set_type, &existing) {
        (ChangeSetType::Update, Some(stack)) => {
            plan.status = PlanStatus::Update;
            let deployed = cfn.get_template(region, &spec.name).await?;
            plan.fingerprint.deployed_template_sha256 = Some(sha256_hex(deployed.as_bytes()));
            plan.fingerprint.deployed_parameters_sha256 = Some(sha256_hex(
                parameter_lines(stack.parameters.iter().cloned()).as_bytes(),
            ));
            plan.template_diff = diff::template_diff(
                &deployed,
                &spec.template.body,
                &spec.template_path.display().to_string(),
            );
            plan.parameters = diff::parameter_diff(&stack.parameters, &new_parameters, &no_echo);
            let deployed_template = crate::template::Template::parse(deployed).ok();
            crate::guard::mark(
                &mut plan.changes,
                &spec.stateful_types,
                &spec.template,
                deployed_template.as_ref(),
            );
        }
        _ => {
            plan.status = PlanStatus::Create;
            plan.parameters = diff::parameter_diff(&[], &new_parameters, &no_echo);
        }
    }
    Ok(())
}

/// The template inline, or, over CloudFormation's inline limit, uploaded to the stack's
/// `template_bucket` under a content-addressed key (the same template is stored once) and passed
/// by URL.
async fn template_source<C: CloudFormation>(
    cfn: &C,
    spec: &StackSpec,
    sha256: &str,
) -> Result<TemplateSource, StackProblem> {
    let body = &spec.template.body;
    if body.len() <= crate::template::MAX_TEMPLATE_BODY_BYTES {
        return Ok(TemplateSource::Body(body.clone()));
    }
    let bucket = spec.template_bucket.as_deref().ok_or_else(|| {
        StackProblem::State(
            "the template is too large to send inline; set `template_bucket`".into(),
        )
    })?;
    let extension = spec
        .template_path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("template");
    let key = format!("cfdeploy/templates/{sha256}.{extension}");
    let url = cfn
        .upload_template(&spec.region, bucket, &key, body)
        .await
        .map_err(|e| {
            StackProblem::State(format!(
                "uploading the template to s3://{bucket}/{key}: {e}"
            ))
        })?;
    tracing::info!(stack = %spec.name, url = %url, "template uploaded");
    Ok(TemplateSource::Url(url))
}

/// States CloudFormation will not update, with what to do about each.
fn unusable_state(name: &str, stack: &Stack) -> Option<String> {
    let status = stack.status.as_str();
    let advice = match status {
        "ROLLBACK_COMPLETE" => format!(
            "its creation failed and was rolled back, and CloudFormation cannot update it. Delete it (`aws cloudformation delete-stack --stack-name {name}`) and plan again to create it anew"
        ),
        "ROLLBACK_FAILED" | "DELETE_FAILED" => format!(
            "CloudFormation cannot update it. Delete it (`aws cloudformation delete-stack --stack-name {name}`, retaining the resources that cannot be deleted) and plan again"
        ),
        "UPDATE_ROLLBACK_FAILED" => format!(
            "its last update could not be rolled back. Continue the rollback (`aws cloudformation continue-update-rollback --stack-name {name}`, skipping the resources that cannot be rolled back) and plan again"
        ),
        "CREATE_FAILED" | "UPDATE_FAILED" | "IMPORT_ROLLBACK_FAILED" => format!(
            "its last operation failed with rollback disabled. Roll it back (`aws cloudformation rollback-stack --stack-name {name}`) and plan again"
        ),
        _ => return None,
    };
    let reason = stack
        .status_reason
        .as_deref()
        .map(|r| format!(" (CloudFormation: {r})"))
        .unwrap_or_default();
    Some(format!("stack is {status}{reason}: {advice}"))
}

fn explain_create_error(e: &CfnError) -> String {
    let hint = match e.code() {
        Some("InsufficientCapabilitiesException") => {
            " — add the capability it names to `capabilities` in the stack config"
        }
        Some("AlreadyExistsException") => {
            " — a change set with this name exists already; run plan again"
        }
        Some("LimitExceededException") => {
            " — delete unused change sets or stacks, or ask AWS for a higher limit"
        }
        _ => "",
    };
    format!("{e}{hint}")
}

enum ChangeSetOutcome {
    Ready(Vec<ResourceChange>),
    NoChanges,
    Failed(String),
}

/// What CloudFormation says when a change set would change nothing. It reports this as FAILED.
fn is_no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes")
        || reason.contains("No updates are to be performed")
        || reason.contains("does not contain any changes")
}

/// CloudFormation's warning that `IncludePropertyValues` could not compute every value.
fn is_incomplete_values_warning(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("propert") && (r.contains("incomplete") || r.contains("[warn]"))
}

async fn wait_and_read<C: CloudFormation>(
    cfn: &C,
    region: &str,
    arn: &str,
    poll: &PollOptions,
) -> Result<ChangeSetOutcome, StackProblem> {
    let started = tokio::time::Instant::now();
    let mut delay = poll.initial;
    let first = loop {
        let page = cfn.describe_change_set(region, arn, true, None).await?;
        if !page.status.is_pending() {
            break page;
        }
        if started.elapsed() >= poll.timeout {
            return Err(StackProblem::State(format!(
                "the change set was still {:?} after {}s; it was deleted, try again",
                page.status,
                poll.timeout.as_secs()
            )));
        }
        tokio::time::sleep(delay).await;
        delay = poll.next(delay);
    };
    match first.status {
        ChangeSetStatus::CreateComplete => {}
        ChangeSetStatus::Failed => {
            let reason = first.status_reason.unwrap_or_default();
            return Ok(if is_no_changes(&reason) {
                ChangeSetOutcome::NoChanges
            } else {
                ChangeSetOutcome::Failed(if reason.is_empty() {
                    "(CloudFormation gave no reason)".to_string()
                } else {
                    reason
                })
            });
        }
        other => {
            return Ok(ChangeSetOutcome::Failed(format!(
                "unexpected change set status {other:?}"
            )))
        }
    }
    let incomplete = first
        .status_reason
        .as_deref()
        .is_some_and(is_incomplete_values_warning);
    let with_values = read_rest(cfn, region, arn, true, first.changes, first.next_token).await?;
    if !incomplete {
        return Ok(ChangeSetOutcome::Ready(with_values));
    }
    tracing::info!(
        change_set = arn,
        "property values incomplete; describing again without them"
    );
    let without_values = read_rest(cfn, region, arn, false, Vec::new(), None).await?;
    Ok(ChangeSetOutcome::Ready(merge_property_values(
        without_values,
        &with_values,
    )))
}

/// Reads the remaining pages of `Changes` after `first`.
async fn read_rest<C: CloudFormation>(
    cfn: &C,
    region: &str,
    arn: &str,
    include_property_values: bool,
    mut changes: Vec<ResourceChange>,
    mut next_token: Option<String>,
) -> Result<Vec<ResourceChange>, StackProblem> {
    if changes.is_empty() && next_token.is_none() && !include_property_values {
        let page = cfn.describe_change_set(region, arn, false, None).await?;
        changes = page.changes;
        next_token = page.next_token;
    }
    while let Some(token) = next_token {
        let page = cfn
            .describe_change_set(region, arn, include_property_values, Some(&token))
            .await?;
        changes.extend(page.changes);
        next_token = page.next_token;
    }
    Ok(changes)
}

/// The change list without property values is complete; lay the values known from the other
/// description over it, detail by detail, where the same resource and property appear in both.
fn merge_property_values(
    mut complete: Vec<ResourceChange>,
    with_values: &[ResourceChange],
) -> Vec<ResourceChange> {
    let by_id: BTreeMap<&str, &ResourceChange> = with_values
        .iter()
        .map(|c| (c.logical_id.as_str(), c))
        .collect();
    for change in &mut complete {
        let Some(valued) = by_id.get(change.logical_id.as_str()) else {
            continue;
        };
        if change.physical_id.is_none() {
            change.physical_id = valued.physical_id.clone();
        }
        for detail in &mut change.details {
            if let Some(v) = valued
                .details
                .iter()
                .find(|v| v.attribute == detail.attribute && v.name == detail.name)
            {
                detail.before = detail.before.take().or_else(|| v.before.clone());
                detail.after = detail.after.take().or_else(|| v.after.clone());
                detail.path = detail.path.take().or_else(|| v.path.clone());
            }
        }
        if change.details.is_empty() {
            change.details = valued.details.clone();
        }
    }
    complete
}

async fn delete_quietly<C: CloudFormation>(cfn: &C, region: &str, arn: &str) {
    if let Err(e) = cfn.delete_change_set(region, arn).await {
        tracing::warn!(change_set = arn, error = %e, "could not delete change set");
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parameters as sorted `key=value` lines: what the parameter hashes are computed over.
pub(crate) fn parameter_lines(params: impl Iterator<Item = (String, String)>) -> String {
    let sorted: BTreeMap<String, String> = params.collect();
    sorted
        .into_iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect()
}

/// Hash of the parameters a change set is created with. NoEcho values are left out, so the hash
/// cannot be used to guess them.
fn parameters_sha256(spec: &StackSpec) -> String {
    let lines = parameter_lines(spec.parameters.iter().map(|(k, v)| {
        let v = if spec.is_no_echo(k) {
            crate::mask::MASK.to_string()
        } else {
            v.clone()
        };
        (k.clone(), v)
    }));
    sha256_hex(lines.as_bytes())
}

#[cfg(test)]
mod tests;
