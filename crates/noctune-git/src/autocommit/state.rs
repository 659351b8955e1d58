//! Whether a repository may be swept, and what changed in it.

use std::path::PathBuf;

use crate::error::Result;
use crate::runner::Git;

/// A changed file of the working tree (the index is empty when `noctune commit` runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// The path, relative to the repository root.
    pub path: PathBuf,
    /// Whether git does not track it yet.
    pub untracked: bool,
    /// Whether it was deleted.
    pub deleted: bool,
}

/// Why a repository is left alone, or `None` when it may be swept: mid-merge, mid-rebase,
/// mid-cherry-pick or revert, a non-empty index (someone's manual work in progress), no commit
/// yet, a detached HEAD.
pub async fn skip_reason(git: &Git) -> Result<Option<String>> {
    for (marker, what) in [
        ("MERGE_HEAD", "a merge"),
        ("rebase-merge", "a rebase"),
        ("rebase-apply", "a rebase"),
        ("CHERRY_PICK_HEAD", "a cherry-pick"),
        ("REVERT_HEAD", "a revert"),
    ] {
        let path = git.text(&["rev-parse", "--git-path", marker]).await?;
        if git.dir().join(&path).exists() {
            return Ok(Some(format!("the repository is in the middle of {what}")));
        }
    }
    if !git
        .run(&["rev-parse", "--verify", "--quiet", "HEAD"])
        .await?
        .success()
    {
        return Ok(Some("the repository has no commit yet".to_owned()));
    }
    if !git.run(&["symbolic-ref", "-q", "HEAD"]).await?.success() {
        return Ok(Some("HEAD is detached".to_owned()));
    }
    let staged = git.run(&["diff", "--cached", "--quiet"]).await?;
    if !staged.success() {
        return Ok(Some(
            "the index has staged changes (manual work in progress)".to_owned(),
        ));
    }
    Ok(None)
}

/// The working tree's changed files (`git status --porcelain -z`), sorted.
pub async fn changed_files(git: &Git) -> Result<Vec<ChangedFile>> {
    let args = [
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--no-renames",
    ];
    let output = git.run(&args).await?;
    git.ok(&args, &output)?;
    // Not trimmed: an entry starts with a space when only the working tree changed.
    let output = output.stdout_text();
    let mut files: Vec<ChangedFile> = output
        .split('\0')
        .filter(|entry| entry.len() > 3)
        .map(|entry| {
            let (code, path) = entry.split_at(3);
            ChangedFile {
                path: PathBuf::from(path),
                untracked: code.starts_with("??"),
                deleted: code.contains('D'),
            }
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
