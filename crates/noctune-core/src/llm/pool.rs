//! What a client serving from several model endpoints tells the run loop: how many tasks may
//! be in flight, the load of each endpoint, and endpoints going down or coming back.
//!
//! `noctune-llm`'s `EndpointPool` implements this through [`LlmClient`](super::LlmClient)'s
//! pool methods; a single-endpoint client keeps their defaults (one slot, no loads, no events).

use serde::{Deserialize, Serialize};

/// The load of one endpoint of a pool, as of now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointLoad {
    /// The endpoint's base URL, credentials removed.
    pub endpoint: String,
    /// Requests it serves at once (its slots).
    pub slots: usize,
    /// Requests on it right now.
    pub in_flight: usize,
    /// The most requests it had at once.
    #[serde(default)]
    pub peak_in_flight: usize,
    /// Whether the pool sends it requests (`false` while it is out after failures).
    pub up: bool,
    /// Answers it gave.
    pub calls: u64,
    /// Calls that failed on it (each was retried elsewhere or reported).
    pub failures: u64,
    /// Answer tokens it wrote.
    pub completion_tokens: u64,
    /// Prompt tokens it read.
    pub prompt_tokens: u64,
    /// Slot-milliseconds it spent answering (the sum of its calls' durations).
    pub busy_ms: u64,
}

impl EndpointLoad {
    /// Answer tokens per second of busy time (`0.0` before any answer).
    pub fn tokens_per_second(&self) -> f64 {
        if self.busy_ms == 0 {
            return 0.0;
        }
        self.completion_tokens as f64 * 1000.0 / self.busy_ms as f64
    }
}

/// The share of the pool's slot time that was spent answering: busy slot-seconds over
/// available slot-seconds (each endpoint's slots times `wall_ms`). `0.0` for no time or slots.
pub fn utilisation(loads: &[EndpointLoad], wall_ms: u64) -> f64 {
    let slots: usize = loads.iter().map(|l| l.slots).sum();
    let available = slots as f64 * wall_ms as f64;
    if available <= 0.0 {
        return 0.0;
    }
    let busy: u64 = loads.iter().map(|l| l.busy_ms).sum();
    (busy as f64 / available).min(1.0)
}

/// Something that happened to an endpoint of a pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum PoolEvent {
    /// The endpoint failed (at the run's start, or too many calls in a row) and gets no
    /// requests until its health check passes.
    Down {
        /// The endpoint, credentials removed.
        endpoint: String,
        /// Why.
        error: String,
    },
    /// The endpoint's health check passed again: it is back in the pool.
    Up {
        /// The endpoint, credentials removed.
        endpoint: String,
    },
    /// A call that failed on `from` was sent again to `to`.
    Retried {
        /// Where it failed.
        from: String,
        /// Where it went next.
        to: String,
        /// Why it failed.
        error: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utilisation_is_busy_over_available_slot_time() {
        let loads = [
            EndpointLoad {
                slots: 2,
                busy_ms: 1_500,
                ..EndpointLoad::default()
            },
            EndpointLoad {
                slots: 2,
                busy_ms: 500,
                ..EndpointLoad::default()
            },
        ];
        assert!((utilisation(&loads, 1_000) - 0.5).abs() < 1e-9);
        assert_eq!(utilisation(&loads, 0), 0.0);
        assert_eq!(utilisation(&[], 1_000), 0.0);
    }

    #[test]
    fn tokens_per_second_of_busy_time() {
        let load = EndpointLoad {
            completion_tokens: 50,
            busy_ms: 2_000,
            ..EndpointLoad::default()
        };
        assert!((load.tokens_per_second() - 25.0).abs() < 1e-9);
        assert_eq!(EndpointLoad::default().tokens_per_second(), 0.0);
    }
}
