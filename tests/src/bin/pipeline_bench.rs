//! `noctune-pipeline-bench`: what the pipeline itself costs, with an instant in-process model.
//!
//! ```text
//! noctune-pipeline-bench pass STDLIB [--every N] [--min-lines A] [--max-lines B] [--targets K] [--pack NAME]
//! noctune-pipeline-bench prompts STDLIB [--min-lines 300]
//! ```
//!
//! `pass` copies the `.py` files of STDLIB (site-packages left out) into a temporary repository
//! and drives the selected files through one pass each with the real editor, gates, repair
//! ladder, evidence and policy pack, and a model that answers at once (a docstring added to one
//! or more real symbols of the file). It prints the time per file split by stage.
//!
//! `prompts` renders the edit prompt of every definition of every file over `--min-lines`
//! lines through the pipeline's own rendering (`TaskCtx::edit_prompt`) and compares its
//! estimated tokens with the whole file's; then shows what a run does with a symbol larger than
//! the context budget.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use async_trait::async_trait;
use noctune_core::editor::{EditOp, EditResult, Outline};
use noctune_core::llm::estimate_tokens;
use noctune_core::pipeline::task::TaskCtx;
use noctune_core::pipeline::{Control, Pipeline, PipelineOptions, drive, run_pass};
use noctune_core::prompts::Prompts;
use noctune_core::store::{CacheLayout, RunSpec, RunStore};
use noctune_core::{
    AnswerFormat, ChatRequest, ChatResponse, EventType, LlmClient, LlmError, LlmErrorKind, Stage,
    SymbolEditor, SymbolKind, TaskState,
};
use noctune_gates::{Gates, PolicyPacks, RepairConfig, RepairLadder};
use noctune_index::walk::{WalkOptions, python_files};
use noctune_index::{CallsiteSearcher, PythonEditor, RepoEvidence};

const USAGE: &str = "usage: noctune-pipeline-bench (pass|prompts) STDLIB [--every N] \
[--min-lines A] [--max-lines B] [--targets K] [--pack NAME]";

/// The edit instruction used for every prompt of the `prompts` mode (a typical one).
/// A generous bound on the review template's own tokens (without the file).
const REVIEW_TEMPLATE_TOKENS: u32 = 400;

const EDIT_INSTRUCTION: &str = "Add a one-line docstring that says what it does. Keep the \
signature, the body and the behaviour exactly as they are.";

/// The docstring the fake model adds.
const DOCSTRING: &str = "\"\"\"Reviewed by noctune (benchmark).\"\"\"";

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// Instruments: a counting editor and an instant model.

/// One call to the editor: when, what, how many bytes.
#[derive(Debug, Clone, Copy)]
struct EditorCall {
    at_ns: i128,
    took_ns: i128,
    what: &'static str,
    bytes: usize,
}

/// The real `PythonEditor`, with every call logged (each `outline` and `apply` parses its input).
#[derive(Default)]
struct CountingEditor {
    inner: PythonEditor,
    calls: Mutex<Vec<EditorCall>>,
}

impl CountingEditor {
    fn timed<T>(&self, what: &'static str, bytes: usize, f: impl FnOnce() -> T) -> T {
        let at_ns = now_ns();
        let started = Instant::now();
        let out = f();
        lock(&self.calls).push(EditorCall {
            at_ns,
            took_ns: started.elapsed().as_nanos() as i128,
            what,
            bytes,
        });
        out
    }
}

impl SymbolEditor for CountingEditor {
    fn outline(&self, source: &str) -> noctune_core::Result<Outline> {
        self.timed("outline", source.len(), || self.inner.outline(source))
    }

    fn apply(&self, source: &str, ops: &[EditOp]) -> noctune_core::Result<EditResult> {
        self.timed("apply", source.len(), || self.inner.apply(source, ops))
    }

    fn apply_outlined(
        &self,
        source: &str,
        outline: &Outline,
        ops: &[EditOp],
    ) -> noctune_core::Result<EditResult> {
        // Counted as a parse (conservative): it re-outlines the text once an op changed it.
        self.timed("apply_outlined", source.len(), || {
            SymbolEditor::apply_outlined(&self.inner, source, outline, ops)
        })
    }

    fn facts(&self, code: &str) -> noctune_core::Result<Option<noctune_core::facts::CodeFacts>> {
        self.timed("facts", code.len(), || self.inner.facts(code))
    }
}

