//! Builds a [`Pipeline`] from the resolved settings and the command-line flags: the one place
//! where the library crates are put together.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use noctune_core::config::LlmSettings;
use noctune_core::config::Settings;
use noctune_core::llm::Calibration;
use noctune_core::pipeline::Fixer;
use noctune_core::pipeline::{PassKind, Pipeline, PipelineOptions};
use noctune_core::prompts::Prompts;
use noctune_core::store::CacheLayout;
use noctune_core::store::ModelCache;
use noctune_core::{LlmClient, Prover, SymbolEditor};
use noctune_gates::{
    AstProver, COLLAPSIBLE_IF, EMPTY_COLLECTION_CALL, EquivalentRewrite, FORMAT_CALL, FixRules,
    Gates, IF_ELSE_ASSIGNMENT, NONE_COMPARISON, PRINTF_FORMAT, PolicyPacks, RETURN_CONDITION,
    RETURN_OF_ASSIGNMENT, RepairConfig, RepairLadder, RuffCommands, RuffFix, RuffFixer,
};
use noctune_index::walk::{WalkOptions, python_files};
use noctune_index::{IndexOptions, PythonEditor, RepoEvidence};
use noctune_llm::{
    JsonlTranscript, OpenAiClient, ProbeOutcome, ReplayClient, StreamEvent, TranscriptSink,
    calibrate_cached,
};

use crate::args::{LlmMode, RunFlags};
use crate::connect::check;

/// The model client for the flags: the configured endpoint (recording every exchange to
/// `transcript` when given, in the format `--llm replay:` reads), or a replay of transcripts.
pub fn llm_client(
    settings: &Settings,
    mode: &LlmMode,
    verbose: u8,
    transcript: Option<&Arc<dyn TranscriptSink>>,
) -> anyhow::Result<Arc<dyn LlmClient>> {
    match mode {
        LlmMode::Off => bail!("`--llm off` makes no model calls; this command needs the model"),
        LlmMode::Replay(path) => {
            Ok(Arc::new(ReplayClient::open(path).with_context(|| {
                format!("cannot replay `{}`", path.display())
            })?))
        }
        LlmMode::On => Ok(Arc::new(openai(
            first_endpoint(&settings.llm)?,
            verbose,
            transcript,
            None,
        )?)),
    }
}

/// The model client of `stage`: its profile's endpoint when `[stages]` names one, the default
/// model otherwise.
fn stage_client(
    settings: &Settings,
    stage: noctune_core::Stage,
    verbose: u8,
) -> anyhow::Result<Arc<dyn LlmClient>> {
    Ok(Arc::new(openai(
        first_endpoint(settings.llm_for(stage))?,
        verbose,
        None,
        None,
    )?))
}

/// The settings of the first server of `llm` (its `base_url`, or the first of its
/// `endpoints`), for what asks one question at a time.
fn first_endpoint(llm: &LlmSettings) -> anyhow::Result<LlmSettings> {
    llm.first_endpoint()
        .map_err(|why| anyhow::anyhow!("{why}; nothing was changed"))
}

/// The commit-message writer: the `analyze` and `format` stages' clients and the prompts.
pub fn message_writer(
    settings: &Settings,
    verbose: u8,
) -> anyhow::Result<noctune_git::autocommit::MessageWriter> {
    use noctune_core::Stage;
    let analyze = settings.llm_for(Stage::Analyze);
    Ok(noctune_git::autocommit::MessageWriter {
        analyze: stage_client(settings, Stage::Analyze, verbose)?,
        format: stage_client(settings, Stage::Format, verbose)?,
        prompts: Prompts::new(CacheLayout::for_root(&settings.root).overrides()),
        // About half the context for the diff, at ~3 characters a token.
        max_diff_chars: analyze.context_tokens as usize * 3 / 2,
        // A few lines each: a small model that rambles on is cut early.
        max_tokens: analyze.max_tokens.min(384),
    })
}

/// A client of one endpoint: `verbose` streams answers to stderr, `transcript` records every
/// exchange, `calibration` starts it from the probe's formats and context.
pub fn openai(
    settings: LlmSettings,
    verbose: u8,
    transcript: Option<&Arc<dyn TranscriptSink>>,
    calibration: Option<&Calibration>,
) -> anyhow::Result<OpenAiClient> {
    let mut builder = OpenAiClient::builder(settings);
    if let Some(calibration) = calibration {
        builder = builder.calibration(calibration);
    }
    if let Some(sink) = transcript {
        builder = builder.transcript_sink(sink.clone());
    }
    if verbose > 0 {
        builder = builder.observer(Arc::new(|event: StreamEvent<'_>| {
            let mut err = std::io::stderr().lock();
            let _ = match event {
                StreamEvent::Content(text) => write!(err, "{text}"),
                StreamEvent::Reasoning(text) => write!(err, "\x1b[2m{text}\x1b[0m"),
                StreamEvent::Retry {
                    error,
                    attempt,
                    delay,
                } => writeln!(err, "\n[retry {attempt} in {delay:?}: {error}]"),
            };
        }));
    }
    Ok(builder.build()?)
}

