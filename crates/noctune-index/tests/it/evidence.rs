//! Evidence (`impact.json`): imports, ranked callsites with context, trimmed to a budget.

use std::fs;
use std::path::Path;

use noctune_index::evidence::{CallsiteEvidence, Proximity};
use noctune_index::walk::WalkOptions;
use noctune_index::{CallsiteSearcher, Evidence, EvidenceBuilder};
use pretty_assertions::assert_eq;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

const CORE: &str = "import os\n\n\nclass Parser:\n    def __init__(self):\n        self.sep = os.sep\n\n    def parse(self, text):\n        return text.split(self.sep)\n";

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "pkg/core.py", CORE);
    write(
        root,
        "pkg/use.py",
        "from pkg.core import Parser\n\nP = Parser()\nP.parse('a')\n",
    );
    write(
        root,
        "tests/test_core.py",
        "from pkg.core import Parser\n\n\ndef test_parse():\n    assert Parser().parse('a/b') == ['a', 'b']\n",
    );
    write(
        root,
        "app/main.py",
        "import pkg.core\nprint(pkg.core.Parser().parse('x'))\n",
    );
    dir
}

#[test]
fn callsites_ranked_with_context() {
    let dir = repo();
    let mut searcher = CallsiteSearcher::new(dir.path(), &WalkOptions::default(), 1 << 20).unwrap();
    searcher.load_sources(1 << 20).unwrap();
    let evidence = EvidenceBuilder::new(&searcher)
        .context_lines(1)
        .build("pkg/core.py", CORE, &["Parser.parse".into()], 10_000)
        .unwrap();
    let target = &evidence.targets[0];
    assert_eq!(
        (
            target.identifier.as_str(),
            target.total_callsites,
            target.omitted
        ),
        ("parse", 3, 0)
    );
    assert_eq!(
        target.callsites,
        vec![
            CallsiteEvidence {
                path: "pkg/use.py".into(),
                line: 4,
                proximity: Proximity::SamePackage,
                context_start: 3,
                context: vec!["P = Parser()".into(), "P.parse('a')".into(), String::new()],
            },
            CallsiteEvidence {
                path: "tests/test_core.py".into(),
                line: 5,
                proximity: Proximity::Tests,
                context_start: 4,
                context: vec![
                    "def test_parse():".into(),
                    "    assert Parser().parse('a/b') == ['a', 'b']".into(),
                    String::new()
                ],
            },
            CallsiteEvidence {
                path: "app/main.py".into(),
                line: 2,
                proximity: Proximity::Other,
                context_start: 1,
                context: vec![
                    "import pkg.core".into(),
                    "print(pkg.core.Parser().parse('x'))".into(),
                    String::new()
                ],
            },
        ]
    );
    assert_eq!(evidence.imports.len(), 1);
    let json = evidence.to_json();
    let back: Evidence = serde_json::from_str(&json).unwrap();
    assert_eq!(back, evidence);
}

#[test]
fn budget_trims_callsites_and_init_searches_the_class() {
    let dir = repo();
    let searcher = CallsiteSearcher::new(dir.path(), &WalkOptions::default(), 1 << 20).unwrap();
    let evidence = EvidenceBuilder::new(&searcher)
        .build("pkg/core.py", CORE, &["Parser.__init__".into()], 30)
        .unwrap();
    let target = &evidence.targets[0];
    assert_eq!(target.identifier, "Parser");
    assert!(target.total_callsites >= 5, "{target:?}");
    assert!(
        target.omitted > 0 && !target.callsites.is_empty(),
        "{target:?}"
    );
    assert!(evidence.tokens_used <= 30);
    assert!(
        EvidenceBuilder::new(&searcher)
            .build("pkg/core.py", CORE, &["nope".into()], 30)
            .is_err()
    );
}

/// The index is the evidence: nothing is read before `prepare`; then other definitions and the
/// files importing a target come from `index.db`, and an apply's `file_changed` brings a new
/// importer in.
#[test]
fn indexed_evidence_draws_definitions_and_importers_from_the_index() {
    use noctune_core::pipeline::EvidenceSource;
    use noctune_index::{IndexOptions, RepoEvidence};

    let dir = repo();
    let root = dir.path();
    write(
        root,
        "legacy/old.py",
        "class Parser:\n    def parse(self, text, sep):\n        return text.split(sep)\n",
    );
    let evidence = RepoEvidence::indexed(
        root,
        WalkOptions::default(),
        1_000_000,
        0, // search on disk
        IndexOptions::default(),
    );
    let db = root.join(".noctune_cache/index.db");
    assert!(!db.exists(), "nothing is read before the run starts");
    let said = std::sync::Mutex::new(Vec::new());
    evidence
        .prepare(&|what| said.lock().unwrap().push(what.to_owned()))
        .unwrap();
    assert!(db.is_file());
    let said = said.into_inner().unwrap();
    assert_eq!(said[0], "indexing the repository");
    assert!(
        said.iter().any(|s| s.contains("searched on disk")),
        "{said:?}"
    );

    let report = evidence
        .evidence(
            Path::new("pkg/core.py"),
            CORE,
            &["Parser".to_owned(), "Parser.parse".to_owned()],
            2000,
        )
        .unwrap();
    let targets = report.json["targets"].as_array().unwrap();
    let importers: Vec<&str> = targets[0]["importers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(importers, vec!["pkg/use.py", "tests/test_core.py"]);
    let definitions: Vec<(&str, &str)> = targets[1]["definitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["path"].as_str().unwrap(), d["name"].as_str().unwrap()))
        .collect();
    assert_eq!(definitions, vec![("legacy/old.py", "Parser.parse")]);
    assert!(
        report
            .text
            .contains("  imported by pkg/use.py:1: from pkg.core import Parser\n"),
        "{}",
        report.text
    );
    assert!(
        report
            .text
            .contains("  also defined: legacy/old.py:2 method `Parser.parse`"),
        "{}",
        report.text
    );

    // Each target's own part, for its edit prompt: the file's imports and its evidence only.
    let own = &report.targets["Parser"];
    assert!(own.starts_with("imports:\n  import os\n"), "{own}");
    assert!(own.contains("imported by pkg/use.py:1"), "{own}");
    assert!(
        own.contains("also defined: legacy/old.py:1 class `Parser`"),
        "{own}"
    );
    assert!(!own.contains("`Parser.parse`"), "{own}");
    assert!(report.targets["Parser.parse"].contains("also defined: legacy/old.py:2"));

    // A change applied elsewhere: the index is refreshed and sees the new importer.
    write(root, "pkg/extra.py", "from .core import Parser\n");
    evidence.file_changed(Path::new("pkg/extra.py")).unwrap();
    let report = evidence
        .evidence(Path::new("pkg/core.py"), CORE, &["Parser".to_owned()], 2000)
        .unwrap();
    let importers: Vec<&str> = report.json["targets"][0]["importers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        importers,
        vec!["pkg/extra.py", "pkg/use.py", "tests/test_core.py"]
    );
}
