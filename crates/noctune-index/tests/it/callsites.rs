//! Callsites: ripgrep, the in-process search and the in-memory search give the same results,
//! on a small repository with awkward files and on a slice of the real standard library.

use std::fs;
use std::path::Path;

use noctune_index::callsites::find_on_path;
use noctune_index::walk::WalkOptions;
use noctune_index::{Backend, Callsite, CallsiteSearcher};
use pretty_assertions::assert_eq;

/// The real `rg`: the test command installs it (scripts/test → ensure_rg). Its absence fails.
fn require_rg() {
    assert!(
        find_on_path("rg").is_some(),
        "ripgrep (`rg`) must be on PATH for the callsite tests: run scripts/test, or \
         `. scripts/lib/tools.sh && ensure_rg` and add .tools/bin to PATH"
    );
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn all_backends_agree(searcher: &CallsiteSearcher, identifier: &str) -> Vec<Callsite> {
    let rg = searcher.search_with(identifier, Backend::Ripgrep).unwrap();
    let inproc = searcher
        .search_with(identifier, Backend::InProcess)
        .unwrap();
    let memory = searcher.search_with(identifier, Backend::Memory).unwrap();
    assert_eq!(inproc, rg, "in-process vs rg for `{identifier}`");
    assert_eq!(memory, rg, "memory vs rg for `{identifier}`");
    rg
}

#[test]
fn three_backends_agree_on_awkward_files() {
    require_rg();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "pkg/a.py",
        b"def parse(x):\n    return parse_all(x) or parse(x)  # parse\n",
    );
    write(
        root,
        "pkg/b.py",
        b"from pkg.a import parse\r\nresult = parse('1')\r\n",
    );
    write(
        root,
        "pkg/c.py",
        "\u{e9}parse = 1\nparse\u{e9} = 2\n\u{3b1} = parse\n".as_bytes(),
    );
    write(root, "pkg/latin1.py", b"# caf\xe9\nx = parse(1)  # \xe9\n");
    write(root, ".gitignore", b"ignored/\n");
    write(root, "ignored/x.py", b"parse()\n");
    write(root, "node_modules/y.py", b"parse()\n");
    write(root, "notes.txt", b"parse\n");
    let mut searcher = CallsiteSearcher::new(root, &WalkOptions::default(), 1_000_000).unwrap();
    assert!(searcher.load_sources(1_000_000).unwrap());
    let found = all_backends_agree(&searcher, "parse");
    let at: Vec<(&str, usize, usize)> = found
        .iter()
        .map(|c| (c.path.as_str(), c.line, c.column))
        .collect();
    assert_eq!(
        at,
        vec![
            ("pkg/a.py", 1, 5),
            ("pkg/a.py", 2, 28),
            ("pkg/a.py", 2, 40),
            ("pkg/b.py", 1, 19),
            ("pkg/b.py", 2, 10),
            ("pkg/c.py", 3, 6),
            ("pkg/latin1.py", 2, 5),
        ]
    );
    assert_eq!(found[4].text, "result = parse('1')");
    assert_eq!(found[6].text, "x = parse(1)  # \u{fffd}");
    assert!(searcher.search("not an identifier").is_err());
}

#[test]
fn three_backends_agree_on_the_standard_library() {
    require_rg();
    let root = crate::corpus::stdlib_dir().join("json");
    let mut searcher = CallsiteSearcher::new(&root, &WalkOptions::default(), 2_000_000).unwrap();
    assert!(searcher.load_sources(64 * 1024 * 1024).unwrap());
    assert_eq!(searcher.backend(), Backend::Memory);
    for identifier in ["isinstance", "self", "JSONDecodeError", "_w", "zzz_nothing"] {
        let found = all_backends_agree(&searcher, identifier);
        assert_eq!(
            found.is_empty(),
            identifier == "zzz_nothing",
            "{identifier}"
        );
    }
}
