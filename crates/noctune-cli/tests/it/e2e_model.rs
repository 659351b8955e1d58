//! `noctune run --max-files 1` on a tiny file, `noctune commit` on the demo repository's diff,
//! and `noctune task` on a small request, with the real local model (Qwen2.5-Coder 0.5B on
//! llama.cpp, started by `scripts/test`).
//! What a small model answers varies; the invariants do not: the run completes, the file still
//! parses, the artifacts and the report exist; the commit is made with a Conventional subject.

use std::path::Path;
use std::time::Instant;

use crate::{noctune_with_env, text};

const FILE: &str = "def mean(values):\n    total = 0\n    for v in values:\n        total = total + v\n    return total / len(values)\n";

fn model_url() -> String {
    std::env::var("NOCTUNE_TEST_LLM_URL").unwrap_or_else(|_| {
        panic!("NOCTUNE_TEST_LLM_URL is not set: run scripts/test (it starts the local model)")
    })
}

fn parses(path: &Path) -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())"])
        .arg(path)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
fn a_real_model_run_keeps_every_invariant() {
    let url = model_url();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("noctune.toml"),
        "allow_apply = true\nmax_passes = 1\n[llm]\nmax_tokens = 200\ntemperature = 0.0\ntimeout_s = 300\n",
    )
    .unwrap();
    std::fs::write(root.join("stats.py"), FILE).unwrap();
    std::fs::write(root.join("zz_untouched.py"), "X = 1\n").unwrap();

    let started = Instant::now();
    let output = noctune_with_env(
        root,
        &[
            "run",
            "--yes",
            "--max-files",
            "1",
            "--run-id",
            "e2e",
            "--output-format",
            "json",
        ],
        &[("NOCTUNE_BASE_URL", &url)],
    );
    let (stdout, stderr) = text(&output);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "exit {:?}\n{stdout}\n{stderr}",
        output.status.code()
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["status"], "completed", "{stdout}\n{stderr}");
    let summary = &json["summary"];
    let total: u64 = [
        "applied",
        "queued",
        "rejected",
        "proposed",
        "unchanged",
        "conflicts",
        "failed",
    ]
    .iter()
    .map(|k| summary[k].as_u64().unwrap())
    .sum();
    assert_eq!(total, 1, "--max-files 1: {summary}");
    // What a small model answers varies; a task that fails on an unusable answer is allowed
    // (the malformed-answer suite covers those paths), as long as it says why.
    if summary["failed"] == 1 {
        let state = std::fs::read_to_string(root.join(".noctune_cache/runs/e2e/state/tasks").join(
            format!(
                "{}.json",
                noctune_core::TaskId::for_path(Path::new("stats.py"))
            ),
        ))
        .unwrap();
        assert!(
            state.contains("\"error\""),
            "a failed task says why: {state}"
        );
    }

    // The file is either untouched or a whole version that parses; the other file untouched.
    let after = std::fs::read_to_string(root.join("stats.py")).unwrap();
    assert!(parses(&root.join("stats.py")), "broken file:\n{after}");
    assert_eq!(
        std::fs::read_to_string(root.join("zz_untouched.py")).unwrap(),
        "X = 1\n"
    );
    let run = root.join(".noctune_cache/runs/e2e");
    let task = noctune_core::TaskId::for_path(Path::new("stats.py"));
    let artifacts = run.join("artifacts").join(task.as_str());
    assert!(artifacts.join("review.md").is_file());
    assert!(artifacts.join("llm_review_p1.jsonl").is_file());
    if after != FILE {
        assert_eq!(summary["applied"], 1);
        assert!(run.join(format!("backups/{task}/p1/stats.py")).is_file());
    }
    assert!(run.join("report.md").is_file());
    assert!(run.join("report.html").is_file());
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(report.contains("stats.py"), "{report}");
    eprintln!(
        "e2e run took {:.1} s; outcome {summary}",
        started.elapsed().as_secs_f64()
    );
}

/// `noctune eval` on three small cases of the project's corpus with the real local model: no
/// file broken, every case's tests still pass, the model's answers were read and used (the
/// review and the edits of each case), and at least one change the model wrote was proven and
/// applied, leaving fewer findings than `ruff check --fix` alone. The full table is in
/// docs/benchmarks.md.
#[test]
fn eval_on_three_cases_with_the_real_model() {
    let url = model_url();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("noctune.toml"),
        "[llm]\nmax_tokens = 300\ntemperature = 0.0\ntimeout_s = 300\n",
    )
    .unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/corpus");
    let started = Instant::now();
    let output = noctune_with_env(
        root.path(),
        &[
            "eval",
            "--corpus",
            corpus.to_str().unwrap(),
            "--case",
            "07-validators",
            "--case",
            "13-percent-format",
            "--case",
            "25-small-helpers",
            "--max-files",
            "1",
            "--output-format",
            "json",
        ],
        &[("NOCTUNE_BASE_URL", &url)],
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // The model was probed once: a working format for each kind of answer, the server's window.
    let probe = &report["probe"];
    assert_eq!(probe["context_tokens"], 4096, "{probe}");
    assert_eq!(probe["formats"][0]["works"], true, "grammar: {probe}");
    assert_eq!(probe["formats"][1]["works"], true, "json_schema: {probe}");
    let totals = &report["totals"];
    assert_eq!(totals["cases"], 3, "{report}");
    assert_eq!(totals["broken"], 0, "{report}");
    assert_eq!(totals["tests_kept"], 3, "{report}");
    for case in report["cases"].as_array().unwrap() {
        assert_eq!(case["run_status"], "completed", "{case}");
        assert!(case["run"]["answers"].as_u64().unwrap() >= 3, "{case}");
        // Deterministic first: ruff's safe fixes are proven and applied whatever the model
        // says, so no case ends with more findings than `ruff check --fix` alone leaves.
        assert!(case["run"]["applied"].as_u64().unwrap() >= 1, "{case}");
        assert!(
            case["findings_after"].as_u64().unwrap() <= case["findings_ruff_fix"].as_u64().unwrap(),
            "{case}"
        );
    }
    let usable = totals["run"]["usable"].as_u64().unwrap();
    assert!(usable >= 8, "only {usable} usable answers: {report}");
    // The model's own part: at least one change it wrote, proven and applied, and fewer
    // findings left in total than `ruff check --fix` alone leaves.
    assert!(
        totals["run"]["model_written_applied"].as_u64().unwrap() >= 1,
        "no model-written change applied: {report}"
    );
    assert!(
        totals["findings_after"].as_u64().unwrap() < totals["findings_ruff_fix"].as_u64().unwrap(),
        "{report}"
    );
    eprintln!(
        "eval on 3 cases with the real model: {:?}",
        started.elapsed()
    );
}

