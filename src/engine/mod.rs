//! Who executes a rollout. `local` runs it in this process. Every engine reports the same
//! [`RolloutEvent`]s; progress, NDJSON, the summary and the diagnosis read only those, so they do
//! not care which engine ran the stacks.

pub mod local;
pub mod stepfunctions;

use std::sync::Arc;

use crate::mask::{Masked, Masker, Scrub};
use crate::model::{Outcome, StackEvent, StackStatus};

/// Something that happened in a rollout, in words that do not depend on the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum RolloutEvent {
    /// A message for the person watching (a canary started, a failure stopped new stacks).
    Note(String),
    /// A stack's operation started, or an operation already running was attached to.
    StackStarted {
        stack: String,
        status: StackStatus,
        /// Resource changes expected.
        changes: usize,
    },
    /// A new event of a stack being watched.
    StackEvent(StackEvent),
    /// A stack's outcome is known (every stack of the rollout gets exactly one).
    StackFinished(Outcome),
}

impl Scrub for RolloutEvent {
    fn scrub_with(&mut self, masker: &Masker) {
        match self {
            RolloutEvent::Note(text) => text.scrub_with(masker),
            RolloutEvent::StackStarted { .. } => {}
            RolloutEvent::StackEvent(e) => e.scrub_with(masker),
            RolloutEvent::StackFinished(o) => o.scrub_with(masker),
        }
    }
}

/// Receives a rollout's events, masked (progress on a terminal, CI lines, NDJSON).
pub trait Observer: Send + Sync {
    fn observe(&self, event: &Masked<RolloutEvent>);
}

/// Where an engine sends its events: every event is masked here, before any observer sees it.
#[derive(Clone)]
pub struct Events {
    masker: Masker,
    observer: Arc<dyn Observer>,
}

impl Events {
    pub fn new(masker: Masker, observer: Arc<dyn Observer>) -> Events {
        Events { masker, observer }
    }

    pub fn emit(&self, event: RolloutEvent) {
        self.observer.observe(&self.masker.mask(event));
    }

    pub fn note(&self, text: impl Into<String>) {
        self.emit(RolloutEvent::Note(text.into()));
    }

    /// Reports a stack's outcome and returns it, masked as it was reported.
    pub fn finished(&self, outcome: Outcome) -> Outcome {
        let masked = self.masker.mask(RolloutEvent::StackFinished(outcome));
        self.observer.observe(&masked);
        match masked.into_inner() {
            RolloutEvent::StackFinished(o) => o,
            _ => unreachable!("masking keeps the variant"),
        }
    }
}

/// An observer that records every event, for tests.
#[cfg(test)]
#[derive(Default)]
pub struct Recorder {
    pub events: std::sync::Mutex<Vec<RolloutEvent>>,
}

#[cfg(test)]
impl Observer for Recorder {
    fn observe(&self, event: &Masked<RolloutEvent>) {
        self.events.lock().unwrap().push((**event).clone());
    }
}
