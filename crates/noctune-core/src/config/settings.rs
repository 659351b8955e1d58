//! Resolved settings: options merged with defaults and environment overrides, validated.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::options::{LlmOptions, LlmProfileOptions, Options};
use super::{ConfigError, ConfigSource, EnvOverrides};
use crate::policy::PolicyPackOptions;
use crate::stage::Stage;

/// Default `llm.base_url`: llama.cpp's `llama-server` on its default port.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080/v1";
/// Default policy pack.
pub const DEFAULT_PACK: &str = "lint_fix";

/// How to reach and use one model.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmSettings {
    /// Base URL up to and including `/v1`, without a trailing slash.
    pub base_url: String,
    /// Model name to send, if any.
    pub model: Option<String>,
    /// Bearer token, if any.
    pub api_key: Option<String>,
    /// Extra headers.
    pub headers: BTreeMap<String, String>,
    /// Stream answers over SSE.
    pub stream: bool,
    /// With `-v`, print the streamed answer.
    pub verbose_stream: bool,
    /// With `-v`, print reasoning too.
    pub stream_print_reasoning: bool,
    /// Context budget in tokens.
    pub context_tokens: u32,
    /// Whether the configuration set `context_tokens`; when it did not, the calibration probe's
    /// context size (the server's `n_ctx`) replaces the default.
    pub context_tokens_configured: bool,
    /// How long to wait for an answer and between stream chunks.
    pub timeout: Duration,
    /// Default `max_tokens`.
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
    /// Retries for retryable failures.
    pub max_retries: u32,
    /// Requests `base_url` answers at once; `None`: ask the server (`/props`), else 1.
    pub slots: Option<u32>,
    /// The servers used together (`endpoints`); empty: `base_url` alone.
    pub endpoints: Vec<EndpointSettings>,
}

/// One model server of a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSettings {
    /// Base URL up to and including `/v1`, without a trailing slash.
    pub base_url: String,
    /// The environment variable holding its API key; `None` uses `api_key`.
    pub api_key_env: Option<String>,
    /// Requests it answers at once; `None`: ask the server (`/props`), else 1.
    pub slots: Option<u32>,
    /// How errors name it: `llm.endpoints[1]`.
    pub key: String,
}

impl LlmSettings {
    /// The settings of each server to use, in order, with its configured slots: `base_url`
    /// set to the server's, its API key read from the variable `api_key_env` names (else
    /// `api_key`). A variable that is not set is an error naming the key
    /// (`llm.endpoints[1].api_key_env`).
    pub fn each_endpoint(&self) -> Result<Vec<(LlmSettings, Option<u32>)>, String> {
        let mut out = Vec::new();
        for endpoint in self.pool() {
            let mut settings = self.clone();
            settings.base_url = endpoint.base_url.clone();
            settings.endpoints.clear();
            if let Some(name) = &endpoint.api_key_env {
                match std::env::var(name) {
                    Ok(key) if !key.trim().is_empty() => settings.api_key = Some(key),
                    _ => {
                        return Err(format!(
                            "{}.api_key_env: the environment variable `{name}` is not set",
                            endpoint.key
                        ));
                    }
                }
            }
            out.push((settings, endpoint.slots));
        }
        Ok(out)
    }

    /// The settings of the first server (see [`LlmSettings::each_endpoint`]): for what asks one
    /// model one question at a time (the chat, commit messages, the probe).
    pub fn first_endpoint(&self) -> Result<LlmSettings, String> {
        self.each_endpoint().map(|mut all| all.swap_remove(0).0)
    }

    /// The servers to use: `endpoints`, or `base_url` (with `slots`) alone.
    pub fn pool(&self) -> Vec<EndpointSettings> {
        if self.endpoints.is_empty() {
            vec![EndpointSettings {
                base_url: self.base_url.clone(),
                api_key_env: None,
                slots: self.slots,
                key: "llm.base_url".to_owned(),
            }]
        } else {
            self.endpoints.clone()
        }
    }
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            model: None,
            api_key: None,
            headers: BTreeMap::new(),
            stream: true,
            verbose_stream: true,
            stream_print_reasoning: true,
            context_tokens: 8192,
            context_tokens_configured: false,
            timeout: Duration::from_secs(600),
            max_tokens: 1024,
            temperature: 0.2,
            max_retries: 4,
            slots: None,
            endpoints: Vec::new(),
        }
    }
}

