//! Tests of the `noctune` binary, run as a user runs it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod approve_modes;
mod budgets;
mod check;
mod commit;
mod config_errors;
mod crash_resume;
mod e2e_chat;
mod e2e_model;
mod endpoints;
mod eval;
mod fake_model;
mod git_fixture;
mod graph;
mod index;
mod init;
mod malformed_answers;
mod mcp;
mod morning;
mod packs;
mod patchset;
mod probe;
mod report_passes;
mod run;
mod run_state;
mod studio;
mod studio_chat;
mod studio_chat_mcp;
mod task;
mod webdriver;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `noctune ARGS` in `dir` with a clean `NOCTUNE_*` environment.
pub fn noctune(dir: &Path, args: &[&str]) -> Output {
    noctune_with_env(dir, args, &[])
}

/// Runs `noctune ARGS` in `dir` with the given extra environment variables.
pub fn noctune_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_noctune"));
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("NOCTUNE_BASE_URL")
        .env_remove("NOCTUNE_API_KEY")
        .env_remove("NOCTUNE_HEADERS_JSON")
        .env_remove("NOCTUNE_LOG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// Runs `noctune ARGS` in `dir` against the model at `url`, off the async runtime (so a fake
/// server on it keeps serving).
pub async fn noctune_async(dir: &Path, args: &[&str], url: &str) -> Output {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        noctune_with_env(&dir, &args, &[("NOCTUNE_BASE_URL", &url)])
    })
    .await
    .unwrap()
}

/// Stdout and stderr as text.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The first executable `name` on this process's `PATH` (the test script puts `.tools/bin`
/// there); a missing tool fails the test, it never skips.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not on PATH: run `. scripts/lib/tools.sh; ensure_ruff; ensure_pytest`"
            )
        })
}

/// Every file under `root` with its bytes, but `.git` and Noctune's cache: what a test compares
/// to show a command left a tree untouched.
pub fn tree_files(root: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if rel == Path::new(".git") || rel == Path::new(".noctune_cache") {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(root, root, &mut out);
    out
}