/// One call to the fake model.
#[derive(Debug, Clone)]
struct LlmCall {
    stage: String,
    at_ns: i128,
    took_ns: i128,
    /// The prompt as the HTTP client estimates it (text + 8 tokens a message + 8).
    prompt_tokens: u32,
    /// `prompt_tokens` + `max_tokens`: what the client checks against the window.
    needed: u32,
}

/// Answers at once and plausibly: review N naming the targets, a plan naming real symbols
/// (taken from the schema's `enum`), code = the symbol's own code with a docstring added,
/// approve with a low risk.
struct InstantModel {
    targets: usize,
    /// Refuse like the HTTP client does when prompt + answer exceed this window.
    window: Mutex<Option<u32>>,
    /// Plan exactly this symbol (the overflow demonstration).
    force: Mutex<Option<String>>,
    /// Targets chosen at review time, per file.
    chosen: Mutex<BTreeMap<String, Vec<String>>>,
    calls: Mutex<Vec<LlmCall>>,
    last: Mutex<Option<ChatRequest>>,
    /// The model's own parser (not counted as the pipeline's).
    editor: PythonEditor,
}

impl InstantModel {
    fn new(targets: usize) -> Self {
        Self {
            targets,
            window: Mutex::new(None),
            force: Mutex::new(None),
            chosen: Mutex::new(BTreeMap::new()),
            calls: Mutex::new(Vec::new()),
            last: Mutex::new(None),
            editor: PythonEditor::new(),
        }
    }

    fn answer(&self, stage: &str, path: &str, request: &ChatRequest) -> String {
        let prompt = request
            .messages
            .last()
            .map(|m| m.content.as_str())
            .unwrap_or("");
        match &request.answer {
            AnswerFormat::JsonSchema { name, schema } if name == "DraftPlan" => {
                self.plan(path, prompt, schema)
            }
            AnswerFormat::JsonSchema { name, .. } if name == "ApproveAnswer" => {
                r#"{"reason": "Docstrings only.", "behaviour_kept": true, "risk": 0.05, "decision": "approve"}"#.to_owned()
            }
            AnswerFormat::JsonSchema { .. } => self.review(path, prompt),
            AnswerFormat::Grammar { .. } | AnswerFormat::Text => {
                let blocks = python_blocks(prompt);
                let code = match stage {
                    // The draft code call: the symbol's code with a docstring.
                    "draft" => add_docstring(blocks.first().copied().unwrap_or("")),
                    // The edit: the draft as it is (the last block of the prompt).
                    // Repair: the code shown, unchanged.
                    _ => blocks.last().copied().unwrap_or("").to_owned(),
                };
                format!("```python\n{}\n```", code.trim_end())
            }
        }
    }

    fn review(&self, path: &str, prompt: &str) -> String {
        let source = python_blocks(prompt).first().copied().unwrap_or("");
        let names = match self.editor.outline(source) {
            Ok(outline) => pick_targets(&outline, self.targets),
            Err(_) => Vec::new(),
        };
        let checklist: Vec<String> = names
            .iter()
            .map(|n| format!("add a docstring to `{n}`"))
            .collect();
        lock(&self.chosen).insert(path.to_owned(), names);
        serde_json::json!({
            "label": "N",
            "summary": "Several functions lack docstrings.",
            "checklist": checklist,
        })
        .to_string()
    }

    fn plan(&self, path: &str, _prompt: &str, schema: &serde_json::Value) -> String {
        let allowed: Vec<&str> = schema
            .pointer("/properties/targets/items/properties/symbol/enum")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        let mut names: Vec<String> = match lock(&self.force).clone() {
            Some(name) => vec![name],
            None => lock(&self.chosen).get(path).cloned().unwrap_or_default(),
        };
        names.retain(|n| allowed.contains(&n.as_str()));
        if names.is_empty()
            && let Some(first) = allowed.first()
        {
            names.push((*first).to_owned());
        }
        let targets: Vec<serde_json::Value> = names
            .iter()
            .map(|n| serde_json::json!({"symbol": n, "edit_prompt": EDIT_INSTRUCTION}))
            .collect();
        serde_json::json!({ "targets": targets }).to_string()
    }
}

