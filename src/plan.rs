//! `cfdeploy plan`: one change set per stack, concurrently, each described in full and diffed
//! against the deployed stack. A stack's failure is a result in the plan, never an abort.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::cfn::change_set::{delete_quietly, wait_and_read, ChangeSetOutcome};
use crate::cfn::pacer::Pacer;
use crate::cfn::{ChangeSetRequest, ChangeSetType, CloudFormation};
use crate::config::StackSpec;
use crate::diff;
use crate::fingerprint::{deployed_parameters_sha256, parameters_sha256, sha256_hex};
use crate::mask::{Masked, Masker};
use crate::model::{Family, Fingerprint, Plan, PlanStatus, StackPlan};
use crate::poll::PollOptions;
use crate::run::{request_token, RunContext, Step};
use crate::signals::Interrupt;
pub(crate) use explain::StackProblem;
use explain::{explain_create_error, recoverable_create_error, unusable};
pub use left::LeftOptions;

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub concurrency: usize,
    pub poll: PollOptions,
    /// `--drift`: detect drift on each deployed stack; mark drifted changes, warn of the rest.
    pub drift: bool,
    /// Whether to list the fleets' stacks that left the config, and plan their deletion.
    pub left: LeftOptions,
}

/// Plans every stack, with at most `concurrency` requests in flight (a stack whose change set
/// CloudFormation is computing holds none), and returns the plan in config order with every
/// secret masked.
pub async fn plan_fleet<C: CloudFormation>(
    cfn: Arc<C>,
    specs: Vec<StackSpec>,
    run: &RunContext,
    options: &PlanOptions,
    masker: &Masker,
    interrupt: &Interrupt,
) -> Masked<Plan> {
    let fleet = Arc::new(Fleet {
        poll: options.poll.clone(),
        requests: Semaphore::new(options.concurrency.max(1)),
        pacer: Pacer::default(),
        drift: options.drift,
    });
    let count = specs.len();
    // Stacks that read other stacks' outputs are planned after them: level by level.
    let order: Vec<(String, Vec<String>)> = specs
        .iter()
        .map(|s| (s.name.clone(), s.depends_on.clone()))
        .collect();
    let levels = crate::graph::levels(&order);
    let outputs = upstream::Outputs::default();
    let mut slots: Vec<Option<StackPlan>> = vec![None; count];
    for level in levels {
        let mut tasks = JoinSet::new();
        for index in level {
            let spec = &specs[index];
            let spec = match upstream::resolve(cfn.as_ref(), spec, &slots, &specs, &outputs).await {
                upstream::Resolution::Ready(spec) => *spec,
                upstream::Resolution::NotNow(status, why) => {
                    let mut plan = base_plan(spec);
                    plan.status = status;
                    plan.error = Some(masker.scrub(&why));
                    slots[index] = Some(plan);
                    continue;
                }
            };
            let cfn = Arc::clone(&cfn);
            let fleet = Arc::clone(&fleet);
            let run = run.clone();
            let masker = masker.clone();
            let interrupt = interrupt.clone();
            // Created here, inside the caller's `run` span, so every line logged for this
            // stack carries the run's correlation id too.
            let span = tracing::info_span!("stack", stack = %spec.name, region = %spec.region);
            tasks.spawn(async move {
                let plan = plan_stack(cfn.as_ref(), &spec, &run, &fleet, &masker, &interrupt)
                    .instrument(span)
                    .await;
                (index, plan)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, plan)) => slots[index] = Some(plan),
                Err(e) => tracing::error!(error = %e, "a plan task ended abnormally"),
            }
        }
    }
    let mut stacks: Vec<StackPlan> = slots.into_iter().flatten().collect();
    if *interrupt.borrow() == 0 {
        let (left, notes) = left::left_the_config(cfn.as_ref(), &specs, options.left).await;
        for note in notes {
            tracing::warn!("{}", masker.scrub(&note));
        }
        stacks.extend(left);
    }
    masker.mask(Plan {
        correlation_id: run.correlation_id.clone(),
        created_at: run.started_rfc3339(),
        stacks,
    })
}

/// What the stacks of a plan share: how to wait, the permits for requests in flight, and the
/// pacer of their change set polls.
struct Fleet {
    poll: PollOptions,
    requests: Semaphore,
    pacer: Pacer,
    drift: bool,
}

