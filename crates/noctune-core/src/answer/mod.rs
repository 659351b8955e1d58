//! Turning a model's text into what was asked for, leniently.
//!
//! Small models wrap JSON in prose and code fences, leave trailing commas, quote keys with `'`
//! and get cut off by `max_tokens`. Servers that enforce a JSON Schema or a grammar avoid most of
//! that, but not every server does, so every answer goes through these functions:
//!
//! - [`extract_json`]: one JSON value out of a free-text answer;
//! - [`extract_python_block`]: exactly one fenced python block out of a code answer.
//!
//! They are pure (no I/O) so that the pipeline, the client and tests share them.

mod code;
mod json;

pub use code::extract_python_block;
pub use json::extract_json;

/// Why an answer could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The answer holds nothing that looks like JSON.
    #[error("no JSON object or array in the answer")]
    NoJson,
    /// Something JSON-like was found but could not be repaired into valid JSON.
    #[error("the answer's JSON is not valid even after repair: {message}")]
    InvalidJson {
        /// The parser's complaint about the best candidate.
        message: String,
    },
    /// The answer has no fenced code block.
    #[error("no fenced python code block in the answer")]
    NoCodeBlock,
    /// The answer has more than one python block, so which one is meant is unclear.
    #[error("expected exactly one fenced python block, found {count}")]
    SeveralCodeBlocks {
        /// How many blocks were found.
        count: usize,
    },
    /// The code block was opened but never closed: the answer was cut off.
    #[error("the fenced python block is not closed (the answer was cut off)")]
    UnclosedCodeBlock,
}
