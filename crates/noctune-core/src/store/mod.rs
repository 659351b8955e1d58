//! The run store: the one module that reads and writes Noctune's state on disk.
//!
//! ```text
//! .noctune_cache/runs/<run_id>/state/run.json        the run's status (RunRecord)
//! .noctune_cache/runs/<run_id>/state/model.json      the calibration probe's record the run used
//! .noctune_cache/runs/<run_id>/state/run.lock        held by the process driving the run
//! .noctune_cache/runs/<run_id>/state/tasks/<task>.json
//! .noctune_cache/runs/<run_id>/artifacts/<task_id>/  per-file artifacts
//! .noctune_cache/runs/<run_id>/backups/<task_id>/    pre-apply backups
//! .noctune_cache/runs/<run_id>/logs/events.jsonl     events, `idx` increasing
//! .noctune_cache/models/<key>.json                  the calibration probe's record per model
//! ```
//!
//! Every write of state, artifacts and user files goes through [`write_atomic`]: a temp file in
//! the same directory, fsync, rename, fsync of the directory. A kill at any moment leaves either
//! the old or the new content, never a mix.

mod approvals;
mod atomic;
mod events;
mod layout;
mod lock;
mod models;
mod run_store;
mod running_tasks;
mod stop_marker;

pub use approvals::ApprovalEntry;
pub use atomic::{create_atomic, remove_stale_temps, write_atomic, write_atomic_with};
pub use events::{EventLog, read_events};
pub use layout::{CACHE_DIR, CacheLayout, RunLayout};
pub use lock::RunLock;
pub use models::{
    ModelCache, ModelLookup, read_calibration, read_run_calibrations, write_calibration,
    write_run_calibrations,
};
pub use run_store::{Run, RunSpec, RunStore};
pub use stop_marker::StopMarker;
