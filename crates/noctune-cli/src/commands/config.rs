//! `noctune config`: the resolved configuration.

use std::io::Write;

use noctune_core::EnvOverrides;
use noctune_core::config::{self, LlmSettings, Settings};

use crate::args::{ConfigArgs, GlobalArgs, OutputFormat};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Loads the configuration and prints it; a bad configuration is an error (exit 2).
pub fn run(global: &GlobalArgs, _args: &ConfigArgs) -> anyhow::Result<ExitStatus> {
    let settings = config::load(&global.root, &EnvOverrides::from_process())?;
    let value = to_json(&settings);
    match global.output_format {
        OutputFormat::Json => print_json(&value)?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            let source = settings
                .source
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "defaults (no noctune.toml or [tool.noctune])".to_owned());
            writeln!(out, "# from {source}")?;
            if let serde_json::Value::Object(map) = &value {
                for (key, value) in map {
                    writeln!(out, "{key} = {value}")?;
                }
            }
        }
    }
    Ok(ExitStatus::Success)
}

fn to_json(settings: &Settings) -> serde_json::Value {
    let profiles: serde_json::Map<_, _> = settings
        .profiles
        .iter()
        .map(|(name, llm)| (name.clone(), llm_json(llm)))
        .collect();
    let stages: serde_json::Map<_, _> = settings
        .stages
        .iter()
        .map(|(stage, profile)| (stage.to_string(), profile.clone().into()))
        .collect();
    serde_json::json!({
        "source": settings.source.path().map(|p| p.display().to_string()),
        "root": settings.root.display().to_string(),
        "allow_apply": settings.allow_apply,
        "ruff_required": settings.ruff_required,
        "rg_optional": settings.rg_optional,
        "max_passes": settings.max_passes,
        "pack": settings.pack,
        "patchset_max_commits": settings.patchset_max_commits,
        "commit_each_approval": settings.commit_each_approval,
        "patchset_module_depth": settings.patchset_module_depth,
        "llm": llm_json(&settings.llm),
        "profiles": profiles,
        "stages": stages,
        "policy_packs": serde_json::to_value(&settings.policy_packs).unwrap_or_default(),
        "index": {
            "max_file_bytes": settings.index.max_file_bytes,
            "exclude": settings.index.exclude,
            "search_cache_bytes": settings.index.search_cache_bytes,
        },
    })
}

/// The model settings, with the API key and header values redacted.
fn llm_json(llm: &LlmSettings) -> serde_json::Value {
    let headers: serde_json::Map<_, _> = llm
        .headers
        .keys()
        .map(|name| (name.clone(), "<redacted>".into()))
        .collect();
    serde_json::json!({
        "base_url": llm.base_url,
        "model": llm.model,
        "api_key": llm.api_key.as_ref().map(|_| "<redacted>"),
        "headers": headers,
        "stream": llm.stream,
        "verbose_stream": llm.verbose_stream,
        "stream_print_reasoning": llm.stream_print_reasoning,
        "context_tokens": llm.context_tokens,
        // Unset, a run uses the server's context size found by the calibration probe.
        "context_tokens_from": if llm.context_tokens_configured {
            "config"
        } else {
            "the model probe (`noctune probe`), else this default"
        },
        "timeout_s": llm.timeout.as_secs(),
        "max_tokens": llm.max_tokens,
        "temperature": llm.temperature,
        "max_retries": llm.max_retries,
    })
}
