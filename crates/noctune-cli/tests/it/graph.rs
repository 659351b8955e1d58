//! `noctune search` and `noctune owners`: the code graph from the CLI, over the real index and
//! the real ripgrep (or the in-process search).

use pretty_assertions::assert_eq;

use crate::{noctune, text};

fn repo(root: &std::path::Path) {
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(root.join("pkg/__init__.py"), "").unwrap();
    std::fs::write(
        root.join("pkg/client.py"),
        "class Client:\n    def fetch(self, url):\n        \"\"\"Fetch a URL, retrying on timeouts.\"\"\"\n        return url\n\n\ndef retry_after(seconds):\n    return seconds * 2\n",
    )
    .unwrap();
    std::fs::write(
        root.join("pkg/app.py"),
        "from pkg.client import Client\n\n\ndef main():\n    return Client().fetch(\"x\")\n",
    )
    .unwrap();
}

#[test]
fn search_finds_symbols_by_words_and_the_lines_using_them() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let output = noctune(
        dir.path(),
        &["search", "retry_after", "--output-format", "json"],
    );
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["symbols"][0]["symbol"]["name"], "retry_after");
    assert_eq!(json["symbols"][0]["path"], "pkg/client.py");
    let hits: Vec<(&str, u64)> = json["text_hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["path"].as_str().unwrap(), h["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(hits, [("pkg/client.py", 7)]);

    // Words match name prefixes (`retry` finds `retry_after`).
    let output = noctune(dir.path(), &["search", "retry", "--output-format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        json["symbols"][0]["symbol"]["name"], "retry_after",
        "{json:#}"
    );

    let output = noctune(dir.path(), &["search", "nothing_like_this"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output)
            .0
            .contains("nothing matches `nothing_like_this`")
    );
}

#[test]
fn owners_names_the_definition_its_importers_and_its_callers() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let output = noctune(dir.path(), &["owners", "Client", "--output-format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let owner = &json["definitions"][0];
    assert_eq!(owner["path"], "pkg/client.py");
    assert_eq!(owner["symbol"]["name"], "Client");
    assert_eq!(owner["importers"][0]["path"], "pkg/app.py");
    assert_eq!(owner["importers"][0]["line"], 1);
    let callers: Vec<(&str, u64)> = owner["callers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["path"].as_str().unwrap(), h["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(callers, [("pkg/app.py", 5)], "{json:#}");

    let output = noctune(dir.path(), &["owners", "Missing"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).0.contains("`Missing` is defined nowhere"));
}
