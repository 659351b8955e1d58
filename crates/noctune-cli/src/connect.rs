//! The model of a run, connected: every endpoint of `[llm]` (`base_url`, or `endpoints`) is
//! checked (health, models, context size, slots), each that answers is calibrated, and
//! the ones that answer are pooled. An endpoint that is down is reported and skipped; the run
//! stops before anything is written only when none answers.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use noctune_core::LlmError;
use noctune_core::config::{LlmSettings, Settings};
use noctune_core::llm::Calibration;
use noctune_llm::{
    EndpointFacts, EndpointPool, OpenAiClient, PoolMember, PoolOptions, RetryPolicy,
    TranscriptSink, check_endpoint,
};

use crate::compose::{calibrate, openai, with_probed_context};

/// A connected model: the pool of its endpoints, the probe's records and the settings with the
/// probed context.
pub struct Connected {
    /// The endpoints that answered, with their slots.
    pub pool: EndpointPool,
    /// The probe's record of each endpoint that answered, in the configuration's order (the
    /// settings start from the first one's).
    pub calibrations: Vec<Calibration>,
    /// `llm` with the smallest context of the endpoints when the configuration sets none.
    pub settings: LlmSettings,
}

/// The settings of each endpoint of `llm` ([`LlmSettings::each_endpoint`]). In a pool of
/// several, a failing call goes to another endpoint at once: the pool retries, not each
/// endpoint's client.
fn endpoint_settings(llm: &LlmSettings) -> anyhow::Result<Vec<(LlmSettings, Option<u32>)>> {
    let mut all = llm
        .each_endpoint()
        .map_err(|why| anyhow::anyhow!("{why}; nothing was changed"))?;
    if all.len() > 1 {
        for (settings, _) in &mut all {
            settings.max_retries = 0;
        }
    }
    Ok(all)
}

/// The endpoints of a model, checked: at least one answers. Nothing is written yet.
pub struct Checked {
    llm: LlmSettings,
    endpoints: Vec<(LlmSettings, Option<u32>)>,
    /// What each endpoint's check found (the pool is built from it, not checked again).
    checks: Vec<Result<EndpointFacts, LlmError>>,
    smallest_context: Option<u32>,
}

/// Checks the endpoints of `llm` (health, models, context size). Down endpoints are named on
/// stderr; none answering is an error that says where it looked and how to start a server.
/// Writes nothing.
pub async fn check(settings: &Settings, llm: &LlmSettings) -> anyhow::Result<Checked> {
    let endpoints = endpoint_settings(llm)?;
    let bare: Vec<OpenAiClient> = endpoints
        .iter()
        .map(|(s, _)| OpenAiClient::new(s.clone()))
        .collect::<Result<_, _>>()?;
    let checks = futures_util::future::join_all(bare.iter().map(check_endpoint)).await;
    let mut smallest_context: Option<u32> = None;
    let mut errors = Vec::new();
    for ((endpoint, _), check) in endpoints.iter().zip(&checks) {
        match check {
            Ok(facts) => {
                if let Some(window) = facts.context_tokens {
                    smallest_context = Some(smallest_context.map_or(window, |s| s.min(window)));
                }
                if let Some(warning) = facts.model_warning(endpoint.model.as_deref()) {
                    warn(&format!(
                        "the model endpoint {}: {warning}",
                        endpoint.base_url
                    ));
                }
            }
            Err(err) => errors.push(err.to_string()),
        }
    }
    if !checks.iter().any(Result::is_ok) {
        bail!(
            "{}\n  start an OpenAI-compatible server there (llama.cpp's `llama-server`, or \
             `scripts/llm-server start` in Noctune's repository: Qwen2.5-Coder 0.5B on llama.cpp), \
             or point `llm.base_url` ({}) or NOCTUNE_BASE_URL at one; nothing was changed",
            errors.join("\n"),
            settings
                .source
                .path()
                .map_or_else(|| "noctune.toml".to_owned(), |p| p.display().to_string())
        );
    }
    for error in &errors {
        warn(&format!(
            "{error}; the run goes on with the other endpoints"
        ));
    }
    Ok(Checked {
        llm: llm.clone(),
        endpoints,
        checks,
        smallest_context,
    })
}

impl Checked {
    /// Calibrates the model on each endpoint that answered (`.noctune_cache/models/`) and
    /// pools the endpoints; clients record to `transcript` and stream to stderr with
    /// `verbose`.
    pub async fn connect(
        self,
        root: &Path,
        verbose: u8,
        transcript: Option<&Arc<dyn TranscriptSink>>,
    ) -> anyhow::Result<Connected> {
        // Each endpoint that answered is calibrated (cached per server), and its client starts
        // from its own record; the settings start from the first one's, and the run keeps all.
        let mut calibrations = Vec::new();
        for ((endpoint, _), check) in self.endpoints.iter().zip(&self.checks) {
            calibrations.push(if check.is_ok() {
                Some(calibrate(root, endpoint, false).await?.calibration)
            } else {
                None
            });
        }
        let Some(calibration) = calibrations.iter().flatten().next().cloned() else {
            bail!("no model endpoint answered; nothing was changed");
        };
        let mut settings = with_probed_context(&self.llm, &calibration);
        if !settings.context_tokens_configured
            && let Some(window) = self.smallest_context
        {
            settings.context_tokens = settings.context_tokens.min(window);
        }
        let members = self
            .endpoints
            .into_iter()
            .zip(&calibrations)
            .map(|((endpoint, slots), probed)| {
                Ok(PoolMember {
                    client: openai(endpoint, verbose, transcript, probed.as_ref())?,
                    slots,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let (pool, _) = EndpointPool::checked(
            members,
            self.checks,
            PoolOptions {
                retry: RetryPolicy::from_settings(&self.llm),
                ..PoolOptions::default()
            },
        )?;
        Ok(Connected {
            pool,
            calibrations: calibrations.into_iter().flatten().collect(),
            settings,
        })
    }
}

fn warn(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {text}");
}
