//! A bad configuration stops every command with exit code 2 and an error that names the file,
//! the key and what was expected; nothing is written.

use crate::{noctune, noctune_with_env, text};

fn assert_config_error(files: &[(&str, &str)], env: &[(&str, &str)], expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let output = noctune_with_env(dir.path(), &["config"], env);
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert_eq!(stdout, "", "nothing on stdout for an error");
    for needle in expected {
        assert!(stderr.contains(needle), "missing `{needle}` in: {stderr}");
    }
    assert!(
        !dir.path().join(".noctune_cache").exists(),
        "a config error writes nothing"
    );
}

#[test]
fn invalid_toml() {
    assert_config_error(
        &[("noctune.toml", "[llm\nbase_url = 1\n")],
        &[],
        &["noctune.toml", "invalid TOML", "line 1"],
    );
}

#[test]
fn wrong_type() {
    assert_config_error(
        &[(
            "noctune.toml",
            "[tool.noctune.llm]\ncontext_tokens = \"8k\"\n",
        )],
        &[],
        &[
            "noctune.toml",
            "key `tool.noctune.llm.context_tokens`",
            "invalid type: string \"8k\", expected u32",
        ],
    );
}

#[test]
fn unknown_approve_mode() {
    assert_config_error(
        &[("noctune.toml", "[approve]\nmode = \"sometimes\"\n")],
        &[],
        &[
            "noctune.toml",
            "key `approve.mode`",
            "expected `llm`, `signals` or `chain`, found `sometimes`",
        ],
    );
}

#[test]
fn unknown_key_in_pyproject() {
    assert_config_error(
        &[("pyproject.toml", "[tool.noctune]\nmax_pases = 2\n")],
        &[],
        &[
            "pyproject.toml",
            "key `tool.noctune.max_pases`",
            "unknown field `max_pases`, expected one of",
        ],
    );
}

#[test]
fn bad_headers_json() {
    assert_config_error(
        &[],
        &[("NOCTUNE_HEADERS_JSON", "{\"X-Team\": ")],
        &["NOCTUNE_HEADERS_JSON", "expected a JSON object of headers"],
    );
}

#[test]
fn init_reports_a_kept_broken_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("noctune.toml"), "max_passes = \"three\"\n").unwrap();
    let output = noctune(dir.path(), &["init"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(stdout.contains("kept noctune.toml"), "{stdout}");
    assert!(stderr.contains("key `max_passes`"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("noctune.toml")).unwrap(),
        "max_passes = \"three\"\n"
    );
}

#[test]
fn bad_pack_tools_and_test_command() {
    assert_config_error(
        &[(
            "noctune.toml",
            "[policy_packs.lint_fix]\ntools_allowed = [\"ruff\", \"pytset\"]\n",
        )],
        &[],
        &[
            "noctune.toml",
            "key `policy_packs.lint_fix.tools_allowed`",
            "unknown tool `pytset`",
        ],
    );
    assert_config_error(
        &[(
            "pyproject.toml",
            "[tool.noctune.policy_packs.lint_fix]\ntest_command = []\n",
        )],
        &[],
        &[
            "pyproject.toml",
            "key `tool.noctune.policy_packs.lint_fix.test_command`",
            "expected a program and its arguments",
        ],
    );
}