/// Plans one stack. Every outcome, including AWS errors, is a `StackPlan`. `masker` hides secrets
/// in what is logged here (the returned plan is masked by the caller).
async fn plan_stack<C: CloudFormation>(
    cfn: &C,
    spec: &StackSpec,
    run: &RunContext,
    fleet: &Fleet,
    masker: &Masker,
    interrupt: &Interrupt,
) -> StackPlan {
    let mut plan = base_plan(spec);
    if *interrupt.borrow() > 0 {
        plan.error = Some("not planned: interrupted".to_string());
        return plan;
    }
    let waits = Waits {
        poll: &fleet.poll,
        interrupt,
        requests: &fleet.requests,
        pacer: &fleet.pacer,
        drift: fleet.drift,
    };
    if let Err(e) = plan_into(cfn, spec, run, &waits, &mut plan).await {
        // CloudFormation's validation messages can quote the values they were sent.
        let error = masker.scrub(&e.to_string());
        tracing::info!(stack = %spec.name, error = %error, "plan failed");
        plan.status = PlanStatus::Error;
        plan.error = Some(error);
    }
    plan
}

/// A stack's plan before anything is known of it (an error until planned).
fn base_plan(spec: &StackSpec) -> StackPlan {
    let source = spec.source.display().to_string();
    let mut plan = StackPlan::new(&spec.name, &spec.region, &source, PlanStatus::Error);
    plan.fingerprint = Fingerprint {
        template_sha256: sha256_hex(spec.template.body.as_bytes()),
        parameters_sha256: parameters_sha256(spec),
        ..Fingerprint::default()
    };
    plan.termination_protection = spec.termination_protection;
    plan.allow_destructive = spec.allow_destructive;
    plan.no_echo = spec.template.no_echo_names().collect();
    plan.mask = spec.mask.iter().map(|r| r.as_str().to_string()).collect();
    plan
}

/// How a stack's planning waits: for the change set (`poll`, `interrupt`) and for a request permit
/// (`requests`, held while calling only).
struct Waits<'a> {
    poll: &'a PollOptions,
    interrupt: &'a Interrupt,
    requests: &'a Semaphore,
    /// Paces the fleet's change set polls: one leads, the others look when it is computed.
    pacer: &'a Pacer,
    /// Detect drift on every deployed stack planned (`--drift`).
    drift: bool,
}

