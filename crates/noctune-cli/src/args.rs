//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Upgrade Python code with a local LLM, one symbol at a time, never leaving a file broken.
#[derive(Debug, Parser)]
#[command(name = "noctune", version, about, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The repository root.
    #[arg(long, global = true, default_value = ".", value_name = "PATH")]
    pub root: PathBuf,
    /// Output format for commands whose output is data.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
    /// More output: stream the model's answers; `-vv` for debug logs.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// How data is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people, colored on a terminal.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write `noctune.toml` and the prompt overrides under `.noctune_cache/overrides/`.
    Init(InitArgs),
    /// Show the resolved configuration (after `noctune.toml`/`pyproject.toml` and the
    /// environment), or the error that stops it from loading.
    Config(ConfigArgs),
    /// Run the gates (parse, then ruff) on files as they are: no LLM, no changes; exit 1
    /// when a file fails.
    Check(CheckArgs),
    /// Build or refresh the symbol index (`.noctune_cache/index.db`) and print its statistics;
    /// no LLM calls.
    Index(IndexArgs),
    /// List a file's symbols: qualified names, kinds and line ranges.
    Symbols(SymbolsArgs),
    /// Review stage only: write `review.md` with a label (N/P/W) per file.
    Review(RunFlags),
    /// One pass per file: review and draft when missing, then edit, gates, repair, approve,
    /// apply.
    Edit(RunFlags),
    /// Bring files as they are through the gates: heuristics, `ruff check --fix` (safe fixes
    /// only), then a micro-LLM repair; approved repairs are applied like edits.
    Repair(RunFlags),
    /// The full loop for every file: review, draft, edit, approve, repeated until the label is
    /// W or `max_passes`. Resumes a run with `--run-id`.
    Run(RunFlags),
    /// A run's progress from `run.json` (the latest run by default).
    Status(StatusArgs),
    /// Every run, newest first.
    Runs(RunsArgs),
    /// The human approval queue: list, approve or reject queued changes.
    Approvals(ApprovalsArgs),
    /// Write the morning report of a run (markdown and HTML) and print its paths.
    Report(StatusArgs),
    /// Apply a finished run's approved proposals (and those its pack would auto-approve) with
    /// no model call: conflict check, gates again, backup, atomic replace; exit 1 when a change
    /// was refused.
    Apply(ApplyArgs),
    /// Put files back as they were before a run, byte-exact, from the run's backups; a file
    /// edited since Noctune changed it is refused unless `--force`.
    Restore(RestoreArgs),
    /// A run's applied changes as patchsets (per file, module, pack, or one): list them, show
    /// their diffs, or commit them on a branch `noctune/<run_id>` made in a separate git
    /// worktree (the working tree, index and current branch are never touched).
    Patchset(PatchsetArgs),
    /// Commit dirty working trees, whoever changed them: per repository (skipped when its index
    /// is not empty or it is mid-merge/rebase), changed files grouped by module, each group's
    /// message written by the model (`analyze`, then `format`), secret-looking files left
    /// out; `--push` fast-forwards first and never forces. Exit 1 when something was left out
    /// or refused.
    Commit(CommitArgs),
    /// Score the configured model and prompts on a corpus of cases with their own tests, beside
    /// what one `ruff check --fix` achieves alone; exit 1 when a file broke or a case's tests
    /// fail after the run.
    Eval(EvalArgs),
    /// Calibrate the model: which answer formats work (grammar, json_schema, json_object,
    /// fenced), prompt and answer tokens per second, the context size. Cached under
    /// `.noctune_cache/models/` per base URL, model and server fingerprint; runs probe on first
    /// contact by themselves.
    Probe(ProbeArgs),
    /// Noctune Studio: the local daemon with the HTTP API and the web UI.
    Studio(crate::commands::studio::StudioArgs),
    /// Work from a request: plan, tests first, code on a throw-away copy, verify (gates, tests,
    /// the suite, the probe), fix and retry, then approve and apply, or revert with the failing
    /// verifier named.
    Task(TaskArgs),
    /// The lesson cards kept from the changes requests applied (few-shot examples for later
    /// requests).
    Lessons(LessonsArgs),
    /// Search the code graph: symbols whose names match the query's words or start with them
    /// (the index's full-text search) and the lines using the query's identifiers; no LLM.
    Search(SearchArgs),
    /// A symbol's definitions, the modules importing it and the lines using it; no LLM.
    Owners(OwnersArgs),
}

/// `noctune search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words or identifiers (`retry client`).
    #[arg(value_name = "QUERY")]
    pub query: String,
    /// At most this many symbols and this many text hits.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
}

/// `noctune owners`.
#[derive(Debug, Args)]
pub struct OwnersArgs {
    /// The symbol (`fetch`, `Client.get`).
    #[arg(value_name = "SYMBOL")]
    pub symbol: String,
    /// At most this many importers and this many uses per definition.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: usize,
}

