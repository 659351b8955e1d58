//! Staging named paths and committing them, the one way both `noctune patchset commit` and
//! `noctune commit` do it: `git add -- <paths>` (never `-A`), the staged names checked against
//! the paths, the staged diff scanned for secrets, then `git commit -F -` with hooks (never
//! `--no-verify`). Whatever stops the commit leaves the index as it was before.

use crate::error::{Error, Result};
use crate::runner::Git;
use crate::secrets::{SecretFinding, scan_diff};

/// How one commit attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Committed {
    /// Committed.
    Yes {
        /// The new commit.
        sha: String,
    },
    /// The staged diff holds a secret: nothing was committed, the paths were unstaged.
    Secret {
        /// The file.
        file: String,
        /// The rule and line (never the secret).
        finding: SecretFinding,
    },
    /// `git commit` failed (a hook refused it): the paths were unstaged.
    Refused {
        /// What git or the hook said.
        why: String,
    },
}

/// Stages exactly `paths` (repo-relative, `/`-separated), checks, and commits with `message`.
/// Staged names that differ from `paths` are an error (after unstaging them).
pub async fn commit_paths(git: &Git, paths: &[String], message: &str) -> Result<Committed> {
    let mut add = vec!["add", "--"];
    add.extend(paths.iter().map(String::as_str));
    let mut unstage = vec!["restore", "--staged", "--"];
    unstage.extend(paths.iter().map(String::as_str));
    git.text(&add).await?;
    let mut staged: Vec<String> = git
        .text(&["diff", "--cached", "--name-only", "--no-renames"])
        .await?
        .lines()
        .map(str::to_owned)
        .collect();
    staged.sort();
    let mut expected = paths.to_vec();
    expected.sort();
    if staged != expected {
        git.text(&unstage).await?;
        return Err(Error::Invalid(format!(
            "in `{}` the staged files ({}) are not the ones named ({}); nothing was committed",
            git.dir().display(),
            staged.join(", "),
            expected.join(", ")
        )));
    }
    let diff = git
        .text(&["diff", "--cached", "--no-color", "--no-ext-diff", "-U0"])
        .await?;
    if let Some((file, finding)) = scan_diff(&diff) {
        git.text(&unstage).await?;
        return Ok(Committed::Secret { file, finding });
    }
    let output = git
        .run_with_stdin(&["commit", "-q", "-F", "-"], message.as_bytes())
        .await?;
    if !output.success() {
        git.text(&unstage).await?;
        let mut why = output.stderr_text();
        if why.is_empty() {
            why = output.stdout_text().trim().to_owned();
        }
        return Ok(Committed::Refused { why });
    }
    Ok(Committed::Yes {
        sha: git.text(&["rev-parse", "HEAD"]).await?,
    })
}
