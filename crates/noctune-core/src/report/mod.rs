//! The morning report of a run: per file what was applied, queued, rejected (with the
//! approver's reason) or failed (with the gate errors), the symbol diffs, tokens and time per
//! stage. Rendered as markdown ([`markdown`]) and as one self-contained HTML page ([`html`]).

mod endpoints;
mod gather;
pub mod html;
pub mod markdown;
mod pass_diffs;

pub use endpoints::EndpointsReport;
pub use gather::{FileReport, RunReport, StageStats, SymbolDiff, gather};
pub use pass_diffs::pass_heading;

use std::path::PathBuf;

use crate::error::Result;
use crate::ids::RunId;
use crate::store::{RunStore, write_atomic};

/// Writes `report.md` and `report.html` into the run's directory; returns their paths.
pub fn write(store: &RunStore, run_id: &RunId) -> Result<(PathBuf, PathBuf)> {
    let report = gather(store, run_id)?;
    let dir = store.cache().run(run_id).dir().to_path_buf();
    let md = dir.join("report.md");
    let html = dir.join("report.html");
    write_atomic(&md, markdown::render(&report).as_bytes())?;
    write_atomic(&html, html::render(&report).as_bytes())?;
    Ok((md, html))
}
