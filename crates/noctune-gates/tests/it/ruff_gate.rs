//! The ruff gate: the repository's configuration, new-vs-existing diagnostics by rule and
//! symbol, version and config hash in the report.

use std::path::Path;

use noctune_core::{GateInput, GateOutcome};
use pretty_assertions::assert_eq;

use crate::support::{gates, write};

const BEFORE: &str = "\
import os


def load(path):
    unused = 1
    return open(path).read()


def save(path, data):
    if data == None:
        return
    with open(path, \"w\") as f:
        f.write(data)
";

#[tokio::test]
async fn blocks_only_on_diagnostics_the_change_introduced() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ruff.toml",
        "[lint]\nselect = [\"F\", \"E711\"]\n",
    );
    let gates = gates(dir.path()).await;
    let ruff = gates.ruff_gate().unwrap();
    use noctune_core::Gate;

    // An improved file: `load` gets a docstring and moves everything down. The existing F401,
    // F841 and E711 are on other lines now, but the same rules in the same symbols.
    let improved = BEFORE.replace(
        "def load(path):\n",
        "def load(path):\n    \"\"\"Read the whole file.\"\"\"\n\n",
    );
    let report = ruff
        .check(GateInput {
            path: Path::new("pkg/io.py"),
            before: Some(BEFORE),
            after: &improved,
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, GateOutcome::Pass, "{report:#?}");
    let mut seen: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| (d.code.clone().unwrap(), d.symbol.clone(), d.introduced))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("E711".to_owned(), Some("save".to_owned()), false),
            ("F401".to_owned(), Some("<imports>".to_owned()), false),
            ("F841".to_owned(), Some("load".to_owned()), false),
        ]
    );
    assert_eq!(report.summary, "no new diagnostics (3 already there)");
    assert_eq!(report.tool.as_deref(), Some("ruff 0.17.5"));
    assert_eq!(report.config_hash.as_ref().map(String::len), Some(16));

    // A change that adds a second unused variable in `save` is blocked, and only that one is new.
    let worse = BEFORE.replace(
        "    if data == None:",
        "    other = 2\n    if data == None:",
    );
    let report = ruff
        .check(GateInput {
            path: Path::new("pkg/io.py"),
            before: Some(BEFORE),
            after: &worse,
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, GateOutcome::Fail);
    let introduced: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.introduced)
        .map(|d| (d.code.clone().unwrap(), d.symbol.clone(), d.message.clone()))
        .collect();
    assert_eq!(
        introduced,
        vec![(
            "F841".to_owned(),
            Some("save".to_owned()),
            "Local variable `other` is assigned to but never used".to_owned()
        )]
    );

    // `check` semantics: no `before`, so everything counts.
    let report = ruff
        .check(GateInput {
            path: Path::new("pkg/io.py"),
            before: None,
            after: BEFORE,
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, GateOutcome::Fail);
    assert_eq!(
        report.diagnostics.iter().filter(|d| d.introduced).count(),
        3
    );
}

#[tokio::test]
async fn honours_nested_configuration_and_excludes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ruff.toml", "[lint]\nselect = [\"F\"]\n");
    write(
        dir.path(),
        "legacy/ruff.toml",
        "exclude = [\"generated.py\"]\n[lint]\nselect = [\"E711\"]\n",
    );
    let gates = gates(dir.path()).await;
    let ruff = gates.ruff_gate().unwrap();
    use noctune_core::Gate;
    let text = "import os\nx = None\nif x == None:\n    pass\n";
    let codes = |path: &'static str| async move {
        let report = ruff
            .check(GateInput {
                path: Path::new(path),
                before: None,
                after: text,
            })
            .await
            .unwrap();
        let codes: Vec<_> = report
            .diagnostics
            .into_iter()
            .map(|d| d.code.unwrap())
            .collect();
        (codes, report.config_hash.unwrap())
    };
    let (top, top_hash) = codes("app/main.py").await;
    let (legacy, legacy_hash) = codes("legacy/old.py").await;
    let (generated, _) = codes("legacy/generated.py").await;
    assert_eq!(top, vec!["F401".to_owned()]);
    assert_eq!(legacy, vec!["E711".to_owned()]);
    assert_eq!(generated, Vec::<String>::new());
    assert_ne!(top_hash, legacy_hash);
}

#[tokio::test]
async fn a_text_that_does_not_parse_is_left_to_the_parse_gate() {
    let dir = tempfile::tempdir().unwrap();
    let gates = gates(dir.path()).await;
    let run = gates
        .run(GateInput {
            path: Path::new("m.py"),
            before: None,
            after: "def f(:\n    pass\n",
        })
        .await
        .unwrap();
    let gates_run: Vec<_> = run
        .reports
        .iter()
        .map(|r| (r.gate.as_str(), r.outcome))
        .collect();
    assert_eq!(gates_run, vec![("parse", GateOutcome::Fail)]);
    use noctune_core::Gate;
    let report = gates
        .ruff_gate()
        .unwrap()
        .check(GateInput {
            path: Path::new("m.py"),
            before: None,
            after: "def f(:\n    pass\n",
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, GateOutcome::Undecided);
}

#[tokio::test]
async fn ruff_commands_a_pack_does_not_allow_never_run() {
    use noctune_gates::{ParseBackend, RuffCommands};

    let dir = tempfile::tempdir().unwrap();
    let input = GateInput {
        path: std::path::Path::new("a.py"),
        before: Some("import os\n"),
        after: "import os\nimport sys\n",
    };
    // Without `ruff check`: no lint gate, python3 decides syntax; `ruff fix` alone keeps ruff
    // for the repair ladder only.
    let fix_only = noctune_gates::Gates::from_tools_allowed(
        dir.path(),
        crate::support::tools().await,
        Some(crate::support::editor()),
        RuffCommands {
            check: false,
            fix: true,
        },
    );
    assert!(fix_only.ruff_gate().is_none());
    assert!(fix_only.ruff_for_fix().is_some());
    assert!(matches!(
        fix_only.parse_gate().backend(),
        ParseBackend::Python(_)
    ));
    let run = fix_only.run(input).await.unwrap();
    let gates: Vec<&str> = run.reports.iter().map(|r| r.gate.as_str()).collect();
    assert_eq!(gates, vec!["parse"]);

    // Every command: the unused import fails the lint gate.
    let all = crate::support::gates(dir.path()).await;
    assert!(all.ruff_for_fix().is_some());
    let run = all.run(input).await.unwrap();
    let gates: Vec<&str> = run.reports.iter().map(|r| r.gate.as_str()).collect();
    assert_eq!(gates, vec!["parse", "ruff"]);
    assert!(!run.passed());
}
