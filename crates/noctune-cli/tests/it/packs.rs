//! Policy packs keep their word, through the real binary: `tools_allowed` decides which tools
//! run at all (a logging wrapper around the real ruff counts its processes), `require_tests`
//! runs the pack's test command (the real pytest) on a copy with the change in place, and files
//! outside `allowed_globs` never reach the model.

use std::path::Path;

use noctune_core::TaskId;
use noctune_llm::fake::{FakeOptions, FakeServer, Reply};
use pretty_assertions::assert_eq;

use crate::fake_model::{Stage, classify, code, plan, review, verdict};
use crate::{noctune_with_env, text, tool};

const AREA: &str = "def area(w, h):\n    return w * h\n";
const AREA_TYPED: &str = "def area(w: float, h: float) -> float:\n    return w * h\n";
/// Keeps the signature, breaks the behaviour `tests/test_calc.py` checks.
const AREA_BROKEN: &str = "def area(w, h):\n    return w + h\n";
const TEST_CALC: &str = "from calc import area\n\n\ndef test_area():\n    assert area(2, 3) == 6\n";

/// `noctune.toml` with one `lint_fix` table (`pack` is its body) and the scripted suites'
/// settings: applying allowed, no retries, the model judging every change.
fn config(pack: &str) -> String {
    format!(
        "allow_apply = true\nmax_passes = 1\n\n[llm]\nmax_retries = 0\ntimeout_s = 30\n\n\
         [approve]\nmode = \"llm\"\n\n[policy_packs.lint_fix]\n{pack}"
    )
}

/// A fake model that edits `area` in `file` into `edited` and approves at risk 0.1; requests
/// about any other file are errors (and are recorded).
async fn model(file: &'static str, edited: &'static str) -> FakeServer {
    FakeServer::start_responder(FakeOptions::default(), move |request| {
        match classify(request, &[file]).map(|a| a.stage) {
            Some(Stage::Review) => review("P"),
            Some(Stage::Draft) => plan(&["area"]),
            Some(Stage::Edit) => code(edited),
            Some(Stage::Approve) => verdict("approve", 0.1),
            _ => Reply::error(500, "unexpected request"),
        }
    })
    .await
}

/// Runs `noctune ARGS --yes --output-format json --run-id r` in `root` against `server`, with
/// `path` as `PATH` when given; returns the run's JSON.
async fn run(
    root: &Path,
    server: &FakeServer,
    args: &[&str],
    path: Option<String>,
) -> serde_json::Value {
    let root = root.to_path_buf();
    let url = server.url();
    let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    all.extend(
        ["--yes", "--output-format", "json", "--run-id", "r"]
            .iter()
            .map(|a| (*a).to_owned()),
    );
    let output = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        let mut env = vec![("NOCTUNE_BASE_URL", url.as_str())];
        if let Some(path) = &path {
            env.push(("PATH", path.as_str()));
        }
        noctune_with_env(&root, &args, &env)
    })
    .await
    .unwrap();
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", text(&output)))
}