/// `noctune task`.
#[derive(Debug, Args)]
pub struct TaskArgs {
    /// What to do, in your words ("add a function fib(n) with a test").
    #[arg(value_name = "REQUEST")]
    pub request: String,
    /// Files or directories the plan should work in; the whole repository by default.
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    /// Write each step's tests before its code, even when the plan names none.
    #[arg(long)]
    pub tests_first: bool,
    /// Fixes the model may make per step after a verifier failed (default: `[task]
    /// max_retries`, 3).
    #[arg(long, value_name = "N")]
    pub max_retries: Option<u32>,
    /// Accept the plan without asking, and apply without asking when `allow_apply = true`.
    #[arg(long)]
    pub yes: bool,
    /// Resume the task with this id, or name a new one.
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// The policy pack (default: `[task] pack`, `feature`).
    #[arg(long, value_name = "NAME")]
    pub pack: Option<String>,
}

/// `noctune lessons`.
#[derive(Debug, Args)]
pub struct LessonsArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: LessonsAction,
}

/// `noctune lessons list|show|forget`.
#[derive(Debug, Subcommand)]
pub enum LessonsAction {
    /// Every card: id, kind, symbol, file, request.
    List,
    /// One card whole (an id or a unique prefix).
    Show {
        /// The card's id.
        id: String,
    },
    /// Remove one card.
    Forget {
        /// The card's id.
        id: String,
    },
}

/// `noctune probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Probe again even when the cached record matches the server.
    #[arg(long)]
    pub force: bool,
    /// The model profile (under `[llm.profiles]`); the default model otherwise.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

/// How the pipeline talks to a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LlmMode {
    /// The configured endpoint.
    On,
    /// No model: the deterministic scan only.
    Off,
    /// Answers from recorded transcripts (a JSONL file or a directory of them).
    Replay(PathBuf),
}

fn parse_llm_mode(value: &str) -> Result<LlmMode, String> {
    match value {
        "on" => Ok(LlmMode::On),
        "off" => Ok(LlmMode::Off),
        other => match other.strip_prefix("replay:") {
            Some(path) if !path.is_empty() => Ok(LlmMode::Replay(PathBuf::from(path))),
            _ => Err(format!(
                "expected `on`, `off` or `replay:<path>`, found `{other}`"
            )),
        },
    }
}

/// Flags of `review`, `edit` and `run`.
#[derive(Debug, Args)]
pub struct RunFlags {
    /// Files or directories to work on (directories are walked for `.py` files, honouring
    /// `.gitignore`); default: the whole repository.
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    /// A text file with one repo-relative `.py` path per line.
    #[arg(long, value_name = "TXT")]
    pub file_list: Option<PathBuf>,
    /// Resume the run with this id, or name a new one.
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Work on at most this many files.
    #[arg(long, value_name = "N")]
    pub max_files: Option<usize>,
    /// `safe`: the repair ladder may run `ruff check --fix` (safe fixes only); `off`: never.
    #[arg(long, value_name = "MODE", default_value = "safe", value_parser = crate::compose::parse_ruff_fix)]
    pub ruff_fix: noctune_gates::RuffFix,
    /// `on`, `off` (deterministic scan only: refresh the index), or `replay:<path>`.
    #[arg(long, value_name = "MODE", default_value = "on", value_parser = parse_llm_mode)]
    pub llm: LlmMode,
    /// The policy pack (default: the config's `pack`).
    #[arg(long, value_name = "NAME")]
    pub pack: Option<String>,
    /// Never prompt; apply approved changes (requires `allow_apply = true`).
    #[arg(long)]
    pub yes: bool,
}

/// `noctune eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The corpus: one directory per case, each with a `case.toml` (see `eval/corpus/README.md`).
    #[arg(long, value_name = "DIR")]
    pub corpus: PathBuf,
    /// Only this case (repeatable); every case by default.
    #[arg(long, value_name = "NAME")]
    pub case: Vec<String>,
    /// The model profile (under `[llm.profiles]` of the root's configuration); the default
    /// model otherwise.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Passes per file.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub max_passes: u32,
    /// At most this many code files per case.
    #[arg(long, value_name = "N")]
    pub max_files: Option<usize>,
    /// Keep the cases' copies (and their runs) under this directory.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

/// `noctune status` and `noctune report`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The run (default: the latest).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
}

/// `noctune apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The finished run whose queue to apply.
    #[arg(long, value_name = "ID")]
    pub run_id: String,
    /// Only this file (repo-relative; repeatable); every queued change by default.
    #[arg(long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Check everything (decision, conflict, gates), write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `noctune restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The run whose changes to undo.
    #[arg(long, value_name = "ID")]
    pub run_id: String,
    /// Only this file (repo-relative; repeatable); every file the run changed by default.
    #[arg(long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Say what would be restored, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Restore a file even when it was edited after Noctune changed it (the edited content is
    /// saved under the run's backups first).
    #[arg(long)]
    pub force: bool,
}

/// `noctune patchset`.
#[derive(Debug, Args)]
pub struct PatchsetArgs {
    /// What to do with the patchsets.
    #[command(subcommand)]
    pub command: PatchsetCommand,
}

