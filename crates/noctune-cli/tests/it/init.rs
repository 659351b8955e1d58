//! `noctune init` and `noctune --help`.

use pretty_assertions::assert_eq;

use crate::{noctune, text};

#[test]
fn help_lists_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let output = noctune(dir.path(), &["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let (stdout, _) = text(&output);
    assert!(stdout.contains("init"), "{stdout}");
    assert!(stdout.contains("--root"), "{stdout}");
}

#[test]
fn init_writes_config_and_prompts_then_keeps_edits() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let output = noctune(dir.path(), &["init", "--root", root]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let (stdout, _) = text(&output);
    assert_eq!(
        stdout,
        "created noctune.toml\n\
         created .noctune_cache/overrides/review.md\n\
         created .noctune_cache/overrides/draft.md\n\
         created .noctune_cache/overrides/edit.md\n\
         created .noctune_cache/overrides/repair.md\n\
         created .noctune_cache/overrides/approve.md\n\
         created .noctune_cache/overrides/plan.md\n\
         created .noctune_cache/overrides/tests.md\n\
         created .noctune_cache/overrides/implement.md\n\
         created .noctune_cache/overrides/analyze.md\n\
         created .noctune_cache/overrides/format.md\n"
    );
    let edit = dir.path().join(".noctune_cache/overrides/edit.md");
    std::fs::write(&edit, "my own edit prompt").unwrap();

    let output = noctune(dir.path(), &["init", "--output-format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let actions: Vec<&str> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "unchanged",
            "unchanged",
            "unchanged",
            "kept_edited",
            "unchanged",
            "unchanged",
            "unchanged",
            "unchanged",
            "unchanged",
            "unchanged",
            "unchanged"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(&edit).unwrap(),
        "my own edit prompt"
    );

    let output = noctune(dir.path(), &["init", "--force"]);
    assert_eq!(output.status.code(), Some(0));
    assert_ne!(
        std::fs::read_to_string(&edit).unwrap(),
        "my own edit prompt"
    );
}

#[test]
fn config_shows_resolved_settings_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("noctune.toml"),
        "[llm]\napi_key = \"s3cret\"\nmodel = \"qwen\"\n",
    )
    .unwrap();
    let output = noctune(dir.path(), &["config", "--output-format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["llm"]["model"], "qwen");
    assert_eq!(json["llm"]["api_key"], "<redacted>");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("s3cret"));
}

/// The cache carries its own `.gitignore`: after `init` (and any run) a repository's
/// `git status` shows the config only, never `.noctune_cache/`.
#[test]
fn the_cache_never_shows_in_git_status() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    git(&["init", "-q"]);
    let output = crate::noctune(dir.path(), &["init"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".noctune_cache/.gitignore")).unwrap(),
        "# Created by Noctune: its cache is never committed.\n*\n"
    );
    assert_eq!(
        git(&["status", "--porcelain", "--untracked-files=all"]),
        "?? noctune.toml\n"
    );
}
