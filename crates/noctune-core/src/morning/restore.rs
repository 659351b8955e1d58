//! `noctune restore`: files put back, byte-exact, as they were before a run changed them, from
//! the run's backups. A file edited after Noctune applied its change is refused unless forced;
//! a forced restore first saves what it replaces.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{selected, unmatched};
use crate::error::{Error, Result};
use crate::event::EventType;
use crate::ids::{RunId, TaskId, content_hash};
use crate::pipeline::apply::resolve_in_root;
use crate::store::{Run, RunStore, write_atomic};
use crate::task::{TaskStage, TaskState, TaskStatus};

/// What `noctune restore` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Only these files (repo-relative); every file the run changed when empty.
    pub files: Vec<PathBuf>,
    /// Say what would be done, write nothing.
    pub dry_run: bool,
    /// Restore even a file edited since Noctune applied its change (what it replaces is saved
    /// first under the task's backups, in `before_restore/`).
    pub force: bool,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RestoreVerdict {
    /// Put back from the backup.
    Restored {
        /// The backup it came from.
        from: PathBuf,
        /// Where the replaced content was saved (a forced restore of an edited file).
        saved: Option<PathBuf>,
    },
    /// `--dry-run`: it would be put back from this backup.
    WouldRestore {
        /// The backup.
        from: PathBuf,
    },
    /// The file already has the content from before the run.
    AlreadyOriginal,
    /// Refused: the file changed after Noctune applied its change (`--force` restores anyway).
    ChangedSince {
        /// SHA-256 of what Noctune wrote.
        expected: String,
        /// SHA-256 of what is there now (`missing` when the file is gone).
        found: String,
    },
    /// Refused for another reason (no backup for a named file, a refused path).
    Refused {
        /// Why.
        why: String,
    },
}

impl RestoreVerdict {
    /// Whether the file was refused (`noctune restore` then exits 1).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            RestoreVerdict::ChangedSince { .. } | RestoreVerdict::Refused { .. }
        )
    }

    /// A short word for the outcome, as the CLI prints it.
    pub fn word(&self) -> &'static str {
        match self {
            RestoreVerdict::Restored { .. } => "restored",
            RestoreVerdict::WouldRestore { .. } => "would restore",
            RestoreVerdict::AlreadyOriginal => "already original",
            RestoreVerdict::ChangedSince { .. } => "changed since",
            RestoreVerdict::Refused { .. } => "refused",
        }
    }
}

/// One file and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreLine {
    /// The file, repo-relative.
    pub file: PathBuf,
    /// What happened.
    #[serde(flatten)]
    pub verdict: RestoreVerdict,
}

/// What the run did to one file: its oldest backup (the content before the run) and the hash
/// of the last text Noctune wrote.
struct Changed {
    state: TaskState,
    original: PathBuf,
    last_written: Option<String>,
}

/// Restores the files a run changed. Takes the run's lock; records `restored` events; marks
/// each restored task `restored`; rewrites the report when anything was restored.
pub fn restore(
    store: &RunStore,
    run_id: &RunId,
    options: &RestoreOptions,
) -> Result<Vec<RestoreLine>> {
    let run = store.open(run_id)?;
    let root = run.record().repo_root.clone();
    let changed = changed_files(store, &run)?;
    let mut lines = Vec::new();
    let mut seen: Vec<&Path> = Vec::new();
    for item in changed.values() {
        let file = item.state.file.as_path();
        if !selected(&options.files, file) {
            continue;
        }
        seen.push(file);
        let verdict = one(&run, &root, item, options)?;
        lines.push(RestoreLine {
            file: file.to_path_buf(),
            verdict,
        });
    }
    for file in unmatched(&options.files, &seen) {
        lines.push(RestoreLine {
            file: file.clone(),
            verdict: RestoreVerdict::Refused {
                why: format!("run `{run_id}` changed no such file (no backup)"),
            },
        });
    }
    let restored = lines
        .iter()
        .any(|l| matches!(l.verdict, RestoreVerdict::Restored { .. }));
    drop(run);
    if restored {
        crate::report::write(store, run_id)?;
    }
    Ok(lines)
}

