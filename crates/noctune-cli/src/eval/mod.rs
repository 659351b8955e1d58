//! `noctune eval`: scores a model and the prompts on a corpus of legacy Python cases, each with
//! its own tests. For each case, on copies: ruff's findings and the tests before; what one
//! `ruff check --fix` alone achieves (the baseline); a whole `noctune run` (the real binary, the
//! configured model); then findings, tests and a parse check after, and what the run did.

mod case;
mod measure;
mod outcome;
mod table;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use noctune_core::RunId;
use noctune_core::config::{LlmSettings, Settings};
use noctune_core::llm::Calibration;
use noctune_core::process::ProcessBuilder;
use noctune_core::store::{CacheLayout, ModelCache};
use serde::Serialize;

pub use outcome::RunCounts;
pub use table::render;

/// How long one case's run may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(3600);

/// The run id every case's run gets.
const RUN_ID: &str = "eval";

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// The corpus directory.
    pub corpus: PathBuf,
    /// Only these cases (by directory name); all when empty.
    pub cases: Vec<String>,
    /// The model: the root's default, or one of its profiles.
    pub llm: LlmSettings,
    /// The profile's name, for the report.
    pub profile: Option<String>,
    /// `[approve] mode` for the runs.
    pub approve_mode: noctune_core::approvers::ApproveMode,
    /// Passes per file.
    pub max_passes: u32,
    /// At most this many files per case.
    pub max_files: Option<usize>,
    /// Where the copies go (kept); a temporary directory, removed after, when `None`.
    pub keep: Option<PathBuf>,
    /// The `ruff` program.
    pub ruff: PathBuf,
}

/// One case's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseResult {
    /// The case's directory name.
    pub case: String,
    /// Its pack.
    pub pack: String,
    /// Code files run on.
    pub files: usize,
    /// Ruff findings before anything.
    pub findings_before: usize,
    /// Ruff findings after one `ruff check --fix` (the baseline).
    pub findings_ruff_fix: usize,
    /// Ruff findings after the Noctune run.
    pub findings_after: usize,
    /// Whether the case's tests pass after `ruff check --fix`.
    pub ruff_fix_tests_pass: bool,
    /// Whether the case's tests pass after the Noctune run (behaviour kept).
    pub tests_pass: bool,
    /// The tests' last output lines when they fail after the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tests_output: Option<String>,
    /// Code files that no longer parse after the run (must be none).
    pub broken: Vec<String>,
    /// What the run did.
    pub run: RunCounts,
    /// The run's status (`completed`, `failed`...).
    pub run_status: String,
    /// Why the case could not be evaluated, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
}

/// The whole evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// The model's base URL and id, and the profile.
    pub model: String,
    /// What the calibration probe found: answer formats, tokens per second, context size.
    pub probe: Option<Calibration>,
    /// One entry per case.
    pub cases: Vec<CaseResult>,
    /// Sums over the cases.
    pub totals: Totals,
}

/// Sums over the cases.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Cases evaluated.
    pub cases: usize,
    /// Cases with at least one model-written change applied.
    pub cases_with_model_changes: usize,
    /// Ruff findings before.
    pub findings_before: usize,
    /// After `ruff check --fix` alone.
    pub findings_ruff_fix: usize,
    /// After the Noctune run.
    pub findings_after: usize,
    /// Cases whose tests still pass after the run.
    pub tests_kept: usize,
    /// Files that no longer parse (must be 0).
    pub broken: usize,
    /// The run counts, summed.
    pub run: RunCounts,
    /// Prompt + answer tokens per applied change, when anything was applied.
    pub tokens_per_applied_change: Option<u64>,
    /// Seconds per code file.
    pub seconds_per_file: f64,
}

impl EvalReport {
    /// Whether nothing was broken and every case kept its behaviour.
    pub fn kept_everything(&self) -> bool {
        self.totals.broken == 0 && self.totals.tests_kept == self.totals.cases
    }
}

