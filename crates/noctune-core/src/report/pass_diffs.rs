//! The symbol diffs of every pass of a file: a file that went through several passes shows
//! what each pass changed, and whether that change reached the real file.

use super::gather::{FileReport, SymbolDiff};
use crate::error::Result;
use crate::ids::RunId;
use crate::pipeline::approve::ApprovalRecord;
use crate::pipeline::artifacts;
use crate::store::RunStore;
use crate::task::TaskState;

/// The diffs of passes 1 to the task's current pass, in order; a pass that reached no
/// approval (nothing changed, or its gates failed) has none.
pub(super) fn pass_diffs(
    store: &RunStore,
    run_id: &RunId,
    task: &TaskState,
) -> Result<Vec<SymbolDiff>> {
    let mut diffs = Vec::new();
    for pass in 1..=task.pass {
        let Some(bytes) = store.artifact(run_id, &task.task_id, &artifacts::approval(pass))? else {
            continue;
        };
        let Ok(record) = serde_json::from_slice::<ApprovalRecord>(&bytes) else {
            continue;
        };
        // Each applied pass leaves its backup under `backups/<task_id>/p<N>/`.
        let applied = store
            .cache()
            .run(run_id)
            .backups(&task.task_id)
            .join(format!("p{pass}"))
            .exists();
        diffs.extend(record.change.changes.iter().map(|c| SymbolDiff {
            symbol: c.symbol.clone(),
            diff: c.unified_diff(),
            pass,
            applied,
        }));
    }
    Ok(diffs)
}

/// The heading above the diff at `index` when it starts the diffs of a pass, for a file that
/// made more than one pass: `pass 1 (applied)`, `pass 2 (not applied)`.
pub fn pass_heading(file: &FileReport, index: usize) -> Option<String> {
    let diff = file.diffs.get(index)?;
    let starts = index == 0 || file.diffs[index - 1].pass != diff.pass;
    (file.passes > 1 && starts).then(|| {
        let applied = if diff.applied {
            "applied"
        } else {
            "not applied"
        };
        format!("pass {} ({applied})", diff.pass)
    })
}
