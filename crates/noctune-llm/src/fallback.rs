//! Which answer format an endpoint accepts, learned from its refusals and remembered.

use std::sync::Mutex;

use noctune_core::AnswerFormat;
use noctune_core::llm::{Calibration, ProbeFormat};
use serde::{Deserialize, Serialize};

/// How an [`AnswerFormat`] is put on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireFormat {
    /// Nothing constrains the answer; it is parsed leniently.
    Text,
    /// `response_format: {type: "json_schema", json_schema: {name, schema}}`.
    JsonSchema,
    /// `response_format: {type: "json_object"}`, the schema described in the prompt.
    JsonObject,
    /// llama.cpp's `grammar` field (GBNF).
    Grammar,
}

impl From<ProbeFormat> for WireFormat {
    fn from(format: ProbeFormat) -> Self {
        match format {
            ProbeFormat::Grammar => WireFormat::Grammar,
            ProbeFormat::JsonSchema => WireFormat::JsonSchema,
            ProbeFormat::JsonObject => WireFormat::JsonObject,
            ProbeFormat::Fenced => WireFormat::Text,
        }
    }
}

/// The formats tried for each kind of answer, best first.
const JSON_CHAIN: [WireFormat; 3] = [
    WireFormat::JsonSchema,
    WireFormat::JsonObject,
    WireFormat::Text,
];
const GRAMMAR_CHAIN: [WireFormat; 2] = [WireFormat::Grammar, WireFormat::Text];

/// Per-endpoint memory of the best format the server accepted, for JSON and grammar answers.
#[derive(Debug)]
pub(crate) struct Fallbacks {
    json: Mutex<WireFormat>,
    grammar: Mutex<WireFormat>,
}

impl Default for Fallbacks {
    fn default() -> Self {
        Self {
            json: Mutex::new(WireFormat::JsonSchema),
            grammar: Mutex::new(WireFormat::Grammar),
        }
    }
}

impl Fallbacks {
    /// Memory that starts where the calibration probe found the first working format (JSON
    /// answers: `json_schema`, `json_object`, else text; code answers: `grammar`, else text).
    pub(crate) fn calibrated(calibration: &Calibration) -> Self {
        Self {
            json: Mutex::new(WireFormat::from(calibration.json_format())),
            grammar: Mutex::new(WireFormat::from(calibration.code_format())),
        }
    }

    /// The formats to try for `answer`, starting at the one remembered.
    pub(crate) fn chain(&self, answer: &AnswerFormat) -> Vec<WireFormat> {
        let (chain, current): (&[WireFormat], WireFormat) = match answer {
            AnswerFormat::Text => return vec![WireFormat::Text],
            AnswerFormat::JsonSchema { .. } => (&JSON_CHAIN, lock(&self.json)),
            AnswerFormat::Grammar { .. } => (&GRAMMAR_CHAIN, lock(&self.grammar)),
        };
        let start = chain.iter().position(|f| *f == current).unwrap_or(0);
        chain[start..].to_vec()
    }

    /// Remembers that `format` worked for `answer`.
    pub(crate) fn remember(&self, answer: &AnswerFormat, format: WireFormat) {
        let slot = match answer {
            AnswerFormat::Text => return,
            AnswerFormat::JsonSchema { .. } => &self.json,
            AnswerFormat::Grammar { .. } => &self.grammar,
        };
        match slot.lock() {
            Ok(mut guard) => *guard = format,
            Err(poisoned) => *poisoned.into_inner() = format,
        }
    }

    /// The remembered formats: (JSON answers, grammar answers).
    pub(crate) fn current(&self) -> (WireFormat, WireFormat) {
        (lock(&self.json), lock(&self.grammar))
    }
}

fn lock(slot: &Mutex<WireFormat>) -> WireFormat {
    match slot.lock() {
        Ok(guard) => *guard,
        Err(poisoned) => *poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_starts_at_the_remembered_format() {
        let fallbacks = Fallbacks::default();
        let json = AnswerFormat::JsonSchema {
            name: "x".into(),
            schema: serde_json::json!({}),
        };
        let grammar = AnswerFormat::Grammar {
            gbnf: "root ::= \"a\"".into(),
        };
        assert_eq!(fallbacks.chain(&json), JSON_CHAIN.to_vec());
        assert_eq!(fallbacks.chain(&grammar), GRAMMAR_CHAIN.to_vec());
        assert_eq!(fallbacks.chain(&AnswerFormat::Text), vec![WireFormat::Text]);
        fallbacks.remember(&json, WireFormat::JsonObject);
        fallbacks.remember(&grammar, WireFormat::Text);
        assert_eq!(
            fallbacks.chain(&json),
            vec![WireFormat::JsonObject, WireFormat::Text]
        );
        assert_eq!(fallbacks.chain(&grammar), vec![WireFormat::Text]);
        assert_eq!(
            fallbacks.current(),
            (WireFormat::JsonObject, WireFormat::Text)
        );
    }
}
