//! No task stays `running` once its run has ended: a run that failed or stopped in the middle
//! of a task records where that task is left.

use std::fs;

use jiff::Timestamp;

use super::run_store::{Run, read_json};
use crate::error::{Error, Result};
use crate::ids::TaskId;
use crate::task::{TaskState, TaskStatus};

impl Run {
    /// Moves every task marked `running` to `status` (`failed` with `error` when the run
    /// failed; `pending` when it stopped), keeping its pass and stage so a resume continues
    /// from its artifacts. Returns the tasks it moved. Each state is written atomically.
    pub fn settle_running_tasks(
        &self,
        status: TaskStatus,
        error: Option<&str>,
    ) -> Result<Vec<TaskId>> {
        let dir = self.layout().tasks();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(Error::io("read directory", &dir, err)),
        };
        let mut moved = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            // A damaged state is the run loop's to report; it is not `running`.
            let Ok(mut state) = read_json::<TaskState>(&path) else {
                continue;
            };
            if state.status != TaskStatus::Running {
                continue;
            }
            state.status = status;
            state.error = error.map(str::to_owned);
            state.updated_at = Timestamp::now();
            self.write_task(&state)?;
            moved.push(state.task_id);
        }
        moved.sort();
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use pretty_assertions::assert_eq;

    use crate::store::{RunSpec, RunStore};
    use crate::task::{TaskStage, TaskState, TaskStatus};

    #[test]
    fn only_running_tasks_move_and_keep_their_stage() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let run = store.create(RunSpec::default()).unwrap();
        let mut running = TaskState::new(PathBuf::from("a.py"));
        running.status = TaskStatus::Running;
        running.stage = TaskStage::Draft;
        let mut done = TaskState::new(PathBuf::from("b.py"));
        done.status = TaskStatus::Done;
        run.write_task(&running).unwrap();
        run.write_task(&done).unwrap();

        let moved = run
            .settle_running_tasks(TaskStatus::Failed, Some("model unreachable"))
            .unwrap();
        assert_eq!(moved, vec![running.task_id.clone()]);
        let tasks = store.tasks(run.id()).unwrap();
        let summary: Vec<_> = tasks
            .iter()
            .map(|t| (t.file.clone(), t.status, t.stage, t.error.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    PathBuf::from("a.py"),
                    TaskStatus::Failed,
                    TaskStage::Draft,
                    Some("model unreachable".to_owned())
                ),
                (
                    PathBuf::from("b.py"),
                    TaskStatus::Done,
                    TaskStage::Review,
                    None
                ),
            ]
        );
        assert!(
            run.settle_running_tasks(TaskStatus::Pending, None)
                .unwrap()
                .is_empty()
        );
    }
}
