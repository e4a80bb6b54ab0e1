//! Watching a stack operation: its events (found by the operation's client request token, then
//! read incrementally: only those newer than the last seen) until the stack reaches a final
//! status. A fleet's watchers read when the `lookout`'s listing cues them; a lone watcher polls,
//! fast first and backing off. Throttling and dropped connections while reading are waited out:
//! they never fail a deploy by themselves.

mod history;
pub mod lookout;

use std::time::Duration;

use crate::cfn::{CfnError, CloudFormation};
use crate::model::{StackEvent, StackStatus};
use crate::poll::PollOptions;

pub use crate::signals::Interrupt;
pub use history::{deleted_by_failed_deletions, diagnose_stack, started_with};
pub use lookout::{Lookout, Sighting};

/// Polls between status checks, in case the final stack event was missed.
const STATUS_CHECK_EVERY: u32 = 10;

/// Most event pages read when diagnosing; an operation rarely spans more.
pub(crate) const MAX_DIAGNOSIS_PAGES: usize = 10;

pub struct Watcher<'a, C> {
    cfn: &'a C,
    region: &'a str,
    stack: &'a str,
    last_seen: Option<String>,
    poll: PollOptions,
    /// The client request tokens of the operation watched: without a baseline, its events are
    /// those that carry one of them, back to the event that started it.
    tokens: Vec<String>,
    /// Set for an update this run started: the first interrupt cancels it with this client
    /// request token, whether or not a status has been seen yet.
    pub cancel_token: Option<String>,
    /// Whether this watcher cancelled the update after an interrupt.
    pub cancelled: bool,
}

#[derive(Debug)]
pub enum WatchEnd {
    /// The stack reached this status.
    Settled(StackStatus),
    /// A second interrupt: stopped waiting; the stack was last seen in this status, if any.
    Abandoned(Option<StackStatus>),
}

/// With a lookout, a stack's events are still read at least this often, in case the listing
/// keeps failing or misses it.
const SAFETY_READ: Duration = Duration::from_secs(20);

impl<'a, C: CloudFormation> Watcher<'a, C> {
    pub fn new(cfn: &'a C, region: &'a str, stack: &'a str, poll: PollOptions) -> Self {
        Watcher {
            cfn,
            region,
            stack,
            last_seen: None,
            poll,
            tokens: Vec::new(),
            cancel_token: None,
            cancelled: false,
        }
    }

    /// Watches the operation started with client request token `token` (instead of reading a
    /// baseline first): only its events are reported.
    pub fn for_operation(mut self, token: &str) -> Self {
        self.tokens.push(token.to_string());
        self
    }

