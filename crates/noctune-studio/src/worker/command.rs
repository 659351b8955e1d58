//! The command line of a worker, started with no shell, stdin null, output to the run's
//! `logs/worker.log`:
//!
//! - a run: `noctune run --root R --run-id ID --pack P [--file-list F] [--yes]`;
//! - a task: `noctune task --root R --run-id ID --pack P --yes -- REQUEST [PATHS...]` (the
//!   request is one argument, after `--` so a request starting with `-` is never an option).
//!
//! What a worker needs beyond `run.json` lives under `.noctune_cache/studio/`, so a resume
//! starts the same worker again: a run's file list (or a task's paths) in
//! `file-lists/<run_id>.txt`, a task's request in `requests/<run_id>.txt`.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use noctune_core::RunId;

use crate::error::{Error, Result};

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

/// The kind of work a worker does: the command `run.json` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerJob {
    /// `noctune run`: a pass of a policy pack over the repository (or a file list).
    Run,
    /// `noctune task`: a request planned, tested, written and verified on a copy.
    Task {
        /// The request, in the user's words.
        request: String,
    },
}

impl WorkerJob {
    /// The subcommand, as `run.json`'s `command` records it.
    pub fn command(&self) -> &'static str {
        match self {
            WorkerJob::Run => "run",
            WorkerJob::Task { .. } => "task",
        }
    }

    /// Whether a worker resumed after a decision applies (or drops) the decided change: a
    /// run's resume does, and so does a finished task's (`noctune task --run-id` applies the
    /// changes decided since, where the configuration allows applying).
    pub fn resumes_decisions(&self) -> bool {
        matches!(self, WorkerJob::Run | WorkerJob::Task { .. })
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
    /// A run or a task.
    pub job: WorkerJob,
    /// A run's files (one repo-relative `.py` per line) or a task's paths, when the work is
    /// limited to some of the repository.
    pub file_list: Option<PathBuf>,
    /// Pass `--yes`. A run applies approved changes without a terminal prompt (only when the
    /// configuration allows applying at all); a task accepts its plan, and applies only when
    /// the configuration allows it.
    pub yes: bool,
}

impl WorkerArgs {
    /// The argument vector. A task's paths are read from its file list.
    pub fn to_args(&self) -> Result<Vec<OsString>> {
        let mut args: Vec<OsString> = vec![
            self.job.command().into(),
            "--root".into(),
            self.root.clone().into_os_string(),
            "--run-id".into(),
            self.run_id.as_str().into(),
            "--pack".into(),
            self.pack.clone().into(),
        ];
        if let (WorkerJob::Run, Some(list)) = (&self.job, &self.file_list) {
            args.push("--file-list".into());
            args.push(list.clone().into_os_string());
        }
        if self.yes {
            args.push("--yes".into());
        }
        if let WorkerJob::Task { request } = &self.job {
            args.push("--".into());
            args.push(request.into());
            if let Some(list) = &self.file_list {
                args.extend(read_file_list(list)?.into_iter().map(OsString::from));
            }
        }
        Ok(args)
    }
}

/// Where the daemon keeps a run's file list (or a task's paths):
/// `.noctune_cache/studio/file-lists/<run_id>.txt`.
pub fn file_list_path(studio_dir: &Path, run_id: &RunId) -> PathBuf {
    studio_dir
        .join("file-lists")
        .join(format!("{}.txt", run_id.as_str()))
}

/// Where the daemon keeps a task's request: `.noctune_cache/studio/requests/<run_id>.txt`.
pub fn request_path(studio_dir: &Path, run_id: &RunId) -> PathBuf {
    studio_dir
        .join("requests")
        .join(format!("{}.txt", run_id.as_str()))
}

/// Writes what a new run's workers need, atomically: its file list (one path a line) and, for
/// a task, its request.
pub fn write_job_files(
    studio_dir: &Path,
    run_id: &RunId,
    job: &WorkerJob,
    files: Option<&[PathBuf]>,
) -> Result<()> {
    if let Some(files) = files {
        let text: String = files
            .iter()
            .map(|f| format!("{}\n", f.to_string_lossy()))
            .collect();
        write_new(&file_list_path(studio_dir, run_id), text.as_bytes())?;
    }
    if let WorkerJob::Task { request } = job {
        write_new(&request_path(studio_dir, run_id), request.as_bytes())?;
    }
    Ok(())
}

/// The job of a run, from `run.json`'s `command` and, for a task, its kept request. `Ok(None)`
/// for a command workers do not run (it resumes from the CLI).
pub fn read_job(
    studio_dir: &Path,
    run_id: &RunId,
    command: Option<&str>,
) -> Result<Option<WorkerJob>> {
    match command {
        None | Some("run") => Ok(Some(WorkerJob::Run)),
        Some("task") => {
            let path = request_path(studio_dir, run_id);
            let request = fs::read_to_string(&path)
                .map_err(|err| Error::io("read the task's request", &path, err))?;
            Ok(Some(WorkerJob::Task { request }))
        }
        Some(_) => Ok(None),
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|err| Error::io("create directory", dir, err))?;
    }
    noctune_core::store::write_atomic(path, bytes)?;
    Ok(())
}

fn read_file_list(path: &Path) -> Result<Vec<String>> {
    let text =
        fs::read_to_string(path).map_err(|err| Error::io("read the file list", path, err))?;
    Ok(text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn the_worker_runs_the_run_command_with_its_run_id() {
        let args = WorkerArgs {
            root: PathBuf::from("/repo"),
            run_id: RunId::new("r1").unwrap(),
            pack: "lint_fix".into(),
            job: WorkerJob::Run,
            file_list: Some(PathBuf::from("/repo/list.txt")),
            yes: true,
        };
        assert_eq!(
            strings(args.to_args().unwrap()),
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
                "--yes",
            ]
        );
    }

    #[test]
    fn a_task_worker_gets_its_kept_request_as_one_argument_after_the_options() {
        let dir = tempfile::tempdir().unwrap();
        let run_id = RunId::new("t1").unwrap();
        let request = "--help me: add fib(n)\nwith a test".to_owned();
        let job = WorkerJob::Task {
            request: request.clone(),
        };
        let paths = [PathBuf::from("pkg"), PathBuf::from("tests/test_x.py")];
        write_job_files(dir.path(), &run_id, &job, Some(&paths)).unwrap();
        // A resume reads the job back from `run.json`'s command and the kept request.
        let kept = read_job(dir.path(), &run_id, Some("task"))
            .unwrap()
            .unwrap();
        assert_eq!(kept, job);
        let args = WorkerArgs {
            root: PathBuf::from("/repo"),
            run_id: run_id.clone(),
            pack: "feature".into(),
            job: kept,
            file_list: Some(file_list_path(dir.path(), &run_id)),
            yes: true,
        };
        assert_eq!(
            strings(args.to_args().unwrap()),
            vec![
                "task",
                "--root",
                "/repo",
                "--run-id",
                "t1",
                "--pack",
                "feature",
                "--yes",
                "--",
                request.as_str(),
                "pkg",
                "tests/test_x.py",
            ]
        );
    }

    #[test]
    fn a_task_without_its_kept_request_names_the_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let run_id = RunId::new("t2").unwrap();
        let err = read_job(dir.path(), &run_id, Some("task")).unwrap_err();
        assert!(err.to_string().contains("requests/t2.txt"), "{err}");
        assert_eq!(read_job(dir.path(), &run_id, Some("check")).unwrap(), None);
    }
}
