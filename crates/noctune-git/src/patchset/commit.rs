//! `noctune patchset commit`: a run's patchsets as commits on `noctune/<run_id>`, made in a
//! separate `git worktree` at the run's `head_sha`. The user's working tree, index and current
//! branch are never touched: every git command that writes runs in the throw-away worktree,
//! except the final `git branch noctune/<run_id> <sha>` that names the result.
//!
//! Per patchset: secret-looking paths and contents are left out (named, never printed), each
//! file's text is the run's change merged onto the file at `head_sha` (`git merge-file`), the
//! pack's tools run, and only then are the files staged by name, the staged names checked, the
//! staged diff scanned again, and the commit made (hooks run: never `--no-verify`).

use std::path::{Path, PathBuf};

use noctune_core::event::EventType;
use noctune_core::ids::RunId;
use noctune_core::store::{RunStore, write_atomic};
use serde::Serialize;

use super::diff::unified;
use super::group::Patchset;
use super::tools::{ToolOutcome, ToolPlan, ToolResult};
use crate::autocommit::{CommitMessage, MessageWriter};
use crate::error::{Error, Result};
use crate::runner::Git;
use crate::secrets::{scan_added, secret_path};
use crate::staging::{Committed, commit_paths};

/// The report's file name in the run's directory.
pub const REPORT_FILE: &str = "patchset_commit.json";

/// What to commit.
#[derive(Debug, Clone)]
pub struct CommitOptions {
    /// The run.
    pub run_id: RunId,
    /// The run's pack, for commit messages.
    pub pack: String,
    /// The patchsets, in commit order (already fitted to `patchset_max_commits`).
    pub patchsets: Vec<Patchset>,
    /// The tools that run before each commit.
    pub tools: ToolPlan,
    /// `--message llm`: the model writes each message (`analyze`, then `format`), the
    /// patchset line and the trailers added; `None` for the template message.
    pub writer: Option<MessageWriter>,
}

/// What became of one patchset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PatchsetOutcome {
    /// Committed.
    Committed {
        /// The commit.
        sha: String,
    },
    /// Not committed, and why.
    Blocked {
        /// Why (a failing tool, a secret in the staged diff, nothing left to commit).
        why: String,
    },
}

/// A file kept out of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    /// The file.
    pub file: PathBuf,
    /// Why (a secret rule and line, never the secret; or a merge conflict).
    pub why: String,
}

/// One patchset's line in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatchsetLine {
    /// The patchset.
    pub patchset_id: String,
    /// Its key.
    pub key: String,
    /// `N` of `[patchset N/M]`.
    pub number: usize,
    /// The files committed (or that would have been).
    pub files: Vec<PathBuf>,
    /// Files left out.
    pub left_out: Vec<LeftOut>,
    /// The tools' results.
    pub tools: Vec<ToolResult>,
    /// Committed or blocked.
    #[serde(flatten)]
    pub outcome: PatchsetOutcome,
}

/// What `noctune patchset commit` did; also written to the run's `patchset_commit.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitReport {
    /// The run.
    pub run_id: RunId,
    /// The commit the branch starts from.
    pub head_sha: String,
    /// `noctune/<run_id>`, when at least one commit was made.
    pub branch: Option<String>,
    /// `M` of `[patchset N/M]`.
    pub total: usize,
    /// One line per patchset.
    pub patchsets: Vec<PatchsetLine>,
}

/// The branch a run's commits go on.
pub fn branch_name(run_id: &RunId) -> String {
    format!("noctune/{run_id}")
}

/// Commits `options.patchsets` on `noctune/<run_id>` from the run's `head_sha`. Refuses a run
/// without `head_sha`, a branch that exists already, and a run another process drives.
pub async fn commit_patchsets(store: &RunStore, options: &CommitOptions) -> Result<CommitReport> {
    let run_id = &options.run_id;
    let record = store.read(run_id)?;
    let head_sha = record.head_sha.clone().ok_or_else(|| {
        Error::Invalid(format!(
            "run `{run_id}` recorded no head_sha: it did not start in a git checkout with a commit"
        ))
    })?;
    let repo = Git::new(&record.repo_root);
    repo.text(&["rev-parse", "--show-toplevel"]).await?;
    let branch = branch_name(run_id);
    let exists = repo
        .run(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ])
        .await?;
    if exists.success() {
        return Err(Error::Invalid(format!(
            "branch `{branch}` already exists in `{}`; delete it (`git branch -D {branch}`) to \
             commit run `{run_id}` again",
            record.repo_root.display()
        )));
    }
    let run = store.open(run_id)?;
    let scratch = tempfile::Builder::new()
        .prefix("noctune-worktree-")
        .tempdir()
        .map_err(|err| {
            Error::io(
                "create a directory for the worktree in",
                std::env::temp_dir(),
                err,
            )
        })?;
    let path = scratch.path().join(run_id.as_str());
    let path_text = path.to_string_lossy().into_owned();
    repo.text(&["worktree", "add", "--detach", &path_text, &head_sha])
        .await?;
    let result = commit_in(&Git::new(&path), &run, options).await;
    // The worktree is ours: remove its directory, then let git forget it.
    drop(scratch);
    let pruned = repo.run(&["worktree", "prune"]).await;
    let lines = result?;
    pruned?;
    let last = lines.iter().rev().find_map(|l| match &l.outcome {
        PatchsetOutcome::Committed { sha } => Some(sha.clone()),
        PatchsetOutcome::Blocked { .. } => None,
    });
    let branch = match last {
        Some(sha) => {
            repo.text(&["branch", &branch, &sha]).await?;
            Some(branch)
        }
        None => None,
    };
    let report = CommitReport {
        run_id: run_id.clone(),
        head_sha,
        branch,
        total: options.patchsets.len(),
        patchsets: lines,
    };
    let json = serde_json::to_vec_pretty(&report).unwrap_or_default();
    write_atomic(&run.layout().dir().join(REPORT_FILE), &json)?;
    Ok(report)
}

