//! What the calibration probe learned about one model on one server: which answer formats
//! work, how fast it reads and writes, and its context size. Plain data, kept as JSON under
//! `.noctune_cache/models/` ([`crate::store::ModelCache`]) and with each run that used it.

use serde::{Deserialize, Serialize};

/// A way of asking for a constrained answer, as the probe tries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeFormat {
    /// A GBNF `grammar` that forces a fenced python block (code answers).
    Grammar,
    /// `response_format: json_schema` (structured answers).
    JsonSchema,
    /// `response_format: json_object`, the schema described in the prompt.
    JsonObject,
    /// No constraint: a fenced python block asked for in words, parsed leniently.
    Fenced,
}

impl ProbeFormat {
    /// Every format, in the order the probe tries them.
    pub const ALL: [ProbeFormat; 4] = [
        ProbeFormat::Grammar,
        ProbeFormat::JsonSchema,
        ProbeFormat::JsonObject,
        ProbeFormat::Fenced,
    ];

    /// The name used in files and output (`json_schema`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeFormat::Grammar => "grammar",
            ProbeFormat::JsonSchema => "json_schema",
            ProbeFormat::JsonObject => "json_object",
            ProbeFormat::Fenced => "fenced",
        }
    }
}

impl std::fmt::Display for ProbeFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether one format worked, and why not when it did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatCheck {
    /// The format tried.
    pub format: ProbeFormat,
    /// The server accepted it and the answer had the asked shape.
    pub works: bool,
    /// Why it failed (the server's refusal, or what was wrong with the answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where the speed figures come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeedSource {
    /// llama.cpp's `timings` in the answer.
    Timings,
    /// The wall clock around the request (time to first token for the prompt).
    WallClock,
}

/// The probe's record for one (base URL, model id, server fingerprint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The cache key (the file stem under `.noctune_cache/models/`).
    pub key: String,
    /// The base URL probed, without credentials.
    pub base_url: String,
    /// The model id: the configured `llm.model`, else the server's (`/v1/models`, `/props`).
    pub model: String,
    /// A digest of what the server says about itself (llama.cpp's `/props` build and model
    /// path, `/v1/models`); a different fingerprint means a new probe.
    pub fingerprint: String,
    /// When the probe ran (RFC 3339).
    pub probed_at: String,
    /// Each format tried, in [`ProbeFormat::ALL`] order.
    pub formats: Vec<FormatCheck>,
    /// Prompt (prefill) tokens per second, when measured.
    pub prompt_tokens_per_second: Option<f64>,
    /// Answer tokens per second, when measured.
    pub answer_tokens_per_second: Option<f64>,
    /// Where the speeds come from.
    pub speed_source: Option<SpeedSource>,
    /// The context size the server reports (`/props` `n_ctx`), when it does.
    pub context_tokens: Option<u32>,
    /// Seconds the probe took.
    pub probe_seconds: f64,
}

impl Calibration {
    /// Whether `format` worked.
    pub fn works(&self, format: ProbeFormat) -> bool {
        self.formats.iter().any(|c| c.format == format && c.works)
    }

    /// The first working format for structured (JSON) answers: `json_schema`, `json_object`,
    /// else `fenced` (plain text parsed leniently, the last resort).
    pub fn json_format(&self) -> ProbeFormat {
        [ProbeFormat::JsonSchema, ProbeFormat::JsonObject]
            .into_iter()
            .find(|f| self.works(*f))
            .unwrap_or(ProbeFormat::Fenced)
    }

    /// The format for code answers: `grammar` when it works, else `fenced`.
    pub fn code_format(&self) -> ProbeFormat {
        if self.works(ProbeFormat::Grammar) {
            ProbeFormat::Grammar
        } else {
            ProbeFormat::Fenced
        }
    }

    /// Estimated seconds for a call that reads `prompt` tokens and writes `answer` tokens, when
    /// both speeds were measured.
    pub fn seconds_for(&self, prompt: u64, answer: u64) -> Option<f64> {
        let read = self.prompt_tokens_per_second.filter(|s| *s > 0.0)?;
        let write = self.answer_tokens_per_second.filter(|s| *s > 0.0)?;
        Some(prompt as f64 / read + answer as f64 / write)
    }

    /// One line for people: `formats grammar ok, json_schema ok, json_object ok, fenced no;
    /// 412.3 tok/s prompt, 35.1 tok/s answer (timings); context 4096`.
    pub fn summary(&self) -> String {
        let formats: Vec<String> = self
            .formats
            .iter()
            .map(|c| format!("{} {}", c.format, if c.works { "ok" } else { "no" }))
            .collect();
        let speed = |s: Option<f64>| s.map_or_else(|| "?".to_owned(), |s| format!("{s:.1}"));
        let source = match self.speed_source {
            Some(SpeedSource::Timings) => " (timings)",
            Some(SpeedSource::WallClock) => " (wall clock)",
            None => "",
        };
        let context = self
            .context_tokens
            .map_or_else(|| "not reported".to_owned(), |n| n.to_string());
        format!(
            "formats {}; {} tok/s prompt, {} tok/s answer{source}; context {context}",
            formats.join(", "),
            speed(self.prompt_tokens_per_second),
            speed(self.answer_tokens_per_second),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn calibration(working: &[ProbeFormat]) -> Calibration {
        Calibration {
            key: "k".into(),
            base_url: "http://x/v1".into(),
            model: "m".into(),
            fingerprint: "f".into(),
            probed_at: "2026-01-01T00:00:00Z".into(),
            formats: ProbeFormat::ALL
                .iter()
                .map(|f| FormatCheck {
                    format: *f,
                    works: working.contains(f),
                    reason: None,
                })
                .collect(),
            prompt_tokens_per_second: Some(400.0),
            answer_tokens_per_second: Some(40.0),
            speed_source: Some(SpeedSource::Timings),
            context_tokens: Some(4096),
            probe_seconds: 1.0,
        }
    }

    #[test]
    fn the_first_working_format_is_chosen() {
        let all = calibration(&ProbeFormat::ALL);
        assert_eq!(
            (all.json_format(), all.code_format()),
            (ProbeFormat::JsonSchema, ProbeFormat::Grammar)
        );
        let no_grammar = calibration(&[ProbeFormat::JsonObject, ProbeFormat::Fenced]);
        assert_eq!(
            (no_grammar.json_format(), no_grammar.code_format()),
            (ProbeFormat::JsonObject, ProbeFormat::Fenced)
        );
        let nothing = calibration(&[]);
        assert_eq!(nothing.json_format(), ProbeFormat::Fenced);
    }

    #[test]
    fn summary_and_estimate() {
        let c = calibration(&[ProbeFormat::Grammar, ProbeFormat::JsonSchema]);
        assert_eq!(
            c.summary(),
            "formats grammar ok, json_schema ok, json_object no, fenced no; 400.0 tok/s prompt, \
             40.0 tok/s answer (timings); context 4096"
        );
        assert_eq!(c.seconds_for(800, 80), Some(4.0));
        let unmeasured = Calibration {
            answer_tokens_per_second: None,
            ..c
        };
        assert_eq!(unmeasured.seconds_for(800, 80), None);
    }
}
