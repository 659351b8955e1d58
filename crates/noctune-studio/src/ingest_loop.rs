//! The background ingest: every half second, runs whose `run.json` or event log changed are
//! copied into the audit database (live tails read from it), and runs whose worker died
//! outside this daemon's supervision are settled.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use noctune_core::RunId;

use crate::state::AppState;

/// How often the store is looked at.
pub const INTERVAL: Duration = Duration::from_millis(500);

type Seen = (Option<SystemTime>, u64, Option<SystemTime>);

fn fingerprint(state: &AppState, run_id: &RunId) -> Seen {
    let layout = state.store.cache().run(run_id);
    let run_json = std::fs::metadata(layout.run_json()).ok();
    let events = std::fs::metadata(layout.events()).ok();
    (
        run_json.and_then(|m| m.modified().ok()),
        events.as_ref().map_or(0, std::fs::Metadata::len),
        std::fs::metadata(layout.decisions())
            .ok()
            .and_then(|m| m.modified().ok()),
    )
}

/// Runs until aborted.
pub async fn run(state: AppState) {
    let mut seen: HashMap<RunId, Seen> = HashMap::new();
    let mut tick: u64 = 0;
    loop {
        tokio::time::sleep(INTERVAL).await;
        tick += 1;
        if tick.is_multiple_of(4) {
            state.supervisor.settle_others().await;
        }
        let store = state.store.clone();
        let Ok(Ok(runs)) = tokio::task::spawn_blocking(move || store.list()).await else {
            continue;
        };
        for record in runs {
            let now = fingerprint(&state, &record.run_id);
            if seen.get(&record.run_id) == Some(&now) {
                continue;
            }
            state.ingest(&record.run_id).await;
            seen.insert(record.run_id, now);
        }
    }
}