#[async_trait]
impl LlmClient for InstantModel {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let started = Instant::now();
        let at_ns = now_ns();
        let purpose = request.purpose.clone().unwrap_or_default();
        let (stage, path) = purpose.split_once(':').unwrap_or((purpose.as_str(), ""));
        let messages = u32::try_from(request.messages.len()).unwrap_or(u32::MAX);
        let prompt_tokens = estimate_tokens(&request.prompt_text()) + (messages + 1) * 8;
        let needed = prompt_tokens + request.max_tokens.unwrap_or(0);
        *lock(&self.last) = Some(request.clone());
        let window = *lock(&self.window);
        let result = match window {
            Some(window) if needed > window => Err(LlmError::new(
                LlmErrorKind::ContextOverflow { needed, window },
                format!(
                    "the prompt takes {prompt_tokens} tokens and {} are reserved for the answer; \
                     trim the evidence or lower max_tokens",
                    request.max_tokens.unwrap_or(0)
                ),
            )),
            _ => Ok(ChatResponse::text(self.answer(stage, path, request))),
        };
        lock(&self.calls).push(LlmCall {
            stage: stage.to_owned(),
            at_ns,
            took_ns: started.elapsed().as_nanos() as i128,
            prompt_tokens,
            needed,
        });
        result
    }
}

/// The code of every fenced python block of a prompt, in order.
fn python_blocks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```python\n") {
        let body = &rest[start + "```python\n".len()..];
        let Some(end) = body.find("\n```") else {
            out.push(body);
            break;
        };
        out.push(&body[..end]);
        rest = &body[end + 4..];
    }
    out
}

/// Up to `k` functions or methods spread over the file, none nested in another.
fn pick_targets(outline: &Outline, k: usize) -> Vec<String> {
    let defs: Vec<&str> = outline
        .symbols
        .iter()
        .filter(|s| s.kind.is_definition() && s.kind != SymbolKind::Class)
        .map(|s| s.name.as_str())
        .collect();
    let mut names: Vec<String> = Vec::new();
    for i in 0..k {
        let Some(name) = defs.get((i + 1) * defs.len() / (k + 1)) else {
            continue;
        };
        let nested = names
            .iter()
            .any(|n| name.starts_with(&format!("{n}.")) || n.starts_with(&format!("{name}.")));
        if !nested && !names.iter().any(|n| n == name) {
            names.push((*name).to_owned());
        }
    }
    names
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// The code with a docstring as the first statement of its body (a comment above the header
/// when the header cannot be found simply).
fn add_docstring(code: &str) -> String {
    let lines: Vec<&str> = code.split_inclusive('\n').collect();
    let is_header = |l: &str| {
        let t = l.trim_start();
        t.starts_with("def ") || t.starts_with("async def ") || t.starts_with("class ")
    };
    let Some(start) = lines.iter().position(|l| is_header(l)) else {
        return format!("# {DOCSTRING}\n{code}");
    };
    let fallback = || {
        let mut out: String = lines[..start].concat();
        out.push_str(&format!(
            "{}# reviewed by noctune\n",
            indent_of(lines[start])
        ));
        out.push_str(&lines[start..].concat());
        out
    };
    let mut depth = 0i32;
    let mut end = None;
    for (i, line) in lines.iter().enumerate().skip(start) {
        let code_part = line.split('#').next().unwrap_or(line);
        for ch in code_part.chars() {
            match ch {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            }
        }
        if depth == 0 && code_part.trim_end().ends_with(':') {
            end = Some(i);
            break;
        }
        if depth < 0 {
            break;
        }
    }
    let Some(end) = end else {
        return fallback();
    };
    let Some(body) = lines[end + 1..].iter().find(|l| !l.trim().is_empty()) else {
        return fallback();
    };
    let body_indent = indent_of(body);
    if body_indent.len() <= indent_of(lines[start]).len() {
        return fallback();
    }
    let mut out: String = lines[..=end].concat();
    if !out.ends_with('\n') {
        return fallback();
    }
    out.push_str(&format!("{body_indent}{DOCSTRING}\n"));
    out.push_str(&lines[end + 1..].concat());
    out
}

// ---------------------------------------------------------------------------------------------
// Composition, as `noctune-cli/src/compose.rs` does it.

struct Bench {
    pipeline: Pipeline,
    model: Arc<InstantModel>,
    editor: Arc<CountingEditor>,
}

async fn compose(root: &Path, targets: usize, pack: &str) -> anyhow::Result<Bench> {
    let model = Arc::new(InstantModel::new(targets));
    let llm: Arc<dyn LlmClient> = model.clone();
    let counting = Arc::new(CountingEditor::default());
    let editor: Arc<dyn SymbolEditor> = counting.clone();
    let prompts = Prompts::new(CacheLayout::for_root(root).overrides());
    let gates = Gates::detect(root, true, Some(editor.clone()))
        .await
        .context("cannot set up the gates (is ruff on PATH?)")?;
    let ladder = RepairLadder::new(Arc::new(gates), editor.clone(), RepairConfig::default())
        .with_llm(llm.clone(), prompts.clone());
    let walk = WalkOptions::default();
    let mut searcher = CallsiteSearcher::new(root, &walk, 2_000_000)?;
    searcher.load_sources(256 * 1024 * 1024)?;
    let packs = PolicyPacks::new(root, &BTreeMap::new(), pack)?;
    let pipeline = Pipeline {
        root: root.to_path_buf(),
        llm,
        stage_llm: Vec::new(),
        editor,
        checker: Arc::new(ladder),
        fixer: None,
        evidence: Arc::new(RepoEvidence::new(searcher)),
        approver: Arc::new(noctune_core::approvers::LlmApprover),
        consent: None,
        pack: packs.get(pack)?,
        prompts,
        options: PipelineOptions {
            allow_apply: true,
            max_passes: 1,
            ..PipelineOptions::default()
        },
    };
    Ok(Bench {
        pipeline,
        model,
        editor: counting,
    })
}

// ---------------------------------------------------------------------------------------------
// Arguments.

struct Args {
    mode: String,
    stdlib: PathBuf,
    every: usize,
    min_lines: usize,
    max_lines: usize,
    targets: usize,
    pack: String,
}

fn parse_args() -> anyhow::Result<Args> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let [mode, stdlib, rest @ ..] = raw.as_slice() else {
        bail!("{USAGE}");
    };
    let mut args = Args {
        mode: mode.clone(),
        stdlib: PathBuf::from(stdlib),
        every: 1,
        min_lines: if mode == "prompts" { 301 } else { 0 },
        max_lines: usize::MAX,
        targets: 2,
        pack: "typing_pass".to_owned(),
    };
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--every" => args.every = value.parse::<usize>()?.max(1),
            "--min-lines" => args.min_lines = value.parse()?,
            "--max-lines" => args.max_lines = value.parse()?,
            "--targets" => args.targets = value.parse()?,
            "--pack" => args.pack = value.clone(),
            other => bail!("unknown flag `{other}`\n{USAGE}"),
        }
    }
    Ok(args)
}

