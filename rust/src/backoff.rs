//! Exponential backoff with jitter for reconnect and retry loops, so that a fleet recovering
//! from a database restart does not reconnect in lockstep.

use std::time::Duration;

pub const BACKOFF_INITIAL: Duration = Duration::from_millis(50);
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(BACKOFF_INITIAL, BACKOFF_MAX)
    }
}

impl Backoff {
    #[must_use]
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            attempts: 0,
        }
    }

    /// The delay before the next try: doubling from `initial` up to `max`, then scaled by a
    /// random factor in [0.5, 1.0).
    pub fn next_delay(&mut self) -> Duration {
        let exp = self.attempts.min(16);
        self.attempts = self.attempts.saturating_add(1);
        let base = self.initial.saturating_mul(1 << exp).min(self.max);
        base.mul_f64(0.5 + fastrand::f64() / 2.0)
    }

    pub fn reset(&mut self) {
        self.attempts = 0;
    }

    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

/// `interval` scaled by a random factor in [0.9, 1.1): poll timers of many workers drift apart.
#[must_use]
pub fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(0.9 + fastrand::f64() / 5.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let delays: Vec<_> = (0..8).map(|_| b.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(50) && delays[0] < Duration::from_millis(100));
        assert!(delays.iter().all(|d| *d < Duration::from_secs(1)));
        assert!(delays[7] >= Duration::from_millis(500));
        b.reset();
        assert_eq!(b.attempts(), 0);
    }

    #[test]
    fn jitter_stays_near() {
        for _ in 0..100 {
            let d = jittered(Duration::from_secs(1));
            assert!(d >= Duration::from_millis(900) && d < Duration::from_millis(1100));
        }
    }
}