/// What the symbol index reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSettings {
    /// Files larger than this are recorded but not parsed.
    pub max_file_bytes: u64,
    /// Extra gitignore-style excludes.
    pub exclude: Vec<String>,
    /// The most source bytes held in memory for callsite search.
    pub search_cache_bytes: u64,
}

impl Default for IndexSettings {
    fn default() -> Self {
        Self {
            max_file_bytes: 2_000_000,
            exclude: Vec::new(),
            search_cache_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Token and wall-clock budgets; `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Budgets {
    /// Tokens per run.
    pub run_tokens: Option<u64>,
    /// Wall-clock time per run.
    pub run_time: Option<Duration>,
    /// Tokens per file.
    pub file_tokens: Option<u64>,
    /// Wall-clock time per file.
    pub file_time: Option<Duration>,
}

/// The whole resolved configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The repository root (as given, made absolute).
    pub root: PathBuf,
    /// Where the settings came from.
    pub source: ConfigSource,
    /// Whether real files may be replaced.
    pub allow_apply: bool,
    /// Whether a missing ruff is an error.
    pub ruff_required: bool,
    /// Whether ripgrep is optional.
    pub rg_optional: bool,
    /// Passes per file in `run`.
    pub max_passes: u32,
    /// The default policy pack.
    pub pack: String,
    /// The most commits a patchset run may create.
    pub patchset_max_commits: u32,
    /// One commit per approved change (debug).
    pub commit_each_approval: bool,
    /// Leading directories that name a module for `noctune patchset --group module`.
    pub patchset_module_depth: u32,
    /// The default model.
    pub llm: LlmSettings,
    /// Named profiles, each fully resolved on top of [`Settings::llm`].
    pub profiles: BTreeMap<String, LlmSettings>,
    /// The profile each stage uses; stages not listed use [`Settings::llm`].
    pub stages: BTreeMap<Stage, String>,
    /// Policy pack options as written (built-in packs are completed by `noctune-gates`).
    pub policy_packs: BTreeMap<String, PolicyPackOptions>,
    /// Index settings.
    pub index: IndexSettings,
    /// Budgets.
    pub budgets: Budgets,
    /// `[approve] mode`: which approver judges changes.
    pub approve_mode: crate::approvers::ApproveMode,
    /// `[studio]`: the Studio daemon's settings.
    pub studio: StudioSettings,
    /// `[task]`: how `noctune task` works.
    pub task: TaskSettings,
}

/// `[task]`: how `noctune task` works from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSettings {
    /// The policy pack a request's changes go through.
    pub pack: String,
    /// Fixes the model may make per step after a verifier failed.
    pub max_retries: u32,
    /// The runtime probe (empty: none).
    pub probe: Vec<String>,
    /// How long the probe may run.
    pub probe_timeout: Duration,
}

impl Default for TaskSettings {
    fn default() -> Self {
        Self {
            pack: "feature".to_owned(),
            max_retries: 3,
            probe: Vec::new(),
            probe_timeout: Duration::from_secs(60),
        }
    }
}

/// `[studio]`: what the Studio daemon's chat may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudioSettings {
    /// Directories the chat's file tools may use (absolute, not yet canonicalised: the chat
    /// resolves them when it uses them). The repository root by default.
    pub allowed_roots: Vec<PathBuf>,
    /// `[studio.mcp_servers.<name>]`: the external MCP servers whose tools the chat offers,
    /// by name.
    pub mcp_servers: BTreeMap<String, super::McpServerSettings>,
}

impl Settings {
    /// The model settings a stage uses.
    pub fn llm_for(&self, stage: Stage) -> &LlmSettings {
        self.stages
            .get(&stage)
            .and_then(|profile| self.profiles.get(profile))
            .unwrap_or(&self.llm)
    }

    /// `<root>/.noctune_cache`.
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join(crate::store::CACHE_DIR)
    }

    /// Resolves raw options. `prefix` is how keys are named in errors (`tool.noctune.`).
    pub(super) fn resolve(
        root: PathBuf,
        source: ConfigSource,
        options: Options,
        env: &EnvOverrides,
    ) -> Result<Self, ConfigError> {
        let name = source.display_name();
        let prefix = source.key_prefix();
        let err = |key: &str, message: String| ConfigError {
            source_name: name.clone(),
            key: Some(format!("{prefix}{key}")),
            message,
        };

        let max_passes = options.max_passes.unwrap_or(3);
        if max_passes == 0 || max_passes > 50 {
            return Err(err(
                "max_passes",
                format!("expected a number from 1 to 50, found {max_passes}"),
            ));
        }
        let patchset_max_commits = options.patchset_max_commits.unwrap_or(5);
        if patchset_max_commits == 0 {
            return Err(err(
                "patchset_max_commits",
                "expected at least 1, found 0".to_owned(),
            ));
        }
        let patchset_module_depth = options.patchset_module_depth.unwrap_or(2);
        if patchset_module_depth == 0 || patchset_module_depth > 20 {
            return Err(err(
                "patchset_module_depth",
                format!("expected a number from 1 to 20, found {patchset_module_depth}"),
            ));
        }

        let llm_options = options.llm.unwrap_or_default();
        let mut llm = LlmSettings::default();
        apply_llm(&mut llm, &profile_of(&llm_options), &|key, msg| {
            err(&format!("llm.{key}"), msg)
        })?;

        // Environment overrides win over the file for the default model: one server.
        if let Some(url) = &env.base_url {
            llm.base_url = check_url(url).map_err(|message| ConfigError {
                source_name: "NOCTUNE_BASE_URL".to_owned(),
                key: None,
                message,
            })?;
            llm.endpoints.clear();
        }
        if let Some(key) = &env.api_key {
            llm.api_key = Some(key.clone());
        }
        if let Some(headers) = env.headers()? {
            llm.headers.extend(headers);
        }

        let mut profiles = BTreeMap::new();
        for (profile_name, profile) in llm_options.profiles.unwrap_or_default() {
            let mut resolved = llm.clone();
            apply_llm(&mut resolved, &profile, &|key, msg| {
                err(&format!("llm.profiles.{profile_name}.{key}"), msg)
            })?;
            profiles.insert(profile_name, resolved);
        }

        let mut stages = BTreeMap::new();
        let stage_options = options.stages.unwrap_or_default();
        for (stage, profile) in [
            (Stage::Review, stage_options.review),
            (Stage::Draft, stage_options.draft),
            (Stage::Edit, stage_options.edit),
            (Stage::Repair, stage_options.repair),
            (Stage::Approve, stage_options.approve),
            (Stage::Plan, stage_options.plan),
            (Stage::Tests, stage_options.tests),
            (Stage::Implement, stage_options.implement),
            (Stage::Analyze, stage_options.analyze),
            (Stage::Format, stage_options.format),
        ] {
            let Some(profile) = profile else { continue };
            if !profiles.contains_key(&profile) {
                let known: Vec<_> = profiles.keys().map(String::as_str).collect();
                return Err(err(
                    &format!("stages.{stage}"),
                    format!(
                        "expected the name of a profile under [{prefix}llm.profiles], found `{profile}` (defined: {})",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            }
            stages.insert(stage, profile);
        }

        let policy_packs = options.policy_packs.unwrap_or_default();
        for (pack_name, pack) in &policy_packs {
            if let Some(risk) = pack.auto_approve.as_ref().and_then(|a| a.max_risk)
                && !(0.0..=1.0).contains(&risk)
            {
                return Err(err(
                    &format!("policy_packs.{pack_name}.auto_approve.max_risk"),
                    format!("expected a number from 0.0 to 1.0, found {risk}"),
                ));
            }
            for tool in pack.tools_allowed.iter().flatten() {
                if let Some(message) = crate::tool::check_name(tool) {
                    return Err(err(
                        &format!("policy_packs.{pack_name}.tools_allowed"),
                        message,
                    ));
                }
            }
            if let Some(command) = &pack.test_command
                && command
                    .first()
                    .is_none_or(|program| program.trim().is_empty())
            {
                return Err(err(
                    &format!("policy_packs.{pack_name}.test_command"),
                    "expected a program and its arguments (`[\"python\", \"-m\", \"pytest\"]`), \
                     found an empty program"
                        .to_owned(),
                ));
            }
            if pack.test_timeout_s == Some(0) {
                return Err(err(
                    &format!("policy_packs.{pack_name}.test_timeout_s"),
                    "expected at least 1, found 0".to_owned(),
                ));
            }
        }

        let index_options = options.index.unwrap_or_default();
        let defaults = IndexSettings::default();
        let index = IndexSettings {
            max_file_bytes: index_options
                .max_file_bytes
                .unwrap_or(defaults.max_file_bytes),
            exclude: index_options.exclude.unwrap_or_default(),
            search_cache_bytes: index_options
                .search_cache_bytes
                .unwrap_or(defaults.search_cache_bytes),
        };

        let budget_options = options.budgets.unwrap_or_default();
        for (key, value) in [
            ("run_tokens", budget_options.run_tokens),
            ("run_minutes", budget_options.run_minutes),
            ("file_tokens", budget_options.file_tokens),
            ("file_minutes", budget_options.file_minutes),
        ] {
            if value == Some(0) {
                return Err(err(
                    &format!("budgets.{key}"),
                    "expected a number above 0 (leave the key out for no limit), found 0"
                        .to_owned(),
                ));
            }
        }
        let minutes = |m: Option<u64>| m.map(|m| Duration::from_secs(m * 60));
        let budgets = Budgets {
            run_tokens: budget_options.run_tokens,
            run_time: minutes(budget_options.run_minutes),
            file_tokens: budget_options.file_tokens,
            file_time: minutes(budget_options.file_minutes),
        };

        let approve_mode = match options.approve.and_then(|a| a.mode) {
            None => crate::approvers::ApproveMode::default(),
            Some(mode) => mode
                .parse()
                .map_err(|message| err("approve.mode", message))?,
        };

        let studio = resolve_studio(&root, options.studio.unwrap_or_default(), &err)?;
        let task_options = options.task.unwrap_or_default();
        let defaults = TaskSettings::default();
        if task_options.probe.as_ref().is_some_and(|p| p.is_empty()) {
            return Err(err(
                "task.probe",
                "expected a program and its arguments, found an empty list".to_owned(),
            ));
        }
        if task_options.probe_timeout_s == Some(0) {
            return Err(err(
                "task.probe_timeout_s",
                "expected a number of seconds above 0".to_owned(),
            ));
        }
        let task = TaskSettings {
            pack: task_options.pack.unwrap_or(defaults.pack),
            max_retries: task_options.max_retries.unwrap_or(defaults.max_retries),
            probe: task_options.probe.unwrap_or_default(),
            probe_timeout: task_options
                .probe_timeout_s
                .map_or(defaults.probe_timeout, Duration::from_secs),
        };

        Ok(Self {
            root,
            source,
            allow_apply: options.allow_apply.unwrap_or(false),
            ruff_required: options.ruff_required.unwrap_or(true),
            rg_optional: options.rg_optional.unwrap_or(true),
            max_passes,
            pack: options.pack.unwrap_or_else(|| DEFAULT_PACK.to_owned()),
            patchset_max_commits,
            commit_each_approval: options.commit_each_approval.unwrap_or(false),
            patchset_module_depth,
            llm,
            profiles,
            stages,
            policy_packs,
            index,
            budgets,
            approve_mode,
            studio,
            task,
        })
    }
}

