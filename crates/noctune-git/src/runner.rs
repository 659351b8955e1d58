//! git as a subprocess: an argument vector (no shell) through Noctune's one process builder,
//! checked against an allowlist before it runs.
//!
//! The allowlist is the safety contract of Noctune's git output: only the subcommands the
//! patchset and commit paths need; never `--force` (any spelling), `--hard`, `--no-verify`,
//! `add -A`/`--all`/`.`, a `+` (forced) or `:` (deleting) refspec, global options before the
//! subcommand (`-c`, `--git-dir`), or `git config` (so `.git/config` and hooks are never
//! written).

use std::path::{Path, PathBuf};
use std::time::Duration;

use noctune_core::process::{ProcessBuilder, ProcessOutput};

use crate::error::{Error, Result};

/// Flags refused in any subcommand.
const DENIED_ANYWHERE: [&str; 12] = [
    "-f",
    "--hard",
    "--no-verify",
    "--mirror",
    "--exec",
    "--upload-pack",
    "--receive-pack",
    "--git-dir",
    "--work-tree",
    "--amend",
    "--delete",
    "--prune",
];

/// One repository (or worktree) to run git in.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    timeout: Duration,
}

impl Git {
    /// How long one git command may take.
    pub const TIMEOUT: Duration = Duration::from_secs(120);

    /// git in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            timeout: Self::TIMEOUT,
        }
    }

    /// The directory git runs in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `git ARGS`; a non-zero exit is not an error here (read [`ProcessOutput::code`]).
    /// An invocation outside the allowlist is [`Error::Refused`] and never runs.
    pub async fn run(&self, args: &[&str]) -> Result<ProcessOutput> {
        self.spawn(args, None).await
    }

    /// Runs `git ARGS` with `stdin` piped in; otherwise as [`Git::run`].
    pub async fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Result<ProcessOutput> {
        self.spawn(args, Some(stdin)).await
    }

    /// Runs `git ARGS` and returns its stdout, trimmed; a non-zero exit is [`Error::Git`]
    /// with git's stderr.
    pub async fn text(&self, args: &[&str]) -> Result<String> {
        let output = self.run(args).await?;
        self.ok(args, &output)?;
        Ok(output.stdout_text().trim().to_owned())
    }

    /// [`Error::Git`] unless `output` is a success.
    pub fn ok(&self, args: &[&str], output: &ProcessOutput) -> Result<()> {
        if output.success() {
            return Ok(());
        }
        let mut stderr = output.stderr_text();
        if stderr.is_empty() {
            stderr = output.stdout_text().trim().to_owned();
        }
        Err(Error::Git {
            repo: self.dir.clone(),
            command: args.join(" "),
            stderr,
        })
    }

    async fn spawn(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<ProcessOutput> {
        check_args(args).map_err(|why| Error::Refused {
            command: args.join(" "),
            why,
        })?;
        let mut builder = ProcessBuilder::new("git")
            .args(args)
            .current_dir(&self.dir)
            // Never wait for a password on a terminal nobody watches.
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .timeout(self.timeout);
        if let Some(bytes) = stdin {
            builder = builder.stdin(bytes.to_vec());
        }
        builder.run().await.map_err(|source| Error::Process {
            dir: self.dir.clone(),
            source,
        })
    }
}

