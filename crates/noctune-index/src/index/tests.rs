use std::fs;
use std::path::Path;

use pretty_assertions::assert_eq;

use super::{Index, IndexOptions, SCHEMA_VERSION};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "pkg/__init__.py", "");
    write(
        root,
        "pkg/core.py",
        "import os\n\nclass Parser:\n    def parse(self):\n        return os.sep\n\ndef helper():\n    pass\n",
    );
    write(root, "pkg/broken.py", "def ok():\n    pass\n\ndef bad(:\n");
    write(
        root,
        "tests/test_core.py",
        "from pkg.core import Parser\n\ndef test_parse():\n    Parser().parse()\n",
    );
    write(root, ".gitignore", "build/\n");
    write(root, "build/gen.py", "def generated(): pass\n");
    write(root, "venv/pyvenv.cfg", "home = /usr\n");
    write(root, "venv/lib/site.py", "def in_venv(): pass\n");
    write(root, "node_modules/x.py", "def in_node(): pass\n");
    write(root, ".hidden/h.py", "def hidden(): pass\n");
    write(root, "big.py", &format!("X = '{}'\n", "x".repeat(300)));
    fs::write(root.join("latin1.py"), b"def caf\xe9():\n    pass\n").unwrap();
    dir
}

fn options() -> IndexOptions {
    IndexOptions {
        max_file_bytes: 200,
        exclude: vec!["tests/skip_*.py".into()],
        threads: 2,
    }
}

#[test]
fn refresh_walks_parses_and_is_incremental() {
    let dir = repo();
    let root = dir.path();
    write(root, "tests/skip_me.py", "def skipped(): pass\n");
    let mut index = Index::open(root, options()).unwrap();
    let first = index.refresh().unwrap();
    assert_eq!(
        (
            first.files,
            first.parsed,
            first.syntax_errors,
            first.too_large,
            first.not_utf8
        ),
        (6, 5, 1, 1, 1)
    );
    let files: Vec<String> = index.files().unwrap().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        files,
        vec![
            "big.py",
            "latin1.py",
            "pkg/__init__.py",
            "pkg/broken.py",
            "pkg/core.py",
            "tests/test_core.py"
        ]
    );
    let names: Vec<String> = index
        .file_symbols("pkg/core.py")
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, vec!["<imports>", "Parser", "Parser.parse", "helper"]);
    // By qualified name and by short name.
    let by_name = |name: &str| -> Vec<String> {
        index
            .find(name)
            .unwrap()
            .into_iter()
            .map(|h| h.symbol.name)
            .collect()
    };
    assert_eq!(by_name("Parser.parse"), vec!["Parser.parse"]);
    assert!(by_name("parse").contains(&"Parser.parse".to_owned()));
    assert!(by_name("Other.parse").is_empty());

    // Nothing changed: nothing read.
    let second = index.refresh().unwrap();
    assert_eq!(
        (second.unchanged, second.parsed, second.bytes_read),
        (6, 0, 0)
    );

    // Same content, new mtime: hashed, not parsed.
    let core = root.join("pkg/core.py");
    let text = fs::read_to_string(&core).unwrap();
    fs::write(&core, &text).unwrap();
    let file = fs::File::options().write(true).open(&core).unwrap();
    file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    let third = index.refresh().unwrap();
    assert_eq!((third.touched, third.parsed), (1, 0));

    // Changed content and a deleted file.
    fs::write(&core, text.replace("def helper", "def helper2")).unwrap();
    fs::remove_file(root.join("pkg/broken.py")).unwrap();
    let fourth = index.refresh().unwrap();
    assert_eq!((fourth.parsed, fourth.removed), (1, 1));
    assert!(index.find("helper").unwrap().is_empty());
    assert_eq!(index.find("helper2").unwrap()[0].path, "pkg/core.py");
    assert!(index.file_symbols("pkg/broken.py").unwrap().is_empty());
    let hits: Vec<String> = index
        .search("helper", 10)
        .unwrap()
        .into_iter()
        .map(|h| h.symbol.name)
        .collect();
    assert_eq!(hits, vec!["helper2"]);
    let stats = index.stats().unwrap();
    assert_eq!(stats.files, 5);
    assert_eq!(stats.files_by_status.get("too_large"), Some(&1));
}

#[test]
fn search_finds_parts_of_qualified_names() {
    let dir = repo();
    let mut index = Index::open(dir.path(), options()).unwrap();
    index.refresh().unwrap();
    let hits: Vec<String> = index
        .search("pars", 10)
        .unwrap()
        .into_iter()
        .map(|h| h.symbol.name)
        .collect();
    // Both parts of `Parser.parse` match, so it ranks first.
    assert_eq!(hits, vec!["Parser.parse", "Parser"]);
}

#[test]
fn another_schema_version_or_a_corrupt_file_is_rebuilt() {
    let dir = repo();
    let root = dir.path();
    let db = root.join(".noctune_cache/index.db");
    {
        let mut index = Index::open(root, options()).unwrap();
        index.refresh().unwrap();
    }
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    let mut index = Index::open(root, options()).unwrap();
    assert_eq!(index.stats().unwrap().files, 0, "rebuilt empty");
    assert_eq!(index.refresh().unwrap().parsed, 5);
    drop(index);

    for suffix in ["-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", db.display()));
    }
    fs::write(
        &db,
        b"this is not a database at all, just some bytes..........",
    )
    .unwrap();
    let mut index = Index::open(root, options()).unwrap();
    assert_eq!(index.refresh().unwrap().parsed, 5);
}

#[test]
fn the_full_text_table_is_built_by_the_first_search_and_kept_current() {
    let dir = repo();
    let root = dir.path();
    let mut index = Index::open(root, options()).unwrap();
    index.refresh().unwrap();
    assert!(
        !super::schema::has_fts(&index.conn).unwrap(),
        "not built by a refresh"
    );
    let names = |index: &Index, query: &str| -> Vec<String> {
        index
            .search(query, 10)
            .unwrap()
            .into_iter()
            .map(|h| h.symbol.name)
            .collect()
    };
    assert_eq!(names(&index, "helper"), vec!["helper"]);
    assert!(super::schema::has_fts(&index.conn).unwrap());

    // Once built, a refresh keeps it current: changed, removed and new files.
    let core = root.join("pkg/core.py");
    let text = fs::read_to_string(&core).unwrap();
    fs::write(&core, text.replace("def helper", "def helper2")).unwrap();
    write(root, "pkg/extra.py", "def helper3():\n    pass\n");
    fs::remove_file(root.join("tests/test_core.py")).unwrap();
    let stats = index.refresh().unwrap();
    assert_eq!((stats.parsed, stats.removed), (2, 1));
    assert_eq!(names(&index, "helper"), vec!["helper2", "helper3"]);
    assert!(names(&index, "test_parse").is_empty());

    // A schema rebuild drops it; the next search builds it again from the new rows.
    drop(index);
    let db = root.join(".noctune_cache/index.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let mut index = Index::open(root, options()).unwrap();
    assert!(!super::schema::has_fts(&index.conn).unwrap());
    index.refresh().unwrap();
    assert_eq!(names(&index, "helper"), vec!["helper2", "helper3"]);
}

#[test]
fn a_first_build_leaves_the_database_in_wal_mode() {
    let dir = repo();
    let mut index = Index::open(dir.path(), options()).unwrap();
    index.refresh().unwrap();
    let mode: String = index
        .conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(index.stats().unwrap().files, 6);
}