    /// Remembers the newest event, so that only what happens next is reported. Throttling and
    /// dropped connections are waited out (up to the poll timeout), as while watching.
    pub async fn baseline(&mut self) -> Result<(), CfnError> {
        let started = tokio::time::Instant::now();
        loop {
            match self
                .cfn
                .describe_stack_events(self.region, self.stack, None)
                .await
            {
                Ok(page) => {
                    self.last_seen = page.events.first().map(|e| e.event_id.clone());
                    return Ok(());
                }
                Err(e) if is_transient(&e) && started.elapsed() < self.poll.timeout => {
                    tracing::warn!(stack = self.stack, error = %e, "reading stack events; waiting and retrying");
                    tokio::time::sleep(self.poll.max).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether `e` belongs to the operation watched, by its token.
    fn is_ours(&self, e: &StackEvent) -> bool {
        e.client_request_token
            .as_ref()
            .is_some_and(|t| self.tokens.contains(t))
    }

    /// The events newer than the last seen one, oldest first. Before any was seen: those of the
    /// operation watched (by its tokens), or without tokens, of the stack's latest operation.
    async fn fresh_events(&mut self) -> Result<Vec<StackEvent>, CfnError> {
        let first_read = self.last_seen.is_none();
        let by_token = first_read && !self.tokens.is_empty();
        let mut fresh = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_DIAGNOSIS_PAGES {
            let page = self
                .cfn
                .describe_stack_events(self.region, self.stack, token.as_deref())
                .await?;
            let mut reached = false;
            for e in page.events {
                if self.last_seen.as_deref() == Some(e.event_id.as_str())
                    || (by_token && !self.is_ours(&e))
                {
                    reached = true;
                    break;
                }
                let started_here = first_read && e.is_stack_event() && e.status.starts_operation();
                fresh.push(e);
                if started_here {
                    reached = true;
                    break;
                }
            }
            match page.next_token {
                Some(next) if !reached => token = Some(next),
                _ => break,
            }
        }
        fresh.reverse();
        if let Some(newest) = fresh.last() {
            self.last_seen = Some(newest.event_id.clone());
        }
        Ok(fresh)
    }

    /// Reports each new event to `on_event` until the stack settles. `status` is the stack's
    /// status when watching starts, if known. With a `lookout`, events are read when its
    /// listing cues them; without one (or when listing is refused), by polling with back-off.
    /// On the first interrupt, an update in progress is cancelled (a create is left to
    /// CloudFormation) and watching goes on through the rollback; on the second, it stops
    /// waiting at once.
    pub async fn watch(
        &mut self,
        on_event: &mut (dyn FnMut(&StackEvent) + Send),
        interrupt: &mut Interrupt,
        lookout: Option<&Lookout>,
        status: Option<StackStatus>,
    ) -> Result<WatchEnd, CfnError> {
        let mut backoff = self.poll.backoff();
        let mut subscription = lookout.map(|l| l.subscribe(self.region, self.stack));
        let mut polls = 0u32;
        let mut last_status = status;
        let mut interrupted_once = false;
        // Listings in a row that said "not running" while the stack still was (a listing can
        // lag): wait that many more before believing the next one.
        let mut lagging = 0u64;
        let mut believe_after = 0u64;
        let mut last_read = tokio::time::Instant::now();
        let mut read = subscription.is_none();
        let mut settled_by_listing = false;
        loop {
            if read {
                last_read = tokio::time::Instant::now();
                let mut read_ok = false;
                match self.fresh_events().await {
                    Ok(events) => {
                        read_ok = true;
                        for e in &events {
                            on_event(e);
                            if e.is_stack_event() {
                                last_status = Some(e.status.stack_status());
                            }
                        }
                        if let Some(status) = last_status.as_ref().filter(|s| s.is_settled()) {
                            return Ok(WatchEnd::Settled(status.clone()));
                        }
                    }
                    Err(e) if is_transient(&e) => {
                        tracing::warn!(stack = self.stack, error = %e, "reading stack events; waiting and retrying");
                        backoff.slow_down();
                    }
                    Err(e) => return Err(e),
                }
                polls += 1;
                // The final event may be missing (an event page lost, a listing that saw the
                // stack settle): the stack's status decides.
                let check = if subscription.is_some() {
                    settled_by_listing && read_ok
                } else {
                    polls % STATUS_CHECK_EVERY == 0
                };
                if check {
                    if let Ok(Some(stack)) = self.cfn.describe_stack(self.region, self.stack).await
                    {
                        if stack.status.is_settled() {
                            // Report whatever events led there before settling; if they cannot
                            // be read now, the next read brings them.
                            if let Ok(events) = self.fresh_events().await {
                                events.iter().for_each(&mut *on_event);
                                return Ok(WatchEnd::Settled(stack.status));
                            }
                        } else if settled_by_listing {
                            // Still running: the listing lags; believe it again only later.
                            lagging += 1;
                            believe_after = subscription
                                .as_ref()
                                .map_or(0, |s| s.current().generation + (1 << lagging.min(4)));
                        }
                        last_status = Some(stack.status);
                    }
                }
            }
            settled_by_listing = false;
            let level = *interrupt.borrow();
            if level >= 2 {
                return Ok(WatchEnd::Abandoned(last_status));
            }
            if level >= 1 && !interrupted_once {
                interrupted_once = true;
                if let Some(token) = self.cancel_token.clone() {
                    // Only an update can be cancelled; CloudFormation refuses once it is past
                    // the point of no return (cleanup), which is fine: it finishes by itself.
                    match self
                        .cfn
                        .cancel_update_stack(self.region, self.stack, &token)
                        .await
                    {
                        Ok(()) => {
                            self.cancelled = true;
                            self.tokens.push(token);
                        }
                        Err(e) => {
                            tracing::warn!(stack = self.stack, error = %e, "could not cancel the update")
                        }
                    }
                }
            }
            if subscription
                .as_ref()
                .is_some_and(|s| s.current().unavailable)
            {
                subscription = None;
            }
            read = match subscription.as_mut() {
                None => {
                    tokio::select! {
                        _ = tokio::time::sleep(backoff.next_delay()) => true,
                        _ = interrupt.changed() => false,
                    }
                }
                Some(sub) => {
                    tokio::select! {
                        board = sub.next() => match board {
                            None => true,
                            Some(board) if board.unavailable => true,
                            Some(board) => match board.sighting(self.region, self.stack) {
                                Sighting::Unknown => false,
                                Sighting::NotRunning => {
                                    settled_by_listing = board.generation >= believe_after;
                                    settled_by_listing
                                }
                                Sighting::Running { status, refresh } => {
                                    lagging = 0;
                                    refresh || last_status.as_ref() != Some(&status)
                                }
                            },
                        },
                        _ = interrupt.changed() => false,
                        _ = tokio::time::sleep_until(last_read + SAFETY_READ) => true,
                    }
                }
            };
        }
    }
}

fn is_transient(e: &CfnError) -> bool {
    matches!(e, CfnError::Throttled { .. } | CfnError::Transport { .. })
}
