//! Raw options: the config file as written. Every field is optional; unknown keys are
//! rejected. [`Settings`](super::Settings) resolves them against the defaults.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::policy::PolicyPackOptions;

/// `[tool.noctune]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Whether a run may replace real files (default false: proposals only).
    pub allow_apply: Option<bool>,
    /// Whether a missing `ruff` is an error (default true).
    pub ruff_required: Option<bool>,
    /// Whether ripgrep is optional (default true: in-process search when it is absent).
    pub rg_optional: Option<bool>,
    /// Review → draft → edit → approve passes per file in `run` (default 3).
    pub max_passes: Option<u32>,
    /// The default policy pack for runs (default `lint_fix`).
    pub pack: Option<String>,
    /// The most commits a patchset run may create (default 5).
    pub patchset_max_commits: Option<u32>,
    /// Debug mode: one commit per approved change.
    pub commit_each_approval: Option<bool>,
    /// How many leading directories name a module when patchsets are grouped by module
    /// (default 2: `src/pkg/a.py` → `src/pkg`).
    pub patchset_module_depth: Option<u32>,
    /// `[tool.noctune.llm]`.
    pub llm: Option<LlmOptions>,
    /// `[tool.noctune.stages]`: the model profile per stage.
    pub stages: Option<StageOptions>,
    /// `[tool.noctune.policy_packs.<name>]`.
    pub policy_packs: Option<BTreeMap<String, PolicyPackOptions>>,
    /// `[tool.noctune.index]`.
    pub index: Option<IndexOptions>,
    /// `[tool.noctune.budgets]`.
    pub budgets: Option<BudgetOptions>,
    /// `[tool.noctune.approve]`.
    pub approve: Option<ApproveOptions>,
    /// `[tool.noctune.studio]`.
    pub studio: Option<StudioOptions>,
    /// `[tool.noctune.task]`.
    pub task: Option<TaskOptions>,
}

/// `[tool.noctune.task]`: how `noctune task` works from a request.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskOptions {
    /// The policy pack a request's changes go through (default `feature`).
    pub pack: Option<String>,
    /// Fixes the model may make per step after a verifier failed (default 3).
    pub max_retries: Option<u32>,
    /// A runtime probe run in the work copy after the tests (`["python", "-m", "pkg",
    /// "--help"]`; no shell); none by default.
    pub probe: Option<Vec<String>>,
    /// Seconds the probe may run (default 60).
    pub probe_timeout_s: Option<u64>,
}

/// `[tool.noctune.studio]`: what the Studio daemon's chat may touch.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudioOptions {
    /// Directories the chat's file tools may read and write, relative to the repository root
    /// (or absolute); default the repository root alone.
    pub allowed_roots: Option<Vec<String>>,
    /// `[tool.noctune.studio.mcp_servers.<name>]`: external MCP servers whose tools the chat
    /// offers to the model as `<name>__<tool>`.
    pub mcp_servers: Option<BTreeMap<String, McpServerOptions>>,
}

/// `[tool.noctune.studio.mcp_servers.<name>]`: one external MCP server, started by the
/// daemon as a child process speaking MCP over stdio.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpServerOptions {
    /// The program: a name looked up on `PATH`, an absolute path, or a path relative to the
    /// repository root (when it contains a `/`). Required.
    pub command: Option<String>,
    /// Its arguments (no shell).
    pub args: Option<Vec<String>>,
    /// Environment variables set for it, on top of the few it inherits (`PATH`, `HOME`,
    /// locale, `TMPDIR`).
    pub env: Option<BTreeMap<String, String>>,
    /// Seconds one tool call may take before it is given up (default 60).
    pub timeout_s: Option<u64>,
    /// Seconds the start (the MCP handshake and the tool list) may take (default 60).
    pub start_timeout_s: Option<u64>,
}

/// `[tool.noctune.approve]`: who judges a change before the policy pack decides.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveOptions {
    /// `llm` (the model judges every change), `signals` (proofs and risk signals, no model:
    /// what is not proven goes to a human) or `chain` (proofs first, the model for the rest;
    /// the default).
    pub mode: Option<String>,
}

/// `[tool.noctune.budgets]`: limits that pause work with its state saved (never mid-write).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetOptions {
    /// Model tokens (prompt + answer) one run may use before it stops (resumable).
    pub run_tokens: Option<u64>,
    /// Wall-clock minutes one `noctune run` invocation may take before the run stops
    /// (resumable).
    pub run_minutes: Option<u64>,
    /// Model tokens one file may use in a run before it is set aside for a later resume.
    pub file_tokens: Option<u64>,
    /// Wall-clock minutes one file may take before it is set aside for a later resume.
    pub file_minutes: Option<u64>,
}

