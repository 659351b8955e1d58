//! The report's "Model endpoints" section: per endpoint its slots, the most requests it had in
//! flight, its calls, failures and answer speed, the pool's utilisation, and the endpoints that
//! went down or came back. Shown when the run had more than one slot or lost an endpoint.

use serde::Serialize;

use crate::event::{Event, EventType};
use crate::llm::EndpointLoad;

/// The model endpoints of a run's last session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointsReport {
    /// Each endpoint's load over the session.
    pub endpoints: Vec<EndpointLoad>,
    /// Busy slot-seconds over available slot-seconds.
    pub utilisation: f64,
    /// The session's wall-clock milliseconds.
    pub wall_ms: u64,
    /// Endpoints going down and coming back, oldest first (`down: <endpoint>: <why>`).
    pub changes: Vec<String>,
}

impl EndpointsReport {
    /// The section from a run's events; `None` for a run with one slot that lost nothing.
    pub fn from_events(events: &[Event]) -> Option<Self> {
        let last = events
            .iter()
            .rfind(|e| e.event_type == EventType::EndpointLoads)?;
        let endpoints: Vec<EndpointLoad> =
            serde_json::from_value(last.payload["endpoints"].clone()).ok()?;
        let changes: Vec<String> = events
            .iter()
            .filter_map(|e| {
                let endpoint = e.payload["endpoint"].as_str().unwrap_or("?");
                match e.event_type {
                    EventType::EndpointDown => Some(format!(
                        "{}: down: {endpoint}: {}",
                        e.ts,
                        e.payload["error"].as_str().unwrap_or("")
                    )),
                    EventType::EndpointUp => Some(format!("{}: back: {endpoint}", e.ts)),
                    _ => None,
                }
            })
            .collect();
        let slots: usize = endpoints.iter().map(|e| e.slots).sum();
        if slots <= 1 && changes.is_empty() {
            return None;
        }
        Some(Self {
            endpoints,
            utilisation: last.payload["utilisation"].as_f64().unwrap_or(0.0),
            wall_ms: last.payload["wall_ms"].as_u64().unwrap_or(0),
            changes,
        })
    }

    /// The table's header cells.
    pub const HEADER: [&'static str; 7] = [
        "endpoint",
        "slots",
        "most in flight",
        "calls",
        "failures",
        "answer tok/s",
        "state",
    ];

    /// The table's rows, one per endpoint, cells as text.
    pub fn rows(&self) -> Vec<[String; 7]> {
        self.endpoints
            .iter()
            .map(|e| {
                [
                    e.endpoint.clone(),
                    e.slots.to_string(),
                    e.peak_in_flight.to_string(),
                    e.calls.to_string(),
                    e.failures.to_string(),
                    format!("{:.1}", e.tokens_per_second()),
                    if e.up { "up" } else { "down" }.to_owned(),
                ]
            })
            .collect()
    }

    /// The line under the table: the pool's utilisation over the session.
    pub fn summary(&self) -> String {
        format!(
            "pool utilisation {:.0}% (busy slot-seconds over available slot-seconds, {:.1} s)",
            self.utilisation * 100.0,
            self.wall_ms as f64 / 1000.0
        )
    }
}