/// The calibration probe's record for the model of `llm` (on its first server): from
/// `.noctune_cache/models/` under `root` when the server's fingerprint matches, else probed now (always with `force`) and
/// stored. A cache file that cannot be read is named in a warning on stderr and replaced.
pub async fn calibrate(
    root: &Path,
    llm: &LlmSettings,
    force: bool,
) -> anyhow::Result<ProbeOutcome> {
    let client = OpenAiClient::new(first_endpoint(llm)?)?;
    let layout = CacheLayout::for_root(root);
    layout.ensure()?;
    let cache = ModelCache::new(layout.models());
    let outcome = calibrate_cached(&client, &cache, force)
        .await
        .with_context(|| format!("cannot probe the model at {}", client.endpoint()))?;
    if let Some(warning) = &outcome.warning {
        let _ = writeln!(std::io::stderr().lock(), "warning: {warning}");
    }
    Ok(outcome)
}

/// `llm` with the probed context size when the configuration does not set `context_tokens`.
pub fn with_probed_context(llm: &LlmSettings, calibration: &Calibration) -> LlmSettings {
    let mut llm = llm.clone();
    if let Some(context) = calibration.context_tokens
        && !llm.context_tokens_configured
    {
        llm.context_tokens = context;
    }
    llm
}

/// A run's pipeline and the calibration of its model (none with `--llm replay:`).
pub struct Composed {
    /// The pipeline.
    pub pipeline: Pipeline,
    /// The probe's records of the default model, one per endpoint that answered.
    pub calibrations: Vec<Calibration>,
}