fn one(run: &Run, root: &Path, item: &Changed, options: &RestoreOptions) -> Result<RestoreVerdict> {
    let rel = &item.state.file;
    // `None`: the run created the file; putting back what was there means removing it.
    let original = if item.original.extension().is_some_and(|e| e == "absent") {
        None
    } else {
        Some(
            std::fs::read(&item.original)
                .map_err(|err| Error::io("read the backup", &item.original, err))?,
        )
    };
    let path = root.join(rel);
    let current = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(Error::io("read", &path, err)),
    };
    if current.as_deref() == original.as_deref() {
        return Ok(RestoreVerdict::AlreadyOriginal);
    }
    let found = current
        .as_deref()
        .map_or_else(|| "missing".to_owned(), content_hash);
    let edited_since = item.last_written.as_ref() != Some(&found);
    if edited_since && !options.force {
        return Ok(RestoreVerdict::ChangedSince {
            expected: item
                .last_written
                .clone()
                .unwrap_or_else(|| "unrecorded".to_owned()),
            found,
        });
    }
    if options.dry_run {
        return Ok(RestoreVerdict::WouldRestore {
            from: item.original.clone(),
        });
    }
    if current.is_some()
        && let Err(err) = resolve_in_root(root, rel)
    {
        return Ok(RestoreVerdict::Refused {
            why: err.to_string(),
        });
    }
    // What a forced restore replaces is kept: nothing is lost.
    let saved = match (&current, edited_since) {
        (Some(bytes), true) => {
            let name = rel.file_name().unwrap_or(rel.as_os_str());
            let to = run
                .layout()
                .backups(&item.state.task_id)
                .join("before_restore")
                .join(name);
            if let Some(dir) = to.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|err| Error::io("create directory", dir, err))?;
            }
            write_atomic(&to, bytes)?;
            Some(to)
        }
        _ => None,
    };
    let hash = match &original {
        Some(original) => {
            write_atomic(&path, original)?;
            content_hash(original)
        }
        None => {
            std::fs::remove_file(&path).map_err(|err| Error::io("remove", &path, err))?;
            "absent".to_owned()
        }
    };
    run.event(
        EventType::Restored,
        Some(&item.state.task_id),
        serde_json::json!({
            "from": item.original,
            "hash": hash,
            "forced": edited_since,
            "saved": saved,
        }),
    )?;
    let mut state = item.state.clone();
    state.status = TaskStatus::Restored;
    state.stage = TaskStage::Done;
    state.updated_at = jiff::Timestamp::now();
    run.write_task(&state)?;
    Ok(RestoreVerdict::Restored {
        from: item.original.clone(),
        saved,
    })
}

/// The files the run wrote, by task: the oldest pass's backup holds the content from before
/// the run; the last `applied` event holds the hash of what was written.
fn changed_files(store: &RunStore, run: &Run) -> Result<BTreeMap<PathBuf, Changed>> {
    let mut last_written: BTreeMap<TaskId, Option<String>> = BTreeMap::new();
    for event in store.events(run.id(), 0, usize::MAX)? {
        if event.event_type == EventType::Applied
            && let Some(task) = event.task_id
        {
            let hash = event.payload["hash"].as_str().map(str::to_owned);
            last_written.insert(task, hash);
        }
    }
    let mut out = BTreeMap::new();
    for state in store.tasks(run.id())? {
        let Some(written) = last_written.get(&state.task_id) else {
            continue;
        };
        let Some(original) = oldest_backup(&run.layout().backups(&state.task_id), &state.file)
        else {
            continue;
        };
        out.insert(
            state.file.clone(),
            Changed {
                last_written: written.clone(),
                original,
                state,
            },
        );
    }
    Ok(out)
}

/// `backups/<task>/p<N>/<name>` (or `<name>.absent`, for a file the run created) with the
/// lowest N.
fn oldest_backup(dir: &Path, file: &Path) -> Option<PathBuf> {
    let name = file.file_name()?;
    let mut passes: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let pass = entry
                .file_name()
                .to_str()?
                .strip_prefix('p')?
                .parse()
                .ok()?;
            let path = entry.path().join(name);
            if path.is_file() {
                return Some((pass, path));
            }
            // A file the run created: restoring it removes it.
            let mut marker = name.to_os_string();
            marker.push(".absent");
            let marker = entry.path().join(marker);
            marker.is_file().then_some((pass, marker))
        })
        .collect();
    passes.sort();
    passes.into_iter().next().map(|(_, path)| path)
}
