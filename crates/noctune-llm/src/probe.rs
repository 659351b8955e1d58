//! The calibration probe: on first contact with a model, a few tiny asks find which answer
//! formats the server and model handle (grammar, json_schema, json_object, fenced), how fast
//! the model reads and writes, and its context size. The record is cached per (base URL,
//! model id) under `.noctune_cache/models/`, with the server's fingerprint inside: a server
//! restarted with another build, model file or context size is probed again.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use noctune_core::answer::extract_python_block;
use noctune_core::llm::{
    Calibration, FormatCheck, PYTHON_BLOCK_GBNF, ProbeFormat, SpeedSource, estimate_tokens,
};
use noctune_core::store::{ModelCache, ModelLookup};
use noctune_core::{AnswerFormat, ChatRequest, ChatResponse, FinishReason, LlmError, LlmErrorKind};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::budget::{side_json, window_of};
use crate::client::{OpenAiClient, redacted};
use crate::fallback::WireFormat;
use crate::transcript::{Exchange, TranscriptSink};
use crate::wire::excerpt;

/// The system message of every probe request; servers (and the test server) can tell a probe
/// by it.
pub const PROBE_SYSTEM: &str = "Noctune calibration probe: answer exactly as asked, briefly.";

/// `max_tokens` of a format ask: enough for `{"answer": 5}` or a one-line python block.
const FORMAT_MAX_TOKENS: u32 = 32;
/// `max_tokens` of the speed ask (counting to 15 takes about 30).
const SPEED_MAX_TOKENS: u32 = 40;

/// Code the speed ask shows, so the prompt is long enough to time its reading (~150 tokens).
const SPEED_PROMPT_CODE: &str = r##"def parse_config(path, defaults={}):
    result = dict(defaults)
    f = open(path)
    for line in f.readlines():
        line = line.strip()
        if line == "" or line.startswith("#"):
            continue
        if not "=" in line:
            raise ValueError("bad line: %s" % line)
        key, value = line.split("=", 1)
        result[key.strip().lower()] = value.strip()
    f.close()
    return result
"##;

/// What the server says about itself, and the model id the probe is for.
#[derive(Debug, Clone, PartialEq)]
struct ServerFacts {
    model: String,
    fingerprint: String,
    context_tokens: Option<u32>,
}

/// Where a calibration came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeOutcome {
    /// The record.
    pub calibration: Calibration,
    /// Its file under `.noctune_cache/models/`.
    pub path: PathBuf,
    /// `true` when the probe ran now, `false` when the cached record was used.
    pub fresh: bool,
    /// A warning for people: the cached file that could not be read and was replaced.
    pub warning: Option<String>,
}

/// The model's calibration from `cache` when the server's fingerprint matches, else probes it
/// (always with `force`) and stores the record atomically. A cache file that is not a probe
/// record is probed again, with a warning naming it.
///
/// Fails when the server cannot be identified or a probe ask fails in transport (connection,
/// timeout, a broken stream): such a probe says nothing about formats and is not cached.
pub async fn calibrate_cached(
    client: &OpenAiClient,
    cache: &ModelCache,
    force: bool,
) -> Result<ProbeOutcome, noctune_core::Error> {
    let facts = identify(client).await?;
    let base_url = redacted(&client.settings().base_url);
    let key = ModelCache::key(&base_url, &facts.model);
    let mut warning = None;
    if !force {
        match cache.lookup(&key, &facts.fingerprint) {
            ModelLookup::Hit(calibration) => {
                return Ok(ProbeOutcome {
                    path: cache.path(&key),
                    calibration: *calibration,
                    fresh: false,
                    warning: None,
                });
            }
            ModelLookup::Miss => {}
            ModelLookup::Corrupt { path, message } => {
                let text = format!(
                    "the model probe record `{}` is not valid ({message}); probing the model again",
                    path.display()
                );
                tracing::warn!("{text}");
                warning = Some(text);
            }
        }
    }
    let calibration = calibrate(client, &facts, key, base_url).await?;
    let path = cache.store(&calibration)?;
    Ok(ProbeOutcome {
        calibration,
        path,
        fresh: true,
        warning,
    })
}