/// Checks one invocation against the allowlist: `Err` says which rule it breaks.
pub fn check_args(args: &[&str]) -> std::result::Result<(), String> {
    let Some((&subcommand, rest)) = args.split_first() else {
        return Err("no subcommand".to_owned());
    };
    if subcommand.starts_with('-') {
        return Err(format!(
            "options before the subcommand (`{subcommand}`) are not allowed"
        ));
    }
    for arg in rest {
        if DENIED_ANYWHERE.contains(arg) || arg.starts_with("--force") {
            return Err(format!("`{arg}` is never used"));
        }
    }
    let has = |flag: &str| rest.contains(&flag);
    let positional: Vec<&str> = rest
        .iter()
        .copied()
        .filter(|a| !a.starts_with('-'))
        .collect();
    match subcommand {
        "rev-parse" | "status" | "diff" | "ls-files" | "show" | "log" | "rev-list" | "cat-file"
        | "merge-base" | "for-each-ref" => Ok(()),
        "symbolic-ref" if positional.len() <= 1 => Ok(()),
        "symbolic-ref" => Err("`symbolic-ref` may only read".to_owned()),
        "merge-file" if has("-p") => Ok(()),
        "merge-file" => Err("`merge-file` only with `-p` (print, never write)".to_owned()),
        "worktree" => match positional.first() {
            Some(&("add" | "prune" | "list")) => Ok(()),
            other => Err(format!(
                "`worktree {}` is not allowed (only add, prune, list)",
                other.unwrap_or(&"")
            )),
        },
        "add" => {
            let Some(split) = rest.iter().position(|a| *a == "--") else {
                return Err("`add` needs explicit paths after `--`".to_owned());
            };
            if let Some(flag) = rest[..split]
                .iter()
                .find(|a| !matches!(**a, "-q" | "--quiet"))
            {
                return Err(format!("`add {flag}` is not allowed (only explicit paths)"));
            }
            let paths = &rest[split + 1..];
            if paths.is_empty() {
                return Err("`add` needs at least one path".to_owned());
            }
            if let Some(path) = paths.iter().find(|p| is_broad_pathspec(p)) {
                return Err(format!("`add -- {path}` is too broad (name each file)"));
            }
            Ok(())
        }
        "commit" => {
            for flag in ["-a", "--all", "-n", "-c", "-C", "--no-edit"] {
                if has(flag) {
                    return Err(format!("`commit {flag}` is not allowed"));
                }
            }
            Ok(())
        }
        "restore" if has("--staged") && !has("--worktree") && !has("-W") => Ok(()),
        "restore" => Err("`restore` may only unstage (`--staged`)".to_owned()),
        "branch" => match rest.iter().find(|a| a.starts_with('-')) {
            None if positional.len() == 2 => Ok(()),
            _ => Err("`branch` may only create a branch at a commit".to_owned()),
        },
        "merge" if has("--ff-only") => Ok(()),
        "merge" => Err("`merge` only with `--ff-only`".to_owned()),
        "fetch" | "push" => {
            if let Some(spec) = positional
                .iter()
                .find(|p| p.starts_with('+') || p.starts_with(':'))
            {
                return Err(format!("the refspec `{spec}` forces or deletes"));
            }
            if subcommand == "push" && (has("-d") || has("--all") || has("--tags")) {
                return Err("`push` pushes one branch, never deletes".to_owned());
            }
            Ok(())
        }
        other => Err(format!("`git {other}` is not on Noctune's allowlist")),
    }
}

/// `.`, `:/`, `*` and the like: a pathspec that stages more than named files.
fn is_broad_pathspec(path: &str) -> bool {
    matches!(path, "." | "./" | ":/" | ":" | "*" | "")
        || path.starts_with(':')
        || path.contains('*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangerous_invocations_are_refused() {
        for args in [
            &["push", "--force", "origin", "main"][..],
            &["push", "--force-with-lease"],
            &["push", "origin", "+main"],
            &["push", "origin", ":main"],
            &["push", "-f"],
            &["reset", "--hard", "HEAD"],
            &["commit", "--no-verify", "-m", "x"],
            &["commit", "-n", "-m", "x"],
            &["commit", "-a", "-m", "x"],
            &["add", "-A"],
            &["add", "--all", "--", "a.py"],
            &["add", "--", "."],
            &["add", "a.py"],
            &["config", "user.name", "x"],
            &["-c", "core.hooksPath=/tmp", "commit"],
            &["worktree", "remove", "--force", "x"],
            &["branch", "-D", "main"],
            &["merge", "origin/main"],
            &["restore", "--worktree", "a.py"],
            &["checkout", "main"],
        ] {
            assert!(check_args(args).is_err(), "{args:?} must be refused");
        }
    }

    #[test]
    fn what_the_patchset_and_commit_paths_use_is_allowed() {
        for args in [
            &["rev-parse", "HEAD"][..],
            &["worktree", "add", "--detach", "/tmp/x", "abc"],
            &["worktree", "prune"],
            &["add", "--", "a.py", "pkg/b.py"],
            &["commit", "-q", "-F", "-"],
            &["diff", "--cached", "--name-only", "-z"],
            &["merge-file", "-p", "a", "b", "c"],
            &["branch", "noctune/r1", "abc"],
            &["push", "origin", "HEAD:refs/heads/main"],
            &["merge", "--ff-only", "@{u}"],
            &["restore", "--staged", "--", "a.py"],
        ] {
            assert_eq!(check_args(args), Ok(()), "{args:?}");
        }
    }

    #[tokio::test]
    async fn a_refused_invocation_never_runs() {
        let dir = tempfile::tempdir().unwrap();
        let err = Git::new(dir.path())
            .run(&["config", "user.name", "x"])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Refused { .. }), "{err}");
        assert!(!dir.path().join(".git").exists());
    }
}