/// `[studio]`: `allowed_roots` non-empty, each entry a non-empty path without NUL, made
/// absolute against the root; `mcp_servers` checked.
fn resolve_studio(
    root: &std::path::Path,
    options: super::options::StudioOptions,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<StudioSettings, ConfigError> {
    let mcp_servers = super::mcp_servers::resolve_mcp_servers(
        root,
        options.mcp_servers.unwrap_or_default(),
        err,
    )?;
    let Some(given) = options.allowed_roots else {
        return Ok(StudioSettings {
            allowed_roots: vec![root.to_path_buf()],
            mcp_servers,
        });
    };
    if given.is_empty() {
        return Err(err(
            "studio.allowed_roots",
            "expected at least one directory (leave the key out for the repository root)"
                .to_owned(),
        ));
    }
    let mut allowed_roots = Vec::new();
    for (i, entry) in given.iter().enumerate() {
        let text = entry.trim();
        if text.is_empty() || text.contains('\0') {
            return Err(err(
                &format!("studio.allowed_roots[{i}]"),
                format!(
                    "expected a directory path, found `{}`",
                    entry.escape_debug()
                ),
            ));
        }
        let path = std::path::Path::new(text);
        allowed_roots.push(if path.is_absolute() {
            path.to_path_buf()
        } else {
            root.join(path)
        });
    }
    Ok(StudioSettings {
        allowed_roots,
        mcp_servers,
    })
}

fn profile_of(options: &LlmOptions) -> LlmProfileOptions {
    LlmProfileOptions {
        base_url: options.base_url.clone(),
        model: options.model.clone(),
        api_key: options.api_key.clone(),
        headers: options.headers.clone(),
        stream: options.stream,
        verbose_stream: options.verbose_stream,
        stream_print_reasoning: options.stream_print_reasoning,
        context_tokens: options.context_tokens,
        timeout_s: options.timeout_s,
        max_tokens: options.max_tokens,
        temperature: options.temperature,
        max_retries: options.max_retries,
        slots: options.slots,
        endpoints: options.endpoints.clone(),
    }
}

fn apply_llm(
    llm: &mut LlmSettings,
    options: &LlmProfileOptions,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if let Some(url) = &options.base_url {
        llm.base_url = check_url(url).map_err(|message| err("base_url", message))?;
    }
    if let Some(model) = &options.model {
        llm.model = Some(model.clone()).filter(|m| !m.is_empty());
    }
    if let Some(key) = &options.api_key {
        llm.api_key = Some(key.clone()).filter(|k| !k.is_empty());
    }
    if let Some(headers) = &options.headers {
        llm.headers.extend(headers.clone());
    }
    if let Some(stream) = options.stream {
        llm.stream = stream;
    }
    if let Some(verbose) = options.verbose_stream {
        llm.verbose_stream = verbose;
    }
    if let Some(reasoning) = options.stream_print_reasoning {
        llm.stream_print_reasoning = reasoning;
    }
    if let Some(tokens) = options.context_tokens {
        if tokens < 512 {
            return Err(err(
                "context_tokens",
                format!("expected at least 512 tokens, found {tokens}"),
            ));
        }
        llm.context_tokens = tokens;
        llm.context_tokens_configured = true;
    }
    if let Some(timeout) = options.timeout_s {
        if timeout == 0 {
            return Err(err(
                "timeout_s",
                "expected a number of seconds above 0, found 0".to_owned(),
            ));
        }
        llm.timeout = Duration::from_secs(timeout);
    }
    if let Some(max_tokens) = options.max_tokens {
        if max_tokens == 0 {
            return Err(err("max_tokens", "expected at least 1, found 0".to_owned()));
        }
        llm.max_tokens = max_tokens;
    }
    if let Some(temperature) = options.temperature {
        if !(0.0..=2.0).contains(&temperature) {
            return Err(err(
                "temperature",
                format!("expected a number from 0.0 to 2.0, found {temperature}"),
            ));
        }
        llm.temperature = temperature;
    }
    if let Some(retries) = options.max_retries {
        llm.max_retries = retries;
    }
    if let Some(slots) = options.slots {
        llm.slots = Some(check_slots(slots).map_err(|message| err("slots", message))?);
    }
    if let Some(endpoints) = &options.endpoints {
        if endpoints.is_empty() {
            return Err(err(
                "endpoints",
                "expected at least one `{ base_url = \"http://...\" }` (leave the key out to use `base_url`)".to_owned(),
            ));
        }
        llm.endpoints.clear();
        for (i, endpoint) in endpoints.iter().enumerate() {
            let key = format!("endpoints[{i}]");
            let base_url = check_url(&endpoint.base_url)
                .map_err(|message| err(&format!("{key}.base_url"), message))?;
            if llm.endpoints.iter().any(|e| e.base_url == base_url) {
                return Err(err(
                    &format!("{key}.base_url"),
                    format!("`{base_url}` is listed twice"),
                ));
            }
            let api_key_env = match &endpoint.api_key_env {
                Some(name) if name.trim().is_empty() || name.contains('=') => {
                    return Err(err(
                        &format!("{key}.api_key_env"),
                        format!("expected the name of an environment variable, found `{name}`"),
                    ));
                }
                other => other.clone(),
            };
            let slots = match endpoint.slots {
                Some(slots) => Some(
                    check_slots(slots).map_err(|message| err(&format!("{key}.slots"), message))?,
                ),
                None => None,
            };
            llm.endpoints.push(EndpointSettings {
                base_url,
                api_key_env,
                slots,
                // The key as errors name it, with the file's prefix and the profile.
                key: err(&key, String::new()).key.unwrap_or(key),
            });
        }
    }
    Ok(())
}

/// Slots of one server: 1 to 64.
fn check_slots(slots: u32) -> Result<u32, String> {
    if (1..=64).contains(&slots) {
        Ok(slots)
    } else {
        Err(format!(
            "expected a number of slots from 1 to 64, found {slots}"
        ))
    }
}

/// Checks a base URL and drops a trailing slash.
fn check_url(url: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(trimmed.to_owned()),
        _ => Err(format!(
            "expected an http:// or https:// URL such as `{DEFAULT_BASE_URL}`, found `{url}`"
        )),
    }
}