/// The stdlib's `.py` files (no site-packages), sorted, with their text (UTF-8 ones only).
fn corpus(stdlib: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let walk = WalkOptions {
        exclude: vec!["site-packages/".to_owned()],
        threads: 0,
    };
    let mut files = Vec::new();
    for file in python_files(stdlib, &walk)? {
        let bytes = std::fs::read(&file.path)?;
        if let Ok(text) = String::from_utf8(bytes) {
            files.push((file.rel, text));
        }
    }
    files.sort();
    Ok(files)
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match args.mode.as_str() {
        "pass" => runtime.block_on(pass_mode(&args)),
        "prompts" => runtime.block_on(prompts_mode(&args)),
        _ => bail!("{USAGE}"),
    }
}

// ---------------------------------------------------------------------------------------------
// `pass`: time per file per pass.

const STAGES: [&str; 7] = [
    "setup", "review", "draft", "edit", "gates", "approve", "apply",
];

#[derive(Debug, Default)]
struct FileRun {
    rel: String,
    lines: usize,
    outcome: String,
    detail: String,
    /// Wall time per stage (ns), in `STAGES` order; `None` when the pass did not reach it.
    stage_ns: [Option<i128>; 7],
    /// Time inside the fake model per stage (ns).
    model_ns: [i128; 7],
    total_ns: i128,
    parses: usize,
    parsed_bytes: usize,
    file_bytes: usize,
    parses_by_stage: [usize; 7],
    /// Time inside the editor (outline, apply, facts) per stage (ns).
    editor_ns: [i128; 7],
}

fn stage_index(name: &str) -> Option<usize> {
    match name {
        "review" => Some(1),
        "draft" => Some(2),
        "edit" => Some(3),
        "repair" | "gates" => Some(4),
        "approve" => Some(5),
        _ => None,
    }
}

