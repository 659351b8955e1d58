//! `noctune commit`: the auto-commit path for dirty working trees, whoever changed them.
//!
//! Per repository ([`sweep_repo`]): skip it when it is mid-merge/rebase or its index is not
//! empty ([`state`]); with `--push`, fetch and fast-forward first, or stop when diverged
//! ([`push`]); keep secret-looking files out (named, never printed); group the rest by module;
//! have the model write each group's message in two steps ([`message`]); stage the group's
//! paths by name, check them, commit ([`crate::staging`]); push.

pub mod discover;
pub mod message;
pub mod push;
pub mod state;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Result;
use crate::patchset::commit::LeftOut;
use crate::patchset::diff::unified;
use crate::patchset::group::module_of;
use crate::runner::Git;
use crate::secrets::{scan_added, secret_path};
use crate::staging::{Committed, commit_paths};

pub use discover::discover;
pub use message::{CommitMessage, MessageWriter};

/// How a sweep runs.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Push to the tracked upstream (fast-forward first; refuse when diverged).
    pub push: bool,
    /// Leading directories that make a module (the grouping).
    pub module_depth: usize,
    /// The model that writes the messages.
    pub writer: MessageWriter,
}

/// One commit made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitLine {
    /// The commit.
    pub sha: String,
    /// Its subject.
    pub subject: String,
    /// The files it holds.
    pub files: Vec<PathBuf>,
}

/// What a sweep did in one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct RepoReport {
    /// The repository.
    pub repo: PathBuf,
    /// Why it was left alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// `fast-forwarded by N` before committing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synced: Option<String>,
    /// The commits made.
    pub commits: Vec<CommitLine>,
    /// Files left uncommitted, and why.
    pub left_out: Vec<LeftOut>,
    /// What the push did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed: Option<String>,
    /// What went wrong (a group the model could not describe, a refused push, ...).
    pub errors: Vec<String>,
}

impl RepoReport {
    /// Whether something was left undone: a secret left out, a refusal, an error.
    pub fn incomplete(&self) -> bool {
        !self.left_out.is_empty() || !self.errors.is_empty()
    }
}

/// Sweeps one repository; never fails as a whole: what went wrong is in the report.
pub async fn sweep_repo(repo: &Path, options: &SweepOptions) -> RepoReport {
    let mut report = RepoReport {
        repo: repo.to_path_buf(),
        ..RepoReport::default()
    };
    if let Err(err) = sweep(repo, options, &mut report).await {
        report.errors.push(err.to_string());
    }
    report
}

async fn sweep(repo: &Path, options: &SweepOptions, report: &mut RepoReport) -> Result<()> {
    let probe = Git::new(repo);
    let top = probe.run(&["rev-parse", "--show-toplevel"]).await?;
    if !top.success() {
        report.skipped = Some("not a git repository".to_owned());
        return Ok(());
    }
    let git = Git::new(top.stdout_text().trim());
    if let Some(why) = state::skip_reason(&git).await? {
        report.skipped = Some(why);
        return Ok(());
    }
    let upstream = if options.push {
        match push::upstream(&git).await? {
            Some(upstream) => match push::sync(&git, &upstream).await? {
                push::Sync::Ready => Some(upstream),
                push::Sync::FastForwarded { by } => {
                    report.synced = Some(format!("fast-forwarded by {by} commit(s)"));
                    Some(upstream)
                }
                push::Sync::Refused { why } => {
                    report.errors.push(why);
                    return Ok(());
                }
            },
            None => {
                report
                    .errors
                    .push("the branch tracks no upstream: nothing can be pushed".to_owned());
                None
            }
        }
    } else {
        None
    };

    let mut groups: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for file in state::changed_files(&git).await? {
        let name = file.path.to_string_lossy().replace('\\', "/");
        if let Some(finding) = secret_path(&file.path) {
            report.left_out.push(LeftOut {
                file: file.path.clone(),
                why: finding.to_string(),
            });
            continue;
        }
        let diff = if file.deleted {
            String::new()
        } else {
            let now = std::fs::read(git.dir().join(&file.path))
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let before = if file.untracked {
                String::new()
            } else {
                git.text(&["show", &format!("HEAD:{name}")])
                    .await
                    .unwrap_or_default()
            };
            if let Some(finding) = scan_added(&before, &now) {
                report.left_out.push(LeftOut {
                    file: file.path.clone(),
                    why: format!("looks like a secret: {finding}"),
                });
                continue;
            }
            if file.untracked {
                unified("/dev/null", &format!("b/{name}"), "", &now)
            } else {
                git.text(&["diff", "--no-color", "--no-ext-diff", "--", &name])
                    .await?
            }
        };
        groups
            .entry(module_of(&file.path, options.module_depth))
            .or_default()
            .push((name, diff));
    }

    let repo_name = git
        .dir()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for files in groups.values() {
        let paths: Vec<String> = files.iter().map(|(name, _)| name.clone()).collect();
        let listed: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
        let diff: String = files
            .iter()
            .map(|(name, diff)| {
                if diff.is_empty() {
                    format!("deleted file {name}\n")
                } else {
                    diff.clone()
                }
            })
            .collect();
        let message = match options.writer.write(&repo_name, &listed, &diff).await {
            Ok(message) => message,
            Err(err) => {
                report
                    .errors
                    .push(format!("{} left uncommitted: {err}", paths.join(", ")));
                continue;
            }
        };
        match commit_paths(&git, &paths, &message.text()).await? {
            Committed::Yes { sha } => report.commits.push(CommitLine {
                sha,
                subject: message.subject,
                files: listed,
            }),
            Committed::Secret { file, finding } => {
                let others: Vec<&str> = paths
                    .iter()
                    .map(String::as_str)
                    .filter(|p| *p != file)
                    .collect();
                if !others.is_empty() {
                    report.errors.push(format!(
                        "{} left uncommitted with `{file}`, whose staged diff looks like a secret",
                        others.join(", ")
                    ));
                }
                report.left_out.push(LeftOut {
                    file: PathBuf::from(file),
                    why: format!("the staged diff looks like a secret: {finding}"),
                });
            }
            Committed::Refused { why } => report.errors.push(format!(
                "`git commit` of {} failed: {why}",
                paths.join(", ")
            )),
        }
    }

    if let Some(upstream) = upstream {
        match push::push(&git, &upstream).await {
            Ok(Some(n)) => report.pushed = Some(format!("pushed {n} commit(s)")),
            Ok(None) => report.pushed = Some("nothing to push".to_owned()),
            Err(err) => report.errors.push(format!("push refused: {err}")),
        }
    }
    Ok(())
}
