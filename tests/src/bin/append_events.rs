//! Test helper: opens (or creates) a run and appends events, as a worker would.
//!
//! `append-events ROOT RUN_ID COUNT [DELAY_MS]`: creates the run if needed, then appends COUNT
//! `stage_started` events, sleeping DELAY_MS between them (so a test can kill it mid-way).

use std::path::Path;
use std::time::Duration;

use noctune_core::store::{RunSpec, RunStore};
use noctune_core::{EventType, RunId};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, root, run_id, count, rest @ ..] = args.as_slice() else {
        return Err("usage: append-events ROOT RUN_ID COUNT [DELAY_MS]".into());
    };
    let delay = Duration::from_millis(rest.first().map_or(Ok(0), |d| d.parse())?);
    let store = RunStore::new(Path::new(root));
    let run_id = RunId::new(run_id.as_str())?;
    let run = match store.read(&run_id) {
        Ok(_) => store.open(&run_id)?,
        Err(_) => store.create(RunSpec {
            run_id: Some(run_id),
            ..RunSpec::default()
        })?,
    };
    for i in 0..count.parse::<u32>()? {
        run.event(EventType::StageStarted, None, serde_json::json!({ "i": i }))?;
        std::thread::sleep(delay);
    }
    Ok(())
}