async fn pass_mode(args: &Args) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let root = temp.path().join("repo");
    let files = corpus(&args.stdlib)?;
    for (rel, text) in &files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
    }
    let selected: Vec<&(String, String)> = files
        .iter()
        .enumerate()
        .filter(|(i, _)| i % args.every == 0)
        .map(|(_, f)| f)
        .filter(|(_, text)| {
            let lines = text.lines().count();
            lines >= args.min_lines && lines <= args.max_lines
        })
        .collect();
    eprintln!(
        "corpus: {} files copied to {}; driving {} through one pass each",
        files.len(),
        root.display(),
        selected.len()
    );
    let compose_started = Instant::now();
    let bench = compose(&root, args.targets, &args.pack).await?;
    eprintln!(
        "composed the pipeline in {:.0} ms (gates detect + callsite sources loaded)",
        compose_started.elapsed().as_secs_f64() * 1000.0
    );
    // What one durable write costs on this disk (write + fsync + rename + fsync of the dir).
    let probe_dir = root.join(".noctune_cache/probe");
    std::fs::create_dir_all(&probe_dir)?;
    let probe_started = Instant::now();
    for i in 0..40 {
        noctune_core::store::write_atomic(&probe_dir.join(format!("{i}.json")), &[b'x'; 2048])?;
    }
    eprintln!(
        "one atomic write (2 KiB, 2 fsyncs): {:.2} ms on average",
        probe_started.elapsed().as_secs_f64() * 1000.0 / 40.0
    );
    let store = RunStore::new(&root);
    let run = store.create(RunSpec {
        pack: Some(args.pack.clone()),
        ..RunSpec::default()
    })?;
    let control = Control::default();
    let mut last_idx = store
        .events(run.id(), 0, usize::MAX)?
        .last()
        .map_or(0, |e| e.idx);
    let mut runs = Vec::new();
    // Per stage: calls, the largest prompt, calls a real client would refuse (over the budget).
    let mut budget: BTreeMap<String, (usize, u32, usize)> = BTreeMap::new();
    let wall = Instant::now();
    for (rel, text) in &selected {
        lock(&bench.editor.calls).clear();
        lock(&bench.model.calls).clear();
        let state = TaskState::new(PathBuf::from(rel));
        run.write_task(&state)?;
        let start_ns = now_ns();
        let started = Instant::now();
        let result = run_pass(&bench.pipeline, &run, &store, state, &control).await;
        let total_ns = started.elapsed().as_nanos() as i128;
        let end_ns = now_ns();
        let outcome = match &result {
            Ok((outcome, _)) => format!("{outcome:?}")
                .split([' ', '(', '{'])
                .next()
                .unwrap_or("")
                .to_owned(),
            Err(err) => format!("error: {err}"),
        };
        let detail = match &result {
            Ok((outcome, _)) => format!("{outcome:?}"),
            Err(err) => err.to_string(),
        };
        let events = store.events(run.id(), last_idx, usize::MAX)?;
        last_idx = events.last().map_or(last_idx, |e| e.idx);
        // Stage boundaries from the pipeline's own events.
        let mut marks: Vec<(usize, i128)> = vec![(0, start_ns)];
        for event in &events {
            let at = event.ts.as_nanosecond();
            match event.event_type {
                EventType::TaskStarted => marks.push((1, at)),
                EventType::StageFinished => {
                    let stage = event.payload["stage"].as_str().unwrap_or("");
                    if let Some(i) = stage_index(stage) {
                        marks.push((i + 1, at));
                    }
                }
                _ => {}
            }
        }
        let mut file_run = FileRun {
            rel: rel.clone(),
            lines: text.lines().count(),
            outcome,
            detail,
            total_ns,
            file_bytes: text.len(),
            ..FileRun::default()
        };
        // marks[k] = (index of the stage that starts here, time).
        let bounds: Vec<(usize, i128, i128)> = marks
            .windows(2)
            .map(|w| (w[0].0, w[0].1, w[1].1))
            .chain(
                marks
                    .last()
                    .filter(|(i, _)| *i == 6)
                    .map(|(i, at)| (*i, *at, end_ns)),
            )
            .collect();
        for (stage, from, to) in &bounds {
            file_run.stage_ns[*stage] = Some(to - from);
        }
        let stage_at = |at: i128| {
            bounds
                .iter()
                .find(|(_, from, to)| at >= *from && at < *to)
                .map_or(0, |(s, _, _)| *s)
        };
        for call in lock(&bench.model.calls).iter() {
            let entry = budget.entry(call.stage.clone()).or_default();
            entry.0 += 1;
            entry.1 = entry.1.max(call.prompt_tokens);
            if call.needed > bench.pipeline.options.context_tokens {
                entry.2 += 1;
            }
            let stage = stage_index(&call.stage).unwrap_or_else(|| stage_at(call.at_ns));
            file_run.model_ns[stage] += call.took_ns;
        }
        for call in lock(&bench.editor.calls).iter() {
            file_run.editor_ns[stage_at(call.at_ns)] += call.took_ns;
            if call.what != "facts" {
                file_run.parses += 1;
                file_run.parsed_bytes += call.bytes;
                file_run.parses_by_stage[stage_at(call.at_ns)] += 1;
            }
        }
        runs.push(file_run);
    }
    let wall = wall.elapsed();
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &runs {
        *outcomes.entry(r.outcome.as_str()).or_default() += 1;
    }
    println!(
        "{} files in {:.1} s; outcomes: {outcomes:?}",
        runs.len(),
        wall.as_secs_f64()
    );
    for r in runs.iter().filter(|r| r.outcome != "Applied").take(8) {
        let mut detail = r.detail.clone();
        detail.truncate(300);
        println!("  {}: {detail}", r.rel);
    }
    println!(
        "model calls per stage (calls, largest prompt in tokens, over the budget): {budget:?}"
    );
    let applied: Vec<&FileRun> = runs.iter().filter(|r| r.outcome == "Applied").collect();
    report(
        "all files that went through every stage (Applied)",
        &applied,
    );
    let around: Vec<&FileRun> = applied
        .iter()
        .copied()
        .filter(|r| (400..=600).contains(&r.lines))
        .collect();
    report("of those, files of 400-600 lines", &around);
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    (percentile(&v, 50.0), percentile(&v, 95.0), mean)
}

