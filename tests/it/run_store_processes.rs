//! The run store across real processes: restarts, concurrent drivers, SIGKILL.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use noctune_core::store::RunStore;
use noctune_core::{EventType, RunId};

fn append_events(root: &std::path::Path, run_id: &str, count: u32, delay_ms: u32) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_append-events"));
    command
        .arg(root)
        .arg(run_id)
        .arg(count.to_string())
        .arg(delay_ms.to_string())
        .stdin(Stdio::null());
    command
}

fn indices(store: &RunStore, run_id: &RunId) -> Vec<u64> {
    store
        .events(run_id, 0, usize::MAX)
        .unwrap()
        .iter()
        .map(|e| e.idx)
        .collect()
}

#[test]
fn event_idx_is_monotonic_across_process_restarts() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        let status = append_events(dir.path(), "r", 5, 0).status().unwrap();
        assert!(status.success());
    }
    let store = RunStore::new(dir.path());
    let run_id = RunId::new("r").unwrap();
    // run_created + 3 x 5 events.
    assert_eq!(indices(&store, &run_id), (1..=16).collect::<Vec<_>>());
}

#[test]
fn a_killed_driver_leaves_a_readable_log_and_a_recoverable_lock() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let run_id = RunId::new("k").unwrap();
    let mut child = append_events(dir.path(), "k", 10_000, 2).spawn().unwrap();
    // Wait until it has written a few events, then SIGKILL it mid-run.
    let deadline = Instant::now() + Duration::from_secs(20);
    while indices_or_empty(&store, &run_id).len() < 5 {
        assert!(Instant::now() < deadline, "the driver wrote no events");
        std::thread::sleep(Duration::from_millis(10));
    }
    // While it lives, nobody else may drive the run.
    let err = store.open(&run_id).unwrap_err().to_string();
    assert!(err.contains("in use by another process"), "{err}");
    child.kill().unwrap();
    child.wait().unwrap();

    let before = indices(&store, &run_id);
    assert_eq!(before, (1..=before.len() as u64).collect::<Vec<_>>());
    // A new driver takes over the dead one's lock and continues the numbering.
    let run = store.open(&run_id).unwrap();
    let next = run
        .event(EventType::StageStarted, None, serde_json::json!({}))
        .unwrap();
    let events = store.events(&run_id, 0, usize::MAX).unwrap();
    let recovered = events
        .iter()
        .find(|e| e.event_type == EventType::LockRecovered)
        .expect("lock_recovered event");
    assert_eq!(recovered.idx, before.len() as u64 + 1);
    assert_eq!(next.idx, before.len() as u64 + 2);
}

fn indices_or_empty(store: &RunStore, run_id: &RunId) -> Vec<u64> {
    store
        .events(run_id, 0, usize::MAX)
        .map(|events| events.iter().map(|e| e.idx).collect())
        .unwrap_or_default()
}