/// `[tool.noctune.llm]`: the model endpoint and how to talk to it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmOptions {
    /// The OpenAI-compatible base URL, up to and including `/v1`.
    pub base_url: Option<String>,
    /// The model name sent with each request.
    pub model: Option<String>,
    /// Sent as `Authorization: Bearer <api_key>`.
    pub api_key: Option<String>,
    /// Extra HTTP headers.
    pub headers: Option<BTreeMap<String, String>>,
    /// Whether to stream answers (SSE).
    pub stream: Option<bool>,
    /// With `-v`: print the streamed answer.
    pub verbose_stream: Option<bool>,
    /// With `-v`: print `reasoning_content` too.
    pub stream_print_reasoning: Option<bool>,
    /// The context budget every prompt must fit, in tokens.
    pub context_tokens: Option<u32>,
    /// Seconds to wait for an answer (and between stream chunks).
    pub timeout_s: Option<u64>,
    /// Default `max_tokens` for answers.
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Retries for retryable failures.
    pub max_retries: Option<u32>,
    /// Requests the `base_url` server answers at once (llama.cpp's `--parallel`); unset: what
    /// the server's `/props` says (`total_slots`), else 1.
    pub slots: Option<u32>,
    /// Several servers of the same model, used together: a run keeps as many files in flight
    /// as they have slots. Replaces `base_url` when given.
    pub endpoints: Option<Vec<EndpointOptions>>,
    /// `[tool.noctune.llm.profiles.<name>]`: named overrides of the fields above.
    pub profiles: Option<BTreeMap<String, LlmProfileOptions>>,
}

/// A named model profile: any field of `[tool.noctune.llm]` except `profiles`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmProfileOptions {
    /// See [`LlmOptions::base_url`].
    pub base_url: Option<String>,
    /// See [`LlmOptions::model`].
    pub model: Option<String>,
    /// See [`LlmOptions::api_key`].
    pub api_key: Option<String>,
    /// See [`LlmOptions::headers`].
    pub headers: Option<BTreeMap<String, String>>,
    /// See [`LlmOptions::stream`].
    pub stream: Option<bool>,
    /// See [`LlmOptions::verbose_stream`].
    pub verbose_stream: Option<bool>,
    /// See [`LlmOptions::stream_print_reasoning`].
    pub stream_print_reasoning: Option<bool>,
    /// See [`LlmOptions::context_tokens`].
    pub context_tokens: Option<u32>,
    /// See [`LlmOptions::timeout_s`].
    pub timeout_s: Option<u64>,
    /// See [`LlmOptions::max_tokens`].
    pub max_tokens: Option<u32>,
    /// See [`LlmOptions::temperature`].
    pub temperature: Option<f32>,
    /// See [`LlmOptions::max_retries`].
    pub max_retries: Option<u32>,
    /// See [`LlmOptions::slots`].
    pub slots: Option<u32>,
    /// See [`LlmOptions::endpoints`].
    pub endpoints: Option<Vec<EndpointOptions>>,
}

/// One server of `[tool.noctune.llm] endpoints = [{ base_url, api_key_env?, slots? }, ...]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointOptions {
    /// The server's OpenAI-compatible base URL, up to and including `/v1`.
    pub base_url: String,
    /// The environment variable holding this server's API key (else `api_key` is used).
    pub api_key_env: Option<String>,
    /// Requests it answers at once; unset: its `/props` `total_slots`, else 1.
    pub slots: Option<u32>,
}

/// `[tool.noctune.stages]`: which profile each stage uses.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageOptions {
    /// Profile for the review stage.
    pub review: Option<String>,
    /// Profile for the draft stage.
    pub draft: Option<String>,
    /// Profile for the edit stage.
    pub edit: Option<String>,
    /// Profile for the repair stage.
    pub repair: Option<String>,
    /// Profile for the approve stage.
    pub approve: Option<String>,
    /// Profile for a request's plan (`noctune task`).
    pub plan: Option<String>,
    /// Profile for a request's tests.
    pub tests: Option<String>,
    /// Profile for a request's code.
    pub implement: Option<String>,
    /// Profile of `noctune commit`'s diff analysis.
    pub analyze: Option<String>,
    /// Profile of `noctune commit`'s message formatting.
    pub format: Option<String>,
}

/// `[tool.noctune.index]`: what the symbol index reads.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexOptions {
    /// Files larger than this many bytes are recorded but not parsed.
    pub max_file_bytes: Option<u64>,
    /// Extra gitignore-style patterns to leave out.
    pub exclude: Option<Vec<String>>,
    /// The most source bytes held in memory for callsite search.
    pub search_cache_bytes: Option<u64>,
}
