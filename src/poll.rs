//! The one back-off every wait uses: poll fast first (most operations are quick), then back off
//! geometrically to a cap, and give up after a timeout.

use std::time::Duration;

/// How to wait for something CloudFormation does asynchronously.
#[derive(Debug, Clone)]
pub struct PollOptions {
    pub initial: Duration,
    pub max: Duration,
    pub timeout: Duration,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(3),
            timeout: Duration::from_secs(15 * 60),
        }
    }
}

impl PollOptions {
    /// The delays to sleep between polls, ×1.5 each time up to `max`.
    pub fn backoff(&self) -> Backoff {
        Backoff {
            next: self.initial,
            max: self.max,
        }
    }
}

/// An endless sequence of growing delays.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    /// The delay to wait now; the following one is longer, up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let now = self.next.min(self.max);
        self.next = (now * 3 / 2).min(self.max);
        now
    }

    /// Waits the longest from now on (after throttling, say).
    pub fn slow_down(&mut self) {
        self.next = self.max;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_by_half_up_to_the_cap() {
        let options = PollOptions {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(300),
            timeout: Duration::from_secs(1),
        };
        let mut b = options.backoff();
        let delays: Vec<u128> = (0..5).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(delays, [100, 150, 225, 300, 300]);
        let mut b = options.backoff();
        b.slow_down();
        assert_eq!(b.next_delay().as_millis(), 300);
    }
}
