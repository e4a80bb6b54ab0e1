//! The fleet's lookout: one task that asks CloudFormation once a tick which stacks have an
//! operation running (`ListStacks` filtered to the in-progress statuses: one call per region and
//! hundred running stacks, however large the fleet), and cues each stack's watcher to read its
//! events only when that is worth a call: its status changed, it is no longer running (it
//! settled), or it is its turn to refresh the live view (a few stacks a tick, longest unread
//! first). Waiting on a stack costs nothing, and the watching cost stays flat as the fleet grows.
//!
//! Throttling or a dropped connection skips a tick (watchers keep their own slow safety read);
//! a refusal (no `cloudformation:ListStacks` permission, say), or listings failing five ticks in a
//! row, makes every watcher poll its own stack, as it would without a lookout.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::cfn::CloudFormation;
use crate::model::StackStatus;

/// How often the lookout lists running stacks: completion is seen within about this long.
pub const TICK: Duration = Duration::from_millis(1000);

/// Stacks whose events are read per tick for the live view, besides those cued by a change.
pub const REFRESHES_PER_TICK: usize = 2;

/// Listings in a row that may fail (throttled, dropped) before every watcher polls by itself.
const FAILED_TICKS_BEFORE_POLLING: u32 = 5;

/// A stack, by region and name.
type Key = (String, String);

/// What the last listing said, published to every watcher.
#[derive(Debug, Clone, Default)]
pub struct Board {
    /// Bumped by every listing.
    pub generation: u64,
    /// The watched stacks the listing saw with an operation running, and their status.
    running: Arc<HashMap<Key, StackStatus>>,
    /// Stacks whose turn it is to refresh the live view.
    refresh: Arc<HashSet<Key>>,
    /// Listing is refused: every watcher polls its own stack.
    pub unavailable: bool,
}

/// What the board says about one stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sighting {
    /// Listed as running with this status; `refresh` when its turn for the live view came.
    Running { status: StackStatus, refresh: bool },
    /// Not listed as running: it settled (or the listing has not caught up yet).
    NotRunning,
    /// Nothing listed yet.
    Unknown,
}

impl Board {
    pub fn sighting(&self, region: &str, stack: &str) -> Sighting {
        if self.generation == 0 {
            return Sighting::Unknown;
        }
        let key = (region.to_string(), stack.to_string());
        match self.running.get(&key) {
            Some(status) => Sighting::Running {
                status: status.clone(),
                refresh: self.refresh.contains(&key),
            },
            None => Sighting::NotRunning,
        }
    }
}

#[derive(Debug, Default)]
struct Watched {
    /// Watchers subscribed to the stack.
    watchers: usize,
    /// When its events were last cued for the live view.
    refreshed: Option<Instant>,
}

type Registry = Arc<Mutex<HashMap<Key, Watched>>>;

/// The running lookout; the task stops when the last clone is dropped.
#[derive(Clone)]
pub struct Lookout {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    board: watch::Receiver<Board>,
    task: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Lookout {
    /// Starts the lookout over `cfn`, listing every `tick` while at least one stack is watched.
    pub fn start<C: CloudFormation>(cfn: Arc<C>, tick: Duration) -> Lookout {
        let registry: Registry = Arc::default();
        let (tx, board) = watch::channel(Board::default());
        let task = tokio::spawn(run(cfn, Arc::clone(&registry), tx, tick));
        Lookout {
            inner: Arc::new(Inner {
                registry,
                board,
                task,
            }),
        }
    }

    /// Watches `stack` in `region` until the subscription is dropped.
    pub fn subscribe(&self, region: &str, stack: &str) -> Subscription {
        let key = (region.to_string(), stack.to_string());
        lock(&self.inner.registry)
            .entry(key.clone())
            .or_default()
            .watchers += 1;
        let mut board = self.inner.board.clone();
        board.mark_unchanged();
        Subscription {
            key,
            registry: Arc::clone(&self.inner.registry),
            board,
        }
    }
}

fn lock(registry: &Registry) -> std::sync::MutexGuard<'_, HashMap<Key, Watched>> {
    registry.lock().unwrap_or_else(|e| e.into_inner())
}

/// One watcher's view of the board.
pub struct Subscription {
    key: Key,
    registry: Registry,
    board: watch::Receiver<Board>,
}

impl Subscription {
    /// Waits for the next listing and returns what it says about this stack.
    pub async fn next(&mut self) -> Option<Board> {
        self.board.changed().await.ok()?;
        Some(self.board.borrow_and_update().clone())
    }

    pub fn current(&self) -> Board {
        self.board.borrow().clone()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut registry = lock(&self.registry);
        if let Some(w) = registry.get_mut(&self.key) {
            w.watchers = w.watchers.saturating_sub(1);
            if w.watchers == 0 {
                registry.remove(&self.key);
            }
        }
    }
}

/// The statuses of a stack with an operation running, as `ListStacks` filters them.
fn running_statuses() -> Vec<StackStatus> {
    StackStatus::ALL
        .iter()
        .filter(|s| s.is_in_progress())
        .cloned()
        .collect()
}

async fn run<C: CloudFormation>(
    cfn: Arc<C>,
    registry: Registry,
    tx: watch::Sender<Board>,
    tick: Duration,
) {
    let statuses = running_statuses();
    let mut generation = 0u64;
    let mut failed_ticks = 0u32;
    loop {
        tokio::time::sleep(tick).await;
        let watched: Vec<Key> = lock(&registry).keys().cloned().collect();
        if watched.is_empty() {
            continue;
        }
        let regions: HashSet<&str> = watched.iter().map(|(r, _)| r.as_str()).collect();
        let mut running = HashMap::new();
        let mut skipped = false;
        for region in regions {
            match cfn.list_stacks(region, &statuses).await {
                Ok(listed) => {
                    for s in listed {
                        let key = (region.to_string(), s.name);
                        if watched.contains(&key) {
                            running.insert(key, s.status);
                        }
                    }
                }
                Err(e) if e.is_transient() && failed_ticks + 1 < FAILED_TICKS_BEFORE_POLLING => {
                    tracing::warn!(region, error = %e, "listing running stacks; trying again next tick");
                    skipped = true;
                }
                Err(e) => {
                    tracing::warn!(region, error = %e, "cannot list running stacks: watching each stack by itself, which costs more requests");
                    tx.send_replace(Board {
                        generation: generation + 1,
                        unavailable: true,
                        ..Board::default()
                    });
                    return;
                }
            }
        }
        if skipped {
            failed_ticks += 1;
            continue;
        }
        failed_ticks = 0;
        let refresh = take_turns(&registry, &running, REFRESHES_PER_TICK);
        generation += 1;
        tx.send_replace(Board {
            generation,
            running: Arc::new(running),
            refresh: Arc::new(refresh),
            unavailable: false,
        });
    }
}

/// The `n` running stacks whose events were cued longest ago (never first), marked cued now.
fn take_turns(registry: &Registry, running: &HashMap<Key, StackStatus>, n: usize) -> HashSet<Key> {
    let mut registry = lock(registry);
    let mut candidates: Vec<(&Key, Option<Instant>)> = running
        .keys()
        .filter_map(|k| registry.get(k).map(|w| (k, w.refreshed)))
        .collect();
    candidates.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)));
    let now = Instant::now();
    let chosen: HashSet<Key> = candidates
        .into_iter()
        .take(n)
        .map(|(k, _)| k.clone())
        .collect();
    for k in &chosen {
        if let Some(w) = registry.get_mut(k) {
            w.refreshed = Some(now);
        }
    }
    chosen
}
