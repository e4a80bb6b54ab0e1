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

mod live;
use live::{fit, live_block, Row, Shown, MIN_LIVE_ROWS};

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
    /// It finished, and not as it should have (failed, rolled back, refused, ...).
    failed: bool,
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
    /// Terminal rows the live block took when last drawn.
    drawn: usize,
    /// The width of the name column: the longest name the run will show.
    name_width: usize,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Progress {
        Progress {
            mode,
            state: Mutex::new(State {
                lines: Vec::new(),
                index: HashMap::new(),
                drawn: 0,
                name_width: 0,
            }),
        }
    }

    /// The stacks the run may show, so the name column is as wide as it will ever need from the
    /// first line on.
    pub fn expect<'a>(&self, stacks: impl IntoIterator<Item = &'a str>) {
        let widest = stacks.into_iter().map(|s| s.chars().count()).max();
        let mut st = self.state();
        st.name_width = st.name_width.max(widest.unwrap_or(0));
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
                failed: false,
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
    fn finished(&self, stack: &str, result: &str, failed: bool) {
        let shown = {
            let mut st = self.state();
            match st.index.get(stack) {
                Some(&i) => {
                    let line = &mut st.lines[i];
                    line.finished = Some(result.to_string());
                    line.failed = failed;
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
        // Read each time: a resized terminal is drawn at its new size.
        let (columns, height) = terminal_size::terminal_size_of(std::io::stderr())
            .map(|(w, h)| (usize::from(w.0), usize::from(h.0)))
            .unwrap_or((80, 24));
        let rows: Vec<Row> = st
            .lines
            .iter()
            .map(|line| Row {
                stack: &line.stack,
                state: line.finished.as_deref().unwrap_or(&line.status),
                done: if line.total > 0 {
                    line.done.len().min(line.total)
                } else {
                    line.done.len()
                },
                total: line.total,
                elapsed: line
                    .took
                    .unwrap_or_else(|| line.started.elapsed().as_secs()),
                shown_as: match (&line.finished, line.failed) {
                    (None, _) => Shown::Running,
                    (Some(_), true) => Shown::Failed,
                    (Some(_), false) => Shown::Done,
                },
            })
            .collect();
        // The block is redrawn by moving up over it, which a terminal cannot do past its top
        // row: it must fit on the screen, with a row to spare for the cursor.
        let (rows, more) = fit(rows, height.saturating_sub(1).max(MIN_LIVE_ROWS));
        let mut block = live_block(&rows, st.name_width, columns);
        block.extend(more.map(|m| crate::render::truncate(&m, columns.saturating_sub(1).max(10))));
        let mut text = String::new();
        if st.drawn > 0 {
            text.push_str(&format!("\x1b[{}A", st.drawn));
        }
        for row in &block {
            text.push_str("\x1b[2K");
            text.push_str(row);
            text.push('\n');
        }
        // A block shorter than the last one (fewer stacks shown) leaves no stale rows below.
        text.push_str("\x1b[J");
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
        st.drawn = block.len();
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
            RolloutEvent::StackFinished(o) => {
                self.finished(&o.stack, o.kind.label(), !o.kind.succeeded())
            }
        }
    }
}
