//! `[approve] mode` through the real binary: who judged each change (`approval_p1.json`
//! `judged_by`), whether the model was asked at all, and where the change ended.

use std::path::Path;

use noctune_core::TaskId;
use noctune_llm::fake::{FakeOptions, FakeServer, Reply};
use pretty_assertions::assert_eq;

use crate::fake_model::{Stage, classify, code, json, plan, review, verdict_with};
use crate::{noctune_with_env, text};

const AREA: &str = "def area(w, h):\n    return w * h\n";
const AREA_TYPED: &str = "def area(w: float, h: float) -> float:\n    return w * h\n";
/// A change no proof covers and no signal flags.
const AREA_SWAPPED: &str = "def area(w, h):\n    return h * w\n";
/// An edit that adds an `eval` call: a risk signal of 0.6, at or above `high_risk`.
const AREA_EVAL: &str = "def area(w, h):\n    eval(\"w\")\n    return w * h\n";

/// A repo with `a.py`, applying allowed, lint_fix auto-approving up to risk 0.3, and `mode`.
fn repo(root: &Path, mode: &str) {
    std::fs::write(
        root.join("noctune.toml"),
        format!(
            "allow_apply = true\nmax_passes = 1\n\n[llm]\nmax_retries = 0\ntimeout_s = 30\n\n\
             [approve]\nmode = \"{mode}\"\n\n[policy_packs.lint_fix]\n\
             auto_approve = {{ enabled = true, max_risk = 0.3, max_lines = 40 }}\n"
        ),
    )
    .unwrap();
    std::fs::write(root.join("a.py"), AREA).unwrap();
}

/// Runs `noctune run` against a model that edits `area` into `edited` and answers the approve
/// call with `verdict`; returns the run's JSON, the approval record and the stages asked.
async fn run(
    mode: &str,
    edited: &'static str,
    verdict: Reply,
) -> (
    tempfile::TempDir,
    serde_json::Value,
    serde_json::Value,
    Vec<Stage>,
) {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path(), mode);
    let server =
        FakeServer::start_responder(FakeOptions::default(), move |request| {
            match classify(request, &["a.py"]).map(|a| a.stage) {
                Some(Stage::Review) => review("P"),
                Some(Stage::Draft) => plan(&["area"]),
                Some(Stage::Edit) => code(edited),
                Some(Stage::Approve) => verdict.clone(),
                _ => Reply::error(500, "unexpected request"),
            }
        })
        .await;
    let root = dir.path().to_path_buf();
    let url = server.url();
    let output = tokio::task::spawn_blocking(move || {
        noctune_with_env(
            &root,
            &["run", "--yes", "--output-format", "json", "--run-id", "r"],
            &[("NOCTUNE_BASE_URL", &url)],
        )
    })
    .await
    .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {:?}", text(&output)));
    let record = dir
        .path()
        .join(".noctune_cache/runs/r/artifacts")
        .join(TaskId::for_path(Path::new("a.py")).as_str())
        .join("approval_p1.json");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).unwrap_or_else(|e| {
            let events = dir.path().join(".noctune_cache/runs/r/logs/events.jsonl");
            let events = std::fs::read_to_string(events).unwrap_or_default();
            panic!("{e}: {json}\n{:?}\n{events}", text(&output))
        }))
        .unwrap();
    let stages = server
        .chat_requests()
        .iter()
        .filter_map(|r| classify(r, &["a.py"]).map(|a| a.stage))
        .collect();
    (dir, json, record, stages)
}

/// Runs `noctune run --yes` in `root` against the model at `url`; returns the run's JSON, the
/// artifacts of `a.py` and its approval record (`approval_p1.json`).
async fn run_in(
    root: &Path,
    url: String,
) -> (serde_json::Value, std::path::PathBuf, serde_json::Value) {
    let dir = root.to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        noctune_with_env(
            &dir,
            &["run", "--yes", "--output-format", "json", "--run-id", "r"],
            &[("NOCTUNE_BASE_URL", &url)],
        )
    })
    .await
    .unwrap();
    let artifacts = root
        .join(".noctune_cache/runs/r/artifacts")
        .join(TaskId::for_path(Path::new("a.py")).as_str());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {:?}\n{}",
            text(&output),
            std::fs::read_to_string(artifacts.join("fix_p1.json")).unwrap_or_default()
        )
    });
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(artifacts.join("approval_p1.json")).unwrap())
            .unwrap();
    (json, artifacts, record)
}

