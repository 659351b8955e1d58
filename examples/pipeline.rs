//! Embedding the whole pipeline with `noctune-core` alone: an in-process model that answers
//! from a script, the toy editor, a checker that asks CPython's `ast.parse`, no evidence, and a
//! pack that auto-approves low-risk changes. One file goes review → draft → edit → gates →
//! approve → apply, and the morning report is written.
//! Run: `cargo run -p noctune-examples --example pipeline`.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use noctune_core::pipeline::{
    CheckOutcome, Checker, Control, EvidenceReport, EvidenceSource, Pipeline, PipelineOptions,
    drive,
};
use noctune_core::process::ProcessBuilder;
use noctune_core::prompts::Prompts;
use noctune_core::store::{RunSpec, RunStore};
use noctune_core::{
    AnswerFormat, ChatRequest, ChatResponse, GateReport, LlmClient, LlmError, PolicyDecision,
    PolicyInput, PolicyPack, PolicyViolation, Result, Verdict,
};
use noctune_examples::toy_editor::TopLevelDefs;

/// Answers each stage from a script keyed by what the request asks for.
struct ScriptedModel;

#[async_trait]
impl LlmClient for ScriptedModel {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let answer = match &request.answer {
            AnswerFormat::JsonSchema { name, .. } if name == "ReviewAnswer" => {
                r#"{"label": "P", "summary": "Untyped.", "checklist": ["type `area`"]}"#
            }
            AnswerFormat::JsonSchema { name, .. } if name == "DraftPlan" => {
                r#"{"targets": [{"symbol": "area", "edit_prompt": "Add type hints."}]}"#
            }
            AnswerFormat::JsonSchema { .. } => {
                r#"{"reason": "Hints only.", "behaviour_kept": true, "risk": 0.05, "decision": "approve"}"#
            }
            _ => "```python\ndef area(w: float, h: float) -> float:\n    return w * h\n```",
        };
        Ok(ChatResponse::text(answer))
    }
}

/// Passes a text when CPython parses it (a real, if minimal, parse gate).
struct AstChecker;

#[async_trait]
impl Checker for AstChecker {
    async fn check(
        &self,
        _path: &Path,
        _before: Option<&str>,
        after: &str,
    ) -> Result<CheckOutcome> {
        let output = ProcessBuilder::new("python3")
            .args(["-c", "import ast, sys; ast.parse(sys.stdin.read())"])
            .stdin(after)
            .run()
            .await
            .map_err(|err| noctune_core::Error::Gate {
                gate: "ast".into(),
                message: err.to_string(),
            })?;
        let report = if output.success() {
            GateReport::pass("ast", "parses")
        } else {
            GateReport::fail("ast", output.stderr_text(), vec![])
        };
        Ok(CheckOutcome {
            passed: report.passed(),
            text: after.to_owned(),
            reports: vec![report],
            steps: serde_json::Value::Null,
        })
    }
}

/// No callsites: the draft sees the review and the symbol list only.
struct NoEvidence;

impl EvidenceSource for NoEvidence {
    fn evidence(&self, _: &Path, _: &str, _: &[String], _: u32) -> Result<EvidenceReport> {
        Ok(EvidenceReport {
            json: serde_json::json!({}),
            text: "(none)".into(),
            targets: Default::default(),
        })
    }
}

/// Every path, auto-approve below risk 0.2.
struct Cautious;

impl PolicyPack for Cautious {
    fn name(&self) -> &str {
        "cautious"
    }

    fn check_path(&self, _: &Path) -> Result<(), PolicyViolation> {
        Ok(())
    }

    fn decide(&self, input: &PolicyInput<'_>) -> PolicyDecision {
        match input.verdict.decision {
            Verdict::Reject => PolicyDecision::Rejected {
                why: input.verdict.reason.clone(),
            },
            Verdict::Approve if input.verdict.risk < 0.2 => PolicyDecision::AutoApprove {
                why: "low risk".into(),
            },
            Verdict::Approve => PolicyDecision::NeedsHuman { why: "risk".into() },
            Verdict::Undecided => PolicyDecision::NeedsHuman {
                why: input.verdict.reason.clone(),
            },
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("noctune-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| noctune_core::Error::io("create", &dir, e))?;
    let file = dir.join("geometry.py");
    std::fs::write(&file, "def area(w, h):\n    return w * h\n")
        .map_err(|e| noctune_core::Error::io("write", &file, e))?;

    let pipeline = Pipeline {
        root: dir.clone(),
        llm: Arc::new(ScriptedModel),
        stage_llm: vec![],
        editor: Arc::new(TopLevelDefs),
        checker: Arc::new(AstChecker),
        fixer: None,
        evidence: Arc::new(NoEvidence),
        approver: Arc::new(noctune_core::approvers::LlmApprover),
        consent: None,
        pack: Arc::new(Cautious),
        prompts: Prompts::new(dir.join(".noctune_cache/overrides")),
        options: PipelineOptions {
            allow_apply: true,
            max_passes: 1,
            ..PipelineOptions::default()
        },
    };
    let store = RunStore::new(&dir);
    let mut run = store.create(RunSpec::default())?;
    let summary = drive(
        &pipeline,
        &mut run,
        &store,
        &[PathBuf::from("geometry.py")],
        &Arc::new(Control::default()),
        &|progress| println!("{:?}: {}", progress.file, progress.what),
    )
    .await?;
    let run_id = run.id().clone();
    drop(run);
    let (markdown, _html) = noctune_core::report::write(&store, &run_id)?;
    println!("{summary:?}");
    print!(
        "{}",
        std::fs::read_to_string(&file).map_err(|e| noctune_core::Error::io("read", &file, e))?
    );
    let report = std::fs::read_to_string(&markdown)
        .map_err(|e| noctune_core::Error::io("read", &markdown, e))?;
    println!("--- {} (head)", markdown.display());
    for line in report.lines().take(8) {
        println!("{line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
