//! Waiting for a fleet's change sets at once. CloudFormation computes them side by side, each in
//! about the same time, so polling each on its own back-off multiplies the calls by the fleet
//! (500 stacks polled every 3 s is 170 requests a second against the account's limit). The pacer
//! lets one change set, the oldest still pending (the lead), poll on the back-off; the first to
//! be computed tells how long computing takes, and every other one looks when that long has
//! passed since it was created, then backs off on its own from there.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// How long, at most, a change set waits without looking while another one leads.
const LONGEST_QUIET: Duration = Duration::from_secs(15);

#[derive(Default)]
struct State {
    /// Pending change sets by creation time (and ticket number).
    pending: BTreeSet<(Instant, u64)>,
    next: u64,
    /// The shortest time a change set of this run took to compute.
    estimate: Option<Duration>,
}

/// Shared by every change set a run waits for.
pub struct Pacer {
    state: Mutex<State>,
    /// Bumped whenever a change set stops pending (a new estimate, a new lead).
    changed: watch::Sender<u64>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            state: Mutex::default(),
            changed: watch::channel(0).0,
        }
    }
}

impl Pacer {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A change set created now starts waiting.
    pub fn join(&self) -> Ticket<'_> {
        let created = Instant::now();
        let mut st = self.state();
        st.next += 1;
        let key = (created, st.next);
        st.pending.insert(key);
        Ticket {
            pacer: self,
            key,
            looked: false,
            first: true,
        }
    }
}

/// One change set's turn to look.
pub struct Ticket<'a> {
    pacer: &'a Pacer,
    key: (Instant, u64),
    /// Whether it looked after the estimate said it should be computed.
    looked: bool,
    /// Before its first look: a lead looks at once.
    first: bool,
}

impl Ticket<'_> {
    /// Waits until it is worth asking whether the change set is computed. `backoff` is this
    /// change set's own, used while it leads and after it looked once on the estimate.
    pub async fn wait(&mut self, backoff: &mut crate::poll::Backoff) {
        let mut changed = self.pacer.changed.subscribe();
        loop {
            let (lead, estimate) = {
                let st = self.pacer.state();
                (st.pending.first() == Some(&self.key), st.estimate)
            };
            if std::mem::take(&mut self.first) && lead && estimate.is_none() {
                return;
            }
            if let Some(estimate) = estimate.filter(|_| !self.looked) {
                self.looked = true;
                let due = self.key.0 + estimate;
                if due > Instant::now() {
                    tokio::time::sleep_until(due).await;
                }
                return;
            }
            if lead || self.looked {
                tokio::time::sleep(backoff.next_delay()).await;
                return;
            }
            tokio::select! {
                _ = changed.changed() => {}
                _ = tokio::time::sleep(LONGEST_QUIET) => return,
            }
        }
    }

    /// The change set is computed (or failed, or waiting ended): the others learn how long it
    /// took, and the next oldest leads.
    pub fn done(self, computed: bool) {
        drop_ticket(self.pacer, self.key, computed);
        std::mem::forget(self);
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        drop_ticket(self.pacer, self.key, false);
    }
}

fn drop_ticket(pacer: &Pacer, key: (Instant, u64), computed: bool) {
    let mut st = pacer.state();
    if !st.pending.remove(&key) {
        return;
    }
    if computed {
        let took = key.0.elapsed();
        st.estimate = Some(st.estimate.map_or(took, |e| e.min(took)));
    }
    drop(st);
    pacer.changed.send_modify(|n| *n += 1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poll::PollOptions;

    #[tokio::test(start_paused = true)]
    async fn only_the_oldest_polls_until_one_is_computed_then_the_others_look_once() {
        let pacer: &'static Pacer = Box::leak(Box::default());
        let poll = PollOptions::default();
        let mut lead = pacer.join();
        let mut other = pacer.join();
        let start = Instant::now();
        // The lead polls on its back-off; the other waits without looking.
        let mut lead_backoff = poll.backoff();
        lead.wait(&mut lead_backoff).await;
        assert_eq!(start.elapsed(), Duration::ZERO, "the lead looks at once");
        lead.wait(&mut lead_backoff).await;
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(250),
            "then backs off"
        );
        let waiting = tokio::spawn(async move {
            let mut b = poll.backoff();
            other.wait(&mut b).await;
            (other.key.0, Instant::now())
        });
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(
            !waiting.is_finished(),
            "no look before anything is computed"
        );
        lead.done(true);
        let (created, looked) = waiting.await.unwrap();
        // The lead took ~4.25 s; the other, created at the same time, looks at once.
        assert!(looked.duration_since(created) >= Duration::from_millis(4250));
        assert!(looked.duration_since(created) < Duration::from_millis(4300));
    }

    #[tokio::test(start_paused = true)]
    async fn a_change_set_that_leads_no_more_waits_for_nobody() {
        let pacer = Pacer::default();
        let first = pacer.join();
        let mut second = pacer.join();
        // The lead gave up (interrupted, say) without being computed: the second leads.
        first.done(false);
        let start = Instant::now();
        second.wait(&mut PollOptions::default().backoff()).await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "it leads now, and looks at once"
        );
    }
}