fn report(title: &str, runs: &[&FileRun]) {
    println!("\n{title}: {} files", runs.len());
    if runs.is_empty() {
        return;
    }
    let (lm, lp, _) = summary(runs.iter().map(|r| r.lines as f64));
    println!("  lines: median {lm:.0}, p95 {lp:.0}");
    println!(
        "  {:<10} {:>9} {:>9} {:>9} {:>13} {:>8} {:>14}",
        "stage", "median ms", "p95 ms", "mean ms", "model ms mean", "parses", "editor ms mean"
    );
    for (i, name) in STAGES.iter().enumerate() {
        let (m, p, mean) = summary(
            runs.iter()
                .map(|r| (r.stage_ns[i].unwrap_or(0) - r.model_ns[i]) as f64 / 1e6),
        );
        let (_, _, model) = summary(runs.iter().map(|r| r.model_ns[i] as f64 / 1e6));
        let (parses, _, _) = summary(runs.iter().map(|r| r.parses_by_stage[i] as f64));
        let (_, _, editor) = summary(runs.iter().map(|r| r.editor_ns[i] as f64 / 1e6));
        println!(
            "  {name:<10} {m:>9.2} {p:>9.2} {mean:>9.2} {model:>13.3} {parses:>8.0} {editor:>14.2}"
        );
    }
    let (m, p, mean) = summary(
        runs.iter()
            .map(|r| (r.total_ns - r.model_ns.iter().sum::<i128>()) as f64 / 1e6),
    );
    println!("  {:<10} {m:>9.2} {p:>9.2} {mean:>9.2}", "TOTAL");
    let (pm, pp, _) = summary(runs.iter().map(|r| r.parses as f64));
    let (bm, bp, _) = summary(
        runs.iter()
            .map(|r| r.parsed_bytes as f64 / r.file_bytes.max(1) as f64),
    );
    println!(
        "  editor parses per pass: median {pm:.0}, p95 {pp:.0}; bytes parsed / file size: \
         median {bm:.1}, p95 {bp:.1}"
    );
}

// ---------------------------------------------------------------------------------------------
// `prompts`: edit prompt vs whole file.

