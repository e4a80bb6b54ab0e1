//! A fleet deploy as a description: which stacks, what to do with each (execute which change
//! set, or why not), in which waves (the canary first), how many at once, and when to stop. It is
//! built from a verified plan and is plain data, so it can be reviewed, tested without AWS and
//! executed by any engine (`engine::local` runs it in this process).

use crate::model::{OutcomeKind, StackStatus};

/// What the rollout does with one stack.
#[derive(Debug, Clone, PartialEq)]
pub enum StackAction {
    /// Execute this reviewed change set and watch the operation to its end.
    Execute {
        change_set_arn: String,
        /// A CREATE change set (the stack is new).
        create: bool,
    },
    /// An operation is already running on the stack: wait for it, never start another.
    Attach { status: StackStatus },
    /// Delete this stack, which left the config (`plan --prune`), and watch the deletion.
    Delete {
        deletion: Box<crate::delete::Deletion>,
    },
    /// Nothing to execute; the stack's outcome is already decided (unchanged, refused, blocked).
    Settled {
        kind: OutcomeKind,
        status: Option<StackStatus>,
        message: Option<String>,
    },
}

/// One stack of the rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutStack {
    pub stack: String,
    pub region: String,
    pub action: StackAction,
    /// Resource changes expected (for progress).
    pub changes: usize,
    /// Turn termination protection on after a create.
    pub termination_protection: bool,
    /// Its template declares outputs: read them once it succeeded.
    pub outputs: bool,
    /// The stacks it is deployed after (`depends_on`); those not in the rollout hold nothing.
    pub after: Vec<String>,
}

impl RolloutStack {
    /// Executes a change set or waits on one: it takes part in waves and the failure budget.
    pub fn runs(&self) -> bool {
        !matches!(self.action, StackAction::Settled { .. })
    }
}

/// Stacks started together. The canary wave runs alone and first; the rest follow only if every
/// canary succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wave {
    /// Indexes into `Rollout::stacks`.
    pub stacks: Vec<usize>,
    pub canary: bool,
}

/// The canary when none is asked for: one stack goes first, so a failure that would repeat in every
/// service of a fleet is seen once, before the rest start.
pub const DEFAULT_CANARY: usize = 1;

/// How to build the waves and when to stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutOptions {
    /// Requests in flight at once (executing a change set, diagnosing a failure). Waiting on a
    /// stack holds none: it costs CloudFormation nothing.
    pub concurrency: usize,
    /// Stack operations in flight at once, the blast radius (`--max-in-flight`); `None`: every
    /// stack of a wave at once.
    pub max_in_flight: Option<usize>,
    /// Stop starting new stacks once this many have failed (in-flight ones finish).
    pub max_failures: usize,
    /// The first N stacks that run go first, alone; only when more than N stacks run (a canary
    /// with nothing after it would only add a message).
    pub canary: usize,
    pub disable_rollback: bool,
}

/// The whole fleet deploy.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    pub correlation_id: String,
    pub stacks: Vec<RolloutStack>,
    pub waves: Vec<Wave>,
    pub concurrency: usize,
    pub max_in_flight: Option<usize>,
    pub max_failures: usize,
    pub disable_rollback: bool,
}

impl Rollout {
    pub fn new(
        correlation_id: &str,
        stacks: Vec<RolloutStack>,
        options: &RolloutOptions,
    ) -> Rollout {
        // The dependency levels: a stack's wave comes after its dependencies' waves.
        let order: Vec<(String, Vec<String>)> = stacks
            .iter()
            .map(|s| (s.stack.clone(), s.after.clone()))
            .collect();
        let levels = crate::graph::levels(&order);
        let running = stacks.iter().filter(|s| s.runs()).count();
        // The canary comes from the first level with something to run, so that it never goes
        // before what it depends on.
        let canary: Vec<usize> = levels
            .iter()
            .find(|level| level.iter().any(|&i| stacks[i].runs()))
            .map(|level| {
                level
                    .iter()
                    .copied()
                    .filter(|&i| stacks[i].runs())
                    .take(if running > options.canary {
                        options.canary
                    } else {
                        0
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut waves = Vec::new();
        if !canary.is_empty() {
            waves.push(Wave {
                stacks: canary.clone(),
                canary: true,
            });
        }
        for level in levels {
            let rest: Vec<usize> = level.into_iter().filter(|i| !canary.contains(i)).collect();
            if !rest.is_empty() {
                waves.push(Wave {
                    stacks: rest,
                    canary: false,
                });
            }
        }
        Rollout {
            correlation_id: correlation_id.to_string(),
            stacks,
            waves,
            concurrency: options.concurrency.max(1),
            max_in_flight: options.max_in_flight.map(|n| n.max(1)),
            max_failures: options.max_failures.max(1),
            disable_rollback: options.disable_rollback,
        }
    }

    /// Stacks whose change set will be executed or waited on.
    pub fn running(&self) -> usize {
        self.stacks.iter().filter(|s| s.runs()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(name: &str, runs: bool) -> RolloutStack {
        RolloutStack {
            stack: name.into(),
            region: "us-east-1".into(),
            action: if runs {
                StackAction::Execute {
                    change_set_arn: format!("arn:{name}"),
                    create: false,
                }
            } else {
                StackAction::Settled {
                    kind: OutcomeKind::Unchanged,
                    status: None,
                    message: None,
                }
            },
            changes: 1,
            termination_protection: false,
            outputs: false,
            after: vec![],
        }
    }

    fn options(canary: usize) -> RolloutOptions {
        RolloutOptions {
            concurrency: 8,
            max_in_flight: None,
            max_failures: 1,
            canary,
            disable_rollback: false,
        }
    }

    #[test]
    fn the_canary_is_the_first_stacks_that_run_and_goes_alone_first() {
        let stacks = vec![
            stack("a", false),
            stack("b", true),
            stack("c", true),
            stack("d", true),
        ];
        let r = Rollout::new("id", stacks, &options(2));
        assert_eq!(
            r.waves,
            vec![
                Wave {
                    stacks: vec![1, 2],
                    canary: true
                },
                Wave {
                    stacks: vec![0, 3],
                    canary: false
                }
            ]
        );
        assert_eq!(r.running(), 3);
    }

    #[test]
    fn without_a_canary_there_is_one_wave_and_limits_are_at_least_one() {
        let r = Rollout::new(
            "id",
            vec![stack("a", true), stack("b", true)],
            &RolloutOptions {
                concurrency: 0,
                max_in_flight: Some(0),
                max_failures: 0,
                canary: 0,
                disable_rollback: true,
            },
        );
        assert_eq!(r.waves.len(), 1);
        assert!(!r.waves[0].canary);
        assert_eq!((r.concurrency, r.max_failures), (1, 1));
        assert_eq!(r.max_in_flight, Some(1));
    }

    #[test]
    fn a_canary_with_no_stack_after_it_is_left_out() {
        // One stack with changes (the other is unchanged): the default canary would only add a
        // message, so there is one wave.
        let r = Rollout::new(
            "id",
            vec![stack("a", false), stack("b", true)],
            &options(DEFAULT_CANARY),
        );
        assert_eq!(r.waves.len(), 1);
        assert!(!r.waves[0].canary);
        // Two stacks with changes: the first goes alone.
        let r = Rollout::new(
            "id",
            vec![stack("a", true), stack("b", true)],
            &options(DEFAULT_CANARY),
        );
        assert_eq!(r.waves[0].stacks, [0]);
        assert!(r.waves[0].canary);
        let empty = Rollout::new("id", vec![], &options(3));
        assert!(empty.waves.is_empty());
    }
}