/// Asks the server who it is: llama.cpp's `GET /props` (build, model path, `n_ctx`) and
/// `GET /v1/models`. Either may be missing. While neither gives a definitive answer (llama.cpp
/// answers 503 while it loads the model) it asks again, for as long as the retry policy waits
/// for a loading model; then there is no server to probe.
async fn identify(client: &OpenAiClient) -> Result<ServerFacts, LlmError> {
    let base = client.settings().base_url.trim_end_matches('/').to_owned();
    let retry = client.retry_policy();
    let started = Instant::now();
    loop {
        let props = side_json(client.http().get(format!("{}/props", client.root_url()))).await;
        let models = side_json(client.http().get(format!("{base}/models"))).await;
        if props.is_ok() || models.is_ok() {
            let props = props.ok().flatten().unwrap_or(Value::Null);
            let models = models.ok().flatten().unwrap_or(Value::Null);
            return Ok(facts(client.settings().model.as_deref(), &props, &models));
        }
        if started.elapsed() >= retry.loading_wait {
            return Err(LlmError::new(
                LlmErrorKind::Connect,
                format!(
                    "cannot identify the model server at {}: neither `GET /props` nor \
                     `GET /v1/models` answered within {} s",
                    redacted(&base),
                    retry.loading_wait.as_secs()
                ),
            ));
        }
        tracing::info!("the model server is not ready (loading?); asking again");
        tokio::time::sleep(retry.loading_poll).await;
    }
}