/// The patchsets, one after the other, in the worktree `wt`.
async fn commit_in(
    wt: &Git,
    run: &noctune_core::store::Run,
    options: &CommitOptions,
) -> Result<Vec<PatchsetLine>> {
    let total = options.patchsets.len();
    let mut lines = Vec::with_capacity(total);
    for (index, patchset) in options.patchsets.iter().enumerate() {
        let number = index + 1;
        let line = commit_one(wt, options, patchset, number, total).await?;
        for skipped in line
            .tools
            .iter()
            .filter(|t| t.outcome == ToolOutcome::Skipped)
        {
            run.event(
                EventType::ToolSkipped,
                None,
                serde_json::json!({
                    "tool": skipped.tool,
                    "pack": options.tools.pack,
                    "why": skipped.summary,
                    "patchset_id": line.patchset_id,
                }),
            )?;
        }
        let (event, detail) = match &line.outcome {
            PatchsetOutcome::Committed { sha } => (
                EventType::PatchsetCommitted,
                serde_json::json!({ "sha": sha }),
            ),
            PatchsetOutcome::Blocked { why } => (
                EventType::PatchsetBlocked,
                serde_json::json!({ "why": why }),
            ),
        };
        run.event(
            event,
            None,
            serde_json::json!({
                "patchset_id": line.patchset_id,
                "number": number,
                "total": total,
                "files": line.files,
                "left_out": line.left_out,
                "tools": line.tools,
                "detail": detail,
            }),
        )?;
        lines.push(line);
    }
    Ok(lines)
}

/// A file as the patchset leaves it in the worktree.
struct Staged {
    file: PathBuf,
    head: Option<String>,
}

async fn commit_one(
    wt: &Git,
    options: &CommitOptions,
    patchset: &Patchset,
    number: usize,
    total: usize,
) -> Result<PatchsetLine> {
    let mut left_out = Vec::new();
    let mut planned: Vec<(Staged, String)> = Vec::new();
    for (file, before, after) in patchset.file_texts() {
        if let Some(finding) = secret_path(file) {
            left_out.push(LeftOut {
                file: file.to_path_buf(),
                why: finding.to_string(),
            });
            continue;
        }
        let target = wt.dir().join(file);
        let head = std::fs::read(&target)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let text = if head.as_deref().unwrap_or_default() == before {
            after.to_owned()
        } else {
            match merge(wt, head.as_deref().unwrap_or_default(), before, after).await? {
                Some(text) => text,
                None => {
                    left_out.push(LeftOut {
                        file: file.to_path_buf(),
                        why: "the file at head_sha differs from what the run read, and the \
                              run's change does not merge onto it cleanly"
                            .to_owned(),
                    });
                    continue;
                }
            }
        };
        if let Some(finding) = scan_added(head.as_deref().unwrap_or_default(), &text) {
            left_out.push(LeftOut {
                file: file.to_path_buf(),
                why: format!("looks like a secret: {finding}"),
            });
            continue;
        }
        if head.as_deref() == Some(text.as_str()) {
            continue;
        }
        planned.push((
            Staged {
                file: file.to_path_buf(),
                head,
            },
            text,
        ));
    }
    let files: Vec<PathBuf> = planned.iter().map(|(s, _)| s.file.clone()).collect();
    let mut line = PatchsetLine {
        patchset_id: patchset.id.clone(),
        key: patchset.key.clone(),
        number,
        files: files.clone(),
        left_out,
        tools: Vec::new(),
        outcome: PatchsetOutcome::Blocked { why: String::new() },
    };
    if planned.is_empty() {
        line.outcome = PatchsetOutcome::Blocked {
            why: if line.left_out.is_empty() {
                "nothing to commit: the files at head_sha already hold these changes".to_owned()
            } else {
                "nothing to commit: every file was left out".to_owned()
            },
        };
        return Ok(line);
    }

    let baseline = options.tools.ruff_baseline(wt.dir(), &files).await;
    for (staged, text) in &planned {
        let target = wt.dir().join(&staged.file);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|err| Error::io("create directory", parent, err))?;
        }
        write_atomic(&target, text.as_bytes())?;
    }
    let diff: String = planned
        .iter()
        .map(|(staged, text)| {
            let name = staged.file.to_string_lossy();
            unified(
                &format!("a/{name}"),
                &format!("b/{name}"),
                staged.head.as_deref().unwrap_or_default(),
                text,
            )
        })
        .collect();
    let staged: Vec<Staged> = planned.into_iter().map(|(s, _)| s).collect();
    line.tools = options.tools.check(wt.dir(), &files, &baseline).await;
    if let Some(failed) = line.tools.iter().find(|t| t.outcome == ToolOutcome::Failed) {
        revert(wt.dir(), &staged)?;
        line.outcome = PatchsetOutcome::Blocked {
            why: format!("`{}` failed: {}", failed.tool, failed.summary),
        };
        return Ok(line);
    }

    let names: Vec<String> = files
        .iter()
        .map(|f| f.to_string_lossy().replace('\\', "/"))
        .collect();
    let message = match &options.writer {
        None => message(options, patchset, number, total),
        Some(writer) => {
            let repo = format!("{} (run {})", options.pack, options.run_id);
            match writer.write(&repo, &files, &diff).await {
                Ok(written) => llm_message(options, patchset, number, total, &written),
                Err(err) => {
                    revert(wt.dir(), &staged)?;
                    line.outcome = PatchsetOutcome::Blocked {
                        why: format!("--message llm: {err}"),
                    };
                    return Ok(line);
                }
            }
        }
    };
    let outcome = commit_paths(wt, &names, &message).await;
    let why = match outcome {
        Ok(Committed::Yes { sha }) => {
            line.outcome = PatchsetOutcome::Committed { sha };
            return Ok(line);
        }
        Ok(Committed::Secret { file, finding }) => {
            format!("the staged diff of `{file}` looks like a secret: {finding}")
        }
        // A hook refused it (hooks always run).
        Ok(Committed::Refused { why }) => format!("`git commit` failed: {why}"),
        Err(err) => {
            revert(wt.dir(), &staged)?;
            return Err(err);
        }
    };
    revert(wt.dir(), &staged)?;
    line.outcome = PatchsetOutcome::Blocked { why };
    Ok(line)
}

