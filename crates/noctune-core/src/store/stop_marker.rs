//! Marking a run `stopping` the moment a stop is asked for, from outside the run loop.
//!
//! A stop is honoured at the next safe point, which can be minutes away while the model
//! answers. The process that drives the run holds its lock and is the one writer of its
//! `run.json`, so it marks the stop itself, from its signal handler: `run.json` then says
//! `stopping` (and `run_stopping` is logged) until the loop writes `stopped`.

use std::sync::Arc;

use super::run_store::Shared;
use crate::error::Result;
use crate::event::EventType;

/// Marks the run it came from (`Run::stop_marker`) `stopping`. Cheap to clone; usable from
/// any thread while the run loop drives the run.
#[derive(Debug, Clone)]
pub struct StopMarker {
    shared: Arc<Shared>,
}

impl StopMarker {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Writes `stopping` into `run.json` (atomically) and logs `run_stopping` with `by` (who
    /// asked: `interrupt` for Ctrl+C or SIGINT), when the run is `starting` or `running`.
    /// Returns whether it did: a run that is stopping already or has ended is left as it is.
    pub fn mark(&self, by: &str) -> Result<bool> {
        if !self.shared.mark_stopping()? {
            return Ok(false);
        }
        self.shared.event(
            EventType::RunStopping,
            None,
            serde_json::json!({ "by": by }),
        )?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use crate::event::EventType;
    use crate::run::RunStatus;
    use crate::store::{RunSpec, RunStore};

    #[test]
    fn a_stop_marked_from_another_thread_shows_in_run_json_until_the_loop_ends() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let mut run = store.create(RunSpec::default()).unwrap();
        run.set_status(RunStatus::Starting, None).unwrap();
        let marker = run.stop_marker();
        let marked = std::thread::spawn(move || marker.mark("interrupt").unwrap())
            .join()
            .unwrap();
        assert!(marked);
        assert_eq!(store.read(run.id()).unwrap().status, RunStatus::Stopping);
        assert_eq!(run.record().status, RunStatus::Stopping);
        // The loop starting after the stop keeps `stopping`; marking again changes nothing.
        run.set_status(RunStatus::Running, None).unwrap();
        assert_eq!(store.read(run.id()).unwrap().status, RunStatus::Stopping);
        assert!(!run.stop_marker().mark("interrupt").unwrap());
        run.set_status(RunStatus::Stopped, None).unwrap();
        assert!(!run.stop_marker().mark("interrupt").unwrap());
        let record = store.read(run.id()).unwrap();
        assert_eq!(record.status, RunStatus::Stopped);
        assert!(record.ended_at.is_some());
        let events: Vec<_> = store
            .events(run.id(), 0, 100)
            .unwrap()
            .into_iter()
            .skip(1)
            .map(|e| (e.event_type, e.payload))
            .collect();
        assert_eq!(
            events,
            vec![
                (
                    EventType::RunStopping,
                    serde_json::json!({ "by": "interrupt" })
                ),
                (EventType::RunStarted, serde_json::json!({})),
                (EventType::Stopped, serde_json::json!({})),
            ]
        );
    }

    #[test]
    fn a_run_resumed_after_a_kill_while_stopping_runs_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let mut run = store.create(RunSpec::default()).unwrap();
        run.set_status(RunStatus::Running, None).unwrap();
        assert!(run.stop_marker().mark("interrupt").unwrap());
        let id = run.id().clone();
        drop(run); // killed while stopping
        let mut resumed = store.open(&id).unwrap();
        assert_eq!(resumed.record().status, RunStatus::Stopping);
        resumed.set_status(RunStatus::Running, None).unwrap();
        assert_eq!(store.read(&id).unwrap().status, RunStatus::Running);
    }
}
