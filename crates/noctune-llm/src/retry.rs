//! When and how long to wait before trying a failed request again.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use noctune_core::config::LlmSettings;

/// Retry policy: capped exponential backoff with jitter for retryable failures, and a separate,
/// longer wait for a server that answers 503 while it loads the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt for connection errors, timeouts, 5xx and streams that
    /// end early.
    pub max_retries: u32,
    /// The first backoff delay; each retry doubles it.
    pub base_delay: Duration,
    /// The longest backoff delay.
    pub max_delay: Duration,
    /// How long a loading model (503 "Loading model") is waited for in total.
    pub loading_wait: Duration,
    /// How often a loading model is polled.
    pub loading_poll: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            loading_wait: Duration::from_secs(600),
            loading_poll: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The default policy with `max_retries` from the settings.
    pub fn from_settings(settings: &LlmSettings) -> Self {
        Self {
            max_retries: settings.max_retries,
            ..Self::default()
        }
    }

    /// A policy for tests: the same shape with millisecond delays.
    pub fn fast(max_retries: u32) -> Self {
        Self {
            max_retries,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            loading_wait: Duration::from_secs(5),
            loading_poll: Duration::from_millis(10),
        }
    }

    /// The delay before retry number `retry` (0 for the first retry): `base * 2^retry`, capped at
    /// `max_delay`, then scaled by a random factor in [0.5, 1.0] so that clients that failed
    /// together do not retry together.
    pub fn delay(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(20)));
        let capped = exp.min(self.max_delay);
        capped.mul_f64(0.5 + 0.5 * unit_random())
    }
}

/// A number in [0, 1) from the standard library's randomly seeded hasher.
fn unit_random() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0x9e37_79b9_7f4a_7c15);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_and_caps_with_jitter() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let first = policy.delay(0);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.delay(2);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let late = policy.delay(30);
            assert!(late >= Duration::from_millis(500) && late <= Duration::from_millis(1000));
        }
    }

    #[test]
    fn jitter_varies() {
        let policy = RetryPolicy::default();
        let delays: std::collections::BTreeSet<_> = (0..20).map(|_| policy.delay(3)).collect();
        assert!(delays.len() > 1);
    }
}