async fn prompts_mode(args: &Args) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let root = temp.path().join("repo");
    std::fs::create_dir_all(&root)?;
    let bench = compose(&root, 1, &args.pack).await?;
    let store = RunStore::new(&root);
    let mut run = store.create(RunSpec::default())?;
    let control = Arc::new(Control::default());
    let options = bench.pipeline.options.clone();
    let editor = PythonEditor::new();

    // The system message and request overhead, as the pipeline sends them.
    let probe = TaskCtx {
        pipeline: &bench.pipeline,
        run: &run,
        state: TaskState::new(PathBuf::from("probe.py")),
        rel: PathBuf::from("probe.py"),
        control: &control,
    };
    probe.ask_code(Stage::Edit, String::new()).await?;
    let system = lock(&bench.model.last)
        .as_ref()
        .and_then(|r| r.messages.first().map(|m| m.content.clone()))
        .unwrap_or_default();
    let request_tokens = |prompt: &str| estimate_tokens(&format!("{system}\n{prompt}\n")) + 3 * 8;

    let files = corpus(&args.stdlib)?;
    let mut ratios: Vec<f64> = Vec::new();
    let mut by_kind: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut file_medians: Vec<f64> = Vec::new();
    let mut prompt_tokens: Vec<f64> = Vec::new();
    let mut over = 0usize;
    let mut over_alone = 0usize;
    let mut over_by_kind: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut review_over = 0usize;
    let mut review_skeleton = 0usize;
    let mut review_head_only = 0usize;
    let mut not_editable = 0usize;
    let mut editable_over = 0usize;
    let mut plan_over = 0usize;
    let mut n_files = 0usize;
    let mut largest: Option<(u32, String, String)> = None;
    let mut smallest_over_file: Option<(usize, String)> = None;
    let review_reserve = options.max_tokens_structured;
    for (rel, source) in &files {
        if source.lines().count() < args.min_lines {
            continue;
        }
        n_files += 1;
        let file_tokens = estimate_tokens(source).max(1);
        let outline = editor.outline(source)?;
        // The review sends the whole file when it fits, else its skeleton (pipeline::fit).
        let whole_needed = request_tokens(source) + review_reserve;
        if whole_needed > options.context_tokens {
            review_skeleton += 1;
            if smallest_over_file
                .as_ref()
                .is_none_or(|(n, _)| source.len() < *n)
            {
                smallest_over_file = Some((source.len(), rel.clone()));
            }
            let room = options
                .context_tokens
                .saturating_sub(review_reserve)
                .saturating_sub(request_tokens(""))
                .saturating_sub(REVIEW_TEMPLATE_TOKENS);
            let (shown, _) = noctune_core::pipeline::fit::fit_source(source, &outline, room);
            if noctune_core::pipeline::fit::skeleton(source, &outline).len() > shown.len() + 80 {
                review_head_only += 1;
            }
            if request_tokens(&shown) + REVIEW_TEMPLATE_TOKENS + review_reserve
                > options.context_tokens
            {
                review_over += 1;
            }
        }
        let editable = noctune_core::pipeline::draft::editable(&outline, source, &options);
        not_editable += outline
            .symbols
            .iter()
            .filter(|s| s.kind.is_definition())
            .count()
            - editable
                .symbols
                .iter()
                .filter(|s| s.kind.is_definition())
                .count();
        let symbols = noctune_core::pipeline::draft::symbol_list(&outline);
        let plan_tokens = request_tokens(&symbols) + review_reserve;
        if plan_tokens > options.context_tokens {
            plan_over += 1;
        }
        let ctx = TaskCtx {
            pipeline: &bench.pipeline,
            run: &run,
            state: TaskState::new(PathBuf::from(rel)),
            rel: PathBuf::from(rel),
            control: &control,
        };
        let mut this_file = Vec::new();
        for symbol in outline.symbols.iter().filter(|s| s.kind.is_definition()) {
            let code = &source[symbol.start_byte..symbol.end_byte];
            let prompt = ctx.edit_prompt(
                symbol.kind.as_str(),
                &symbol.name,
                code,
                EDIT_INSTRUCTION,
                "",
                code,
            )?;
            let tokens = estimate_tokens(&prompt);
            let needed = request_tokens(&prompt) + options.max_tokens_code;
            let ratio = f64::from(tokens) / f64::from(file_tokens);
            ratios.push(ratio);
            this_file.push(ratio);
            prompt_tokens.push(f64::from(tokens));
            by_kind.entry(symbol.kind.as_str()).or_default().push(ratio);
            if tokens > options.context_tokens {
                over_alone += 1;
            }
            if needed > options.context_tokens {
                over += 1;
                *over_by_kind.entry(symbol.kind.as_str()).or_default() += 1;
                if editable.symbols.iter().any(|s| s.name == symbol.name) {
                    editable_over += 1;
                }
            }
            // The demonstration needs a file whose plan prompt fits, so that the run gets as
            // far as the symbol's own code call.
            if plan_tokens < options.context_tokens / 2
                && largest.as_ref().is_none_or(|(n, _, _)| needed > *n)
            {
                largest = Some((needed, rel.clone(), symbol.name.clone()));
            }
        }
        this_file.sort_by(f64::total_cmp);
        if !this_file.is_empty() {
            file_medians.push(percentile(&this_file, 50.0));
        }
    }
    let n = ratios.len();
    let (rm, rp, rmean) = summary(ratios.iter().copied());
    let (tm, tp, _) = summary(prompt_tokens.iter().copied());
    let (fm, _, _) = summary(file_medians.iter().copied());
    println!(
        "files over {} lines: {n_files}; definitions: {n}",
        args.min_lines - 1
    );
    println!(
        "edit prompt tokens: median {tm:.0}, p95 {tp:.0}; edit prompt / whole file: median \
         {:.1}%, p95 {:.1}%, mean {:.1}%; median of per-file medians {:.1}%",
        rm * 100.0,
        rp * 100.0,
        rmean * 100.0,
        fm * 100.0
    );
    for (kind, values) in &by_kind {
        let (m, p, _) = summary(values.iter().copied());
        println!(
            "  {kind:<14} {:>6} prompts: median {:.1}%, p95 {:.1}%",
            values.len(),
            m * 100.0,
            p * 100.0
        );
    }
    println!(
        "over the budget of {} tokens: {over_alone} prompts alone; {over} with the {} tokens \
         reserved for the answer ({:.2}%) by kind {over_by_kind:?}",
        options.context_tokens,
        options.max_tokens_code,
        over as f64 * 100.0 / n.max(1) as f64
    );
    println!(
        "definitions an edit cannot rewrite within the budgets (left out of the plan): \
         {not_editable} of {n}; editable ones whose edit request is over the budget: \
         {editable_over}"
    );
    println!(
        "review: {review_skeleton} of {n_files} files do not fit whole (smallest: {:?}) and are \
         reviewed from their skeleton, {review_head_only} of those from its head only; review \
         prompts still over the budget: {review_over}; files whose full symbol list alone is over \
         the budget (the draft lists the review's symbols first, then as many as fit): {plan_over}",
        smallest_over_file
    );

    // What a run does with a symbol larger than the budget.
    let Some((needed, rel, symbol)) = largest else {
        return Ok(());
    };
    println!(
        "\nlargest edit request in a file whose plan prompt fits: `{symbol}` in {rel}: {needed} tokens"
    );
    let source = files
        .iter()
        .find(|(r, _)| *r == rel)
        .map(|(_, s)| s.clone())
        .unwrap_or_default();
    let path = root.join(&rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&path, &source)?;
    *lock(&bench.model.window) = Some(options.context_tokens);
    *lock(&bench.model.force) = Some(symbol.clone());
    for seeded in [false, true] {
        let mut run2 = store.create(RunSpec::default())?;
        let task = TaskState::new(PathBuf::from(&rel));
        if seeded {
            // As if the review had fitted: reuse a review.md (resume path).
            run2.write_artifact(
                &task.task_id,
                "review.md",
                format!("label: N\n\n# Review of `{rel}`\n\nAdd a docstring to `{symbol}`.\n")
                    .as_bytes(),
            )?;
        }
        let summary = drive(
            &bench.pipeline,
            &mut run2,
            &store,
            &[PathBuf::from(&rel)],
            &control,
            &|_| {},
        )
        .await;
        let state = run2.read_task(&task.task_id)?;
        println!(
            "{}: drive -> {:?}; run status {:?}; task status {:?}, stage {:?}, error: {}",
            if seeded {
                "with review.md reused"
            } else {
                "as is"
            },
            summary,
            run2.record().status,
            state.as_ref().map(|s| s.status),
            state.as_ref().map(|s| s.stage),
            state
                .as_ref()
                .and_then(|s| s.error.clone())
                .unwrap_or_default()
        );
    }
    run.set_status(noctune_core::RunStatus::Completed, None)?;
    Ok(())
}
