//! The report of a file that went through two passes shows the diffs of both, each under its
//! pass and whether it reached the real file.

use noctune_llm::fake::FakeServer;
use pretty_assertions::assert_eq;

use crate::fake_model::{code, pipeline_config, plan_with, review, verdict_with};
use crate::{noctune_with_env, text};

const AREA: &str = "def area(w, h):\n    return w * h\n";
const TYPED: &str = "def area(w: float, h: float) -> float:\n    return w * h\n";
const DOCUMENTED: &str = "def area(w: float, h: float) -> float:\n    \"\"\"The area of a w by h rectangle.\"\"\"\n    return w * h\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_shows_the_diffs_of_every_pass() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::write(root.join("noctune.toml"), pipeline_config(2)).unwrap();
    std::fs::write(root.join("area.py"), AREA).unwrap();
    let server = FakeServer::start([
        review("P"),
        plan_with(&[("area", "Add type hints.")]),
        code(TYPED),
        verdict_with("approve", "Type hints only.", 0.1),
        review("P"),
        plan_with(&[("area", "Add a docstring.")]),
        code(DOCUMENTED),
        verdict_with("reject", "Not worth a change.", 0.9),
    ])
    .await;
    let url = server.url();
    let run_root = root.clone();
    let output = tokio::task::spawn_blocking(move || {
        noctune_with_env(
            &run_root,
            &["run", "--yes", "--output-format", "json", "--run-id", "two"],
            &[("NOCTUNE_BASE_URL", &url)],
        )
    })
    .await
    .unwrap();
    assert_eq!(server.remaining(), 0, "{:?}", text(&output));
    assert_eq!(
        std::fs::read_to_string(root.join("area.py")).unwrap(),
        TYPED
    );

    let report = std::fs::read_to_string(root.join(".noctune_cache/runs/two/report.md")).unwrap();
    let from = report
        .find("pass 1 (applied):")
        .unwrap_or_else(|| panic!("{report}"));
    let to = report[from..]
        .find("\n|")
        .map_or(report.len(), |n| from + n);
    assert_eq!(
        &report[from..to],
        "pass 1 (applied):\n\n```diff\n--- area (before)\n+++ area (after)\n@@ -1,2 +1,2 @@\n\
         -def area(w, h):\n+def area(w: float, h: float) -> float:\n     return w * h\n```\n\n\
         pass 2 (not applied):\n\n```diff\n--- area (before)\n+++ area (after)\n@@ -1,2 +1,3 @@\n \
         def area(w: float, h: float) -> float:\n+    \"\"\"The area of a w by h rectangle.\"\"\"\n     \
         return w * h\n```\n"
    );
    let html = std::fs::read_to_string(root.join(".noctune_cache/runs/two/report.html")).unwrap();
    for heading in ["<p>pass 1 (applied):</p>", "<p>pass 2 (not applied):</p>"] {
        assert!(html.contains(heading), "{heading} missing: {html}");
    }
}