/// The run's events of one type, as JSON payloads.
fn events(root: &Path, kind: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(root.join(".noctune_cache/runs/r/logs/events.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|event| event["type"] == kind)
        .map(|event| event["payload"].clone())
        .collect()
}

/// A task's artifact of run `r`, parsed.
fn artifact(root: &Path, file: &str, name: &str) -> serde_json::Value {
    let path = root
        .join(".noctune_cache/runs/r/artifacts")
        .join(TaskId::for_path(Path::new(file)).as_str())
        .join(name);
    serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

fn summary(json: &serde_json::Value) -> (u64, u64, u64) {
    let s = &json["summary"];
    (
        s["applied"].as_u64().unwrap(),
        s["proposed"].as_u64().unwrap(),
        s["queued"].as_u64().unwrap(),
    )
}

/// A directory whose `ruff` logs each invocation to `log` and then runs the real ruff, and the
/// `PATH` that puts it first.
fn ruff_wrapper(dir: &Path, log: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let wrapper = bin.join("ruff");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            tool("ruff").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    format!("{}:{}", bin.display(), rest.to_string_lossy())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pack_with_no_tools_runs_no_ruff_process() {
    let tools = tempfile::tempdir().unwrap();
    let log = tools.path().join("ruff.log");
    let path = ruff_wrapper(tools.path(), &log);
    let server = model("a.py", AREA_TYPED).await;

    // The wrapper works: the default pack (`tools_allowed = ["ruff"]`) runs ruff through it.
    let with_ruff = tempfile::tempdir().unwrap();
    std::fs::write(with_ruff.path().join("noctune.toml"), config("")).unwrap();
    std::fs::write(with_ruff.path().join("a.py"), AREA).unwrap();
    let json = run(with_ruff.path(), &server, &["run"], Some(path.clone())).await;
    assert_eq!(summary(&json), (1, 0, 0), "{json}");
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(calls.contains("check"), "{calls}");
    assert!(events(with_ruff.path(), "tool_skipped").is_empty());
    std::fs::remove_file(&log).unwrap();

    // No tools: not one ruff process, the parse gate through python3, each skip logged.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("noctune.toml"),
        config("tools_allowed = []\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("a.py"), AREA).unwrap();
    let json = run(dir.path(), &server, &["run"], Some(path)).await;
    assert_eq!(summary(&json), (1, 0, 0), "{json}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        AREA_TYPED
    );
    assert!(
        !log.exists(),
        "ruff ran: {:?}",
        std::fs::read_to_string(&log)
    );
    let skipped: Vec<(String, String)> = events(dir.path(), "tool_skipped")
        .iter()
        .map(|p| {
            (
                p["tool"].as_str().unwrap().to_owned(),
                p["why"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        vec![
            (
                "ruff check".to_owned(),
                "`ruff check` is not in tools_allowed of pack `lint_fix`: no lint gate; the \
                 parse gate asks python3's ast.parse"
                    .to_owned()
            ),
            (
                "ruff fix".to_owned(),
                "`ruff fix` is not in tools_allowed of pack `lint_fix`: the repair ladder skips \
                 its ruff fix step"
                    .to_owned()
            ),
        ]
    );
    let gates = artifact(dir.path(), "a.py", "gates_p1.json");
    let gate_names: Vec<&str> = gates["reports"]
        .as_array()
        .unwrap_or_else(|| panic!("{gates}"))
        .iter()
        .map(|r| r["gate"].as_str().unwrap())
        .collect();
    assert_eq!(gate_names, vec!["parse"], "{gates}");
    assert!(
        gates.to_string().contains("ast.parse"),
        "the parse gate's tool: {gates}"
    );
}

/// A repo whose test checks `area`, a pack requiring tests run by the real pytest.
fn tested_repo(root: &Path) {
    let pytest = tool("pytest");
    std::fs::write(
        root.join("noctune.toml"),
        config(&format!(
            "tools_allowed = [\"ruff\", \"pytest\"]\ntest_command = [\"{}\", \"-x\", \"-q\", \
             \"-p\", \"no:cacheprovider\"]\ntest_timeout_s = 120\nauto_approve = {{ enabled = \
             true, max_risk = 0.3, max_lines = 40, require_tests = true }}\n",
            pytest.display()
        )),
    )
    .unwrap();
    std::fs::write(root.join("calc.py"), AREA).unwrap();
    // A root conftest.py puts the root on sys.path for `from calc import area`.
    std::fs::write(root.join("conftest.py"), "").unwrap();
    std::fs::create_dir_all(root.join("tests")).unwrap();
    std::fs::write(root.join("tests/test_calc.py"), TEST_CALC).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_tests_applies_a_change_whose_tests_pass() {
    let dir = tempfile::tempdir().unwrap();
    tested_repo(dir.path());
    let server = model("calc.py", AREA_TYPED).await;
    let json = run(dir.path(), &server, &["run", "calc.py"], None).await;
    let tests = artifact(dir.path(), "calc.py", "tests_p1.json");
    assert_eq!(
        (&tests["ran"], &tests["passed"], &tests["summary"]),
        (&true.into(), &true.into(), &"passed".into()),
        "{tests}"
    );
    assert!(
        tests["output_tail"].as_str().unwrap().contains("1 passed"),
        "{tests}"
    );
    let record = artifact(dir.path(), "calc.py", "approval_p1.json");
    assert_eq!(record["decision"]["route"], "auto_approve", "{record}");
    assert!(
        record["decision"]["why"]
            .as_str()
            .unwrap()
            .contains("tests passed"),
        "{record}"
    );
    assert_eq!(summary(&json), (1, 0, 0), "{json}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("calc.py")).unwrap(),
        AREA_TYPED
    );
    let ran = events(dir.path(), "tests_run");
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(ran[0]["passed"], true);
    // The tests ran on a copy: nothing of theirs is left in the repository.
    assert!(!dir.path().join("tests/__pycache__").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_tests_rejects_a_change_that_breaks_a_test_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    tested_repo(dir.path());
    let server = model("calc.py", AREA_BROKEN).await;
    let json = run(dir.path(), &server, &["run", "calc.py"], None).await;
    let tests = artifact(dir.path(), "calc.py", "tests_p1.json");
    assert_eq!(tests["passed"], false, "{tests}");
    assert_eq!(tests["exit_code"], 1, "{tests}");
    assert_eq!(
        tests["failing"],
        serde_json::json!(["tests/test_calc.py::test_area"]),
        "{tests}"
    );
    assert!(
        tests["output_tail"]
            .as_str()
            .unwrap()
            .contains("assert 5 == 6"),
        "{tests}"
    );
    let record = artifact(dir.path(), "calc.py", "approval_p1.json");
    assert_eq!(
        record["decision"],
        serde_json::json!({
            "route": "rejected",
            "why": "require_tests: the tests failed (exit 1): tests/test_calc.py::test_area",
        })
    );
    // The real file is untouched and nothing waits for a human.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("calc.py")).unwrap(),
        AREA
    );
    let (applied, _, queued) = summary(&json);
    assert_eq!((applied, queued), (0, 0), "{json}");
    assert_eq!(json["summary"]["rejected"], 1, "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_tests_runs_nothing_for_a_change_a_human_decides_anyway() {
    let dir = tempfile::tempdir().unwrap();
    tested_repo(dir.path());
    // Risk 0.6 > max_risk 0.3: queued whatever the tests say, so they do not run.
    let server = FakeServer::start_responder(FakeOptions::default(), |request| {
        match classify(request, &["calc.py"]).map(|a| a.stage) {
            Some(Stage::Review) => review("P"),
            Some(Stage::Draft) => plan(&["area"]),
            Some(Stage::Edit) => code(AREA_BROKEN),
            Some(Stage::Approve) => verdict("approve", 0.6),
            _ => Reply::error(500, "unexpected request"),
        }
    })
    .await;
    let json = run(dir.path(), &server, &["run", "calc.py"], None).await;
    let tests = artifact(dir.path(), "calc.py", "tests_p1.json");
    assert_eq!(
        (&tests["ran"], &tests["summary"]),
        (
            &false.into(),
            &"not run: the change is not auto-approved whatever the tests say".into()
        ),
        "{tests}"
    );
    let record = artifact(dir.path(), "calc.py", "approval_p1.json");
    assert_eq!(record["decision"]["route"], "needs_human", "{record}");
    assert_eq!(summary(&json).2, 1, "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_outside_allowed_globs_cost_no_model_call() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("noctune.toml"),
        config("allowed_globs = [\"src/**/*.py\"]\n"),
    )
    .unwrap();
    for file in ["src/a.py", "docs/b.py"] {
        std::fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
        std::fs::write(root.join(file), AREA).unwrap();
    }
    let server = FakeServer::start_responder(FakeOptions::default(), |request| {
        match classify(request, &["src/a.py"]).map(|a| a.stage) {
            Some(Stage::Review) => review("P"),
            Some(Stage::Draft) => plan(&["area"]),
            Some(Stage::Edit) => code(AREA_TYPED),
            Some(Stage::Approve) => verdict("approve", 0.1),
            _ => Reply::error(500, "unexpected request"),
        }
    })
    .await;
    let asked_about_docs = |server: &FakeServer| {
        server
            .chat_requests()
            .iter()
            .filter(|r| classify(r, &["docs/b.py"]).is_some())
            .count()
    };

    // The whole repository: docs/b.py is left out quietly.
    let json = run(root, &server, &["run"], None).await;
    assert_eq!(summary(&json), (1, 0, 0), "{json}");
    assert_eq!(asked_about_docs(&server), 0);
    assert!(events(root, "policy_violation").is_empty());
    assert_eq!(
        std::fs::read_to_string(root.join("docs/b.py")).unwrap(),
        AREA
    );

    // Named on the command line: still no model call, and a policy_violation says why.
    std::fs::remove_dir_all(root.join(".noctune_cache/runs/r")).unwrap();
    let before = server.chat_requests().len();
    let json = run(root, &server, &["edit", "docs/b.py"], None).await;
    assert_eq!(json["summary"]["applied"], 0, "{json}");
    assert_eq!(server.chat_requests().len(), before);
    assert_eq!(
        events(root, "policy_violation"),
        vec![serde_json::json!({
            "pack": "lint_fix",
            "rule": "allowed_globs",
            "detail": "`docs/b.py` matches no allowed glob (src/**/*.py)",
            "file": "docs/b.py",
        })]
    );
}