/// `Noctune Studio: <pack> (#<run_id>) [patchset N/M]`, the files, and the trailers.
pub fn message(
    options: &CommitOptions,
    patchset: &Patchset,
    number: usize,
    total: usize,
) -> String {
    let mut text = format!(
        "{}\n\n{}: {} file(s) changed by run {}\n",
        title(options, number, total),
        patchset.key,
        patchset.files.len(),
        options.run_id,
    );
    for file in &patchset.files {
        text.push_str(&format!("- {}\n", file.display()));
    }
    text + &trailers(options, patchset)
}

/// The model's subject and body, then the patchset's title line and the trailers.
pub fn llm_message(
    options: &CommitOptions,
    patchset: &Patchset,
    number: usize,
    total: usize,
    written: &CommitMessage,
) -> String {
    format!(
        "{}\n{}\n{}",
        written.text(),
        title(options, number, total),
        trailers(options, patchset)
    )
}

/// `Noctune Studio: <pack> (#<run_id>) [patchset N/M]`.
fn title(options: &CommitOptions, number: usize, total: usize) -> String {
    format!(
        "Noctune Studio: {} (#{}) [patchset {number}/{total}]",
        options.pack, options.run_id
    )
}

/// `Noctune-Run:` and `Noctune-Patchset:`, as the last paragraph.
fn trailers(options: &CommitOptions, patchset: &Patchset) -> String {
    format!(
        "\nNoctune-Run: {}\nNoctune-Patchset: {}\n",
        options.run_id, patchset.id
    )
}

/// Puts the worktree's files back as they are at head_sha.
fn revert(dir: &Path, staged: &[Staged]) -> Result<()> {
    for file in staged {
        let target = dir.join(&file.file);
        match &file.head {
            Some(text) => write_atomic(&target, text.as_bytes())?,
            None => {
                std::fs::remove_file(&target).map_err(|err| Error::io("remove", &target, err))?
            }
        }
    }
    Ok(())
}

/// `git merge-file -p`: the run's change (`base` → `other`) onto `current`; `None` on a
/// conflict.
async fn merge(wt: &Git, current: &str, base: &str, other: &str) -> Result<Option<String>> {
    let dir = tempfile::Builder::new()
        .prefix("noctune-merge-")
        .tempdir()
        .map_err(|err| Error::io("create a directory in", std::env::temp_dir(), err))?;
    let mut paths = Vec::new();
    for (name, text) in [("current", current), ("base", base), ("other", other)] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).map_err(|err| Error::io("write", &path, err))?;
        paths.push(path.to_string_lossy().into_owned());
    }
    let output = wt
        .run(&["merge-file", "-p", &paths[0], &paths[1], &paths[2]])
        .await?;
    Ok((output.code == Some(0)).then(|| output.stdout_text()))
}
