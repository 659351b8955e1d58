//! `noctune index` and `noctune symbols`, run as a user runs them.

use std::fs;

use pretty_assertions::assert_eq;

use crate::{noctune, text};

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("pkg")).unwrap();
    fs::write(
        root.join("pkg/core.py"),
        "import os\n\n\nclass Parser:\n    def parse(self):\n        return os.sep\n\n\nasync def main():\n    pass\n",
    )
    .unwrap();
    fs::write(
        root.join("pkg/broken.py"),
        "def ok():\n    pass\n\ndef bad(:\n",
    )
    .unwrap();
    dir
}

#[test]
fn index_builds_then_refreshes_and_prints_stats() {
    let dir = repo();
    let output = noctune(dir.path(), &["index"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("indexed 2 files in "), "{stdout}");
    assert!(
        lines[0].ends_with("(2 parsed, 0 unchanged, 0 removed)"),
        "{stdout}"
    );
    assert_eq!(
        &lines[1..],
        &[
            "symbols: 6 (async_function 1, class 1, function 2, import_block 1, method 1)",
            "files with syntax errors: 1, not UTF-8: 0, over the size cap: 0",
        ]
    );
    assert!(dir.path().join(".noctune_cache/index.db").is_file());

    let output = noctune(dir.path(), &["index", "--output-format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["refresh"]["unchanged"], 2);
    assert_eq!(json["refresh"]["parsed"], 0);
    assert_eq!(
        json["index"]["symbols_by_kind"],
        serde_json::json!({"async_function": 1, "class": 1, "function": 2, "import_block": 1, "method": 1})
    );
}

#[test]
fn symbols_lists_a_file_in_text_and_json() {
    let dir = repo();
    let output = noctune(dir.path(), &["symbols", "pkg/core.py"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout,
        " 1-1  import_block   <imports>\n 4-6  class          Parser\n 5-6  method           Parser.parse\n9-10  async_function main\n"
    );
    let output = noctune(
        dir.path(),
        &["--output-format", "json", "symbols", "pkg/broken.py"],
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["has_syntax_errors"], true);
    assert_eq!(json["symbols"][0]["name"], "ok");
    assert_eq!(json["symbols"][0]["signature"], "def ok():");
}

#[test]
fn bad_config_or_missing_file_exit_2() {
    let dir = repo();
    let output = noctune(dir.path(), &["symbols", "pkg/nope.py"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("pkg/nope.py"), "{stderr}");
    fs::write(
        dir.path().join("noctune.toml"),
        "[tool.noctune.index]\nmax_file_bytes = \"big\"\n",
    )
    .unwrap();
    for args in [&["index"][..], &["symbols", "pkg/core.py"][..]] {
        let output = noctune(dir.path(), args);
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stdout, "");
        assert!(stderr.contains("noctune.toml"), "{stderr}");
    }
    assert!(!dir.path().join(".noctune_cache/index.db").exists());
}
