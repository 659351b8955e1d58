//! A whole pipeline run with a custom gate in it: the real editor, the parse and ruff gates, the
//! repair ladder, the chain approver, a policy pack, and a model behind a real
//! OpenAI-compatible HTTP server (the fake server of `noctune-llm`, answering by request kind).
//!
//! The model's edit of `greet` adds a `print(` call. The [`NoNewPrintGate`] blocks it; its
//! diagnostic reaches the repair ladder's model step, whose answer logs instead; the gates pass,
//! the change is approved and applied.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use noctune_core::config::{EnvOverrides, LlmSettings};
use noctune_core::pipeline::{Control, Pipeline, PipelineOptions, RunSummary, drive};
use noctune_core::prompts::Prompts;
use noctune_core::store::{CacheLayout, RunSpec, RunStore};
use noctune_core::{LlmClient, Prover, SymbolEditor};
use noctune_gates::{AstProver, Gates, PolicyPacks, RepairConfig, RepairLadder};
use noctune_index::walk::WalkOptions;
use noctune_index::{CallsiteSearcher, PythonEditor, RepoEvidence};
use noctune_llm::OpenAiClient;
use noctune_llm::fake::{FakeOptions, FakeServer, RecordedRequest, Reply};

use crate::no_print_gate::NoNewPrintGate;

/// The file the run improves.
pub const FILE: &str = "greeting.py";

/// The file before the run.
pub const BEFORE: &str = "import logging\n\nlog = logging.getLogger(__name__)\n\n\n\
def greet(name):\n    log.info(\"greeting %s\", name)\n    return \"Hello, \" + name + \"!\"\n";

/// The model's edit: an f-string, and a stray `print(` the custom gate must stop.
const EDIT: &str =
    "def greet(name):\n    print(f\"greeting {name}\")\n    return f\"Hello, {name}!\"\n";

/// The model's repair once it is told what the gate found.
const REPAIR: &str =
    "def greet(name):\n    log.info(\"greeting %s\", name)\n    return f\"Hello, {name}!\"\n";

/// What the run did.
#[derive(Debug)]
pub struct GatedRun {
    /// The run's counts.
    pub summary: RunSummary,
    /// The file after the run.
    pub after: String,
    /// `gates_p1.json`: each gate's last report and the repair steps.
    pub gates: serde_json::Value,
    /// The prompts of the repair ladder's model calls.
    pub repair_prompts: Vec<String>,
}

fn answer(request: &RecordedRequest, repairs: &Mutex<Vec<String>>) -> Reply {
    let json = |value: serde_json::Value| Reply::answer(value.to_string());
    let code = |text: &str| Reply::answer(format!("```python\n{text}```"));
    match request.schema_name() {
        Some("ReviewAnswer") => json(serde_json::json!({
            "label": "P",
            "summary": "`greet` concatenates strings.",
            "checklist": ["use an f-string in `greet`"],
        })),
        Some("DraftPlan") => json(serde_json::json!({
            "targets": [{"symbol": "greet", "edit_prompt": "Use an f-string."}],
        })),
        Some(_) => json(serde_json::json!({
            "reason": "Same greeting, built with an f-string; the log call is kept.",
            "behaviour_kept": true,
            "risk": 0.05,
            "decision": "approve",
        })),
        None => {
            let prompt = request.prompt_text();
            if prompt.contains("fails these checks") {
                repairs
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(prompt);
                code(REPAIR)
            } else {
                code(EDIT)
            }
        }
    }
}

/// Runs the whole pipeline on a copy of [`BEFORE`] in `dir` (created), with
/// [`NoNewPrintGate`] added after parse and ruff.
pub async fn run(dir: &Path) -> Result<GatedRun, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(FILE), BEFORE)?;
    std::fs::write(
        dir.join("noctune.toml"),
        "allow_apply = true\nruff_required = false\n\n[policy_packs.lint_fix]\n\
         auto_approve = { enabled = true, max_risk = 0.3, max_lines = 40 }\n",
    )?;
    let settings = noctune_core::config::load(dir, &EnvOverrides::default())?;

    let repairs = Arc::new(Mutex::new(Vec::new()));
    let seen = repairs.clone();
    let server = FakeServer::start_responder(FakeOptions::default(), move |request| {
        answer(request, &seen)
    })
    .await;
    let llm: Arc<dyn LlmClient> = Arc::new(OpenAiClient::new(LlmSettings {
        base_url: server.url(),
        max_retries: 0,
        ..LlmSettings::default()
    })?);

    let editor: Arc<dyn SymbolEditor> = Arc::new(PythonEditor::default());
    let prompts = Prompts::new(CacheLayout::for_root(dir).overrides());
    // Parse and ruff (when ruff is on PATH), then the custom gate.
    let gates = Gates::detect(dir, settings.ruff_required, Some(editor.clone()))
        .await?
        .with_gate(Arc::new(NoNewPrintGate));
    // Proofs (formatting, docstrings, annotations, unused imports) with the same tools.
    let prover = AstProver::from_gates(&gates).map(|p| Arc::new(p) as Arc<dyn Prover>);
    let ladder = RepairLadder::new(Arc::new(gates), editor.clone(), RepairConfig::default())
        .with_llm(llm.clone(), prompts.clone());
    let walk = WalkOptions::default();
    let searcher = CallsiteSearcher::new(dir, &walk, settings.index.max_file_bytes)?;
    let packs = PolicyPacks::from_settings(&settings)?;

    let options = PipelineOptions {
        allow_apply: true,
        max_passes: 1,
        ..PipelineOptions::default()
    };
    let pipeline = Pipeline {
        root: std::path::absolute(dir)?,
        llm,
        stage_llm: vec![],
        editor,
        checker: Arc::new(ladder),
        fixer: None,
        evidence: Arc::new(RepoEvidence::new(searcher)),
        approver: noctune_core::approvers::for_mode(
            settings.approve_mode,
            prover,
            options.high_risk,
        ),
        consent: None,
        pack: packs.get("lint_fix")?,
        prompts,
        options,
    };
    let store = RunStore::new(dir);
    let mut run = store.create(RunSpec {
        pack: Some("lint_fix".to_owned()),
        command: Some("run".to_owned()),
        ..RunSpec::default()
    })?;
    let summary = drive(
        &pipeline,
        &mut run,
        &store,
        &[PathBuf::from(FILE)],
        &Arc::new(Control::default()),
        &|_| {},
    )
    .await?;
    let task = store
        .tasks(run.id())?
        .into_iter()
        .next()
        .ok_or("the run has no task")?;
    let gates = run
        .read_artifact(&task.task_id, "gates_p1.json")?
        .ok_or("no gates_p1.json")?;
    let repair_prompts = repairs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Ok(GatedRun {
        summary,
        after: std::fs::read_to_string(dir.join(FILE))?,
        gates: serde_json::from_slice(&gates)?,
        repair_prompts,
    })
}
