//! Resolving a stack's `${stack:…}` references before its change set is made. An upstream this
//! plan leaves unchanged (or one outside the run) has its outputs read as deployed; an upstream
//! this plan changes makes the values known only after it is applied, so the stack waits: it is
//! planned, and reviewed, in the next plan. A change set is never made from values the plan has
//! not shown.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::cfn::CloudFormation;
use crate::config::StackSpec;
use crate::model::{PlanStatus, StackOutput, StackPlan};
use crate::refs::{self, Reference};

/// What becomes of a stack with references.
pub enum Resolution {
    /// Planned with these values.
    Ready(Box<StackSpec>),
    /// Not planned now: waiting (an upstream changes) or an error, and why.
    NotNow(PlanStatus, String),
}

/// A stack's outputs as read (`None`: the stack does not exist), by region and name.
type Read = HashMap<(String, String), Option<Vec<StackOutput>>>;

/// Stacks' outputs read in this plan, each stack read once.
#[derive(Default)]
pub struct Outputs {
    read: Mutex<Read>,
}

impl Outputs {
    async fn of<C: CloudFormation>(
        &self,
        cfn: &C,
        region: &str,
        stack: &str,
    ) -> Result<Option<Vec<StackOutput>>, String> {
        let key = (region.to_string(), stack.to_string());
        if let Some(known) = self.lock().get(&key) {
            return Ok(known.clone());
        }
        let read = cfn
            .describe_stack(region, stack)
            .await
            .map_err(|e| format!("reading the outputs of {stack}: {e}"))?
            .map(|s| s.outputs);
        self.lock().insert(key, read.clone());
        Ok(read)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Read> {
        self.read.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Resolves `spec`'s references. `planned` holds the plans made so far (upstreams are planned
/// in earlier levels), aligned with `specs`.
pub async fn resolve<C: CloudFormation>(
    cfn: &C,
    spec: &StackSpec,
    planned: &[Option<StackPlan>],
    specs: &[StackSpec],
    outputs: &Outputs,
) -> Resolution {
    if spec.references.is_empty() {
        return Resolution::Ready(Box::new(spec.clone()));
    }
    let mut values: HashMap<Reference, String> = HashMap::new();
    for (key, r) in &spec.references {
        let upstream = specs
            .iter()
            .position(|s| s.name == r.stack && r.region.is_none());
        if let Some(i) = upstream {
            let status = planned[i].as_ref().map(|p| p.status.clone());
            match status {
                Some(PlanStatus::Create | PlanStatus::Update) => {
                    return Resolution::NotNow(
                        PlanStatus::Waiting,
                        format!(
                            "`{key}` reads {r}, which is known only after {} is applied (this plan changes it); {} is planned once it is: apply, then plan again",
                            r.stack, spec.name
                        ),
                    )
                }
                Some(PlanStatus::NoChanges) => {}
                Some(other) => {
                    return Resolution::NotNow(
                        PlanStatus::Error,
                        format!(
                            "not planned: `{key}` reads {r}, and {} could not be planned ({})",
                            r.stack,
                            other.as_str()
                        ),
                    )
                }
                None => {}
            }
        }
        // In the region named, else the upstream's (a stack of the config, selected or not),
        // else this stack's own.
        let region = r
            .region
            .clone()
            .or_else(|| upstream.map(|i| specs[i].region.clone()))
            .or_else(|| spec.upstream_regions.get(&r.stack).cloned())
            .unwrap_or_else(|| spec.region.clone());
        let found = match outputs.of(cfn, &region, &r.stack).await {
            Ok(found) => found,
            Err(why) => return Resolution::NotNow(PlanStatus::Error, why),
        };
        let Some(found) = found else {
            return Resolution::NotNow(
                PlanStatus::Error,
                format!(
                    "`{key}` reads {r}, but {} does not exist in {region}; deploy it first",
                    r.stack
                ),
            );
        };
        let Some(output) = found.iter().find(|o| o.key == r.output) else {
            let known: Vec<&str> = found.iter().map(|o| o.key.as_str()).collect();
            return Resolution::NotNow(
                PlanStatus::Error,
                format!(
                    "`{key}` reads {r}, but {} has no output {} (its outputs: {})",
                    r.stack,
                    r.output,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            );
        };
        values.insert(r.clone(), output.value.clone());
    }
    let lookup = |r: &Reference| values.get(r).cloned();
    let mut ready = spec.clone();
    for map in [&mut ready.parameters, &mut ready.tags] {
        for value in map.values_mut() {
            if let Ok(filled) = refs::substitute(value, &lookup) {
                *value = filled;
            }
        }
    }
    Resolution::Ready(Box::new(ready))
}
