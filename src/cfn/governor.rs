//! One request-rate limiter per region, shared by every concurrent call of a run: CloudFormation's
//! limits are per account and region, shared by every caller, so a fleet must pace itself as one.
//! It is adaptive (additive increase, multiplicative decrease): throttling cuts the rate (once
//! per second, however many calls in flight were throttled together), each success raises it a
//! little, so a run settles just under whatever limit the account has left. A small burst
//! allowance keeps short runs as fast as without it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Requests per second before anything was throttled.
const START_RATE: f64 = 50.0;
/// Never slower than this, however often CloudFormation throttles.
const MIN_RATE: f64 = 0.5;
const MAX_RATE: f64 = 100.0;
/// Requests that may go at once before pacing starts.
const BURST: f64 = 20.0;
/// A throttled answer multiplies the rate by this.
const DECREASE: f64 = 0.7;
/// A success adds this many requests per second.
const INCREASE: f64 = 0.1;
/// Throttled answers within this long of a cut are the same congestion: they cut once. (Many
/// calls in flight are throttled together; cutting for each would drop the rate to the floor at
/// once and leave it there.)
const CUT_WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Lane {
    rate: f64,
    tokens: f64,
    refilled: Instant,
    /// When the rate was last cut.
    cut: Option<Instant>,
}

impl Lane {
    fn new(now: Instant) -> Lane {
        Lane {
            rate: START_RATE,
            tokens: BURST,
            refilled: now,
            cut: None,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(BURST);
        self.refilled = now;
    }
}

/// The limiter of a run, keyed by region.
#[derive(Debug, Default)]
pub struct Governor {
    lanes: Mutex<HashMap<String, Lane>>,
    throttled: std::sync::atomic::AtomicU64,
}

impl Governor {
    pub fn new() -> Governor {
        Governor::default()
    }

    fn with_lane<T>(&self, region: &str, f: impl FnOnce(&mut Lane, Instant) -> T) -> T {
        let now = Instant::now();
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        let lane = lanes
            .entry(region.to_string())
            .or_insert_with(|| Lane::new(now));
        lane.refill(now);
        f(lane, now)
    }

    /// Waits for this call's turn in `region`.
    pub async fn acquire(&self, region: &str) {
        // Take a token now, even if that leaves the bucket in debt: the debt is the wait, and
        // callers queue in order behind it.
        let wait = self.with_lane(region, |lane, _| {
            lane.tokens -= 1.0;
            if lane.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-lane.tokens / lane.rate)
            }
        });
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// CloudFormation answered.
    pub fn succeeded(&self, region: &str) {
        self.with_lane(region, |lane, _| {
            lane.rate = (lane.rate + INCREASE).min(MAX_RATE);
        });
    }

    /// CloudFormation throttled a call: slow down, and stop bursting.
    pub fn throttled(&self, region: &str) {
        self.throttled
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.with_lane(region, |lane, now| {
            if lane
                .cut
                .map_or(true, |t| now.saturating_duration_since(t) >= CUT_WINDOW)
            {
                lane.rate = (lane.rate * DECREASE).max(MIN_RATE);
                lane.cut = Some(now);
            }
            lane.tokens = lane.tokens.min(0.0);
        });
    }

    /// The current rate in `region`, requests per second.
    pub fn rate(&self, region: &str) -> f64 {
        self.with_lane(region, |lane, _| lane.rate)
    }

    /// Throttled answers seen by this run.
    pub fn throttled_count(&self) -> u64 {
        self.throttled.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_then_calls_are_paced_at_the_rate() {
        let g = Governor::new();
        let start = Instant::now();
        for _ in 0..BURST as usize {
            g.acquire("r").await;
        }
        assert_eq!(Instant::now(), start, "the burst is not paced");
        for _ in 0..50 {
            g.acquire("r").await;
        }
        let paced = Instant::now() - start;
        assert!(
            (0.95..=1.05).contains(&paced.as_secs_f64()),
            "50 more calls at 50/s take a second: {paced:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_cuts_the_rate_and_success_recovers_it() {
        let g = Governor::new();
        for _ in 0..5 {
            g.throttled("r");
            tokio::time::advance(CUT_WINDOW).await;
        }
        let low = g.rate("r");
        assert!((low - START_RATE * DECREASE.powi(5)).abs() < 1e-9);
        for _ in 0..100 {
            g.succeeded("r");
        }
        assert!(g.rate("r") > low + 9.0);
        for _ in 0..1000 {
            g.throttled("r");
            tokio::time::advance(CUT_WINDOW).await;
        }
        assert_eq!(g.rate("r"), MIN_RATE, "never stops altogether");
        assert_eq!(g.rate("other"), START_RATE, "regions are paced apart");
        assert_eq!(g.throttled_count(), 1005);
    }

    #[tokio::test(start_paused = true)]
    async fn calls_throttled_together_cut_the_rate_once() {
        let g = Governor::new();
        // Eight calls in flight, all answered "rate exceeded" at once: one congestion.
        for _ in 0..8 {
            g.throttled("r");
        }
        assert!((g.rate("r") - START_RATE * DECREASE).abs() < 1e-9);
        assert_eq!(g.throttled_count(), 8, "each is still counted");
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_throttle_the_next_call_waits() {
        let g = Governor::new();
        g.throttled("r");
        let start = Instant::now();
        g.acquire("r").await;
        assert!(Instant::now() > start, "no burst right after a throttle");
    }
}
