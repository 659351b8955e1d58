//! The repair ladder, step by step, with the real ruff and an in-process scripted model.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use noctune_core::prompts::Prompts;
use noctune_core::{ChatRequest, ChatResponse, LlmClient, LlmError};
use noctune_gates::{RepairConfig, RepairInput, RepairLadder, RepairOutcome, RuffFix, StepKind};
use pretty_assertions::assert_eq;

use crate::support::{editor, gates, write};

/// Answers from a queue and keeps every request.
#[derive(Default)]
struct ScriptedLlm {
    answers: Mutex<VecDeque<String>>,
    requests: Mutex<Vec<ChatRequest>>,
}

impl ScriptedLlm {
    fn new(answers: &[&str]) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(answers.iter().map(|a| (*a).to_owned()).collect()),
            requests: Mutex::default(),
        })
    }

    fn prompts(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.messages[0].content.clone())
            .collect()
    }
}

#[async_trait]
impl LlmClient for ScriptedLlm {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        self.requests.lock().unwrap().push(request.clone());
        let answer = self.answers.lock().unwrap().pop_front();
        Ok(ChatResponse::text(
            answer.expect("the ladder asked more than scripted"),
        ))
    }
}

async fn ladder(dir: &Path, config: RepairConfig, llm: Option<Arc<ScriptedLlm>>) -> RepairLadder {
    write(
        dir,
        "ruff.toml",
        "target-version = \"py311\"\n[lint]\nselect = [\"F\"]\n",
    );
    let gates = Arc::new(gates(dir).await);
    let ladder = RepairLadder::new(gates, editor(), config);
    match llm {
        Some(llm) => ladder.with_llm(llm, Prompts::new(dir.join(".noctune_cache/overrides"))),
        None => ladder,
    }
}

fn kinds(report: &noctune_gates::RepairReport) -> Vec<(StepKind, bool)> {
    report.steps.iter().map(|s| (s.kind, s.kept)).collect()
}

const BEFORE: &str = "\
def old(name):
    return f\"hello\" + name


def greet(name):
    return \"hi \" + name
";