/// `noctune commit` on a dirty copy of the demo repository: the real model analyses the diff and
/// writes a Conventional Commit subject that Noctune keeps to one line of at most 72 characters.
#[test]
fn a_real_model_writes_the_commit_message_of_the_demo_diff() {
    use crate::git_fixture::{git, init_repo, json, noctune_git};

    let url = model_url();
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("demo");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-repo");
    let mut files = Vec::new();
    for name in [
        "inventory/__init__.py",
        "inventory/models.py",
        "inventory/report.py",
    ] {
        files.push((name, std::fs::read_to_string(demo.join(name)).unwrap()));
    }
    let config = "[llm]\nmax_tokens = 200\ntemperature = 0.0\ntimeout_s = 300\n".to_owned();
    files.push(("noctune.toml", config));
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    init_repo(&repo, &borrowed);
    let report = repo.join("inventory/report.py");
    let mut source = std::fs::read_to_string(&report).unwrap();
    source.push_str(
        "\n\ndef total_quantity(items):\n    \"\"\"The number of units over all items.\"\"\"\n    return sum(item.quantity for item in items)\n",
    );
    std::fs::write(&report, source).unwrap();

    let output = noctune_git(&repo, &["commit", "--output-format", "json"], Some(&url));
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let commits = json(&output)["repositories"][0]["commits"].clone();
    assert_eq!(commits.as_array().map(Vec::len), Some(1), "{stdout}");
    let subject = git(&repo, &["log", "-1", "--format=%s"]);
    assert_eq!(commits[0]["subject"], subject.as_str());
    assert!(subject.chars().count() <= 72, "{subject}");
    let kind = subject.split([':', '(', '!']).next().unwrap();
    assert!(
        [
            "feat", "fix", "refactor", "docs", "test", "chore", "style", "perf", "build", "ci"
        ]
        .contains(&kind),
        "{subject}"
    );
    assert_eq!(
        git(&repo, &["show", "--name-only", "--format=", "HEAD"]),
        "inventory/report.py"
    );
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");
}

/// `noctune task` on a copy of the demo repository with the real model, at temperature 0: a
/// request it can do ("add double(x) with a test") is planned, its test written first, its code
/// written and verified, and both applied; the new test passes in the real tree afterwards.
#[test]
fn a_real_model_carries_out_a_small_request_with_its_test() {
    let url = model_url();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-repo/inventory");
    std::fs::create_dir_all(root.join("inventory")).unwrap();
    for entry in std::fs::read_dir(&demo).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(
            &path,
            root.join("inventory").join(path.file_name().unwrap()),
        )
        .unwrap();
    }
    let pytest = crate::tool("pytest");
    std::fs::write(
        root.join("noctune.toml"),
        format!(
            "allow_apply = true\n\n[llm]\ntemperature = 0.0\ntimeout_s = 300\n\n\
             [policy_packs.feature]\ntest_command = [\"{}\", \"-q\", \"-p\", \"no:cacheprovider\"]\n",
            pytest.display()
        ),
    )
    .unwrap();
    let started = Instant::now();
    let output = noctune_with_env(
        root,
        &[
            "task",
            "add a function double(x) that returns x * 2 to inventory/report.py, with a test",
            "--yes",
            "--run-id",
            "e2e-task",
            "--output-format",
            "json",
        ],
        &[("NOCTUNE_BASE_URL", &url)],
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let outcome = &result["task"]["outcome"];
    assert_eq!(outcome["outcome"], "applied", "{result:#}");
    let files: Vec<&str> = outcome["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(files.contains(&"inventory/report.py"), "{files:?}");
    let test_file = files
        .iter()
        .find(|f| f.starts_with("tests/"))
        .unwrap_or_else(|| panic!("no test file applied: {files:?}"));
    let report = std::fs::read_to_string(root.join("inventory/report.py")).unwrap();
    assert!(report.contains("def double("), "{report}");
    assert!(parses(&root.join("inventory/report.py")));
    // The new test runs and passes in the real tree.
    let run = std::process::Command::new(&pytest)
        .args(["-q", "-p", "no:cacheprovider", test_file])
        .env("PYTHONPATH", root)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    eprintln!("task with the real model: {:?}", started.elapsed());
}
