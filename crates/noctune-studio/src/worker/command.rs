//! The command line of a run worker: `noctune run --root R --run-id ID --pack P
//! [--file-list F] [--yes]`, started with no shell, stdin null, output to the run's
//! `logs/worker.log`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use noctune_core::RunId;

/// Which program runs workers, and with what environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerCommand {
    /// The `noctune` binary (the daemon's own executable by default).
    pub program: PathBuf,
    /// Extra environment variables for workers (tests point them at a fake model server).
    pub env: Vec<(OsString, OsString)>,
}

impl WorkerCommand {
    /// The daemon's own executable, with the daemon's environment.
    pub fn current_exe() -> std::io::Result<Self> {
        Ok(Self {
            program: std::env::current_exe()?,
            env: Vec::new(),
        })
    }
}

/// What one worker is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerArgs {
    /// The repository root.
    pub root: PathBuf,
    /// The run (created by the daemon before the worker starts; the worker resumes it).
    pub run_id: RunId,
    /// The policy pack.
    pub pack: String,
    /// A file list (one repo-relative `.py` per line), when the run is limited to some files.
    pub file_list: Option<PathBuf>,
    /// Pass `--yes`: apply approved changes without a terminal prompt (only when the
    /// configuration allows applying at all).
    pub yes: bool,
}

impl WorkerArgs {
    /// The argument vector.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "run".into(),
            "--root".into(),
            self.root.clone().into_os_string(),
            "--run-id".into(),
            self.run_id.as_str().into(),
            "--pack".into(),
            self.pack.clone().into(),
        ];
        if let Some(list) = &self.file_list {
            args.push("--file-list".into());
            args.push(list.clone().into_os_string());
        }
        if self.yes {
            args.push("--yes".into());
        }
        args
    }
}

/// Where the daemon keeps a run's file list: `.noctune_cache/studio/file-lists/<run_id>.txt`.
pub fn file_list_path(studio_dir: &Path, run_id: &RunId) -> PathBuf {
    studio_dir
        .join("file-lists")
        .join(format!("{}.txt", run_id.as_str()))
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn the_worker_runs_the_run_command_with_its_run_id() {
        let args = WorkerArgs {
            root: PathBuf::from("/repo"),
            run_id: RunId::new("r1").unwrap(),
            pack: "lint_fix".into(),
            file_list: Some(PathBuf::from("/repo/list.txt")),
            yes: true,
        };
        let args: Vec<String> = args
            .to_args()
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(
            args,
            vec![
                "run",
                "--root",
                "/repo",
                "--run-id",
                "r1",
                "--pack",
                "lint_fix",
                "--file-list",
                "/repo/list.txt",
                "--yes"
            ]
        );
    }
}