/// The facts from the two bodies (`Value::Null` for one the server does not have).
fn facts(configured: Option<&str>, props: &Value, models: &Value) -> ServerFacts {
    let listed: Vec<Value> = models
        .get("data")
        .and_then(Value::as_array)
        .map(|data| {
            data.iter()
                // `created` is the time of the request on llama.cpp: not a property of the model.
                .map(|m| json!({"id": m.get("id"), "owned_by": m.get("owned_by"), "meta": m.get("meta")}))
                .collect()
        })
        .unwrap_or_default();
    let model_path = props.get("model_path").and_then(Value::as_str);
    let model = configured
        .map(str::to_owned)
        .or_else(|| {
            listed
                .first()
                .and_then(|m| m.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .or_else(|| model_path.map(str::to_owned))
        .unwrap_or_else(|| "unknown-model".to_owned());
    let context_tokens = window_of(props);
    let material = json!({
        "build_info": props.get("build_info"),
        "model_path": model_path,
        "n_ctx": context_tokens,
        "total_slots": props.get("total_slots"),
        "models": listed,
    });
    let digest = Sha256::digest(material.to_string().as_bytes());
    ServerFacts {
        model,
        fingerprint: digest.iter().take(16).map(|b| format!("{b:02x}")).collect(),
        context_tokens,
    }
}

/// Runs the asks: one per format, then the speed ask.
async fn calibrate(
    client: &OpenAiClient,
    facts: &ServerFacts,
    key: String,
    base_url: String,
) -> Result<Calibration, LlmError> {
    let started = Instant::now();
    let mut formats = Vec::new();
    for format in ProbeFormat::ALL {
        formats.push(check_format(client, format).await?);
    }
    let (prompt_tps, answer_tps, source) = measure_speed(client).await?;
    Ok(Calibration {
        key,
        base_url,
        model: facts.model.clone(),
        fingerprint: facts.fingerprint.clone(),
        probed_at: jiff::Timestamp::now().to_string(),
        formats,
        prompt_tokens_per_second: prompt_tps,
        answer_tokens_per_second: answer_tps,
        speed_source: source,
        context_tokens: facts.context_tokens,
        probe_seconds: round1(started.elapsed().as_secs_f64()),
    })
}

/// A probe request: the probe's system message, temperature 0, a small answer.
fn ask(user: &str, answer: AnswerFormat, max_tokens: u32) -> ChatRequest {
    let mut request = ChatRequest::system_user(PROBE_SYSTEM, user)
        .with_answer(answer)
        .with_max_tokens(max_tokens)
        .with_purpose("probe");
    request.temperature = Some(0.0);
    request
}

/// The tiny schema of the JSON asks.
fn answer_schema() -> AnswerFormat {
    AnswerFormat::JsonSchema {
        name: "ProbeAnswer".into(),
        schema: json!({
            "type": "object",
            "properties": {"answer": {"type": "integer"}},
            "required": ["answer"],
            "additionalProperties": false,
        }),
    }
}

/// Tries one format; a refusal or a misshapen answer is a failing check, a transport failure
/// an error.
async fn check_format(client: &OpenAiClient, format: ProbeFormat) -> Result<FormatCheck, LlmError> {
    let (request, wire) = match format {
        ProbeFormat::Grammar | ProbeFormat::Fenced => (
            ask(
                "Write the Python statement `x = 1` in a fenced ```python block.",
                AnswerFormat::Grammar {
                    gbnf: PYTHON_BLOCK_GBNF.to_owned(),
                },
                FORMAT_MAX_TOKENS,
            ),
            WireFormat::from(format),
        ),
        ProbeFormat::JsonSchema | ProbeFormat::JsonObject => (
            ask(
                "What is 2 + 3? Answer with the JSON object {\"answer\": <the number>}.",
                answer_schema(),
                FORMAT_MAX_TOKENS,
            ),
            WireFormat::from(format),
        ),
    };
    let failed = |reason: String| FormatCheck {
        format,
        works: false,
        reason: Some(reason),
    };
    let response = match client.chat_in(&request, wire).await {
        Ok(response) => response,
        Err(err) if is_transport(&err) => return Err(err),
        Err(err) => return Ok(failed(err.message)),
    };
    let shape = match format {
        ProbeFormat::Grammar | ProbeFormat::Fenced => python_block(&response),
        ProbeFormat::JsonSchema | ProbeFormat::JsonObject => answer_object(&response),
    };
    Ok(match shape {
        Ok(()) => FormatCheck {
            format,
            works: true,
            reason: None,
        },
        Err(why) => failed(why),
    })
}

/// Errors that say nothing about the format: the server could not be reached or the answer
/// did not arrive whole.
fn is_transport(err: &LlmError) -> bool {
    matches!(
        err.kind,
        LlmErrorKind::Connect
            | LlmErrorKind::Timeout
            | LlmErrorKind::IncompleteStream
            | LlmErrorKind::Loading
    )
}

fn python_block(response: &ChatResponse) -> Result<(), String> {
    match extract_python_block(&response.content) {
        Ok(code) if !code.trim().is_empty() => Ok(()),
        Ok(_) => Err(format!(
            "the python block is empty: {}",
            excerpt(&response.content)
        )),
        Err(err) => Err(format!("{err}: {}", shown(response))),
    }
}

fn answer_object(response: &ChatResponse) -> Result<(), String> {
    let value: Value = serde_json::from_str(response.content.trim()).map_err(|err| {
        format!(
            "the answer is not one JSON object ({err}): {}",
            shown(response)
        )
    })?;
    if value.get("answer").is_some_and(Value::is_i64) {
        Ok(())
    } else {
        Err(format!(
            "the answer has no integer `answer`: {}",
            shown(response)
        ))
    }
}

/// The answer as shown in a reason, saying when `max_tokens` cut it.
fn shown(response: &ChatResponse) -> String {
    let cut = if response.finish_reason == FinishReason::Length {
        " (cut by max_tokens)"
    } else {
        ""
    };
    format!("`{}`{cut}", excerpt(&response.content))
}

/// Keeps the last exchange's wall-clock figures.
#[derive(Default)]
struct Clock(Mutex<Option<(u64, Option<u64>)>>);

impl TranscriptSink for Clock {
    fn record(&self, exchange: &Exchange) {
        if let Ok(mut last) = self.0.lock() {
            *last = Some((exchange.elapsed_ms, exchange.first_token_ms));
        }
    }
}

/// One longer ask: prompt and answer tokens per second, from llama.cpp's `timings` when the
/// server sends them, else from the wall clock.
async fn measure_speed(
    client: &OpenAiClient,
) -> Result<(Option<f64>, Option<f64>, Option<SpeedSource>), LlmError> {
    // A new first line each time, so a server's prompt cache cannot skip the reading.
    let nonce = jiff::Timestamp::now().as_nanosecond();
    let request = ask(
        &format!(
            "Probe {nonce}. Read this code:\n\n{SPEED_PROMPT_CODE}\nNow count from 1 to 15, \
             separated by spaces, and nothing else."
        ),
        AnswerFormat::Text,
        SPEED_MAX_TOKENS,
    );
    let clock = Arc::new(Clock::default());
    let timed = client.with_transcript_sink(clock.clone());
    let response = match timed.chat_in(&request, WireFormat::Text).await {
        Ok(response) => response,
        Err(err) if is_transport(&err) => return Err(err),
        Err(err) => {
            tracing::warn!(error = %err, "the probe's speed ask failed; no speed figures");
            return Ok((None, None, None));
        }
    };
    let (elapsed_ms, first_token_ms) = clock
        .0
        .lock()
        .ok()
        .and_then(|last| *last)
        .unwrap_or((0, None));
    Ok(speeds(
        &response,
        &request.prompt_text(),
        elapsed_ms,
        first_token_ms,
    ))
}

/// Tokens per second for the prompt and the answer, and where they come from.
fn speeds(
    response: &ChatResponse,
    prompt_text: &str,
    elapsed_ms: u64,
    first_token_ms: Option<u64>,
) -> (Option<f64>, Option<f64>, Option<SpeedSource>) {
    let prompt_tokens = response
        .usage
        .map_or_else(|| estimate_tokens(prompt_text), |u| u.prompt_tokens);
    let answer_tokens = response.usage.map_or_else(
        || estimate_tokens(&response.content),
        |u| u.completion_tokens,
    );
    let per_second = |tokens: u32, ms: f64| {
        (tokens > 0 && ms > 0.0).then(|| round1(f64::from(tokens) * 1000.0 / ms))
    };
    if let Some(t) = response.timings.filter(|t| t.predicted_ms > 0.0) {
        let prompt = per_second(t.prompt_n.unwrap_or(prompt_tokens), t.prompt_ms);
        let answer = if t.predicted_per_second > 0.0 {
            Some(round1(t.predicted_per_second))
        } else {
            per_second(answer_tokens, t.predicted_ms)
        };
        return (prompt, answer, Some(SpeedSource::Timings));
    }
    let elapsed = elapsed_ms as f64;
    match first_token_ms.map(|ms| ms as f64) {
        Some(first) if first > 0.0 && elapsed > first => (
            per_second(prompt_tokens, first),
            per_second(answer_tokens, elapsed - first),
            Some(SpeedSource::WallClock),
        ),
        // Not streamed: the whole call's time, a lower bound for the answer's speed.
        _ => (
            None,
            per_second(answer_tokens, elapsed),
            Some(SpeedSource::WallClock),
        ),
    }
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use noctune_core::Usage;
    use noctune_core::llm::Timings;
    use pretty_assertions::assert_eq;

    #[test]
    fn the_fingerprint_follows_build_model_and_context_but_not_request_time() {
        let props = json!({
            "build_info": "b5000-abc",
            "model_path": "/models/qwen.gguf",
            "default_generation_settings": {"n_ctx": 4096},
        });
        let models = json!({"data": [{"id": "qwen.gguf", "created": 1, "meta": {"n_params": 5}}]});
        let a = facts(None, &props, &models);
        assert_eq!(a.model, "qwen.gguf");
        assert_eq!(a.context_tokens, Some(4096));
        let later = json!({"data": [{"id": "qwen.gguf", "created": 2, "meta": {"n_params": 5}}]});
        assert_eq!(facts(None, &props, &later), a);
        let mut rebuilt = props.clone();
        rebuilt["build_info"] = json!("b5001-def");
        assert_ne!(facts(None, &rebuilt, &models).fingerprint, a.fingerprint);
        let mut bigger = props.clone();
        bigger["default_generation_settings"]["n_ctx"] = json!(8192);
        assert_ne!(facts(None, &bigger, &models).fingerprint, a.fingerprint);
        assert_eq!(facts(Some("mine"), &props, &models).model, "mine");
        assert_eq!(
            facts(None, &Value::Null, &Value::Null).model,
            "unknown-model"
        );
    }

    #[test]
    fn speeds_prefer_timings_then_the_wall_clock() {
        let mut response = ChatResponse::text("1 2 3");
        response.usage = Some(Usage {
            prompt_tokens: 300,
            completion_tokens: 40,
        });
        assert_eq!(
            speeds(&response, "", 3000, Some(1000)),
            (Some(300.0), Some(20.0), Some(SpeedSource::WallClock))
        );
        assert_eq!(
            speeds(&response, "", 2000, None),
            (None, Some(20.0), Some(SpeedSource::WallClock))
        );
        response.timings = Some(Timings {
            prompt_n: Some(250),
            prompt_ms: 500.0,
            predicted_ms: 1000.0,
            predicted_per_second: 39.96,
        });
        assert_eq!(
            speeds(&response, "", 9999, Some(1)),
            (Some(500.0), Some(40.0), Some(SpeedSource::Timings))
        );
    }

    #[test]
    fn answers_are_checked_for_shape() {
        assert_eq!(
            answer_object(&ChatResponse::text("{\"answer\": 5}")),
            Ok(())
        );
        assert!(answer_object(&ChatResponse::text("{\"answer\": \"five\"}")).is_err());
        assert!(answer_object(&ChatResponse::text("The answer is 5")).is_err());
        assert_eq!(
            python_block(&ChatResponse::text("```python\nx = 1\n```")),
            Ok(())
        );
        let mut cut = ChatResponse::text("Sure! Here");
        cut.finish_reason = FinishReason::Length;
        let why = python_block(&cut).unwrap_err();
        assert!(why.contains("cut by max_tokens"), "{why}");
    }
}
