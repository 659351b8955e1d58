//! Paths of the cache directory and of one run.

use std::path::{Path, PathBuf};

use crate::ids::{RunId, TaskId};

/// The cache directory's name under the repository root.
pub const CACHE_DIR: &str = ".noctune_cache";

/// Paths under `<root>/.noctune_cache`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheLayout {
    dir: PathBuf,
}

impl CacheLayout {
    /// The layout of the repository at `root`.
    pub fn for_root(root: &Path) -> Self {
        Self {
            dir: root.join(CACHE_DIR),
        }
    }

    /// `.noctune_cache`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates `.noctune_cache` when missing, with a `.gitignore` of `*` (as ruff's cache does),
    /// so the cache never shows in `git status` or a commit; an existing `.gitignore` is kept.
    pub fn ensure(&self) -> crate::error::Result<()> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|err| crate::error::Error::io("create directory", &self.dir, err))?;
        let ignore = self.dir.join(".gitignore");
        if !ignore.exists() {
            super::create_atomic(
                &ignore,
                b"# Created by Noctune: its cache is never committed.\n*\n",
            )?;
        }
        Ok(())
    }

    /// `.noctune_cache/overrides` (prompt overrides).
    pub fn overrides(&self) -> PathBuf {
        self.dir.join("overrides")
    }

    /// `.noctune_cache/runs`.
    pub fn runs(&self) -> PathBuf {
        self.dir.join("runs")
    }

    /// `.noctune_cache/models` (the calibration probe's records, one JSON file per model).
    pub fn models(&self) -> PathBuf {
        self.dir.join("models")
    }

    /// `.noctune_cache/index.db` (the symbol index).
    pub fn index_db(&self) -> PathBuf {
        self.dir.join("index.db")
    }

    /// The layout of one run.
    pub fn run(&self, run_id: &RunId) -> RunLayout {
        RunLayout {
            dir: self.runs().join(run_id.as_str()),
        }
    }
}

/// Paths under `.noctune_cache/runs/<run_id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLayout {
    dir: PathBuf,
}

impl RunLayout {
    /// The run's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `state/`.
    pub fn state(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// `state/run.json`.
    pub fn run_json(&self) -> PathBuf {
        self.state().join("run.json")
    }

    /// `state/run.lock`.
    pub fn lock(&self) -> PathBuf {
        self.state().join("run.lock")
    }

    /// `state/model.json`: the calibration probe's record of the model the run used.
    pub fn model_calibration(&self) -> PathBuf {
        self.state().join("model.json")
    }

    /// `state/tasks/`.
    pub fn tasks(&self) -> PathBuf {
        self.state().join("tasks")
    }

    /// `state/tasks/<task_id>.json`.
    pub fn task_state(&self, task_id: &TaskId) -> PathBuf {
        self.tasks().join(format!("{task_id}.json"))
    }

    /// `state/approvals/` (one JSON file per queued approval).
    pub fn approvals(&self) -> PathBuf {
        self.state().join("approvals")
    }

    /// `state/decisions/` (one JSON file per human decision).
    pub fn decisions(&self) -> PathBuf {
        self.state().join("decisions")
    }

    /// `artifacts/<task_id>/`.
    pub fn artifacts(&self, task_id: &TaskId) -> PathBuf {
        self.dir.join("artifacts").join(task_id.as_str())
    }

    /// `backups/<task_id>/`.
    pub fn backups(&self, task_id: &TaskId) -> PathBuf {
        self.dir.join("backups").join(task_id.as_str())
    }

    /// `logs/`.
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// `logs/events.jsonl`.
    pub fn events(&self) -> PathBuf {
        self.logs().join("events.jsonl")
    }
}
