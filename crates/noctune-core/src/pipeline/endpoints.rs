//! The run's side of a pool of model endpoints: endpoint changes become run events, and each
//! session of a run ends with the load of every endpoint (`endpoint_loads`).

use super::Pipeline;
use crate::error::Result;
use crate::event::EventType;
use crate::llm::pool::utilisation;
use crate::llm::{EndpointLoad, LlmClient, PoolEvent};
use crate::store::Run;

/// The run's distinct model clients: the default one and each stage's own.
fn clients(pipeline: &Pipeline) -> impl Iterator<Item = &dyn LlmClient> {
    std::iter::once(pipeline.llm.as_ref())
        .chain(pipeline.stage_llm.iter().map(|(_, client)| client.as_ref()))
}

/// Logs what happened to the pipeline's endpoints since the last call: `endpoint_down`,
/// `endpoint_up`, `endpoint_retried`.
pub(crate) fn log_endpoint_events(run: &Run, pipeline: &Pipeline) -> Result<()> {
    for client in clients(pipeline) {
        for event in client.take_events() {
            let event_type = match &event {
                PoolEvent::Down { .. } => EventType::EndpointDown,
                PoolEvent::Up { .. } => EventType::EndpointUp,
                PoolEvent::Retried { .. } => EventType::EndpointRetried,
            };
            run.event(
                event_type,
                None,
                serde_json::to_value(&event).unwrap_or_default(),
            )?;
        }
    }
    Ok(())
}

/// The load of every endpoint of the pipeline (the same endpoint once, however many stages
/// use it).
fn loads(pipeline: &Pipeline) -> Vec<EndpointLoad> {
    let mut all: Vec<EndpointLoad> = Vec::new();
    for client in clients(pipeline) {
        for load in client.loads() {
            if !all.iter().any(|l| l.endpoint == load.endpoint) {
                all.push(load);
            }
        }
    }
    all
}

/// Logs `endpoint_loads`: each endpoint's counts over `wall_ms` and the pool's utilisation
/// (busy slot-seconds over available slot-seconds). Nothing for a client that keeps no counts.
pub(crate) fn log_loads(run: &Run, pipeline: &Pipeline, wall_ms: u64) -> Result<()> {
    let loads = loads(pipeline);
    if loads.is_empty() {
        return Ok(());
    }
    run.event(
        EventType::EndpointLoads,
        None,
        serde_json::json!({
            "wall_ms": wall_ms,
            "utilisation": utilisation(&loads, wall_ms),
            "endpoints": loads,
        }),
    )?;
    Ok(())
}