/// `noctune patchset list|show|commit`.
#[derive(Debug, Subcommand)]
pub enum PatchsetCommand {
    /// The run's patchsets: ids, keys, files, lines changed.
    List(PatchsetSelect),
    /// The run's patchsets with their diffs (a diff that looks like a secret is withheld).
    Show(PatchsetShowArgs),
    /// Commit the patchsets on `noctune/<run_id>` from the run's `head_sha`, at most
    /// `patchset_max_commits`, each after the pack's allowed tools (ruff, pytest) pass on the
    /// worktree; exit 1 when a patchset or a file was left uncommitted.
    Commit(PatchsetCommitArgs),
}

/// Which run and how to group it.
#[derive(Debug, Args)]
pub struct PatchsetSelect {
    /// The run (default: the latest).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// How to group the changes; more groups than `patchset_max_commits` are merged with their
    /// neighbours.
    #[arg(long, value_enum, default_value_t = GroupArg::Module)]
    pub group: GroupArg,
}

/// `noctune patchset commit`.
#[derive(Debug, Args)]
pub struct PatchsetCommitArgs {
    /// Which run and how to group it.
    #[command(flatten)]
    pub select: PatchsetSelect,
    /// Who writes the commit messages: the template (`Noctune Studio: <pack> (#<run_id>)
    /// [patchset N/M]`) or the model (`analyze`, then `format`; the template line and the
    /// trailers are kept).
    #[arg(long, value_enum, default_value_t = MessageArg::Template)]
    pub message: MessageArg,
}

/// Who writes `noctune patchset commit`'s messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MessageArg {
    /// `Noctune Studio: <pack> (#<run_id>) [patchset N/M]`, the files, the trailers.
    Template,
    /// The model, in two steps; the template line and the trailers are added.
    Llm,
}

/// `noctune patchset show`.
#[derive(Debug, Args)]
pub struct PatchsetShowArgs {
    /// Which run and how to group it.
    #[command(flatten)]
    pub select: PatchsetSelect,
    /// Only this patchset (its `ps-...` id); every patchset by default.
    #[arg(value_name = "PATCHSET")]
    pub patchset: Option<String>,
}

/// How `noctune patchset` groups a run's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupArg {
    /// One patchset per file.
    File,
    /// One per module: the first `patchset_module_depth` directories.
    Module,
    /// One per policy pack.
    Pack,
    /// One for the whole run.
    Single,
}

/// `noctune commit`.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Sweep every git repository under `--root`, not only the one at it.
    #[arg(long)]
    pub recursive: bool,
    /// Repeat the sweep at this interval (`30s`, `5m`, `1h`) until Ctrl+C.
    #[arg(long, value_name = "INTERVAL", value_parser = parse_interval)]
    pub every: Option<std::time::Duration>,
    /// Push to the tracked upstream: fast-forward first when behind, stop when diverged.
    #[arg(long)]
    pub push: bool,
}

/// `30s`, `5m`, `1h` as a duration (at least one second).
pub fn parse_interval(value: &str) -> Result<std::time::Duration, String> {
    let expected = || format!("expected a number and a unit (`30s`, `5m`, `1h`), found `{value}`");
    let unit = value.chars().last().ok_or_else(expected)?;
    let number: u64 = value[..value.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| expected())?;
    let seconds = match unit {
        's' => number,
        'm' => number * 60,
        'h' => number * 3600,
        _ => return Err(expected()),
    };
    if seconds == 0 {
        return Err(format!(
            "expected an interval of at least 1s, found `{value}`"
        ));
    }
    Ok(std::time::Duration::from_secs(seconds))
}

/// `noctune runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {}

/// `noctune approvals`.
#[derive(Debug, Args)]
pub struct ApprovalsArgs {
    /// `list` (default), `approve ID` or `reject ID`.
    #[command(subcommand)]
    pub action: Option<ApprovalAction>,
    /// The run (default: the latest for `list`; the run holding the id for decisions).
    #[arg(long, value_name = "ID", global = true)]
    pub run_id: Option<String>,
}

/// What to do with the queue.
#[derive(Debug, Subcommand)]
pub enum ApprovalAction {
    /// List queued approvals and their decisions.
    List,
    /// Approve a queued change: `noctune apply` applies it (or, with `allow_apply = true`,
    /// resuming the run does).
    Approve(DecideArgs),
    /// Reject a queued change: it is never applied.
    Reject(DecideArgs),
}

/// A decision.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The approval id (`ap-...`).
    #[arg(value_name = "ID")]
    pub approval_id: String,
    /// Why (kept with the decision).
    #[arg(long)]
    pub reason: Option<String>,
}

/// `noctune index`.
#[derive(Debug, Args)]
pub struct IndexArgs {}

/// `noctune symbols`.
#[derive(Debug, Args)]
pub struct SymbolsArgs {
    /// The Python file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `noctune init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite files that were edited since `init` wrote them.
    #[arg(long)]
    pub force: bool,
}

/// `noctune config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {}

/// `noctune check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check (directories are walked for `.py` files, honouring
    /// `.gitignore`); default: the root.
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
}
