//! Progress while apply waits: on a terminal, one live line per stack (status, resources done /
//! total, elapsed), redrawn in place; without one (CI), append-only lines, one per stack event,
//! prefixed by the stack name; with `--events-format ndjson`, one JSON object per event on stdout.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

use crate::engine::{Observer, RolloutEvent};
use crate::mask::Masked;
use crate::model::StackEvent;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    Live,
    Lines,
    Ndjson,
}

struct Line {
    stack: String,
    status: String,
    done: BTreeSet<String>,
    total: usize,
    started: Instant,
    finished: Option<String>,
    /// Seconds it took, frozen when the stack finished.
    took: Option<u64>,
}

pub struct Progress {
    mode: ProgressMode,
    state: Mutex<State>,
}

struct State {
    lines: Vec<Line>,
    index: HashMap<String, usize>,
    drawn: usize,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Progress {
        Progress {
            mode,
            state: Mutex::new(State {
                lines: Vec::new(),
                index: HashMap::new(),
                drawn: 0,
            }),
        }
    }

    pub fn mode(&self) -> ProgressMode {
        self.mode
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A stack's operation started; `total` resources are expected to change.
    fn started(&self, stack: &str, status: &str, total: usize) {
        {
            let mut st = self.state();
            let i = st.lines.len();
            st.index.insert(stack.to_string(), i);
            st.lines.push(Line {
                stack: stack.to_string(),
                status: status.to_string(),
                done: BTreeSet::new(),
                total,
                started: Instant::now(),
                finished: None,
                took: None,
            });
        }
        if self.mode == ProgressMode::Lines {
            crate::commands::say(&format!("{stack}: {status}"));
        }
        self.redraw();
    }

    fn event(&self, e: &StackEvent) {
        let reason = e.reason.clone();
        match self.mode {
            ProgressMode::Ndjson => {
                let line = serde_json::json!({
                    "stack": e.stack_name,
                    "event_id": e.event_id,
                    "timestamp": e.timestamp,
                    "logical_id": e.logical_id,
                    "physical_id": e.physical_id,
                    "resource_type": e.resource_type,
                    "status": e.status.as_str(),
                    "reason": reason,
                });
                let stdout = std::io::stdout();
                let mut lock = stdout.lock();
                // A reader that went away is not the deploy's problem.
                let _ = writeln!(lock, "{line}").and_then(|()| lock.flush());
            }
            ProgressMode::Lines => {
                let time = e.timestamp.get(11..19).unwrap_or(&e.timestamp);
                let reason = reason.map(|r| format!("  {r}")).unwrap_or_default();
                crate::commands::say(&format!(
                    "{}: {time} {} {} {}{reason}",
                    e.stack_name, e.logical_id, e.resource_type, e.status
                ));
            }
            ProgressMode::Live => {}
        }
        {
            let mut st = self.state();
            if let Some(&i) = st.index.get(&e.stack_name) {
                let line = &mut st.lines[i];
                if e.is_stack_event() {
                    line.status = e.status.to_string();
                } else if e.status.is_complete() {
                    line.done.insert(e.logical_id.clone());
                }
            }
        }
        self.redraw();
    }

    /// A stack is done; `result` is shown in place of its status (for stacks that started).
    fn finished(&self, stack: &str, result: &str) {
        let shown = {
            let mut st = self.state();
            match st.index.get(stack) {
                Some(&i) => {
                    let line = &mut st.lines[i];
                    line.finished = Some(result.to_string());
                    line.took = Some(line.started.elapsed().as_secs());
                    true
                }
                None => false,
            }
        };
        if !shown {
            return;
        }
        if self.mode == ProgressMode::Lines {
            crate::commands::say(&format!("{stack}: {result}"));
        }
        self.redraw();
    }

    /// A message for the person watching (stderr, never stdout).
    fn note(&self, message: &str) {
        if self.mode == ProgressMode::Live {
            let mut st = self.state();
            // Print above the live block: erase it, print, redraw below.
            let mut err = std::io::stderr().lock();
            if st.drawn > 0 {
                let _ = write!(err, "\x1b[{}A\x1b[J", st.drawn);
            }
            let _ = writeln!(err, "{message}");
            st.drawn = 0;
            drop(err);
            drop(st);
            self.redraw();
        } else {
            crate::commands::say(message);
        }
    }

    /// Redraws the live block (terminal mode only); called on each change and by a ticker.
    pub fn redraw(&self) {
        if self.mode != ProgressMode::Live {
            return;
        }
        let mut st = self.state();
        let mut err = std::io::stderr().lock();
        let mut text = String::new();
        if st.drawn > 0 {
            text.push_str(&format!("\x1b[{}A", st.drawn));
        }
        let width = st.lines.iter().map(|l| l.stack.len()).max().unwrap_or(0);
        for line in &st.lines {
            let elapsed = line
                .took
                .unwrap_or_else(|| line.started.elapsed().as_secs());
            let state = line.finished.as_deref().unwrap_or(&line.status);
            let count = if line.total > 0 {
                format!(
                    "{}/{} resources",
                    line.done.len().min(line.total),
                    line.total
                )
            } else {
                format!("{} resources", line.done.len())
            };
            text.push_str(&format!(
                "\x1b[2K{:width$}  {state:<36} {count:<16} {}m{:02}s\n",
                line.stack,
                elapsed / 60,
                elapsed % 60
            ));
        }
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
        st.drawn = st.lines.len();
    }
}

impl Observer for Progress {
    fn observe(&self, event: &Masked<RolloutEvent>) {
        match &**event {
            RolloutEvent::Note(text) => self.note(text),
            RolloutEvent::StackStarted {
                stack,
                status,
                changes,
            } => self.started(stack, status.as_str(), *changes),
            RolloutEvent::StackEvent(e) => self.event(e),
            RolloutEvent::StackFinished(o) => self.finished(&o.stack, o.kind.label()),
        }
    }
}