/// The files of a run, repo-relative and sorted: from `--file-list`, from PATHS (directories
/// walked), or the whole repository. `--max-files` applies later, to the files the pack keeps
/// (`pack_scope::scope`).
pub fn select_files(
    root: &Path,
    settings: &Settings,
    flags: &RunFlags,
) -> anyhow::Result<Vec<PathBuf>> {
    let walk = WalkOptions {
        exclude: settings.index.exclude.clone(),
        threads: 0,
    };
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(list) = &flags.file_list {
        let text = std::fs::read_to_string(list)
            .with_context(|| format!("cannot read the file list `{}`", list.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let rel = PathBuf::from(line);
            if rel.is_absolute() || !line.ends_with(".py") || !root.join(&rel).is_file() {
                bail!(
                    "{}:{}: `{line}` is not a relative path to an existing .py file under `{}`",
                    list.display(),
                    n + 1,
                    root.display()
                );
            }
            files.push(rel);
        }
    } else if flags.paths.is_empty() {
        files.extend(
            python_files(root, &walk)?
                .into_iter()
                .map(|f| PathBuf::from(f.rel)),
        );
    } else {
        for path in &flags.paths {
            let absolute = if path.is_absolute() {
                path.clone()
            } else {
                root.join(path)
            };
            if absolute.is_dir() {
                for file in python_files(&absolute, &walk)? {
                    let rel = file
                        .path
                        .strip_prefix(root)
                        .unwrap_or(&file.path)
                        .to_path_buf();
                    files.push(rel);
                }
            } else if absolute.is_file() {
                let rel = absolute.strip_prefix(root).with_context(|| {
                    format!(
                        "`{}` is outside the root `{}`",
                        path.display(),
                        root.display()
                    )
                })?;
                files.push(rel.to_path_buf());
            } else {
                let cwd = std::env::current_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|_| "?".to_owned());
                bail!(
                    "`{}` does not exist: looked for `{}` (relative paths are taken from the \
                     root `{}`; the current directory is `{cwd}`)",
                    path.display(),
                    absolute.display(),
                    root.display()
                );
            }
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// Asks once, on the terminal, before the first real file is replaced.
fn terminal_consent() -> noctune_core::pipeline::Consent {
    let answer: Arc<Mutex<Option<bool>>> = Arc::new(Mutex::new(None));
    Arc::new(move |file: &Path| {
        let mut answer = answer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(yes) = *answer {
            return yes;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\nApply approved changes to real files (first: {})? [y/N] ",
            file.display()
        );
        let _ = err.flush();
        let mut line = String::new();
        let yes = std::io::stdin().read_line(&mut line).is_ok()
            && matches!(line.trim(), "y" | "Y" | "yes");
        *answer = Some(yes);
        yes
    })
}

/// Builds the pipeline for a run: with the model on, each model (the default and every stage's
/// profile) is calibrated first, and its client starts from the probe's formats and context.
pub async fn pipeline(
    root: &Path,
    settings: &Settings,
    flags: &RunFlags,
    verbose: u8,
    pass_kind: PassKind,
    transcript: Option<&Path>,
) -> anyhow::Result<Composed> {
    if flags.yes && !settings.allow_apply {
        bail!(
            "`--yes` applies changes without asking, which needs `allow_apply = true` in {}; nothing was changed",
            settings
                .source
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "noctune.toml".to_owned())
        );
    }
    // Before anything is written: no model, no run. Each model (the default and every stage's
    // profile) has its endpoints checked; then they are calibrated and pooled.
    let mut settings = settings.clone();
    let mut checked = None;
    let mut profile_checks = std::collections::BTreeMap::new();
    if matches!(flags.llm, LlmMode::On) {
        checked = Some(check(&settings, &settings.llm).await?);
        for profile in settings.stages.values() {
            if let Some(profile_settings) = settings.profiles.get(profile)
                && !profile_checks.contains_key(profile)
            {
                profile_checks.insert(profile.clone(), check(&settings, profile_settings).await?);
            }
        }
    }
    let sink: Option<Arc<dyn TranscriptSink>> = match transcript {
        Some(path) => Some(Arc::new(JsonlTranscript::create(path).with_context(
            || format!("cannot open the transcript `{}`", path.display()),
        )?)),
        None => None,
    };
    let mut calibrations = Vec::new();
    let mut profile_pools = std::collections::BTreeMap::new();
    let llm: Arc<dyn LlmClient> = match checked {
        Some(checked) => {
            let connected = checked.connect(root, verbose, sink.as_ref()).await?;
            settings.llm = connected.settings;
            calibrations = connected.calibrations;
            for (profile, checked) in profile_checks {
                let connected = checked.connect(root, verbose, sink.as_ref()).await?;
                settings
                    .profiles
                    .insert(profile.clone(), connected.settings);
                profile_pools.insert(profile, connected.pool);
            }
            Arc::new(connected.pool)
        }
        None => llm_client(&settings, &flags.llm, verbose, sink.as_ref())?,
    };
    let settings = &settings;
    let mut stage_llm = Vec::new();
    for (stage, profile) in &settings.stages {
        if let Some(pool) = profile_pools.get(profile) {
            stage_llm.push((*stage, Arc::new(pool.clone()) as Arc<dyn LlmClient>));
        }
    }
    let editor: Arc<dyn SymbolEditor> = Arc::new(PythonEditor::default());
    let prompts = Prompts::new(CacheLayout::for_root(root).overrides());
    let packs = PolicyPacks::from_settings(settings)?;
    let pack = match &flags.pack {
        Some(name) => packs.get(name)?,
        None => packs.default_pack()?,
    };
    // The pack's `tools_allowed` decides which ruff commands run at all.
    let gates = Gates::detect_allowed(
        root,
        settings.ruff_required,
        Some(editor.clone()),
        RuffCommands::allowed_by(pack.as_ref()),
    )
    .await
    .context("cannot set up the gates")?;
    // Proofs need python3 (and ruff for the lint classes): the tools the gates found.
    let prover = AstProver::from_gates(&gates)
        .map(|p| p.with_rewrites(equivalent_rewrites(pack.as_ref())))
        .map(|p| Arc::new(p) as Arc<dyn Prover>);
    let fixer = fixer(&gates, pack.as_ref(), flags.ruff_fix);
    let ladder = RepairLadder::new(
        Arc::new(gates),
        editor.clone(),
        RepairConfig {
            ruff_fix: flags.ruff_fix,
            context_tokens: settings.llm_for(noctune_core::Stage::Repair).context_tokens,
            max_tokens: settings.llm_for(noctune_core::Stage::Repair).max_tokens,
            ..RepairConfig::default()
        },
    )
    // The ladder's micro-LLM step uses the `repair` stage's profile when one is configured.
    .with_llm(
        stage_llm
            .iter()
            .find(|(stage, _)| *stage == noctune_core::Stage::Repair)
            .map_or_else(|| llm.clone(), |(_, client)| client.clone()),
        prompts.clone(),
    );
    // The index and the file list are read once the run has started (`prepare`); sources are
    // held in memory only for a repository under `index.search_cache_bytes`.
    let evidence = RepoEvidence::indexed(
        root,
        WalkOptions {
            exclude: settings.index.exclude.clone(),
            threads: 0,
        },
        settings.index.max_file_bytes,
        settings.index.search_cache_bytes,
        IndexOptions::from(&settings.index),
    );
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let consent = if flags.yes || !settings.allow_apply {
        None
    } else if interactive {
        Some(terminal_consent())
    } else {
        // Nobody to ask and no `--yes`: keep proposals only.
        Some(Arc::new(|_: &Path| false) as noctune_core::pipeline::Consent)
    };
    let pipeline = Pipeline {
        root: root.to_path_buf(),
        llm,
        stage_llm,
        editor,
        checker: Arc::new(ladder),
        fixer,
        evidence: Arc::new(evidence),
        approver: noctune_core::approvers::for_mode(
            settings.approve_mode,
            prover,
            PipelineOptions::default().high_risk,
        ),
        consent,
        pack,
        prompts,
        options: PipelineOptions {
            allow_apply: settings.allow_apply,
            max_passes: settings.max_passes,
            context_tokens: settings.llm.context_tokens,
            max_tokens_code: settings.llm.max_tokens,
            max_tokens_structured: settings.llm.max_tokens.min(512),
            temperature: settings.llm.temperature,
            pass_kind,
            budgets: settings.budgets,
            ..PipelineOptions::default()
        },
    };
    Ok(Composed {
        pipeline,
        calibrations,
    })
}

/// Deterministic first: ruff's safe fixes before any model, when the pack allows `ruff check`
/// and `ruff fix` and `--ruff-fix` is not `off` (pyupgrade's rules too for `py_upgrade`).
fn fixer(
    gates: &Gates,
    pack: &dyn noctune_core::PolicyPack,
    ruff_fix: RuffFix,
) -> Option<Arc<dyn Fixer>> {
    let allowed = [noctune_core::tool::RUFF_CHECK, noctune_core::tool::RUFF_FIX]
        .iter()
        .all(|tool| pack.allows_tool(tool));
    if ruff_fix == RuffFix::Off || !allowed {
        return None;
    }
    let rules = if pack.name() == "py_upgrade" {
        FixRules::RepoAndUpgrade
    } else {
        FixRules::Repo
    };
    RuffFixer::from_gates(gates, rules).map(|f| Arc::new(f) as Arc<dyn Fixer>)
}

/// The rewrites a pack lists as equivalent (proven by `pack_rewrite` when the model writes
/// ruff's fixes, byte for byte or with the same AST) for the packs that fix lint: `== None` →
/// `is None`, `if c: return True / return False` → `return c`, if/else assignment → ternary,
/// nested `if` → `and`, `x = e; return x` → `return e`, `dict()` → `{}`, `"%s" % (x,)` →
/// `"{}".format(x)` → `f"{x}"`.
fn equivalent_rewrites(pack: &dyn noctune_core::PolicyPack) -> &'static [EquivalentRewrite] {
    match pack.name() {
        "lint_fix" | "py_upgrade" => &[
            NONE_COMPARISON,
            RETURN_CONDITION,
            IF_ELSE_ASSIGNMENT,
            COLLAPSIBLE_IF,
            RETURN_OF_ASSIGNMENT,
            EMPTY_COLLECTION_CALL,
            PRINTF_FORMAT,
            FORMAT_CALL,
        ],
        _ => &[],
    }
}

/// Whether a flag value is `safe` or `off`.
pub fn parse_ruff_fix(value: &str) -> Result<RuffFix, String> {
    value.parse::<RuffFix>().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use noctune_core::llm::{FormatCheck, ProbeFormat};

    fn probed(context: Option<u32>) -> Calibration {
        Calibration {
            key: "k".into(),
            base_url: "http://127.0.0.1:8080/v1".into(),
            model: "m".into(),
            fingerprint: "f".into(),
            probed_at: "2026-01-01T00:00:00Z".into(),
            formats: vec![FormatCheck {
                format: ProbeFormat::Fenced,
                works: true,
                reason: None,
            }],
            prompt_tokens_per_second: None,
            answer_tokens_per_second: None,
            speed_source: None,
            context_tokens: context,
            probe_seconds: 0.1,
        }
    }

    #[test]
    fn the_probed_context_applies_only_when_the_config_sets_none() {
        let unset = LlmSettings::default();
        assert_eq!(
            with_probed_context(&unset, &probed(Some(4096))).context_tokens,
            4096
        );
        assert_eq!(
            with_probed_context(&unset, &probed(None)).context_tokens,
            unset.context_tokens
        );
        let set = LlmSettings {
            context_tokens: 2048,
            context_tokens_configured: true,
            ..LlmSettings::default()
        };
        assert_eq!(
            with_probed_context(&set, &probed(Some(32768))).context_tokens,
            2048
        );
    }
}
