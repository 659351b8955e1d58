//! Real git repositories for the git-output tests: a fixed identity and no global or system
//! configuration, given to git through the environment (never written to a config file).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::{noctune_with_env, text};

/// The committer of every test commit.
pub const IDENTITY: [(&str, &str); 6] = [
    ("GIT_AUTHOR_NAME", "Night"),
    ("GIT_AUTHOR_EMAIL", "night@example.com"),
    ("GIT_COMMITTER_NAME", "Night"),
    ("GIT_COMMITTER_EMAIL", "night@example.com"),
    ("GIT_CONFIG_GLOBAL", "/dev/null"),
    ("GIT_CONFIG_NOSYSTEM", "1"),
];

/// `git ARGS` in `dir`.
pub fn git_output(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .envs(IDENTITY)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `git ARGS` in `dir`, which must succeed: its stdout, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = git_output(dir, args);
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// `noctune ARGS` in `dir` with the git identity (and the model at `url`, when given).
pub fn noctune_git(dir: &Path, args: &[&str], url: Option<&str>) -> Output {
    let mut env: Vec<(&str, &str)> = IDENTITY.to_vec();
    if let Some(url) = url {
        env.push(("NOCTUNE_BASE_URL", url));
    }
    noctune_with_env(dir, args, &env)
}

/// [`noctune_git`] off the async runtime, so that a fake server on it keeps serving.
pub async fn noctune_git_async(dir: &Path, args: &[&str], url: &str) -> Output {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        noctune_git(&dir, &args, Some(&url))
    })
    .await
    .unwrap()
}

/// The JSON document on a command's stdout.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("{err}: {:?}", text(output)))
}

/// Writes `files` (`(path, text)`) under `dir`, creating directories.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A new repository on `main` at `dir` with `files` in its first commit.
pub fn init_repo(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    write_files(dir, files);
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "--", "."]);
    git(dir, &["commit", "-q", "-m", "initial"]);
}

/// Every file under `root` but `.git/` and `.noctune_cache/`, with `.git/index`, `.git/HEAD`
/// and the commit HEAD points at, byte for byte.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = crate::tree_files(root);
    for name in [".git/index", ".git/HEAD"] {
        out.insert(PathBuf::from(name), std::fs::read(root.join(name)).unwrap());
    }
    let head = git(root, &["rev-parse", "HEAD"]);
    out.insert(PathBuf::from("HEAD commit"), head.into_bytes());
    out
}