async fn plan_into<C: CloudFormation>(
    cfn: &C,
    spec: &StackSpec,
    run: &RunContext,
    waits: &Waits<'_>,
    plan: &mut StackPlan,
) -> Result<(), StackProblem> {
    let region = spec.region.as_str();
    // The semaphore is never closed, so acquiring cannot fail.
    let permit = waits.requests.acquire().await.ok();
    let existing = cfn.describe_stack(region, &spec.name).await?;
    let change_set_type = match &existing {
        None => ChangeSetType::Create,
        Some(stack) => {
            plan.stack_id = Some(stack.stack_id.clone());
            plan.fingerprint.stack_status = Some(stack.status.clone());
            plan.fingerprint.last_updated = stack.last_updated.clone();
            match stack.status.family() {
                Family::InProgress => {
                    plan.status = PlanStatus::Busy;
                    plan.error = Some(format!(
                        "stack is busy: {} (an operation is in progress); plan again when it has finished",
                        stack.status
                    ));
                    return Ok(());
                }
                // Never executed: a CREATE change set replaces the one it was made for.
                Family::Review => ChangeSetType::Create,
                Family::Complete | Family::RolledBack => ChangeSetType::Update,
                Family::Failed | Family::NeedsRepair | Family::Deleted | Family::Unknown => {
                    return Err(StackProblem::State(unusable(&spec.name, stack)));
                }
            }
        }
    };

    let sent = source::prepare(cfn, spec, change_set_type).await?;
    plan.fingerprint.template_sha256 = sha256_hex(sent.body.as_bytes());
    plan.artifacts = sent.artifacts;
    let template = sent.template;
    let name = run.change_set_name();
    let request = ChangeSetRequest {
        stack_name: spec.name.clone(),
        change_set_name: name.clone(),
        change_set_type,
        description: format!(
            "cfdeploy plan of {} from {}{}; correlation id {}",
            spec.name,
            spec.source.display(),
            run.origin
                .description
                .as_deref()
                .map(|d| format!(" for {d}"))
                .unwrap_or_default(),
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
        client_token: request_token(&run.correlation_id, Step::CreateChangeSet, &spec.name),
    };
    let created = match cfn.create_change_set(region, &request).await {
        Ok(created) => created,
        // The change set may exist though the answer says otherwise: a retry of a call whose
        // answer was lost is refused as "already exists", and a lost answer is an error. This
        // run's change set names are its own, so one found by name is this run's.
        Err(e) if recoverable_create_error(&e) => {
            match cfn.find_change_set(region, &spec.name, &name).await {
                Ok(Some(arn)) => {
                    tracing::info!(stack = %spec.name, error = %e, "the change set exists though its creation was answered with an error; using it");
                    crate::cfn::CreatedChangeSet {
                        arn,
                        stack_id: None,
                    }
                }
                _ => return Err(StackProblem::State(explain_create_error(&e))),
            }
        }
        Err(e) => return Err(StackProblem::State(explain_create_error(&e))),
    };
    tracing::info!(stack = %spec.name, change_set = %created.arn, "change set created");
    if plan.stack_id.is_none() {
        plan.stack_id = created.stack_id.clone();
    }

    plan.change_set_arn = Some(created.arn.clone());
    // CloudFormation computes the change set: waiting holds no permit.
    drop(permit);
    let outcome = wait_and_read(
        cfn,
        region,
        &created.arn,
        waits.poll,
        waits.interrupt,
        waits.pacer,
    )
    .await;
    let mut _permit = waits.requests.acquire().await.ok();
    let changes = match outcome {
        Ok(ChangeSetOutcome::Ready(changes, warning)) => {
            plan.warnings
                .extend(warning.map(|w| format!("CloudFormation warns: {w}")));
            changes
        }
        Ok(ChangeSetOutcome::NoChanges) => {
            delete_quietly(cfn, region, &created.arn).await;
            plan.change_set_arn = None;
            plan.status = PlanStatus::NoChanges;
            if waits.drift {
                // Nothing to apply, but what is deployed may not be what the template says.
                // Detection holds no permit while CloudFormation works, as for a change set.
                _permit = None;
                let warnings = drift::warnings(cfn, region, &spec.name, &mut [], waits).await;
                plan.warnings.extend(warnings);
            }
            return Ok(());
        }
        Ok(ChangeSetOutcome::Failed(reason)) => {
            delete_quietly(cfn, region, &created.arn).await;
            plan.change_set_arn = None;
            return Err(StackProblem::State(format!(
                "the change set failed: {reason}"
            )));
        }
        Err(e) => {
            delete_quietly(cfn, region, &created.arn).await;
            plan.change_set_arn = None;
            return Err(e.into());
        }
    };

    plan.change_set_arn = Some(created.arn);
    plan.change_set_name = Some(name);
    plan.changes = changes;
    diff::structural(&mut plan.changes);
    if waits.drift && change_set_type == ChangeSetType::Update && !plan.changes.is_empty() {
        // Detection holds no permit while CloudFormation works, as for a change set.
        _permit = None;
        let warnings = drift::warnings(cfn, region, &spec.name, &mut plan.changes, waits).await;
        plan.warnings.extend(warnings);
        _permit = waits.requests.acquire().await.ok();
    }
    let no_echo: BTreeSet<String> = spec.template.no_echo_names().collect();
    let new_parameters = spec.effective_parameters();

    match (change_set_type, &existing) {
        (ChangeSetType::Update, Some(stack)) => {
            plan.status = PlanStatus::Update;
            let deployed = match sent.deployed {
                Some(deployed) => deployed,
                None => cfn.get_template(region, &spec.name).await?,
            };
            plan.fingerprint.deployed_template_sha256 = Some(sha256_hex(deployed.as_bytes()));
            plan.fingerprint.deployed_parameters_sha256 =
                Some(deployed_parameters_sha256(&stack.parameters));
            plan.template_diff = diff::template_diff(
                &deployed,
                &sent.body,
                &spec.template_path.display().to_string(),
            );
            plan.parameters = diff::parameter_diff(&stack.parameters, &new_parameters, &no_echo);
            plan.tags = diff::parameter_diff(&stack.tags, &spec.tags, &BTreeSet::new());
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
            plan.tags = diff::parameter_diff(&[], &spec.tags, &BTreeSet::new());
        }
    }
    Ok(())
}

mod discard;
pub use discard::discard;
mod drift;
mod explain;
pub mod left;
mod source;
#[cfg(test)]
mod tests;
mod upstream;