/// Runs the evaluation, case by case; `progress` gets a line per step. Once the cases are
/// known, `probe` gives the calibration probe's record of the model (each case's copy starts
/// with it in its cache, so the runs do not probe again).
pub fn run(
    options: &EvalOptions,
    probe: &dyn Fn() -> anyhow::Result<Calibration>,
    progress: &dyn Fn(&str),
) -> anyhow::Result<EvalReport> {
    let mut cases = case::discover(&options.corpus)?;
    if !options.cases.is_empty() {
        for wanted in &options.cases {
            if !cases.iter().any(|c| &c.name == wanted) {
                anyhow::bail!(
                    "no case `{wanted}` in `{}` (cases: {})",
                    options.corpus.display(),
                    cases
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        cases.retain(|c| options.cases.contains(&c.name));
    }
    let calibration = probe()?;
    progress(&format!("probe: {}", calibration.summary()));
    let temp;
    let work = match &options.keep {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::tempdir().context("cannot create a temporary directory")?;
            temp.path().to_path_buf()
        }
    };
    let mut results = Vec::new();
    for case in &cases {
        progress(&format!("{}: {}", case.name, case.file.description));
        let result = evaluate(options, &calibration, case, &work.join(&case.name))
            .unwrap_or_else(|err| failed(case, format!("{err:#}")));
        results.push(result);
    }
    let model = format!(
        "{} ({}{})",
        options.llm.base_url,
        options.llm.model.as_deref().unwrap_or("the server's model"),
        options
            .profile
            .as_deref()
            .map(|p| format!(", profile {p}"))
            .unwrap_or_default()
    );
    Ok(EvalReport {
        model,
        probe: Some(calibration),
        totals: totals(&results),
        cases: results,
    })
}

fn failed(case: &case::Case, error: String) -> CaseResult {
    CaseResult {
        case: case.name.clone(),
        pack: case.file.pack.clone(),
        files: 0,
        findings_before: 0,
        findings_ruff_fix: 0,
        findings_after: 0,
        ruff_fix_tests_pass: false,
        tests_pass: false,
        tests_output: None,
        broken: Vec::new(),
        run: RunCounts::default(),
        run_status: "not run".to_owned(),
        error: Some(error),
        seconds: 0.0,
    }
}

/// One case, in `work/` (`work/noctune` for the run, `work/ruff-fix` for the baseline).
fn evaluate(
    options: &EvalOptions,
    probe: &Calibration,
    case: &case::Case,
    work: &Path,
) -> anyhow::Result<CaseResult> {
    let repo = work.join("noctune");
    let baseline = work.join("ruff-fix");
    if work.exists() {
        std::fs::remove_dir_all(work)
            .with_context(|| format!("cannot clear `{}`", work.display()))?;
    }
    case::copy_tree(&case.dir, &repo)?;
    case::copy_tree(&case.dir, &baseline)?;
    let mut files = case::code_files(&repo)?;
    if let Some(max) = options.max_files {
        files.truncate(max);
    }

    let (passing, output) = measure::tests_pass(&case.file.test_command, &repo)?;
    if !passing {
        anyhow::bail!("the case's tests fail before any change:\n{output}");
    }
    let findings_before = measure::findings(&options.ruff, &repo)?;
    measure::ruff_fix(&options.ruff, &baseline)?;
    let findings_ruff_fix = measure::findings(&options.ruff, &baseline)?;
    let (ruff_fix_tests_pass, _) = measure::tests_pass(&case.file.test_command, &baseline)?;

    std::fs::write(
        repo.join("noctune.toml"),
        case_config(options, &case.file.pack),
    )?;
    ModelCache::new(CacheLayout::for_root(&repo).models())
        .store(probe)
        .with_context(|| format!("cannot seed the model cache of `{}`", repo.display()))?;
    let list = work.join("files.txt");
    std::fs::write(&list, files.join("\n") + "\n")?;
    let started = Instant::now();
    let exe = std::env::current_exe().context("cannot find the noctune binary")?;
    let mut command = ProcessBuilder::new(exe.as_os_str())
        .arg("run")
        .arg("--root")
        .arg(&repo)
        .arg("--yes")
        .args(["--output-format", "json", "--run-id", RUN_ID])
        .arg("--file-list")
        .arg(&list)
        .timeout(RUN_TIMEOUT);
    if let Some(key) = &options.llm.api_key {
        command = command.env("NOCTUNE_API_KEY", key);
    }
    let output = command
        .run_blocking()
        .with_context(|| format!("cannot run noctune on `{}`", repo.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let run_status = serde_json::from_slice::<serde_json::Value>(&output.stdout)
        .ok()
        .and_then(|v| v["status"].as_str().map(str::to_owned))
        .unwrap_or_else(|| {
            format!(
                "error (exit {:?}): {}",
                output.code,
                output.stderr_text().lines().last().unwrap_or("")
            )
        });

    let broken = measure::broken(&repo, &files)?;
    let (tests_pass, tests_output) = measure::tests_pass(&case.file.test_command, &repo)?;
    let findings_after = measure::findings(&options.ruff, &repo)?;
    let run_id = RunId::new(RUN_ID)?;
    let run = if repo.join(".noctune_cache/runs").join(RUN_ID).is_dir() {
        outcome::counts(&repo, &run_id)?
    } else {
        RunCounts::default()
    };
    Ok(CaseResult {
        case: case.name.clone(),
        pack: case.file.pack.clone(),
        files: files.len(),
        findings_before,
        findings_ruff_fix,
        findings_after,
        ruff_fix_tests_pass,
        tests_pass,
        tests_output: (!tests_pass).then_some(tests_output),
        broken,
        run,
        run_status,
        error: None,
        seconds,
    })
}

/// The `noctune.toml` of a case's copy: applying allowed (it is a copy), the case's pack, the
/// chosen model. The API key is passed in the environment, never written.
fn case_config(options: &EvalOptions, pack: &str) -> String {
    let llm = &options.llm;
    let mut text = format!(
        "allow_apply = true\nmax_passes = {}\npack = \"{pack}\"\n\n[llm]\nbase_url = \"{}\"\n",
        options.max_passes, llm.base_url
    );
    if let Some(model) = &llm.model {
        text.push_str(&format!("model = {}\n", toml_string(model)));
    }
    // Unset, the run uses the probed context size, as the configuration's own run would.
    if llm.context_tokens_configured {
        text.push_str(&format!("context_tokens = {}\n", llm.context_tokens));
    }
    text.push_str(&format!(
        "stream = {}\nmax_tokens = {}\ntemperature = {}\ntimeout_s = {}\n\
         max_retries = {}\n\n[approve]\nmode = \"{}\"\n",
        llm.stream,
        llm.max_tokens,
        llm.temperature,
        llm.timeout.as_secs().max(1),
        llm.max_retries,
        options.approve_mode.as_str(),
    ));
    text
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn totals(results: &[CaseResult]) -> Totals {
    let mut totals = Totals {
        cases: results.len(),
        ..Totals::default()
    };
    let mut files = 0usize;
    let mut seconds = 0.0;
    for r in results {
        totals.findings_before += r.findings_before;
        totals.findings_ruff_fix += r.findings_ruff_fix;
        totals.findings_after += r.findings_after;
        totals.tests_kept += usize::from(r.tests_pass);
        totals.broken += r.broken.len();
        totals.cases_with_model_changes += usize::from(r.run.model_written_applied > 0);
        let run = &mut totals.run;
        run.answers += r.run.answers;
        run.usable += r.run.usable;
        run.proposed += r.run.proposed;
        run.proven += r.run.proven;
        run.model_approved += r.run.model_approved;
        run.queued += r.run.queued;
        run.rejected += r.run.rejected;
        run.applied += r.run.applied;
        run.model_written_applied += r.run.model_written_applied;
        run.prompt_tokens += r.run.prompt_tokens;
        run.completion_tokens += r.run.completion_tokens;
        files += r.files;
        seconds += r.seconds;
    }
    let tokens = totals.run.prompt_tokens + totals.run.completion_tokens;
    totals.tokens_per_applied_change =
        (totals.run.applied > 0).then(|| tokens / totals.run.applied as u64);
    totals.seconds_per_file = if files > 0 {
        seconds / files as f64
    } else {
        0.0
    };
    totals
}

/// The model settings for `profile` (the root's default model when `None`).
pub fn llm_for(settings: &Settings, profile: Option<&str>) -> anyhow::Result<LlmSettings> {
    match profile {
        None => Ok(settings.llm.clone()),
        Some(name) => settings.profiles.get(name).cloned().with_context(|| {
            format!(
                "no profile `{name}` under [llm.profiles] in the configuration (defined: {})",
                settings
                    .profiles
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }),
    }
}