#[tokio::test]
async fn heuristics_strip_fences_and_prose_first() {
    let dir = tempfile::tempdir().unwrap();
    let ladder = ladder(dir.path(), RepairConfig::default(), None).await;
    let after = BEFORE.replace(
        "def greet(name):\n    return \"hi \" + name\n",
        "Here is the updated function:\n```python\ndef greet(name):\n    return \"hi \" + name.strip()\n```\n",
    );
    let report = ladder
        .repair(RepairInput {
            path: Path::new("m.py"),
            before: Some(BEFORE),
            after: &after,
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, RepairOutcome::Repaired);
    assert_eq!(kinds(&report), vec![(StepKind::Heuristics, true)]);
    assert_eq!(
        report.steps[0].notes,
        vec!["dropped 2 fence line(s) and 1 prose line(s)"]
    );
    assert_eq!(
        report.text,
        BEFORE.replace("return \"hi \" + name\n", "return \"hi \" + name.strip()\n")
    );
}

/// `greet` gains an f-string without placeholders (F541, safe fix); `old` had one already.
fn f541_change() -> String {
    BEFORE.replace("return \"hi \" + name\n", "return f\"hi \" + name\n")
}

#[tokio::test]
async fn ruff_fix_applies_safe_fixes_only_where_the_change_is() {
    let dir = tempfile::tempdir().unwrap();
    let ladder = ladder(dir.path(), RepairConfig::default(), None).await;
    let after = f541_change();
    let report = ladder
        .repair(RepairInput {
            path: Path::new("m.py"),
            before: Some(BEFORE),
            after: &after,
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, RepairOutcome::Repaired);
    assert_eq!(
        kinds(&report),
        vec![(StepKind::Heuristics, false), (StepKind::RuffFix, true)]
    );
    assert_eq!(
        report.steps[1].notes,
        vec![
            "ruff --fix-only (safe) for F541: 1 hunk(s) applied",
            "1 hunk(s) outside the affected symbols left as they were",
        ]
    );
    // `greet` is fixed; the pre-existing F541 in `old` is untouched.
    assert_eq!(report.text, BEFORE);
}

#[tokio::test]
async fn ruff_fix_off_skips_step_b() {
    let dir = tempfile::tempdir().unwrap();
    let config = RepairConfig {
        ruff_fix: RuffFix::Off,
        llm_attempts: 0,
        ..RepairConfig::default()
    };
    let ladder = ladder(dir.path(), config, None).await;
    let after = f541_change();
    let report = ladder
        .repair(RepairInput {
            path: Path::new("m.py"),
            before: Some(BEFORE),
            after: &after,
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, RepairOutcome::Exhausted);
    assert_eq!(
        kinds(&report),
        vec![(StepKind::Heuristics, false), (StepKind::RuffFix, false)]
    );
    assert_eq!(report.steps[1].notes, vec!["skipped: --ruff-fix off"]);
    assert_eq!(report.text, after);
    assert!(!report.passed());
    assert_eq!(
        report.steps[1]
            .remaining
            .iter()
            .map(|d| (d.code.clone().unwrap(), d.symbol.clone().unwrap()))
            .collect::<Vec<_>>(),
        vec![("F541".to_owned(), "greet".to_owned())]
    );
}

/// `greet` gains an unused variable (F841: its fix is unsafe, so step b cannot help).
fn f841_change() -> String {
    BEFORE.replace(
        "def greet(name):\n    return \"hi \" + name\n",
        "def greet(name):\n    unused = name.upper()\n    return \"hi \" + name\n",
    )
}

#[tokio::test]
async fn the_model_repairs_only_the_changed_symbol() {
    let dir = tempfile::tempdir().unwrap();
    let llm = ScriptedLlm::new(&[
        "Fixed:\n```python\ndef greet(name):\n    return \"hi \" + name.upper()\n```\n",
    ]);
    let ladder = ladder(dir.path(), RepairConfig::default(), Some(llm.clone())).await;
    let after = f841_change();
    let report = ladder
        .repair(RepairInput {
            path: Path::new("m.py"),
            before: Some(BEFORE),
            after: &after,
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, RepairOutcome::Repaired, "{report:#?}");
    assert_eq!(
        kinds(&report),
        vec![
            (StepKind::Heuristics, false),
            (StepKind::RuffFix, false),
            (StepKind::Llm, true)
        ]
    );
    assert_eq!(
        report.text,
        BEFORE.replace("return \"hi \" + name\n", "return \"hi \" + name.upper()\n")
    );
    let prompts = llm.prompts();
    assert_eq!(prompts.len(), 1);
    let prompt = &prompts[0];
    assert!(prompt.contains("function `greet` in `m.py`"), "{prompt}");
    assert!(
        prompt.contains(
            "- line 6, column 5: F841 Local variable `unused` is assigned to but never used"
        ),
        "{prompt}"
    );
    assert!(prompt.contains("    unused = name.upper()\n"), "{prompt}");
    // Only the changed symbol is sent: not `old`, which has its own (pre-existing) F541.
    assert!(!prompt.contains("def old"), "{prompt}");
}

#[tokio::test]
async fn the_same_diagnostics_twice_stop_the_ladder() {
    let dir = tempfile::tempdir().unwrap();
    // The model "fixes" by adding a comment: same F841 in the same symbol.
    let same = "```python\ndef greet(name):\n    # fixed\n    unused = name.upper()\n    return \"hi \" + name\n```";
    let llm = ScriptedLlm::new(&[same, same, same, same, same]);
    let config = RepairConfig {
        ruff_fix: RuffFix::Safe,
        llm_attempts: 5,
        ..RepairConfig::default()
    };
    let ladder = ladder(dir.path(), config, Some(llm.clone())).await;
    let after = f841_change();
    let report = ladder
        .repair(RepairInput {
            path: Path::new("m.py"),
            before: Some(BEFORE),
            after: &after,
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, RepairOutcome::Oscillation);
    assert_eq!(llm.prompts().len(), 1, "stopped after the first repeat");
    assert_eq!(
        kinds(&report),
        vec![
            (StepKind::Heuristics, false),
            (StepKind::RuffFix, false),
            (StepKind::Llm, true)
        ]
    );
    assert!(!report.passed());
}

#[tokio::test]
async fn attempts_are_capped_and_a_worse_answer_is_undone() {
    let dir = tempfile::tempdir().unwrap();
    let broken = "```python\ndef greet(name)\n    return name\n```";
    let other = "```python\ndef greet(name):\n    unused2 = 1\n    return name\n```";
    let llm = ScriptedLlm::new(&[broken, other]);
    let config = RepairConfig {
        ruff_fix: RuffFix::Off,
        llm_attempts: 2,
        ..RepairConfig::default()
    };
    let ladder = ladder(dir.path(), config, Some(llm.clone())).await;
    let after = f841_change();
    let report = ladder
        .repair(RepairInput {
            path: Path::new("m.py"),
            before: Some(BEFORE),
            after: &after,
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, RepairOutcome::Exhausted);
    assert_eq!(llm.prompts().len(), 2);
    let llm_steps: Vec<_> = report
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Llm)
        .map(|s| (s.kept, s.notes.last().cloned().unwrap()))
        .collect();
    assert_eq!(
        llm_steps,
        vec![
            (false, "undone: it made the gates' verdict worse".to_owned()),
            (
                true,
                "`greet`: replaced with the model's repair (1 error(s) sent)".to_owned()
            ),
        ]
    );
    assert!(report.text.contains("unused2 = 1"));
}

/// A class of over 3,000 lines whose class body now reads an undefined name: the finding is in
/// the class itself, which is far too large for one answer. The model is not asked (no request
/// the server must reject), and the step says why; with room, the same finding in a small class
/// is sent.
#[tokio::test]
async fn a_symbol_too_large_for_one_answer_is_never_sent() {
    let dir = tempfile::tempdir().unwrap();
    let class = |limit: &str, methods: usize| {
        let mut text = format!("class Registry:\n    LIMIT = {limit}\n\n");
        for i in 0..methods {
            text.push_str(&format!(
                "    def get_{i}(self):\n        \"\"\"Item {i}.\"\"\"\n        return self.items[{i}]\n\n"
            ));
        }
        text
    };
    let before = class("10", 760);
    let after = class("MISSING_LIMIT", 760);
    assert!(after.lines().count() > 3000);
    let llm = ScriptedLlm::new(&[]);
    let config = RepairConfig {
        ruff_fix: RuffFix::Off,
        llm_attempts: 1,
        ..RepairConfig::default()
    };
    let large = ladder(dir.path(), config.clone(), Some(llm.clone())).await;
    let report = large
        .repair(RepairInput {
            path: Path::new("registry.py"),
            before: Some(&before),
            after: &after,
        })
        .await
        .unwrap();
    assert!(!report.passed());
    assert!(llm.prompts().is_empty(), "the model was asked");
    let notes: Vec<String> = report
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Llm)
        .flat_map(|s| s.notes.clone())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("`Registry`: too large to repair in one answer")),
        "{notes:?}"
    );

    let fixed = "```python\nclass Registry:\n    LIMIT = 10\n\n    def get_0(self):\n        \"\"\"Item 0.\"\"\"\n        return self.items[0]\n```";
    let llm = ScriptedLlm::new(&[fixed]);
    let ladder = ladder(dir.path(), config, Some(llm.clone())).await;
    let small_after = class("MISSING_LIMIT", 1);
    let report = ladder
        .repair(RepairInput {
            path: Path::new("registry.py"),
            before: Some(&class("10", 1)),
            after: &small_after,
        })
        .await
        .unwrap();
    assert_eq!(llm.prompts().len(), 1);
    assert!(report.passed(), "{:?}", report.steps);
}