fn summary(json: &serde_json::Value) -> (u64, u64, u64) {
    let s = &json["summary"];
    (
        s["applied"].as_u64().unwrap(),
        s["proposed"].as_u64().unwrap(),
        s["queued"].as_u64().unwrap(),
    )
}

fn approve(reason: &str, kept: bool, risk: f32) -> Reply {
    json(serde_json::json!({
        "reason": reason,
        "behaviour_kept": kept,
        "risk": risk,
        "decision": if kept { "approve" } else { "reject" },
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_mode_asks_the_model_for_every_change() {
    let (dir, json, record, stages) =
        run("llm", AREA_TYPED, approve("Type hints only.", true, 0.1)).await;
    assert_eq!(
        stages,
        vec![Stage::Review, Stage::Draft, Stage::Edit, Stage::Approve]
    );
    assert_eq!(record["verdict"]["judged_by"], "llm");
    assert_eq!(record["verdict"]["decision"], "approve");
    assert_eq!(summary(&json), (1, 0, 0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        AREA_TYPED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_mode_never_asks_the_model_applies_the_proven_and_queues_the_rest() {
    // Type hints only: the annotations proof (python3's ast), applied with no model call.
    let (dir, json, record, stages) =
        run("signals", AREA_TYPED, approve("unused", true, 0.0)).await;
    assert_eq!(stages, vec![Stage::Review, Stage::Draft, Stage::Edit]);
    assert_eq!(record["verdict"]["judged_by"], "proof:annotations");
    assert_eq!(record["verdict"]["decision"], "approve");
    assert_eq!(summary(&json), (1, 0, 0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        AREA_TYPED
    );

    // Not proven: a human decides.
    let (dir, json, record, stages) =
        run("signals", AREA_SWAPPED, approve("unused", true, 0.0)).await;
    assert_eq!(stages, vec![Stage::Review, Stage::Draft, Stage::Edit]);
    assert_eq!(record["verdict"]["judged_by"], "signals");
    assert_eq!(record["verdict"]["decision"], "undecided");
    assert_eq!(record["decision"]["route"], "needs_human");
    assert_eq!(summary(&json), (0, 0, 1));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        AREA
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_mode_asks_the_model_only_for_what_proofs_and_signals_leave() {
    // Proven: no model call.
    let (_dir, json, record, stages) =
        run("chain", AREA_TYPED, approve("Type hints only.", true, 0.1)).await;
    assert_eq!(stages, vec![Stage::Review, Stage::Draft, Stage::Edit]);
    assert_eq!(record["verdict"]["judged_by"], "proof:annotations");
    assert_eq!(summary(&json), (1, 0, 0));

    // Unproven, low signal risk: the model decides.
    let (dir, json, record, stages) = run(
        "chain",
        AREA_SWAPPED,
        approve("The same product with the factors swapped.", true, 0.1),
    )
    .await;
    assert_eq!(stages.last(), Some(&Stage::Approve));
    assert_eq!(record["verdict"]["judged_by"], "llm");
    assert_eq!(summary(&json), (1, 0, 0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        AREA_SWAPPED
    );

    // A new `eval` call scores 0.6: a human must look whatever the model says, so it is not
    // asked.
    let (dir, json, record, stages) =
        run("chain", AREA_EVAL, approve("Same area.", true, 0.0)).await;
    assert_eq!(stages, vec![Stage::Review, Stage::Draft, Stage::Edit]);
    assert_eq!(record["verdict"]["judged_by"], "signals");
    assert_eq!(record["verdict"]["decision"], "undecided");
    assert!(
        record["verdict"]["reason"]
            .as_str()
            .unwrap()
            .contains("DangerousCallAdded"),
        "{record}"
    );
    assert_eq!(summary(&json), (0, 0, 1));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        AREA
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verdict_that_contradicts_itself_goes_to_a_human() {
    // "Harmless" and "behaviour kept", then reject: neither dropped nor applied.
    let (dir, json, record, _) = run(
        "llm",
        AREA_TYPED,
        verdict_with("reject", "The change is harmless: type hints only.", 1.0),
    )
    .await;
    assert_eq!(record["verdict"]["decision"], "undecided");
    let reason = record["verdict"]["reason"].as_str().unwrap();
    assert!(reason.contains("no verdict"), "{reason}");
    assert_eq!(summary(&json), (0, 0, 1));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        AREA
    );

    // A reason about code the change does not contain.
    let (_dir, json, record, _) = run(
        "llm",
        AREA_TYPED,
        verdict_with("reject", "The function `load_config` is removed.", 1.0),
    )
    .await;
    assert_eq!(record["verdict"]["decision"], "undecided");
    assert!(
        record["verdict"]["reason"]
            .as_str()
            .unwrap()
            .contains("`load_config`"),
        "{record}"
    );
    assert_eq!(summary(&json), (0, 0, 1));
}

/// Three findings for the model: two `== None` (a rewrite a proof keeps) and `== True` (none
/// does).
const CHECKS: &str = "\
def is_missing(value):
    return value == None


def describe(value):
    if value == None:
        return \"none\"
    return str(value)


def is_on(flag):
    return flag == True
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_change_keeps_the_targets_each_proven_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path(), "chain");
    std::fs::write(dir.path().join("a.py"), CHECKS).unwrap();
    std::fs::write(
        dir.path().join("ruff.toml"),
        "[lint]\nselect = [\"F\", \"E711\", \"E712\"]\n",
    )
    .unwrap();
    // The model fixes `== None` as ruff would and turns `flag == True` into plain truthiness
    // (not the same for `1` or `"yes"`); its approver rejects the whole.
    let server = FakeServer::start_responder(FakeOptions::default(), |request| {
        let Some(asked) = classify(request, &["a.py"]) else {
            return Reply::error(500, "unexpected request");
        };
        match (asked.stage, asked.symbol.as_deref()) {
            (Stage::Review, _) => review("P"),
            (Stage::Edit, Some("is_missing")) => {
                code("def is_missing(value):\n    return value is None\n")
            }
            (Stage::Edit, Some("is_on")) => code("def is_on(flag):\n    return flag\n"),
            // The fix, and `repr` for `str`: only the first part is kept.
            (Stage::Edit, Some("describe")) => code(
                "def describe(value):\n    if value is None:\n        return \"none\"\n    \
                 return repr(value)\n",
            ),
            (Stage::Approve, _) => approve("`is_on` now returns the flag itself.", false, 0.6),
            _ => Reply::error(500, "unexpected request"),
        }
    })
    .await;
    let (json, artifacts, record) = run_in(dir.path(), server.url()).await;
    let stages: Vec<Stage> = server
        .chat_requests()
        .iter()
        .filter_map(|r| classify(r, &["a.py"]).map(|a| a.stage))
        .collect();
    assert_eq!(
        stages,
        vec![Stage::Edit, Stage::Edit, Stage::Edit, Stage::Approve],
        "the plan comes from the findings: no review or plan call"
    );
    assert_eq!(record["applies"], "proven_part", "{record}");
    assert_eq!(record["verdict"]["judged_by"], "proof:pack_rewrite");
    let reason = record["verdict"]["reason"].as_str().unwrap();
    assert!(reason.contains("`is_missing` (pack_rewrite)"), "{reason}");
    assert!(
        reason.contains("`describe (in part)` (pack_rewrite)"),
        "{reason}"
    );
    assert!(reason.contains("`is_on`: not proven"), "{reason}");
    assert_eq!(summary(&json), (1, 0, 0));
    let applied = CHECKS.replace("value == None", "value is None");
    assert!(applied.contains("return str(value)") && applied.contains("flag == True"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        applied
    );
    assert_eq!(
        std::fs::read_to_string(artifacts.join("proven_part_p1.py")).unwrap(),
        applied
    );
}

const COUPON: &str = "\
class Coupon:
    def __init__(self, min_total=None):
        self.min_total = min_total

    def applies(self, total):
        if self.min_total == None:
            return True
        return total >= self.min_total
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annotations_the_plan_did_not_ask_for_are_dropped_and_the_fix_is_proven() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path(), "chain");
    std::fs::write(dir.path().join("a.py"), COUPON).unwrap();
    std::fs::write(
        dir.path().join("ruff.toml"),
        "target-version = \"py311\"\n[lint]\nselect = [\"F\", \"E711\"]\n",
    )
    .unwrap();
    // What the 0.5B answered in the eval: the fix, inside a re-declared class, with
    // annotations nobody asked for and the import they need.
    let server = FakeServer::start_responder(FakeOptions::default(), |request| {
        match classify(request, &["a.py"]).map(|a| a.stage) {
            Some(Stage::Edit) => code(
                "from typing import Optional\n\nclass Coupon:\n    def __init__(self, min_total: \
                 Optional[int] = None):\n        self.min_total = min_total\n\n    def \
                 applies(self, total: int) -> bool:\n        if self.min_total is None:\n            \
                 return True\n        return total >= self.min_total\n",
            ),
            _ => Reply::error(500, "unexpected request"),
        }
    })
    .await;
    let (json, artifacts, record) = run_in(dir.path(), server.url()).await;
    let ops = std::fs::read_to_string(artifacts.join("edit_ops_p1.json")).unwrap();
    assert!(ops.contains("dropped the annotations"), "{ops}");
    // No approve call: the edit alone is ruff's own E711 fix.
    assert_eq!(server.chat_requests().len(), 1);
    assert_eq!(
        record["verdict"]["judged_by"], "proof:pack_rewrite",
        "{record}"
    );
    assert_eq!(summary(&json), (1, 0, 0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        COUPON.replace("== None", "is None")
    );
}

const DESCRIBE: &str = "\
def describe_unit(unit):
    spec = UNITS.get(unit.lower())
    if spec is None:
        return None
    return \"%s: %s\" % (unit, spec)


UNITS = {\"m\": \"length\"}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typing_pass_keeps_the_annotations_that_hold_and_leaves_out_one_that_contradicts_the_code()
 {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("noctune.toml"),
        "allow_apply = true\nmax_passes = 1\npack = \"typing_pass\"\n\n[llm]\nmax_retries = 0\n\
         timeout_s = 30\n\n[approve]\nmode = \"chain\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("a.py"), DESCRIBE).unwrap();
    std::fs::write(dir.path().join("ruff.toml"), "target-version = \"py311\"\n").unwrap();
    // What the 0.5B answered in the eval on 24-typing-units-package: `unit: str` holds,
    // `-> str` does not (the function returns None). The approver is not convinced.
    let server = FakeServer::start_responder(FakeOptions::default(), |request| {
        match classify(request, &["a.py"]).map(|a| a.stage) {
            Some(Stage::Edit) => code(
                &DESCRIBE[..DESCRIBE.find("\n\n\n").unwrap() + 1]
                    .replace("describe_unit(unit)", "describe_unit(unit: str) -> str"),
            ),
            Some(Stage::Approve) => verdict_with("reject", "not sure", 0.5),
            _ => Reply::error(500, "unexpected request"),
        }
    })
    .await;
    let (json, _artifacts, record) = run_in(dir.path(), server.url()).await;
    assert_eq!(record["applies"], "proven_part", "{record}");
    assert_eq!(record["verdict"]["judged_by"], "proof:annotations");
    assert_eq!(summary(&json), (1, 0, 0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        DESCRIBE.replace("describe_unit(unit)", "describe_unit(unit: str)")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finding_in_a_function_too_large_to_rewrite_is_fixed_in_a_window() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path(), "chain");
    // Answers of at most 200 tokens: the 60-line function cannot come back whole.
    std::fs::write(
        dir.path().join("noctune.toml"),
        "allow_apply = true\nmax_passes = 1\n\n[llm]\nmax_retries = 0\ntimeout_s = 30\n\
         max_tokens = 200\n\n[approve]\nmode = \"chain\"\n",
    )
    .unwrap();
    let mut report = String::from("def report(rows, out):\n    total = 0\n");
    for i in 0..60 {
        report.push_str(&format!("    total += rows.get(\"r{i}\", 0)\n"));
    }
    report.push_str("    if rows.get(\"end\") == None:\n        out.write(\"open\")\n");
    report.push_str("    return total\n");
    std::fs::write(dir.path().join("a.py"), &report).unwrap();
    std::fs::write(
        dir.path().join("ruff.toml"),
        "target-version = \"py311\"\n[lint]\nselect = [\"F\", \"E711\"]\n",
    )
    .unwrap();
    let server = FakeServer::start_responder(FakeOptions::default(), |request| {
        match classify(request, &["a.py"]) {
            // Shown only the window, the model answers only the window.
            Some(asked) if asked.stage == Stage::Edit => {
                let prompt = asked.prompt;
                if !prompt.contains("lines 63–64 of report")
                    || prompt.contains("r30")
                    || !prompt.contains("no `def` line")
                {
                    return Reply::error(500, "not the window");
                }
                code("if rows.get(\"end\") is None:\n    out.write(\"open\")\n")
            }
            _ => Reply::error(500, "unexpected request"),
        }
    })
    .await;
    let (json, artifacts, record) = run_in(dir.path(), server.url()).await;
    let draft = std::fs::read_to_string(artifacts.join("draft.json")).unwrap();
    assert!(draft.contains("\"window\""), "{draft}");
    assert_eq!(server.chat_requests().len(), 1);
    assert_eq!(
        record["verdict"]["judged_by"], "proof:pack_rewrite",
        "{record}"
    );
    assert_eq!(summary(&json), (1, 0, 0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
        report.replace("== None", "is None")
    );
}
