//! Reading the pipeline's requests as the fake server receives them: which file and which
//! stage each one is for. Responders answer by content with this, and tests count what the
//! model was asked.
//!
//! What goes over the wire (see `noctune-core/prompts/*.md` and `noctune-llm/src/wire.rs`):
//! structured calls carry `response_format.json_schema.name` (`ReviewAnswer`, `DraftPlan`,
//! `ApproveAnswer`); code calls carry a `grammar` and the edit prompt, which the draft stage
//! sends with the current code as its own draft and the edit stage with the draft code; the
//! repair ladder's micro-LLM call is plain text ("... fails these checks").

use std::path::Path;
use std::process::{Command, Output, Stdio};

use noctune_llm::fake::{RecordedRequest, Reply};

/// A stage of the pipeline as the model sees it (one artifact each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// `review.md`.
    Review,
    /// `draft.json`: the plan.
    Draft,
    /// `edit_ops_p<N>.json`: one code call per target.
    Edit,
    /// `gates_p<N>.json`: the repair ladder's micro-LLM calls.
    Repair,
    /// `approval_p<N>.json`.
    Approve,
}

/// One chat request, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// The file it is about (one of the names given to [`classify`]).
    pub file: String,
    /// The stage.
    pub stage: Stage,
    /// What exactly: `review`, `plan`, `code`, `repair`, `approve`.
    pub what: &'static str,
    /// The symbol, for code and repair calls.
    pub symbol: Option<String>,
    /// The whole prompt text.
    pub prompt: String,
}

/// Reads a request of the pipeline; `None` for anything else.
pub fn classify(request: &RecordedRequest, files: &[&str]) -> Option<Asked> {
    let prompt = request.prompt_text();
    let file = files
        .iter()
        .find(|name| prompt.contains(&format!("`{name}`")))?
        .to_string();
    let (stage, what, symbol) = match request.schema_name() {
        Some("ReviewAnswer") => (Stage::Review, "review", None),
        Some("DraftPlan") => (Stage::Draft, "plan", None),
        Some("ApproveAnswer") => (Stage::Approve, "approve", None),
        Some(_) => return None,
        None if prompt.contains("fails these checks") => {
            let symbol = between(&prompt, "The edited Python ", " in `")
                .and_then(|s| between(s, "`", "`"))
                .map(str::to_owned);
            (Stage::Repair, "repair", symbol)
        }
        None if request.has_grammar() => {
            // A window of a definition is named `lines 4–5 of name`: the symbol is `name`.
            let symbol = between(&prompt, "Rewrite one Python ", ", from `")
                .and_then(|s| between(s, "`", "`"))
                .map(|s| s.rsplit_once(" of ").map_or(s, |(_, name)| name).to_owned());
            (Stage::Edit, "code", symbol)
        }
        None => return None,
    };
    Some(Asked {
        file,
        stage,
        what,
        symbol,
        prompt,
    })
}

/// The text between the first `start` and the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// A JSON answer.
pub fn json(value: serde_json::Value) -> Reply {
    Reply::answer(value.to_string())
}

/// A code answer: one fenced python block.
pub fn code(text: &str) -> Reply {
    Reply::answer(format!("```python\n{text}```"))
}

/// A review with a label.
pub fn review(label: &str) -> Reply {
    json(serde_json::json!({
        "label": label,
        "summary": "Works, but dated.",
        "checklist": ["modernise"],
    }))
}

/// A plan of these targets, each "Add type hints.".
pub fn plan(symbols: &[&str]) -> Reply {
    let targets: Vec<(&str, &str)> = symbols.iter().map(|s| (*s, "Add type hints.")).collect();
    plan_with(&targets)
}

/// A plan of `(symbol, edit prompt)` targets.
pub fn plan_with(targets: &[(&str, &str)]) -> Reply {
    let targets: Vec<serde_json::Value> = targets
        .iter()
        .map(|(s, what)| serde_json::json!({"symbol": s, "edit_prompt": what}))
        .collect();
    json(serde_json::json!({ "targets": targets }))
}

/// The approver's verdict, "Type hints only.".
pub fn verdict(decision: &str, risk: f32) -> Reply {
    verdict_with(decision, "Type hints only.", risk)
}

/// The approver's verdict with a reason.
pub fn verdict_with(decision: &str, reason: &str, risk: f32) -> Reply {
    json(serde_json::json!({"decision": decision, "reason": reason, "risk": risk}))
}

/// The `noctune.toml` of the scripted-model suites: applying allowed, no retries (a missing
/// answer fails at once), lint_fix auto-approving up to risk 0.3, and the model judging every
/// change (`approve.mode = "llm"`: these suites script the model's verdicts; the approver
/// modes have their own tests).
pub fn pipeline_config(max_passes: u32) -> String {
    format!(
        "allow_apply = true\nmax_passes = {max_passes}\n\n[llm]\nstream = true\nmax_retries = 0\n\
         timeout_s = 30\n\n[approve]\nmode = \"llm\"\n\n[policy_packs.lint_fix]\n\
         auto_approve = {{ enabled = true, max_risk = 0.3, max_lines = 40 }}\n"
    )
}

/// Whether CPython's `ast.parse` accepts `path` (the parse gate's reference).
pub fn python_parses(path: &Path) -> bool {
    let output: Output = Command::new("python3")
        .args([
            "-c",
            "import ast,sys; ast.parse(open(sys.argv[1]).read())",
            &path.to_string_lossy(),
        ])
        .stdin(Stdio::null())
        .output()
        .expect("python3 on PATH");
    output.status.success()
}
