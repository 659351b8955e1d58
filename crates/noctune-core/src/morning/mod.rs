//! The morning workflow after a night run: [`apply_approved()`] turns a finished run's approved
//! proposals into changes on disk with no model call, and [`restore()`] puts files back from the
//! run's backups. Both take the run's lock, so neither runs beside a worker driving the same run, and
//! both record what they did as events of the run and refresh its report.

pub mod apply;
pub mod changes;
pub mod restore;

use std::path::{Path, PathBuf};

pub use apply::{ApplyLine, ApplyOptions, ApplyVerdict, apply_approved};
pub use changes::{AppliedChange, applied_changes};
pub use restore::{RestoreLine, RestoreOptions, RestoreVerdict, restore};

/// Whether `file` is selected by `only` (every file when `only` is empty).
fn selected(only: &[PathBuf], file: &Path) -> bool {
    only.is_empty() || only.iter().any(|f| f == file)
}

/// The files of `only` that matched nothing, as refusals of their own.
fn unmatched<'a>(only: &'a [PathBuf], seen: &[&Path]) -> impl Iterator<Item = &'a PathBuf> {
    only.iter().filter(|f| !seen.contains(&f.as_path()))
}
