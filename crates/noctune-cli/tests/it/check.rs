//! `noctune check`: the gates on files as they are, ruff-like output, exit 1 on findings.

use pretty_assertions::assert_eq;

use crate::{noctune_with_env, text};

/// PATH with the pinned ruff first (the test command installs it into .tools/bin).
fn path_with_ruff() -> String {
    let tools = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.tools/bin");
    let path = std::env::var("PATH").unwrap_or_default();
    assert!(
        std::path::Path::new(tools).join("ruff").exists()
            || path
                .split(':')
                .any(|d| std::path::Path::new(d).join("ruff").exists()),
        "`noctune check` tests need ruff: run scripts/test (it installs the pinned ruff)"
    );
    format!("{tools}:{path}")
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "ruff.toml",
        "target-version = \"py311\"\n[lint]\nselect = [\"F\"]\n",
    );
    write("src/ok.py", "def f(x):\n    return x\n");
    write("src/lint.py", "import os\n");
    write(
        "src/broken.py",
        "def f(lines):\n    return f\"{'\\n'.join(lines)}\"\n",
    );
    write("build/gen.py", "import sys\n");
    write(".gitignore", "build/\n");
    dir
}

#[test]
fn reports_like_ruff_and_exits_1_on_findings() {
    let dir = repo();
    let path = path_with_ruff();
    let output = noctune_with_env(dir.path(), &["check"], &[("PATH", &path)]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        "src/broken.py:2:16: invalid-syntax Cannot use an escape sequence (backslash) in \
         f-strings on Python 3.11 (syntax was added in Python 3.12)\n\
         src/lint.py:1:8: F401 `os` imported but unused\n\
         Found 2 errors in 2 of 3 files.\n"
    );

    let output = noctune_with_env(dir.path(), &["check", "src/ok.py"], &[("PATH", &path)]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout, "All checks passed! (1 file)\n");
}

#[test]
fn json_output_is_one_document() {
    let dir = repo();
    let path = path_with_ruff();
    let output = noctune_with_env(
        dir.path(),
        &["check", "--output-format", "json", "src/lint.py"],
        &[("PATH", &path)],
    );
    assert_eq!(output.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["ruff"], "ruff 0.17.5");
    assert_eq!(
        value["summary"],
        serde_json::json!({"files": 1, "failed": 1, "diagnostics": 1})
    );
    assert_eq!(value["files"][0]["path"], "src/lint.py");
    let gates: Vec<_> = value["files"][0]["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["gate"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(gates, vec![("parse", "pass"), ("ruff", "fail")]);
}

#[test]
fn a_missing_ruff_is_one_error_at_start() {
    let dir = repo();
    let empty = tempfile::tempdir().unwrap();
    let output = noctune_with_env(
        dir.path(),
        &["check"],
        &[("PATH", empty.path().to_str().unwrap())],
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout, "");
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    assert!(stderr.contains("`ruff` was not found on PATH"), "{stderr}");
}
